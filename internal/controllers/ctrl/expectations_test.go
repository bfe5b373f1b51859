package ctrl

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// fakeNow returns an Expectations whose clock is *now.
func fakeNow(now *time.Time) *Expectations {
	e := NewExpectations()
	e.now = func() time.Time { return *now }
	return e
}

func TestExpectationsUnknownKeySatisfied(t *testing.T) {
	e := NewExpectations()
	if !e.Satisfied("ns/none") {
		t.Fatal("a key with no expectations should be satisfied")
	}
}

func TestExpectationsCreations(t *testing.T) {
	now := time.Unix(1000, 0)
	e := fakeNow(&now)
	e.ExpectCreations("ns/rs", 2)
	if e.Satisfied("ns/rs") {
		t.Fatal("satisfied with 2 creations outstanding")
	}
	if !e.Satisfied("ns/other") {
		t.Fatal("another key should not be affected")
	}
	e.CreationObserved("ns/rs")
	if e.Satisfied("ns/rs") {
		t.Fatal("satisfied with 1 creation outstanding")
	}
	e.CreationObserved("ns/rs")
	if !e.Satisfied("ns/rs") {
		t.Fatal("not satisfied after both creations were observed")
	}
	// Surplus observations must not bank credit for later expectations.
	e.CreationObserved("ns/rs")
	e.CreationObserved("ns/rs")
	e.ExpectCreations("ns/rs", 1)
	if e.Satisfied("ns/rs") {
		t.Fatal("surplus observations satisfied a later expectation")
	}
	// Observing a key never expected is harmless.
	e.CreationObserved("ns/never")
	if !e.Satisfied("ns/never") {
		t.Fatal("observing an unexpected key made it unsatisfied")
	}
}

func TestExpectationsDeletions(t *testing.T) {
	now := time.Unix(1000, 0)
	e := fakeNow(&now)
	e.ExpectDeletions("ns/rs", types.UID("u1"), types.UID("u2"))
	if e.Satisfied("ns/rs") {
		t.Fatal("satisfied with 2 deletions outstanding")
	}
	// The same deletion seen twice (deletionTimestamp set, then the
	// object gone) counts once.
	e.DeletionObserved("ns/rs", "u1")
	e.DeletionObserved("ns/rs", "u1")
	if e.Satisfied("ns/rs") {
		t.Fatal("a duplicate deletion of u1 was counted as the deletion of u2")
	}
	e.DeletionObserved("ns/rs", "stranger")
	if e.Satisfied("ns/rs") {
		t.Fatal("the deletion of an unexpected uid satisfied the expectation")
	}
	e.DeletionObserved("ns/rs", "u2")
	if !e.Satisfied("ns/rs") {
		t.Fatal("not satisfied after both deletions were observed")
	}
}

func TestExpectationsCreationsAndDeletionsTogether(t *testing.T) {
	now := time.Unix(1000, 0)
	e := fakeNow(&now)
	e.ExpectCreations("k", 1)
	e.ExpectDeletions("k", "u1")
	e.CreationObserved("k")
	if e.Satisfied("k") {
		t.Fatal("satisfied with a deletion outstanding")
	}
	e.DeletionObserved("k", "u1")
	if !e.Satisfied("k") {
		t.Fatal("not satisfied after everything was observed")
	}
}

func TestExpectationsTTL(t *testing.T) {
	now := time.Unix(1000, 0)
	e := fakeNow(&now)
	e.ExpectCreations("k", 1)
	now = now.Add(expectationsTTL)
	if e.Satisfied("k") {
		t.Fatal("satisfied exactly at the TTL; want only after it")
	}
	now = now.Add(time.Second)
	if !e.Satisfied("k") {
		t.Fatal("an expectation older than the TTL should stop holding the controller back")
	}
	// New expectations restart the clock.
	e.ExpectDeletions("k", "u1")
	if e.Satisfied("k") {
		t.Fatal("fresh expectations were treated as expired")
	}
	now = now.Add(expectationsTTL + time.Second)
	if !e.Satisfied("k") {
		t.Fatal("not satisfied after the TTL passed again")
	}
}

func TestExpectationsForget(t *testing.T) {
	now := time.Unix(1000, 0)
	e := fakeNow(&now)
	e.ExpectCreations("a", 3)
	e.ExpectDeletions("a", "u1")
	e.ExpectCreations("b", 1)
	e.Forget("a")
	if !e.Satisfied("a") {
		t.Fatal("not satisfied after Forget")
	}
	if e.Satisfied("b") {
		t.Fatal("Forget of a dropped b's expectations")
	}
	// Late observations for a forgotten key are harmless and do not
	// carry over to new expectations.
	e.CreationObserved("a")
	e.DeletionObserved("a", "u1")
	e.ExpectCreations("a", 1)
	if e.Satisfied("a") {
		t.Fatal("old state survived Forget")
	}
	// Forgetting an unknown key is a no-op.
	e.Forget("nobody")
}

package ctrl

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// expectationsTTL is how long an unmet expectation holds a controller
// back; after it, the controller trusts its cache again (a watch event
// may have been lost).
const expectationsTTL = 5 * time.Minute

// Expectations remember the creations and deletions a controller has asked
// for and not yet seen in its informer, so it does not act twice on a
// cache that lags its own writes (for example create more pods while the
// ones it just created are not in the cache yet).
type Expectations struct {
	mu sync.Mutex
	m  map[string]*expectation
	// now is the clock; tests replace it.
	now func() time.Time
}

type expectation struct {
	adds    int
	deletes map[types.UID]bool
	at      time.Time
}

// NewExpectations makes an empty set.
func NewExpectations() *Expectations {
	return &Expectations{m: map[string]*expectation{}, now: time.Now}
}

func (e *Expectations) get(key string) *expectation {
	x := e.m[key]
	if x == nil {
		x = &expectation{deletes: map[types.UID]bool{}}
		e.m[key] = x
	}
	x.at = e.now()
	return x
}

// ExpectCreations records that key's controller is about to create n
// objects.
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.get(key).adds += n
}

// CreationObserved records that one creation was seen (or failed, so it
// will never be seen).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil && x.adds > 0 {
		x.adds--
	}
}

// ExpectDeletions records that key's controller is about to delete the
// objects with these UIDs.
func (e *Expectations) ExpectDeletions(key string, uids ...types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	for _, u := range uids {
		x.deletes[u] = true
	}
}

// DeletionObserved records that the object with uid is going (it got a
// deletionTimestamp or vanished, or its deletion failed). Seeing the same
// deletion twice counts once.
func (e *Expectations) DeletionObserved(key string, uid types.UID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.deletes, uid)
	}
}

// Satisfied reports whether key's controller has seen everything it asked
// for, or waited long enough to stop waiting.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	if x == nil {
		return true
	}
	if x.adds <= 0 && len(x.deletes) == 0 {
		return true
	}
	return e.now().Sub(x.at) > expectationsTTL
}

// Forget drops key's expectations, e.g. when its owner is deleted, or
// before setting new ones after a sync found the old ones satisfied.
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

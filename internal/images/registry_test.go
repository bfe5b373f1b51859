package images

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func pull(t *testing.T, r *Registry, ref string, opts ...remote.Option) (v1.Image, error) {
	t.Helper()
	local, err := r.Ref(ref)
	if err != nil {
		t.Fatal(err)
	}
	n, err := name.ParseReference(local, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return remote.Image(n, opts...)
}

func sameDigest(t *testing.T, a, b v1.Image) {
	t.Helper()
	da, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	db, err := b.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if da != db {
		t.Errorf("pulled digest %s, pushed %s", da, db)
	}
}

func TestServePull(t *testing.T) {
	pause, err := Pause()
	if err != nil {
		t.Fatal(err)
	}
	web, err := TestWeb(must(PauseBinary("amd64")))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Serve(context.Background(), "127.0.0.1:0", map[string]v1.Image{
		PauseRef:        pause,
		"other/web:dev": web,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	got, err := pull(t, r, PauseRef)
	if err != nil {
		t.Fatalf("pull %s: %v", PauseRef, err)
	}
	sameDigest(t, got, pause)
	// The layer really comes over the wire: its contents match.
	if f := filesOf(t, got)["pause"]; len(f.data) == 0 {
		t.Error("pulled pause image has no /pause")
	}
	got, err = pull(t, r, "other/web:dev")
	if err != nil {
		t.Fatalf("pull other/web:dev: %v", err)
	}
	sameDigest(t, got, web)
	if _, err := pull(t, r, "pause:9.9"); err == nil {
		t.Error("pulling an unknown tag succeeded")
	}

	// Push adds images to a running registry.
	if err := r.Push(context.Background(), TestWebRef, web); err != nil {
		t.Fatal(err)
	}
	if _, err := pull(t, r, TestWebRef); err != nil {
		t.Errorf("pull after Push: %v", err)
	}

	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Get("http://" + r.Addr() + "/v2/"); err == nil {
		t.Error("registry still answers after Close")
	}
}

func TestServeBasicAuth(t *testing.T) {
	pause, err := Pause()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Serve(context.Background(), "127.0.0.1:0", map[string]v1.Image{PauseRef: pause},
		WithBasicAuth("puller", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	resp, err := http.Get("http://" + r.Addr() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("GET /v2/ without credentials: %d, challenge %q; want 401 with a challenge",
			resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	for _, c := range []struct {
		name string
		auth authn.Authenticator
	}{{"anonymous", authn.Anonymous}, {"wrong password", &authn.Basic{Username: "puller", Password: "nope"}}} {
		_, err := pull(t, r, PauseRef, remote.WithAuth(c.auth))
		var terr *transport.Error
		if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s pull: %v, want a 401", c.name, err)
		}
	}
	got, err := pull(t, r, PauseRef, remote.WithAuth(&authn.Basic{Username: "puller", Password: "s3cret"}))
	if err != nil {
		t.Fatalf("pull with credentials: %v", err)
	}
	sameDigest(t, got, pause)
}

func TestServeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Serve(ctx, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if resp, err := http.Get("http://" + r.Addr() + "/v2/"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + r.Addr() + "/v2/")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("registry still serving after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := Serve(context.Background(), r.Addr()+"x", nil); err == nil {
		t.Error("Serve on a bad address gave no error")
	}
}

func TestRegistryRef(t *testing.T) {
	r := &Registry{addr: "127.0.0.1:5000"}
	for in, want := range map[string]string{
		PauseRef:                        "127.0.0.1:5000/pause:3.10",
		"pause:3.10":                    "127.0.0.1:5000/pause:3.10",
		"busybox":                       "127.0.0.1:5000/busybox:latest",
		"library/x:1":                   "127.0.0.1:5000/library/x:1",
		"localhost/a/b:2":               "127.0.0.1:5000/a/b:2",
		"other.example:443/team/app:v3": "127.0.0.1:5000/team/app:v3",
		"app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": "127.0.0.1:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	} {
		got, err := r.Ref(in)
		if err != nil || got != want {
			t.Errorf("Ref(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := r.Ref("UPPER/case:1"); err == nil {
		t.Error("Ref of an invalid reference gave no error")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

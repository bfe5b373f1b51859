package server

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"skiff.dev/internal/agent/server/servertest"
)

func TestPortForward(t *testing.T) {
	a := startAgent(t, nil)
	cfg := &rest.Config{Host: a.url.String()}
	port := servertest.UpperServer(t)
	for _, d := range servertest.Dialers(t, cfg, a.at("/portForward/default/web", nil)) {
		t.Run(d.Name, func(t *testing.T) {
			local := servertest.Forward(t, d, port)
			// Two connections in turn, each its own pair of streams.
			for _, word := range []string{"ping", "pong"} {
				servertest.ExpectUpper(t, local, word)
			}
		})
	}
}

func TestPortForwardToAMissingPod(t *testing.T) {
	a := startAgent(t, nil)
	cfg := &rest.Config{Host: a.url.String()}
	for _, d := range servertest.Dialers(t, cfg, a.at("/portForward/default/nope", nil)) {
		t.Run(d.Name, func(t *testing.T) {
			_, _, err := d.Dial("portforward.k8s.io")
			if err == nil || !strings.Contains(err.Error(), `pods "nope" not found`) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

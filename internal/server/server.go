// Package server assembles a skiff control plane: the cluster store
// (embedded etcd or external endpoints), the certificates, and the API
// server. It is a thin wiring of components that each own their state.
package server

import (
	"context"
	"errors"
	"io"
)

// Options configure a control plane.
type Options struct {
	// DataDir holds etcd's data, the certificates and admin.kubeconfig.
	DataDir string
	// APIPort is the HTTPS port of the API server; 0 picks a free one.
	APIPort int
	// BindAddress is the address the API server listens on; empty means all.
	BindAddress string
	// EtcdServers, when set, are the client URLs of an external etcd used
	// instead of the embedded one.
	EtcdServers []string
	// Log receives the server's log lines; nil discards them.
	Log io.Writer
}

// Server is a running control plane.
type Server struct {
	url        string
	kubeconfig string
	done       chan struct{}
	err        error
}

// Start starts a control plane and returns once the API answers.
// Cancelling ctx stops it; Wait reports how it ended.
func Start(ctx context.Context, o Options) (*Server, error) {
	return nil, errors.New("server: not implemented yet")
}

// URL is the API server's base URL, e.g. https://127.0.0.1:6443.
func (s *Server) URL() string { return s.url }

// Kubeconfig is the path of the admin kubeconfig.
func (s *Server) Kubeconfig() string { return s.kubeconfig }

// Wait blocks until the server has stopped and returns why.
func (s *Server) Wait() error { <-s.done; return s.err }

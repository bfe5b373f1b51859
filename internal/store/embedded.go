package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// EmbeddedOptions configure an etcd server run inside the process.
type EmbeddedOptions struct {
	// Dir holds etcd's data (the member directory) and its chosen ports.
	Dir string
	// CAFile, CertFile and KeyFile secure the client port: clients must
	// present a certificate signed by the CA. Without them (tests only) the
	// client port speaks plain HTTP on loopback.
	CAFile, CertFile, KeyFile string
	// LogFile receives etcd's own log; empty discards it.
	LogFile string
}

// Embedded is a running embedded etcd.
type Embedded struct {
	etcd *embed.Etcd
	// ClientURL is where etcdctl and other clients reach it (loopback).
	ClientURL string
}

// ports are chosen on first start and kept, because etcd records its peer
// address in its membership data.
type ports struct {
	Client int `json:"client"`
	Peer   int `json:"peer"`
}

// StartEmbedded starts etcd under o.Dir and waits until it serves.
func StartEmbedded(ctx context.Context, o EmbeddedOptions) (*Embedded, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	portsFile := filepath.Join(o.Dir, "ports.json")
	for attempt := 1; ; attempt++ {
		p, fresh, err := loadPorts(portsFile)
		if err != nil {
			return nil, err
		}
		e, err := startEtcd(ctx, o, p)
		// Ports picked just now may have been taken by another process
		// between the pick and etcd's listen: pick again. Kept ports are
		// etcd's recorded peer address and must not change.
		if err != nil && fresh && attempt < 5 && errors.Is(err, syscall.EADDRINUSE) {
			_ = os.Remove(portsFile)
			continue
		}
		return e, err
	}
}

func startEtcd(ctx context.Context, o EmbeddedOptions, p ports) (*Embedded, error) {
	cfg := embed.NewConfig()
	cfg.Name = "skiff"
	cfg.Dir = filepath.Join(o.Dir, "data")
	client := url.URL{Scheme: "https", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Client))}
	peer := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Peer))}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	if o.CertFile != "" {
		cfg.ClientTLSInfo = transport.TLSInfo{
			CertFile:       o.CertFile,
			KeyFile:        o.KeyFile,
			TrustedCAFile:  o.CAFile,
			ClientCertAuth: true,
		}
	} else {
		client.Scheme = "http"
		cfg.ListenClientUrls = []url.URL{client}
		cfg.AdvertiseClientUrls = []url.URL{client}
	}
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "5m"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"/dev/null"}
	if o.LogFile != "" {
		cfg.LogOutputs = []string{o.LogFile}
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("store: start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("store: etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, errors.New("store: etcd did not become ready within 60s")
	}
	return &Embedded{etcd: e, ClientURL: client.String()}, nil
}

// Client returns an in-process client that talks to the server without
// going through the network.
func (e *Embedded) Client() *clientv3.Client { return v3client.New(e.etcd.Server) }

// Err reports a fatal error of the running server.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close stops etcd.
func (e *Embedded) Close() { e.etcd.Close() }

// loadPorts returns the kept ports, or picks and keeps new ones (fresh).
func loadPorts(path string) (p ports, fresh bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &p); err == nil && p.Client > 0 && p.Peer > 0 {
			return p, false, nil
		}
	}
	if p.Client, err = freePort(); err != nil {
		return p, true, err
	}
	if p.Peer, err = freePort(); err != nil {
		return p, true, err
	}
	b, _ := json.Marshal(p)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return p, true, fmt.Errorf("store: %w", err)
	}
	return p, true, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("store: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Dial connects to external etcd endpoints, with client-certificate TLS when
// the files are given.
func Dial(ctx context.Context, endpoints []string, caFile, certFile, keyFile string) (*clientv3.Client, error) {
	cfg := clientv3.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second, Context: ctx}
	if certFile != "" || caFile != "" {
		tlsInfo := transport.TLSInfo{CertFile: certFile, KeyFile: keyFile, TrustedCAFile: caFile}
		tc, err := tlsInfo.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		cfg.TLS = tc
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("store: dial etcd: %w", err)
	}
	return c, nil
}

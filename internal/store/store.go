package store

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Errors the store returns; callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("store: key not found")
	ErrExists    = errors.New("store: key exists")
	ErrConflict  = errors.New("store: revision conflict")
	ErrCompacted = errors.New("store: revision compacted")
)

// KV is one stored value and the revision it was last modified at.
type KV struct {
	Key   string
	Value []byte
	// Rev is the key's mod revision: the object's resourceVersion.
	Rev int64
}

// Store reads and writes keys in etcd.
type Store struct {
	client *clientv3.Client
}

// New returns a Store over an etcd client.
func New(client *clientv3.Client) *Store {
	return &Store{client: client}
}

// Client is the etcd client underneath, for watches and maintenance.
func (s *Store) Client() *clientv3.Client { return s.client }

// Get reads one key.
func (s *Store) Get(ctx context.Context, key string) (KV, error) {
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return KV{}, wrap(err)
	}
	if len(resp.Kvs) == 0 {
		return KV{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	kv := resp.Kvs[0]
	return KV{Key: string(kv.Key), Value: kv.Value, Rev: kv.ModRevision}, nil
}

// Page is one answer of List.
type Page struct {
	KVs []KV
	// Rev is the store revision the page was read at.
	Rev int64
	// More is true when keys beyond the page exist.
	More bool
	// Remaining counts the keys after this page, when More is set.
	Remaining int64
}

// List reads keys under prefix, in key order, starting at from (inclusive;
// "" means the start of the prefix), at most limit of them (0 = all), at
// revision rev (0 = now).
func (s *Store) List(ctx context.Context, prefix, from string, limit, rev int64) (Page, error) {
	if from == "" {
		from = prefix
	}
	opts := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix))}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	resp, err := s.client.Get(ctx, from, opts...)
	if err != nil {
		return Page{}, wrap(err)
	}
	p := Page{Rev: resp.Header.Revision, More: resp.More, KVs: make([]KV, 0, len(resp.Kvs))}
	for _, kv := range resp.Kvs {
		p.KVs = append(p.KVs, KV{Key: string(kv.Key), Value: kv.Value, Rev: kv.ModRevision})
	}
	if resp.More {
		p.Remaining = resp.Count - int64(len(resp.Kvs))
	}
	return p, nil
}

// Create writes key only if it does not exist, and returns the new revision.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, wrap(err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("%w: %s", ErrExists, key)
	}
	return resp.Header.Revision, nil
}

// Update replaces key only if its revision is still rev, and returns the
// new revision. It fails with ErrConflict when the key has changed since and
// with ErrNotFound when it is gone.
func (s *Store) Update(ctx context.Context, key string, value []byte, rev int64) (int64, error) {
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(value))).
		Else(clientv3.OpGet(key, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, wrap(err)
	}
	if !resp.Succeeded {
		return 0, missingOr(resp, key, ErrConflict)
	}
	return resp.Header.Revision, nil
}

// Delete removes key only if its revision is still rev, and returns the
// revision of the deletion.
func (s *Store) Delete(ctx context.Context, key string, rev int64) (int64, error) {
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpDelete(key)).
		Else(clientv3.OpGet(key, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, wrap(err)
	}
	if !resp.Succeeded {
		return 0, missingOr(resp, key, ErrConflict)
	}
	return resp.Header.Revision, nil
}

// Revision returns the store's current revision.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, "/registry/\x00revision", clientv3.WithCountOnly())
	if err != nil {
		return 0, wrap(err)
	}
	return resp.Header.Revision, nil
}

// Compact discards history before rev.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	_, err := s.client.Compact(ctx, rev, clientv3.WithCompactPhysical())
	return wrap(err)
}

func missingOr(resp *clientv3.TxnResponse, key string, err error) error {
	if len(resp.Responses) == 0 || len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("%w: %s", err, key)
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, rpctypes.ErrGRPCCompacted) {
		return fmt.Errorf("%w: %v", ErrCompacted, err)
	}
	return fmt.Errorf("store: %w", err)
}

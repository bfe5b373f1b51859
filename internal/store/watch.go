package store

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Change is one change to a key seen by Watch.
type Change struct {
	// KV is the value after the change; for a deletion it holds the last
	// value, with Rev set to the revision of the deletion.
	KV      KV
	Deleted bool
	// Prev is the value before the change, if there was one.
	Prev *KV
}

// Batch is what Watch delivers: the changes of one or more revisions, or a
// progress notice (no changes) saying the store has reached Rev, or the
// error that ended the watch.
type Batch struct {
	Changes []Change
	Rev     int64
	Err     error
}

// Watch follows the keys under prefix from revision from (inclusive). The
// channel closes after a Batch with Err, or when ctx ends. RequestProgress
// makes the store send a progress Batch.
func (s *Store) Watch(ctx context.Context, prefix string, from int64) <-chan Batch {
	out := make(chan Batch, 64)
	wch := s.client.Watch(clientv3.WithRequireLeader(ctx), prefix,
		clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	go func() {
		defer close(out)
		for resp := range wch {
			if err := resp.Err(); err != nil {
				if resp.CompactRevision != 0 {
					err = ErrCompacted
				}
				send(ctx, out, Batch{Err: wrap(err), Rev: resp.Header.Revision})
				return
			}
			b := Batch{Rev: resp.Header.Revision}
			for _, ev := range resp.Events {
				c := Change{KV: KV{Key: string(ev.Kv.Key), Value: ev.Kv.Value, Rev: ev.Kv.ModRevision}}
				if ev.PrevKv != nil {
					c.Prev = &KV{Key: string(ev.PrevKv.Key), Value: ev.PrevKv.Value, Rev: ev.PrevKv.ModRevision}
				}
				if ev.Type == clientv3.EventTypeDelete {
					c.Deleted = true
					if c.Prev != nil {
						c.KV.Value = c.Prev.Value
					}
				}
				b.Changes = append(b.Changes, c)
			}
			if !send(ctx, out, b) {
				return
			}
		}
		if ctx.Err() == nil {
			send(ctx, out, Batch{Err: wrap(context.Canceled)})
		}
	}()
	return out
}

// RequestProgress asks etcd to send a progress notice to this client's
// watches, so a watcher learns the current revision without new events.
func (s *Store) RequestProgress(ctx context.Context) error {
	return wrap(s.client.RequestProgress(clientv3.WithRequireLeader(ctx)))
}

func send(ctx context.Context, out chan<- Batch, b Batch) bool {
	select {
	case out <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

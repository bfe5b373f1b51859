// Package watchcache keeps, for one resource, an in-memory copy of every
// object and a window of recent changes, fed by a single etcd watch. The API
// server answers LIST and WATCH from it, so that many clients do not each
// hit etcd.
//
// A Cache starts by listing its prefix and then follows the prefix's
// changes. Watch serves a watcher from any revision still in the window
// (or from the current state, for resourceVersion 0); from an older revision
// it falls back to a direct etcd watch, which reports store.ErrCompacted when
// that revision is gone:
//
//	c := watchcache.New(st, "/registry/configmaps/", decode)
//	go c.Run(ctx)
//	objs, rev, _ := c.List(ctx, true, nil)
//	w, _ := c.Watch(ctx, rev, nil)
//	for { events, err := w.Next(ctx); ... }
package watchcache

// Package store is skiff's cluster store: a thin layer over etcd's v3 API
// that keeps upstream's key layout (/registry/<resource>/<namespace>/<name>)
// and its optimistic-concurrency rules.
//
// Every object is stored as JSON under its key. The object's resourceVersion
// is the key's etcd mod revision, so it is not stored in the value. Writes
// are compare-and-swap on that revision:
//
//	st, _ := store.New(client)
//	rev, err := st.Create(ctx, "/registry/configmaps/default/a", value)
//	rev, err = st.Update(ctx, "/registry/configmaps/default/a", newValue, rev)
//	// a second Update with the old rev now fails with ErrConflict
//
// StartEmbedded runs etcd inside the process, under a data directory, with
// its client port on loopback behind client-certificate authentication.
package store

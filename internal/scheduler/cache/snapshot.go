package cache

import (
	"slices"
	"strings"

	"skiff.dev/internal/scheduler/framework"
)

// Snapshot is a consistent view of the nodes for one scheduling cycle.
// Its NodeInfos are never changed, by the cache or by anyone else.
type Snapshot struct {
	nodes map[string]*framework.NodeInfo
	list  []*framework.NodeInfo
	index map[string]int // position in list
	cache *Cache
	epoch uint64
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	return &Snapshot{nodes: map[string]*framework.NodeInfo{}, index: map[string]int{}}
}

// NewSnapshotOf returns a snapshot of the given nodes, for tests and for
// running the framework outside a scheduler.
func NewSnapshotOf(nodes ...*framework.NodeInfo) *Snapshot {
	s := NewSnapshot()
	for _, n := range nodes {
		s.nodes[n.Name()] = n
	}
	s.rebuild()
	return s
}

// List returns the nodes in a stable order (by name). The slice is the
// snapshot's own; do not change it.
func (s *Snapshot) List() []*framework.NodeInfo { return s.list }

// Get returns a node's NodeInfo, or nil.
func (s *Snapshot) Get(name string) *framework.NodeInfo { return s.nodes[name] }

// NumNodes returns the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.list) }

func (s *Snapshot) rebuild() {
	s.list = s.list[:0]
	for _, n := range s.nodes {
		s.list = append(s.list, n)
	}
	slices.SortFunc(s.list, func(a, b *framework.NodeInfo) int { return strings.Compare(a.Name(), b.Name()) })
	clear(s.index)
	for i, n := range s.list {
		s.index[n.Name()] = i
	}
}

// UpdateSnapshot brings s up to date. It copies only the nodes changed
// since s was last updated from this cache, so calling it every cycle is
// cheap; a snapshot last updated elsewhere is rebuilt whole.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.cache != c || s.epoch != c.epoch {
		clear(s.nodes)
		for name, n := range c.nodes {
			if n.Node != nil {
				s.nodes[name] = n
			}
		}
		s.rebuild()
	} else {
		changedSet := false
		for name := range c.dirty {
			n := c.nodes[name]
			_, had := s.nodes[name]
			switch {
			case n == nil || n.Node == nil:
				if had {
					delete(s.nodes, name)
					changedSet = true
				}
			case had:
				s.nodes[name] = n
				s.list[s.index[name]] = n
			default:
				s.nodes[name] = n
				changedSet = true
			}
		}
		if changedSet {
			s.rebuild()
		}
	}
	clear(c.dirty)
	c.epoch++
	s.cache, s.epoch = c, c.epoch
}

// Package cache is the scheduler's view of the cluster: every node and the
// pods on it, including pods the scheduler has assumed onto a node while
// their binding is still under way, so that pods scheduled in quick
// succession see each other and do not overcommit a node.
//
// The informers feed it (AddNode, AddPod, …), the scheduling loop assumes
// and forgets pods, and each cycle takes a Snapshot to decide from:
//
//	c := cache.New()
//	c.AddNode(node)
//	snap := cache.NewSnapshot()
//	c.UpdateSnapshot(snap)         // cheap: copies only what changed
//	for _, n := range snap.List() { … }
//	c.AssumePod(podInfoOnNode)     // counted from now on
//	c.AddPod(boundPod)             // the informer confirms the binding
//
// NodeInfos are copied on write: the cache never changes one it has handed
// out, so a snapshot stays consistent without locks while the informers
// carry on.
package cache

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/internal/scheduler/framework"
)

// Cache holds nodes and the pods on them. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	nodes map[string]*framework.NodeInfo
	pods  map[types.UID]*podState
	// dirty holds the nodes changed since the last UpdateSnapshot.
	dirty map[string]struct{}
	// epoch numbers the snapshots; a snapshot of another epoch (or
	// another cache) is rebuilt whole.
	epoch uint64
}

type podState struct {
	info    *framework.PodInfo
	assumed bool
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{
		nodes: map[string]*framework.NodeInfo{},
		pods:  map[types.UID]*podState{},
		dirty: map[string]struct{}{},
	}
}

// change replaces the NodeInfo of name by a changed copy.
func (c *Cache) change(name string, f func(*framework.NodeInfo)) {
	var n *framework.NodeInfo
	if old := c.nodes[name]; old != nil {
		n = old.Clone()
	} else {
		n = framework.NewNodeInfo(nil)
	}
	f(n)
	if n.Node == nil && len(n.Pods) == 0 {
		delete(c.nodes, name)
	} else {
		c.nodes[name] = n
	}
	c.dirty[name] = struct{}{}
}

// AddNode adds a node or replaces its object.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.change(node.Name, func(n *framework.NodeInfo) { n.SetNode(node) })
}

// UpdateNode replaces a node's object.
func (c *Cache) UpdateNode(node *corev1.Node) { c.AddNode(node) }

// RemoveNode removes a node. Pods still recorded on it are kept until
// they are removed, but the node is no longer offered to pods.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.nodes[name]; ok {
		c.change(name, func(n *framework.NodeInfo) { n.SetNode(nil) })
	}
}

// AssumePod counts a pod on the node in its spec.nodeName before the
// binding is confirmed.
func (c *Cache) AssumePod(pi *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	uid := pi.Pod.UID
	if _, ok := c.pods[uid]; ok {
		return fmt.Errorf("cache: pod %s/%s is already in the cache", pi.Pod.Namespace, pi.Pod.Name)
	}
	c.addPod(pi, true)
	return nil
}

// ForgetPod drops an assumed pod whose binding failed.
func (c *Cache) ForgetPod(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[uid]; ok && ps.assumed {
		c.removePod(uid)
	}
}

// IsAssumed reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumed(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[uid]
	return ok && ps.assumed
}

// AddPod records a pod bound to a node, confirming it if it was assumed.
func (c *Cache) AddPod(pod *corev1.Pod) {
	c.UpdatePod(pod)
}

// UpdatePod records a bound pod's new state (requests can change in
// place, and the node may differ from the one assumed).
func (c *Cache) UpdatePod(pod *corev1.Pod) {
	c.mu.Lock()
	old, ok := c.pods[pod.UID]
	reuse := ok && old.assumed && confirms(old.info.Pod, pod)
	c.mu.Unlock()
	var pi *framework.PodInfo
	if reuse {
		cp := *old.info
		cp.Pod = pod
		pi = &cp
	} else {
		pi = framework.NewPodInfo(pod)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok = c.pods[pod.UID]
	if !ok || old.info.Pod.Spec.NodeName != pod.Spec.NodeName {
		if ok {
			c.removePod(pod.UID)
		}
		c.addPod(pi, false)
		return
	}
	c.pods[pod.UID] = &podState{info: pi}
	c.change(pod.Spec.NodeName, func(n *framework.NodeInfo) {
		n.RemovePod(pod.UID)
		n.AddPod(pi)
	})
}

// confirms reports whether pod is the bound state of the assumed pod with
// nothing else changed that the requests depend on: the binding leaves the
// spec's generation alone, and a pod not yet started has no container
// statuses to count.
func confirms(assumed, pod *corev1.Pod) bool {
	return assumed.UID == pod.UID && assumed.Generation == pod.Generation &&
		assumed.Spec.NodeName == pod.Spec.NodeName && len(pod.Status.ContainerStatuses) == 0 &&
		len(pod.Status.InitContainerStatuses) == 0
}

// RemovePod drops a pod that was deleted or finished, reporting whether
// the cache held it (bound or assumed).
func (c *Cache) RemovePod(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[uid]; !ok {
		return false
	}
	c.removePod(uid)
	return true
}

func (c *Cache) addPod(pi *framework.PodInfo, assumed bool) {
	c.pods[pi.Pod.UID] = &podState{info: pi, assumed: assumed}
	c.change(pi.Pod.Spec.NodeName, func(n *framework.NodeInfo) { n.AddPod(pi) })
}

func (c *Cache) removePod(uid types.UID) {
	ps := c.pods[uid]
	delete(c.pods, uid)
	c.change(ps.info.Pod.Spec.NodeName, func(n *framework.NodeInfo) { n.RemovePod(uid) })
}

// Counts returns the number of nodes and of pods (assumed ones included).
func (c *Cache) Counts() (nodes, pods int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.Node != nil {
			nodes++
		}
	}
	return nodes, len(c.pods)
}

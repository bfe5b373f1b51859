package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// assign gives a node without a pod CIDR the lowest free one.
//
// The CIDR is reserved first, then written with a patch. The node is read
// fresh from the API server just before, and the patch carries its uid
// and resourceVersion, so an existing podCIDR the cache has not shown yet
// is never overwritten (the server would refuse anyway): a node that has
// one meanwhile keeps it and the reservation is dropped. A patch that
// fails frees the CIDR again, except on a timeout, when the write may
// have happened; the node's next sync then reuses the same CIDR.
func (c *Controller) assign(ctx context.Context, node *corev1.Node) error {
	cidr, err := c.alloc.Next(node.Name)
	if errors.Is(err, ErrFull) {
		c.markWaiting(node)
		return nil
	}
	if err != nil {
		return err
	}
	live, err := c.client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		c.release(node.Name)
		return nil
	}
	if err != nil {
		c.release(node.Name)
		return fmt.Errorf("nodeipam: read node %s: %w", node.Name, err)
	}
	if hasPodCIDR(live) {
		c.occupy(live)
		return nil
	}
	patch, err := cidrPatch(live, cidr)
	if err != nil {
		c.release(node.Name)
		return err
	}
	_, err = c.client.CoreV1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	switch {
	case err == nil:
		c.log.Info("set node pod CIDR", "node", node.Name, "podCIDR", cidr)
		c.mu.Lock()
		delete(c.waiting, node.Name)
		c.mu.Unlock()
		return nil
	case apierrors.IsNotFound(err):
		c.release(node.Name)
		return nil
	case apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("nodeipam: set pod CIDR of node %s: %w", node.Name, err)
	case apierrors.IsConflict(err):
		// The node changed between the read and the patch: try again.
		c.release(node.Name)
		return fmt.Errorf("nodeipam: set pod CIDR of node %s: %w", node.Name, err)
	default:
		c.release(node.Name)
		c.recorder.Eventf(nodeRef(live), corev1.EventTypeWarning, ReasonCIDRAssignmentFailed,
			"Node %s status is now: %s", node.Name, ReasonCIDRAssignmentFailed)
		return fmt.Errorf("nodeipam: set pod CIDR of node %s: %w", node.Name, err)
	}
}

// markWaiting tells a node, once, that no CIDR is left; it is synced again
// when one is freed.
func (c *Controller) markWaiting(node *corev1.Node) {
	c.mu.Lock()
	first := !c.waiting[node.Name]
	c.waiting[node.Name] = true
	c.mu.Unlock()
	if first {
		c.log.Warn("no pod CIDR left for node", "node", node.Name, "clusterCIDR", c.alloc.Cluster())
		c.recorder.Eventf(nodeRef(node), corev1.EventTypeWarning, ReasonCIDRNotAvailable,
			"Node %s status is now: %s", node.Name, ReasonCIDRNotAvailable)
	}
}

// cidrPatch sets spec.podCIDR and spec.podCIDRs, on the condition that the
// node is still the object (uid) and version (resourceVersion) read.
func cidrPatch(node *corev1.Node, cidr netip.Prefix) ([]byte, error) {
	type meta struct {
		UID             types.UID `json:"uid"`
		ResourceVersion string    `json:"resourceVersion"`
	}
	type spec struct {
		PodCIDR  string   `json:"podCIDR"`
		PodCIDRs []string `json:"podCIDRs"`
	}
	b, err := json.Marshal(struct {
		Metadata meta `json:"metadata"`
		Spec     spec `json:"spec"`
	}{meta{node.UID, node.ResourceVersion}, spec{cidr.String(), []string{cidr.String()}}})
	if err != nil {
		return nil, fmt.Errorf("nodeipam: %w", err)
	}
	return b, nil
}

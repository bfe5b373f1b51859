package agent

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// nodeLeaseNamespace holds one Lease per node, the node's heartbeat.
const nodeLeaseNamespace = "kube-node-lease"

// leaseLoop renews the node's Lease every LeaseRenewInterval; after a
// failure it retries sooner, backing off from 200 ms to 7 s, as the
// kubelet's lease controller does.
func (a *Agent) leaseLoop(ctx context.Context) {
	var lease *coordinationv1.Lease
	retryDelay := 200 * time.Millisecond
	for {
		next, err := a.renewLease(ctx, lease)
		wait := a.o.LeaseRenewInterval
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Warn("agent: renewing the node lease", "err", err)
			wait, retryDelay = retryDelay, min(2*retryDelay, 7*time.Second)
		} else {
			retryDelay = 200 * time.Millisecond
		}
		lease = next
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// renewLease updates (or creates) the Lease with renewTime now. It returns
// the Lease as written, or nil when the next renewal must read it again.
func (a *Agent) renewLease(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	leases := a.client.CoordinationV1().Leases(nodeLeaseNamespace)
	if lease == nil {
		got, err := leases.Get(ctx, a.o.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			created, err := leases.Create(ctx, a.newLease(nil), metav1.CreateOptions{})
			if err != nil {
				return nil, fmt.Errorf("agent: create lease: %w", err)
			}
			return created, nil
		case err != nil:
			return nil, fmt.Errorf("agent: get lease: %w", err)
		}
		lease = got
	}
	updated, err := leases.Update(ctx, a.newLease(lease), metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("agent: update lease: %w", err)
	}
	return updated, nil
}

// newLease is base (or a new Lease) held by this node and renewed now.
func (a *Agent) newLease(base *coordinationv1.Lease) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: a.o.NodeName, Namespace: nodeLeaseNamespace}}
	if base != nil {
		l = base.DeepCopy()
	}
	l.Spec.HolderIdentity = ptr.To(a.o.NodeName)
	l.Spec.LeaseDurationSeconds = ptr.To(max(int32(a.o.LeaseDuration/time.Second), 1))
	l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(time.Now()))
	if uid := a.nodeUIDValue(); uid != "" && len(l.OwnerReferences) == 0 {
		l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: a.o.NodeName, UID: uid}}
	}
	return l
}

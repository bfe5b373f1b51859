package agent

import (
	"context"
	"fmt"
	goruntime "runtime"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"skiff.dev/internal/version"
)

// nodeState is the agent's copy of its Node, as last written.
type nodeState struct {
	mu         sync.Mutex
	node       *corev1.Node
	lastReport time.Time
	info       corev1.NodeSystemInfo
}

// nodeLabels are the well-known labels the kubelet puts on its Node.
func (a *Agent) nodeLabels() map[string]string {
	return map[string]string{
		corev1.LabelHostname:      a.o.NodeName,
		corev1.LabelOSStable:      goruntime.GOOS,
		corev1.LabelArchStable:    goruntime.GOARCH,
		"beta.kubernetes.io/os":   goruntime.GOOS,
		"beta.kubernetes.io/arch": goruntime.GOARCH,
	}
}

const annotationAttachDetach = "volumes.kubernetes.io/controller-managed-attach-detach"

// nodeInput gathers the node's current readings.
func (a *Agent) nodeInput(ctx context.Context) nodeStatusInput {
	in := nodeStatusInput{Capacity: a.capacity, Addresses: a.o.Addresses, Info: a.nodeInfo(),
		KubeletPort: a.o.KubeletPort, Now: time.Now()}
	if t := a.lastRelist.Load(); t != 0 {
		in.LastRelist = time.Unix(0, t)
	}
	if a.o.Capacity == nil {
		r := readHost(a.o.DataDir)
		in.Readings = &r
	}
	if _, err := a.rt.Version(ctx, "v1"); err != nil {
		in.RuntimeErr = err
	}
	return in
}

// nodeInfo is the Node's nodeInfo.
func (a *Agent) nodeInfo() corev1.NodeSystemInfo {
	a.node.mu.Lock()
	defer a.node.mu.Unlock()
	if a.node.info.OperatingSystem == "" {
		a.node.info = systemInfo()
	}
	info := a.node.info
	info.ContainerRuntimeVersion = a.runtimeName + "://" + a.runtimeVer
	info.KubeletVersion = version.Kubernetes
	return info
}

// register creates the Node, or takes over an existing one (adding the
// labels the agent owns), retrying until it succeeds or ctx ends.
func (a *Agent) register(ctx context.Context) error {
	delay := 100 * time.Millisecond
	for {
		err := a.tryRegister(ctx)
		if err == nil {
			return nil
		}
		a.log.Warn("agent: registering the node", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("agent: registering node %s: %w", a.o.NodeName, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 7*time.Second)
	}
}

func (a *Agent) tryRegister(ctx context.Context) error {
	nodes := a.client.CoreV1().Nodes()
	status, events := nodeStatus(nil, a.nodeInput(ctx))
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: a.o.NodeName, Labels: a.nodeLabels(),
			Annotations: map[string]string{annotationAttachDetach: "true"}},
		Status: status,
	}
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if err == nil {
		a.setNode(created)
		for _, e := range events {
			a.nodeEvent(e)
		}
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		existing, err := nodes.Get(ctx, a.o.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		changed := false
		for k, v := range a.nodeLabels() {
			if existing.Labels[k] != v {
				if existing.Labels == nil {
					existing.Labels = map[string]string{}
				}
				existing.Labels[k], changed = v, true
			}
		}
		if existing.Annotations[annotationAttachDetach] != "true" {
			if existing.Annotations == nil {
				existing.Annotations = map[string]string{}
			}
			existing.Annotations[annotationAttachDetach], changed = "true", true
		}
		if changed {
			if existing, err = nodes.Update(ctx, existing, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		a.setNode(existing)
		return nil
	})
	if err != nil {
		return err
	}
	return a.updateNodeStatus(ctx)
}

func (a *Agent) setNode(n *corev1.Node) {
	a.node.mu.Lock()
	a.node.node = n
	a.node.mu.Unlock()
	a.nodeUID.Store(n.UID)
}

// nodeUIDValue is the registered Node's UID.
func (a *Agent) nodeUIDValue() types.UID {
	uid, _ := a.nodeUID.Load().(types.UID)
	return uid
}

// nodeStatusLoop writes the node's status when it changed, and at least
// every NodeStatusReportFrequency.
func (a *Agent) nodeStatusLoop(ctx context.Context) {
	t := time.NewTicker(a.o.NodeStatusUpdateFrequency)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.updateNodeStatus(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("agent: updating node status", "err", err)
			}
		}
	}
}

// updateNodeStatus computes the status and writes it if it changed or is
// due, retrying on conflicts with a fresh Node.
func (a *Agent) updateNodeStatus(ctx context.Context) error {
	in := a.nodeInput(ctx)
	a.node.mu.Lock()
	current, last := a.node.node, a.node.lastReport
	a.node.mu.Unlock()
	if current == nil {
		return nil
	}
	status, events := nodeStatus(&current.Status, in)
	if !nodeStatusChanged(&current.Status, &status) && in.Now.Sub(last) < a.o.NodeStatusReportFrequency {
		return nil
	}
	nodes := a.client.CoreV1().Nodes()
	first := true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			fresh, err := nodes.Get(ctx, a.o.NodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			current = fresh
			status, events = nodeStatus(&current.Status, in)
		}
		first = false
		n := current.DeepCopy()
		n.Status = status
		updated, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		current = updated
		return nil
	})
	if apierrors.IsNotFound(err) {
		// Someone deleted the Node: register it again.
		return a.tryRegister(ctx)
	}
	if err != nil {
		return fmt.Errorf("agent: node status: %w", err)
	}
	a.node.mu.Lock()
	a.node.node, a.node.lastReport = current, in.Now
	a.node.mu.Unlock()
	a.nodeUID.Store(current.UID)
	for _, e := range events {
		a.nodeEvent(e)
	}
	return nil
}

// nodeEvent records a node condition event.
func (a *Agent) nodeEvent(reason string) {
	a.recorder.Eventf(a.nodeRef(), corev1.EventTypeNormal, reason, "Node %s status is now: %s", a.o.NodeName, reason)
}

package nodelifecycle

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// monitor is one health pass over every node.
func (c *Controller) monitor(ctx context.Context) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		c.log.Warn("nodelifecycle: listing nodes", "err", err)
		return
	}
	present := map[string]bool{}
	for _, node := range nodes {
		present[node.Name] = true
		if uid, ok := c.known[node.Name]; !ok || uid != node.UID {
			c.known[node.Name] = node.UID
			c.nodeEvent(node.Name, node.UID, "RegisteredNode", fmt.Sprintf("Registered Node %s in Controller", node.Name))
		}
		if ctx.Err() != nil {
			return
		}
		c.checkNode(ctx, node)
	}
	for name, uid := range c.known {
		if present[name] {
			continue
		}
		c.nodeEvent(name, uid, "RemovingNode", fmt.Sprintf("Removing Node %s from Controller", name))
		delete(c.known, name)
		delete(c.probes, name)
		delete(c.podsRetry, name)
	}
}

// checkNode marks a silent node Unknown and, when it stops being Ready
// that way, its pods not Ready.
func (c *Controller) checkNode(ctx context.Context, node *corev1.Node) {
	now := c.clock.Now()
	lease, err := c.leases.Leases(corev1.NamespaceNodeLease).Get(node.Name)
	if err != nil {
		lease = nil
	}
	p := observe(c.probes[node.Name], node, lease, now)
	c.probes[node.Name] = &p
	before := readyStatus(node)
	current := node
	if silent(p, node, c.opts, now) {
		updated := node.DeepCopy()
		if markUnknown(updated, metav1.NewTime(now)) {
			got, err := c.client.CoreV1().Nodes().UpdateStatus(ctx, updated, metav1.UpdateOptions{})
			if err != nil {
				// A conflict means the agent just wrote; the next pass
				// sees what it wrote.
				c.log.Debug("nodelifecycle: marking node Unknown", "node", node.Name, "err", err)
				return
			}
			current = got
			c.log.Info("node stopped posting status", "node", node.Name, "grace", gracePeriod(node, c.opts))
		}
	}
	after := readyStatus(current)
	if before == corev1.ConditionTrue && after != corev1.ConditionTrue {
		ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}
		c.recorder.Eventf(ref, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: %s", node.Name, "NodeNotReady")
		c.podsRetry[node.Name] = true
	}
	if after == corev1.ConditionTrue {
		delete(c.podsRetry, node.Name)
	}
	if c.podsRetry[node.Name] {
		if err := c.markPodsNotReady(ctx, node.Name, metav1.NewTime(now)); err != nil {
			c.log.Warn("nodelifecycle: marking pods not ready; will retry", "node", node.Name, "err", err)
		} else {
			delete(c.podsRetry, node.Name)
		}
	}
	if current != node {
		c.queue.Add(node.Name)
	}
}

// markPodsNotReady sets the Ready condition of the node's pods to False,
// as their agent can no longer say.
func (c *Controller) markPodsNotReady(ctx context.Context, nodeName string, now metav1.Time) error {
	objs, err := c.pods.ByIndex(podsByNode, nodeName)
	if err != nil {
		return err
	}
	var errs []error
	for _, obj := range objs {
		pod := obj.(*corev1.Pod)
		if pod.Spec.NodeName != nodeName {
			continue
		}
		updated, ok := podNotReady(pod, now)
		if !ok {
			continue
		}
		if _, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err))
			}
			continue
		}
		c.recorder.Event(pod, corev1.EventTypeWarning, "NodeNotReady", "Node is not ready")
	}
	return errors.Join(errs...)
}

// podNotReady returns a copy of pod with Ready False, or false when it is
// not Ready already or has no Ready condition.
func podNotReady(pod *corev1.Pod, now metav1.Time) (*corev1.Pod, bool) {
	for i, cond := range pod.Status.Conditions {
		if cond.Type != corev1.PodReady {
			continue
		}
		if cond.Status == corev1.ConditionFalse {
			return nil, false
		}
		out := pod.DeepCopy()
		out.Status.Conditions[i].Status = corev1.ConditionFalse
		out.Status.Conditions[i].LastTransitionTime = now
		return out, true
	}
	return nil, false
}

// nodeEvent records an event about a node, as upstream's controller does.
func (c *Controller) nodeEvent(name string, uid types.UID, reason, message string) {
	ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: name, UID: uid}
	c.recorder.Eventf(ref, corev1.EventTypeNormal, reason, "Node %s event: %s", name, message)
}

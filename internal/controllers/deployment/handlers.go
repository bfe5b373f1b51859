package deployment

import (
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"skiff.dev/internal/controllers/ctrl"
)

func (c *Controller) addRS(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if rs.DeletionTimestamp != nil {
		c.deleteRS(rs)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := c.ownerOf(rs.Namespace, ref); d != nil {
			ctrl.Enqueue(c.queue, d)
		}
		return
	}
	c.enqueueSelecting(rs)
}

func (c *Controller) updateRS(oldObj, curObj any) {
	old, ok1 := oldObj.(*appsv1.ReplicaSet)
	cur, ok2 := curObj.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if d := c.ownerOf(old.Namespace, oldRef); d != nil {
			ctrl.Enqueue(c.queue, d)
		}
	}
	if curRef != nil {
		if d := c.ownerOf(cur.Namespace, curRef); d != nil {
			ctrl.Enqueue(c.queue, d)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		c.enqueueSelecting(cur)
	}
}

func (c *Controller) deleteRS(obj any) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	if d := c.ownerOf(m.GetNamespace(), metav1.GetControllerOfNoCopy(m)); d != nil {
		ctrl.Enqueue(c.queue, d)
	}
}

// enqueueSelecting enqueues the deployments whose selector matches an
// orphaned replica set, so one may adopt it.
func (c *Controller) enqueueSelecting(rs *appsv1.ReplicaSet) {
	ds, err := c.deployments.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(rs.Labels)) {
			continue
		}
		ctrl.Enqueue(c.queue, d)
	}
}

// updatePod and deletePod wake a Recreate deployment waiting for its old
// pods to stop.
func (c *Controller) updatePod(oldObj, curObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := curObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.Status.Phase == cur.Status.Phase || !finished(cur) {
		return
	}
	c.enqueueRecreate(cur)
}

func (c *Controller) deletePod(obj any) {
	if m, ok := ctrl.Object(obj); ok {
		c.enqueueRecreate(m)
	}
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func (c *Controller) enqueueRecreate(pod metav1.Object) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := c.replicaSets.ReplicaSets(pod.GetNamespace()).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	d := c.ownerOf(rs.Namespace, metav1.GetControllerOfNoCopy(rs))
	if d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		ctrl.Enqueue(c.queue, d)
	}
}

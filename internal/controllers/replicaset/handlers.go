package replicaset

import (
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"

	"skiff.dev/internal/controllers/ctrl"
)

func (c *Controller) addRS(obj any) { ctrl.Enqueue(c.queue, obj) }

func (c *Controller) updateRS(oldObj, curObj any) {
	old, okOld := oldObj.(*appsv1.ReplicaSet)
	cur, okCur := curObj.(*appsv1.ReplicaSet)
	if okOld && okCur && old.UID != cur.UID {
		// Deleted and re-created under the same name between two
		// events: the old one's expectations must go.
		c.deleteRS(old)
	}
	ctrl.Enqueue(c.queue, curObj)
}

func (c *Controller) deleteRS(obj any) {
	key, ok := ctrl.Key(obj)
	if !ok {
		return
	}
	c.exp.Forget(key)
	c.queue.Add(key)
}

// addPod counts a pod that appeared as one creation its owner waited for
// and syncs the owner; an orphan syncs every ReplicaSet that may adopt it.
func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already going (e.g. after a restart):
		// count it as going, not as created.
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		rs := c.owner(pod.Namespace, ref)
		if rs == nil {
			return
		}
		key, _ := ctrl.Key(rs)
		c.exp.CreationObserved(key)
		c.queue.Add(key)
		return
	}
	for _, rs := range c.selecting(pod) {
		ctrl.Enqueue(c.queue, rs)
	}
}

// updatePod syncs the owners a pod had and has; labels or owners changing
// on an orphan sync the ReplicaSets that may now adopt it.
func (c *Controller) updatePod(oldObj, curObj any) {
	old, okOld := oldObj.(*corev1.Pod)
	cur, okCur := curObj.(*corev1.Pod)
	if !okOld || !okCur || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	labelsChanged := !maps.Equal(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !sameRef(oldRef, curRef)
	if refChanged && oldRef != nil {
		if rs := c.owner(old.Namespace, oldRef); rs != nil {
			ctrl.Enqueue(c.queue, rs)
		}
	}
	if curRef != nil {
		rs := c.owner(cur.Namespace, curRef)
		if rs == nil {
			return
		}
		ctrl.Enqueue(c.queue, rs)
		if rs.Spec.MinReadySeconds > 0 && !podutils.IsPodReady(old) && podutils.IsPodReady(cur) {
			// Look again when the pod becomes available.
			key, _ := ctrl.Key(rs)
			ctrl.Requeue(c.queue, key, time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if labelsChanged || refChanged {
		for _, rs := range c.selecting(cur) {
			ctrl.Enqueue(c.queue, rs)
		}
	}
}

// deletePod counts a pod that went as one deletion its owner waited for
// and syncs the owner.
func (c *Controller) deletePod(obj any) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(m)
	if ref == nil {
		return
	}
	rs := c.owner(m.GetNamespace(), ref)
	if rs == nil {
		return
	}
	key, _ := ctrl.Key(rs)
	c.exp.DeletionObserved(key, m.GetUID())
	c.queue.Add(key)
}

func sameRef(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Kind == b.Kind && a.Name == b.Name && a.APIVersion == b.APIVersion
}

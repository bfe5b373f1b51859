package daemonset

import (
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/kubectl/pkg/util/podutils"

	"skiff.dev/internal/controllers/ctrl"
)

// owner returns the DaemonSet a controller reference points at, if it is
// in the cache with the same UID.
func (c *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	if ref == nil || ref.Kind != gvk.Kind {
		return nil
	}
	ds, err := c.dsLister.DaemonSets(namespace).Get(ref.Name)
	if err != nil || ds.UID != ref.UID {
		return nil
	}
	return ds
}

// selecting lists the DaemonSets in namespace whose selector matches lbls,
// the candidates to adopt an orphan.
func (c *Controller) selecting(namespace string, lbls map[string]string) []*appsv1.DaemonSet {
	all, err := c.dsLister.DaemonSets(namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.DaemonSet
	for _, ds := range all {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, ds)
	}
	return out
}

func (c *Controller) enqueue(ds *appsv1.DaemonSet) { ctrl.Enqueue(c.queue, ds) }

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already going (e.g. after a restart):
		// not a creation we wait for.
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if ds := c.owner(pod.Namespace, ref); ds != nil {
			if key, ok := ctrl.Key(ds); ok {
				c.expectations.CreationObserved(key)
			}
			c.enqueue(ds)
		}
		return
	}
	for _, ds := range c.selecting(pod.Namespace, pod.Labels) {
		c.enqueue(ds)
	}
}

func (c *Controller) updatePod(oldObj, curObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := curObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil {
		// A graceful deletion began: count it as done now, so a
		// replacement is not held back for the grace period.
		c.deletePod(cur)
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if ds := c.owner(old.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		ds := c.owner(cur.Namespace, curRef)
		if ds == nil {
			return
		}
		c.enqueue(ds)
		if !podutils.IsPodReady(old) && podutils.IsPodReady(cur) && ds.Spec.MinReadySeconds > 0 {
			if key, ok := ctrl.Key(ds); ok {
				ctrl.Requeue(c.queue, key, time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
			}
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		for _, ds := range c.selecting(cur.Namespace, cur.Labels) {
			c.enqueue(ds)
		}
	}
}

func (c *Controller) deletePod(obj any) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	ds := c.owner(m.GetNamespace(), metav1.GetControllerOfNoCopy(m))
	if ds == nil {
		return
	}
	if key, ok := ctrl.Key(ds); ok {
		c.expectations.DeletionObserved(key, m.GetUID())
	}
	c.enqueue(ds)
}

func (c *Controller) addNode(obj any) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		if run, _ := shouldRun(node, ds); run {
			c.enqueue(ds)
		}
	}
}

// nodeChangeMatters reports whether a node update can change where daemon
// pods belong: anything but heartbeats, that is, other than the resource
// version and conditions whose set of true types stays the same.
func nodeChangeMatters(old, cur *corev1.Node) bool {
	if !sameTrueConditions(old.Status.Conditions, cur.Status.Conditions) {
		return true
	}
	o := old.DeepCopy()
	o.ResourceVersion = cur.ResourceVersion
	o.Status.Conditions = cur.Status.Conditions
	return !apiequality.Semantic.DeepEqual(o, cur)
}

func sameTrueConditions(a, b []corev1.NodeCondition) bool {
	set := map[corev1.NodeConditionType]bool{}
	for _, c := range a {
		if c.Status == corev1.ConditionTrue {
			set[c.Type] = true
		}
	}
	for _, c := range b {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		if !set[c.Type] {
			return false
		}
		delete(set, c.Type)
	}
	return len(set) == 0
}

func (c *Controller) updateNode(oldObj, curObj any) {
	old, ok1 := oldObj.(*corev1.Node)
	cur, ok2 := curObj.(*corev1.Node)
	if !ok1 || !ok2 || !nodeChangeMatters(old, cur) {
		return
	}
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		oldRun, oldKeep := shouldRun(old, ds)
		curRun, curKeep := shouldRun(cur, ds)
		if oldRun != curRun || oldKeep != curKeep {
			c.enqueue(ds)
		}
	}
}

func (c *Controller) deleteNode(obj any) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	node, ok := m.(*corev1.Node)
	if !ok {
		return
	}
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		if _, keep := shouldRun(node, ds); keep {
			c.enqueue(ds)
		}
	}
}

// revisionChanged wakes the owner of an added or deleted revision, or, for
// an orphan, the DaemonSets that might adopt it.
func (c *Controller) revisionChanged(obj any) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		if ds := c.owner(m.GetNamespace(), ref); ds != nil {
			c.enqueue(ds)
		}
		return
	}
	for _, ds := range c.selecting(m.GetNamespace(), m.GetLabels()) {
		c.enqueue(ds)
	}
}

func (c *Controller) revisionUpdated(oldObj, curObj any) {
	old, ok1 := oldObj.(*appsv1.ControllerRevision)
	cur, ok2 := curObj.(*appsv1.ControllerRevision)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if ds := c.owner(old.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		if ds := c.owner(cur.Namespace, curRef); ds != nil {
			c.enqueue(ds)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		for _, ds := range c.selecting(cur.Namespace, cur.Labels) {
			c.enqueue(ds)
		}
	}
}

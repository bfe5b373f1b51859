// Package statefulset is the StatefulSet controller: it keeps one pod per
// ordinal, named "<set>-<ordinal>" with a stable hostname and its own
// PersistentVolumeClaims made from the set's volume claim templates;
// creates and deletes them in ordinal order (OrderedReady) or all at once
// (Parallel); records each distinct pod template as a ControllerRevision;
// rolls pods to a new revision from the highest ordinal down (above a
// partition) or leaves that to the user (OnDelete); follows the claims'
// retention policy through ownerReferences; and reports the status.
package statefulset

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/kubectl/pkg/util/podutils"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs, events and leader election.
const Name = "statefulset-controller"

// StaleClaimRetry is how soon a set is looked at again while a pod waits
// for a claim left by an earlier pod of its name to be garbage collected.
var StaleClaimRetry = time.Second

// Controller keeps StatefulSets' pods, claims and revisions.
type Controller struct {
	client    kubernetes.Interface
	sets      appslisters.StatefulSetLister
	pods      corelisters.PodLister
	revisions appslisters.ControllerRevisionLister
	claims    corelisters.PersistentVolumeClaimLister
	synced    []cache.InformerSynced
	queue     ctrl.Queue
	recorder  record.EventRecorder
	clock     clock.Clock
	log       *slog.Logger
	workers   int
}

// New builds the controller on the shared informers.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	setInf := cc.Informers.Apps().V1().StatefulSets()
	podInf := cc.Informers.Core().V1().Pods()
	revInf := cc.Informers.Apps().V1().ControllerRevisions()
	claimInf := cc.Informers.Core().V1().PersistentVolumeClaims()
	c := &Controller{
		client:    cc.Client,
		sets:      setInf.Lister(),
		pods:      podInf.Lister(),
		revisions: revInf.Lister(),
		claims:    claimInf.Lister(),
		queue:     ctrl.NewQueue(Name),
		recorder:  cc.Recorder(Name),
		clock:     cc.Clock,
		log:       cc.Log.With("controller", Name),
		workers:   cc.Options.Workers,
	}
	c.synced = []cache.InformerSynced{setInf.Informer().HasSynced, podInf.Informer().HasSynced,
		revInf.Informer().HasSynced, claimInf.Informer().HasSynced}
	if _, err := setInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ctrl.Enqueue(c.queue, obj) },
		UpdateFunc: func(_, obj any) { ctrl.Enqueue(c.queue, obj) },
		DeleteFunc: func(obj any) { ctrl.Enqueue(c.queue, obj) },
	}); err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.podAdded,
		UpdateFunc: c.podUpdated,
		DeleteFunc: c.podDeleted,
	}); err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	return c, nil
}

// Run syncs sets until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

// ownerSet is the set a controller reference names, when it still exists
// with that UID.
func (c *Controller) ownerSet(namespace string, ref *metav1.OwnerReference) *appsv1.StatefulSet {
	if ref == nil || ref.Kind != setKind.Kind || ref.APIVersion != setKind.GroupVersion().String() {
		return nil
	}
	set, err := c.sets.StatefulSets(namespace).Get(ref.Name)
	if err != nil || set.UID != ref.UID {
		return nil
	}
	return set
}

// enqueueSelecting enqueues the sets whose selector matches an orphan pod,
// which may adopt it.
func (c *Controller) enqueueSelecting(pod *corev1.Pod) {
	sets, err := c.sets.StatefulSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, set := range sets {
		sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		ctrl.Enqueue(c.queue, set)
	}
}

func (c *Controller) podAdded(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if set := c.ownerSet(pod.Namespace, ref); set != nil {
			ctrl.Enqueue(c.queue, set)
		}
		return
	}
	if pod.DeletionTimestamp == nil {
		c.enqueueSelecting(pod)
	}
}

func (c *Controller) podUpdated(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	oldRef, curRef := metav1.GetControllerOf(old), metav1.GetControllerOf(cur)
	refChanged := !reflect.DeepEqual(oldRef, curRef)
	if refChanged && oldRef != nil {
		if set := c.ownerSet(old.Namespace, oldRef); set != nil {
			ctrl.Enqueue(c.queue, set)
		}
	}
	if curRef != nil {
		set := c.ownerSet(cur.Namespace, curRef)
		if set == nil {
			return
		}
		ctrl.Enqueue(c.queue, set)
		// Turning ready starts the minReadySeconds clock; look again when
		// it has run, to count the pod available.
		if m := set.Spec.MinReadySeconds; m > 0 && !podutils.IsPodReady(old) && podutils.IsPodReady(cur) {
			if key, ok := ctrl.Key(set); ok {
				ctrl.Requeue(c.queue, key, time.Duration(m)*time.Second+time.Second)
			}
		}
		return
	}
	if refChanged || !reflect.DeepEqual(old.Labels, cur.Labels) {
		c.enqueueSelecting(cur)
	}
}

func (c *Controller) podDeleted(obj any) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	refs := m.GetOwnerReferences()
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			if set := c.ownerSet(m.GetNamespace(), &refs[i]); set != nil {
				ctrl.Enqueue(c.queue, set)
			}
		}
	}
}

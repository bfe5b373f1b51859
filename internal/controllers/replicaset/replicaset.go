// Package replicaset is the ReplicaSet controller: it keeps spec.replicas
// pods for every ReplicaSet, creating them from the template and deleting
// the surplus, adopts orphan pods its selector matches and releases owned
// pods that stop matching, and reports the pod counts in the status.
//
// A sync looks at one ReplicaSet in the shared informers' caches. Since
// the caches lag the loop's own writes, every create and delete is
// recorded as an expectation first; until the informer has shown them all,
// the loop only updates the status and does not create or delete again.
package replicaset

import (
	"context"
	"fmt"
	"log/slog"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, also the component of its events.
const Name = "replicaset-controller"

// kind is what the controller's ownerReferences point at.
var kind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// Controller keeps ReplicaSets' pods.
type Controller struct {
	client   kubernetes.Interface
	rsList   appslisters.ReplicaSetLister
	podList  corelisters.PodLister
	synced   []cache.InformerSynced
	queue    ctrl.Queue
	exp      *ctrl.Expectations
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger
	workers  int
}

var _ ctrl.Controller = (*Controller)(nil)

// New builds the controller on cc's shared informers.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	rsInf := cc.Informers.Apps().V1().ReplicaSets()
	podInf := cc.Informers.Core().V1().Pods()
	c := &Controller{
		client:   cc.Client,
		rsList:   rsInf.Lister(),
		podList:  podInf.Lister(),
		synced:   []cache.InformerSynced{rsInf.Informer().HasSynced, podInf.Informer().HasSynced},
		queue:    ctrl.NewQueue(Name),
		exp:      ctrl.NewExpectations(),
		recorder: cc.Recorder(Name),
		clock:    cc.Clock,
		log:      cc.Log.With("controller", Name),
		workers:  cc.Options.Workers,
	}
	if _, err := rsInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addRS,
		UpdateFunc: c.updateRS,
		DeleteFunc: c.deleteRS,
	}); err != nil {
		return nil, fmt.Errorf("replicaset: %w", err)
	}
	if _, err := podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, fmt.Errorf("replicaset: %w", err)
	}
	return c, nil
}

// Run syncs ReplicaSets until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	ctrl.Workers(ctx, c.queue, max(c.workers, 1), c.log, c.sync)
}

// owner is the ReplicaSet ref points at, if it is one in the cache with
// the same UID.
func (c *Controller) owner(namespace string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	if ref == nil || ref.Kind != kind.Kind {
		return nil
	}
	rs, err := c.rsList.ReplicaSets(namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// selecting lists the ReplicaSets whose selector matches an orphan pod,
// any of which may want to adopt it.
func (c *Controller) selecting(pod *corev1.Pod) []*appsv1.ReplicaSet {
	if len(pod.Labels) == 0 {
		return nil
	}
	all, err := c.rsList.ReplicaSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.ReplicaSet
	for _, rs := range all {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, rs)
	}
	return out
}

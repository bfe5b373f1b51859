package agent

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// podSource watches the pods bound to the node: one informer filtered by
// spec.nodeName, so an agent holds only its own pods.
type podSource struct {
	a        *Agent
	informer cache.SharedIndexInformer
}

func newPodSource(a *Agent) *podSource {
	sel := fields.OneTermEqualSelector("spec.nodeName", a.o.NodeName).String()
	lw := cache.NewFilteredListWatchFromClient(a.client.CoreV1().RESTClient(), "pods", metav1.NamespaceAll,
		func(o *metav1.ListOptions) { o.FieldSelector = sel })
	inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{uidIndex: func(obj any) ([]string, error) {
		return []string{string(obj.(*corev1.Pod).UID)}, nil
	}})
	return &podSource{a: a, informer: inf}
}

// start runs the informer and waits until it has listed the pods.
func (s *podSource) start(ctx context.Context) error {
	_, err := s.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.changed(obj, true) },
		UpdateFunc: func(_, obj any) { s.changed(obj, false) },
		DeleteFunc: func(obj any) { s.deleted(obj) },
	})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	s.a.goLoop(func() { s.informer.Run(ctx.Done()) })
	if !cache.WaitForCacheSync(ctx.Done(), s.informer.HasSynced) {
		return fmt.Errorf("agent: listing pods: %w", ctx.Err())
	}
	return nil
}

func (s *podSource) changed(obj any, added bool) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if isMirror(pod) {
		s.a.static.kick()
		// A new mirror pod needs its static pod's status.
		if w := s.a.worker(types.UID(pod.Annotations[annotationConfigMirror])); w != nil && (added || pod.Status.StartTime == nil) {
			w.poke()
		}
		return
	}
	s.a.podUpdated(pod, false)
}

func (s *podSource) deleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if isMirror(pod) {
		s.a.static.kick()
		return
	}
	if w := s.a.worker(pod.UID); w != nil {
		w.remove()
	}
}

// get returns the pod with that name, or nil.
func (s *podSource) get(namespace, name string) *corev1.Pod {
	obj, ok, err := s.informer.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return obj.(*corev1.Pod)
}

// uidIndex indexes the node's pods by UID.
const uidIndex = "uid"

// byUID returns the pod with that UID, or nil.
func (s *podSource) byUID(uid types.UID) *corev1.Pod {
	objs, err := s.informer.GetIndexer().ByIndex(uidIndex, string(uid))
	if err != nil || len(objs) == 0 {
		return nil
	}
	return objs[0].(*corev1.Pod)
}

// list returns every pod bound to the node.
func (s *podSource) list() []*corev1.Pod {
	objs := s.informer.GetStore().List()
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

// podUpdated hands a pod to its worker, starting one for a new pod.
func (a *Agent) podUpdated(pod *corev1.Pod, static bool) {
	a.mu.Lock()
	w := a.workers[pod.UID]
	if w == nil {
		if a.ctx == nil || a.ctx.Err() != nil {
			a.mu.Unlock()
			return
		}
		w = newWorker(a, pod, static)
		a.workers[pod.UID] = w
		a.mu.Unlock()
		a.goLoop(func() { w.run(a.ctx) })
		return
	}
	a.mu.Unlock()
	w.update(pod)
}

// dropWorker forgets a finished worker.
func (a *Agent) dropWorker(w *worker) {
	a.mu.Lock()
	if a.workers[w.uid] == w {
		delete(a.workers, w.uid)
	}
	a.mu.Unlock()
}

package agent

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/internal/agent/envvars"
)

// serviceSource keeps the cluster's Services in memory, as the kubelet's
// service informer does, so a container's service link variables cost no
// API request at start.
type serviceSource struct {
	informer cache.SharedIndexInformer
}

func newServiceSource(a *Agent) *serviceSource {
	lw := cache.NewListWatchFromClient(a.client.CoreV1().RESTClient(), "services", metav1.NamespaceAll, fields.Everything())
	inf := cache.NewSharedIndexInformer(lw, &corev1.Service{}, 0,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	return &serviceSource{informer: inf}
}

// start runs the informer and waits until it has listed the Services, so
// no container starts without its service variables.
func (s *serviceSource) start(ctx context.Context, a *Agent) error {
	a.goLoop(func() { s.informer.Run(ctx.Done()) })
	if !cache.WaitForCacheSync(ctx.Done(), s.informer.HasSynced) {
		return fmt.Errorf("agent: listing services: %w", ctx.Err())
	}
	return nil
}

// inNamespace lists the Services of namespace.
func (s *serviceSource) inNamespace(namespace string) []*corev1.Service {
	objs, _ := s.informer.GetIndexer().ByIndex(cache.NamespaceIndex, namespace)
	out := make([]*corev1.Service, 0, len(objs))
	for _, o := range objs {
		if svc, ok := o.(*corev1.Service); ok {
			out = append(out, svc)
		}
	}
	return out
}

// serviceEnv is the service link variables of a pod: from the kubernetes
// service in default, and from the services of the pod's namespace unless
// the pod turns service links off.
func (a *Agent) serviceEnv(pod *corev1.Pod) map[string]string {
	var services []*corev1.Service
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		services = a.services.inNamespace(pod.Namespace)
	}
	if pod.Namespace != metav1.NamespaceDefault || len(services) == 0 {
		if obj, ok, _ := a.services.informer.GetIndexer().GetByKey(metav1.NamespaceDefault + "/kubernetes"); ok {
			services = append(services, obj.(*corev1.Service))
		}
	}
	return envvars.ServiceEnv(pod, services)
}

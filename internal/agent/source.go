package agent

import (
	"context"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"skiff.dev/internal/agent/envvars"
)

// objectSource serves the ConfigMaps and Secrets that env vars and volumes
// refer to, fetched from the API when needed: an agent keeps no cache of
// them, so many agents in one process stay small.
type objectSource struct {
	client kubernetes.Interface
}

// ConfigMap gets a ConfigMap.
func (s *objectSource) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return s.client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}

// Secret gets a Secret.
func (s *objectSource) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return s.client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

// ServiceAccountToken asks the TokenRequest API for a token of the pod's
// service account, bound to the pod.
func (s *objectSource) ServiceAccountToken(ctx context.Context, pod *corev1.Pod, audience string, expirationSeconds int64) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &expirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if audience != "" {
		req.Spec.Audiences = []string{audience}
	}
	tr, err := s.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return tr.Status.Token, nil
}

// serviceEnv is the service link variables of a pod: from the kubernetes
// service in default, and from the services of the pod's namespace unless
// the pod turns service links off. A failed lookup leaves them out.
func (a *Agent) serviceEnv(ctx context.Context, pod *corev1.Pod) map[string]string {
	var services []*corev1.Service
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		list, err := a.client.CoreV1().Services(pod.Namespace).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			a.log.Debug("agent: listing services for env vars", "namespace", pod.Namespace, "err", err)
		} else {
			for i := range list.Items {
				services = append(services, &list.Items[i])
			}
		}
	}
	if pod.Namespace != metav1.NamespaceDefault || len(services) == 0 {
		if svc, err := a.client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{}); err == nil {
			services = append(services, svc)
		}
	}
	return envvars.ServiceEnv(pod, services)
}

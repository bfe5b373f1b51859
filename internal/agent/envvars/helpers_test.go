package envvars

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "B": "$(A)", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"$(A)", "a"},
		{"x$(A)y$(A)z", "xayaz"},
		{"$(B)", "$(A)"}, // not recursive
		{"$(EMPTY)", ""},
		{"$(NOPE)", "$(NOPE)"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$a"},
		{"$$$$", "$$"},
		{"$A", "$A"},
		{"$", "$"},
		{"a$", "a$"},
		{"$(A", "$(A"},
		{"$($(A))", "$($(A))"},
		{"$()", "$()"},
		{"héllo $(A) wörld", "héllo a wörld"},
	}
	for _, tt := range tests {
		if got := Expand(tt.in, lookup); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFieldValue(t *testing.T) {
	pod := testPod()
	tests := []struct{ apiVersion, path, want, wantErr string }{
		{path: "metadata.labels", want: "app=\"web\"\ntier=\"front\""},
		{path: "metadata.annotations", want: `note="say \"hi\""`},
		{path: "spec.host", want: "node-a"},
		{apiVersion: "v2", path: "metadata.name", wantErr: "unsupported pod version: v2"},
		{path: "spec.containers['x']", wantErr: "field label does not support subscript: spec.containers['x']"},
		{path: "status.phase", wantErr: "unsupported fieldPath: status.phase"},
	}
	for _, tt := range tests {
		got, err := FieldValue(pod, tt.apiVersion, tt.path)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("FieldValue(%s) err = %v, want %q", tt.path, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FieldValue(%s) = %q, %v, want %q", tt.path, got, err, tt.want)
		}
	}
	// Without PodIPs, the single PodIP is used.
	pod.Status.PodIPs = nil
	if got, _ := FieldValue(pod, "", "status.podIPs"); got != "10.0.0.5" {
		t.Errorf("status.podIPs = %q", got)
	}
}

func TestResourceValueByContainerName(t *testing.T) {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	pod := testPod()
	pod.Spec.Containers = []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100Mi")},
	}}}
	pod.Spec.InitContainers = []corev1.Container{{Name: "init"}}
	tests := []struct {
		container, res, divisor, want, wantErr string
		podLimits                              corev1.ResourceList
	}{
		{container: "app", res: "limits.memory", divisor: "1Mi", want: "100"},
		{container: "app", res: "limits.cpu", divisor: "1m", want: "4000"},
		{container: "init", res: "limits.memory", divisor: "1Mi", want: "1024"},
		{container: "app", res: "limits.cpu", want: "2", podLimits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1100m")}},
		{container: "app", res: "limits.hugepages-2Mi", want: "0"},
		{container: "nope", res: "limits.cpu", wantErr: "container nope not found"},
	}
	for _, tt := range tests {
		p := pod.DeepCopy()
		if tt.podLimits != nil {
			p.Spec.Resources = &corev1.ResourceRequirements{Limits: tt.podLimits}
		}
		ref := &corev1.ResourceFieldSelector{ContainerName: tt.container, Resource: tt.res}
		if tt.divisor != "" {
			ref.Divisor = resource.MustParse(tt.divisor)
		}
		got, err := ResourceValue(p, nil, ref, alloc)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s/%s: err = %v, want %q", tt.container, tt.res, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s/%s = %q, %v, want %q", tt.container, tt.res, got, err, tt.want)
		}
	}
}

func TestServiceEnv(t *testing.T) {
	svc := func(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
	}
	services := []*corev1.Service{
		svc("default", "kubernetes", "10.96.0.1", corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}),
		svc("default", "my-db", "10.96.0.7", corev1.ServicePort{Port: 5432, Protocol: corev1.ProtocolTCP}, corev1.ServicePort{Name: "metrics", Port: 9187, Protocol: corev1.ProtocolUDP}),
		svc("default", "headless", corev1.ClusterIPNone, corev1.ServicePort{Port: 80}),
		svc("other", "elsewhere", "10.96.0.9", corev1.ServicePort{Port: 80}),
		svc("default", "v6", "fd00::10", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP}),
	}
	env := ServiceEnv(testPod(), services)
	want := map[string]string{
		"KUBERNETES_SERVICE_HOST":       "10.96.0.1",
		"KUBERNETES_SERVICE_PORT":       "443",
		"KUBERNETES_SERVICE_PORT_HTTPS": "443",
		"KUBERNETES_PORT":               "tcp://10.96.0.1:443",
		"KUBERNETES_PORT_443_TCP":       "tcp://10.96.0.1:443",
		"KUBERNETES_PORT_443_TCP_PROTO": "tcp",
		"KUBERNETES_PORT_443_TCP_PORT":  "443",
		"KUBERNETES_PORT_443_TCP_ADDR":  "10.96.0.1",
		"MY_DB_SERVICE_HOST":            "10.96.0.7",
		"MY_DB_SERVICE_PORT":            "5432",
		"MY_DB_SERVICE_PORT_METRICS":    "9187",
		"MY_DB_PORT":                    "tcp://10.96.0.7:5432",
		"MY_DB_PORT_5432_TCP":           "tcp://10.96.0.7:5432",
		"MY_DB_PORT_5432_TCP_PROTO":     "tcp",
		"MY_DB_PORT_5432_TCP_PORT":      "5432",
		"MY_DB_PORT_5432_TCP_ADDR":      "10.96.0.7",
		"MY_DB_PORT_9187_UDP":           "udp://10.96.0.7:9187",
		"MY_DB_PORT_9187_UDP_PROTO":     "udp",
		"MY_DB_PORT_9187_UDP_PORT":      "9187",
		"MY_DB_PORT_9187_UDP_ADDR":      "10.96.0.7",
		"V6_SERVICE_HOST":               "fd00::10",
		"V6_SERVICE_PORT":               "80",
		"V6_PORT":                       "tcp://[fd00::10]:80",
		"V6_PORT_80_TCP":                "tcp://[fd00::10]:80",
		"V6_PORT_80_TCP_PROTO":          "tcp",
		"V6_PORT_80_TCP_PORT":           "80",
		"V6_PORT_80_TCP_ADDR":           "fd00::10",
	}
	if len(env) != len(want) {
		t.Errorf("got %d vars, want %d: %v", len(env), len(want), env)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}

	off := false
	pod := testPod()
	pod.Spec.EnableServiceLinks = &off
	env = ServiceEnv(pod, services)
	if _, ok := env["MY_DB_SERVICE_HOST"]; ok {
		t.Error("enableServiceLinks=false still links namespace services")
	}
	if env["KUBERNETES_SERVICE_HOST"] != "10.96.0.1" {
		t.Error("the kubernetes service must always be linked")
	}
}

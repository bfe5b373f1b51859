package registry

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// podBuilder builds test pods fluently: makePod("p").container("c", "img").obj().
type podBuilder struct{ p corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{p: corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}}
}

func (b *podBuilder) container(name, image string) *podBuilder {
	b.p.Spec.Containers = append(b.p.Spec.Containers, corev1.Container{Name: name, Image: image})
	return b
}

func (b *podBuilder) initContainer(name, image string) *podBuilder {
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, corev1.Container{Name: name, Image: image})
	return b
}

func (b *podBuilder) sidecar(name, image string) *podBuilder {
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, corev1.Container{Name: name, Image: image,
		RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)})
	return b
}

// resources sets the last container's requests and limits, given as
// "cpu=100m,memory=1Gi" (empty for none).
func (b *podBuilder) resources(requests, limits string) *podBuilder {
	c := &b.p.Spec.Containers[len(b.p.Spec.Containers)-1]
	c.Resources = corev1.ResourceRequirements{Requests: resourceList(requests), Limits: resourceList(limits)}
	return b
}

func (b *podBuilder) node(n string) *podBuilder           { b.p.Spec.NodeName = n; return b }
func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder { b.p.Status.Phase = p; return b }
func (b *podBuilder) with(f func(*corev1.Pod)) *podBuilder {
	f(&b.p)
	return b
}
func (b *podBuilder) obj() *corev1.Pod { return b.p.DeepCopy() }

// defaulted returns the pod with upstream's defaults applied.
func (b *podBuilder) defaulted() *corev1.Pod {
	p := b.obj()
	defaultPod(p)
	return p
}

func resourceList(s string) corev1.ResourceList {
	if s == "" {
		return nil
	}
	rl := corev1.ResourceList{}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		rl[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return rl
}

// errorStrings renders errors as "type path" pairs, e.g.
// "FieldValueRequired spec.containers[0].image".
func errorStrings(errs field.ErrorList) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = string(e.Type) + " " + e.Field
	}
	return out
}

func TestDefaultPodSpec(t *testing.T) {
	p := makePod("p").container("c", "nginx").with(func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{}}}
		c.Env = []corev1.EnvVar{{Name: "N", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		c.Resources.Limits = resourceList("cpu=1")
		p.Spec.Volumes = []corev1.Volume{
			{Name: "none"},
			{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
			{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
		}
	}).defaulted()

	s := p.Spec
	c := s.Containers[0]
	checks := []struct {
		name      string
		got, want interface{}
	}{
		{"restartPolicy", s.RestartPolicy, corev1.RestartPolicyAlways},
		{"dnsPolicy", s.DNSPolicy, corev1.DNSClusterFirst},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30)},
		{"schedulerName", s.SchedulerName, "default-scheduler"},
		{"securityContext", s.SecurityContext != nil, true},
		{"enableServiceLinks", *s.EnableServiceLinks, true},
		{"imagePullPolicy", c.ImagePullPolicy, corev1.PullAlways},
		{"terminationMessagePath", c.TerminationMessagePath, "/dev/termination-log"},
		{"terminationMessagePolicy", c.TerminationMessagePolicy, corev1.TerminationMessageReadFile},
		{"port protocol", c.Ports[0].Protocol, corev1.ProtocolTCP},
		{"probe timeout", c.LivenessProbe.TimeoutSeconds, int32(1)},
		{"probe period", c.LivenessProbe.PeriodSeconds, int32(10)},
		{"probe success", c.LivenessProbe.SuccessThreshold, int32(1)},
		{"probe failure", c.LivenessProbe.FailureThreshold, int32(3)},
		{"httpGet scheme", c.LivenessProbe.HTTPGet.Scheme, corev1.URISchemeHTTP},
		{"httpGet path", c.LivenessProbe.HTTPGet.Path, "/"},
		{"fieldRef apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"requests from limits", c.Resources.Requests.Cpu().String(), "1"},
		{"volume without source", s.Volumes[0].EmptyDir != nil, true},
		{"secret defaultMode", *s.Volumes[1].Secret.DefaultMode, int32(0644)},
		{"hostPath type", *s.Volumes[2].HostPath.Type, corev1.HostPathUnset},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDefaultPodTemplateSpecLeavesPodOnlyDefaults(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{Spec: makePod("p").container("c", "nginx:1.25").resources("", "cpu=1").obj().Spec}
	defaultPodTemplateSpec(tmpl)
	if tmpl.Spec.EnableServiceLinks != nil {
		t.Error("templates must not get enableServiceLinks")
	}
	if tmpl.Spec.Containers[0].Resources.Requests != nil {
		t.Error("templates must not copy limits to requests")
	}
	if got := tmpl.Spec.Containers[0].ImagePullPolicy; got != corev1.PullIfNotPresent {
		t.Errorf("imagePullPolicy = %s, want IfNotPresent", got)
	}
}

func TestImagePullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                         corev1.PullAlways,
		"nginx:latest":                  corev1.PullAlways,
		"nginx:1.25":                    corev1.PullIfNotPresent,
		"localhost:5000/app":            corev1.PullAlways,
		"localhost:5000/app:v1":         corev1.PullIfNotPresent,
		"nginx@sha256:abcd":             corev1.PullIfNotPresent,
		"registry:5000/nginx:1@sha256:": corev1.PullIfNotPresent,
	} {
		c := corev1.Container{Image: image}
		defaultContainer(&c)
		if c.ImagePullPolicy != want {
			t.Errorf("%s: imagePullPolicy = %s, want %s", image, c.ImagePullPolicy, want)
		}
	}
}

func TestValidatePodSpec(t *testing.T) {
	tests := []struct {
		name string
		pod  *podBuilder
		want []string
	}{
		{"valid", makePod("p").container("c", "nginx"), nil},
		{"no containers", makePod("p"), []string{"FieldValueRequired spec.containers"}},
		{"no image", makePod("p").container("c", ""), []string{"FieldValueRequired spec.containers[0].image"}},
		{"bad container name", makePod("p").container("C_1", "x"), []string{"FieldValueInvalid spec.containers[0].name"}},
		{"duplicate across init", makePod("p").initContainer("c", "x").container("c", "x"),
			[]string{"FieldValueDuplicate spec.containers[0].name"}},
		{"port out of range", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 70000}}
		}), []string{"FieldValueInvalid spec.containers[0].ports[0].containerPort"}},
		{"bad protocol", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "ICMP"}}
		}), []string{"FieldValueNotSupported spec.containers[0].ports[0].protocol"}},
		{"bad restart policy", makePod("p").container("c", "x").with(func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }),
			[]string{"FieldValueNotSupported spec.restartPolicy"}},
		{"bad dns policy", makePod("p").container("c", "x").with(func(p *corev1.Pod) { p.Spec.DNSPolicy = "Google" }),
			[]string{"FieldValueNotSupported spec.dnsPolicy"}},
		{"duplicate volume", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v"}, {Name: "v"}}
		}), []string{"FieldValueDuplicate spec.volumes[1].name"}},
		{"two volume sources", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{}, ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}}}
		}), []string{"FieldValueForbidden spec.volumes[0].configMap"}},
		{"mount of unknown volume", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "nope", MountPath: "/data"}}
		}), []string{"FieldValueNotFound spec.containers[0].volumeMounts[0].name"}},
		{"request above limit", makePod("p").container("c", "x").resources("cpu=2", "cpu=1"),
			[]string{"FieldValueInvalid spec.containers[0].resources.requests"}},
		{"empty env name", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Value: "v"}}
		}), []string{"FieldValueRequired spec.containers[0].env[0].name"}},
		{"env name with =", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}}
		}), []string{"FieldValueInvalid spec.containers[0].env[0].name"}},
		{"probe on plain init container", makePod("p").initContainer("i", "x").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.InitContainers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}}
		}), []string{"FieldValueForbidden spec.initContainers[0].readinessProbe"}},
		{"bad toleration", makePod("p").container("c", "x").with(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}
		}), []string{"FieldValueInvalid spec.tolerations[0].operator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.pod.defaulted()
			got := errorStrings(validatePodSpec(&p.Spec, field.NewPath("spec")))
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidatePodSpecErrorText(t *testing.T) {
	p := makePod("p").container("c", "").defaulted()
	errs := validatePodSpec(&p.Spec, field.NewPath("spec"))
	if len(errs) != 1 || errs[0].Error() != "spec.containers[0].image: Required value" {
		t.Errorf("errors = %v", errs)
	}
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "bad value"}},
		Spec:       makePod("p").container("c", "").obj().Spec,
	}
	defaultPodTemplateSpec(tmpl)
	got := errorStrings(validatePodTemplateSpec(tmpl, field.NewPath("spec", "template")))
	want := []string{"FieldValueInvalid spec.template.metadata.labels", "FieldValueRequired spec.template.spec.containers[0].image"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func TestValidatePodSpecUpdate(t *testing.T) {
	old := makePod("p").container("c", "nginx:1").with(func(p *corev1.Pod) {
		p.Spec.ActiveDeadlineSeconds = ptr.To(int64(100))
		p.Spec.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}}
	}).defaulted()
	tests := []struct {
		name   string
		change func(*corev1.Pod)
		want   []string
	}{
		{"image", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:2" }, nil},
		{"shorter deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To(int64(50)) }, nil},
		{"longer deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To(int64(500)) },
			[]string{"FieldValueInvalid spec.activeDeadlineSeconds"}},
		{"added toleration", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "b", Operator: corev1.TolerationOpExists})
		}, nil},
		{"removed toleration", func(p *corev1.Pod) { p.Spec.Tolerations = nil },
			[]string{"FieldValueForbidden spec.tolerations"}},
		{"command", func(p *corev1.Pod) { p.Spec.Containers[0].Command = []string{"sh"} },
			[]string{"FieldValueForbidden spec"}},
		{"added container", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "d", Image: "x"})
		},
			[]string{"FieldValueForbidden spec.containers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := old.DeepCopy()
			tt.change(n)
			got := errorStrings(validatePodSpecUpdate(n, old))
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPodUpdateForbiddenMessage(t *testing.T) {
	old := makePod("p").container("c", "x").defaulted()
	n := old.DeepCopy()
	n.Spec.Containers[0].Command = []string{"sh"}
	errs := validatePodSpecUpdate(n, old)
	if len(errs) != 1 {
		t.Fatalf("errors = %v", errs)
	}
	msg := errs[0].Error()
	if !strings.HasPrefix(msg, "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,") ||
		!strings.Contains(msg, "containers") {
		t.Errorf("message = %q", msg)
	}
}

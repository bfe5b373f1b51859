package envvars

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeSource serves ConfigMaps and Secrets from maps, with the NotFound
// errors client-go listers return.
type fakeSource struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	err        error
	calls      int
}

func (f *fakeSource) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if cm, ok := f.configMaps[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (f *fakeSource) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func source() *fakeSource {
	return &fakeSource{
		configMaps: map[string]*corev1.ConfigMap{
			"default/cfg":   {Data: map[string]string{"B": "2", "A": "1", "1st": "digit"}},
			"default/other": {Data: map[string]string{"A": "other", "C": "3"}},
		},
		secrets: map[string]*corev1.Secret{
			"default/sec": {Data: map[string][]byte{"PASS": []byte("hunter2")}},
		},
	}
}

// env builders.
func lit(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

func field(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
}

func res(name, r, divisor string) corev1.EnvVar {
	sel := &corev1.ResourceFieldSelector{Resource: r}
	if divisor != "" {
		sel.Divisor = resource.MustParse(divisor)
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: sel}}
}

func cmKey(name, cm, key string, optional bool) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Key: key, Optional: &optional}}}
}

func secKey(name, s, key string, optional bool) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: s}, Key: key, Optional: &optional}}}
}

func fromCM(name, prefix string, optional bool) corev1.EnvFromSource {
	return corev1.EnvFromSource{Prefix: prefix, ConfigMapRef: &corev1.ConfigMapEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: &optional}}
}

func fromSecret(name, prefix string, optional bool) corev1.EnvFromSource {
	return corev1.EnvFromSource{Prefix: prefix, SecretRef: &corev1.SecretEnvSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Optional: &optional}}
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", UID: "uid-1",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": `say "hi"`},
		},
		Spec: corev1.PodSpec{NodeName: "node-a", ServiceAccountName: "sa"},
		Status: corev1.PodStatus{
			PodIP: "10.0.0.5", PodIPs: []corev1.PodIP{{IP: "10.0.0.5"}, {IP: "fd00::5"}},
			HostIP: "192.168.1.2", HostIPs: []corev1.HostIP{{IP: "192.168.1.2"}},
		},
	}
}

func render(kvs []*runtimeapi.KeyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(parts, " ")
}

func TestResolve(t *testing.T) {
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("8Gi"),
	}
	limited := corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
	}
	tests := []struct {
		name    string
		c       corev1.Container
		want    string
		wantErr string
	}{
		{name: "literals and expansion",
			c: corev1.Container{Env: []corev1.EnvVar{
				lit("A", "x"), lit("B", "$(A)-$(A)"), lit("C", "$$(A) $(MISSING) $(B"), lit("D", "$(E)"), lit("E", "late"), lit("EMPTY", ""),
			}},
			want: "A=x B=x-x C=$(A) $(MISSING) $(B D=$(E) E=late EMPTY="},
		{name: "envFrom first, sorted, later source and env override",
			c: corev1.Container{
				EnvFrom: []corev1.EnvFromSource{fromCM("cfg", "", false), fromCM("other", "", false)},
				Env:     []corev1.EnvVar{lit("B", "env"), lit("REF", "$(A)")},
			},
			want: "1st=digit A=other B=env C=3 REF=other"},
		{name: "envFrom prefix and secret",
			c:    corev1.Container{EnvFrom: []corev1.EnvFromSource{fromCM("cfg", "P_", false), fromSecret("sec", "S_", false)}},
			want: "P_1st=digit P_A=1 P_B=2 S_PASS=hunter2"},
		{name: "optional envFrom missing is skipped",
			c:    corev1.Container{EnvFrom: []corev1.EnvFromSource{fromCM("nope", "", true), fromSecret("nope", "", true), fromSecret("sec", "", false)}},
			want: "PASS=hunter2"},
		{name: "envFrom missing configmap",
			c:       corev1.Container{EnvFrom: []corev1.EnvFromSource{fromCM("nope", "", false)}},
			wantErr: `configmap "nope" not found`},
		{name: "envFrom missing secret",
			c:       corev1.Container{EnvFrom: []corev1.EnvFromSource{fromSecret("nope", "", false)}},
			wantErr: `secret "nope" not found`},
		{name: "key refs",
			c:    corev1.Container{Env: []corev1.EnvVar{cmKey("X", "cfg", "A", false), secKey("Y", "sec", "PASS", false)}},
			want: "X=1 Y=hunter2"},
		{name: "optional key refs missing leave the var out",
			c: corev1.Container{Env: []corev1.EnvVar{
				cmKey("X", "cfg", "nokey", true), cmKey("Y", "nocm", "A", true), secKey("Z", "sec", "nokey", true), secKey("W", "nosec", "k", true), lit("V", "v"),
			}},
			want: "V=v"},
		{name: "missing configmap key",
			c:       corev1.Container{Env: []corev1.EnvVar{cmKey("X", "cfg", "FOO", false)}},
			wantErr: "couldn't find key FOO in ConfigMap default/cfg"},
		{name: "missing secret key",
			c:       corev1.Container{Env: []corev1.EnvVar{secKey("X", "sec", "FOO", false)}},
			wantErr: "couldn't find key FOO in Secret default/sec"},
		{name: "missing configmap via key ref",
			c:       corev1.Container{Env: []corev1.EnvVar{cmKey("X", "cfg2", "A", false)}},
			wantErr: `configmap "cfg2" not found`},
		{name: "field refs",
			c: corev1.Container{Env: []corev1.EnvVar{
				field("N", "metadata.name"), field("NS", "metadata.namespace"), field("U", "metadata.uid"),
				field("L", "metadata.labels['app']"), field("LX", "metadata.labels['none']"), field("AN", "metadata.annotations['note']"),
				field("NODE", "spec.nodeName"), field("SA", "spec.serviceAccountName"),
				field("IP", "status.podIP"), field("IPS", "status.podIPs"), field("H", "status.hostIP"), field("HS", "status.hostIPs"),
			}},
			want: `N=web NS=default U=uid-1 L=web LX= AN=say "hi" NODE=node-a SA=sa IP=10.0.0.5 IPS=10.0.0.5,fd00::5 H=192.168.1.2 HS=192.168.1.2`},
		{name: "unsupported field",
			c:       corev1.Container{Env: []corev1.EnvVar{field("X", "spec.restartPolicy")}},
			wantErr: "unsupported fieldPath: spec.restartPolicy"},
		{name: "resources with limits",
			c: corev1.Container{Resources: limited, Env: []corev1.EnvVar{
				res("CPU", "limits.cpu", ""), res("MCPU", "limits.cpu", "1m"), res("MEM", "limits.memory", "1Mi"),
				res("RCPU", "requests.cpu", ""), res("RMEM", "requests.memory", ""),
			}},
			want: "CPU=2 MCPU=1500 MEM=64 RCPU=1 RMEM=0"},
		{name: "limits default to node allocatable",
			c:    corev1.Container{Env: []corev1.EnvVar{res("CPU", "limits.cpu", ""), res("MEM", "limits.memory", "1Gi"), res("EPH", "limits.ephemeral-storage", "")}},
			want: "CPU=4 MEM=8 EPH=0"},
		{name: "unsupported resource",
			c:       corev1.Container{Env: []corev1.EnvVar{res("X", "limits.gpu", "")}},
			wantErr: "unsupported container resource : limits.gpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(t.Context(), testPod(), &tt.c, source(), alloc)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := render(got); r != tt.want {
				t.Errorf("env:\n got %s\nwant %s", r, tt.want)
			}
		})
	}
}

func TestResolveNotFoundIsNotFound(t *testing.T) {
	c := corev1.Container{Env: []corev1.EnvVar{cmKey("X", "nope", "A", false)}}
	_, err := Resolve(t.Context(), testPod(), &c, source(), nil)
	if !apierrors.IsNotFound(err) {
		t.Fatalf("err = %v, want a NotFound status", err)
	}
}

func TestResolveSourceError(t *testing.T) {
	src := source()
	src.err = errors.New("connection refused")
	c := corev1.Container{Env: []corev1.EnvVar{cmKey("X", "cfg", "A", true)}}
	_, err := Resolve(t.Context(), testPod(), &c, src, nil)
	if err == nil || !errors.Is(err, src.err) || !strings.Contains(err.Error(), "default/cfg") {
		t.Fatalf("err = %v, want the source error wrapped with the object", err)
	}
}

func TestResolveFetchesEachObjectOnce(t *testing.T) {
	src := source()
	c := corev1.Container{
		EnvFrom: []corev1.EnvFromSource{fromCM("cfg", "", false)},
		Env:     []corev1.EnvVar{cmKey("X", "cfg", "A", false), cmKey("Y", "cfg", "B", false)},
	}
	if _, err := Resolve(t.Context(), testPod(), &c, src, nil); err != nil {
		t.Fatal(err)
	}
	if src.calls != 1 {
		t.Errorf("source calls = %d, want 1", src.calls)
	}
}

func TestResolveWithServices(t *testing.T) {
	services := map[string]string{"WEB_SERVICE_HOST": "10.96.0.10", "A": "svc"}
	c := corev1.Container{Env: []corev1.EnvVar{lit("A", "own"), lit("URL", "http://$(WEB_SERVICE_HOST)/")}}
	got, err := ResolveWithServices(t.Context(), testPod(), &c, source(), nil, services)
	if err != nil {
		t.Fatal(err)
	}
	want := "A=own URL=http://10.96.0.10/ WEB_SERVICE_HOST=10.96.0.10"
	if r := render(got); r != want {
		t.Errorf("env:\n got %s\nwant %s", r, want)
	}
}

func TestResolveLocal(t *testing.T) {
	c := corev1.Container{
		EnvFrom: []corev1.EnvFromSource{fromCM("cfg", "", false)},
		Env:     []corev1.EnvVar{field("POD", "metadata.name"), cmKey("X", "cfg", "A", false), lit("DIR", "logs/$(POD)")},
	}
	got, err := ResolveLocal(testPod(), &c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, want := render(got), "POD=web DIR=logs/web"; r != want {
		t.Errorf("env = %s, want %s", r, want)
	}
}

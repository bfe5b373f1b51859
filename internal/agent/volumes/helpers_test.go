package volumes

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fakeSource serves ConfigMaps and Secrets from maps keyed "ns/name".
type fakeSource struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func (f *fakeSource) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	if cm, ok := f.configMaps[ns+"/"+name]; ok {
		return cm.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (f *fakeSource) Secret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func newSource() *fakeSource {
	return &fakeSource{
		configMaps: map[string]*corev1.ConfigMap{
			"default/cfg": {
				Data:       map[string]string{"app.conf": "port=80\n", "mode": "dev"},
				BinaryData: map[string][]byte{"blob": {0, 1, 2}},
			},
		},
		secrets: map[string]*corev1.Secret{
			"default/sec": {Data: map[string][]byte{"user": []byte("admin"), "pass": []byte("hunter2")}},
		},
	}
}

// podBuilder builds test pods: makePod().volume(v).obj().
type podBuilder struct{ pod *corev1.Pod }

func makePod() *podBuilder {
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", UID: "uid-1",
			Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "1"},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
	}}
}

func (b *podBuilder) volume(name string, src corev1.VolumeSource) *podBuilder {
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: src})
	return b
}

func (b *podBuilder) mount(vm corev1.VolumeMount) *podBuilder {
	c := &b.pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, vm)
	return b
}

func (b *podBuilder) env(e corev1.EnvVar) *podBuilder {
	c := &b.pod.Spec.Containers[0]
	c.Env = append(c.Env, e)
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.pod }

func emptyDir() corev1.VolumeSource {
	return corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
}

func configMapVol(name string, items ...corev1.KeyToPath) corev1.VolumeSource {
	return corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Items: items}}
}

func hostPathVol(path string, t corev1.HostPathType) corev1.VolumeSource {
	return corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &t}}
}

func ptr[T any](v T) *T { return &v }

func newManager(t *testing.T, src Source) *Manager {
	t.Helper()
	m, err := New(Options{Root: filepath.Join(t.TempDir(), "pods"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func volDir(m *Manager, pod *corev1.Pod, name string) string {
	return filepath.Join(m.o.Root, string(pod.UID), "volumes", name)
}

// readFile reads a file that must exist.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestMounts(t *testing.T) {
	host := t.TempDir()
	m := newManager(t, newSource())
	bidi := corev1.MountPropagationBidirectional
	pod := makePod().
		volume("data", emptyDir()).
		volume("cfg", configMapVol("cfg")).
		volume("host", hostPathVol(host, corev1.HostPathDirectory)).
		mount(corev1.VolumeMount{Name: "data", MountPath: "/data"}).
		mount(corev1.VolumeMount{Name: "cfg", MountPath: "/etc/app"}).
		mount(corev1.VolumeMount{Name: "host", MountPath: "/host", ReadOnly: true, MountPropagation: &bidi}).
		mount(corev1.VolumeMount{Name: "data", MountPath: "/logs", SubPath: "logs/app"}).
		mount(corev1.VolumeMount{Name: "cfg", MountPath: "/etc/app.conf", SubPath: "app.conf"}).
		obj()
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	got, err := m.Mounts(pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	data := volDir(m, pod, "data")
	want := []*runtimeapi.Mount{
		{ContainerPath: "/data", HostPath: data},
		{ContainerPath: "/etc/app", HostPath: volDir(m, pod, "cfg"), Readonly: true},
		{ContainerPath: "/host", HostPath: host, Readonly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL},
		{ContainerPath: "/logs", HostPath: filepath.Join(data, "logs", "app")},
		{ContainerPath: "/etc/app.conf", Readonly: true}, // HostPath checked below
	}
	if len(got) != len(want) {
		t.Fatalf("got %d mounts, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if i == 4 {
			// A subPath of a configMap key resolves into the current version.
			if !strings.Contains(g.HostPath, "/..20") || filepath.Base(g.HostPath) != "app.conf" {
				t.Errorf("subPath of a key: HostPath = %s", g.HostPath)
			}
			w.HostPath = g.HostPath
		}
		if g.ContainerPath != w.ContainerPath || g.HostPath != w.HostPath || g.Readonly != w.Readonly ||
			g.Propagation != w.Propagation || g.SelinuxRelabel {
			t.Errorf("mount %d = %v, want %v", i, g, w)
		}
	}
	if fi, err := os.Stat(filepath.Join(data, "logs", "app")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Errorf("subPath directory not created with the volume's mode: %v %v", fi, err)
	}
}

func TestMountsSubPathExpr(t *testing.T) {
	m := newManager(t, newSource())
	pod := makePod().
		volume("logs", emptyDir()).
		env(corev1.EnvVar{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}).
		env(corev1.EnvVar{Name: "EMPTY"}).
		mount(corev1.VolumeMount{Name: "logs", MountPath: "/logs", SubPathExpr: "pods/$(POD_NAME)"}).
		obj()
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	got, err := m.Mounts(pod, &pod.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(volDir(m, pod, "logs"), "pods", "web"); got[0].HostPath != want {
		t.Errorf("HostPath = %s, want %s", got[0].HostPath, want)
	}

	// With the full environment given.
	env := []*runtimeapi.KeyValue{{Key: "POD_NAME", Value: "other"}}
	got, err = m.MountsWithEnv(pod, &pod.Spec.Containers[0], env)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got[0].HostPath) != "other" {
		t.Errorf("HostPath = %s", got[0].HostPath)
	}

	pod.Spec.Containers[0].VolumeMounts[0].SubPathExpr = "$(EMPTY)/$(NOPE)/x"
	_, err = m.Mounts(pod, &pod.Spec.Containers[0])
	if want := `volumes: volumeMount "logs" of container "app": missing value for EMPTY, NOPE`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestMountsErrors(t *testing.T) {
	outside := t.TempDir()
	tests := []struct {
		name string
		vm   corev1.VolumeMount
		want string
	}{
		{name: "unknown volume", vm: corev1.VolumeMount{Name: "nope", MountPath: "/x"},
			want: `volumes: cannot find volume "nope" to mount into container "app"`},
		{name: "unsupported", vm: corev1.VolumeMount{Name: "pvc", MountPath: "/x"},
			want: `volumes: volume "pvc" has unsupported type persistentVolumeClaim`},
		{name: "absolute subPath", vm: corev1.VolumeMount{Name: "data", MountPath: "/x", SubPath: "/etc"},
			want: "volumes: volumeMount \"data\" of container \"app\": error SubPath `/etc` must not be an absolute path"},
		{name: "backstep", vm: corev1.VolumeMount{Name: "data", MountPath: "/x", SubPath: "a/../../etc"},
			want: "volumes: volumeMount \"data\" of container \"app\": unable to provision SubPath `a/../../etc`: must not contain '..'"},
		{name: "symlink escape", vm: corev1.VolumeMount{Name: "data", MountPath: "/x", SubPath: "evil/new"},
			want: `volumes: volumeMount "data" of container "app": subPath evil/new: leaves the volume`},
		{name: "propagation", vm: corev1.VolumeMount{Name: "data", MountPath: "/x", MountPropagation: ptr(corev1.MountPropagationMode("Sideways"))},
			want: `volumes: volumeMount "data" of container "app": invalid MountPropagation mode: "Sideways"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, nil)
			pod := makePod().volume("data", emptyDir()).
				volume("pvc", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}).
				mount(tt.vm).obj()
			// Set up data by hand (Setup would refuse the pvc) and plant a
			// symlink a container could have written.
			data := volDir(m, pod, "data")
			if err := os.MkdirAll(data, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(data, "evil")); err != nil {
				t.Fatal(err)
			}
			_, err := m.Mounts(pod, &pod.Spec.Containers[0])
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(outside, "new")); !os.IsNotExist(err) {
				t.Errorf("a directory was created outside the volume")
			}
		})
	}
}

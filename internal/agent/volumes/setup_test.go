package volumes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestNewNeedsRoot(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without Root succeeded")
	}
}

func TestSetupEmptyDir(t *testing.T) {
	m := newManager(t, nil)
	pod := makePod().volume("scratch", emptyDir()).volume("mem", corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory},
	}).obj()
	for range 2 { // idempotent
		if err := m.Setup(t.Context(), pod); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"scratch", "mem"} {
		if got := modeOf(t, volDir(m, pod, name)); got != 0o777 {
			t.Errorf("%s mode = %o, want 777", name, got)
		}
	}
}

func TestSetupConfigMapAndSecret(t *testing.T) {
	m := newManager(t, newSource())
	pod := makePod().
		volume("all", configMapVol("cfg")).
		volume("some", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
			DefaultMode:          ptr(int32(0o600)),
			Items: []corev1.KeyToPath{
				{Key: "app.conf", Path: "etc/app.conf"},
				{Key: "mode", Path: "mode.txt", Mode: ptr(int32(0o400))},
			},
		}}).
		volume("sec", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec"}}).
		obj()
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	all := volDir(m, pod, "all")
	if got := readFile(t, filepath.Join(all, "app.conf")); got != "port=80\n" {
		t.Errorf("app.conf = %q", got)
	}
	if got := readFile(t, filepath.Join(all, "blob")); got != "\x00\x01\x02" {
		t.Errorf("blob = %q", got)
	}
	if got := modeOf(t, filepath.Join(all, "mode")); got != 0o644 {
		t.Errorf("default mode = %o, want 644", got)
	}
	some := volDir(m, pod, "some")
	if got := readFile(t, filepath.Join(some, "etc", "app.conf")); got != "port=80\n" {
		t.Errorf("etc/app.conf = %q", got)
	}
	if got := modeOf(t, filepath.Join(some, "etc", "app.conf")); got != 0o600 {
		t.Errorf("defaultMode = %o, want 600", got)
	}
	if got := modeOf(t, filepath.Join(some, "mode.txt")); got != 0o400 {
		t.Errorf("item mode = %o, want 400", got)
	}
	if _, err := os.Lstat(filepath.Join(some, "blob")); !os.IsNotExist(err) {
		t.Errorf("unlisted key written: %v", err)
	}
	if got := readFile(t, filepath.Join(volDir(m, pod, "sec"), "pass")); got != "hunter2" {
		t.Errorf("secret pass = %q", got)
	}
}

func TestSetupErrors(t *testing.T) {
	pvc := corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}
	tests := []struct {
		name    string
		src     corev1.VolumeSource
		want    string
		notFond bool
	}{
		{name: "data", src: pvc, want: `volumes: volume "data" has unsupported type persistentVolumeClaim`},
		{name: "n", src: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "/"}}, want: `volumes: volume "n" has unsupported type nfs`},
		{name: "cfg", src: configMapVol("nope"), want: `volumes: volume "cfg": configmap "nope" not found`, notFond: true},
		{name: "sec", src: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "nope"}}, want: `volumes: volume "sec": secret "nope" not found`, notFond: true},
		{name: "key", src: configMapVol("cfg", corev1.KeyToPath{Key: "missing", Path: "m"}), want: `volumes: volume "key": configmap references non-existent config key: missing`},
		{name: "skey", src: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec", Items: []corev1.KeyToPath{{Key: "x", Path: "x"}}}},
			want: `volumes: volume "skey": references non-existent secret key: x`},
		{name: "bad", src: configMapVol("cfg", corev1.KeyToPath{Key: "mode", Path: "../escape"}), want: `volumes: volume "bad": invalid path "../escape": must not start with '..'`},
		{name: "ctb", src: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "ca.pem"}},
		}}}, want: `volumes: volume "ctb": projected clusterTrustBundle sources are not supported`},
		{name: "tok", src: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
		}}}, want: `volumes: volume "tok": projected serviceAccountToken sources are not supported: the node has no token source`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, newSource())
			pod := makePod().volume("ok", emptyDir()).volume(tt.name, tt.src).obj()
			err := m.Setup(t.Context(), pod)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
			if tt.notFond != apierrors.IsNotFound(err) {
				t.Errorf("IsNotFound = %v", !tt.notFond)
			}
		})
	}
}

func TestSetupUnsupportedCreatesNothing(t *testing.T) {
	m := newManager(t, nil)
	pod := makePod().volume("ok", emptyDir()).volume("data", corev1.VolumeSource{
		CSI: &corev1.CSIVolumeSource{Driver: "x"},
	}).obj()
	err := m.Setup(t.Context(), pod)
	var unsupported *UnsupportedError
	if !errors.As(err, &unsupported) || unsupported.Type != "csi" || unsupported.Volume != "data" {
		t.Fatalf("err = %v, want an UnsupportedError for csi", err)
	}
	if _, err := os.Stat(volDir(m, pod, "ok")); !os.IsNotExist(err) {
		t.Errorf("emptyDir was created before the type check failed: %v", err)
	}
}

func TestSetupOptional(t *testing.T) {
	m := newManager(t, newSource())
	pod := makePod().
		volume("cm", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: ptr(true)}}).
		volume("key", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Optional: ptr(true),
			Items: []corev1.KeyToPath{{Key: "missing", Path: "m"}, {Key: "mode", Path: "mode"}}}}).
		obj()
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(volDir(m, pod, "cm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") {
			t.Errorf("optional missing configmap left %s", e.Name())
		}
	}
	if got := readFile(t, filepath.Join(volDir(m, pod, "key"), "mode")); got != "dev" {
		t.Errorf("mode = %q", got)
	}
}

func TestSetupDownwardAPI(t *testing.T) {
	m, err := New(Options{Root: t.TempDir(), NodeAllocatable: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}})
	if err != nil {
		t.Fatal(err)
	}
	pod := makePod().volume("info", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
		{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
		{Path: "annotations", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}},
		{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}, Mode: ptr(int32(0o440))},
		{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
	}}}).obj()
	pod.Labels["tier"] = `fr"ont`
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	dir := volDir(m, pod, "info")
	want := map[string]string{
		"labels":      "app=\"web\"\ntier=\"fr\\\"ont\"",
		"annotations": `a="1"`,
		"name":        "web",
		"mem":         "2048",
	}
	for f, w := range want {
		if got := readFile(t, filepath.Join(dir, f)); got != w {
			t.Errorf("%s = %q, want %q", f, got, w)
		}
	}
	if got := modeOf(t, filepath.Join(dir, "name")); got != 0o440 {
		t.Errorf("name mode = %o", got)
	}

	// A label change shows up after the next Setup.
	pod.Labels["app"] = "api"
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "labels")); got != "app=\"api\"\ntier=\"fr\\\"ont\"" {
		t.Errorf("labels after update = %q", got)
	}
}

// fakeTokens counts the tokens it issues.
type fakeTokens struct{ issued int }

func (f *fakeTokens) ServiceAccountToken(_ context.Context, pod *corev1.Pod, audience string, exp int64) (string, error) {
	f.issued++
	return "token-for-" + pod.Spec.ServiceAccountName + "@" + audience, nil
}

func TestSetupProjected(t *testing.T) {
	tokens := &fakeTokens{}
	m, err := New(Options{Root: t.TempDir(), Source: newSource(), Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	pod := makePod().volume("kube-api-access", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(int32(0o640)),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "api"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"},
				Items: []corev1.KeyToPath{{Key: "mode", Path: "mode"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"},
				Items: []corev1.KeyToPath{{Key: "user", Path: "creds/user"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: ptr(true)}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}},
			}}},
		},
	}}).obj()
	pod.Spec.ServiceAccountName = "default"
	for range 3 {
		if err := m.Setup(t.Context(), pod); err != nil {
			t.Fatal(err)
		}
	}
	dir := volDir(m, pod, "kube-api-access")
	want := map[string]string{"token": "token-for-default@api", "mode": "dev", "creds/user": "admin", "namespace": "default"}
	for f, w := range want {
		if got := readFile(t, filepath.Join(dir, f)); got != w {
			t.Errorf("%s = %q, want %q", f, got, w)
		}
		if got := modeOf(t, filepath.Join(dir, f)); got != 0o640 {
			t.Errorf("%s mode = %o, want 640", f, got)
		}
	}
	if tokens.issued != 1 {
		t.Errorf("issued %d tokens for 3 setups, want 1 (cached)", tokens.issued)
	}
	if err := m.Cleanup(pod.UID); err != nil {
		t.Fatal(err)
	}
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	if tokens.issued != 2 {
		t.Errorf("issued %d tokens, want a new one after Cleanup", tokens.issued)
	}
}

// Re-running Setup after the ConfigMap changed swaps the new data in through
// the ..data link; a container holding the volume sees it at the same paths.
func TestSetupRefreshesConfigMap(t *testing.T) {
	src := newSource()
	m := newManager(t, src)
	pod := makePod().volume("cfg", configMapVol("cfg")).obj()
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	dir := volDir(m, pod, "cfg")
	before, _ := os.Readlink(filepath.Join(dir, dataLink))

	cm := src.configMaps["default/cfg"]
	cm.Data["mode"] = "prod"
	delete(cm.Data, "app.conf")
	cm.Data["extra"] = "yes"
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Readlink(filepath.Join(dir, dataLink))
	if before == after {
		t.Fatal("..data still points at the old version")
	}
	if got := readFile(t, filepath.Join(dir, "mode")); got != "prod" {
		t.Errorf("mode = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, dataLink, "extra")); got != "yes" {
		t.Errorf("extra = %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "app.conf")); !os.IsNotExist(err) {
		t.Errorf("removed key still visible: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, before)); !os.IsNotExist(err) {
		t.Errorf("old version %s not removed", before)
	}
}

func TestSetupConcurrent(t *testing.T) {
	m := newManager(t, newSource())
	pod := makePod().volume("cfg", configMapVol("cfg")).volume("data", emptyDir()).obj()
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- m.Setup(t.Context(), pod) }()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, filepath.Join(volDir(m, pod, "cfg"), "mode")); got != "dev" {
		t.Errorf("mode = %q", got)
	}
}

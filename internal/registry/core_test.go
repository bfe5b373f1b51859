package registry

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestCoreResourcesTable(t *testing.T) {
	byName := map[string]Resource{}
	for _, r := range coreResources() {
		if _, dup := byName[r.Name]; dup {
			t.Errorf("%s listed twice", r.Name)
		}
		byName[r.Name] = r
		if len(r.Strategy.Columns) > 0 && r.Strategy.Row == nil {
			t.Errorf("%s has columns but no Row", r.Name)
		}
		for _, c := range r.Strategy.Columns {
			if c.Description == "" {
				t.Errorf("%s: column %s has no description", r.Name, c.Name)
			}
		}
	}
	for name, want := range map[string]struct {
		short, prefix string
		namespaced    bool
	}{
		"pods": {"po", "", true}, "services": {"svc", "services/specs", true}, "endpoints": {"ep", "services/endpoints", true},
		"nodes": {"no", "minions", false}, "namespaces": {"ns", "", false}, "persistentvolumes": {"pv", "", false},
		"persistentvolumeclaims": {"pvc", "", true}, "events": {"ev", "", true}, "limitranges": {"limits", "", true},
		"resourcequotas": {"quota", "", true}, "serviceaccounts": {"sa", "", true},
	} {
		r, ok := byName[name]
		switch {
		case !ok:
			t.Errorf("%s missing", name)
		case r.ShortNames[0] != want.short || r.StoragePrefix != want.prefix || r.Namespaced != want.namespaced:
			t.Errorf("%s: short %v prefix %q namespaced %v", name, r.ShortNames, r.StoragePrefix, r.Namespaced)
		}
	}
	for _, name := range []string{"pods", "services"} {
		if c := byName[name].Categories; len(c) != 1 || c[0] != "all" {
			t.Errorf("%s categories = %v", name, c)
		}
	}
}

// TestRowsMatchColumns renders a zero object of every core kind and checks
// that each row has one cell per column.
func TestRowsMatchColumns(t *testing.T) {
	objs := map[string]runtime.Object{
		"configmaps": &corev1.ConfigMap{}, "endpoints": &corev1.Endpoints{}, "events": &corev1.Event{},
		"limitranges": &corev1.LimitRange{}, "namespaces": &corev1.Namespace{}, "nodes": &corev1.Node{},
		"persistentvolumeclaims": &corev1.PersistentVolumeClaim{}, "persistentvolumes": &corev1.PersistentVolume{},
		"pods": &corev1.Pod{}, "podtemplates": &corev1.PodTemplate{}, "resourcequotas": &corev1.ResourceQuota{},
		"secrets": &corev1.Secret{}, "serviceaccounts": &corev1.ServiceAccount{}, "services": &corev1.Service{},
	}
	for _, r := range coreResources() {
		obj, ok := objs[r.Name]
		if !ok {
			t.Errorf("no test object for %s", r.Name)
			continue
		}
		if got := len(r.Strategy.Row(obj)); got != len(r.Strategy.Columns) {
			t.Errorf("%s: %d cells for %d columns", r.Name, got, len(r.Strategy.Columns))
		}
	}
}

func TestNamespaceCreate(t *testing.T) {
	st := namespaces().Strategy
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}, Status: corev1.NamespaceStatus{Phase: "Terminating"}}
	st.Default(ns)
	st.PrepareForCreate(ns)
	if ns.Status.Phase != corev1.NamespaceActive || len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != "kubernetes" {
		t.Errorf("namespace = %+v", ns)
	}
	if ns.Labels["kubernetes.io/metadata.name"] != "team" {
		t.Errorf("labels = %v", ns.Labels)
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, "custom")
	if got := errorStrings(st.Validate(ns)); len(got) != 1 || got[0] != "FieldValueInvalid spec.finalizers[1]" {
		t.Errorf("errors = %v", got)
	}
}

func TestSecrets(t *testing.T) {
	st := secrets().Strategy
	s := &corev1.Secret{StringData: map[string]string{"password": "x"}}
	st.Default(s)
	if s.Type != corev1.SecretTypeOpaque || string(s.Data["password"]) != "x" || s.StringData != nil {
		t.Errorf("defaulted secret = %+v", s)
	}

	tls := &corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil}}
	if got := errorStrings(st.Validate(tls)); strings.Join(got, ";") != "FieldValueRequired data[tls.key]" {
		t.Errorf("tls errors = %v", got)
	}
	dcj := &corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte("{")}}
	if got := errorStrings(st.Validate(dcj)); strings.Join(got, ";") != "FieldValueInvalid data[.dockerconfigjson]" {
		t.Errorf("dockerconfigjson errors = %v", got)
	}
	big := &corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": make([]byte, maxDataSize+1)}}
	if got := errorStrings(st.Validate(big)); strings.Join(got, ";") != "FieldValueTooLong data" {
		t.Errorf("size errors = %v", got)
	}

	old := &corev1.Secret{Type: corev1.SecretTypeOpaque, Immutable: ptr.To(true), Data: map[string][]byte{"a": []byte("1")}}
	n := old.DeepCopy()
	n.Type = "custom"
	n.Data["a"] = []byte("2")
	if got := errorStrings(st.ValidateUpdate(n, old)); strings.Join(got, ";") != "FieldValueInvalid type;FieldValueForbidden data" {
		t.Errorf("update errors = %v", got)
	}
}

func TestEventRowAndFields(t *testing.T) {
	e := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "default", FieldPath: "spec.containers{c}"},
		Reason:         "Pulled", Type: "Normal", Message: "done ", Source: corev1.EventSource{Component: "kubelet", Host: "n1"},
		FirstTimestamp: metav1.NewTime(time.Now().Add(-time.Hour)),
	}
	row := eventRow(e)
	want := []interface{}{"60m", "Normal", "Pulled", "pod/web", "spec.containers{c}", "kubelet, n1", "done", "60m", int64(1), "web.1"}
	for i := range want {
		if row[i] != want[i] {
			t.Errorf("cell %d = %v, want %v", i, row[i], want[i])
		}
	}
	f := eventFields(e)
	if f["involvedObject.name"] != "web" || f["source"] != "kubelet" || f["type"] != "Normal" {
		t.Errorf("fields = %v", f)
	}
	e.Namespace = "other"
	if got := errorStrings(validateEvent(e)); strings.Join(got, ";") != "FieldValueInvalid involvedObject.namespace" {
		t.Errorf("errors = %v", got)
	}
}

func TestClaimUpdate(t *testing.T) {
	old := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}},
	}}
	bind := old.DeepCopy()
	bind.Spec.VolumeName = "pv1"
	if errs := validateClaimUpdate(bind, old); len(errs) != 0 {
		t.Errorf("setting volumeName: %v", errs)
	}
	grow := old.DeepCopy()
	grow.Spec.Resources.Requests["storage"] = resource.MustParse("2Gi")
	if got := errorStrings(validateClaimUpdate(grow, old)); strings.Join(got, ";") != "FieldValueForbidden spec" {
		t.Errorf("growing an unbound claim: %v", got)
	}
	old.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: corev1.ResourceList{"storage": resource.MustParse("1Gi")}}
	if errs := validateClaimUpdate(grow, old); len(errs) != 0 {
		t.Errorf("growing a bound claim: %v", errs)
	}
	shrink := old.DeepCopy()
	shrink.Spec.Resources.Requests["storage"] = resource.MustParse("512Mi")
	if got := errorStrings(validateClaimUpdate(shrink, old)); strings.Join(got, ";") != "FieldValueForbidden spec.resources.requests.storage" {
		t.Errorf("shrinking: %v", got)
	}
}

func TestPersistentVolumeValidation(t *testing.T) {
	pv := &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{
		Capacity:    corev1.ResourceList{"storage": resource.MustParse("1Gi")},
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
	}}
	st := persistentVolumes().Strategy
	st.Default(pv)
	st.PrepareForCreate(pv)
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain || pv.Status.Phase != corev1.VolumePending {
		t.Errorf("pv = %+v", pv)
	}
	if got := errorStrings(st.Validate(pv)); strings.Join(got, ";") != "FieldValueRequired spec" {
		t.Errorf("errors = %v", got)
	}
	pv.Spec.HostPath = &corev1.HostPathVolumeSource{Path: "/data"}
	pv.Spec.NFS = &corev1.NFSVolumeSource{Server: "s", Path: "/"}
	if got := errorStrings(st.Validate(pv)); strings.Join(got, ";") != "FieldValueForbidden spec.nfs" {
		t.Errorf("errors = %v", got)
	}
	pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "default", Name: "data"}
	pv.Spec.AccessModes = append(pv.Spec.AccessModes, corev1.ReadWriteMany)
	row := persistentVolumeRow(pv)
	if row[1] != "1Gi" || row[2] != "RWO,RWX" || row[3] != "Retain" || row[4] != "Pending" || row[5] != "default/data" {
		t.Errorf("row = %v", row)
	}
}

func TestLimitRange(t *testing.T) {
	lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer,
		Max:  corev1.ResourceList{"cpu": resource.MustParse("1")},
		Min:  corev1.ResourceList{"cpu": resource.MustParse("2")},
	}}}}
	st := limitRanges().Strategy
	st.Default(lr)
	if d := lr.Spec.Limits[0].Default["cpu"]; d.String() != "1" {
		t.Errorf("default = %v", lr.Spec.Limits[0].Default)
	}
	got := errorStrings(st.Validate(lr))
	if !strings.Contains(strings.Join(got, ";"), "FieldValueInvalid spec.limits[0].min[cpu]") {
		t.Errorf("errors = %v", got)
	}
}

func TestQuotaRow(t *testing.T) {
	q := &corev1.ResourceQuota{Status: corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("2"), "limits.cpu": resource.MustParse("4")},
		Used: corev1.ResourceList{"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("500m")},
	}}
	row := quotaRow(q)
	if row[2] != "pods: 3/10, requests.cpu: 500m/2" || row[3] != "limits.cpu: 0/4" {
		t.Errorf("row = %v", row)
	}
	bad := &corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"widgets": resource.MustParse("1"), "pods": resource.MustParse("1500m")}}
	if got := errorStrings(validateQuotaSpec(bad)); len(got) != 2 {
		t.Errorf("errors = %v", got)
	}
}

func TestEndpointsColumn(t *testing.T) {
	ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}, {IP: "10.0.0.3"}, {IP: "10.0.0.4"}},
		Ports:     []corev1.EndpointPort{{Port: 80}},
	}}}
	if got := formatEndpoints(ep); got != "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..." {
		t.Errorf("endpoints = %q", got)
	}
	if got := formatEndpoints(&corev1.Endpoints{}); got != "<none>" {
		t.Errorf("empty endpoints = %q", got)
	}
	ep.Subsets[0].Addresses[0].IP = "127.0.0.1"
	endpoints().Strategy.Default(ep)
	if got := errorStrings(validateEndpoints(ep)); strings.Join(got, ";") != "FieldValueInvalid subsets[0].addresses[0].ip" {
		t.Errorf("errors = %v", got)
	}
}

func TestEventSourceFallsBackPerField(t *testing.T) {
	for _, c := range []struct {
		src            corev1.EventSource
		ctrl, instance string
		want           string
	}{
		{corev1.EventSource{Component: "kubelet", Host: "n1"}, "c", "i", "kubelet, n1"},
		{corev1.EventSource{Component: "kubelet"}, "c", "i", "kubelet, i"},
		{corev1.EventSource{Host: "n1"}, "c", "i", "c, n1"},
		{corev1.EventSource{}, "c", "", "c"},
	} {
		e := &corev1.Event{Source: c.src, ReportingController: c.ctrl, ReportingInstance: c.instance}
		if got := eventSource(e); got != c.want {
			t.Errorf("eventSource(%+v, %q, %q) = %q, want %q", c.src, c.ctrl, c.instance, got, c.want)
		}
	}
}

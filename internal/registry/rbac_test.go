package registry

import (
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestRoles(t *testing.T) {
	roles := groupResource(t, "rbac.authorization.k8s.io/v1", "roles")
	clusterRoles := groupResource(t, "rbac.authorization.k8s.io/v1", "clusterroles")
	read := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	health := rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}
	for name, c := range map[string]struct {
		r     Resource
		rules []rbacv1.PolicyRule
		want  []string
	}{
		"role":             {roles, []rbacv1.PolicyRule{read}, nil},
		"no verbs":         {roles, []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}}}, []string{"rules[0].verbs: Required value"}},
		"no groups":        {roles, []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}}, []string{"rules[0].apiGroups: Required value"}},
		"no resources":     {roles, []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}}}, []string{"rules[0].resources: Required value"}},
		"namespaced URL":   {roles, []rbacv1.PolicyRule{health}, []string{"rules[0].nonResourceURLs: Invalid value"}},
		"cluster URL":      {clusterRoles, []rbacv1.PolicyRule{health, read}, nil},
		"URL and resource": {clusterRoles, []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/x"}, Resources: []string{"pods"}}}, []string{"rules[0].nonResourceURLs: Invalid value"}},
	} {
		var obj runtime.Object = &rbacv1.Role{Rules: c.rules}
		if c.r.Name == "clusterroles" {
			obj = &rbacv1.ClusterRole{Rules: c.rules}
		}
		checkErrs(t, name, c.r.Strategy.Validate(obj), c.want...)
	}
	agg := &rbacv1.ClusterRole{AggregationRule: &rbacv1.AggregationRule{}}
	checkErrs(t, "empty aggregation", clusterRoles.Strategy.Validate(agg), "aggregationRule.clusterRoleSelectors: Required value")

	if msgs := roles.ValidName("system:controller:job", false); len(msgs) != 0 {
		t.Errorf("colon in role name: %v", msgs)
	}
	if msgs := roles.ValidName("a/b", false); len(msgs) == 0 {
		t.Error("slash in role name accepted")
	}
	created := metav1.NewTime(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC))
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader", CreationTimestamp: created}}
	if row := roles.Strategy.Row(role); row[0] != "reader" || row[1] != "2025-03-04T05:06:07Z" {
		t.Errorf("row = %v", row)
	}
}

func TestRoleBindings(t *testing.T) {
	r := groupResource(t, "rbac.authorization.k8s.io/v1", "rolebindings")
	cr := groupResource(t, "rbac.authorization.k8s.io/v1", "clusterrolebindings")
	mk := func(kind string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "read", Namespace: "default"},
			RoleRef: rbacv1.RoleRef{Kind: kind, Name: "reader"}, Subjects: subjects}
	}
	alice := rbacv1.Subject{Kind: rbacv1.UserKind, Name: "alice"}
	sa := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "builder", Namespace: "ci"}

	b := mk("Role", alice, sa)
	checkErrs(t, "valid", strategyCreate(r, b))
	if b.RoleRef.APIGroup != rbacv1.GroupName || b.Subjects[0].APIGroup != rbacv1.GroupName || b.Subjects[1].APIGroup != "" {
		t.Errorf("defaults: %+v", b)
	}
	row := r.Strategy.Row(b)
	if row[1] != "Role/reader" || row[3] != "alice" || row[4] != "" || row[5] != "ci/builder" {
		t.Errorf("row = %v", row)
	}
	checkErrs(t, "bad kind", strategyCreate(r, mk("Group")), "roleRef.kind: Unsupported value")
	checkErrs(t, "bad subject", strategyCreate(r, mk("Role", rbacv1.Subject{Kind: "Robot", Name: "r2"})), "subjects[0].kind: Unsupported value")
	checkErrs(t, "no name", strategyCreate(r, mk("Role", rbacv1.Subject{Kind: rbacv1.UserKind})), "subjects[0].name: Required value")

	changed := b.DeepCopy()
	changed.RoleRef.Kind = "ClusterRole"
	checkErrs(t, "roleRef change", strategyUpdate(r, changed, b), "roleRef: Invalid value")
	more := b.DeepCopy()
	more.Subjects = append(more.Subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "devs"})
	checkErrs(t, "subjects change", strategyUpdate(r, more, b))

	crb := &rbacv1.ClusterRoleBinding{RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "builder"}}}
	checkErrs(t, "cluster binding", strategyCreate(cr, crb), "roleRef.kind: Unsupported value", "subjects[0].namespace: Required value")
}

package test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"skiff.dev/testenv"
)

// resourceCase is one served kind, driven through kubectl the way a user
// would: apply, apply again, diff, server-side apply, get, get -o wide,
// get -o yaml, describe, explain, replace (what kubectl edit does) and
// delete. Its manifest lives in testdata/resources.
type resourceCase struct {
	file string
	// resource is what kubectl get takes; ref is how kubectl names the
	// object in its messages ("deployment.apps/web").
	resource, ref string
	// header is the table's header line, upstream's columns for v1.34;
	// wide adds the -o wide columns at the end, and wideAll is the whole
	// -o wide header where they go in between.
	header, wide, wideAll []string
	// explain is the kubectl explain arguments, when not just resource.
	explain []string
	// row is text the table row shows, when not the name.
	row string
	// again is what applying the manifest a second time reports, when
	// upstream cannot report "unchanged" for it (the case says why).
	again string
	// ns is the namespace, when not resNS.
	ns string
	// probe is a jsonpath and the value it must print: what upstream's
	// server fills in.
	probe [2]string
}

// resNS is the namespace the namespaced cases live in; event manifests
// name it in their involved object. LimitRanges and ResourceQuotas get
// their own, so that they constrain nothing else.
const resNS, policyNS = "res", "res-policy"

var (
	appsWide      = []string{"CONTAINERS", "IMAGES", "SELECTOR"}
	bindWide      = []string{"USERS", "GROUPS", "SERVICEACCOUNTS"}
	eventCols     = []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}
	eventWide     = []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"}
	createdAtCols = []string{"NAME", "CREATED AT"}
)

var resourceCases = []resourceCase{
	{file: "namespace.yaml", resource: "namespaces", ref: "namespace/res-team", header: cols("NAME", "STATUS", "AGE"),
		probe: [2]string{`{.metadata.labels.kubernetes\.io/metadata\.name} {.spec.finalizers} {.status.phase}`, `res-team ["kubernetes"] Active`}},
	{file: "pod.yaml", resource: "pods", ref: "pod/web", header: cols("NAME", "READY", "STATUS", "RESTARTS", "AGE"),
		wide: cols("IP", "NODE", "NOMINATED NODE", "READINESS GATES")},
	{file: "node.yaml", resource: "nodes", ref: "node/node-a", header: cols("NAME", "STATUS", "ROLES", "AGE", "VERSION"),
		wide: cols("INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME")},
	{file: "service.yaml", resource: "services", ref: "service/web", header: cols("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"),
		wide: cols("SELECTOR")},
	{file: "endpoints.yaml", resource: "endpoints", ref: "endpoints/external-db", header: cols("NAME", "ENDPOINTS", "AGE")},
	{file: "configmap.yaml", resource: "configmaps", ref: "configmap/settings", header: cols("NAME", "DATA", "AGE")},
	{file: "secret.yaml", resource: "secrets", ref: "secret/creds", header: cols("NAME", "TYPE", "DATA", "AGE")},
	{file: "serviceaccount.yaml", resource: "serviceaccounts", ref: "serviceaccount/builder", header: cols("NAME", "SECRETS", "AGE")},
	{file: "event.yaml", resource: "events", ref: "event/web.pulled", header: eventCols, wideAll: eventWide, row: "Pulled"},
	{file: "event-v1.yaml", resource: "events.v1.events.k8s.io", ref: "event.events.k8s.io/web.scheduled", header: eventCols,
		wideAll: eventWide, row: "Scheduled", explain: []string{"events", "--api-version=events.k8s.io/v1"}},
	{file: "persistentvolume.yaml", resource: "persistentvolumes", ref: "persistentvolume/pv-local",
		header: cols("NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"),
		wide:   cols("VOLUMEMODE")},
	{file: "persistentvolumeclaim.yaml", resource: "persistentvolumeclaims", ref: "persistentvolumeclaim/data",
		header: cols("NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"),
		wide:   cols("VOLUMEMODE")},
	{file: "limitrange.yaml", resource: "limitranges", ref: "limitrange/defaults", header: createdAtCols, ns: policyNS},
	{file: "resourcequota.yaml", resource: "resourcequotas", ref: "resourcequota/counts", header: cols("NAME", "AGE", "REQUEST", "LIMIT"), ns: policyNS},
	{file: "podtemplate.yaml", resource: "podtemplates", ref: "podtemplate/worker", header: cols("NAME", "CONTAINERS", "IMAGES", "POD LABELS")},
	{file: "deployment.yaml", resource: "deployments", ref: "deployment.apps/web", header: cols("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"),
		wide: appsWide},
	{file: "replicaset.yaml", resource: "replicasets", ref: "replicaset.apps/cache", header: cols("NAME", "DESIRED", "CURRENT", "READY", "AGE"),
		wide: appsWide},
	// The server defaults volumeMode and status.phase inside
	// volumeClaimTemplates, an atomic list, so the three-way patch always
	// replaces the list.
	{file: "statefulset.yaml", resource: "statefulsets", ref: "statefulset.apps/db", header: cols("NAME", "READY", "AGE"),
		wide: cols("CONTAINERS", "IMAGES"), again: "configured",
		probe: [2]string{"{.spec.volumeClaimTemplates[0].apiVersion}/{.spec.volumeClaimTemplates[0].kind}", "v1/PersistentVolumeClaim"}},
	{file: "daemonset.yaml", resource: "daemonsets", ref: "daemonset.apps/agent",
		header: cols("NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"), wide: appsWide},
	{file: "controllerrevision.yaml", resource: "controllerrevisions", ref: "controllerrevision.apps/db-7f9c",
		header: cols("NAME", "CONTROLLER", "REVISION", "AGE")},
	{file: "job.yaml", resource: "jobs", ref: "job.batch/migrate", header: cols("NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"), wide: appsWide,
		probe: [2]string{`{.metadata.labels.job-name} {.spec.template.metadata.labels.batch\.kubernetes\.io/job-name}`, "migrate migrate"}},
	{file: "cronjob.yaml", resource: "cronjobs", ref: "cronjob.batch/report",
		header: cols("NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"), wide: appsWide},
	{file: "hpa-v2.yaml", resource: "horizontalpodautoscalers", ref: "horizontalpodautoscaler.autoscaling/web",
		header: cols("NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE")},
	{file: "hpa-v1.yaml", resource: "horizontalpodautoscalers.v1.autoscaling", ref: "horizontalpodautoscaler.autoscaling/cache",
		header:  cols("NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"),
		explain: []string{"horizontalpodautoscalers", "--api-version=autoscaling/v1"}},
	// spec.selector has patchStrategy replace: the three-way patch always
	// carries it.
	{file: "poddisruptionbudget.yaml", resource: "poddisruptionbudgets", ref: "poddisruptionbudget.policy/web",
		header: cols("NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"), again: "configured"},
	{file: "lease.yaml", resource: "leases", ref: "lease.coordination.k8s.io/controller-leader", header: cols("NAME", "HOLDER", "AGE")},
	{file: "endpointslice.yaml", resource: "endpointslices", ref: "endpointslice.discovery.k8s.io/web-abc12",
		header: cols("NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE")},
	{file: "ingress.yaml", resource: "ingresses", ref: "ingress.networking.k8s.io/web", header: cols("NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE")},
	{file: "ingressclass.yaml", resource: "ingressclasses", ref: "ingressclass.networking.k8s.io/skiff",
		header: cols("NAME", "CONTROLLER", "PARAMETERS", "AGE")},
	{file: "networkpolicy.yaml", resource: "networkpolicies", ref: "networkpolicy.networking.k8s.io/web-allow", header: cols("NAME", "POD-SELECTOR", "AGE")},
	{file: "storageclass.yaml", resource: "storageclasses", ref: "storageclass.storage.k8s.io/fast",
		header: cols("NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE")},
	{file: "role.yaml", resource: "roles", ref: "role.rbac.authorization.k8s.io/pod-reader", header: createdAtCols},
	{file: "rolebinding.yaml", resource: "rolebindings", ref: "rolebinding.rbac.authorization.k8s.io/read-pods",
		header: cols("NAME", "ROLE", "AGE"), wide: bindWide},
	{file: "clusterrole.yaml", resource: "clusterroles", ref: "clusterrole.rbac.authorization.k8s.io/node-viewer", header: createdAtCols},
	{file: "clusterrolebinding.yaml", resource: "clusterrolebindings", ref: "clusterrolebinding.rbac.authorization.k8s.io/ops-view-nodes",
		header: cols("NAME", "ROLE", "AGE"), wide: bindWide},
	// globalDefault: false is omitted from the stored object (omitempty),
	// so the three-way patch always sets it again.
	{file: "priorityclass.yaml", resource: "priorityclasses", ref: "priorityclass.scheduling.k8s.io/high",
		header: cols("NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"), again: "configured"},
}

func cols(cols ...string) []string { return cols }

func TestResources(t *testing.T) {
	// The API's own behaviour per resource: only the namespace loop runs
	// (no scheduler either: it would write an unschedulable pod's status),
	// no loop writes status or makes pods meanwhile, so kubectl's output
	// is the same on every run (a Deployment's status update between two
	// applies would make kubectl's last-applied migration report a
	// conflict).
	env := testenv.Start(t, testenv.Options{Controllers: []string{"namespace-controller"}, WithoutScheduler: true})
	k := newKubectl(t, env)
	k.run("create", "namespace", resNS)
	k.run("create", "namespace", policyNS)
	sub := func(t *testing.T, name string, f func(*testing.T, *kubectl)) {
		t.Run(name, func(t *testing.T) { f(t, &kubectl{t: t, kubeconfig: k.kubeconfig}) })
	}
	t.Run("kinds", func(t *testing.T) {
		for _, c := range resourceCases {
			sub(t, strings.TrimSuffix(c.file, ".yaml"), func(t *testing.T, k *kubectl) {
				t.Parallel()
				walkResource(t, k, c)
			})
		}
	})
	sub(t, "get-all", testGetAll)
	sub(t, "api-resources", testAPIResources)
	sub(t, "api-versions", testAPIVersions)
	sub(t, "hpa-v1-from-v2", testHPAConversion)
	sub(t, "events-v1-from-core", testEventsAcrossGroups)
	sub(t, "create-helpers", testCreateHelpers)
}

// walkResource takes one kind through a user's life cycle of it.
func walkResource(t *testing.T, k *kubectl, c resourceCase) {
	file := resManifest(c.file)
	var manifest map[string]any
	if err := yaml.Unmarshal(mustReadFile(t, file), &manifest); err != nil {
		t.Fatal(err)
	}
	name := c.ref[strings.Index(c.ref, "/")+1:]
	ns := cmp.Or(c.ns, resNS)
	checkArgs := func(args []string, wants ...string) string {
		t.Helper()
		out, err := k.try(append([]string{"-n", ns}, args...)...)
		what := strings.Join(args, " ")
		if err != nil {
			t.Errorf("kubectl %s: %v\n%s", what, err, out)
			return out
		}
		contains(t, what, out, wants...)
		return out
	}
	check := func(what string, wants ...string) string {
		t.Helper()
		return checkArgs(strings.Fields(what), wants...)
	}

	contains(t, "apply", k.run("-n", ns, "apply", "-f", file), c.ref+" created")
	check("apply -f "+file, c.ref+" "+cmp.Or(c.again, "unchanged"))
	check("diff -f " + file)
	// Moving to server-side apply takes over the client-side apply's
	// fields (--force-conflicts: atomic lists the server defaults into
	// conflict); applying again must keep the object valid.
	for _, flags := range []string{"--force-conflicts ", ""} {
		out := check("apply --server-side "+flags+"-f "+file, c.ref+" serverside-applied")
		if strings.Contains(out, "failed") {
			t.Errorf("apply --server-side %s: %s", flags, out)
		}
	}
	if c.probe[0] != "" {
		if got := checkArgs([]string{"get", c.resource, name, "-o", "jsonpath=" + c.probe[0]}); got != c.probe[1] {
			t.Errorf("jsonpath %s: %q, want %q", c.probe[0], got, c.probe[1])
		}
	}

	out := check("get "+c.resource, cmp.Or(c.row, name))
	if got := tableHeader(out); !slices.Equal(got, c.header) {
		t.Errorf("get %s: header %q, want %q", c.resource, got, c.header)
	}
	out = check("get "+c.resource+" -o wide", name)
	want := append(slices.Clone(c.header), c.wide...)
	if c.wideAll != nil {
		want = c.wideAll
	}
	if got := tableHeader(out); !slices.Equal(got, want) {
		t.Errorf("get %s -o wide: header %q, want %q", c.resource, got, want)
	}

	live := getObject(t, k, ns, c.resource, name)
	if live != nil {
		for _, d := range subsetDiff(manifest, live, "") {
			t.Errorf("get -o yaml lost the manifest's %s", d)
		}
	}

	check("describe "+c.resource+" "+name, "Name:", name)
	explain := c.resource
	if c.explain != nil {
		explain = strings.Join(c.explain, " ")
	}
	gv := strings.Split(manifest["apiVersion"].(string), "/")
	out = strings.Join(strings.Fields(check("explain "+explain)), " ")
	contains(t, "explain", out, "KIND: "+manifest["kind"].(string), "VERSION: "+gv[len(gv)-1], "DESCRIPTION:")

	if live != nil {
		// kubectl edit: change the live object and put it back whole.
		meta := live["metadata"].(map[string]any)
		labels, _ := meta["labels"].(map[string]any)
		if labels == nil {
			labels = map[string]any{}
		}
		labels["edited"] = "yes"
		meta["labels"] = labels
		edited := filepath.Join(t.TempDir(), "edited.yaml")
		b, _ := yaml.Marshal(live)
		if err := os.WriteFile(edited, b, 0o600); err != nil {
			t.Fatal(err)
		}
		check("replace -f "+edited, c.ref+" replaced")
		if got := check("get " + c.resource + " " + name + " -o jsonpath={.metadata.labels.edited}"); got != "yes" {
			t.Errorf("after replace: label edited=%q", got)
		}
	}

	check("delete -f "+file, fmt.Sprintf("%q deleted", name))
	if out, err := k.try("-n", ns, "get", c.resource, name); err == nil || !strings.Contains(out, "NotFound") {
		t.Errorf("get after delete: %v\n%s", err, out)
	}
}

// getObject reads one object as kubectl get -o yaml prints it.
func getObject(t *testing.T, k *kubectl, ns, resource, name string) map[string]any {
	t.Helper()
	out, err := k.try("-n", ns, "get", resource, name, "-o", "yaml")
	if err != nil {
		t.Errorf("get -o yaml: %v\n%s", err, out)
		return nil
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(dropWarnings(out)), &obj); err != nil {
		t.Errorf("get -o yaml: %v\n%s", err, out)
		return nil
	}
	return obj
}

// subsetDiff lists the paths where want has a value that got lacks or
// differs on; values only in got (defaults, status) are fine.
func subsetDiff(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %v", path, got)}
		}
		var diffs []string
		for key, v := range w {
			diffs = append(diffs, subsetDiff(v, g[key], path+"."+key)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: got %v", path, got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, subsetDiff(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return diffs
	default:
		// omitempty drops false, 0 and "" from what the server returns.
		if got == nil && reflect.ValueOf(want).IsZero() {
			return nil
		}
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: %v, got %v", path, want, got)}
		}
		return nil
	}
}

var columnGap = regexp.MustCompile(`\s{2,}`)

// tableHeader splits the first line of kubectl get's output into column
// names; kubectl pads columns with at least three spaces, and some names
// hold one ("LAST SEEN").
func tableHeader(out string) []string {
	line, _, _ := strings.Cut(dropWarnings(out), "\n")
	return columnGap.Split(strings.TrimSpace(line), -1)
}

// dropWarnings removes the Warning: lines the server's warnings add.
func dropWarnings(out string) string {
	var keep []string
	for _, line := range strings.SplitAfter(out, "\n") {
		if !strings.HasPrefix(line, "Warning: ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func resManifest(name string) string { return filepath.Join("testdata", "resources", name) }

// testGetAll checks that get all lists the kinds in the "all" category,
// and nothing else.
func testGetAll(t *testing.T, k *kubectl) {
	k.run("create", "namespace", "every")
	args := []string{"-n", "every", "apply"}
	for _, f := range []string{"pod", "service", "deployment", "replicaset", "statefulset", "daemonset", "job", "cronjob", "hpa-v2", "configmap"} {
		args = append(args, "-f", resManifest(f+".yaml"))
	}
	k.run(args...)
	out := k.run("-n", "every", "get", "all")
	contains(t, "get all", out, "pod/web", "service/web", "deployment.apps/web", "replicaset.apps/cache", "statefulset.apps/db",
		"daemonset.apps/agent", "job.batch/migrate", "cronjob.batch/report", "horizontalpodautoscaler.autoscaling/web")
	if strings.Contains(out, "configmap") {
		t.Errorf("get all lists configmaps:\n%s", out)
	}
	contains(t, "delete ns", k.run("delete", "namespace", "every", "--timeout=60s"), `namespace "every" deleted`)
}

// apiResourceRow is one row of kubectl api-resources.
type apiResourceRow struct{ short, version, namespaced, kind string }

var wantAPIResources = map[string]apiResourceRow{
	"configmaps":               {"cm", "v1", "true", "ConfigMap"},
	"endpoints":                {"ep", "v1", "true", "Endpoints"},
	"events":                   {"ev", "v1", "true", "Event"},
	"limitranges":              {"limits", "v1", "true", "LimitRange"},
	"namespaces":               {"ns", "v1", "false", "Namespace"},
	"nodes":                    {"no", "v1", "false", "Node"},
	"persistentvolumeclaims":   {"pvc", "v1", "true", "PersistentVolumeClaim"},
	"persistentvolumes":        {"pv", "v1", "false", "PersistentVolume"},
	"pods":                     {"po", "v1", "true", "Pod"},
	"podtemplates":             {"", "v1", "true", "PodTemplate"},
	"resourcequotas":           {"quota", "v1", "true", "ResourceQuota"},
	"secrets":                  {"", "v1", "true", "Secret"},
	"serviceaccounts":          {"sa", "v1", "true", "ServiceAccount"},
	"services":                 {"svc", "v1", "true", "Service"},
	"controllerrevisions":      {"", "apps/v1", "true", "ControllerRevision"},
	"daemonsets":               {"ds", "apps/v1", "true", "DaemonSet"},
	"deployments":              {"deploy", "apps/v1", "true", "Deployment"},
	"replicasets":              {"rs", "apps/v1", "true", "ReplicaSet"},
	"statefulsets":             {"sts", "apps/v1", "true", "StatefulSet"},
	"events.events.k8s.io":     {"ev", "events.k8s.io/v1", "true", "Event"},
	"selfsubjectaccessreviews": {"", "authorization.k8s.io/v1", "false", "SelfSubjectAccessReview"},
	"horizontalpodautoscalers": {"hpa", "autoscaling/v2", "true", "HorizontalPodAutoscaler"},
	"cronjobs":                 {"cj", "batch/v1", "true", "CronJob"},
	"jobs":                     {"", "batch/v1", "true", "Job"},
	"ingressclasses":           {"", "networking.k8s.io/v1", "false", "IngressClass"},
	"ingresses":                {"ing", "networking.k8s.io/v1", "true", "Ingress"},
	"networkpolicies":          {"netpol", "networking.k8s.io/v1", "true", "NetworkPolicy"},
	"poddisruptionbudgets":     {"pdb", "policy/v1", "true", "PodDisruptionBudget"},
	"clusterrolebindings":      {"", "rbac.authorization.k8s.io/v1", "false", "ClusterRoleBinding"},
	"clusterroles":             {"", "rbac.authorization.k8s.io/v1", "false", "ClusterRole"},
	"rolebindings":             {"", "rbac.authorization.k8s.io/v1", "true", "RoleBinding"},
	"roles":                    {"", "rbac.authorization.k8s.io/v1", "true", "Role"},
	"storageclasses":           {"sc", "storage.k8s.io/v1", "false", "StorageClass"},
	"priorityclasses":          {"pc", "scheduling.k8s.io/v1", "false", "PriorityClass"},
	"leases":                   {"", "coordination.k8s.io/v1", "true", "Lease"},
	"endpointslices":           {"", "discovery.k8s.io/v1", "true", "EndpointSlice"},
}

func testAPIResources(t *testing.T, k *kubectl) {
	out := dropWarnings(k.run("api-resources"))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	// Cut the rows at the header's column starts: SHORTNAMES may be empty.
	header := lines[0]
	var starts []int
	for _, col := range []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"} {
		starts = append(starts, strings.Index(header, col))
	}
	got := map[string]apiResourceRow{}
	for _, line := range lines[1:] {
		cell := func(i int) string {
			end := len(line)
			if i+1 < len(starts) {
				end = min(starts[i+1], len(line))
			}
			return strings.TrimSpace(line[min(starts[i], len(line)):end])
		}
		name := cell(0)
		if g := cell(2); strings.Contains(g, "/") && name == "events" {
			name += "." + strings.Split(g, "/")[0]
		}
		got[name] = apiResourceRow{cell(1), cell(2), cell(3), cell(4)}
	}
	for name, want := range wantAPIResources {
		if got[name] != want {
			t.Errorf("api-resources %s: got %+v, want %+v", name, got[name], want)
		}
	}
	for name := range got {
		if _, ok := wantAPIResources[name]; !ok {
			t.Errorf("api-resources lists %s (%+v), which the test does not know", name, got[name])
		}
	}
}

func testAPIVersions(t *testing.T, k *kubectl) {
	got := strings.Fields(dropWarnings(k.run("api-versions")))
	want := []string{"apps/v1", "authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2", "batch/v1",
		"coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1", "networking.k8s.io/v1", "policy/v1",
		"rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1", "v1"}
	if !slices.Equal(got, want) {
		t.Errorf("api-versions:\n got %q\nwant %q", got, want)
	}
}

// testHPAConversion reads an HPA created as autoscaling/v2 through
// autoscaling/v1.
func testHPAConversion(t *testing.T, k *kubectl) {
	k.run("-n", resNS, "apply", "-f", resManifest("hpa-v2.yaml"))
	defer k.run("-n", resNS, "delete", "-f", resManifest("hpa-v2.yaml"))
	out := k.run("get", "--raw", "/apis/autoscaling/v1/namespaces/"+resNS+"/horizontalpodautoscalers/web")
	var hpa struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			MinReplicas int `json:"minReplicas"`
			MaxReplicas int `json:"maxReplicas"`
			TargetCPU   int `json:"targetCPUUtilizationPercentage"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(out), &hpa); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if hpa.APIVersion != "autoscaling/v1" || hpa.Kind != "HorizontalPodAutoscaler" || hpa.Spec.MinReplicas != 2 ||
		hpa.Spec.MaxReplicas != 10 || hpa.Spec.TargetCPU != 60 {
		t.Errorf("v1 view of a v2 HPA: %+v\n%s", hpa, out)
	}
}

// testEventsAcrossGroups reads an Event created through core/v1 through
// events.k8s.io/v1.
func testEventsAcrossGroups(t *testing.T, k *kubectl) {
	k.run("-n", resNS, "apply", "-f", resManifest("event.yaml"))
	defer k.run("-n", resNS, "delete", "-f", resManifest("event.yaml"))
	contains(t, "get events.v1.events.k8s.io", k.run("-n", resNS, "get", "events.v1.events.k8s.io"), "Pulled", "pod/web")
	out := k.run("-n", resNS, "get", "events.v1.events.k8s.io", "web.pulled", "-o", "yaml")
	contains(t, "v1 yaml", out, "apiVersion: events.k8s.io/v1", "note: Successfully pulled image", "regarding:",
		"deprecatedCount: 1", "deprecatedSource:")
}

// testCreateHelpers runs the kubectl create subcommands for these kinds.
func testCreateHelpers(t *testing.T, k *kubectl) {
	k.run("create", "namespace", "helpers")
	img := "--image=registry.local/busybox:1"
	for _, c := range []struct {
		args string
		want string
	}{
		{"create serviceaccount sa1", "serviceaccount/sa1 created"},
		{"create job j1 " + img + " -- echo hi", "job.batch/j1 created"},
		{"create cronjob cj1 " + img + " --schedule=*/5_*_*_*_*", "cronjob.batch/cj1 created"},
		{"create job j2 --from=cronjob/cj1", "job.batch/j2 created"},
		{"create role r1 --verb=get,list --resource=pods,pods/log", "role.rbac.authorization.k8s.io/r1 created"},
		{"create rolebinding rb1 --role=r1 --user=alice --serviceaccount=helpers:sa1", "rolebinding.rbac.authorization.k8s.io/rb1 created"},
		{"create clusterrole helpers-cr --verb=get --resource=nodes", "clusterrole.rbac.authorization.k8s.io/helpers-cr created"},
		{"create clusterrolebinding helpers-crb --clusterrole=helpers-cr --group=ops", "clusterrolebinding.rbac.authorization.k8s.io/helpers-crb created"},
		{"create service clusterip svc1 --tcp=80:8080", "service/svc1 created"},
		{"create service externalname ext1 --external-name=db.example.com", "service/ext1 created"},
		{"create priorityclass helpers-pc --value=1000 --description=helpers", "priorityclass.scheduling.k8s.io/helpers-pc created"},
		{"create poddisruptionbudget pdb1 --selector=app=web --min-available=1", "poddisruptionbudget.policy/pdb1 created"},
		{"create ingress ing1 --class=skiff --rule=web.example.com/api*=svc1:80", "ingress.networking.k8s.io/ing1 created"},
		{"create quota q1 --hard=pods=10,services=5", "resourcequota/q1 created"},
	} {
		args := []string{"-n", "helpers"}
		for _, a := range strings.Fields(c.args) {
			args = append(args, strings.ReplaceAll(a, "_", " "))
		}
		if out, err := k.try(args...); err != nil || !strings.Contains(out, c.want) {
			t.Errorf("kubectl %s: %v\n%s", c.args, err, out)
		}
	}
	for _, res := range []string{"clusterrolebinding/helpers-crb", "clusterrole/helpers-cr", "priorityclass/helpers-pc"} {
		k.run("delete", res)
	}
	k.run("delete", "namespace", "helpers", "--wait=false")
}

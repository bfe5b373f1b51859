package test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/testenv"
)

const (
	acceptTable       = "application/json;as=Table;v=v1;g=meta.k8s.io"
	acceptPartialList = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
)

// tableObjects creates a few objects of common kinds and returns, by
// "group/resource", the name of one that a table of all namespaces must
// show.
func tableObjects(t *testing.T, ctx context.Context, env *testenv.Env) map[string]string {
	t.Helper()
	cs := clientset(t, env)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("t-cm", nil), metav1.CreateOptions{}))
	must(cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "t-secret"}}, metav1.CreateOptions{}))
	must(cs.CoreV1().Pods("default").Create(ctx, newPod("t-pod"), metav1.CreateOptions{}))
	must(cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "t-sa"}}, metav1.CreateOptions{}))
	must(cs.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "t-svc"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}, Selector: map[string]string{"app": "t"}}}, metav1.CreateOptions{}))
	must(cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "t-node"}}, metav1.CreateOptions{}))
	must(cs.CoreV1().Events("default").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "t-event"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "t-pod", Namespace: "default"}, Reason: "Test", Type: "Normal",
		Message: "hello"}, metav1.CreateOptions{}))
	must(cs.AppsV1().Deployments("default").Create(ctx, newDeployment("t-deploy"), metav1.CreateOptions{}))
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "t-job"}, Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
	must(cs.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{}))
	return map[string]string{
		"/configmaps": "t-cm", "/secrets": "t-secret", "/pods": "t-pod", "/serviceaccounts": "t-sa",
		"/services": "t-svc", "/nodes": "t-node", "/events": "t-event", "/namespaces": "kube-system",
		"apps/deployments": "t-deploy", "batch/jobs": "t-job", "events.k8s.io/events": "t-event",
	}
}

// upstreamColumns are kube-apiserver v1.34's table columns for common
// resources, by "group/resource".
var upstreamColumns = map[string][]string{
	"/configmaps": {"Name", "Data", "Age"},
	"/secrets":    {"Name", "Type", "Data", "Age"},
	"/pods":       {"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"},
	"/namespaces": {"Name", "Status", "Age"},
	"/services":   {"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"},
	"/nodes": {"Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image",
		"Kernel-Version", "Container-Runtime"},
	"/events":          {"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"},
	"apps/deployments": {"Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"},
	"apps/replicasets": {"Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"},
	"batch/jobs":       {"Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"},
}

// TestTablesForEveryResource: every listable resource in discovery answers
// as=Table with Name as its first column (events: Last Seen first, as
// upstream) and one row per object, with cells matching the columns.
func TestTablesForEveryResource(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	want := tableObjects(t, ctx, env)
	_, lists, err := clientset(t, env).Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	api := raw(t, env)
	checked, seen := 0, map[string]bool{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		base := "/apis/" + list.GroupVersion
		if gv.Group == "" {
			base = "/api/" + gv.Version
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			key := gv.Group + "/" + r.Name
			t.Run(list.GroupVersion+"/"+r.Name, func(t *testing.T) {
				code, body := api.do(http.MethodGet, base+"/"+r.Name, nil, "Accept", acceptTable)
				var table metav1.Table
				if err := json.Unmarshal(body, &table); err != nil || code != http.StatusOK || table.Kind != "Table" {
					t.Fatalf("%d %.300s (%v), want 200 with a Table", code, body, err)
				}
				if len(table.ColumnDefinitions) == 0 {
					t.Fatal("no columns")
				}
				nameCol := slices.IndexFunc(table.ColumnDefinitions, func(c metav1.TableColumnDefinition) bool { return c.Name == "Name" })
				first := table.ColumnDefinitions[0].Name
				switch {
				case r.Name == "events" && (first != "Last Seen" || nameCol < 0):
					t.Errorf("event columns start with %q and have Name at %d, want Last Seen first and a Name", first, nameCol)
				case r.Name != "events" && nameCol != 0:
					t.Errorf("first column %q, want Name", first)
				}
				if cols, ok := upstreamColumns[key]; ok {
					var got []string
					for _, c := range table.ColumnDefinitions {
						got = append(got, c.Name)
					}
					if !slices.Equal(got, cols) {
						t.Errorf("columns %q, want upstream's %q", got, cols)
					}
				}
				if table.ResourceVersion == "" {
					t.Error("the table has no resourceVersion")
				}
				names := map[string]bool{}
				for i, row := range table.Rows {
					if len(row.Cells) != len(table.ColumnDefinitions) {
						t.Errorf("row %d has %d cells for %d columns: %v", i, len(row.Cells), len(table.ColumnDefinitions), row.Cells)
					}
					if nameCol >= 0 && nameCol < len(row.Cells) {
						n, _ := row.Cells[nameCol].(string)
						names[n] = true
					}
					var pm metav1.PartialObjectMetadata
					if err := json.Unmarshal(row.Object.Raw, &pm); err != nil || pm.Kind != "PartialObjectMetadata" || !names[pm.Name] {
						t.Errorf("row %d object: %s (%v), want the row's PartialObjectMetadata", i, row.Object.Raw, err)
					}
				}
				if name, ok := want[key]; ok {
					seen[key] = true
					if !names[name] {
						t.Errorf("no row for %s among %v", name, names)
					}
				}
			})
			checked++
		}
	}
	if checked < 30 {
		t.Errorf("only %d listable resources in discovery", checked)
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("%s is not in discovery", key)
		}
	}
}

// TestPartialObjectMetadata: lists and watches answer metadata only when
// asked, and client-go's metadata informer works on top of them.
func TestPartialObjectMetadata(t *testing.T) {
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, configMap("first", map[string]string{"k": "s3cr3t-v4lue"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, body := raw(t, env).do(http.MethodGet, "/api/v1/namespaces/default/configmaps", nil, "Accept", acceptPartialList)
	var list metav1.PartialObjectMetadataList
	if err := json.Unmarshal(body, &list); err != nil || code != http.StatusOK || list.Kind != "PartialObjectMetadataList" ||
		len(list.Items) != 1 || list.Items[0].Name != "first" || list.ResourceVersion == "" || strings.Contains(string(body), "s3cr3t-v4lue") {
		t.Fatalf("metadata list: %d %s (%v)", code, body, err)
	}

	mc, err := metadata.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := corev1.SchemeGroupVersion.WithResource("configmaps")
	factory := metadatainformer.NewFilteredSharedInformerFactory(mc, 0, "default", nil)
	inf := factory.ForResource(gvr).Informer()
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("metadata informer did not sync")
	}
	if _, err := cms.Create(ctx, configMap("second", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the metadata informer sees the add", func() bool {
		obj, ok, _ := inf.GetStore().GetByKey("default/second")
		pm, isMeta := obj.(*metav1.PartialObjectMetadata)
		return ok && isMeta && pm.UID != "" && pm.ResourceVersion != ""
	})
	if n := len(inf.GetStore().ListKeys()); n != 2 {
		t.Errorf("metadata informer holds %d objects, want 2", n)
	}
}

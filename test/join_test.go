package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/internal/join"
	"skiff.dev/testenv"
)

// TestJoinedNodeActsAsItself joins with the token the server wrote and
// checks that the credentials act as system:node:<name>: allowed to write
// its own Node and pods' status, not another node's or other resources.
func TestJoinedNodeActsAsItself(t *testing.T) {
	env := testenv.Start(t)
	token, err := os.ReadFile(filepath.Join(env.DataDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := join.Join(t.Context(), join.Request{Server: env.Server.URL(), Token: string(token),
		NodeName: "n1", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", creds.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	node := kubernetes.NewForConfigOrDie(cfg)
	admin := kubernetes.NewForConfigOrDie(env.Config)
	ctx := t.Context()

	n1, err := node.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a node cannot register itself: %v", err)
	}
	n1.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}}
	if _, err := node.CoreV1().Nodes().UpdateStatus(ctx, n1, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("a node cannot update its own status: %v", err)
	}
	n2, err := admin.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = node.CoreV1().Nodes().UpdateStatus(ctx, n2, metav1.UpdateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `User "system:node:n1" cannot update resource "nodes/status"`) {
		t.Errorf("updating another node's status: err = %v, want Forbidden naming system:node:n1", err)
	}
	if _, err := node.AppsV1().Deployments("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing deployments as a node: err = %v, want Forbidden", err)
	}
	if _, err := node.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=n1"}); err != nil {
		t.Errorf("a node cannot list its pods: %v", err)
	}
}

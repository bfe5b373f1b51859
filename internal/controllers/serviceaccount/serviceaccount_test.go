package serviceaccount

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
)

func TestActive(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name string
		ns   corev1.Namespace
		want bool
	}{
		{"new", corev1.Namespace{}, true},
		{"active", corev1.Namespace{Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, true},
		{"terminating", corev1.Namespace{Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}, false},
		{"deleted", corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}}, false},
	}
	for _, tt := range tests {
		if got := active(&tt.ns); got != tt.want {
			t.Errorf("%s: active = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDefaultServiceAccount(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.Run(New)
	c := env.Client
	ctx := context.Background()
	get := func(ctx context.Context, ns string) (*corev1.ServiceAccount, error) {
		return c.CoreV1().ServiceAccounts(ns).Get(ctx, DefaultName, metav1.GetOptions{})
	}
	exists := func(ns string) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			_, err := get(ctx, ns)
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		}
	}

	for _, name := range []string{"sa-one", "sa-terminating"} {
		if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		env.WaitFor(10*time.Second, "default ServiceAccount in "+name, exists(name))
	}

	first, err := get(ctx, "sa-one")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().ServiceAccounts("sa-one").Delete(ctx, DefaultName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.WaitFor(10*time.Second, "default ServiceAccount recreated", func(ctx context.Context) (bool, error) {
		sa, err := get(ctx, "sa-one")
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil && sa.UID != first.UID, err
	})

	// No namespace controller runs: the deleted namespace stays Terminating.
	if err := c.CoreV1().Namespaces().Delete(ctx, "sa-terminating", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.WaitFor(10*time.Second, "namespace Terminating", func(ctx context.Context) (bool, error) {
		ns, err := c.CoreV1().Namespaces().Get(ctx, "sa-terminating", metav1.GetOptions{})
		return err == nil && ns.Status.Phase == corev1.NamespaceTerminating, err
	})
	if err := c.CoreV1().ServiceAccounts("sa-terminating").Delete(ctx, DefaultName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := get(ctx, "sa-terminating"); !apierrors.IsNotFound(err) {
		t.Fatalf("default ServiceAccount in a Terminating namespace: err = %v, want NotFound", err)
	}
}

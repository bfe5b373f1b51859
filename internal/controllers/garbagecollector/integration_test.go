package garbagecollector_test

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/garbagecollector"
)

const ns = "default"

const wait = 20 * time.Second

func owner(t *testing.T, c kubernetes.Interface, name string) *corev1.ConfigMap {
	t.Helper()
	cm, err := c.CoreV1().ConfigMaps(ns).Create(context.Background(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func refTo(cm *corev1.ConfigMap, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: cm.Name, UID: cm.UID,
		BlockOwnerDeletion: ptr.To(block)}
}

func secret(t *testing.T, c kubernetes.Interface, name string, finalizers []string, refs ...metav1.OwnerReference) {
	t.Helper()
	_, err := c.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Name: name, OwnerReferences: refs, Finalizers: finalizers}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func configMap(t *testing.T, c kubernetes.Interface, name string, refs ...metav1.OwnerReference) {
	t.Helper()
	_, err := c.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: name, OwnerReferences: refs}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func deleteWith(t *testing.T, c kubernetes.Interface, name string, policy metav1.DeletionPropagation) {
	t.Helper()
	err := c.CoreV1().ConfigMaps(ns).Delete(context.Background(), name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil {
		t.Fatal(err)
	}
}

func secretGone(c kubernetes.Interface, name string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func configMapGone(c kubernetes.Interface, name string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func getSecret(t *testing.T, c kubernetes.Interface, name string) *corev1.Secret {
	t.Helper()
	s, err := c.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("secret %s: %v", name, err)
	}
	return s
}

func TestGarbageCollector(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.Run(garbagecollector.New)
	c := env.Client

	t.Run("background", func(t *testing.T) {
		o := owner(t, c, "bg-owner")
		secret(t, c, "bg-secret", nil, refTo(o, false))
		configMap(t, c, "bg-cm", refTo(o, true))
		secret(t, c, "bg-bystander", nil)
		deleteWith(t, c, o.Name, metav1.DeletePropagationBackground)
		env.WaitFor(wait, "background dependents deleted", func(ctx context.Context) (bool, error) {
			a, err := secretGone(c, "bg-secret")(ctx)
			if err != nil || !a {
				return false, err
			}
			return configMapGone(c, "bg-cm")(ctx)
		})
		getSecret(t, c, "bg-bystander")
	})

	t.Run("owner that never existed", func(t *testing.T) {
		ghost := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "never-there", UID: types.UID("00000000-dead-beef-0000-000000000000")}}
		secret(t, c, "invalid-owner", nil, refTo(ghost, false))
		env.WaitFor(wait, "dependent of a never-existing owner deleted", secretGone(c, "invalid-owner"))
	})

	t.Run("orphan", func(t *testing.T) {
		o := owner(t, c, "or-owner")
		secret(t, c, "or-secret", nil, refTo(o, true))
		deleteWith(t, c, o.Name, metav1.DeletePropagationOrphan)
		env.WaitFor(wait, "orphaning owner gone", configMapGone(c, o.Name))
		s := getSecret(t, c, "or-secret")
		if len(s.OwnerReferences) != 0 {
			t.Fatalf("orphaned dependent still has ownerReferences %+v", s.OwnerReferences)
		}
		time.Sleep(time.Second)
		getSecret(t, c, "or-secret")
	})

	t.Run("foreground", func(t *testing.T) {
		const hold = "skiff.dev/test-hold"
		o := owner(t, c, "fg-owner")
		secret(t, c, "fg-blocking", []string{hold}, refTo(o, true))
		configMap(t, c, "fg-free", refTo(o, false))
		deleteWith(t, c, o.Name, metav1.DeletePropagationForeground)
		env.WaitFor(wait, "foreground dependents deleted", func(ctx context.Context) (bool, error) {
			s, err := c.CoreV1().Secrets(ns).Get(ctx, "fg-blocking", metav1.GetOptions{})
			if err != nil || s.DeletionTimestamp == nil {
				return false, err
			}
			return configMapGone(c, "fg-free")(ctx)
		})
		time.Sleep(time.Second)
		cm, err := c.CoreV1().ConfigMaps(ns).Get(context.Background(), o.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("owner must wait for its blocking dependent: %v", err)
		}
		if cm.DeletionTimestamp == nil || !slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("owner deletionTimestamp %v finalizers %v", cm.DeletionTimestamp, cm.Finalizers)
		}
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := c.CoreV1().Secrets(ns).Patch(context.Background(), "fg-blocking", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		env.WaitFor(wait, "foreground owner gone", configMapGone(c, o.Name))
	})

	t.Run("two owners, one deleted", func(t *testing.T) {
		a := owner(t, c, "two-a")
		b := owner(t, c, "two-b")
		secret(t, c, "two-dep", nil, refTo(a, false), refTo(b, false))
		deleteWith(t, c, a.Name, metav1.DeletePropagationBackground)
		env.WaitFor(wait, "dead owner's reference removed", func(ctx context.Context) (bool, error) {
			s, err := c.CoreV1().Secrets(ns).Get(ctx, "two-dep", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return len(s.OwnerReferences) == 1 && s.OwnerReferences[0].UID == b.UID, nil
		})
		time.Sleep(500 * time.Millisecond)
		getSecret(t, c, "two-dep")
		// Deleting the last owner now collects it.
		deleteWith(t, c, b.Name, metav1.DeletePropagationBackground)
		env.WaitFor(wait, "dependent of the last owner deleted", secretGone(c, "two-dep"))
	})
}

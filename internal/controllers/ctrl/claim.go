package ctrl

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Claim describes an owner claiming the objects its selector matches, as
// upstream's controller-ref manager does: an orphan that matches is adopted
// (it gets a controller ownerReference to the owner); an owned object that
// no longer matches is released; objects another controller owns are left
// alone.
type Claim struct {
	Owner    metav1.Object
	Kind     schema.GroupVersionKind
	Selector labels.Selector
	// CanAdopt, when set, is asked once before the first adoption; it
	// should re-read the owner without the cache and fail when the owner
	// is gone or being deleted, so a stale cache does not adopt for a
	// deleted owner.
	CanAdopt func(context.Context) error
}

// Patcher applies a strategic merge patch to one object.
type Patcher func(ctx context.Context, namespace, name string, patch []byte) error

// PodPatcher patches pods.
func PodPatcher(c kubernetes.Interface) Patcher {
	return func(ctx context.Context, namespace, name string, patch []byte) error {
		_, err := c.CoreV1().Pods(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
}

// ControllerRevisionPatcher patches ControllerRevisions.
func ControllerRevisionPatcher(c kubernetes.Interface) Patcher {
	return func(ctx context.Context, namespace, name string, patch []byte) error {
		_, err := c.AppsV1().ControllerRevisions(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
}

// ClaimPods claims pods with the pod patcher.
func ClaimPods(ctx context.Context, c kubernetes.Interface, cl Claim, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	return ClaimObjects(ctx, cl, pods, PodPatcher(c))
}

// ClaimObjects returns the objects the owner controls after adopting and
// releasing as described on Claim. The first error stops it; what was
// claimed until then is returned with it.
func ClaimObjects[T metav1.Object](ctx context.Context, cl Claim, objs []T, patch Patcher) ([]T, error) {
	var claimed []T
	var adoptErr error
	adoptChecked := false
	for _, obj := range objs {
		ref := metav1.GetControllerOfNoCopy(obj)
		if ref != nil {
			if ref.UID != cl.Owner.GetUID() {
				continue
			}
			if cl.Selector.Matches(labels.Set(obj.GetLabels())) {
				claimed = append(claimed, obj)
				continue
			}
			// Owned but no longer matching: not ours any more; released
			// unless the owner or the object is going anyway.
			if cl.Owner.GetDeletionTimestamp() != nil || obj.GetDeletionTimestamp() != nil {
				continue
			}
			err := patch(ctx, obj.GetNamespace(), obj.GetName(), releasePatch(cl.Owner.GetUID(), obj.GetUID()))
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				return claimed, fmt.Errorf("release %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
			}
			continue
		}
		if cl.Owner.GetDeletionTimestamp() != nil || obj.GetDeletionTimestamp() != nil ||
			!cl.Selector.Matches(labels.Set(obj.GetLabels())) {
			continue
		}
		if !adoptChecked {
			adoptChecked = true
			if cl.CanAdopt != nil {
				adoptErr = cl.CanAdopt(ctx)
			}
		}
		if adoptErr != nil {
			return claimed, fmt.Errorf("cannot adopt %s/%s: %w", obj.GetNamespace(), obj.GetName(), adoptErr)
		}
		p, err := adoptPatch(cl, obj.GetUID())
		if err != nil {
			return claimed, err
		}
		if err := patch(ctx, obj.GetNamespace(), obj.GetName(), p); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return claimed, fmt.Errorf("adopt %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
		claimed = append(claimed, obj)
	}
	return claimed, nil
}

// ControllerRef is the ownerReference an owner puts on what it controls.
func ControllerRef(owner metav1.Object, gvk schema.GroupVersionKind) metav1.OwnerReference {
	return *metav1.NewControllerRef(owner, gvk)
}

type patchMeta struct {
	Metadata struct {
		OwnerReferences []any     `json:"ownerReferences"`
		UID             types.UID `json:"uid"`
	} `json:"metadata"`
}

// adoptPatch adds the controller reference; the uid makes the patch fail
// if the object was replaced by another of the same name.
func adoptPatch(cl Claim, uid types.UID) ([]byte, error) {
	var p patchMeta
	p.Metadata.OwnerReferences = []any{ControllerRef(cl.Owner, cl.Kind)}
	p.Metadata.UID = uid
	return json.Marshal(p)
}

func releasePatch(owner, uid types.UID) []byte {
	var p patchMeta
	p.Metadata.OwnerReferences = []any{map[string]any{"$patch": "delete", "uid": owner}}
	p.Metadata.UID = uid
	b, _ := json.Marshal(p)
	return b
}

// RecheckOwner is a CanAdopt that re-reads the owner with get and refuses
// when it is gone, replaced (another UID) or being deleted.
func RecheckOwner(owner metav1.Object, get func(context.Context) (metav1.Object, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return err
		}
		if fresh.GetUID() != owner.GetUID() {
			return fmt.Errorf("original %s is gone: got uid %v, wanted %v", owner.GetName(), fresh.GetUID(), owner.GetUID())
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s has just been deleted at %v", owner.GetName(), fresh.GetDeletionTimestamp())
		}
		return nil
	}
}

package agent

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// reconcileMirrors keeps one mirror pod in the API per static pod, as the
// kubelet does: a missing mirror is created; one being deleted, or one of
// an older version of the manifest, is deleted and created again; mirrors
// of static pods that are gone are deleted.
func (s *staticSource) reconcileMirrors(ctx context.Context, static map[types.UID]*corev1.Pod) {
	a := s.a
	nodeUID := a.nodeUIDValue()
	if nodeUID == "" || a.pods == nil {
		return
	}
	wanted := map[string]bool{}
	for _, p := range static {
		key := p.Namespace + "/" + p.Name
		wanted[key] = true
		m := a.pods.get(p.Namespace, p.Name)
		switch {
		case m == nil:
		case !isMirror(m):
			s.report("pod "+key, errMirrorConflict(key))
			continue
		case m.DeletionTimestamp != nil || !isMirrorOf(m, p):
			if !a.deleteMirror(ctx, m) {
				continue
			}
		default:
			continue
		}
		if err := a.createMirror(ctx, p, nodeUID); err != nil {
			a.log.Warn("agent: creating a mirror pod", "pod", key, "err", err)
		}
	}
	for _, m := range a.pods.list() {
		if isMirror(m) && !wanted[m.Namespace+"/"+m.Name] {
			a.deleteMirror(ctx, m)
		}
	}
}

// createMirror creates the mirror pod of a static pod: its spec and
// metadata, the config.mirror annotation, and the Node as its controller.
func (a *Agent) createMirror(ctx context.Context, static *corev1.Pod, nodeUID types.UID) error {
	m := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: static.Name, Namespace: static.Namespace,
			Labels: copyMap(static.Labels), Annotations: copyMap(static.Annotations),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: a.o.NodeName,
				UID: nodeUID, Controller: ptr.To(true)}},
		},
		Spec: *static.Spec.DeepCopy(),
	}
	m.Annotations[annotationConfigMirror] = static.Annotations[annotationConfigHash]
	_, err := a.client.CoreV1().Pods(m.Namespace).Create(ctx, m, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// deleteMirror deletes a mirror pod at once (no grace: nothing runs for
// it) and reports whether it is gone.
func (a *Agent) deleteMirror(ctx context.Context, m *corev1.Pod) bool {
	err := a.client.CoreV1().Pods(m.Namespace).Delete(ctx, m.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &m.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		a.log.Warn("agent: deleting a mirror pod", "pod", m.Namespace+"/"+m.Name, "err", err)
		return false
	}
	return true
}

// errMirrorConflict is a pod in the API that has a static pod's name but
// is no mirror.
type errMirrorConflict string

func (e errMirrorConflict) Error() string {
	return "agent: pod " + string(e) + " exists and is not a mirror pod; the static pod has none"
}

package agent

import (
	"context"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// writeStatus computes the pod's status and writes it through pods/status
// when it differs from what the API has, retrying on conflicts with the
// fresh pod. A static pod's status goes to its mirror pod. It returns the
// computed status.
func (w *worker) writeStatus(ctx context.Context, pod *corev1.Pod, s *podState, terminal bool) corev1.PodStatus {
	a := w.a
	target := a.apiPod(pod, w.static)
	compute := func(target *corev1.Pod) corev1.PodStatus {
		base := pod
		if target != nil {
			base = pod.DeepCopy()
			base.Status = target.Status
			base.Generation = target.Generation
			base.DeletionTimestamp = target.DeletionTimestamp
		}
		w.mu.Lock()
		old := w.status
		w.mu.Unlock()
		return podStatus(statusInput{Pod: base, Old: old, State: s, Failures: w.failures, Probes: w.probeView,
			RuntimeName: a.runtimeName, HostIPs: a.hostIPs, Terminal: terminal, Now: time.Now(),
			FailReason: w.failReason, FailMessage: w.failMessage})
	}
	st := compute(target)
	w.mu.Lock()
	w.status = &st
	last := w.written
	w.mu.Unlock()
	if target == nil || equality.Semantic.DeepEqual(target.Status, st) {
		return st
	}
	if last != nil && last.UID == target.UID && olderVersion(target.ResourceVersion, last.ResourceVersion) &&
		equality.Semantic.DeepEqual(last.Status, st) {
		return st // the informer has not caught up with our last write
	}
	pods := a.client.CoreV1().Pods(target.Namespace)
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		obj := target.DeepCopy()
		obj.Status = st
		written, err := pods.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		if err == nil {
			w.mu.Lock()
			w.written = written
			w.mu.Unlock()
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
		fresh, gerr := pods.Get(ctx, target.Name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		if fresh.UID != target.UID {
			return nil // replaced by another pod of the same name
		}
		target = fresh
		st = compute(target)
		if equality.Semantic.DeepEqual(target.Status, st) {
			return nil
		}
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		a.log.Warn("agent: writing pod status", "pod", podDescription(pod), "err", err)
		w.wakeAt(time.Now().Add(time.Second))
	}
	w.mu.Lock()
	w.status = &st
	w.mu.Unlock()
	return st
}

// olderVersion reports whether resource version a is older than b, when
// both are numbers (skiff's are etcd revisions).
func olderVersion(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}

// apiPod is the API object a pod's status goes to: the pod itself (its
// latest version), or a static pod's mirror pod; nil when there is none.
func (a *Agent) apiPod(pod *corev1.Pod, static bool) *corev1.Pod {
	if a.pods == nil {
		return nil
	}
	got := a.pods.get(pod.Namespace, pod.Name)
	if got == nil {
		return nil
	}
	if static {
		if !isMirrorOf(got, pod) {
			return nil
		}
		return got
	}
	if got.UID != pod.UID {
		return nil
	}
	return got
}

// deletePod ends a pod's graceful deletion once its containers have
// stopped: a delete with no grace period, only for this very pod (UID
// precondition), as the kubelet's status manager does.
func (a *Agent) deletePod(ctx context.Context, pod *corev1.Pod) error {
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	return nil
}

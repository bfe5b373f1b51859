package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"
	"k8s.io/kubectl/pkg/util/podutils"
)

// The eviction subresource (POST pods/<name>/eviction) deletes a pod only
// when the PodDisruptionBudget covering it allows one more disruption,
// spending that disruption in the budget's status first, as upstream's
// eviction REST does.

var (
	evictionGVK        = policyv1.SchemeGroupVersion.WithKind("Eviction")
	evictionV1beta1GVK = policyv1beta1.SchemeGroupVersion.WithKind("Eviction")
	budgetsGR          = schema.GroupResource{Group: "policy", Resource: "poddisruptionbudget"}
)

// maxDisruptedPods is upstream's bound on status.disruptedPods: past it
// the disruption controller has fallen too far behind to trust the budget.
const maxDisruptedPods = 2000

// evictionRetry paces the retries of an eviction that keeps losing races
// on the pod or the budget, as upstream's.
var evictionRetry = wait.Backoff{Steps: 20, Duration: 500 * time.Millisecond, Factor: 1.0, Jitter: 0.1}

const evictionManager = "kube-apiserver"

func (h *resource) serveEviction(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if ri.Verb != "create" {
		return apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "pods/eviction"}, ri.Verb)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	ev, err := decodeEviction(r, body)
	if err != nil {
		return err
	}
	if ev.Name != ri.Name {
		return badRequest("name in URL does not match name in Eviction object")
	}
	if ev.Namespace != "" && ev.Namespace != ri.Namespace {
		return badRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	opts, err := evictionDeleteOptions(ev, r.URL.Query()["dryRun"])
	if err != nil {
		return err
	}
	if err := h.evict(r.Context(), r, ri, opts); err != nil {
		var se apierrors.APIStatus
		if errors.As(err, &se) {
			if d := se.Status().Details; d != nil && d.RetryAfterSeconds > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(d.RetryAfterSeconds)))
			}
		}
		return err
	}
	st := &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}
	st.Kind, st.APIVersion = "Status", "v1"
	enc := negotiateError(r)
	w.Header().Set("Content-Type", enc.mediaType)
	w.WriteHeader(http.StatusCreated)
	return enc.encode(st, w)
}

// decodeEviction reads a policy/v1 Eviction, or a policy/v1beta1 one
// (the same fields), from the body.
func decodeEviction(r *http.Request, body []byte) (*policyv1.Eviction, error) {
	gvk := evictionGVK
	if info, ok := serializerFor(mediaTypeOnly(r.Header.Get("Content-Type"))); ok {
		if _, got, err := info.Serializer.Decode(body, &evictionGVK, nil); err == nil && got != nil && *got == evictionV1beta1GVK {
			gvk = evictionV1beta1GVK
		}
	}
	if gvk == evictionV1beta1GVK {
		old := &policyv1beta1.Eviction{}
		if _, err := decodeBody(r, body, gvk, old); err != nil {
			return nil, err
		}
		return &policyv1.Eviction{ObjectMeta: old.ObjectMeta, DeleteOptions: old.DeleteOptions}, nil
	}
	ev := &policyv1.Eviction{}
	if _, err := decodeBody(r, body, gvk, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// evictionDeleteOptions merges the request's dryRun into the eviction's
// deleteOptions; both may name it, but not differently.
func evictionDeleteOptions(ev *policyv1.Eviction, dryRun []string) (*metav1.DeleteOptions, error) {
	switch {
	case ev.DeleteOptions == nil:
		return &metav1.DeleteOptions{DryRun: dryRun}, nil
	case len(ev.DeleteOptions.DryRun) == 0:
		opts := ev.DeleteOptions.DeepCopy()
		opts.DryRun = dryRun
		return opts, nil
	case len(dryRun) == 0 || reflect.DeepEqual(dryRun, ev.DeleteOptions.DryRun):
		return ev.DeleteOptions, nil
	}
	return nil, apierrors.NewInternalError(fmt.Errorf("Non-matching dry-run options in request and content: %v and %v", dryRun, ev.DeleteOptions.DryRun))
}

// evict runs one eviction: pods that are not running (or already going)
// are deleted at once; a running pod is deleted when no budget covers it,
// or when its one budget allows a disruption, which is spent first.
func (h *resource) evict(ctx context.Context, r *http.Request, ri requestInfo, opts *metav1.DeleteOptions) error {
	dryRun := slices.Contains(opts.DryRun, metav1.DryRunAll)
	retryConflicts := apierrors.IsConflict
	if !rvUnset(opts) {
		retryConflicts = func(error) bool { return false }
	}
	var pod *corev1.Pod
	deleted := false
	err := retry.OnError(evictionRetry, retryConflicts, func() error {
		obj, _, err := h.load(ctx, ri.Namespace, ri.Name)
		if err != nil {
			return err
		}
		pod = obj.(*corev1.Pod)
		if !budgetIrrelevant(pod) {
			return nil
		}
		del := opts
		if guardReadiness(pod) && rvUnset(opts) {
			del = withResourceVersion(opts, pod.ResourceVersion)
		}
		if err := h.markAndDelete(ctx, r, ri, del, dryRun); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	if err != nil || deleted {
		return err
	}

	budgets, err := h.srv.podBudgets(ctx, pod)
	if err != nil {
		return err
	}
	if len(budgets) > 1 {
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}}
	}
	del := opts
	pinned := false
	if len(budgets) == 1 {
		pdb := budgets[0]
		if unhealthyEvictable(pod, pdb) {
			// An unready pod does not count as healthy: deleting it spends
			// nothing, as long as it does not become ready meanwhile.
			pinned = true
			del = withResourceVersion(opts, pod.ResourceVersion)
		} else if err := h.srv.spendDisruption(ctx, r, pdb, pod.Name, dryRun); err != nil {
			return err
		}
	}
	err = h.markAndDelete(ctx, r, ri, del, dryRun)
	if err != nil && apierrors.IsConflict(err) && pinned && rvUnset(opts) {
		return budgetBusy(budgets[0].Name)
	}
	return err
}

// markAndDelete adds the DisruptionTarget condition to the pod (unless
// dry run) and deletes it with opts.
func (h *resource) markAndDelete(ctx context.Context, r *http.Request, ri requestInfo, opts *metav1.DeleteOptions, dryRun bool) error {
	if !dryRun {
		out, _, err := h.updateObject(ctx, r, ri, func(current runtime.Object) (runtime.Object, error) {
			pod := current.(*corev1.Pod)
			if err := checkPreconditions(pod, opts.Preconditions); err != nil {
				return nil, err
			}
			pod.ResourceVersion = ""
			setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
				Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting"})
			return pod, nil
		}, updateOptions{sub: "status", manager: managerName(r), managed: true})
		if err != nil {
			return err
		}
		if !rvUnset(opts) {
			// Our own write moved the resourceVersion on.
			m, _ := meta.Accessor(out)
			opts = withResourceVersion(opts, m.GetResourceVersion())
		}
	}
	_, _, err := h.deleteObject(ctx, ri.Namespace, ri.Name, opts)
	return err
}

func checkPreconditions(pod *corev1.Pod, p *metav1.Preconditions) error {
	if p == nil {
		return nil
	}
	gr := schema.GroupResource{Resource: "Pod"}
	if p.UID != nil && *p.UID != "" && *p.UID != pod.UID {
		return apierrors.NewConflict(gr, pod.Name, fmt.Errorf("the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *p.UID, pod.UID))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != "" && *p.ResourceVersion != pod.ResourceVersion {
		return apierrors.NewConflict(gr, pod.Name, fmt.Errorf("the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *p.ResourceVersion, pod.ResourceVersion))
	}
	return nil
}

// setPodCondition sets a condition, keeping its transition time when the
// status does not change.
func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	c.LastTransitionTime = metav1.Now().Rfc3339Copy()
	for i := range st.Conditions {
		if st.Conditions[i].Type != c.Type {
			continue
		}
		if st.Conditions[i].Status == c.Status {
			c.LastTransitionTime = st.Conditions[i].LastTransitionTime
		}
		c.LastProbeTime = st.Conditions[i].LastProbeTime
		st.Conditions[i] = c
		return
	}
	st.Conditions = append(st.Conditions, c)
}

// podBudgets lists the budgets in the pod's namespace whose selector
// matches it. In policy/v1 an empty selector matches every pod; a nil one
// none.
func (s *Server) podBudgets(ctx context.Context, pod *corev1.Pod) ([]*policyv1.PodDisruptionBudget, error) {
	h := s.resource("policy", "v1", "poddisruptionbudgets")
	if h == nil {
		return nil, nil
	}
	items, _, err := h.cache.List(ctx, true, func(obj runtime.Object) bool {
		m, err := meta.Accessor(obj)
		return err == nil && m.GetNamespace() == pod.Namespace
	})
	if err != nil {
		return nil, err
	}
	var out []*policyv1.PodDisruptionBudget
	for _, item := range items {
		obj, err := h.served(item)
		if err != nil {
			return nil, err
		}
		pdb, ok := obj.(*policyv1.PodDisruptionBudget)
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, pdb)
	}
	return out, nil
}

// spendDisruption takes one disruption from the budget and records the
// pod in status.disruptedPods, retrying with a fresh budget when another
// writer got there first.
func (s *Server) spendDisruption(ctx context.Context, r *http.Request, pdb *policyv1.PodDisruptionBudget, podName string, dryRun bool) error {
	h := s.resource("policy", "v1", "poddisruptionbudgets")
	refresh := false
	err := retry.RetryOnConflict(evictionRetry, func() error {
		if refresh {
			obj, _, err := h.load(ctx, pdb.Namespace, pdb.Name)
			if err != nil {
				return err
			}
			pdb = obj.(*policyv1.PodDisruptionBudget)
		}
		refresh = true
		next, err := spend(pdb, podName, metav1.Now().Rfc3339Copy())
		if err != nil || dryRun {
			return err
		}
		_, _, err = h.updateObject(ctx, r, requestInfo{Namespace: pdb.Namespace, Name: pdb.Name},
			func(runtime.Object) (runtime.Object, error) { return next, nil },
			updateOptions{sub: "status", manager: evictionManager, managed: true})
		return err
	})
	if apierrors.IsConflict(err) {
		return apierrors.NewTimeoutError(fmt.Sprintf("couldn't update PodDisruptionBudget %q due to conflicts", pdb.Name), 10)
	}
	return err
}

// spend is the budget check of an eviction: it returns a copy of pdb with
// one disruption taken and the pod recorded, or the refusal.
func spend(pdb *policyv1.PodDisruptionBudget, podName string, now metav1.Time) (*policyv1.PodDisruptionBudget, error) {
	if pdb.Status.ObservedGeneration < pdb.Generation {
		return nil, budgetBusy(pdb.Name)
	}
	if pdb.Status.DisruptionsAllowed < 0 {
		return nil, apierrors.NewForbidden(budgetsGR, pdb.Name, errors.New("pdb disruptions allowed is negative"))
	}
	if len(pdb.Status.DisruptedPods) > maxDisruptedPods {
		return nil, apierrors.NewForbidden(budgetsGR, pdb.Name, errors.New("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
	}
	if pdb.Status.DisruptionsAllowed == 0 {
		err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
			Message: fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)})
		return nil, err
	}
	next := pdb.DeepCopy()
	next.Status.DisruptionsAllowed--
	if next.Status.DisruptionsAllowed == 0 {
		pdbhelper.UpdateDisruptionAllowedCondition(next)
	}
	if next.Status.DisruptedPods == nil {
		next.Status.DisruptedPods = map[string]metav1.Time{}
	}
	next.Status.DisruptedPods[podName] = now
	return next, nil
}

// budgetBusy is the refusal while the disruption controller has not yet
// caught up with the budget: clients should come back a little later.
func budgetBusy(name string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
		Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", name)})
	return err
}

// budgetIrrelevant reports whether a pod may be evicted without asking
// its budget: it has finished, has not started, or is already going.
func budgetIrrelevant(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodPending:
		return true
	}
	return pod.DeletionTimestamp != nil
}

// guardReadiness reports whether a budget-free deletion must be pinned to
// the pod's resourceVersion, so a pod that turns running and ready in the
// meantime is not deleted behind its budget's back.
func guardReadiness(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return false
	}
	return pod.DeletionTimestamp == nil
}

// unhealthyEvictable reports whether an unready pod may go without
// spending a disruption: the budget says so (AlwaysAllow), or (the
// default, IfHealthyBudget) the application is healthy enough anyway.
func unhealthyEvictable(pod *corev1.Pod, pdb *policyv1.PodDisruptionBudget) bool {
	if podutils.IsPodReady(pod) {
		return false
	}
	if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil && *p == policyv1.AlwaysAllow {
		return true
	}
	return pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0
}

func rvUnset(opts *metav1.DeleteOptions) bool {
	return opts.Preconditions == nil || opts.Preconditions.ResourceVersion == nil
}

func withResourceVersion(opts *metav1.DeleteOptions, rv string) *metav1.DeleteOptions {
	out := opts.DeepCopy()
	if out.Preconditions == nil {
		out.Preconditions = &metav1.Preconditions{}
	}
	out.Preconditions.ResourceVersion = &rv
	return out
}

package registry

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func pods() Resource {
	return Resource{
		Kind:         gvk(core, "Pod"),
		Name:         "pods",
		Singular:     "pod",
		ShortNames:   []string{"po"},
		Categories:   []string{"all"},
		Namespaced:   true,
		Subresources: []string{"status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy"},
		Strategy: Strategy{
			HasStatus:  true,
			Generation: true,
			Default:    func(obj runtime.Object) { defaultPod(obj.(*corev1.Pod)) },
			PrepareForCreate: func(obj runtime.Object) {
				preparePodForCreate(obj.(*corev1.Pod))
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validatePodSpec(&obj.(*corev1.Pod).Spec, field.NewPath("spec"))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validatePodSpecUpdate(obj.(*corev1.Pod), old.(*corev1.Pod))
			},
			GracePeriod: func(obj runtime.Object, opts *metav1.DeleteOptions) int64 {
				return podGracePeriod(obj.(*corev1.Pod), opts)
			},
			Columns: podColumns,
			Row:     func(obj runtime.Object) []interface{} { return podRow(obj.(*corev1.Pod)) },
			Fields:  func(obj runtime.Object) fields.Set { return podFields(obj.(*corev1.Pod)) },
		},
	}
}

// preparePodForCreate gives a new pod the status upstream starts it with:
// Pending, with its QoS class, and a SchedulingGated condition while it has
// scheduling gates.
func preparePodForCreate(p *corev1.Pod) {
	p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOSClass(p)}
	if len(p.Spec.SchedulingGates) > 0 {
		p.Status.Conditions = []corev1.PodCondition{{
			Type:    corev1.PodScheduled,
			Status:  corev1.ConditionFalse,
			Reason:  corev1.PodReasonSchedulingGated,
			Message: "Scheduling is blocked due to non-empty scheduling gates",
		}}
	}
}

// podGracePeriod decides how long a pod's deletion waits, as upstream's
// graceful deletion does: pods never bound to a node and pods that have
// finished go at once; otherwise the client's gracePeriodSeconds wins over
// the pod's terminationGracePeriodSeconds, and a negative period means 1.
func podGracePeriod(p *corev1.Pod, opts *metav1.DeleteOptions) int64 {
	var period int64
	switch {
	case opts != nil && opts.GracePeriodSeconds != nil:
		period = *opts.GracePeriodSeconds
	case p.Spec.TerminationGracePeriodSeconds != nil:
		period = *p.Spec.TerminationGracePeriodSeconds
	}
	if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return 0
	}
	if period < 0 {
		return 1
	}
	return period
}

// podQOSClass computes a pod's quality-of-service class from its cpu and
// memory requests and limits: BestEffort when there are none, Guaranteed
// when every container limits both and requests equal limits, Burstable
// otherwise. Pod-level resources, when set, decide alone.
func podQOSClass(p *corev1.Pod) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	add := func(sum corev1.ResourceList, rl corev1.ResourceList) (found map[corev1.ResourceName]bool) {
		found = map[corev1.ResourceName]bool{}
		for name, q := range rl {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory || q.Sign() <= 0 {
				continue
			}
			found[name] = true
			total := q.DeepCopy()
			if prev, ok := sum[name]; ok {
				total.Add(prev)
			}
			sum[name] = total
		}
		return found
	}
	account := func(r corev1.ResourceRequirements) {
		add(requests, r.Requests)
		found := add(limits, r.Limits)
		if !found[corev1.ResourceCPU] || !found[corev1.ResourceMemory] {
			guaranteed = false
		}
	}
	if r := p.Spec.Resources; r != nil && (len(r.Requests) > 0 || len(r.Limits) > 0) {
		add(requests, r.Requests)
		if len(r.Limits) > 0 {
			found := add(limits, r.Limits)
			guaranteed = found[corev1.ResourceCPU] && found[corev1.ResourceMemory]
		}
	} else {
		for _, c := range p.Spec.Containers {
			account(c.Resources)
		}
		for _, c := range p.Spec.InitContainers {
			account(c.Resources)
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// podFields are the fields pods can be selected by, as upstream serves
// them (the kubelet watches spec.nodeName, kubectl describe uses others).
func podFields(p *corev1.Pod) fields.Set {
	ip := ""
	if len(p.Status.PodIPs) > 0 {
		ip = p.Status.PodIPs[0].IP
	}
	return fields.Set{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             ip,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

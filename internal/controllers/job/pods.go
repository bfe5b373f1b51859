package job

import (
	"fmt"
	"slices"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubectl/pkg/util/podutils"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
)

// indexEnv is the variable that tells an Indexed job's containers their
// completion index.
const indexEnv = "JOB_COMPLETION_INDEX"

var jobKind = batchv1.SchemeGroupVersion.WithKind("Job")

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// active pods run or wait to run, and are not being deleted.
func active(p *corev1.Pod) bool {
	return !terminal(p) && p.DeletionTimestamp == nil
}

// terminating pods are being deleted and have not finished.
func terminating(p *corev1.Pod) bool {
	return !terminal(p) && p.DeletionTimestamp != nil
}

func hasFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

// onlyReplaceFailed is whether a job waits for a pod to reach the Failed
// phase before replacing it (podReplacementPolicy Failed), instead of
// replacing it as soon as it is being deleted.
func onlyReplaceFailed(j *batchv1.Job) bool {
	return ptr.Deref(j.Spec.PodReplacementPolicy, batchv1.TerminatingOrFailed) == batchv1.Failed
}

// failed is whether a pod counts as a failure: it failed, or (unless the
// job only replaces Failed pods or has a failure policy) it is being
// deleted before succeeding, so an orphan never reaching Failed still
// counts.
func failed(j *batchv1.Job, p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if j.Spec.PodFailurePolicy != nil || onlyReplaceFailed(j) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

func indexed(j *batchv1.Job) bool {
	return ptr.Deref(j.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
}

// podIndex is a pod's completion index, or -1 when it has none.
func podIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		v, ok = p.Labels[batchv1.JobCompletionIndexAnnotation]
	}
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return -1
	}
	return i
}

func ready(p *corev1.Pod) bool { return podutils.IsPodReady(p) }

// newPod is the pod a job creates: its template with the job's labels and
// the tracking finalizer; index >= 0 makes it the pod of that completion
// index (annotation, label, environment variable, hostname) with
// failures earlier failures of that index recorded.
func newPod(j *batchv1.Job, index, failures int) *corev1.Pod {
	pod := ctrl.PodFromTemplate(&j.Spec.Template, j, jobKind)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	for k, v := range map[string]string{
		batchv1.ControllerUidLabel: string(j.UID), batchv1.JobNameLabel: j.Name,
		"controller-uid": string(j.UID), "job-name": j.Name,
	} {
		if _, ok := pod.Labels[k]; !ok {
			pod.Labels[k] = v
		}
	}
	pod.Finalizers = append(pod.Finalizers, batchv1.JobTrackingFinalizer)
	if index < 0 {
		return pod
	}
	ix := strconv.Itoa(index)
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[batchv1.JobCompletionIndexAnnotation] = ix
	pod.Labels[batchv1.JobCompletionIndexAnnotation] = ix
	if j.Spec.BackoffLimitPerIndex != nil {
		pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(failures)
	}
	pod.GenerateName = ctrl.GenerateNamePrefix(fmt.Sprintf("%s-%d", j.Name, index))
	if pod.Spec.Hostname == "" {
		pod.Spec.Hostname = fmt.Sprintf("%s-%d", j.Name, index)
	}
	env := corev1.EnvVar{Name: indexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)}}}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if !slices.ContainsFunc(list[i].Env, func(e corev1.EnvVar) bool { return e.Name == indexEnv }) {
				list[i].Env = append(list[i].Env, env)
			}
		}
	}
	return pod
}

// indexFailures is how often an index has failed so far, read from the
// failure counts its latest failed pod carries.
func indexFailures(pods []*corev1.Pod) map[int]int {
	out := map[int]int{}
	for _, p := range pods {
		ix := podIndex(p)
		if ix < 0 {
			continue
		}
		n, _ := strconv.Atoi(p.Annotations[batchv1.JobIndexFailureCountAnnotation])
		if p.Status.Phase == corev1.PodFailed {
			n++
		}
		out[ix] = max(out[ix], n)
	}
	return out
}

package ctrl

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
)

// PodFromTemplate makes the pod an owner creates from its template: the
// template's labels, annotations, finalizers and spec, a generateName of
// "<owner>-", the owner's namespace and a controller reference to it.
func PodFromTemplate(t *corev1.PodTemplateSpec, owner metav1.Object, gvk schema.GroupVersionKind) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Labels:          copyMap(t.Labels),
			Annotations:     copyMap(t.Annotations),
			Finalizers:      append([]string(nil), t.Finalizers...),
			GenerateName:    GenerateNamePrefix(owner.GetName()),
			Namespace:       owner.GetNamespace(),
			OwnerReferences: []metav1.OwnerReference{ControllerRef(owner, gvk)},
		},
	}
	t.Spec.DeepCopyInto(&pod.Spec)
	return pod
}

// GenerateNamePrefix is "<name>-", or name alone when the dash would make
// an invalid name.
func GenerateNamePrefix(name string) string {
	prefix := name + "-"
	if len(validation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return name
	}
	return prefix
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ComputeHash is a short, stable hash of a pod template (plus a collision
// count, bumped when a hash collides with a different template), in the
// alphabet upstream uses for pod-template-hash and revision names.
func ComputeHash(t *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, err := json.Marshal(t)
	if err != nil {
		panic(fmt.Sprintf("ctrl: marshal pod template: %v", err))
	}
	h.Write(b)
	if collisionCount != nil {
		var c [4]byte
		binary.LittleEndian.PutUint32(c[:], uint32(*collisionCount))
		h.Write(c[:])
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

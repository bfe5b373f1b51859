package registry

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The columns nearly every table has, described as upstream describes them.
var (
	nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name",
		Description: "Name must be unique within a namespace."}
	ageColumn = metav1.TableColumnDefinition{Name: "Age", Type: "string",
		Description: "CreationTimestamp is a timestamp representing the server time when this object was created."}
)

// age renders the time since t the way kubectl prints ages ("5m", "3d").
func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// validateDataKey checks a ConfigMap or Secret key.
func validateDataKey(k string, p *field.Path) field.ErrorList {
	return invalidEach(p, k, validation.IsConfigMapKey(k))
}

// column describes a table column; wide columns (kubectl get -o wide) have
// priority 1.
func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

func wideColumn(name, typ, description string) metav1.TableColumnDefinition {
	c := column(name, typ, description)
	c.Priority = 1
	return c
}

// microSince renders the time since a MicroTime like age.
func microSince(t metav1.MicroTime) string { return age(metav1.Time(t)) }

// orNone returns s, or "<none>" when s is empty, as kubectl prints unset
// values.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// podSpecContainersAndImages gives the comma-separated container names and
// images of a pod spec, for the Containers and Images columns of workloads.
func podSpecContainersAndImages(s *corev1.PodSpec) (names, images string) {
	n := make([]string, 0, len(s.Containers))
	im := make([]string, 0, len(s.Containers))
	for _, c := range s.Containers {
		n = append(n, c.Name)
		im = append(im, c.Image)
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// sortedResourceNames returns the names in a resource list in order, so
// that errors and cells come out the same way every time.
func sortedResourceNames(rl corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(rl))
	for n := range rl {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

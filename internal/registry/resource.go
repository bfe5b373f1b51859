package registry

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resource describes one served API resource at one group/version.
type Resource struct {
	// Kind is the group, version and kind served, e.g. apps/v1 Deployment.
	Kind schema.GroupVersionKind
	// Name is the lower-case plural used in URLs ("deployments").
	Name string
	// Singular is the lower-case singular name ("deployment").
	Singular   string
	ShortNames []string
	Categories []string
	Namespaced bool
	// Subresources served besides the main resource: "status", "scale",
	// "binding", "finalize", "eviction", "log", "exec", ...
	Subresources []string
	// Verbs the main resource answers; empty means all of get, list, watch,
	// create, update, patch, delete and deletecollection.
	Verbs []string
	// StoragePrefix is the etcd key prefix under /registry, upstream's layout
	// ("deployments", "services/specs", "events"). Empty means Name.
	StoragePrefix string
	// StorageKind, when set, is the kind objects are stored as, when it
	// differs from Kind: events.k8s.io/v1 Events are stored as core/v1 Events,
	// autoscaling/v1 HorizontalPodAutoscalers as autoscaling/v2 ones. Both
	// resources then share StoragePrefix, and ToStorage and FromStorage
	// convert between the served and the stored kind.
	StorageKind *schema.GroupVersionKind
	ToStorage   func(obj runtime.Object) (runtime.Object, error)
	FromStorage func(obj runtime.Object) (runtime.Object, error)
	// ValidName checks metadata.name; nil means a DNS-1123 subdomain.
	ValidName NameFunc
	// Strategy holds the per-kind behaviour. A zero Strategy is valid.
	Strategy Strategy
}

// Strategy is the per-kind behaviour of a resource. Every field is optional.
type Strategy struct {
	// Default fills in upstream's defaults. It runs on create and update
	// before validation, on the decoded object.
	Default func(obj runtime.Object)
	// PrepareForCreate resets what a client may not set on create (status,
	// for kinds whose status is written only through the status subresource)
	// and fills in server-owned fields.
	PrepareForCreate func(obj runtime.Object)
	// PrepareForUpdate adjusts an update of the main resource given the old
	// object (besides the generic spec/status split the API server applies).
	PrepareForUpdate func(obj, old runtime.Object)
	// Validate checks a new object.
	Validate func(obj runtime.Object) field.ErrorList
	// ValidateUpdate checks an update, immutable fields included. The new
	// object has already passed Validate.
	ValidateUpdate func(obj, old runtime.Object) field.ErrorList
	// ValidateStatusUpdate checks an update through the status subresource.
	ValidateStatusUpdate func(obj, old runtime.Object) field.ErrorList

	// HasStatus marks kinds with a status subresource: updates of the main
	// resource keep the old status and status updates keep the old spec.
	HasStatus bool
	// Generation makes metadata.generation start at 1 and grow by one each
	// time the spec changes.
	Generation bool

	// GracePeriod decides how long a deletion waits, for kinds deleted
	// gracefully (pods). It returns the grace period in seconds, or 0 to
	// delete at once; opts carries the client's gracePeriodSeconds, if any.
	GracePeriod func(obj runtime.Object, opts *metav1.DeleteOptions) int64

	// Columns are the table columns for kubectl get; Row gives one row's
	// cells in the same order. Without them the table has Name and Age.
	Columns []metav1.TableColumnDefinition
	Row     func(obj runtime.Object) []interface{}

	// Fields gives the values of the fields that field selectors may use
	// besides metadata.name and metadata.namespace, which are always there.
	Fields func(obj runtime.Object) fields.Set
}

// NameFunc validates an object name; prefix is true for generateName.
// It returns the problems found, as apimachinery's validators do.
type NameFunc func(name string, prefix bool) []string

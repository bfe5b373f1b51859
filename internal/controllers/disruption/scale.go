package disruption

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/scale"
	"k8s.io/utils/ptr"
)

// scales finds the replicas of a pod's controller: the apps workload
// kinds from the informers' caches, anything else (ReplicationControllers
// among them, which this server does not serve) through its scale
// subresource.
type scales struct {
	replicaSets  appslisters.ReplicaSetLister
	deployments  appslisters.DeploymentLister
	statefulSets appslisters.StatefulSetLister

	// The generic path; nil without a client configuration.
	discovery discovery.DiscoveryInterface
	mapper    apimeta.RESTMapper
	scaler    scale.ScalesGetter
}

func newGenericScales(s *scales, cfg *rest.Config, disc discovery.DiscoveryInterface) error {
	if cfg == nil || disc == nil {
		return nil
	}
	cached := memory.NewMemCacheClient(disc)
	s.discovery = disc
	s.mapper = restmapper.NewDeferredDiscoveryRESTMapper(cached)
	sc, err := scale.NewForConfig(cfg, s.mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(cached))
	if err != nil {
		return fmt.Errorf("disruption: scale client: %w", err)
	}
	s.scaler = sc
	return nil
}

// finder returns the scaleFinder for one sync.
func (s *scales) finder(ctx context.Context) scaleFinder {
	return func(ref *metav1.OwnerReference, namespace string) (*controllerScale, error) {
		for _, f := range []func(context.Context, *metav1.OwnerReference, string) (*controllerScale, error){
			s.deployment, s.replicaSet, s.statefulSet, s.generic,
		} {
			cs, err := f(ctx, ref, namespace)
			if err != nil || cs != nil {
				return cs, err
			}
		}
		return nil, nil
	}
}

// isKind reports whether ref names kind in one of groups.
func isKind(ref *metav1.OwnerReference, kind string, groups ...string) (bool, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false, err
	}
	return ref.Kind == kind && slices.Contains(groups, gv.Group), nil
}

// replicaSet counts a ReplicaSet that no Deployment controls.
func (s *scales) replicaSet(_ context.Context, ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if ok, err := isKind(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, err := s.replicaSets.ReplicaSets(ns).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil, nil
	}
	if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && owner.Kind == "Deployment" {
		return nil, nil
	}
	return &controllerScale{rs.UID, ptr.Deref(rs.Spec.Replicas, 1)}, nil
}

// deployment counts the Deployment that controls a pod's ReplicaSet.
func (s *scales) deployment(_ context.Context, ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if ok, err := isKind(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, err := s.replicaSets.ReplicaSets(ns).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil, nil
	}
	owner := metav1.GetControllerOfNoCopy(rs)
	if owner == nil {
		return nil, nil
	}
	if ok, err := isKind(owner, "Deployment", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	d, err := s.deployments.Deployments(ns).Get(owner.Name)
	if err != nil || d.UID != owner.UID {
		return nil, nil
	}
	return &controllerScale{d.UID, ptr.Deref(d.Spec.Replicas, 1)}, nil
}

func (s *scales) statefulSet(_ context.Context, ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if ok, err := isKind(ref, "StatefulSet", "apps"); !ok || err != nil {
		return nil, err
	}
	ss, err := s.statefulSets.StatefulSets(ns).Get(ref.Name)
	if err != nil || ss.UID != ref.UID {
		return nil, nil
	}
	return &controllerScale{ss.UID, ptr.Deref(ss.Spec.Replicas, 1)}, nil
}

// generic reads the scale subresource of any other controller kind.
func (s *scales) generic(ctx context.Context, ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if s.scaler == nil {
		return nil, nil
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	mapping, err := s.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: ref.Kind}, gv.Version)
	if err != nil {
		return nil, err
	}
	gr := mapping.Resource.GroupResource()
	sc, err := s.scaler.Scales(ns).Get(ctx, gr, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		// Either the controller is gone or its kind has no scale.
		has, derr := s.hasScale(mapping.Resource)
		if derr != nil {
			return nil, derr
		}
		if !has {
			return nil, fmt.Errorf("%s does not implement the scale subresource", gr.String())
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if sc.UID != ref.UID {
		return nil, nil
	}
	return &controllerScale{sc.UID, sc.Spec.Replicas}, nil
}

func (s *scales) hasScale(gvr schema.GroupVersionResource) (bool, error) {
	list, err := s.discovery.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource+"/scale" && r.Kind == "Scale" {
			return true, nil
		}
	}
	return false, nil
}

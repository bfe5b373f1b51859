package registry

// groupResources lists the resources of the named API groups in upstream's
// discovery order of groups (kube-apiserver's group priorities: apps,
// events.k8s.io, authentication.k8s.io, authorization.k8s.io, autoscaling,
// batch, certificates.k8s.io, networking.k8s.io, policy,
// rbac.authorization.k8s.io, storage.k8s.io, admissionregistration.k8s.io,
// apiextensions.k8s.io, scheduling.k8s.io, coordination.k8s.io,
// node.k8s.io, discovery.k8s.io, flowcontrol.apiserver.k8s.io); groups
// skiff does not serve yet keep their place in this comment. Within a group
// the resources are in alphabetical order, as upstream lists them, and a
// group's preferred version comes first (autoscaling/v2 before v1).
func groupResources() []Resource {
	return []Resource{
		// apps/v1
		controllerRevisions(),
		daemonSets(),
		deployments(),
		replicaSets(),
		statefulSets(),
		// events.k8s.io/v1
		eventsV1(),
		// authorization.k8s.io/v1
		selfSubjectAccessReviews(),
		// autoscaling/v2, autoscaling/v1
		horizontalPodAutoscalersV2(),
		horizontalPodAutoscalersV1(),
		// batch/v1
		cronJobs(),
		jobs(),
		// networking.k8s.io/v1
		ingressClasses(),
		ingresses(),
		networkPolicies(),
		// policy/v1
		podDisruptionBudgets(),
		// rbac.authorization.k8s.io/v1
		clusterRoleBindings(),
		clusterRoles(),
		roleBindings(),
		roles(),
		// storage.k8s.io/v1
		storageClasses(),
		// scheduling.k8s.io/v1
		priorityClasses(),
		// coordination.k8s.io/v1
		leases(),
		// discovery.k8s.io/v1
		endpointSlices(),
	}
}

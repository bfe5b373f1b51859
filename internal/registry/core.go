package registry

// coreResources lists the core/v1 resources, in upstream's discovery order.
func coreResources() []Resource {
	return []Resource{
		configMaps(),
		endpoints(),
		events(),
		limitRanges(),
		namespaces(),
		nodes(),
		persistentVolumeClaims(),
		persistentVolumes(),
		pods(),
		podTemplates(),
		resourceQuotas(),
		secrets(),
		serviceAccounts(),
		services(),
	}
}

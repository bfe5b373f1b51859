package registry

// coreResources lists the core/v1 resources.
func coreResources() []Resource {
	return []Resource{
		configMaps(),
	}
}

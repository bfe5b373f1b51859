package registry

// groupResources lists the resources of the named API groups (apps, batch,
// autoscaling, policy, ...).
func groupResources() []Resource {
	return nil
}

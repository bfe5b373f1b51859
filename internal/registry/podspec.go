package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Pod specs appear in pods and in every workload's pod template. The
// defaults here are upstream's PodSpec defaults, the ones that also
// materialise in templates; defaultPod adds the few that upstream applies to
// Pod objects only.

// defaultPodTemplateSpec fills in the defaults of a workload's pod template.
func defaultPodTemplateSpec(t *corev1.PodTemplateSpec) {
	if t == nil {
		return
	}
	defaultPodSpec(&t.Spec)
}

// defaultPodSpec fills in upstream's PodSpec defaults: restart and DNS
// policies, grace period, scheduler, an empty security context, and the
// defaults of every container, probe, port, env source and volume.
func defaultPodSpec(s *corev1.PodSpec) {
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr.To(int64(corev1.DefaultTerminationGracePeriodSeconds))
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	for i := range s.EphemeralContainers {
		defaultContainer((*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon))
	}
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
}

// defaultPod applies the defaults upstream keeps to Pod objects, after the
// PodSpec ones: service links on, requests copied from limits when unset,
// and host ports equal to container ports on the host network.
func defaultPod(p *corev1.Pod) {
	defaultPodSpec(&p.Spec)
	if p.Spec.EnableServiceLinks == nil {
		p.Spec.EnableServiceLinks = ptr.To(corev1.DefaultEnableServiceLinks)
	}
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			r := &cs[i].Resources
			if r.Limits == nil {
				continue
			}
			if r.Requests == nil {
				r.Requests = corev1.ResourceList{}
			}
			for k, v := range r.Limits {
				if _, ok := r.Requests[k]; !ok {
					r.Requests[k] = v.DeepCopy()
				}
			}
		}
		if p.Spec.HostNetwork {
			for i := range cs {
				for j := range cs[i].Ports {
					if cs[i].Ports[j].HostPort == 0 {
						cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
					}
				}
			}
		}
	}
}

func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		if imageTag(c.Image) == "latest" {
			c.ImagePullPolicy = corev1.PullAlways
		} else {
			c.ImagePullPolicy = corev1.PullIfNotPresent
		}
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		defaultProbe(p)
	}
	if c.Lifecycle != nil {
		for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil {
			defaultFieldRef(vf.FieldRef)
		}
	}
}

// imageTag returns the tag of an image reference as upstream's image name
// parser does: "latest" when there is neither a tag nor a digest, "" when
// there is a digest only.
func imageTag(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
		if j := strings.LastIndex(image, ":"); j > strings.LastIndex(image, "/") {
			return image[j+1:]
		}
		return ""
	}
	if j := strings.LastIndex(image, ":"); j > strings.LastIndex(image, "/") {
		return image[j+1:]
	}
	return "latest"
}

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	defaultHTTPGet(p.HTTPGet)
	if p.GRPC != nil && p.GRPC.Service == nil {
		p.GRPC.Service = ptr.To("")
	}
}

func defaultHTTPGet(h *corev1.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = corev1.URISchemeHTTP
	}
}

func defaultFieldRef(f *corev1.ObjectFieldSelector) {
	if f != nil && f.APIVersion == "" {
		f.APIVersion = "v1"
	}
}

func defaultDownwardAPIItems(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		defaultFieldRef(items[i].FieldRef)
	}
}

func defaultVolume(v *corev1.Volume) {
	if volumeSourceCount(&v.VolumeSource) == 0 {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	mode := ptr.To(int32(0644))
	switch {
	case v.Secret != nil:
		if v.Secret.DefaultMode == nil {
			v.Secret.DefaultMode = mode
		}
	case v.ConfigMap != nil:
		if v.ConfigMap.DefaultMode == nil {
			v.ConfigMap.DefaultMode = mode
		}
	case v.DownwardAPI != nil:
		if v.DownwardAPI.DefaultMode == nil {
			v.DownwardAPI.DefaultMode = mode
		}
		defaultDownwardAPIItems(v.DownwardAPI.Items)
	case v.Projected != nil:
		if v.Projected.DefaultMode == nil {
			v.Projected.DefaultMode = mode
		}
		for i := range v.Projected.Sources {
			src := &v.Projected.Sources[i]
			if src.DownwardAPI != nil {
				defaultDownwardAPIItems(src.DownwardAPI.Items)
			}
			if t := src.ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
				t.ExpirationSeconds = ptr.To(int64(3600))
			}
		}
	case v.HostPath != nil:
		if v.HostPath.Type == nil {
			v.HostPath.Type = ptr.To(corev1.HostPathUnset)
		}
	case v.ISCSI != nil:
		if v.ISCSI.ISCSIInterface == "" {
			v.ISCSI.ISCSIInterface = "default"
		}
	case v.Image != nil:
		if v.Image.PullPolicy == "" {
			if imageTag(v.Image.Reference) == "latest" {
				v.Image.PullPolicy = corev1.PullAlways
			} else {
				v.Image.PullPolicy = corev1.PullIfNotPresent
			}
		}
	}
}

// volumeSources names each volume source that is set, with its JSON field
// name, so validation can say which ones clash.
func volumeSources(v *corev1.VolumeSource) []string {
	var names []string
	add := func(set bool, name string) {
		if set {
			names = append(names, name)
		}
	}
	add(v.HostPath != nil, "hostPath")
	add(v.EmptyDir != nil, "emptyDir")
	add(v.GCEPersistentDisk != nil, "gcePersistentDisk")
	add(v.AWSElasticBlockStore != nil, "awsElasticBlockStore")
	add(v.GitRepo != nil, "gitRepo")
	add(v.Secret != nil, "secret")
	add(v.NFS != nil, "nfs")
	add(v.ISCSI != nil, "iscsi")
	add(v.Glusterfs != nil, "glusterfs")
	add(v.PersistentVolumeClaim != nil, "persistentVolumeClaim")
	add(v.RBD != nil, "rbd")
	add(v.FlexVolume != nil, "flexVolume")
	add(v.Cinder != nil, "cinder")
	add(v.CephFS != nil, "cephfs")
	add(v.Flocker != nil, "flocker")
	add(v.DownwardAPI != nil, "downwardAPI")
	add(v.FC != nil, "fc")
	add(v.AzureFile != nil, "azureFile")
	add(v.ConfigMap != nil, "configMap")
	add(v.VsphereVolume != nil, "vsphereVolume")
	add(v.Quobyte != nil, "quobyte")
	add(v.AzureDisk != nil, "azureDisk")
	add(v.PhotonPersistentDisk != nil, "photonPersistentDisk")
	add(v.Projected != nil, "projected")
	add(v.PortworxVolume != nil, "portworxVolume")
	add(v.ScaleIO != nil, "scaleIO")
	add(v.StorageOS != nil, "storageos")
	add(v.CSI != nil, "csi")
	add(v.Ephemeral != nil, "ephemeral")
	add(v.Image != nil, "image")
	return names
}

func volumeSourceCount(v *corev1.VolumeSource) int { return len(volumeSources(v)) }

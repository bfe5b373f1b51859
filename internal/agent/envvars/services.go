package envvars

import (
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ServiceEnv returns the service link variables the kubelet gives a pod's
// containers (pass them to ResolveWithServices): for the `kubernetes`
// service in `default` always, and for every service in the pod's namespace
// unless pod.Spec.EnableServiceLinks is false. Services without a cluster IP
// (headless, ExternalName) are skipped. Each service NAME (upper-cased,
// dashes as underscores) yields NAME_SERVICE_HOST, NAME_SERVICE_PORT,
// NAME_SERVICE_PORT_<PORTNAME> for named ports, and the Docker-link style
// NAME_PORT, NAME_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}.
func ServiceEnv(pod *corev1.Pod, services []*corev1.Service) map[string]string {
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	chosen := map[string]*corev1.Service{}
	for _, svc := range services {
		ip := svc.Spec.ClusterIP
		if ip == "" || ip == corev1.ClusterIPNone {
			continue
		}
		switch {
		case svc.Namespace == "default" && svc.Name == "kubernetes":
			if _, taken := chosen[svc.Name]; !taken {
				chosen[svc.Name] = svc
			}
		case svc.Namespace == pod.Namespace && links:
			chosen[svc.Name] = svc
		}
	}
	env := map[string]string{}
	for _, svc := range chosen {
		addServiceEnv(env, svc)
	}
	return env
}

func addServiceEnv(env map[string]string, svc *corev1.Service) {
	name := envName(svc.Name)
	ip := svc.Spec.ClusterIP
	env[name+"_SERVICE_HOST"] = ip
	if len(svc.Spec.Ports) == 0 {
		return
	}
	for i, p := range svc.Spec.Ports {
		port := strconv.Itoa(int(p.Port))
		if i == 0 {
			env[name+"_SERVICE_PORT"] = port
		}
		if p.Name != "" {
			env[name+"_SERVICE_PORT_"+envName(p.Name)] = port
		}
	}
	first := svc.Spec.Ports[0]
	env[name+"_PORT"] = linkURL(first, ip)
	for _, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		prefix := name + "_PORT_" + strconv.Itoa(int(p.Port)) + "_" + strings.ToUpper(proto)
		env[prefix] = linkURL(p, ip)
		env[prefix+"_PROTO"] = strings.ToLower(proto)
		env[prefix+"_PORT"] = strconv.Itoa(int(p.Port))
		env[prefix+"_ADDR"] = ip
	}
}

func linkURL(p corev1.ServicePort, ip string) string {
	proto := strings.ToLower(string(p.Protocol))
	if proto == "" {
		proto = "tcp"
	}
	return proto + "://" + net.JoinHostPort(ip, strconv.Itoa(int(p.Port)))
}

func envName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

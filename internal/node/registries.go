package node

import (
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// registriesFile is the --registries file, in the shape of k3s's
// registries.yaml: for each registry host, the endpoints to pull from
// instead.
//
//	mirrors:
//	  "127.0.0.1:5000":
//	    endpoint: ["http://127.0.0.1:5000"]
//	  docker.io:
//	    endpoint: ["https://mirror.example.com"]
type registriesFile struct {
	Mirrors map[string]struct {
		Endpoint []string `json:"endpoint"`
	} `json:"mirrors"`
	Configs map[string]any `json:"configs"`
}

// ReadRegistries reads a --registries file into registry host → the URL
// containerd pulls from (an http:// URL makes the registry plain HTTP).
// Only the first endpoint of a mirror is used.
func ReadRegistries(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("node: registries file: %w", err)
	}
	var f registriesFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("node: registries file %s: %w", path, err)
	}
	if len(f.Configs) > 0 {
		return nil, fmt.Errorf("node: registries file %s: configs (auth, tls) are not supported yet; give pods imagePullSecrets for credentials", path)
	}
	out := map[string]string{}
	hosts := make([]string, 0, len(f.Mirrors))
	for h := range f.Mirrors {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, host := range hosts {
		m := f.Mirrors[host]
		if host == "" || strings.ContainsAny(host, "/ ") {
			return nil, fmt.Errorf("node: registries file %s: %q is not a registry host (host or host:port)", path, host)
		}
		if len(m.Endpoint) == 0 {
			return nil, fmt.Errorf("node: registries file %s: mirror %s has no endpoint", path, host)
		}
		u, err := url.Parse(m.Endpoint[0])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("node: registries file %s: mirror %s: endpoint %q is not an http:// or https:// URL", path, host, m.Endpoint[0])
		}
		out[host] = strings.TrimSuffix(m.Endpoint[0], "/")
	}
	return out, nil
}

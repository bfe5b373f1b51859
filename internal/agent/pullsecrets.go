package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/runtime"
)

// Image pull secrets, as the kubelet uses them: the pod's
// spec.imagePullSecrets are read when an image must be pulled, their
// docker configs make a keyring, and the credentials the keyring holds for
// the image's repository are tried in turn. Secret values never reach a
// log, an event or an error message.

// eventFailedToRetrieveImagePullSecret is the kubelet's event reason for
// pull secrets that could not be read.
const eventFailedToRetrieveImagePullSecret = "FailedToRetrieveImagePullSecret"

// credential is one registry credential from a docker config.
type credential struct {
	Username      string
	Password      string
	Auth          string // base64 of username:password, as given
	IdentityToken string
	RegistryToken string
}

// String keeps credentials out of formatted output.
func (credential) String() string { return "agent.credential{redacted}" }

// GoString keeps credentials out of %#v.
func (c credential) GoString() string { return c.String() }

// authConfig is the credential in CRI's form. ServerAddress stays empty,
// as the kubelet leaves it for secrets: containerd would withhold the
// credential from a host (a mirror, registry-1.docker.io) that differs
// from it.
func (c credential) authConfig() *runtimeapi.AuthConfig {
	return &runtimeapi.AuthConfig{Username: c.Username, Password: c.Password, Auth: c.Auth,
		IdentityToken: c.IdentityToken, RegistryToken: c.RegistryToken}
}

// dockerConfigEntry is one registry's entry in a docker config.
type dockerConfigEntry struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// credential decodes the entry; like the kubelet, a non-empty auth field
// overrides username and password.
func (e dockerConfigEntry) credential() (credential, error) {
	c := credential{Username: e.Username, Password: e.Password, Auth: e.Auth,
		IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth == "" {
		return c, nil
	}
	enc := base64.RawStdEncoding
	if strings.HasSuffix(strings.TrimSpace(e.Auth), "=") {
		enc = base64.StdEncoding
	}
	raw, err := enc.DecodeString(strings.TrimSpace(e.Auth))
	if err != nil {
		return c, fmt.Errorf("auth field is not base64: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return c, errors.New("auth field must be base64 of username:password")
	}
	c.Username, c.Password = user, pass
	return c, nil
}

// keyring holds credentials by registry key (host[:port][/path]); index
// lists the keys reverse-sorted, so that a more specific key of a host
// comes before a less specific one.
type keyring struct {
	index []string
	creds map[string][]credential
}

// newKeyring builds a keyring from the docker configs of secrets of type
// kubernetes.io/dockerconfigjson (key .dockerconfigjson) and
// kubernetes.io/dockercfg (key .dockercfg); secrets of other types are
// ignored. A secret whose config does not parse is left out, and its
// error is returned (naming the secret, never its contents) along with
// the keyring of the others.
func newKeyring(secrets []*corev1.Secret) (*keyring, error) {
	k := &keyring{creds: map[string][]credential{}}
	var errs []error
	for _, s := range secrets {
		cfg, err := dockerConfig(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("agent: image pull secret %s/%s: %w", s.Namespace, s.Name, err))
			continue
		}
		k.add(cfg)
	}
	return k, errors.Join(errs...)
}

// dockerConfig reads the registries and their credentials from a pull
// secret; nil for a secret that holds none.
func dockerConfig(s *corev1.Secret) (map[string]credential, error) {
	var entries map[string]dockerConfigEntry
	switch data := s.Data[corev1.DockerConfigJsonKey]; {
	case s.Type == corev1.SecretTypeDockerConfigJson && len(data) > 0:
		var cfg struct {
			Auths map[string]dockerConfigEntry `json:"auths"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", corev1.DockerConfigJsonKey, jsonError(err))
		}
		entries = cfg.Auths
	case s.Type == corev1.SecretTypeDockercfg && len(s.Data[corev1.DockerConfigKey]) > 0:
		if err := json.Unmarshal(s.Data[corev1.DockerConfigKey], &entries); err != nil {
			return nil, fmt.Errorf("%s: %w", corev1.DockerConfigKey, jsonError(err))
		}
	default:
		return nil, nil
	}
	cfg := map[string]credential{}
	for loc, e := range entries {
		c, err := e.credential()
		if err != nil {
			return nil, fmt.Errorf("registry %q: %w", loc, err)
		}
		cfg[loc] = c
	}
	return cfg, nil
}

// jsonError describes a JSON error without quoting the input: a syntax
// error's message may show a character of a password.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("malformed JSON at byte %d", syntax.Offset)
	}
	return err
}

// add indexes a docker config's credentials. Entries are added in the
// order of their registry names, so lookups are repeatable.
func (k *keyring) add(cfg map[string]credential) {
	locs := make([]string, 0, len(cfg))
	for loc := range cfg {
		locs = append(locs, loc)
	}
	slices.Sort(locs)
	for _, loc := range locs {
		key, ok := registryKey(loc)
		if !ok {
			continue
		}
		if _, seen := k.creds[key]; !seen {
			k.index = append(k.index, key)
		}
		k.creds[key] = append(k.creds[key], cfg[loc])
	}
	slices.Sort(k.index)
	slices.Reverse(k.index)
}

// registryKey turns a docker config's registry name ("https://r.io/v1/",
// "r.io:5000/team", "*.example.com") into a key: host, port and path
// without scheme, where a leading /v1 or /v2 of the path counts for
// nothing, as in the docker client.
func registryKey(loc string) (string, bool) {
	if !strings.HasPrefix(loc, "https://") && !strings.HasPrefix(loc, "http://") {
		loc = "https://" + loc
	}
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return "", false
	}
	p := u.Path
	if strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") {
		p = p[3:]
	}
	if p == "" || p == "/" {
		return u.Host, true
	}
	return u.Host + p, true
}

// defaultRegistryKey is Docker Hub's key ("https://index.docker.io/v1/").
const defaultRegistryKey = "index.docker.io"

// lookup returns the credentials for an image, most specific key first.
// When no key matches and the image is on Docker Hub, the credentials
// for index.docker.io apply.
func (k *keyring) lookup(image string) []credential {
	repo := imageRepository(image)
	var out []credential
	for _, key := range k.index {
		if keyMatches(key, repo) {
			out = append(out, k.creds[key]...)
		}
	}
	if len(out) == 0 && strings.HasPrefix(repo, "docker.io/") {
		out = append(out, k.creds[defaultRegistryKey]...)
	}
	return out
}

// imageRepository is the repository an image reference names, without
// tag or digest, with the registry made explicit as the runtime resolves
// it: "busybox:1.36" is docker.io/library/busybox.
func imageRepository(image string) string {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	domain, rest, ok := strings.Cut(name, "/")
	if !ok || !strings.ContainsAny(domain, ".:") && domain != "localhost" && strings.ToLower(domain) == domain {
		domain, rest = "docker.io", name
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return domain + "/" + rest
}

// keyMatches reports whether a registry key covers a repository: the same
// port, a host with as many labels each matching the key's (which may be
// a wildcard like *.example.com), and a path the key's path prefixes.
func keyMatches(key, repo string) bool {
	k, err := url.Parse("https://" + key)
	if err != nil {
		return false
	}
	r, err := url.Parse("https://" + repo)
	if err != nil {
		return false
	}
	kHost, kPort := splitHost(k.Host)
	rHost, rPort := splitHost(r.Host)
	if kPort != rPort || len(kHost) != len(rHost) || !strings.HasPrefix(r.Path, k.Path) {
		return false
	}
	for i := range kHost {
		if ok, err := path.Match(kHost[i], rHost[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

// splitHost splits host[:port] into the host's labels and the port.
func splitHost(hostport string) ([]string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return strings.Split(host, "."), port
}

// pullImage pulls an image as the kubelet does: with no credentials,
// anonymously; else with each credential in turn until one succeeds. The
// error of a single try is returned as is; of several, all messages.
func pullImage(ctx context.Context, images runtime.Images, spec *runtimeapi.ImageSpec, creds []credential,
	sbCfg *runtimeapi.PodSandboxConfig) (string, error) {
	if len(creds) == 0 {
		return images.PullImage(ctx, spec, nil, sbCfg)
	}
	var errs []error
	for _, c := range creds {
		ref, err := images.PullImage(ctx, spec, c.authConfig(), sbCfg)
		if err == nil {
			return ref, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return "", errs[0]
	}
	msgs := make([]error, len(errs))
	for i, err := range errs {
		msgs[i] = errors.New(grpcMessage(err))
	}
	return "", utilerrors.NewAggregate(msgs)
}

// pull pulls a container's image with the pod's image pull secrets. A
// secret that cannot be read is a Warning event on the pod and is left
// out; one that does not parse fails the pull, as in the kubelet.
func (w *worker) pull(ctx context.Context, pod *corev1.Pod, spec *runtimeapi.ImageSpec,
	sbCfg *runtimeapi.PodSandboxConfig) (string, error) {
	a := w.a
	src := &objectSource{client: a.client}
	var secrets []*corev1.Secret
	var failed []string
	for _, ref := range pod.Spec.ImagePullSecrets {
		if ref.Name == "" {
			continue
		}
		s, err := src.Secret(ctx, pod.Namespace, ref.Name)
		if err != nil {
			a.log.Info("agent: unable to retrieve pull secret, the image pull may not succeed",
				"pod", podDescription(pod), "secret", ref.Name, "err", err)
			failed = append(failed, ref.Name)
			continue
		}
		secrets = append(secrets, s)
	}
	if len(failed) > 0 {
		a.podEvent(pod, corev1.EventTypeWarning, eventFailedToRetrieveImagePullSecret,
			"Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.",
			strings.Join(failed, ", "))
	}
	k, err := newKeyring(secrets)
	if err != nil {
		return "", err
	}
	return pullImage(ctx, a.o.Images, spec, k.lookup(spec.Image), sbCfg)
}

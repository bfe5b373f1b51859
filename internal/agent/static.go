package agent

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"skiff.dev/internal/registry"
)

// Annotations of static and mirror pods, the kubelet's.
const (
	annotationConfigSource = "kubernetes.io/config.source"
	annotationConfigHash   = "kubernetes.io/config.hash"
	annotationConfigSeen   = "kubernetes.io/config.seen"
	annotationConfigMirror = "kubernetes.io/config.mirror"
)

// staticSource runs the pods whose manifests are files in StaticPodDir:
// it reads the directory every StaticPodPollPeriod, starts a pod for each
// new manifest, stops the pods whose manifest went away or changed, and
// keeps a mirror pod in the API for each.
type staticSource struct {
	a        *Agent
	kickCh   chan struct{}
	strategy registry.Strategy

	mu     sync.Mutex
	pods   map[types.UID]*corev1.Pod
	seen   map[types.UID]string
	logged map[string]string // file → last error reported
}

func newStaticSource(a *Agent) *staticSource {
	return &staticSource{a: a, kickCh: make(chan struct{}, 1), strategy: podStrategy(), pods: map[types.UID]*corev1.Pod{},
		seen: map[types.UID]string{}, logged: map[string]string{}}
}

// has reports whether uid is one of the static pods.
func (s *staticSource) has(uid types.UID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.pods[uid]
	return ok
}

// kick asks for a poll soon (a mirror pod changed). Without static pods
// (a nil source) it does nothing.
func (s *staticSource) kick() {
	if s == nil {
		return
	}
	select {
	case s.kickCh <- struct{}{}:
	default:
	}
}

// loop polls until ctx ends.
func (s *staticSource) loop(ctx context.Context) {
	t := time.NewTicker(s.a.o.StaticPodPollPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kickCh:
		}
		s.poll(ctx)
	}
}

// poll reads the manifests, starts and stops pods to match, and
// reconciles the mirror pods.
func (s *staticSource) poll(ctx context.Context) {
	pods := s.read()
	s.mu.Lock()
	old := s.pods
	s.pods = pods
	s.mu.Unlock()
	for uid, p := range pods {
		if _, ok := old[uid]; !ok {
			s.a.podUpdated(p, true)
		}
	}
	for uid := range old {
		if _, ok := pods[uid]; !ok {
			if w := s.a.worker(uid); w != nil {
				w.remove()
			}
		}
	}
	s.reconcileMirrors(ctx, pods)
}

// read parses every manifest in the directory.
func (s *staticSource) read() map[types.UID]*corev1.Pod {
	dir := s.a.o.StaticPodDir
	out := map[types.UID]*corev1.Pod{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	names := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			s.report(path, err)
			continue
		}
		pod, err := parseStaticPod(data, path, s.a.o.NodeName, s.strategy)
		if err != nil {
			s.report(path, err)
			continue
		}
		key := pod.Namespace + "/" + pod.Name
		if other, ok := names[key]; ok {
			s.report(path, fmt.Errorf("agent: static pod %s is already defined in %s", key, other))
			continue
		}
		names[key] = path
		s.report(path, nil)
		s.mu.Lock()
		if s.seen[pod.UID] == "" {
			s.seen[pod.UID] = time.Now().Format(time.RFC3339Nano)
		}
		pod.Annotations[annotationConfigSeen] = s.seen[pod.UID]
		s.mu.Unlock()
		out[pod.UID] = pod
	}
	return out
}

// report logs a manifest's error once (until it changes).
func (s *staticSource) report(path string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logged[path] == msg {
		return
	}
	s.logged[path] = msg
	if err != nil {
		s.a.log.Warn("agent: static pod manifest", "file", path, "err", err)
	}
}

// parseStaticPod decodes a manifest (YAML or JSON) into the static pod the
// kubelet makes of it: defaulted like an API pod, named <name>-<node>, in
// namespace default unless it says otherwise, bound to the node, with a
// UID hashed from the manifest, the node and the file, that hash in the
// config.hash annotation, config.source "file", and a toleration of every
// NoExecute taint.
func parseStaticPod(data []byte, path, nodeName string, strategy registry.Strategy) (*corev1.Pod, error) {
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		return nil, fmt.Errorf("agent: %s: %w", path, err)
	}
	if pod.Kind != "Pod" || pod.APIVersion != "v1" {
		return nil, fmt.Errorf("agent: %s: want apiVersion v1 and kind Pod, got %q %q", path, pod.APIVersion, pod.Kind)
	}
	if pod.Name == "" {
		return nil, fmt.Errorf("agent: %s: the pod has no name", path)
	}
	strategy.Default(&pod)
	if pod.UID == "" {
		b, err := json.Marshal(&pod)
		if err != nil {
			return nil, fmt.Errorf("agent: %s: %w", path, err)
		}
		h := md5.New()
		h.Write(b)
		fmt.Fprintf(h, "host:%s", nodeName)
		fmt.Fprintf(h, "file:%s", path)
		pod.UID = types.UID(hex.EncodeToString(h.Sum(nil)))
	}
	pod.Name = pod.Name + "-" + strings.ToLower(nodeName)
	if pod.Namespace == "" {
		pod.Namespace = metav1.NamespaceDefault
	}
	pod.Spec.NodeName = nodeName
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[annotationConfigHash] = string(pod.UID)
	pod.Annotations[annotationConfigSource] = "file"
	tolerate := corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
	found := false
	for _, t := range pod.Spec.Tolerations {
		if t.MatchToleration(&tolerate) {
			found = true
		}
	}
	if !found {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, tolerate)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	if msgs := validation.IsDNS1123Subdomain(pod.Name); len(msgs) > 0 {
		return nil, fmt.Errorf("agent: %s: invalid pod name %q: %s", path, pod.Name, strings.Join(msgs, "; "))
	}
	if errs := strategy.Validate(&pod); len(errs) > 0 {
		return nil, fmt.Errorf("agent: %s: %w", path, errs.ToAggregate())
	}
	return &pod, nil
}

// podStrategy is the API server's Pod strategy, whose defaults and
// validation static pods get too.
func podStrategy() registry.Strategy {
	for _, r := range registry.All() {
		if r.Kind.Group == "" && r.Kind.Kind == "Pod" {
			return r.Strategy
		}
	}
	panic("agent: the registry has no Pod resource")
}

// isStatic reports whether a pod comes from a manifest file.
func isStatic(pod *corev1.Pod) bool {
	src, ok := pod.Annotations[annotationConfigSource]
	return ok && src != "api"
}

// isMirror reports whether a pod is the API's mirror of a static pod.
func isMirror(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[annotationConfigMirror]
	return ok
}

// isMirrorOf reports whether mirror mirrors this version of static.
func isMirrorOf(mirror, static *corev1.Pod) bool {
	h, ok := mirror.Annotations[annotationConfigMirror]
	return ok && h == static.Annotations[annotationConfigHash]
}

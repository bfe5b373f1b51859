package volumes

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// tokenKey identifies one projected token of a pod.
type tokenKey struct {
	pod        types.UID
	audience   string
	expiration int64
}

// token is a cached token and when to ask for a new one.
type token struct {
	value   string
	refresh time.Time
}

// token returns a service account token for pod, from the cache while less
// than 80% of its lifetime has passed (the kubelet's rule).
func (m *Manager) token(ctx context.Context, pod *corev1.Pod, audience string, expiration int64) (string, error) {
	if m.o.Tokens == nil {
		return "", errors.New("projected serviceAccountToken sources are not supported: the node has no token source")
	}
	key := tokenKey{pod: pod.UID, audience: audience, expiration: expiration}
	now := time.Now()
	m.mu.Lock()
	t, ok := m.tokens[key]
	m.mu.Unlock()
	if ok && now.Before(t.refresh) {
		return t.value, nil
	}
	value, err := m.o.Tokens.ServiceAccountToken(ctx, pod, audience, expiration)
	if err != nil {
		return "", fmt.Errorf("get service account token: %w", err)
	}
	lifetime := time.Duration(expiration) * time.Second * 8 / 10
	m.mu.Lock()
	m.tokens[key] = token{value: value, refresh: now.Add(lifetime)}
	m.mu.Unlock()
	return value, nil
}

// forgetPod drops the cached tokens and the lock entry of a pod. (A Setup
// waiting on the old lock still runs; it only recreates the pod's files.)
func (m *Manager) forgetPod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pods, uid)
	for k := range m.tokens {
		if k.pod == uid {
			delete(m.tokens, k)
		}
	}
}

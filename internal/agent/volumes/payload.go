package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/agent/envvars"
)

// defaultMode is the file mode of configMap, secret, downwardAPI and
// projected files when the volume sets none (the API default, 0644).
const defaultMode = os.FileMode(corev1.ConfigMapVolumeSourceDefaultMode)

// payload computes the files of a configMap, secret, downwardAPI or
// projected volume.
func (m *Manager) payload(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (map[string]file, error) {
	files := map[string]file{}
	var err error
	switch {
	case v.ConfigMap != nil:
		s := v.ConfigMap
		err = m.addConfigMap(ctx, pod, files, s.Name, s.Items, isTrue(s.Optional), modeOr(s.DefaultMode, defaultMode))
	case v.Secret != nil:
		s := v.Secret
		err = m.addSecret(ctx, pod, files, s.SecretName, s.Items, isTrue(s.Optional), modeOr(s.DefaultMode, defaultMode))
	case v.DownwardAPI != nil:
		err = m.addDownwardAPI(pod, files, v.DownwardAPI.Items, modeOr(v.DownwardAPI.DefaultMode, defaultMode))
	case v.Projected != nil:
		err = m.addProjected(ctx, pod, files, v.Projected)
	}
	return files, err
}

func (m *Manager) addProjected(ctx context.Context, pod *corev1.Pod, files map[string]file, p *corev1.ProjectedVolumeSource) error {
	mode := modeOr(p.DefaultMode, defaultMode)
	for _, src := range p.Sources {
		var err error
		switch {
		case src.ConfigMap != nil:
			s := src.ConfigMap
			err = m.addConfigMap(ctx, pod, files, s.Name, s.Items, isTrue(s.Optional), mode)
		case src.Secret != nil:
			s := src.Secret
			err = m.addSecret(ctx, pod, files, s.Name, s.Items, isTrue(s.Optional), mode)
		case src.DownwardAPI != nil:
			err = m.addDownwardAPI(pod, files, src.DownwardAPI.Items, mode)
		case src.ServiceAccountToken != nil:
			s := src.ServiceAccountToken
			expiration := int64(3600)
			if s.ExpirationSeconds != nil {
				expiration = *s.ExpirationSeconds
			}
			var tok string
			if tok, err = m.token(ctx, pod, s.Audience, expiration); err == nil {
				files[s.Path] = file{data: []byte(tok), mode: mode}
			}
		case src.ClusterTrustBundle != nil:
			err = errors.New("projected clusterTrustBundle sources are not supported")
		case src.PodCertificate != nil:
			err = errors.New("projected podCertificate sources are not supported")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) addConfigMap(ctx context.Context, pod *corev1.Pod, files map[string]file, name string, items []corev1.KeyToPath, optional bool, mode os.FileMode) error {
	if m.o.Source == nil {
		return errors.New("no source to get configmaps from")
	}
	cm, err := m.o.Source.ConfigMap(ctx, pod.Namespace, name)
	if err != nil {
		if err := envvars.LookupError(err, "configmap", pod.Namespace, name, optional); err != nil {
			return err
		}
		cm = &corev1.ConfigMap{}
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return addKeys(files, data, items, optional, mode, "configmap references non-existent config key: %s")
}

func (m *Manager) addSecret(ctx context.Context, pod *corev1.Pod, files map[string]file, name string, items []corev1.KeyToPath, optional bool, mode os.FileMode) error {
	if m.o.Source == nil {
		return errors.New("no source to get secrets from")
	}
	s, err := m.o.Source.Secret(ctx, pod.Namespace, name)
	if err != nil {
		if err := envvars.LookupError(err, "secret", pod.Namespace, name, optional); err != nil {
			return err
		}
		s = &corev1.Secret{}
	}
	return addKeys(files, s.Data, items, optional, mode, "references non-existent secret key: %s")
}

// addKeys adds every key of data, or only the listed items (key → path,
// with their own modes); a listed key that is missing is an error unless
// the source is optional.
func addKeys(files map[string]file, data map[string][]byte, items []corev1.KeyToPath, optional bool, mode os.FileMode, missing string) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = file{data: v, mode: mode}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf(missing, it.Key)
		}
		files[it.Path] = file{data: v, mode: modeOr(it.Mode, mode)}
	}
	return nil
}

func (m *Manager) addDownwardAPI(pod *corev1.Pod, files map[string]file, items []corev1.DownwardAPIVolumeFile, mode os.FileMode) error {
	for _, it := range items {
		var value string
		var err error
		switch {
		case it.FieldRef != nil:
			value, err = envvars.FieldValue(pod, it.FieldRef.APIVersion, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			value, err = envvars.ResourceValue(pod, nil, it.ResourceFieldRef, m.o.NodeAllocatable)
		}
		if err != nil {
			return fmt.Errorf("downwardAPI file %s: %w", it.Path, err)
		}
		files[it.Path] = file{data: []byte(value), mode: modeOr(it.Mode, mode)}
	}
	return nil
}

func modeOr(m *int32, def os.FileMode) os.FileMode {
	if m == nil {
		return def
	}
	return os.FileMode(*m).Perm()
}

func isTrue(b *bool) bool { return b != nil && *b }

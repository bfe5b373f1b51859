package registry

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func secrets() Resource {
	return Resource{
		Kind:       gvk(core, "Secret"),
		Name:       "secrets",
		Singular:   "secret",
		Namespaced: true,
		Strategy: Strategy{
			Default: func(obj runtime.Object) { defaultSecret(obj.(*corev1.Secret)) },
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateSecret(obj.(*corev1.Secret))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateSecretUpdate(obj.(*corev1.Secret), old.(*corev1.Secret))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Type", "string", corev1.Secret{}.SwaggerDoc()["type"]),
				column("Data", "string", corev1.Secret{}.SwaggerDoc()["data"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				s := obj.(*corev1.Secret)
				return []interface{}{s.Name, string(s.Type), int64(len(s.Data)), age(s.CreationTimestamp)}
			},
			Fields: func(obj runtime.Object) fields.Set {
				return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
			},
		},
	}
}

// defaultSecret sets the type to Opaque and folds stringData into data, as
// upstream's conversion does: stringData is write-only and never stored.
func defaultSecret(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// secretRequiredKeys are the data keys each well-known secret type needs.
var secretRequiredKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
}

func validateSecret(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	dp := field.NewPath("data")
	total := 0
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		errs = append(errs, validateDataKey(k, dp.Key(k))...)
		total += len(s.Data[k])
	}
	if total > maxDataSize {
		errs = append(errs, field.TooLong(dp, "", maxDataSize))
	}
	for _, k := range secretRequiredKeys[s.Type] {
		if _, ok := s.Data[k]; !ok {
			errs = append(errs, field.Required(dp.Key(k), ""))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeBasicAuth:
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, pass := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !pass {
			errs = append(errs, field.Required(dp.Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(dp.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeDockercfg, corev1.SecretTypeDockerConfigJson:
		key := secretRequiredKeys[s.Type][0]
		if v, ok := s.Data[key]; ok {
			var doc map[string]interface{}
			if err := json.Unmarshal(v, &doc); err != nil {
				errs = append(errs, field.Invalid(dp.Key(key), "<secret contents redacted>", err.Error()))
			}
		}
	}
	return errs
}

func validateSecretUpdate(s, old *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	if s.Type != old.Type {
		errs = append(errs, field.Invalid(field.NewPath("type"), s.Type, "field is immutable"))
	}
	if old.Immutable != nil && *old.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !reflect.DeepEqual(s.Data, old.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

package apiserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

var (
	scheme = newScheme()
	codecs = serializer.NewCodecFactory(scheme, serializer.EnableStrict)
)

// metaGV is the group of Table and PartialObjectMetadata.
var metaGV = schema.GroupVersion{Group: "meta.k8s.io", Version: "v1"}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	s.AddKnownTypes(metaGV, &metav1.Table{}, &metav1.TableOptions{},
		&metav1.PartialObjectMetadata{}, &metav1.PartialObjectMetadataList{})
	s.AddKnownTypes(schema.GroupVersion{Group: "meta.k8s.io", Version: "v1beta1"},
		&metav1beta1.Table{}, &metav1beta1.TableOptions{},
		&metav1beta1.PartialObjectMetadata{}, &metav1beta1.PartialObjectMetadataList{})
	metav1.AddToGroupVersion(s, metaGV)
	return s
}

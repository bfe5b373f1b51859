package apiserver

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Media types the server speaks.
const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
)

// Forms of a response besides the object itself, chosen by the Accept
// header's as= parameter.
const (
	asObject      = ""
	asTable       = "Table"
	asPartialMeta = "PartialObjectMetadata"
	asPartialList = "PartialObjectMetadataList"
)

// encoder writes responses in one negotiated media type and form.
type encoder struct {
	info      runtime.SerializerInfo
	mediaType string
	as        string // asObject, asTable, ...
	asVersion string // v1 or v1beta1 of meta.k8s.io
}

func (e encoder) encode(obj runtime.Object, w io.Writer) error {
	setKind(obj)
	return e.info.Serializer.Encode(obj, w)
}

func serializerFor(mediaType string) (runtime.SerializerInfo, bool) {
	return runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), mediaType)
}

// negotiate picks the response encoder from the Accept header. It fails with
// 406 when no offered type is served.
func negotiate(r *http.Request) (encoder, error) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = mediaJSON
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json;stream=watch":
			mt = mediaJSON
		}
		info, ok := serializerFor(mt)
		if !ok {
			continue
		}
		e := encoder{info: info, mediaType: mt}
		if as := params["as"]; as != "" {
			if params["g"] != "meta.k8s.io" || (params["v"] != "v1" && params["v"] != "v1beta1") {
				continue
			}
			switch as {
			case asTable, asPartialMeta, asPartialList:
			default:
				continue
			}
			if as == asTable && mt == mediaProtobuf {
				continue // tables have no protobuf form
			}
			e.as, e.asVersion = as, params["v"]
			e.mediaType = fmt.Sprintf("%s;as=%s;g=meta.k8s.io;v=%s", mt, as, params["v"])
		}
		return e, nil
	}
	return encoder{}, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "", fmt.Sprintf("only the following media types are accepted: %s, %s, %s", mediaJSON, mediaYAML, mediaProtobuf), 0, false)
}

// negotiateError picks the encoder for an error: as negotiate, but never
// failing and never a Table.
func negotiateError(r *http.Request) encoder {
	e, err := negotiate(r)
	if err != nil || e.as != asObject {
		info, _ := serializerFor(mediaJSON)
		return encoder{info: info, mediaType: mediaJSON}
	}
	return e
}

// maxBodyBytes is upstream's limit on a request body.
const maxBodyBytes = 3 << 20

// readBody reads the request body, refusing one over the limit with 413.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	}
	if err != nil {
		return nil, badRequest("reading the request body: %v", err)
	}
	return body, nil
}

// decodeBody decodes an object of kind gvk from a body in the request's
// content type, into into. Unknown and duplicate fields fail the request
// under fieldValidation=Strict and become warnings under Warn (the default).
func decodeBody(r *http.Request, body []byte, gvk schema.GroupVersionKind, into runtime.Object) ([]string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = mediaJSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, unsupportedMedia(ct)
	}
	info, ok := serializerFor(mt)
	if !ok {
		return nil, unsupportedMedia(ct)
	}
	return decode(info, r.URL.Query().Get("fieldValidation"), body, gvk, into)
}

// decode is decodeBody with the serializer and the fieldValidation
// parameter given.
func decode(info runtime.SerializerInfo, validation string, body []byte, gvk schema.GroupVersionKind, into runtime.Object) ([]string, error) {
	if validation == "" {
		validation = "Warn"
	}
	dec := runtime.Decoder(info.Serializer)
	if info.StrictSerializer != nil && validation != "Ignore" {
		dec = info.StrictSerializer
	}
	obj, got, err := dec.Decode(body, &gvk, into)
	var warnings []string
	if err != nil {
		// Upstream's wording: `Deployment in version "v1" cannot be handled
		// as a Deployment: strict decoding error: unknown field "spec.x"`.
		prefix := fmt.Sprintf("%s in version %q cannot be handled as a %s: ", gvk.Kind, gvk.Version, gvk.Kind)
		if !runtime.IsStrictDecodingError(err) || obj == nil {
			return nil, badRequest("%s%v", prefix, decodeMessage(err))
		}
		if validation == "Strict" {
			return nil, badRequest("%s%v", prefix, err)
		}
		if errs, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range errs.Errors() {
				warnings = append(warnings, e.Error())
			}
		}
	}
	if got != nil && (got.Kind != gvk.Kind || got.GroupVersion() != gvk.GroupVersion()) {
		if got.GroupVersion() != gvk.GroupVersion() {
			return nil, badRequest("the API version in the data (%s) does not match the expected API version (%s)", got.GroupVersion(), gvk.GroupVersion())
		}
		return nil, badRequest("the kind in the data (%s) does not match the expected kind (%s)", got.Kind, gvk.Kind)
	}
	if obj != into {
		return nil, badRequest("the body does not decode to a %s", gvk.Kind)
	}
	return warnings, nil
}

func decodeMessage(err error) string {
	msg := err.Error()
	if len(msg) > 1024 {
		msg = msg[:1024] + "..."
	}
	return msg
}

// setKind fills an object's apiVersion and kind from the scheme when empty.
func setKind(obj runtime.Object) {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return
	}
	if _, ok := obj.(*metav1.Status); ok {
		obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Status"})
		return
	}
	kinds, _, err := scheme.ObjectKinds(obj)
	if err == nil && len(kinds) > 0 {
		obj.GetObjectKind().SetGroupVersionKind(kinds[0])
	}
}

func unsupportedMedia(ct string) error {
	return apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "", schema.GroupResource{}, "",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s", mediaJSON, mediaYAML, mediaProtobuf), 0, false)
}

func mediaTypeOnly(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

package openapi

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	"github.com/munnerz/goautoneg"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/discovery"
)

// The media types of the v2 document. kubectl and client-go ask for the
// protobuf form only (with the "@" spelling); browsers and curl get JSON.
const (
	v2Protobuf           = "com.github.proto-openapi.spec.v2.v1.0+protobuf"
	v2ProtobufDeprecated = "com.github.proto-openapi.spec.v2@v1.0+protobuf"
)

// v2Handler serves the v2 document, built and encoded on first use.
type v2Handler struct {
	build func() ([]byte, error)

	jsonOnce sync.Once
	json     []byte
	etag     string
	modified time.Time
	err      error

	protoOnce sync.Once
	proto     []byte
	protoErr  error
}

func (h *v2Handler) getJSON() ([]byte, error) {
	h.jsonOnce.Do(func() {
		h.json, h.err = h.build()
		sum := sha512.Sum512(h.json)
		h.etag = `"` + hex.EncodeToString(sum[:]) + `"`
		h.modified = time.Now()
	})
	return h.json, h.err
}

// getProto converts the JSON document to gnostic's protobuf form, the one
// client-go's OpenAPISchema decodes.
func (h *v2Handler) getProto() ([]byte, error) {
	h.protoOnce.Do(func() {
		var j []byte
		if j, h.protoErr = h.getJSON(); h.protoErr != nil {
			return
		}
		var doc *openapiv2.Document
		if doc, h.protoErr = openapiv2.ParseDocument(j); h.protoErr != nil {
			return
		}
		h.proto, h.protoErr = proto.Marshal(doc)
	})
	return h.proto, h.protoErr
}

func (h *v2Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = "*/*"
	}
	w.Header().Add("Vary", "Accept")
	for _, c := range goautoneg.ParseAccept(accept) {
		if c.Type != "application" && c.Type != "*" {
			continue
		}
		var body []byte
		var err error
		var contentType string
		switch c.SubType {
		case "json", "*":
			body, err = h.getJSON()
			contentType = "application/json"
		case v2Protobuf, v2ProtobufDeprecated:
			body, err = h.getProto()
			contentType = "application/" + v2Protobuf
		default:
			continue
		}
		if err != nil {
			discovery.WriteStatus(w, http.StatusInternalServerError, "InternalError", "openapi: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("ETag", h.etag)
		http.ServeContent(w, r, "", h.modified, bytes.NewReader(body))
		return
	}
	discovery.WriteStatus(w, http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable, "only application/json and "+
		"application/"+v2Protobuf+" are served")
}

package join

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"skiff.dev/internal/pki"
)

// Paths of the join endpoints on the API server's port.
const (
	CACertsPath = "/skiff/v1/cacerts"
	JoinPath    = "/skiff/v1/join"
)

// request is what an agent posts to JoinPath.
type request struct {
	NodeName string   `json:"nodeName"`
	Hosts    []string `json:"hosts,omitempty"`
}

// response carries PEM blocks back to the agent.
type response struct {
	CA          string `json:"ca"`
	ClientCert  string `json:"clientCert"`
	ClientKey   string `json:"clientKey"`
	ServingCert string `json:"servingCert"`
	ServingKey  string `json:"servingKey"`
}

// Handler serves the join endpoints for the cluster whose CA is in certs.
type Handler struct {
	certs  *pki.Bundle
	secret string
}

// NewHandler returns the join endpoints; token is the cluster's token.
func NewHandler(certs *pki.Bundle, token Token) *Handler {
	return &Handler{certs: certs, secret: token.Secret}
}

// Handles tells whether path is one of the join endpoints.
func (h *Handler) Handles(path string) bool {
	return path == CACertsPath || path == JoinPath
}

// ServeHTTP answers the CA request and the join request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == CACertsPath && r.Method == http.MethodGet:
		ca, err := os.ReadFile(h.certs.CACert)
		if err != nil {
			writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(ca)
	case r.URL.Path == JoinPath && r.Method == http.MethodPost:
		h.join(w, r)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			fmt.Sprintf("%s is not supported on %s", r.Method, r.URL.Path))
	}
}

func (h *Handler) join(w http.ResponseWriter, r *http.Request) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(h.secret)) != 1 {
		writeStatus(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized,
			"the join token is not valid for this cluster; use the token in the server's DATA_DIR/token")
		return
	}
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "join: cannot read the request: "+err.Error())
		return
	}
	if errs := validation.IsDNS1123Subdomain(req.NodeName); len(errs) > 0 {
		writeStatus(w, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid,
			fmt.Sprintf("invalid node name %q: %s", req.NodeName, strings.Join(errs, "; ")))
		return
	}
	ca, err := os.ReadFile(h.certs.CACert)
	if err != nil {
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error())
		return
	}
	clientCert, clientKey, err := pki.IssueClient(h.certs, pki.NodeUserPrefix+req.NodeName, []string{pki.NodeGroup})
	if err != nil {
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error())
		return
	}
	hosts := append([]string{req.NodeName, "localhost", "127.0.0.1"}, req.Hosts...)
	servingCert, servingKey, err := pki.IssueServing(h.certs, req.NodeName, hosts)
	if err != nil {
		writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(response{CA: string(ca), ClientCert: string(clientCert), ClientKey: string(clientKey),
		ServingCert: string(servingCert), ServingKey: string(servingKey)})
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
	})
}

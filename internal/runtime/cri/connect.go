package cri

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	criapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	criclient "k8s.io/cri-client/pkg"

	"skiff.dev/internal/runtime"
)

// The CRI client's services satisfy skiff's runtime interfaces as they are.
var (
	_ runtime.Runtime = criapi.RuntimeService(nil)
	_ runtime.Images  = criapi.ImageManagerService(nil)
)

// requestTimeout bounds each CRI call (RunPodSandbox gets twice as long,
// image pulls are unbounded), as the kubelet's --runtime-request-timeout
// does; this is its default.
const requestTimeout = 2 * time.Minute

// criAPIVersion is the CRI version skiff speaks.
const criAPIVersion = "v1"

// Connect returns the runtime and image services of the CRI runtime at
// endpoint ("unix:///run/containerd/containerd.sock", or just the socket's
// path), after checking that it answers Version for CRI v1.
func Connect(ctx context.Context, endpoint string) (runtime.Runtime, runtime.Images, error) {
	endpoint = normalizeEndpoint(endpoint)
	if _, err := criVersion(ctx, endpoint); err != nil {
		return nil, nil, err
	}
	return newClients(endpoint)
}

// normalizeEndpoint turns a bare socket path into a unix:// URL.
func normalizeEndpoint(endpoint string) string {
	if !strings.Contains(endpoint, "://") {
		return "unix://" + endpoint
	}
	return endpoint
}

// newClients makes the CRI client's runtime and image services for
// endpoint. They keep their gRPC connection for the life of the process
// (the CRI client has no Close), so make them once per endpoint.
func newClients(endpoint string) (runtime.Runtime, runtime.Images, error) {
	rs, err := criclient.NewRemoteRuntimeService(endpoint, requestTimeout, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("cri: runtime service at %s: %w", endpoint, err)
	}
	is, err := criclient.NewRemoteImageService(endpoint, requestTimeout, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("cri: image service at %s: %w", endpoint, err)
	}
	return rs, is, nil
}

// criVersion asks the runtime at endpoint for its version on a connection
// of its own, closed before returning, and checks it speaks CRI v1.
func criVersion(ctx context.Context, endpoint string) (*runtimeapi.VersionResponse, error) {
	path, ok := strings.CutPrefix(endpoint, "unix://")
	if !ok {
		return nil, fmt.Errorf("cri: endpoint %q: only unix sockets are supported", endpoint)
	}
	conn, err := grpc.NewClient("unix://"+path,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority("localhost"))
	if err != nil {
		return nil, fmt.Errorf("cri: %s: %w", endpoint, err)
	}
	defer conn.Close()
	resp, err := runtimeapi.NewRuntimeServiceClient(conn).Version(ctx, &runtimeapi.VersionRequest{Version: criAPIVersion})
	if err != nil {
		return nil, fmt.Errorf("cri: %s: version: %w", endpoint, err)
	}
	if resp.RuntimeApiVersion != criAPIVersion {
		return nil, fmt.Errorf("cri: %s: %s %s speaks CRI %q, not %q", endpoint,
			resp.RuntimeName, resp.RuntimeVersion, resp.RuntimeApiVersion, criAPIVersion)
	}
	return resp, nil
}

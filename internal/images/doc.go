// Package images builds the container images skiff ships and serves them
// without internet access.
//
// skiff needs a few images on a machine that cannot pull from a public
// registry: the pod sandbox's pause image, a busybox image for everyday pods
// and tests, and the test web server image. This package assembles them in
// memory (go-containerregistry's v1.Image), serves them from an in-process
// OCI registry (Serve) that containerd pulls from, and writes them as
// tarballs (WriteTarball) for `ctr images import` by hand.
//
// The pause binary is embedded: scripts/build-pause.sh (run by `go
// generate`) builds images/pause statically and reproducibly for linux/amd64
// and linux/arm64 and stores both gzip-compressed next to this file, so a
// user's machine needs no Go toolchain. The busybox image wraps the host's
// busybox-static binary; the test web server binary is built by the caller.
package images

// RegistryHost is the host name of the references below. It is not resolvable:
// the registry that Serve runs stands in for it (containerd is configured to
// reach it through a mirror entry for this host).
const RegistryHost = "registry.skiff.local"

// The references of the images this package builds. A pod spec names these;
// tags other than "latest" keep the default pull policy at IfNotPresent.
const (
	// PauseRef is the pod sandbox image (Pause), tagged with the upstream
	// pause release whose behaviour images/pause copies.
	PauseRef = RegistryHost + "/pause:3.10"
	// BusyboxRef is the busybox image (Busybox); the tag is busybox's major
	// version, since the binary comes from the host's busybox-static package.
	BusyboxRef = RegistryHost + "/busybox:1"
	// TestWebRef is the test web server image (TestWeb).
	TestWebRef = RegistryHost + "/testweb:v1"
)

package images

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

//go:generate ../../scripts/build-pause.sh

// pauseFiles holds images/pause built by scripts/build-pause.sh for each
// architecture skiff ships, gzip-compressed, and the Go version that built
// them.
//
//go:embed pause_linux_amd64.gz pause_linux_arm64.gz pause_go_version.txt
var pauseFiles embed.FS

// PauseArchs are the architectures whose pause binary is embedded.
var PauseArchs = []string{"amd64", "arm64"}

// PauseGoVersion is the Go version that built the embedded pause binaries
// (e.g. "go1.26.8").
func PauseGoVersion() string {
	b, _ := pauseFiles.ReadFile("pause_go_version.txt")
	return strings.TrimSpace(string(b))
}

// PauseBinary returns the embedded static pause executable for a GOARCH
// ("amd64" or "arm64").
func PauseBinary(arch string) ([]byte, error) {
	gz, err := pauseFiles.ReadFile("pause_linux_" + arch + ".gz")
	if err != nil {
		return nil, fmt.Errorf("images: no pause binary for linux/%s (have %s)", arch, strings.Join(PauseArchs, ", "))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("images: pause binary for %s: %w", arch, err)
	}
	defer zr.Close()
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("images: pause binary for %s: %w", arch, err)
	}
	return b, nil
}

// Pause returns the pod sandbox image for the running binary's GOARCH: one
// layer holding /pause, entrypoint ["/pause"], user 65535 as upstream's.
func Pause() (v1.Image, error) {
	return PauseFor(runtime.GOARCH)
}

// PauseFor returns the pod sandbox image for a GOARCH (see PauseArchs).
func PauseFor(arch string) (v1.Image, error) {
	bin, err := PauseBinary(arch)
	if err != nil {
		return nil, err
	}
	return buildImage([]entry{
		{name: "pause", mode: 0o755, data: bin},
	}, imageConfig{
		arch:       arch,
		entrypoint: []string{"/pause"},
		user:       "65535:65535",
		env:        []string{"PATH=/"},
	})
}

package images

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestWeb returns the test web server image: one layer holding the given
// executable (images/testweb, built static by the caller for the target
// architecture) at /testweb, entrypoint ["/testweb"], listening on $PORT
// (8080 by default). The image's architecture is read from the ELF header.
func TestWeb(binary []byte) (v1.Image, error) {
	if len(binary) == 0 {
		return nil, fmt.Errorf("images: testweb: empty binary")
	}
	return buildImage([]entry{
		{name: "testweb", mode: 0o755, data: binary},
		{name: "tmp", mode: 0o1777, dir: true},
	}, imageConfig{
		arch:       binaryArch(binary),
		entrypoint: []string{"/testweb"},
		env:        []string{"PATH=/", "PORT=8080"},
	})
}

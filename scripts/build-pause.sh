#!/usr/bin/env bash
# Rebuilds the pause binaries that skiff embeds (internal/images/pause_linux_*.gz)
# from images/pause, for linux/amd64 and linux/arm64, and records the Go version
# that built them in internal/images/pause_go_version.txt.
#
# The flags make the build reproducible for a given Go toolchain: static
# (CGO_ENABLED=0), no paths (-trimpath), no symbols, no build id, no VCS stamp,
# and the baseline instruction sets. internal/images' tests rebuild the amd64
# binary with the same flags (see pauseBuildArgs there) and compare.
# Run it through `go generate ./internal/images` or directly.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/internal/images"
cd "$root"

for arch in amd64 arm64; do
	tmp="$(mktemp)"
	env CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOAMD64=v1 GOARM64=v8.0 GOFLAGS= \
		go build -buildvcs=false -trimpath -ldflags "-s -w -buildid=" -o "$tmp" ./images/pause
	# -n: no file name or time stamp in the gzip header.
	gzip -9 -n -c "$tmp" >"$out/pause_linux_$arch.gz"
	rm -f "$tmp"
	echo "build-pause: wrote $out/pause_linux_$arch.gz ($(wc -c <"$out/pause_linux_$arch.gz") bytes)"
done
go env GOVERSION >"$out/pause_go_version.txt"

#!/usr/bin/env bash
# Installs the system tools the tests use, from Debian, when they are missing.
# Runs apt-get only as root and only when something is missing; otherwise it
# says what it skipped. Add a line to TOOLS for each new tool: "command package"
# (the command may be an absolute path, for tools kept off PATH).
set -euo pipefail

TOOLS=(
	"etcdctl etcd-client"
	"busybox busybox-static"
	"containerd containerd"
	"runc runc"
	"/usr/lib/cni/bridge containernetworking-plugins"
	"docker-registry docker-registry"
)

missing=()
for entry in "${TOOLS[@]}"; do
	read -r cmd pkg <<<"$entry"
	if ! command -v "$cmd" >/dev/null 2>&1; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root, skipping install of: ${missing[*]} (tests that need them will skip or fail)"
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: no apt-get, skipping install of: ${missing[*]}"
	exit 0
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

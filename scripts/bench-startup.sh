#!/usr/bin/env bash
# Measures `skiff up` from exec to "API answers" (the "skiff is up" line,
# printed after /readyz passes and the admin kubeconfig is written), on a
# fresh data directory each run, and the idle RSS of the server afterwards.
# Usage: scripts/bench-startup.sh [runs]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
make --no-print-directory build >/dev/null
times=()
for i in $(seq "$runs"); do
	dir=$(mktemp -d)
	start=$(date +%s%N)
	bin/skiff up --data-dir "$dir" --api-port 0 --runtime process >"$dir/out" 2>"$dir/err" &
	pid=$!
	until grep -q "skiff is up" "$dir/out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { cat "$dir/err"; exit 1; }
		sleep 0.002
	done
	end=$(date +%s%N)
	times+=($(( (end - start) / 1000000 )))
	if [ "$i" = "$runs" ]; then
		sleep 10
		echo "idle RSS after 10 s: $(awk '/VmRSS/ {r=$2} /RssAnon/ {a=$2} /RssFile/ {f=$2} /RssShmem/ {s=$2} END {printf "%.0f MB (anonymous %.0f MB, binary and files %.0f MB, shared %.0f MB)", r/1024, a/1024, f/1024, s/1024}' /proc/$pid/status)"
	fi
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "start to API ready (ms), $runs runs: $(echo $sorted)"
echo "median: $(printf '%s\n' $sorted | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}') ms"

#!/usr/bin/env bash
# Runs every Go fuzz target in the repository for a short time, one target
# at a time (go test -fuzz accepts a single target per run).
# FUZZTIME sets how much each target runs (default 10000x executions). A
# count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# report "context deadline exceeded" as a failure when the time runs out
# while a worker is mid-call (golang/go#75804, fixed in Go 1.27).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-10000x}"
files=$(grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir=testdata '^func Fuzz' . || true)
if [ -z "$files" ]; then
	echo "fuzz: no fuzz targets"
	exit 0
fi

for file in $files; do
	pkg="./$(dirname "${file#./}")"
	for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
		echo "fuzz: $pkg $target ($FUZZTIME)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg"
	done
done

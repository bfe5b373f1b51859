#!/usr/bin/env bash
# Runs every Go fuzz target in the repository for a short time, one target
# at a time (go test -fuzz accepts a single target per run).
# FUZZTIME sets how long each target runs (default 10s).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-10s}"
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

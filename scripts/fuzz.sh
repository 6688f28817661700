#!/usr/bin/env bash
# Runs the fuzz targets of every parser that reads untrusted bytes, one
# after the other, each for the given time (default 10m), and prints one
# Markdown table row per target (executions, new corpus entries, result),
# as recorded in docs/FUZZING.md. Not run in CI: CI runs the committed seed
# corpora as ordinary tests.
#
# Usage: scripts/fuzz.sh [-t DURATION] [-j JOBS] [TARGET ...]
#   -t  time per target (default 10m)
#   -j  fuzz workers per target (go test -parallel; default 1)
#   TARGET  package:FuzzName; default: the list below
# New crashers land in the package's testdata/fuzz/FuzzName/ directory;
# new interesting inputs stay in $(go env GOCACHE)/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=10m jobs=1
while getopts "t:j:h" opt; do
	case $opt in
	t) fuzztime=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) sed -n '2,13p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	targets=(
		rtmp/handshake:FuzzServerHandshake
		rtmp/chunk:FuzzChunkReader
		rtmp/chunk:FuzzAggregate
		amf:FuzzDecode0
		amf:FuzzDecode3
		rtmp:FuzzParseCommand
		flv:FuzzTagReader
		flv:FuzzCodecConfigInfo
		flv:FuzzSPS
		flv:FuzzMetadata
		stream:FuzzKeyFromPath
		hls:FuzzSegmentPath
	)
fi

logdir=$(mktemp -d)
echo "| package | target | time | executions | new interesting | result |"
echo "|---|---|---:|---:|---:|---|"
status=0
for spec in "${targets[@]}"; do
	pkg=${spec%%:*} target=${spec##*:}
	log="$logdir/$target.log"
	result=ok
	go test -run='^$' -fuzz="^$target\$" -fuzztime="$fuzztime" -parallel "$jobs" "./$pkg" >"$log" 2>&1 || { result="FAILED (see $log)"; status=1; }
	last=$(grep 'fuzz: elapsed' "$log" | tail -n 1 || true)
	execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' <<<"$last")
	elapsed=$(sed -n 's/.*elapsed: \([0-9hms]*\),.*/\1/p' <<<"$last")
	newer=$(sed -n 's/.*new interesting: \([0-9]*\).*/\1/p' <<<"$last")
	echo "| $pkg | $target | ${elapsed:-?} | ${execs:-?} | ${newer:-?} | $result |"
done
exit $status

#!/usr/bin/env bash
# Soak test of the media server (issue #7; not run in CI).
#
# Builds the server and the load tool, starts the server on loopback ports,
# publishes one stream and plays it with N viewers (cmd/mediabench) for the
# given time, and samples the server's resident memory (VmRSS) every
# INTERVAL seconds into a CSV. At the end it prints a Markdown table of the
# samples (one row per minute, or per sample for runs under 10 minutes), the
# least-squares slope of RSS after the warm-up (viewers connecting, the GOP
# cache and the Go heap reaching their working size), a verdict (flat: the
# fitted growth after the warm-up is under 5% of the mean or under 4 MiB)
# and the load tool's own report.
#
# Usage: scripts/soak.sh [-d DURATION] [-v VIEWERS] [-i SECONDS] [-w SECONDS] [-p PROTO] [-o DIR]
#   -d  run length once the viewers are connected (default 30m)
#   -v  viewers (default 200)
#   -i  RSS sampling interval in seconds (default 10)
#   -w  warm-up left out of the slope, in seconds (default 120)
#   -p  viewer protocol: flv, ws, rtmp or hls (default flv)
#   -o  output directory (default soak-YYYYmmdd-HHMMSS)
# Env: SOAK_RTMP_PORT (19350) and SOAK_HTTP_PORT (18080) choose the ports.
#
# Exit status: 0 when the run completed and RSS was flat, 1 when it grew, 2
# when the run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=30m viewers=200 interval=10 warmup=120 proto=flv out=""
while getopts "d:v:i:w:p:o:h" opt; do
	case $opt in
	d) duration=$OPTARG ;;
	v) viewers=$OPTARG ;;
	i) interval=$OPTARG ;;
	w) warmup=$OPTARG ;;
	p) proto=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,27p' "$0"; exit 2 ;;
	esac
done
out=${out:-soak-$(date +%Y%m%d-%H%M%S)}
rtmp_port=${SOAK_RTMP_PORT:-19350}
http_port=${SOAK_HTTP_PORT:-18080}
mkdir -p "$out/bin"

go build -o "$out/bin/mediaserver" ./cmd/mediaserver
go build -o "$out/bin/mediabench" ./cmd/mediabench

"$out/bin/mediaserver" -rtmp-addr "127.0.0.1:$rtmp_port" -http-addr "127.0.0.1:$http_port" \
	-log-level warn 2>"$out/server.log" &
server=$!
sampler=""
cleanup() {
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
	kill -TERM "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
}
trap cleanup EXIT
sleep 1
kill -0 "$server" 2>/dev/null || { echo "soak: the server did not start:"; cat "$out/server.log"; exit 2; }

csv="$out/rss.csv"
echo "seconds,rss_kib,threads" >"$csv"
(
	start=$(date +%s)
	while kill -0 "$server" 2>/dev/null; do
		rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status" 2>/dev/null || true)
		threads=$(awk '/^Threads:/ {print $2}' "/proc/$server/status" 2>/dev/null || true)
		[ -n "$rss" ] && [ "$rss" != 0 ] && echo "$(($(date +%s) - start)),$rss,$threads" >>"$csv"
		sleep "$interval"
	done
) &
sampler=$!

status=0
"$out/bin/mediabench" -viewers "$viewers" -proto "$proto" -duration "$duration" -server-pid "$server" \
	-rtmp "rtmp://127.0.0.1:$rtmp_port/live" -http "http://127.0.0.1:$http_port" -stream soak \
	-log-level warn -markdown >"$out/mediabench.txt" 2>"$out/mediabench.log" || status=2
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=""
# One last sample after the viewers left.
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status" 2>/dev/null || echo "")
if [ -n "$rss" ]; then
	last=$(tail -n 1 "$csv" | cut -d, -f1)
	echo "$((last + interval)),$rss,$(awk '/^Threads:/ {print $2}' "/proc/$server/status")" >>"$csv"
fi

# Markdown table, slope and verdict.
awk -F, -v viewers="$viewers" -v proto="$proto" -v duration="$duration" -v interval="$interval" -v warmup="$warmup" '
BEGIN { n = 0 }
NR == 1 { next }
{ t[n] = $1; r[n] = $2; th[n] = $3; n++ }
END {
	if (n == 0) { print "no samples"; exit 2 }
	every = (t[n-1] >= 600) ? int(60 / interval) : 1
	if (every < 1) every = 1
	printf "Soak: 1 publisher, %d %s viewers, %s, RSS sampled every %d s (%d samples).\n\n", viewers, proto, duration, interval, n
	print "| time (s) | RSS (MiB) | threads |"
	print "|---:|---:|---:|"
	for (i = 0; i < n; i++) if (i % every == 0 || i == n - 1) printf "| %d | %.1f | %d |\n", t[i], r[i] / 1024, th[i]
	# Least squares over the samples after the warm-up.
	sx = sy = sxx = sxy = m = 0; min = max = -1
	for (i = 0; i < n; i++) {
		if (t[i] < warmup) continue
		m++; sx += t[i]; sy += r[i]; sxx += t[i] * t[i]; sxy += t[i] * r[i]
		if (min < 0 || r[i] < min) min = r[i]
		if (max < 0 || r[i] > max) max = r[i]
	}
	if (m < 3) { print "\ntoo few samples after the warm-up for a slope"; exit 0 }
	slope = (m * sxy - sx * sy) / (m * sxx - sx * sx)   # KiB per second
	mean = sy / m
	span = t[n-1] - warmup
	growth = slope * span
	printf "\nAfter the %d s warm-up: mean %.1f MiB, min %.1f MiB, max %.1f MiB, slope %+.1f KiB/min, fitted growth %+.1f MiB over %d s.\n", warmup, mean / 1024, min / 1024, max / 1024, slope * 60, growth / 1024, span
	flat = (growth < 0.05 * mean || growth < 4096)
	printf "Verdict: %s\n", flat ? "flat" : "GROWING"
	exit flat ? 0 : 1
}' "$csv" | tee "$out/summary.md" || { if [ $status -eq 0 ]; then status=1; fi; }
echo
cat "$out/mediabench.txt"
echo
echo "soak: samples in $csv, report in $out/summary.md, server log in $out/server.log"
exit $status

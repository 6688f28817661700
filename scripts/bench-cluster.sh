#!/usr/bin/env bash
# Cluster benchmarks (issue #19; not run in CI), figures for docs/BENCHMARKS.md.
#
#   1. Cost per HTTP-FLV viewer on an origin and on an edge: one origin and one
#      edge share a Redis; cmd/mediabench publishes to the origin and connects
#      VIEWERS viewers to the origin (the origin's CPU and RSS measured), then
#      the same viewers to the edge, which pulls the stream once from the
#      origin (the edge's CPU and RSS measured).
#   2. An origin's cost with HLS clients behind nginx (deploy/nginx/mediaserver.conf):
#      one client, then HLS_CLIENTS clients through nginx; the origin's CPU is
#      measured (nginx's is not the server's).
#
# Usage: scripts/bench-cluster.sh [-v VIEWERS] [-c HLS_CLIENTS] [-d DURATION] [-p HLS_PROTO]
#   -v  HTTP-FLV viewers (default 1000)
#   -c  HLS clients behind nginx (default 1000)
#   -d  each run's length once the viewers are connected (default 30s)
#   -p  mediabench protocol for the HLS runs (default hls)
# Needs redis-server and nginx (make test-deps installs both).
set -euo pipefail
cd "$(dirname "$0")/.."

viewers=1000 clients=1000 duration=30s hlsproto=hls
while getopts "v:c:d:p:h" opt; do
	case $opt in
	v) viewers=$OPTARG ;;
	c) clients=$OPTARG ;;
	d) duration=$OPTARG ;;
	p) hlsproto=$OPTARG ;;
	*) sed -n '2,19p' "$0"; exit 2 ;;
	esac
done

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o bin/mediaserver ./cmd/mediaserver
go build -o bin/mediabench ./cmd/mediabench

redis_port=26379 origin_http=127.0.0.1:28081 origin_rtmp=127.0.0.1:29351 edge_http=127.0.0.1:28082 edge_rtmp=127.0.0.1:29352
nginx_addr=127.0.0.1:28083
redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
common=(MEDIASERVER_HTTP_MAX_CONNS_PER_IP=-1 MEDIASERVER_RTMP_MAX_CONNS_PER_IP=-1 MEDIASERVER_HTTP_MAX_CONNS=-1
	MEDIASERVER_HTTP_PPROF=true MEDIASERVER_LOG_LEVEL=warn MEDIASERVER_CLUSTER_REDIS=redis://127.0.0.1:$redis_port)
env "${common[@]}" MEDIASERVER_CLUSTER_ROLE=origin MEDIASERVER_CLUSTER_ADVERTISE=http://$origin_http \
	bin/mediaserver -rtmp-addr $origin_rtmp -http-addr $origin_http >"$work/origin.log" 2>&1 &
origin_pid=$!
pids+=($origin_pid)
env "${common[@]}" MEDIASERVER_CLUSTER_ROLE=edge \
	bin/mediaserver -rtmp-addr $edge_rtmp -http-addr $edge_http >"$work/edge.log" 2>&1 &
edge_pid=$!
pids+=($edge_pid)
sleep 2

run() { # name, then mediabench flags
	local name=$1
	shift
	echo "== $name"
	bin/mediabench -duration "$duration" -markdown "$@" | tee "$work/$name.txt"
}

run origin-flv -viewers "$viewers" -proto flv -server-pid $origin_pid \
	-rtmp rtmp://$origin_rtmp/live -http http://$origin_http -stream origin
run edge-flv -viewers "$viewers" -proto flv -server-pid $edge_pid \
	-rtmp rtmp://$origin_rtmp/live -http http://$edge_http -stream edge

sed -e "s|    server origin-a:8080 max_fails=0;|    server $origin_http max_fails=0;|" \
	-e "/    server origin-b:8080 max_fails=0;/d" \
	-e "s|listen 8080;|listen $nginx_addr;|" \
	-e "s|/var/cache/nginx/mediaserver|$work/cache|" deploy/nginx/mediaserver.conf >"$work/mediaserver.conf"
cat >"$work/nginx.conf" <<CONF
user root;
daemon off;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy; fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  include $work/mediaserver.conf;
}
CONF
/usr/sbin/nginx -e "$work/nginx.log" -p "$work" -c "$work/nginx.conf" &
pids+=($!)
sleep 1

run hls-1-client -viewers 1 -proto "$hlsproto" -server-pid $origin_pid \
	-rtmp rtmp://$origin_rtmp/live -http http://$nginx_addr -stream hls1
run hls-clients -viewers "$clients" -proto "$hlsproto" -server-pid $origin_pid \
	-rtmp rtmp://$origin_rtmp/live -http http://$nginx_addr -stream hlsmany

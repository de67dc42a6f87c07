#!/usr/bin/env bash
# redis_perf.sh: the key/value store users would pick instead of dramkv -
# redis-benchmark SET/GET against a private redis-server on loopback TCP
# (Debian's redis-server and redis-tools; no persistence).
#
#   redis_perf.sh [--quick]
#
# Prints "name size value" lines like the C programs (size = value bytes):
#   redis_set_latency_us, redis_get_latency_us   one client, no pipelining:
#                                                1 / requests per second
#   redis_set_p16_Mops, redis_get_p16_Mops       -P 16 pipelining, 50 clients
#                                                (redis-benchmark's default)
# The server gets a free port of its own and is shut down on exit, also on
# failure or interrupt.
set -euo pipefail

quick=0
[ "${1:-}" = "--quick" ] && quick=1
n1=50000 np=500000
[ "$quick" = 0 ] || { n1=10000; np=100000; }

for c in redis-server redis-benchmark redis-cli; do
    command -v "$c" >/dev/null || { echo "redis_perf: no $c (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/dkv-redis.XXXXXX)
pid=""
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    [ -z "$pid" ] || wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

# A free port: try a few random ones in the private range.
port=""
for _ in $(seq 20); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        port=$p
        break
    fi
done
[ -n "$port" ] || { echo "redis_perf: no free port" >&2; exit 1; }

redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --daemonize no &
pid=$!
for _ in $(seq 100); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
done
redis-cli -p "$port" ping 2>/dev/null | grep -q PONG ||
    { echo "redis_perf: redis-server did not start" >&2; cat "$dir/redis.log" >&2; exit 1; }

# redis-benchmark --csv: "test","rps",... -> "<test> <rps>" per line.
bench() {
    redis-benchmark -p "$port" -t set,get --csv "$@" |
        awk -F'","' 'NR > 1 { gsub(/"/, "", $1); print tolower($1), $2 }'
}

for size in 8 64 512 4096; do
    bench -n "$n1" -c 1 -d "$size" | while read -r test rps; do
        awk -v t="$test" -v s="$size" -v r="$rps" \
            'BEGIN { printf "redis_%s_latency_us %d %.6g\n", t, s, 1e6 / r }'
    done
    bench -n "$np" -P 16 -d "$size" | while read -r test rps; do
        awk -v t="$test" -v s="$size" -v r="$rps" \
            'BEGIN { printf "redis_%s_p16_Mops %d %.6g\n", t, s, r / 1e6 }'
    done
done
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait "$pid" 2>/dev/null || true
pid=""

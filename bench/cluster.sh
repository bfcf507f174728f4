#!/usr/bin/env bash
# Broker as a cluster edge over NATS JetStream vs embedded, with bench/run.sh's load generator, in one short run:
# the server CPU per delivery of a fan-out (1,000 streams × 100 events/s), acknowledged inserts/s over 64
# connections, and a reconnect storm (10,000 subscribers drop and reconnect at once, 100-name snapshots, then with
# Last-Event-ID: bench/run.sh's reconnect-10k) for the embedded server, an edge over one NATS node
# (--nats_replicas 1) and an edge over a 3-node cluster on this machine (--nats_replicas 3); with R3, also a
# fan-out (2,000 streams × 50 events/s) all on one edge vs split over two edges of the same tenant. About 2.5 minutes.
#
#   bench/cluster.sh               SKIP_BUILD=1 to reuse the jars; DURATION (5 s per scenario); SUBS (1000);
#                                  STORM_SUBS (10000); EDGE_SUBS (2000) and EDGE_RATE (50) for two edges vs one
#
# With R3 a second edge runs too. Until the two-edge fan-out it serves no stream at all: its CPU during the inserts
# into the first edge is what receiving events of tenants it does not serve costs (every edge receives every event;
# printed per million events). In the two-edge fan-out the load generator spreads the subscribers over both edges
# (--sub-urls) while it publishes through the first; each edge's CPU is printed (server_cpu_s, peer_cpu_s).
#
# "server CPU" is the Broker process's alone; the NATS nodes' CPU over the same scenario is printed next to it
# (nats_cpu_s). On a small shared machine NATS, Broker and the load generator compete for the same cores: the
# numbers show the shape, not what separate machines would give. Needs nats-server (Debian: /usr/sbin).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-5}
SUBS=${SUBS:-1000}
STORM_SUBS=${STORM_SUBS:-10000}
EDGE_SUBS=${EDGE_SUBS:-2000}
EDGE_RATE=${EDGE_RATE:-50}
PORT=${BROKER_PORT:-28090}
NATS_BASE=${NATS_BASE:-24222}
BROKER_JAVA_OPTS=${BROKER_JAVA_OPTS:--XX:+UseSerialGC -Xmx512m -Xmn24m}
BENCH_JAVA_OPTS=${BENCH_JAVA_OPTS:--Xms1g -Xmx1g -XX:+UseParallelGC}
WORK=$(mktemp -d /tmp/broker-cluster-bench.XXXXXX)
RESULTS=$WORK/results.txt
BENCH_JAR=$ROOT/broker-bench/target/broker-bench.jar
BROKER_JAR=${BROKER_JAR:-$ROOT/broker-server/target/broker.jar}
NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)
[[ -x $NATS_SERVER ]] || { echo "nats-server is not installed (apt-get install nats-server)" >&2; exit 1; }

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ ${SKIP_BUILD:-0} != 1 || ! -e $BENCH_JAR || ! -e $BROKER_JAR ]]; then
  log "building (mvn package -DskipTests)"
  mvn -q -B package -DskipTests
fi

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT INT TERM
ulimit -n 20000 2>/dev/null || true
ADMIN_TOKEN=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)

wait_for_port() { # port pid what
  for _ in $(seq 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "$3 exited; see $WORK" >&2; exit 1; }
    sleep 0.2
  done
  echo "$3 did not listen on $1; see $WORK" >&2; exit 1
}

NATS_PIDS=()
start_nats() { # nodes
  local n=$1 i routes
  NATS_PIDS=()
  for ((i = 1; i <= n; i++)); do
    mkdir -p "$WORK/nats$n-$i"
    {
      echo "server_name: n$i"
      echo "listen: 127.0.0.1:$((NATS_BASE + i))"
      echo "http: 127.0.0.1:$((NATS_BASE + 100 + i))"
      echo "jetstream { store_dir: \"$WORK/nats$n-$i\" }"
      if ((n > 1)); then
        routes=
        for ((j = 1; j <= n; j++)); do
          if ((j != i)); then routes+="nats-route://127.0.0.1:$((NATS_BASE + 200 + j)),"; fi
        done
        echo "cluster { name: bench, listen: 127.0.0.1:$((NATS_BASE + 200 + i)), routes: [${routes%,}] }"
      fi
    } >"$WORK/nats$n-$i.conf"
    "$NATS_SERVER" -c "$WORK/nats$n-$i.conf" >>"$WORK/nats$n-$i.log" 2>&1 &
    NATS_PIDS+=($!)
    PIDS+=($!)
  done
  for ((i = 1; i <= n; i++)); do
    for _ in $(seq 300); do
      curl -sf "http://127.0.0.1:$((NATS_BASE + 100 + i))/healthz" >/dev/null && break
      sleep 0.1
    done
  done
}

nats_urls() { # nodes
  local i urls=
  for ((i = 1; i <= $1; i++)); do urls+="nats://127.0.0.1:$((NATS_BASE + i)),"; done
  echo "${urls%,}"
}

nats_cpu_ticks() { # the NATS nodes' utime + stime, in clock ticks
  local pid total=0
  for pid in "${NATS_PIDS[@]}"; do
    [[ -r /proc/$pid/stat ]] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

BROKER_PID=
start_broker() { # extra flags...
  # shellcheck disable=SC2086
  BROKER_ADMIN_TOKEN=$ADMIN_TOKEN BROKER_JWT_SECRET=$JWT_SECRET \
    java $BROKER_JAVA_OPTS -jar "$BROKER_JAR" --bind 127.0.0.1 --port "$PORT" --db "$WORK/db" \
    --max_connections_per_ip 0 "$@" >>"$WORK/broker.log" 2>&1 &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  wait_for_port "$PORT" "$BROKER_PID" broker
}

pid_cpu_ticks() { # pid: its utime + stime, in clock ticks (0 when none)
  if [[ -n $1 && -r /proc/$1/stat ]]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi
}

EDGE2_PID=
bench() { # label mode flags...
  local label=$1 mode=$2 before after idle_before idle_after
  shift 2
  before=$(nats_cpu_ticks)
  idle_before=$(pid_cpu_ticks "$EDGE2_PID")
  # shellcheck disable=SC2086
  if BENCH_ADMIN_TOKEN=$ADMIN_TOKEN java $BENCH_JAVA_OPTS -jar "$BENCH_JAR" "$mode" --target broker \
      --url "http://127.0.0.1:$PORT" --server-pid "$BROKER_PID" --label "$label" "$@" \
      >"$WORK/$label.out" 2>"$WORK/$label.err"; then
    after=$(nats_cpu_ticks)
    idle_after=$(pid_cpu_ticks "$EDGE2_PID")
    grep '^RESULT ' "$WORK/$label.out" \
      | sed "s/\$/ nats_cpu_s=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')/" \
      | sed "s/\$/ idle_edge_cpu_s=$(awk -v t=$((idle_after - idle_before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')/" \
      | tee -a "$RESULTS" >&2
  else
    log "$label failed:"; tail -5 "$WORK/$label.err" >&2
  fi
  sleep 1
}

scenarios() { # setup
  local setup=$1
  bench "warmup-$setup" fanout --subs 200 --rate 200 --duration 3 --warmup 0
  bench "fanout-$setup" fanout --subs "$SUBS" --rate 100 --duration "$DURATION" --warmup 2
  bench "inserts-$setup" inserts --conns 64 --duration "$DURATION" --warmup 2
  # bench/run.sh's reconnect-10k: the load generator spreads the connections over 16 source addresses
  bench "reconnect-$setup" reconnect --subs "$STORM_SUBS" --names 100 --missed 10 --threads 2
}

two_edges() { # the same tenant's fan-out, all streams on the first edge, then split over both
  local flags=(--subs "$EDGE_SUBS" --rate "$EDGE_RATE" --duration "$DURATION" --warmup 2 --threads 2
    --peer-pid "$EDGE2_PID")
  bench "one-edge" fanout "${flags[@]}"
  bench "two-edges" fanout "${flags[@]}" --sub-urls "http://127.0.0.1:$PORT,http://127.0.0.1:$((PORT + 1))"
}

: >"$RESULTS"
log "== embedded"
start_broker
scenarios embedded
cleanup

log "== edge over one NATS node, R1"
start_nats 1
start_broker --nats "$(nats_urls 1)" --nats_replicas 1
scenarios edge-r1
cleanup

log "== edge over a 3-node NATS cluster, R3"
start_nats 3
BROKER_ADMIN_TOKEN=$ADMIN_TOKEN BROKER_JWT_SECRET=$JWT_SECRET java $BROKER_JAVA_OPTS -jar "$BROKER_JAR" \
  --bind 127.0.0.1 --port $((PORT + 1)) --max_connections_per_ip 0 --nats "$(nats_urls 3)" --nats_replicas 3 \
  >>"$WORK/edge2.log" 2>&1 &
EDGE2_PID=$!
PIDS+=("$EDGE2_PID")
wait_for_port $((PORT + 1)) "$EDGE2_PID" "second edge"
start_broker --nats "$(nats_urls 3)" --nats_replicas 3
scenarios edge-r3
two_edges
cleanup
EDGE2_PID=

echo
echo "nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: indicative only)"
printf '%-18s %28s %16s %14s %12s\n' setup "server CPU s/1M deliveries" "inserts/s" "insert p99 ms" "nats CPU s"
for setup in embedded edge-r1 edge-r3; do
  fan=$(grep " label=fanout-$setup " "$RESULTS" | grep -o 'server_cpu_s_per_M_deliveries=[^ ]*' | cut -d= -f2 || true)
  ins=$(grep " label=inserts-$setup " "$RESULTS" | grep -o 'inserts_per_s=[^ ]*' | cut -d= -f2 || true)
  p99=$(grep " label=inserts-$setup " "$RESULTS" | grep -o 'latency_p99_ms=[^ ]*' | cut -d= -f2 || true)
  ncpu=$(grep " label=inserts-$setup " "$RESULTS" | grep -o 'nats_cpu_s=[^ ]*' | cut -d= -f2 || true)
  printf '%-18s %28s %16s %14s %12s\n' "$setup" "${fan:--}" "${ins:--}" "${p99:--}" "${ncpu:--}"
done
idle=$(grep " label=inserts-edge-r3 " "$RESULTS" | grep -o 'idle_edge_cpu_s=[^ ]*' | cut -d= -f2 || true)
n=$(grep " label=inserts-edge-r3 " "$RESULTS" | grep -o ' inserts=[^ ]*' | cut -d= -f2 || true)
if [[ -n $idle && -n $n && $n != 0 ]]; then
  echo "an edge with no streams, receiving the other edge's inserts: $idle s CPU for $n events" \
    "($(awk -v c="$idle" -v n="$n" 'BEGIN { printf "%.1f", c / n * 1e6 }') s per million events received)"
fi

field() { # label key: the key's value in the label's RESULT line, or -
  local v
  v=$(grep " label=$1 " "$RESULTS" | grep -o " $2=[^ ]*" | cut -d= -f2 || true)
  echo "${v:--}"
}
echo
echo "reconnect storm: $STORM_SUBS subscribers, 100-name snapshots, then Last-Event-ID with 10 missed (all served, s)"
printf '%-18s %14s %14s %14s %16s %14s %12s\n' setup "first connect" "snapshot" "snapshot CPU s" "Last-Event-ID" \
  "resume CPU s" "nats CPU s"
for setup in embedded edge-r1 edge-r3; do
  l=reconnect-$setup
  printf '%-18s %14s %14s %14s %16s %14s %12s\n' "$setup" "$(field "$l" initial_all_s)" "$(field "$l" snapshot_all_s)" \
    "$(field "$l" snapshot_server_cpu_s)" "$(field "$l" resume_all_s)" "$(field "$l" resume_server_cpu_s)" \
    "$(field "$l" nats_cpu_s)"
done
echo
echo "two edges vs one (R3, one tenant): $EDGE_SUBS streams × $EDGE_RATE events/s, published through the first edge"
printf '%-12s %14s %12s %10s %14s %14s %12s\n' run "deliveries/s" delivered "p99 ms" "edge 1 cores" "edge 2 cores" \
  "nats CPU s"
for l in one-edge two-edges; do
  printf '%-12s %14s %12s %10s %14s %14s %12s\n' "$l" "$(field "$l" deliveries_per_s)" "$(field "$l" delivered_frac)" \
    "$(field "$l" latency_p99_ms)" "$(field "$l" server_cores)" "$(field "$l" peer_cores)" "$(field "$l" nats_cpu_s)"
done
echo
echo "results and logs: $WORK"

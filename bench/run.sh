#!/usr/bin/env bash
# Broker vs Nchan, side by side, with the same load generator, in one run (see BENCHMARKS.md).
#
#   bench/run.sh              the full comparison (~8 minutes on 2 cores; heavy: 15,000 connections)
#   QUICK=1 bench/run.sh      the same scenarios at tiny sizes (~2 minutes), to check the machinery
#   TLS=0 bench/run.sh        plain HTTP only (by default the TLS and HTTP/2 scenarios run too, ~6 minutes more)
#
# What it does, from a clean checkout: installs nginx + Nchan with apt (apt-get update first), builds the jars, starts
# Broker (broker-server/target/broker.jar with fresh strong secrets and a temporary database) and nginx (with
# bench/nchan.conf) on loopback ports, runs every scenario against each server in turn, prints one table with both
# servers and the ratio, and stops everything it started. Results and logs stay in $WORK (printed at the end).
# Over TLS, a second Broker (--secure) and a second nginx (listen ... ssl) serve a self-signed certificate for
# localhost/127.0.0.1 made for the run with openssl: TLS 1.3 only, the same cipher suite on both (TLS_CIPHER).
#
# Environment knobs: BROKER_JAR (another build to measure), BROKER_PORT (28080), NCHAN_PORT (28081), NCHAN_WORKERS (2), BROKER_JAVA_OPTS (default: the README's
# run command), BENCH_JAVA_OPTS (load generator JVM), PROFILE=1 (record a JFR profile of Broker and summarise its
# hot methods), SKIP_APT=1, SKIP_BUILD=1, LOAD_MAX (1.5: the load average to wait for before starting), ONLY (a
# space-separated list of scenario labels to run), TARGETS ("broker nchan"; one of them to measure only that),
# TLS (1: also the TLS and HTTP/2 scenarios), BROKER_TLS_PORT (28443), NCHAN_TLS_PORT (28444), TLS_CIPHER
# (TLS_AES_128_GCM_SHA256: the suite BoringSSL, in Broker and in the load generator, always prefers; nginx is
# pinned to it, since BoringSSL cannot be restricted to another TLS 1.3 suite), BROKER_TLS_GROUPS (X25519,P-256:
# the TLS Broker's --tls_groups, the key exchange nginx with Debian's OpenSSL 3.0 agrees on with the same client),
# BROKER_PQ_PORT (28445: a third Broker, on its default groups, for the pq-reconnect-10k scenario).
# ASYNC_PROFILER (the path of async-profiler's libasyncProfiler.so: each Broker writes its collapsed stacks to
# $WORK/<instance>-profile.collapsed) with ASYNC_PROFILER_OPTS (default event=cpu,interval=1ms; nativemem=0 profiles
# native allocations instead).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=${QUICK:-0}
BROKER_PORT=${BROKER_PORT:-28080}
NCHAN_PORT=${NCHAN_PORT:-28081}
NCHAN_WORKERS=${NCHAN_WORKERS:-2}
BROKER_JAVA_OPTS=${BROKER_JAVA_OPTS:--XX:+UseSerialGC -Xmx512m -Xmn24m}
BENCH_JAVA_OPTS=${BENCH_JAVA_OPTS:--Xms1g -Xmx1g -XX:+UseParallelGC}
LOAD_MAX=${LOAD_MAX:-1.5}
ONLY=${ONLY:-}
TARGETS=${TARGETS:-broker nchan}
TLS=${TLS:-1}
BROKER_TLS_PORT=${BROKER_TLS_PORT:-28443}
BROKER_TLS_GROUPS=${BROKER_TLS_GROUPS:-X25519,P-256}
BROKER_PQ_PORT=${BROKER_PQ_PORT:-28445}
NCHAN_TLS_PORT=${NCHAN_TLS_PORT:-28444}
TLS_CIPHER=${TLS_CIPHER:-TLS_AES_128_GCM_SHA256}
WORK=$(mktemp -d /tmp/broker-bench.XXXXXX)
RESULTS=$WORK/results.txt
BENCH_JAR=$ROOT/broker-bench/target/broker-bench.jar
BROKER_JAR=${BROKER_JAR:-$ROOT/broker-server/target/broker.jar}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- 1. nginx + Nchan ----------------------------------------------------------------------------------------------
if [[ ${SKIP_APT:-0} != 1 ]]; then
  log "installing nginx and libnginx-mod-nchan (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >"$WORK/apt.log" 2>&1
  apt-get install -y -q --no-install-recommends nginx libnginx-mod-nchan >>"$WORK/apt.log" 2>&1
fi
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
[[ -e $NCHAN_MODULE ]] || { echo "missing $NCHAN_MODULE (apt-get install libnginx-mod-nchan)" >&2; exit 1; }

# --- 2. the jars ---------------------------------------------------------------------------------------------------
if [[ ${SKIP_BUILD:-0} != 1 || ! -e $BENCH_JAR || ! -e $BROKER_JAR ]]; then
  log "building (mvn package -DskipTests)"
  mvn -q -B package -DskipTests
fi

# --- 3. the servers ------------------------------------------------------------------------------------------------
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

ulimit -n 20000 2>/dev/null || true
# Secrets: strong, fresh per run, passed through the environment (never on a command line).
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

BROKER_PID=
BROKER_TLS_PID=
BROKER_PQ_PID=
start_broker() { # [tls]: the --secure instance, with the run's certificate
  local name=broker port=$BROKER_PORT tls=() jfr=()
  if [[ ${1:-} == tls ]]; then
    name=broker-tls; port=$BROKER_TLS_PORT; tls=(--secure --certs "$CERTS" --tls_groups "$BROKER_TLS_GROUPS")
  elif [[ ${1:-} == pq ]]; then # TLS on BoringSSL's own groups: X25519MLKEM768 first
    name=broker-pq; port=$BROKER_PQ_PORT; tls=(--secure --certs "$CERTS")
  fi
  [[ ${PROFILE:-0} == 1 ]] && jfr=("-XX:StartFlightRecording=filename=$WORK/$name.jfr,settings=profile")
  # async-profiler sees native and kernel frames too (a TLS fan-out is mostly both): collapsed stacks per instance.
  [[ -n ${ASYNC_PROFILER:-} ]] && jfr+=("-agentpath:$ASYNC_PROFILER=start,${ASYNC_PROFILER_OPTS:-event=cpu,interval=1ms},file=$WORK/$name-profile.collapsed")
  rm -rf "$WORK/$name-db"
  # The launcher (bin/broker) runs the jar; its JAVA_OPTS are the flags measured (the README's, by default).
  # The load generator spreads up to 15,000 connections over 16 source addresses (~940 each, more while a
  # scenario's closed connections drain into the next): the per-address cap (1,000) is not what is measured.
  BROKER_ADMIN_TOKEN=$ADMIN_TOKEN BROKER_JWT_SECRET=$JWT_SECRET BROKER_JAR=$BROKER_JAR \
    JAVA_OPTS="$BROKER_JAVA_OPTS ${jfr[*]}" "$ROOT/bin/broker" --bind 127.0.0.1 --port "$port" "${tls[@]}" \
    --db "$WORK/$name-db" --max_connections_per_ip 0 >>"$WORK/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_for_port "$port" "$pid" "$name"
  case $name in
    broker) BROKER_PID=$pid ;;
    broker-tls) BROKER_TLS_PID=$pid ;;
    *) BROKER_PQ_PID=$pid ;;
  esac
  log "Broker ($name) pid $pid on 127.0.0.1:$port"
}

NGINX_PID=
NGINX_TLS_PID=
start_nchan() { # [tls]: the instance with "listen ... ssl", the run's certificate, TLS 1.3 and TLS_CIPHER only
  local name=nginx port=$NCHAN_PORT ssl=
  if [[ ${1:-} == tls ]]; then name=nginx-tls; port=$NCHAN_TLS_PORT; ssl=ssl; fi
  local prefix=$WORK/$name
  mkdir -p "$prefix"
  sed -e "s|@PORT@|$port|g; s|@PREFIX@|$prefix|g; s|@WORKERS@|$NCHAN_WORKERS|g; s|@SSL@|$ssl|g" \
    "$ROOT/bench/nchan.conf" >"$prefix/nginx.conf"
  if [[ -n $ssl ]]; then
    # Resumption as Broker offers it: tickets (nginx's default) and a session cache.
    printf '%s\n' "ssl_certificate $CERTS/cert.pem;" "ssl_certificate_key $CERTS/key.pem;" \
      "ssl_protocols TLSv1.3;" "ssl_conf_command Ciphersuites $TLS_CIPHER;" \
      "ssl_session_cache shared:bench:64m;" "ssl_session_timeout 1h;" >"$prefix/tls.conf"
  else
    : >"$prefix/tls.conf"
  fi
  nginx -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' >>"$WORK/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_for_port "$port" "$pid" "$name"
  if [[ $name == nginx ]]; then NGINX_PID=$pid; else NGINX_TLS_PID=$pid; fi
  log "nginx (Nchan, $name) pid $pid on 127.0.0.1:$port, $NCHAN_WORKERS workers"
}

CERTS=$WORK/certs
make_certificate() { # a self-signed EC certificate for localhost and 127.0.0.1, for this run only
  command -v openssl >/dev/null || { echo "TLS scenarios need openssl (or run with TLS=0)" >&2; exit 1; }
  mkdir -p "$CERTS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem" \
    >"$WORK/openssl.log" 2>&1
}

# --- 4. the machine ------------------------------------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "kernel: $(uname -r)"
  echo "java: $(java -version 2>&1 | head -2 | tr '\n' ' ')"
  echo "broker JVM flags: ${BROKER_JAVA_OPTS} ${PROFILE:+(+JFR)}"
  echo "load generator JVM flags: $BENCH_JAVA_OPTS"
  echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || echo '?'), $NCHAN_WORKERS workers"
  echo "open files limit: $(ulimit -n)"
  if [[ $TLS == 1 ]]; then
    echo "tls: TLS 1.3, $TLS_CIPHER (nginx pinned; Broker and the client on BoringSSL's default order), $(openssl version); Broker --tls_groups $BROKER_TLS_GROUPS (pq-*: BoringSSL's default groups)"
  fi
} | tee "$WORK/machine.txt" >&2

# The numbers are only worth something on a quiet machine: wait (bounded) for the load average to drop.
for _ in $(seq 60); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  awk -v l="$load" -v m="$LOAD_MAX" 'BEGIN { exit !(l < m) }' && break
  log "load average $load ≥ $LOAD_MAX; waiting"
  sleep 10
done
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$WORK/machine.txt" >&2

start_broker
start_nchan
if [[ $TLS == 1 ]]; then
  make_certificate
  start_broker tls
  start_nchan tls
fi

# --- 5. the scenarios ----------------------------------------------------------------------------------------------
if [[ $QUICK == 1 ]]; then
  IDLE=(--conns 200 --hold 2 --settle 1)
  F1=(--subs 100 --rate 100 --duration 3 --warmup 1)
  F2=(--subs 1000 --rate 10 --duration 3 --warmup 1)
  F3=(--subs 1000 --rate 20 --duration 3 --warmup 1)
  F4=(--subs 100 --rate 1000 --duration 3 --warmup 1)
  INS=(--conns 64 --duration 3 --warmup 1)
  REC=(--subs 1000 --names 100 --missed 10)
  WARM_F=(--subs 100 --rate 100 --duration 1 --warmup 0)
  WARM_I=(--conns 8 --pipeline 4 --duration 1 --warmup 0)
  H2=(--subs 1000 --h2-streams-per-conn 100 --rate 10 --duration 3 --warmup 1)
else
  IDLE=(--conns 15000 --hold 10 --settle 3)
  F1=(--subs 1000 --rate 100 --duration 10 --warmup 3 --threads 2)
  F2=(--subs 10000 --rate 10 --duration 10 --warmup 3 --threads 2)
  F3=(--subs 10000 --rate 20 --duration 10 --warmup 3 --threads 2)
  F4=(--subs 1000 --rate 1000 --duration 10 --warmup 3 --threads 2)
  INS=(--conns 64 --duration 10 --warmup 3)
  REC=(--subs 10000 --names 100 --missed 10 --threads 2)
  WARM_F=(--subs 1000 --rate 1000 --duration 6 --warmup 0 --threads 2)
  WARM_I=(--conns 64 --pipeline 16 --duration 6 --warmup 0)
  H2=(--subs 10000 --h2-streams-per-conn 100 --rate 10 --duration 10 --warmup 3 --threads 2)
fi

bench() { # label target mode flags...  (a label starting with tls- or h2- goes to the TLS instances)
  local label=$1 target=$2 mode=$3
  shift 3
  if [[ -n $ONLY && " $ONLY " != *" $label "* ]]; then return 0; fi
  local url pid tls=()
  case $target/$label in
    broker/tls-* | broker/h2-*) url=https://127.0.0.1:$BROKER_TLS_PORT; pid=$BROKER_TLS_PID ;;
    broker/pq-*) url=https://127.0.0.1:$BROKER_PQ_PORT; pid=$BROKER_PQ_PID ;;
    nchan/tls-* | nchan/h2-*) url=https://127.0.0.1:$NCHAN_TLS_PORT; pid=$NGINX_TLS_PID ;;
    broker/*) url=http://127.0.0.1:$BROKER_PORT; pid=$BROKER_PID ;;
    *) url=http://127.0.0.1:$NCHAN_PORT; pid=$NGINX_PID ;;
  esac
  if [[ $url == https* ]]; then tls=(--ca "$CERTS/cert.pem" --sni localhost); fi
  # shellcheck disable=SC2086
  if BENCH_ADMIN_TOKEN=$ADMIN_TOKEN java $BENCH_JAVA_OPTS -jar "$BENCH_JAR" "$mode" --target "$target" --url "$url" \
      --server-pid "$pid" --label "$label" "${tls[@]}" "$@" >"$WORK/$label-$target.out" 2>"$WORK/$label-$target.err"; then
    grep '^RESULT ' "$WORK/$label-$target.out" | tee -a "$RESULTS" >&2
  else
    log "$label against $target failed:"; tail -5 "$WORK/$label-$target.err" >&2
  fi
  sleep 2 # let the closed connections drain out of both servers
}

both() { # label mode flags...
  local label=$1
  shift
  log "== $label"
  local target
  for target in $TARGETS; do
    bench "$label" "$target" "$@"
  done
}

: >"$RESULTS"
both idle-15k idle "${IDLE[@]}"          # first, on fresh servers: memory growth per connection
# Untimed: lets the JIT compile Broker's fan-out and insert paths before anything is measured (each scenario has
# its own warm-up too, but a few seconds are not enough for C2 on two busy cores). Nchan gets the same load.
both warmup-fanout fanout "${WARM_F[@]}"
both warmup-inserts inserts "${WARM_I[@]}"
both fanout-1k-100 fanout "${F1[@]}"
both fanout-1k-1000 fanout "${F4[@]}"
both fanout-10k-10 fanout "${F2[@]}"
both fanout-10k-peak fanout "${F3[@]}"
both inserts-64 inserts "${INS[@]}"
both inserts-64-p16 inserts "${INS[@]}" --pipeline 16
both reconnect-10k reconnect "${REC[@]}"

tls_scenarios() { # the same scenarios over TLS (HTTP/1.1), then HTTP/2 streams against Broker
  both tls-idle-15k idle "${IDLE[@]}"          # first, on the fresh TLS instances
  both tls-warmup-fanout fanout "${WARM_F[@]}"
  both tls-warmup-inserts inserts "${WARM_I[@]}"
  both tls-fanout-1k-100 fanout "${F1[@]}"
  both tls-fanout-10k-10 fanout "${F2[@]}"
  both tls-inserts-64 inserts "${INS[@]}"
  both tls-reconnect-10k reconnect "${REC[@]}"
  # The same storm with a client that sends only an X25519 key share, as curl or nginx's own clients do: a browser's
  # client makes an ML-KEM key share for every connection, and on two shared cores that client's CPU slows the storm.
  both tls-reconnect-10k-x25519 reconnect "${REC[@]}" --tls-groups X25519
  if [[ " $TARGETS " == *" broker "* ]]; then
    log "== h2-100x100"
    bench h2-100x100 broker fanout "${H2[@]}"
    # The same storm against a Broker on its default groups, where the client's offer makes it X25519MLKEM768.
    if [[ -z $ONLY || " $ONLY " == *" pq-reconnect-10k "* ]]; then
      start_broker pq
      log "== pq-reconnect-10k"
      bench pq-warmup-fanout broker fanout "${WARM_F[@]}"
      bench pq-reconnect-10k broker reconnect "${REC[@]}"
      kill -TERM "$BROKER_PQ_PID"; wait "$BROKER_PQ_PID" 2>/dev/null || true
    fi
  fi
}
if [[ $TLS == 1 ]]; then tls_scenarios; fi

# --- 6. the table --------------------------------------------------------------------------------------------------
echo
cat "$WORK/machine.txt"
echo
java -jar "$BENCH_JAR" report "$RESULTS" | tee "$WORK/table.md"

if [[ ${PROFILE:-0} == 1 ]]; then
  for name in broker broker-tls; do
    pid=$BROKER_PID; [[ $name == broker-tls ]] && pid=$BROKER_TLS_PID
    [[ -n $pid ]] || continue
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    if [[ -e $WORK/$name.jfr ]]; then
      echo
      echo "Broker's ($name) hottest methods (top frames of jdk.ExecutionSample, whole run):"
      jfr print --events jdk.ExecutionSample "$WORK/$name.jfr" \
        | awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/line:.*/, ""); print }' \
        | sort | uniq -c | sort -rn | head -25 | tee "$WORK/hot-methods-$name.txt"
    fi
  done
fi
echo
echo "results, logs and the table: $WORK"

#!/usr/bin/env bash
# Load benchmark of totpvault against a bare net/http handler. See README.md.
#
#   bench/run.sh            three targets x three scenarios x ROUNDS rounds
#   bench/run.sh --scale    1,000,000 endpoints on PostgreSQL (COPY)
#
# Settings from the environment: ROUNDS (3), DURATION (10s), CONNS (32),
# ENDPOINTS (1000), SCALE_N (1000000), PGHOST (127.0.0.1), PGPORT (5432),
# PGUSER (postgres). Only 127.0.0.1 is touched; every load has a bounded
# duration; servers and databases made here are removed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
ENDPOINTS=${ENDPOINTS:-1000}
SCALE_N=${SCALE_N:-1000000}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}

mode=default
[[ ${1:-} == --scale ]] && mode=scale

work=$(mktemp -d /tmp/totpvault-bench.XXXXXX)
out=$here/out/$(date -u +%Y%m%dT%H%M%SZ)-$mode
mkdir -p "$out"
db=totpvault_bench_$$
admin=bench-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	dropdb --if-exists "$db" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

log() { echo "== $*" >&2; }

# ms_since T0: milliseconds since T0 (from date +%s%N).
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# wait_ready URL: poll URL every 10 ms until it answers 200 (at most 5 min).
wait_ready() {
	local deadline=$((SECONDS + 300))
	until curl -fsS -o /dev/null "$1" 2>/dev/null; do
		((SECONDS < deadline)) || { log "not ready: $1"; return 1; }
		sleep 0.01
	done
}

# ticks PID: the CPU time PID has used, user and system, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# pg_snapshot FILE: "pid ticks" of every PostgreSQL process on the machine,
# sorted by pid, so that the database's share of a load shows beside the
# server's.
pg_snapshot() {
	local p t
	for p in $(pgrep -x postgres || true); do
		t=$(ticks "$p" 2>/dev/null) && echo "$p $t"
	done | sort >"$1"
}

# pg_ticks BEFORE AFTER: the CPU ticks PostgreSQL used between two
# snapshots: each process's growth, counting one that started in between
# from zero. One that ended in between is not counted.
pg_ticks() {
	join -a 2 -e 0 -o 2.2,1.2 "$1" "$2" | awk '{sum += $1 - $2} END {print sum + 0}'
}

# rss PID: "VmRSS VmHWM" in KiB.
rss() { awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {print r, h}' "/proc/$1/status"; }

# start_totpvault NAME PORT [VAR=VALUE ...]: start totpvault on core 0 and
# set PID and READY_MS (exec to /readyz answering 200).
start_totpvault() {
	local name=$1 port=$2
	shift 2
	local t0
	t0=$(date +%s%N)
	env TOTPVAULT_LISTEN=127.0.0.1:$port TOTPVAULT_LOG_LEVEL=warn \
		TOTPVAULT_BOOTSTRAP_TOKEN="$admin" "$@" \
		taskset -c 0 "$work/totpvault" >>"$out/$name.log" 2>&1 &
	PID=$!
	pids+=("$PID")
	wait_ready "http://127.0.0.1:$port/readyz"
	READY_MS=$(ms_since "$t0")
}

# stop PID: SIGTERM and wait for the drain.
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

# load PORT MODE TOKEN N: drive one target from core 1 for DURATION; prints
# "requests seconds p50_us p99_us ok conflict other errors".
load() {
	taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" --timeout 5s -s "$here/load.lua" \
		"http://127.0.0.1:$1" -- "$2" "$3" "$4" | awk '/^RESULT/ {$1=""; print substr($0, 2)}'
}

log "building into $work"
(cd "$root" && go build -o "$work/totpvault" ./cmd/server &&
	go build -o "$work/bare" ./bench/bare && go build -o "$work/seed" ./bench/seed)

createdb "$db"
dburl="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
"$work/totpvault" keygen >"$work/master.key"
chmod 600 "$work/master.key"
pg_env=(TOTPVAULT_DATABASE_URL="$dburl" TOTPVAULT_MASTER_KEY_FILE="$work/master.key")

{
	echo "date: $(date -u)"
	echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
		"$(free -g | awk '/^Mem/ {print $2}') GiB RAM"
	echo "postgres: $(psql -Atc 'show server_version' postgres)"
	echo "go: $(go version | cut -d' ' -f3); wrk -t1 -c$CONNS -d$DURATION; server on core 0, wrk on core 1"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

if [[ $mode == default ]]; then
	taskset -c 0 "$work/bare" -listen 127.0.0.1:18080 >"$out/bare.log" 2>&1 &
	bare_pid=$!
	pids+=("$bare_pid")
	wait_ready http://127.0.0.1:18080/

	start_totpvault pg 18081 "${pg_env[@]}"
	pg_pid=$PID
	echo "start-up pg: $READY_MS ms" | tee -a "$out/machine.txt"
	start_totpvault sqlite 18082 TOTPVAULT_DATA_DIR="$work/data"
	sqlite_pid=$PID
	echo "start-up sqlite: $READY_MS ms" | tee -a "$out/machine.txt"

	log "seeding $ENDPOINTS endpoints into each store"
	pg_runner=$("$work/seed" api -url http://127.0.0.1:18081 -admin "$admin" -n "$ENDPOINTS")
	sqlite_runner=$("$work/seed" api -url http://127.0.0.1:18082 -admin "$admin" -n "$ENDPOINTS")
	echo "rss after seeding (KiB): pg $(rss "$pg_pid"), sqlite $(rss "$sqlite_pid")" |
		tee -a "$out/machine.txt"

	printf 'round\tscenario\ttarget\trequests\tseconds\tp50_us\tp99_us\tok\tconflict\tother\terrors\trss_kib\thwm_kib\tloadavg\tserver_ticks\tpg_ticks\n' \
		>"$out/results.tsv"
	for round in $(seq 1 "$ROUNDS"); do
		for scenario in code runner_code claim; do
			for target in bare pg sqlite; do
				case $target in
				bare) port=18080 pid=$bare_pid token=$admin ;;
				pg) port=18081 pid=$pg_pid token=$admin ;;
				sqlite) port=18082 pid=$sqlite_pid token=$admin ;;
				esac
				if [[ $scenario != code ]]; then
					[[ $target == pg ]] && token=$pg_runner
					[[ $target == sqlite ]] && token=$sqlite_runner
				fi
				how=code
				[[ $scenario == claim ]] && how=claim

				log "round $round $scenario $target"
				t0=$(ticks "$pid")
				pg_snapshot "$work/pg.before"
				r=$(load "$port" "$how" "$token" "$ENDPOINTS")
				t1=$(ticks "$pid")
				pg_snapshot "$work/pg.after"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$scenario" "$target" \
					"$(tr ' ' '\t' <<<"$r")" "$(rss "$pid" | tr ' ' '\t')" \
					"$(cut -d' ' -f1 /proc/loadavg)" "$((t1 - t0))" "$(pg_ticks "$work/pg.before" "$work/pg.after")" \
					>>"$out/results.tsv"
			done
		done
	done

	# One table: req/s, latency, answers, memory, the ratio to the bare
	# handler's req/s in the same round and scenario, and the CPU time per
	# request of the server and of PostgreSQL.
	awk -F'\t' -v hz="$(getconf CLK_TCK)" 'NR > 1 {
		rps = $4 / $5
		if ($3 == "bare") bare[$1, $2] = rps
		line[NR] = $0; r[NR] = rps; n = NR
	}
	END {
		print "| round | scenario | target | req/s | × bare | p50 ms | p99 ms | 200 | 409 | other | errors | RSS MiB | peak MiB | load 1m | server µs/req | postgres µs/req |"
		print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 2; i <= n; i++) {
			split(line[i], f, "\t")
			us = 1e6 / hz / (f[4] > 0 ? f[4] : 1)
			printf "| %s | %s | %s | %.0f | %.2f | %.2f | %.2f | %d | %d | %d | %d | %.1f | %.1f | %s | %.1f | %.1f |\n",
				f[1], f[2], f[3], r[i], r[i] / bare[f[1], f[2]], f[6] / 1000, f[7] / 1000,
				f[8], f[9], f[10], f[11], f[12] / 1024, f[13] / 1024, f[14], f[15] * us, f[16] * us
		}
	}' "$out/results.tsv" | tee "$out/results.md"
	echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"

	# What PostgreSQL spends on the audit record of each read, by the size of
	# the commit that carries it, with the servers idle.
	log "audit commits on PostgreSQL"
	"$work/seed" audit -database-url "$dburl" -clock-ticks "$(getconf CLK_TCK)" |
		tee "$out/audit.txt"
	log "raw figures in $out"
	exit 0
fi

# --scale: the same server first over ENDPOINTS endpoints, then over SCALE_N,
# so the difference in memory is what the extra endpoints cost.
"$work/totpvault" migrate --database-url "$dburl" >/dev/null
report() { echo "$*" | tee -a "$out/scale.txt"; }

log "copying $ENDPOINTS endpoints"
"$work/seed" copy -database-url "$dburl" -master-key-file "$work/master.key" -n "$ENDPOINTS" |
	tee -a "$out/scale.txt"
start_totpvault scale 18081 "${pg_env[@]}"
report "small: start-up $READY_MS ms, rss at start (KiB) $(rss "$PID")"
runner=$("$work/seed" api -url http://127.0.0.1:18081 -admin "$admin" -n 0)
report "small: GET /code (admin) $(load 18081 code "$admin" "$ENDPOINTS"), rss $(rss "$PID")"
report "small: GET /code (runner) $(load 18081 code "$runner" "$ENDPOINTS"), rss $(rss "$PID")"
small_rss=$(rss "$PID" | cut -d' ' -f1)
stop "$PID"

log "copying $((SCALE_N - ENDPOINTS)) more endpoints"
t0=$(date +%s%N)
"$work/seed" copy -database-url "$dburl" -master-key-file "$work/master.key" \
	-from "$ENDPOINTS" -n "$((SCALE_N - ENDPOINTS))" | tee -a "$out/scale.txt"
report "seeding by COPY (with ANALYZE): $(ms_since "$t0") ms; table $(psql -Atc \
	"select pg_size_pretty(pg_total_relation_size('endpoints'))" "$db")"

start_totpvault scale 18081 "${pg_env[@]}"
report "large: start-up $READY_MS ms, rss at start (KiB) $(rss "$PID")"
report "large: GET /code (admin) $(load 18081 code "$admin" "$SCALE_N"), rss $(rss "$PID")"
report "large: GET /code (runner) $(load 18081 code "$runner" "$SCALE_N"), rss $(rss "$PID")"
large_rss=$(rss "$PID" | cut -d' ' -f1)
report "large: $("$work/seed" walk -url http://127.0.0.1:18081 -admin "$admin" -limit 1000)"
report "large: rss after the walk $(rss "$PID")"
report "rss after /code load: small $small_rss KiB, large $large_rss KiB →" \
	"$(((large_rss - small_rss) * 1024 / (SCALE_N - ENDPOINTS))) bytes per endpoint"
report "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
log "raw figures in $out"

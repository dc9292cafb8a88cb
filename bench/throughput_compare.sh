#!/usr/bin/env bash
# Several checkouts of slotguard against the same floor, interleaved in one run, so that the
# machine's load hits every variant alike: for before/after figures of one change.
#   bench/throughput_compare.sh DIR...    each DIR a checkout with a built .venv
#   FN=book_appointment   drive that function (bench/post_book.lua: a new slot per request)
#   ROUNDS=2              rounds of (every variant, floor), 10 s of wrk each
# Prints one JSON object: req/s per variant and round, the floor's, ratios, load averages.
set -u
shared=${SHARED_PERF:-/work/shared/perf}
tmp=$(mktemp -d); fn=${FN:-collect_appointment_data}; rounds=${ROUNDS:-2}; export FN=$fn
fv="${TMPDIR:-/tmp}/slotguard-floor-venv"
[ -x "$fv/bin/uvicorn" ] || { python3 -m venv "$fv" && "$fv/bin/pip" -q install fastapi "uvicorn[standard]" asyncpg >/dev/null 2>&1; }
pg() { psql -h 127.0.0.1 -U postgres -q "$@" >/dev/null 2>&1; }
db_fl=thr_fl_$$; pg -c "create database $db_fl"
pg $db_fl -c "create table floor_appts(id bigserial primary key, customer text, starts_at timestamptz); create index on floor_appts(customer, starts_at); insert into floor_appts(customer, starts_at) select '+49151' || lpad((g % 100000)::text, 7, '0'), now() + (g % 5000) * interval '1 hour' from generate_series(1,200000) g; create table floor_calls(id bigserial primary key, call_id text unique, fn text); analyze;"
export SLOTGUARD_INSECURE_DEV=1 SLOTGUARD_LOG_LEVEL=${SLOTGUARD_LOG_LEVEL:-warning}
i=0; ports=""
for dir in "$@"; do
  i=$((i + 1)); port=$((18110 + i)); db=thr_sg_$$_$i; pg -c "create database $db"
  (cd "$dir" && SLOTGUARD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db .venv/bin/slotguard migrate >/dev/null 2>&1)
  (cd "$dir" && SLOTGUARD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db SLOTGUARD_PORT=$port setsid sh -c 'echo $$ >"$0"; exec .venv/bin/slotguard serve --workers 2' "$tmp/sg$i.pid" >"$tmp/sg$i.log" 2>&1 &)
  ports="$ports $port"
done
(cd "$shared" && FLOOR_DSN=postgresql://postgres@127.0.0.1:5432/$db_fl setsid sh -c 'echo $$ >"$0"; exec "$1/bin/uvicorn" floor:app --port 18102 --workers 2 --log-level warning --http httptools --loop uvloop' "$tmp/fl.pid" "$fv" >"$tmp/fl.log" 2>&1 &)
cleanup() {
  for f in "$tmp"/*.pid; do [ -s "$f" ] && kill -- -"$(cat "$f")" 2>/dev/null; done; sleep 2
  pg -c "drop database if exists $db_fl"; for j in $(seq 1 "$i"); do pg -c "drop database if exists thr_sg_$$_$j"; done; rm -rf "$tmp"
}
trap cleanup EXIT
for t in $(seq 1 90); do
  ok=1; for p in $ports; do curl -fs "127.0.0.1:$p/readyz" >/dev/null || ok=0; done
  curl -fs -o /dev/null 127.0.0.1:18102/docs || ok=0; [ $ok = 1 ] && break; sleep 1
done
script="$shared/post.lua"; [ "$fn" = book_appointment ] && script="$(cd "$(dirname "$0")" && pwd)/post_book.lua"
rate() { wrk -t1 -c16 -d10s --latency -s "$script" "http://127.0.0.1:$1" 2>&1 | awk '/Requests\/sec/{print $2}'; }
for p in $ports 18102; do rate "$p" >/dev/null; done   # warm-up
load0=$(cut -d' ' -f1-3 /proc/loadavg); out="$tmp/rates"
for r in $(seq 1 "$rounds"); do
  for p in $ports 18102; do echo "$r $p $(rate "$p")" >>"$out"; done
done
python3 - "$out" "$fn" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" "$@" <<'PY'
import json, sys
path, fn, load0, load1, *dirs = sys.argv[1:]
rates = {}
for line in open(path):
    _, port, rps = line.split()
    rates.setdefault(int(port), []).append(float(rps or 0))
floor = sum(rates[18102]) / len(rates[18102])
variants = {}
for i, d in enumerate(dirs, 1):
    r = rates.get(18110 + i, [0.0])
    mean = sum(r) / len(r)
    variants[d] = {"req_per_s": r, "mean": round(mean, 1), "ratio": round(mean / floor, 3) if floor else 0}
print(json.dumps({"function": fn, "floor_req_per_s": rates[18102], "floor_mean": round(floor, 1),
                  "variants": variants, "load_average": {"start": load0, "end": load1}}))
PY

#!/usr/bin/env bash
# Requests per second of `slotguard serve --workers 2` (PostgreSQL, local calendar, insecure dev
# mode) against the floor of ../shared/perf (FastAPI + asyncpg, uvloop, httptools: one indexed
# lookup and one insert per request), wrk with 16 connections, interleaved twice.
# A copy of ../shared/perf/throughput.sh with two knobs:
#   FN=book_appointment   drive that function (bench/post_book.lua: a new slot per request;
#                         the floor answers it like any other body of that shape)
#   GOAL=0.35             the ratio the exit status checks (default 0.5)
#   PROFILE=bench/profiles/NAME.svg   also record one loaded worker with py-spy (root);
#                         NAME.txt records collapsed stacks instead (bench/profile_top.py reads them)
# Run from the project root; needs PostgreSQL at 127.0.0.1:5432 (user postgres) and wrk.
set -u
shared=${SHARED_PERF:-$(cd "$(dirname "$0")/../../../shared/perf" 2>/dev/null && pwd)}
[ -f "$shared/post.lua" ] || shared=/work/shared/perf
proj=$PWD; tmp=$(mktemp -d)
fn=${FN:-collect_appointment_data}; goal=${GOAL:-0.5}; export FN=$fn
fv="${TMPDIR:-/tmp}/slotguard-floor-venv"
[ -x "$fv/bin/uvicorn" ] || { python3 -m venv "$fv" && "$fv/bin/pip" -q install fastapi "uvicorn[standard]" asyncpg >/dev/null 2>&1; }
pg() { psql -h 127.0.0.1 -U postgres -q "$@" >/dev/null 2>&1; }
db_sg=thr_sg_$$; db_fl=thr_fl_$$
pg -c "create database $db_sg"; pg -c "create database $db_fl"
pg $db_fl -c "create table floor_appts(id bigserial primary key, customer text, starts_at timestamptz); create index on floor_appts(customer, starts_at); insert into floor_appts(customer, starts_at) select '+49151' || lpad((g % 100000)::text, 7, '0'), now() + (g % 5000) * interval '1 hour' from generate_series(1,200000) g; create table floor_calls(id bigserial primary key, call_id text unique, fn text); analyze;"
export SLOTGUARD_INSECURE_DEV=1 SLOTGUARD_LOG_LEVEL=${SLOTGUARD_LOG_LEVEL:-warning}
SLOTGUARD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db_sg .venv/bin/slotguard migrate >/dev/null 2>&1
SLOTGUARD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db_sg SLOTGUARD_PORT=18101 setsid sh -c 'echo $$ >"$0"; exec .venv/bin/slotguard serve --workers 2' "$tmp/sg.pid" >"$tmp/sg.log" 2>&1 &
(cd "$shared" && FLOOR_DSN=postgresql://postgres@127.0.0.1:5432/$db_fl setsid sh -c 'echo $$ >"$0"; exec "$1/bin/uvicorn" floor:app --port 18102 --workers 2 --log-level warning --http httptools --loop uvloop' "$tmp/fl.pid" "$fv" >"$tmp/fl.log" 2>&1 &)
cleanup() { for f in sg fl; do [ -s "$tmp/$f.pid" ] && kill -- -"$(cat "$tmp/$f.pid")" 2>/dev/null; done; sleep 2; pg -c "drop database if exists $db_sg"; pg -c "drop database if exists $db_fl"; rm -rf "$tmp"; }
trap cleanup EXIT
for i in $(seq 1 60); do curl -fs 127.0.0.1:18101/readyz >/dev/null && curl -fs -o /dev/null 127.0.0.1:18102/docs && break; sleep 1; done
script="$shared/post.lua"; [ "$fn" = book_appointment ] && script="$proj/bench/post_book.lua"
rate() { wrk -t1 -c16 -d10s --latency -s "$script" "http://127.0.0.1:$1" >"$tmp/wrk.$1" 2>&1; awk '/Requests\/sec/{print $2}' "$tmp/wrk.$1"; }
rss() { for w in $(ps -o pid=,args= --ppid "$(cat "$tmp/sg.pid")" | awk '/spawn_main/{print $1}'); do ps -o rss= -p "$w"; done | awk '{printf "%d MB ", $1/1024}'; }
served() { curl -fs 127.0.0.1:18101/metrics | awk '/^slotguard_function_call_seconds_count/{n+=$2} END{print n+0}'; }
rate 18101 >/dev/null; rate 18102 >/dev/null   # warm-up
rss0=$(rss); n0=$(served)
s1=$(rate 18101); f1=$(rate 18102); s2=$(rate 18101); f2=$(rate 18102)
if [ -n "${PROFILE:-}" ]; then
  worker=$(ps -o pid=,args= --ppid "$(cat "$tmp/sg.pid")" | awk '/spawn_main/{print $1; exit}')
  wrk -t1 -c16 -d20s -s "$script" http://127.0.0.1:18101 >/dev/null 2>&1 &
  load=$!
  sleep 2; "$proj/.venv/bin/py-spy" record --pid "$worker" --duration 15 --rate 200 --nonblocking $(case "$PROFILE" in *.txt) echo --format raw;; esac) -o "$proj/$PROFILE" >"$tmp/pyspy.log" 2>&1 || cat "$tmp/pyspy.log" >&2
  wait "$load"
fi
grep -E 'Latency|50%|99%|Non-2xx' "$tmp/wrk.18101" >&2
echo "worker RSS after warm-up ($n0 calls served): $rss0; at the end ($(served) calls): $(rss)" >&2
python3 - "$s1" "$s2" "$f1" "$f2" "$(cut -d' ' -f1 /proc/loadavg)" "$fn" "$goal" <<'PY'
import sys
s1, s2, f1, f2 = map(float, sys.argv[1:5]); s, f = (s1 + s2) / 2, (f1 + f2) / 2
r = s / f if f else 0
goal = float(sys.argv[7])
print(f"{sys.argv[6]}: slotguard {s:.0f} req/s vs floor {f:.0f} req/s: ratio {r:.2f} (goal >= {goal:.2f}; load {sys.argv[5]})")
sys.exit(0 if r >= goal else 1)
PY

#!/usr/bin/env bash
# The ceiling of a statement sequence: bench/ceiling/app.py (the floor's stack running only
# the round trips of one collect_appointment_data, no logic) against ../shared/perf/floor.py,
# wrk with 16 connections and the floor's post.lua, interleaved twice, like throughput.sh.
#   CEILING_SHAPE=recording|reading|reading_known|booking|booking_one   (see app.py; default:
#   all in turn); CEILING_CALENDAR_LOCK=0 leaves the calendar lock out of the booking shapes
# Prints one JSON object per shape. Run from the project root (needs .venv, PostgreSQL at
# 127.0.0.1:5432 as postgres, wrk); the floor's virtualenv is made like throughput.sh does.
set -u
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED_PERF:-$(cd "$here/../../../shared/perf" 2>/dev/null && pwd)}
[ -f "$shared/post.lua" ] || shared=/work/shared/perf
tmp=$(mktemp -d); fv="${TMPDIR:-/tmp}/slotguard-floor-venv"
[ -x "$fv/bin/uvicorn" ] || { python3 -m venv "$fv" && "$fv/bin/pip" -q install fastapi "uvicorn[standard]" asyncpg >/dev/null 2>&1; }
pg() { psql -h 127.0.0.1 -U postgres -q "$@" >/dev/null 2>&1; }
dsn() { echo "postgresql://postgres@127.0.0.1:5432/$1"; }
db_c=ceil_c_$$; db_fl=ceil_fl_$$
cleanup() { for f in "$tmp"/*.pid; do [ -s "$f" ] && kill -- -"$(cat "$f")" 2>/dev/null; done; sleep 2; pg -c "drop database if exists $db_c"; pg -c "drop database if exists $db_fl"; rm -rf "$tmp"; }
trap cleanup EXIT
pg -c "create database $db_fl"
pg $db_fl -c "create table floor_appts(id bigserial primary key, customer text, starts_at timestamptz); create index on floor_appts(customer, starts_at); insert into floor_appts(customer, starts_at) select '+49151' || lpad((g % 100000)::text, 7, '0'), now() + (g % 5000) * interval '1 hour' from generate_series(1,200000) g; create table floor_calls(id bigserial primary key, call_id text unique, fn text); analyze;"
(cd "$shared" && FLOOR_DSN=$(dsn $db_fl) setsid sh -c 'echo $$ >"$0"; exec "$1/bin/uvicorn" floor:app --port 18112 --workers 2 --log-level warning --http httptools --loop uvloop' "$tmp/floor.pid" "$fv" >"$tmp/floor.log" 2>&1 &)
# wrk prints "Non-2xx" before "Requests/sec": a run with any error answer is reported as errors.
rate() { wrk -t1 -c16 -d10s -s "$shared/post.lua" "http://127.0.0.1:$1" 2>&1 | awk '/Requests\/sec/{r=$2} /Non-2xx/{e=1} END{print e ? "errors" : r}'; }
for shape in ${CEILING_SHAPE:-recording reading reading_known booking booking_one}; do
  pg -c "drop database if exists $db_c"; pg -c "create database $db_c"
  SLOTGUARD_DATABASE_URL=$(dsn $db_c) .venv/bin/slotguard migrate >/dev/null 2>&1
  # `serve` applies the demo tenant (company 1, stylists anna and jonas); then it stops.
  SLOTGUARD_INSECURE_DEV=1 SLOTGUARD_DATABASE_URL=$(dsn $db_c) SLOTGUARD_PORT=18119 setsid sh -c 'echo $$ >"$0"; exec .venv/bin/slotguard serve' "$tmp/tenant.pid" >/dev/null 2>&1 &
  for i in $(seq 1 60); do curl -fs 127.0.0.1:18119/readyz >/dev/null && break; sleep 1; done
  kill -- -"$(cat "$tmp/tenant.pid")" 2>/dev/null; rm -f "$tmp/tenant.pid"; sleep 1
  (cd "$here" && CEILING_CALENDAR_LOCK=${CEILING_CALENDAR_LOCK:-1} CEILING_SHAPE=$shape CEILING_DSN=$(dsn $db_c) setsid sh -c 'echo $$ >"$0"; exec "$1/bin/uvicorn" app:app --port 18111 --workers 2 --log-level warning --http httptools --loop uvloop' "$tmp/ceiling.pid" "$fv" >"$tmp/ceiling.log" 2>&1 &)
  for i in $(seq 1 60); do curl -fs -o /dev/null 127.0.0.1:18111/docs && curl -fs -o /dev/null 127.0.0.1:18112/docs && break; sleep 1; done
  rate 18111 >/dev/null; rate 18112 >/dev/null   # warm-up
  c1=$(rate 18111); f1=$(rate 18112); c2=$(rate 18111); f2=$(rate 18112)
  kill -- -"$(cat "$tmp/ceiling.pid")" 2>/dev/null; rm -f "$tmp/ceiling.pid"; sleep 1
  python3 - "$shape" "$c1" "$c2" "$f1" "$f2" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
shape, *rates, load = sys.argv[1:]
try:
    c1, c2, f1, f2 = map(float, rates)
except ValueError:
    print(json.dumps({"shape": shape, "error": "non-2xx answers", "rates": rates})); sys.exit(1)
c, f = (c1 + c2) / 2, (f1 + f2) / 2
print(json.dumps({"shape": shape, "ceiling_rps": round(c), "floor_rps": round(f),
                  "ratio": round(c / f, 2), "load": float(load)}))
PY
done

#!/usr/bin/env bash
# Worker memory over a long run: `slotguard serve --workers 2` (PostgreSQL, local calendar,
# insecure dev mode) answers REQUESTS collect_appointment_data calls (default 200000) driven by
# wrk with the floor's post.lua (16 connections) in 30 s rounds; after each round one JSON line
# with the calls served so far and each worker's RSS, at the end a summary line.
#   REQUESTS=200000   calls to serve       FN=book_appointment   drive that function instead
# Run from the project root; needs PostgreSQL at 127.0.0.1:5432 (user postgres) and wrk.
set -u
shared=${SHARED_PERF:-/work/shared/perf}; target=${REQUESTS:-200000}
export FN=${FN:-collect_appointment_data}
tmp=$(mktemp -d); db=soak_$$
pg() { psql -h 127.0.0.1 -U postgres -q "$@" >/dev/null 2>&1; }
pg -c "create database $db"
export SLOTGUARD_INSECURE_DEV=1 SLOTGUARD_LOG_LEVEL=warning
export SLOTGUARD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db
.venv/bin/slotguard migrate >/dev/null 2>&1
SLOTGUARD_PORT=18301 setsid sh -c 'echo $$ >"$0"; exec .venv/bin/slotguard serve --workers 2' "$tmp/sg.pid" >"$tmp/sg.log" 2>&1 &
cleanup() { [ -s "$tmp/sg.pid" ] && kill -- -"$(cat "$tmp/sg.pid")" 2>/dev/null; sleep 2; pg -c "drop database if exists $db"; rm -rf "$tmp"; }
trap cleanup EXIT
for i in $(seq 1 60); do curl -fs 127.0.0.1:18301/readyz >/dev/null && break; sleep 1; done
rss() { for w in $(ps -o pid=,args= --ppid "$(cat "$tmp/sg.pid")" | awk '/spawn_main/{print $1}'); do ps -o rss= -p "$w"; done | awk '{printf "%s%.1f", (NR>1?",":""), $1/1024}'; }
served() { curl -fs 127.0.0.1:18301/metrics | awk '/^slotguard_function_call_seconds_count/{n+=$2} END{print n+0}'; }
started=$(date +%s); first=""
while :; do
  n=$(served)
  line="{\"served\": $n, \"seconds\": $(( $(date +%s) - started )), \"rss_mb\": [$(rss)], \"load\": $(cut -d' ' -f1 /proc/loadavg)}"
  echo "$line"; [ -z "$first" ] && [ "$n" -gt 0 ] && first=$line
  [ "$n" -ge "$target" ] && break
  wrk -t1 -c16 -d30s -s "$shared/post.lua" http://127.0.0.1:18301 >/dev/null 2>&1
done
echo "{\"summary\": true, \"function\": \"$FN\", \"requests\": $target, \"first\": $first, \"last\": $line}"

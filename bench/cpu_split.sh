#!/usr/bin/env bash
# Where the CPU of one request goes: `slotguard serve --workers 2` (PostgreSQL, local calendar,
# insecure dev mode) under wrk (16 connections, the floor's post.lua, 5 s warm-up, 10 s
# measured); prints the requests served and the CPU seconds per request of the PostgreSQL
# backends and of the two workers (utime + stime from /proc). CPU per request moves far less
# with other processes' load than requests per second do.
#   FN=book_appointment   drive that function (post.lua's bodies)
# Run from the project root; needs PostgreSQL at 127.0.0.1:5432 (user postgres) and wrk.
set -u
tmp=$(mktemp -d)
pg() { psql -h 127.0.0.1 -U postgres -q "$@" >/dev/null 2>&1; }
db=thr_split_$$; pg -c "create database $db"
export SLOTGUARD_INSECURE_DEV=1 SLOTGUARD_LOG_LEVEL=warning SLOTGUARD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db
.venv/bin/slotguard migrate >/dev/null 2>&1
SLOTGUARD_PORT=18201 setsid .venv/bin/slotguard serve --workers 2 >/dev/null 2>&1 &
sg=$!
for i in $(seq 1 60); do curl -fs 127.0.0.1:18201/readyz >/dev/null && break; sleep 1; done
ticks() { # sum utime+stime (clock ticks) of processes whose cmdline matches $1
  local t=0; for p in $(pgrep -f "$1"); do [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
FN=${FN:-collect_appointment_data} wrk -t1 -c16 -d5s -s "${SHARED_PERF:-/work/shared/perf}/post.lua" http://127.0.0.1:18201 >/dev/null 2>&1
p0=$(ticks "postgres: "); s0=$(ticks "spawn_main"); t0=$(awk '{print $1}' /proc/uptime)
FN=${FN:-collect_appointment_data} wrk -t1 -c16 -d10s --latency -s "${SHARED_PERF:-/work/shared/perf}/post.lua" http://127.0.0.1:18201 > "$tmp/wrk.txt" 2>&1
p1=$(ticks "postgres: "); s1=$(ticks "spawn_main"); t1=$(awk '{print $1}' /proc/uptime)
n=$(awk '/requests in/{print $1}' "$tmp/wrk.txt")
python3 -c "
p=($p1-$p0)/100; s=($s1-$s0)/100; n=$n
print(f'requests {n} ({n/10:.0f}/s); postgres cpu {p:.1f}s = {1000*p/n:.2f} ms/req; workers cpu {s:.1f}s = {1000*s/n:.2f} ms/req')"
kill -- -$sg 2>/dev/null; sleep 2; pg -c "drop database if exists $db"; rm -rf "$tmp"

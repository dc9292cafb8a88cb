#!/usr/bin/env bash
# A local pg_auto_failover cluster on loopback: one monitor, a primary and a synchronous standby.
#
#   scripts/pg-cluster.sh up            create and start everything, print the client URL
#   scripts/pg-cluster.sh down          stop everything and remove the directory
#   scripts/pg-cluster.sh status        the monitor's view of the nodes
#   scripts/pg-cluster.sh url [DB]      the multi-host URL (target_session_attrs=read-write)
#   scripts/pg-cluster.sh primary       the name of the node that is primary now (node1|node2)
#   scripts/pg-cluster.sh kill NODE     SIGKILL the node's keeper and postmaster (the machine dies)
#   scripts/pg-cluster.sh start NODE    start a killed node again (it rejoins as a standby)
#   scripts/pg-cluster.sh wait-primary [SECONDS]   until a primary accepts writes
#   scripts/pg-cluster.sh wait-secondary [SECONDS] until the standby is in sync again
#
# Environment: PG_CLUSTER_DIR (default: $TMPDIR/slotguard-pg-cluster), PG_CLUSTER_PORT (the
# monitor's port, default 55400; the nodes use the next two). PostgreSQL refuses to run as
# root, so as root everything runs as the `postgres` user. The Debian packages
# postgresql-15-auto-failover and pg-auto-failover-cli are installed with apt-get when missing.
# The machine's own PostgreSQL (5432) is not touched.
set -euo pipefail

DIR=${PG_CLUSTER_DIR:-${TMPDIR:-/tmp}/slotguard-pg-cluster}
MONITOR_PORT=${PG_CLUSTER_PORT:-55400}
NODE1_PORT=$((MONITOR_PORT + 1))
NODE2_PORT=$((MONITOR_PORT + 2))
HOST=127.0.0.1
DBNAME=slotguard
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# Failure detection of the monitor, in milliseconds. The defaults (5 s checks, 20 s before a
# node is unhealthy, 30 s demote timeout) suit a WAN; on loopback a few seconds are plenty.
HEALTH_CHECK_PERIOD_MS=${PG_CLUSTER_HEALTH_CHECK_PERIOD_MS:-1000}
UNHEALTHY_TIMEOUT_MS=${PG_CLUSTER_UNHEALTHY_TIMEOUT_MS:-3000}
DEMOTE_TIMEOUT_MS=${PG_CLUSTER_DEMOTE_TIMEOUT_MS:-5000}

say() { echo "pg-cluster: $*" >&2; }
die() { say "error: $*"; exit 1; }

as_owner() {  # run a command as the cluster's owner, with its private config and state dirs
  local envs=(HOME="$DIR" XDG_CONFIG_HOME="$DIR/config" XDG_DATA_HOME="$DIR/data"
              XDG_RUNTIME_DIR="$DIR/run" PATH="$PGBIN:/usr/bin:/bin" PG_CONFIG="$PGBIN/pg_config")
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- env "${envs[@]}" "$@"
  else
    env "${envs[@]}" "$@"
  fi
}

install_packages() {
  command -v pg_autoctl >/dev/null 2>&1 && [ -x "$PGBIN/pg_ctl" ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "pg_autoctl missing and no apt-get to install it"
  [ "$(id -u)" = 0 ] || die "pg_autoctl missing; install postgresql-15-auto-failover pg-auto-failover-cli"
  say "installing postgresql-15-auto-failover pg-auto-failover-cli"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends postgresql-15-auto-failover pg-auto-failover-cli \
    >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
    postgresql-15-auto-failover pg-auto-failover-cli >/dev/null; }
}

monitor_sql() {
  "$PGBIN/psql" -X -At -h "$HOST" -p "$MONITOR_PORT" -U postgres -d pg_auto_failover -c "$1"
}

node_port() { case "$1" in node1) echo "$NODE1_PORT" ;; node2) echo "$NODE2_PORT" ;;
  *) die "unknown node '$1' (node1 or node2)" ;; esac; }

start_keeper() {  # start `pg_autoctl run` for a data directory, in its own session
  local name=$1
  as_owner setsid pg_autoctl run --pgdata "$DIR/$name" >>"$DIR/$name.log" 2>&1 </dev/null &
  wait_for 30 "the $name keeper" keeper_pid "$name"
}

keeper_pid() {  # the pid of the node's `pg_autoctl run` (the leader of its process group)
  local file="$DIR/run/pg_autoctl$DIR/$1/pg_autoctl.pid" pid
  [ -f "$file" ] && pid=$(head -1 "$file") && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${seconds}s waiting for $what (logs in $DIR)"
    sleep 0.5
  done
}

state_is() {  # state_is NODE STATE: the node reports and is assigned STATE
  [ "$(monitor_sql "select reportedstate || '/' || goalstate from pgautofailover.node
                    where nodename = '$1'")" = "$2/$2" ]
}

in_sync() {  # one node is primary and the other its secondary, as reported and assigned
  [ "$(monitor_sql "select string_agg(reportedstate::text, ',' order by reportedstate::text)
                    from pgautofailover.node where reportedstate = goalstate")" = primary,secondary ]
}

writable() {
  local url
  url=$(client_url postgres)
  [ "$("$PGBIN/psql" -X -At -d "$url" -c 'select not pg_is_in_recovery()' 2>/dev/null)" = t ]
}

client_url() {
  echo "postgresql://postgres@$HOST:$NODE1_PORT,$HOST:$NODE2_PORT/${1:-$DBNAME}?target_session_attrs=read-write"
}

up() {
  install_packages
  [ ! -e "$DIR/up" ] || { say "already up in $DIR"; client_url; return 0; }
  [ ! -e "$DIR" ] || [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty (left over? run: $0 down)"
  mkdir -p "$DIR/config" "$DIR/data" "$DIR/run"
  chmod 700 "$DIR/run"
  [ "$(id -u)" != 0 ] || chown -R postgres: "$DIR"
  for port in "$MONITOR_PORT" "$NODE1_PORT" "$NODE2_PORT"; do
    ! "$PGBIN/pg_isready" -q -h "$HOST" -p "$port" || die "port $port is taken (set PG_CLUSTER_PORT)"
  done
  say "monitor on $HOST:$MONITOR_PORT"
  as_owner pg_autoctl create monitor --pgdata "$DIR/monitor" --pgport "$MONITOR_PORT" \
    --hostname "$HOST" --auth trust --no-ssl >>"$DIR/monitor.log" 2>&1
  as_owner pg_autoctl config set --pgdata "$DIR/monitor" postgresql.listen_addresses "$HOST" \
    >>"$DIR/monitor.log" 2>&1
  start_keeper monitor
  wait_for 60 "the monitor" monitor_sql "select 1"
  monitor_sql "alter system set pgautofailover.health_check_period = $HEALTH_CHECK_PERIOD_MS" >/dev/null
  monitor_sql "alter system set pgautofailover.health_check_retry_delay = 500" >/dev/null
  monitor_sql "alter system set pgautofailover.health_check_max_retries = 1" >/dev/null
  monitor_sql "alter system set pgautofailover.health_check_timeout = 1000" >/dev/null
  monitor_sql "alter system set pgautofailover.node_considered_unhealthy_timeout = $UNHEALTHY_TIMEOUT_MS" >/dev/null
  monitor_sql "alter system set pgautofailover.primary_demote_timeout = $DEMOTE_TIMEOUT_MS" >/dev/null
  monitor_sql "select pg_reload_conf()" >/dev/null
  local monitor="postgres://autoctl_node@$HOST:$MONITOR_PORT/pg_auto_failover?sslmode=disable"
  for name in node1 node2; do
    say "$name on $HOST:$(node_port "$name")"
    as_owner pg_autoctl create postgres --pgdata "$DIR/$name" --pgport "$(node_port "$name")" \
      --pgctl "$PGBIN/pg_ctl" --hostname "$HOST" --listen "$HOST" --name "$name" --dbname "$DBNAME" \
      --monitor "$monitor" --auth trust --no-ssl >>"$DIR/$name.log" 2>&1
    if [ "$name" = node1 ]; then
      # Clients (the application, tests) connect as postgres from loopback, to any database.
      echo "host all all $HOST/32 trust" >>"$DIR/node1/pg_hba.conf"
    fi
    start_keeper "$name"
    if [ "$name" = node1 ]; then
      wait_for 90 "node1 to be primary" state_is node1 single
    fi
  done
  wait_for 120 "node2 to be a synchronous standby" state_is node2 secondary
  wait_for 60 "node1 to be primary" state_is node1 primary
  touch "$DIR/up"
  say "up: primary node1 $HOST:$NODE1_PORT, standby node2 $HOST:$NODE2_PORT"
  client_url
}

postmaster_pid() {
  local pid
  [ -f "$DIR/$1/postmaster.pid" ] && pid=$(head -1 "$DIR/$1/postmaster.pid") \
    && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

kill_node() {  # SIGKILL the keeper (its process group) and the postmaster, as if the host died
  local name=$1 keeper postmaster
  keeper=$(keeper_pid "$name" || true)
  postmaster=$(postmaster_pid "$name" || true)
  [ -z "$keeper" ] || kill -KILL -- "-$keeper" 2>/dev/null || true
  [ -z "$postmaster" ] || kill -KILL "$postmaster" 2>/dev/null || true
}

stopped() { ! keeper_pid "$1" >/dev/null && ! postmaster_pid "$1" >/dev/null; }

down() {
  [ -d "$DIR" ] || { say "nothing in $DIR"; return 0; }
  local keeper
  for name in node2 node1 monitor; do
    keeper=$(keeper_pid "$name" || true)
    [ -z "$keeper" ] || kill -TERM "$keeper" 2>/dev/null || true
  done
  for name in node2 node1 monitor; do
    local deadline=$((SECONDS + 20))
    until stopped "$name" || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.5; done
    kill_node "$name"
    local postmaster
    postmaster=$(postmaster_pid "$name" || true)
    [ -z "$postmaster" ] || as_owner "$PGBIN/pg_ctl" -D "$DIR/$name" -m immediate stop \
      >/dev/null 2>&1 || true
  done
  sleep 1
  rm -rf "$DIR"
  say "down: removed $DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  url) client_url "${2:-}" ;;
  status) as_owner pg_autoctl show state --pgdata "$DIR/monitor" ;;
  primary) monitor_sql "select nodename from pgautofailover.node where reportedstate in
                        ('primary', 'single', 'wait_primary') and goalstate = reportedstate" ;;
  kill) node_port "${2:-}" >/dev/null; kill_node "$2"; say "killed $2" ;;
  start) node_port "${2:-}" >/dev/null; start_keeper "$2"; say "started $2" ;;
  wait-primary) wait_for "${2:-60}" "a writable primary" writable ;;
  wait-secondary) wait_for "${2:-120}" "a primary with a synchronous standby" in_sync ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

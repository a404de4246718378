#!/usr/bin/env bash
# A production-shaped Temporal service on loopback: the Temporal server built from
# go.temporal.io/server on Debian's PostgreSQL 15, with SQL visibility.
#
#   scripts/temporal/cluster.sh build                 build the server, the SQL schema tool and the web
#                                                     UI server into .tools/temporal-server/bin (cached)
#   scripts/temporal/cluster.sh start [--dir DIR]     initdb a private PostgreSQL, set up both schemas,
#                                                     start the server on free 127.0.0.1 ports, create
#                                                     the namespace and Gantry's search attributes, and
#                                                     the web UI; prints TEMPORAL_ADDRESS=... (default
#                                                     DIR: .gantry/temporal; DIR/env also has TEMPORAL_UI_URL)
#   scripts/temporal/cluster.sh restart-server [--dir DIR]   stop and start the Temporal server only
#   scripts/temporal/cluster.sh stop  [--dir DIR] [--keep-logs]
#   scripts/temporal/cluster.sh status [--dir DIR]
#
# See docs/temporal-postgres.md and the README's "Running against a real Temporal".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools/temporal-server"
BIN="$TOOLS/bin"
BUILD="$TOOLS/build"
TEMPORAL_CLI="$ROOT/.tools/python/bin/temporal"

# v1.32.2 needs a newer Go than this machine kind has (DESIGN.md).
TEMPORAL_VERSION="${GANTRY_TEMPORAL_SERVER_VERSION:-v1.32.1}"
MODULE="go.temporal.io/server"
# The web UI (temporalio/ui-server embeds the built UI): the newest whose go directive this Go meets.
UI_VERSION="${GANTRY_TEMPORAL_UI_VERSION:-v2.55.0}"
UI_MODULE="github.com/temporalio/ui-server/v2"
PG_BIN="${GANTRY_PG_BIN:-/usr/lib/postgresql/15/bin}"
NAMESPACE="default"
DB_USER="temporal"
# Gantry's search attributes (src/pipeline/searchAttributes.ts defines them; the worker registers the same on any server).
SEARCH_ATTRIBUTES=(GantryApp:Keyword GantryDigest:Keyword GantryStage:Keyword GantryEnvironment:Keyword GantryAwaitingApproval:Bool GantryWave:Int)

LOG_TAG=temporal
# shellcheck source=../lib/go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/go-build.sh"

server_built() {
  [ -x "$BIN/temporal-server" ] && [ -x "$BIN/temporal-sql-tool" ] \
    && [ "$(cat "$BIN/.version" 2>/dev/null)" = "$TEMPORAL_VERSION" ] && [ -d "$TOOLS/module/schema" ]
}
ui_built() { [ -x "$BIN/temporal-ui-server" ] && [ "$(cat "$BIN/.ui-version" 2>/dev/null)" = "$UI_VERSION" ]; }
built_already() { server_built && ui_built; }

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

# A wrapper module that requires the server module, so one `go build` makes both binaries with
# the server's own pinned dependencies.
cmd_build() {
  if built_already; then log "server $TEMPORAL_VERSION and UI $UI_VERSION up to date in $BIN"; return 0; fi
  command -v go >/dev/null || die "go is not installed (need the Go version go.temporal.io/server $TEMPORAL_VERSION asks for)"
  if ! ui_built; then
    log "building the web UI server $UI_VERSION (go install $UI_MODULE/cmd/server)"
    mkdir -p "$BIN"; rm -rf "$BUILD/ui-bin"
    GOBIN="$BUILD/ui-bin" nice -n 10 go install -ldflags "-s -w" "$UI_MODULE/cmd/server@$UI_VERSION" \
      || die "go install $UI_MODULE/cmd/server@$UI_VERSION failed"
    mv "$BUILD/ui-bin/server" "$BIN/temporal-ui-server"
    echo "$UI_VERSION" > "$BIN/.ui-version"
  fi
  if server_built; then return 0; fi
  local t0=$SECONDS sdir dir="$BUILD/server-$TEMPORAL_VERSION"
  sdir=$(mod_dir "$MODULE@$TEMPORAL_VERSION")
  mkdir -p "$BIN" "$dir"
  printf 'module gantry.local/temporal-build\n\ngo %s\n\nrequire %s %s\n' \
    "$(awk '$1 == "go" { print $2; exit }' "$sdir/go.mod")" "$MODULE" "$TEMPORAL_VERSION" > "$dir/go.mod.new"
  cat > "$dir/tools.go" <<'GO'
//go:build tools

// Package tools only records the main packages this module builds.
package tools

import (
	_ "go.temporal.io/server/cmd/server"
	_ "go.temporal.io/server/cmd/tools/sql"
)
GO
  if [ ! -f "$dir/go.sum" ] || ! cmp -s "$dir/go.mod.new" "$dir/go.mod.in"; then
    cp "$dir/go.mod.new" "$dir/go.mod"
    log "go mod tidy (wrapper module for $MODULE $TEMPORAL_VERSION)"
    (cd "$dir" && nice -n 10 go mod tidy >&2) || die "go mod tidy failed in $dir"
    cp "$dir/go.mod.new" "$dir/go.mod.in"
  fi
  rm -f "$dir/go.mod.new"
  log "building temporal-server and temporal-sql-tool $TEMPORAL_VERSION (one go build; about 5 minutes the first time)"
  rm -rf "$dir/out"; mkdir -p "$dir/out"
  (cd "$dir" && nice -n 10 go build -ldflags "-s -w" -o "$dir/out/" "$MODULE/cmd/server" "$MODULE/cmd/tools/sql") \
    || die "go build of $MODULE/cmd/server and cmd/tools/sql failed"
  mv "$dir/out/server" "$BIN/temporal-server"
  mv "$dir/out/sql" "$BIN/temporal-sql-tool"
  # The schema files and the reference config come from the same module version.
  rm -rf "$TOOLS/module"; mkdir -p "$TOOLS/module"
  cp -r "$sdir/schema/postgresql" "$TOOLS/module/schema"
  cp "$sdir/config/development-postgres12.yaml" "$TOOLS/module/"
  cp "$sdir/config/dynamicconfig/development-sql.yaml" "$TOOLS/module/dynamicconfig.yaml"
  chmod -R u+w "$TOOLS/module"
  echo "$TEMPORAL_VERSION" > "$BIN/.version"
  log "build done in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------------
# start / stop
# ---------------------------------------------------------------------------------------------

DIR=""
KEEP_LOGS=0
CRASH=0
parse_opts() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --dir=*) DIR="${1#--dir=}"; shift ;;
      --keep-logs) KEEP_LOGS=1; shift ;;
      --crash) CRASH=1; shift ;;
      *) die "unknown option: $1" ;;
    esac
  done
  DIR="${DIR:-$ROOT/.gantry/temporal}"
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
}

# N distinct free ports on 127.0.0.1 below 32768: Temporal stores membership ports in a smallint
# column (cluster_membership.rpc_port), and the kernel's ephemeral range starts above it.
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
socks = []
while len(socks) < int(sys.argv[1]):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(20000, 32000)))
        socks.append(s)
    except OSError:
        s.close()
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

server_pid() {
  local pid
  pid=$(cat "$DIR/server.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

ui_pid() {
  local pid
  pid=$(cat "$DIR/ui.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

address() { echo "127.0.0.1:$(awk '$1 == "frontend" { print $2 }' "$DIR/ports")"; }
temporal_cli() { "$TEMPORAL_CLI" "$@" --address "$(address)" --command-timeout 10s; }

terminate() { # signal pid
  [ -n "${2:-}" ] || return 0
  local i
  kill "-$1" "$2" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$2" 2>/dev/null || true
  sleep 0.2
}

fail_start() {
  printf '\033[1;31m[temporal]\033[0m start failed: %s\n' "$*" >&2
  local f
  for f in "$DIR/logs/temporal.log" "$DIR/postgres/postgres.log"; do
    [ -f "$f" ] && { echo "---- last lines of $f" >&2; tail -n 20 "$f" >&2; }
  done
  terminate TERM "$(ui_pid || true)"
  terminate TERM "$(server_pid || true)"
  bash "$ROOT/scripts/postgres/instance.sh" stop --dir "$DIR/postgres" || true
  exit 1
}

wait_for() { # timeout-seconds description command...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail_start "timed out waiting for $what"
    server_pid >/dev/null || fail_start "temporal-server exited"
    sleep 0.5
  done
}

# The server config: the module's development-postgres12.yaml with our ports, our database and
# folders substituted, every service bound to 127.0.0.1 (bindOnLocalHost stays true).
write_config() { # pg-port pg-user pg-password
  local frontend http fm history hm matching mm worker wm metrics pprof ui
  read -r frontend http fm history hm matching mm worker wm metrics pprof ui < <(awk '{ printf "%s ", $2 } END { print "" }' "$DIR/ports")
  mkdir -p "$DIR/config" "$DIR/archival"
  sed -e "s/grpcPort: 7233/grpcPort: $frontend/; s/httpPort: 7243/httpPort: $http/; s/membershipPort: 6933/membershipPort: $fm/" \
      -e "s/grpcPort: 7234/grpcPort: $history/; s/membershipPort: 6934/membershipPort: $hm/" \
      -e "s/grpcPort: 7235/grpcPort: $matching/; s/membershipPort: 6935/membershipPort: $mm/" \
      -e "s/grpcPort: 7239/grpcPort: $worker/; s/membershipPort: 6939/membershipPort: $wm/" \
      -e "s/port: 7936/port: $pprof/; s/listenAddress: \"127.0.0.1:8000\"/listenAddress: \"127.0.0.1:$metrics\"/" \
      -e "s/rpcAddress: \"localhost:7233\"/rpcAddress: \"127.0.0.1:$frontend\"/" \
      -e "s/connectAddr: \"127.0.0.1:5432\"/connectAddr: \"127.0.0.1:$1\"/" \
      -e "s/user: \"temporal\"/user: \"$2\"/; s/password: \"temporal\"/password: \"$3\"/" \
      -e "s|file:///tmp/temporal_archival/development|file://$DIR/archival/history|; s|file:///tmp/temporal_vis_archival/development|file://$DIR/archival/visibility|" \
      -e "s|filepath: \"config/dynamicconfig/development-sql.yaml\"|filepath: \"$DIR/config/dynamicconfig.yaml\"|" \
      -e "s/level: info/level: warn/" \
      "$TOOLS/module/development-postgres12.yaml" > "$DIR/config/temporal.yaml"
  for p in "$frontend" "$http" "$history" "$matching" "$worker" "$1"; do
    grep -q "$p" "$DIR/config/temporal.yaml" || die "config template changed: port $p was not substituted (see $TOOLS/module/development-postgres12.yaml)"
  done
  {
    sed -e "s|http://localhost:7243|http://127.0.0.1:$http|" "$TOOLS/module/dynamicconfig.yaml"
    # New search attributes are visible at once, as on the dev server.
    printf 'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n'
  } > "$DIR/config/dynamicconfig.yaml"
}

launch_server() {
  mkdir -p "$DIR/logs"
  setsid "$BIN/temporal-server" --config-file "$DIR/config/temporal.yaml" --allow-no-auth start \
    >> "$DIR/logs/temporal.log" 2>&1 < /dev/null &
  echo $! > "$DIR/server.pid"
  wait_for 120 "the frontend at $(address)" temporal_cli operator cluster health
}

ui_url() { echo "http://127.0.0.1:$(awk '$1 == "ui" { print $2 }' "$DIR/ports")"; }

# The web UI, on 127.0.0.1 only, talking to the frontend.
launch_ui() {
  mkdir -p "$DIR/config/ui"
  printf 'temporalGrpcAddress: %s\nhost: 127.0.0.1\nport: %s\nenableUi: true\ndefaultNamespace: %s\n' \
    "$(address)" "$(awk '$1 == "ui" { print $2 }' "$DIR/ports")" "$NAMESPACE" > "$DIR/config/ui/base.yaml"
  : > "$DIR/config/ui/gantry.yaml"
  setsid "$BIN/temporal-ui-server" --root "$DIR/config" --config ui --env gantry start \
    >> "$DIR/logs/ui.log" 2>&1 < /dev/null &
  echo $! > "$DIR/ui.pid"
  wait_for 60 "the web UI at $(ui_url)" curl -fsS "$(ui_url)/api/v1/namespaces/$NAMESPACE"
}

# Namespace and search attributes; each step is skipped when already there.
prepare_namespace() {
  temporal_cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 \
    || temporal_cli operator namespace create --namespace "$NAMESPACE" --retention 72h >/dev/null \
    || fail_start "creating namespace $NAMESPACE failed"
  wait_for 60 "namespace $NAMESPACE" temporal_cli workflow list --namespace "$NAMESPACE" --limit 1
  local existing a
  existing=$(temporal_cli operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null || true)
  for a in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -qw "${a%%:*}" <<<"$existing" && continue
    temporal_cli operator search-attribute create --namespace "$NAMESPACE" --name "${a%%:*}" --type "${a#*:}" >/dev/null \
      || fail_start "registering search attribute ${a%%:*} failed"
  done
}

setup_schemas() { # pg-port user password
  local sql=("$BIN/temporal-sql-tool" --plugin postgres12 --ep 127.0.0.1 -p "$1" -u "$2" --pw "$3")
  local db dir
  for db in temporal temporal_visibility; do
    case "$db" in temporal) dir=temporal ;; *) dir=visibility ;; esac
    "${sql[@]}" --db "$db" create-database >> "$DIR/logs/schema.log" 2>&1 || fail_start "create-database $db failed"
    "${sql[@]}" --db "$db" setup-schema -v 0.0 >> "$DIR/logs/schema.log" 2>&1 || fail_start "setup-schema $db failed"
    "${sql[@]}" --db "$db" update-schema -d "$TOOLS/module/schema/v12/$dir/versioned" >> "$DIR/logs/schema.log" 2>&1 \
      || fail_start "update-schema $db failed"
  done
}

cmd_start() {
  parse_opts "$@"
  [ -x "$TEMPORAL_CLI" ] || die "the Temporal CLI is missing ($TEMPORAL_CLI): run scripts/setup.sh"
  if server_pid >/dev/null; then
    if temporal_cli operator cluster health >/dev/null 2>&1; then
      log "already running in $DIR"
      echo "TEMPORAL_ADDRESS=$(address)"
      return 0
    fi
    die "a server from an earlier start is still running in $DIR; run: $0 stop --dir $DIR"
  fi
  built_already || cmd_build
  local t0=$SECONDS url
  rm -rf "$DIR/logs" "$DIR/config" "$DIR/archival" "$DIR/ports" "$DIR/server.pid" "$DIR/ui.pid"
  mkdir -p "$DIR/logs"
  local fresh=0
  [ -f "$DIR/postgres/data/PG_VERSION" ] || fresh=1
  url=$(bash "$ROOT/scripts/postgres/instance.sh" start --dir "$DIR/postgres") || fail_start "PostgreSQL did not start"
  url="${url#DATABASE_URL=}"
  local rest="${url#postgres://}" user password pg_port
  user="${rest%%:*}"; rest="${rest#*:}"; password="${rest%%@*}"; rest="${rest#*@127.0.0.1:}"; pg_port="${rest%%/*}"
  [ "$fresh" = 1 ] && setup_schemas "$pg_port" "$user" "$password"
  local names=(frontend http frontend-membership history history-membership matching matching-membership worker worker-membership metrics pprof ui) ports i=0 p
  ports=$(free_ports "${#names[@]}")
  : > "$DIR/ports"
  for p in $ports; do echo "${names[$i]} $p" >> "$DIR/ports"; i=$((i + 1)); done
  write_config "$pg_port" "$user" "$password"
  launch_server
  prepare_namespace
  launch_ui
  printf 'TEMPORAL_ADDRESS=%s\nTEMPORAL_UI_URL=%s\nDATABASE_URL=%s\n' "$(address)" "$(ui_url)" "$url" > "$DIR/env"
  log "Temporal $TEMPORAL_VERSION on PostgreSQL up in $((SECONDS - t0))s: $(address) (logs in $DIR/logs)"
  echo "TEMPORAL_ADDRESS=$(address)"
}

# Stops the server (SIGKILL with --crash) and starts it again on the same ports and database.
cmd_restart_server() {
  parse_opts "$@"
  [ -f "$DIR/config/temporal.yaml" ] || die "not started in $DIR"
  if [ "$CRASH" = 1 ]; then terminate KILL "$(server_pid || true)"; else terminate TERM "$(server_pid || true)"; fi
  launch_server
  log "server restarted: $(address)"
  echo "TEMPORAL_ADDRESS=$(address)"
}

cmd_stop() {
  parse_opts "$@"
  terminate TERM "$(ui_pid || true)"
  terminate TERM "$(server_pid || true)"
  bash "$ROOT/scripts/postgres/instance.sh" stop --dir "$DIR/postgres" 2>/dev/null || true
  rm -rf "$DIR/postgres" "$DIR/config" "$DIR/archival" "$DIR/ports" "$DIR/server.pid" "$DIR/ui.pid" "$DIR/env"
  if [ "$KEEP_LOGS" = 1 ]; then
    log "stopped; logs kept in $DIR/logs"
  else
    rm -rf "$DIR/logs"
    rmdir "$DIR" 2>/dev/null || true
    log "stopped; removed the server data in $DIR"
  fi
}

cmd_status() {
  parse_opts "$@"
  server_pid >/dev/null || { echo "not running ($DIR)"; return 1; }
  temporal_cli operator cluster health
  cat "$DIR/env"
}

case "${1:-}" in
  build) shift; cmd_build "$@" ;;
  start) shift; cmd_start "$@" ;;
  restart-server) shift; cmd_restart_server "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) echo "usage: $0 build | start [--dir DIR] | restart-server [--dir DIR] | stop [--dir DIR] [--keep-logs] | status [--dir DIR]" >&2; exit 2 ;;
esac

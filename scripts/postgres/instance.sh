#!/usr/bin/env bash
# A private PostgreSQL 15 instance (Debian's binaries) for tests and the loopback Temporal:
# its own data directory, 127.0.0.1 only, no Unix socket, password authentication.
#
#   scripts/postgres/instance.sh start --dir DIR [--port PORT]   initdb when DIR/data is missing, start;
#                                                                prints DATABASE_URL=postgres://...
#   scripts/postgres/instance.sh stop  --dir DIR                 fast shutdown (data kept)
#   scripts/postgres/instance.sh url   --dir DIR                 prints the URL of a started instance
#
# PostgreSQL refuses to run as root: when root runs this, the server runs as the `postgres` user
# (created by the Debian package) and DIR must be reachable by it.
set -euo pipefail

PG_BIN="${GANTRY_PG_BIN:-/usr/lib/postgresql/15/bin}"
SUPERUSER="gantry"

die() { printf '\033[1;31m[postgres]\033[0m %s\n' "$*" >&2; exit 1; }

DIR="" PORT=""
parse_opts() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --port) PORT="$2"; shift 2 ;;
      *) die "unknown option: $1" ;;
    esac
  done
  [ -n "$DIR" ] || die "--dir is required"
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

url() {
  printf 'postgres://%s:%s@127.0.0.1:%s/postgres\n' "$SUPERUSER" "$(cat "$DIR/password")" "$(cat "$DIR/port")"
}

cmd_start() {
  parse_opts "$@"
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed ($PG_BIN/initdb missing): run scripts/setup.sh"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (Debian package postgresql)"
    chmod 755 "$DIR"
    runuser -u postgres -- test -x "$DIR" || die "the postgres user cannot reach $DIR (a parent folder is private)"
  fi
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    rm -rf "$DIR/data"
    mkdir -p "$DIR/data"
    umask 077
    python3 -c 'import secrets; print(secrets.token_hex(16))' > "$DIR/password"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/data" "$DIR/password"
    as_owner "$PG_BIN/initdb" -D "$DIR/data" -U "$SUPERUSER" --pwfile "$DIR/password" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale C.UTF-8 > "$DIR/initdb.log" 2>&1 \
      || die "initdb failed: $(tail -n 5 "$DIR/initdb.log")"
    chmod 644 "$DIR/password"
  fi
  if [ -n "$PORT" ]; then echo "$PORT" > "$DIR/port"; fi
  [ -f "$DIR/port" ] || free_port > "$DIR/port"
  touch "$DIR/postgres.log"; [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/postgres.log"
  # fsync off: these instances hold test data only and the machine is shared; nothing here crashes the OS.
  as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $(cat "$DIR/port") -c unix_socket_directories='' -c fsync=off -c max_connections=300" >/dev/null \
    || die "postgres did not start: $(tail -n 10 "$DIR/postgres.log")"
  echo "DATABASE_URL=$(url)"
}

cmd_stop() {
  parse_opts "$@"
  [ -f "$DIR/data/postmaster.pid" ] || return 0
  as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null || die "postgres did not stop"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  url) shift; parse_opts "$@"; url ;;
  *) echo "usage: $0 start --dir DIR [--port PORT] | stop --dir DIR | url --dir DIR" >&2; exit 2 ;;
esac

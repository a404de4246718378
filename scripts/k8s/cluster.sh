#!/usr/bin/env bash
# A real, throw-away Kubernetes control plane on loopback for Gantry's tests.
#
#   scripts/k8s/cluster.sh build                 build what is missing into .tools/k8s/bin (cached)
#   scripts/k8s/cluster.sh start [--dir DIR]     start etcd, kube-apiserver, kube-controller-manager,
#                                                kube-scheduler and kwok on free 127.0.0.1 ports;
#                                                prints KUBECONFIG=DIR/kubeconfig (default DIR: .gantry/k8s)
#   scripts/k8s/cluster.sh stop  [--dir DIR] [--keep-logs]
#   scripts/k8s/cluster.sh status [--dir DIR]
#
# Everything is built from source through the Go module proxy (no images, no downloads of
# prebuilt binaries). Nodes and pods are simulated by KWOK. See docs/kubernetes-cluster.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools/k8s"
BIN="$TOOLS/bin"
BUILD="$TOOLS/build"
MANIFESTS="$TOOLS/manifests"

# Versions. The staging modules (k8s.io/api, client-go, ...) are pinned to STAGING_VERSION, which
# must match K8S_VERSION (v1.X.Y <-> v0.X.Y). etcd is the version kubernetes itself pins in go.mod.
K8S_VERSION="${GANTRY_K8S_VERSION:-v1.37.2}"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
KWOK_VERSION="${GANTRY_KWOK_VERSION:-v0.8.0}"
GATEWAY_API_VERSION="${GANTRY_GATEWAY_API_VERSION:-v1.6.3}"
ARGOCD_MODULE="github.com/argoproj/argo-cd/v3"
ARGOCD_VERSION="${GANTRY_ARGOCD_VERSION:-v3.5.7}"
KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
NODE_NAME="kwok-node-0"

LOG_TAG=k8s
# shellcheck source=../lib/go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/go-build.sh"

manifest_versions() { echo "v2 kwok=$KWOK_VERSION gateway-api=$GATEWAY_API_VERSION argo-cd=$ARGOCD_VERSION"; }
stamp_ok() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$BIN/.$1.version"; }

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

# The wrapper module: requires k8s.io/kubernetes and replaces every staging module (listed in
# kubernetes' own go.mod replace section as ./staging/src/...) by its published v0.X.Y version.
prepare_kube_module() {
  local kdir="$1" dir="$BUILD/kube-$K8S_VERSION" etcd_version
  etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$kdir/go.mod")
  [ -n "$etcd_version" ] || die "no go.etcd.io/etcd/server/v3 requirement in $kdir/go.mod"
  mkdir -p "$dir"
  {
    printf 'module gantry.local/k8s-build\n\ngo %s\n\n' "$(awk '$1 == "go" { print $2; exit }' "$kdir/go.mod")"
    printf 'require (\n\tk8s.io/kubernetes %s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\nreplace (\n' "$K8S_VERSION" "$etcd_version"
    awk -v v="$STAGING_VERSION" '
      /^replace \(/ { inside = 1; next }
      inside && /^\)/ { inside = 0 }
      inside && $2 == "=>" && $3 ~ /^\.\/staging\// { printf "\t%s => %s %s\n", $1, $1, v }
      /^replace k8s\.io\/[^ ]+ => \.\/staging\// { printf "\t%s => %s %s\n", $2, $2, v }
    ' "$kdir/go.mod"
    printf ')\n'
  } > "$dir/go.mod.new"
  cat > "$dir/tools.go" <<'EOF'
//go:build tools

// Package tools only records the main packages this module builds.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  if [ ! -f "$dir/go.sum" ] || ! cmp -s "$dir/go.mod.new" "$dir/go.mod.in"; then
    cp "$dir/go.mod.new" "$dir/go.mod"
    log "go mod tidy (wrapper module for k8s.io/kubernetes $K8S_VERSION, staging modules $STAGING_VERSION)"
    (cd "$dir" && nice -n 10 go mod tidy >&2) || die "go mod tidy failed in $dir"
    cp "$dir/go.mod.new" "$dir/go.mod.in"
  fi
  rm -f "$dir/go.mod.new"
  echo "$dir $etcd_version"
}

cmd_build() {
  command -v go >/dev/null || die "go is not installed (need Go >= 1.26)"
  command -v openssl >/dev/null || die "openssl is not installed"
  mkdir -p "$BIN" "$BUILD" "$MANIFESTS"
  local t0=$SECONDS kdir dir etcd_version built=0 b
  kdir=$(mod_dir "k8s.io/kubernetes@$K8S_VERSION")
  read -r dir etcd_version < <(prepare_kube_module "$kdir") || true
  [ -n "${etcd_version:-}" ] || die "preparing the wrapper module failed (see above)"

  local minor ldflags="-s -w" p
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  for b in "${KUBE_BINARIES[@]}"; do
    stamp_ok "$b" "$K8S_VERSION" && continue
    log "building $b $K8S_VERSION (go build k8s.io/kubernetes/cmd/$b)"
    (cd "$dir" && nice -n 10 go build -ldflags "$ldflags" -o "$BIN/$b.tmp" "k8s.io/kubernetes/cmd/$b") \
      || die "go build k8s.io/kubernetes/cmd/$b failed"
    mv "$BIN/$b.tmp" "$BIN/$b"; stamp "$b" "$K8S_VERSION"; built=1
  done
  if ! stamp_ok etcd "$etcd_version"; then
    log "building etcd $etcd_version (go build go.etcd.io/etcd/server/v3)"
    (cd "$dir" && nice -n 10 go build -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3) \
      || die "go build go.etcd.io/etcd/server/v3 failed"
    mv "$BIN/etcd.tmp" "$BIN/etcd"; stamp etcd "$etcd_version"; built=1
  fi
  if ! stamp_ok kwok "$KWOK_VERSION"; then
    log "building kwok $KWOK_VERSION (go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION)"
    rm -rf "$BUILD/kwok-bin"
    GOBIN="$BUILD/kwok-bin" nice -n 10 go install -ldflags "-s -w" \
      "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || die "go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION failed"
    mv "$BUILD/kwok-bin/kwok" "$BIN/kwok"; stamp kwok "$KWOK_VERSION"; built=1
  fi

  # Manifests applied at start, copied out of the Go module cache (not committed to the repo).
  local want; want=$(manifest_versions)
  if [ "$(cat "$MANIFESTS/.versions" 2>/dev/null)" != "$want" ]; then
    log "collecting KWOK stages, Gateway API CRDs and Argo CD Application CRD from the module cache"
    local kwokdir gwdir argodir f
    kwokdir=$(mod_dir "sigs.k8s.io/kwok@$KWOK_VERSION")
    gwdir=$(mod_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
    argodir=$(mod_dir "$ARGOCD_MODULE@$ARGOCD_VERSION")
    rm -rf "$MANIFESTS"; mkdir -p "$MANIFESTS/crds"
    {
      for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
               pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
        printf -- '---\n'; cat "$kwokdir/kustomize/stage/$f"
      done
    } > "$MANIFESTS/kwok.yaml"
    for f in "$gwdir"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
      cp "$f" "$MANIFESTS/crds/"
    done
    cp "$argodir/manifests/crds/application-crd.yaml" "$MANIFESTS/crds/argoproj.io_applications.yaml"
    chmod -R u+w "$MANIFESTS"
    echo "$want" > "$MANIFESTS/.versions"
  fi
  if [ "$built" = 1 ]; then log "build done in $((SECONDS - t0))s"; else log "all binaries up to date in $BIN"; fi
}

# True when everything start needs is already built (lets start run without Go or network).
built_already() {
  local b
  for b in "${KUBE_BINARIES[@]}"; do stamp_ok "$b" "$K8S_VERSION" || return 1; done
  stamp_ok kwok "$KWOK_VERSION" && [ -x "$BIN/etcd" ] || return 1
  [ "$(cat "$MANIFESTS/.versions" 2>/dev/null)" = "$(manifest_versions)" ]
}

# ---------------------------------------------------------------------------------------------
# start / stop
# ---------------------------------------------------------------------------------------------

DIR=""
KEEP_LOGS=0
parse_opts() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --dir=*) DIR="${1#--dir=}"; shift ;;
      --keep-logs) KEEP_LOGS=1; shift ;;
      *) die "unknown option: $1" ;;
    esac
  done
  DIR="${DIR:-$ROOT/.gantry/k8s}"
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
}

# N distinct free TCP ports on 127.0.0.1 (held open together so they differ, then released).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

running_pids() {
  [ -f "$DIR/pids" ] || return 0
  local name pid
  while read -r name pid; do
    [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null && echo "$name $pid"
  done < "$DIR/pids"
  return 0
}

gen_certs() {
  local pki="$DIR/pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=gantry-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    issue() { # name subject extensions
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%s\n' "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" \
        -days 3650 -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    issue apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    issue admin "/O=system:masters/CN=gantry-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() { # path server
  local pki="$DIR/pki"
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: gantry-test
  cluster:
    server: $2
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: gantry-admin
  user:
    client-certificate-data: $(base64 -w0 "$pki/admin.crt")
    client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
- name: gantry-test
  context:
    cluster: gantry-test
    user: gantry-admin
current-context: gantry-test
EOF
  chmod 600 "$1"
}

launch() { # name command...
  local name="$1"; shift
  setsid "$@" > "$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo "$name $!" >> "$DIR/pids"
}

# TERM (then, after 10 s, KILL) the given pids and wait until they are gone.
terminate() {
  [ $# -gt 0 ] || return 0
  local i p alive
  kill -TERM "$@" 2>/dev/null || true
  for i in $(seq 1 50); do
    alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.2
  done
  kill -KILL "$@" 2>/dev/null || true
}

# Stops the components in reverse order: clients first, etcd last (kube-apiserver waits for it).
kill_all() {
  local name pid others=() apiserver=() etcd=()
  while read -r name pid; do
    case "$name" in
      etcd) etcd+=("$pid") ;;
      kube-apiserver) apiserver+=("$pid") ;;
      *) others+=("$pid") ;;
    esac
  done < <(running_pids)
  terminate "${others[@]}"
  terminate "${apiserver[@]}"
  terminate "${etcd[@]}"
}

fail_start() {
  local f
  printf '\033[1;31m[k8s]\033[0m start failed: %s\n' "$*" >&2
  for f in "$DIR"/logs/*.log; do
    [ -f "$f" ] || continue
    echo "---- last lines of $f" >&2; tail -n 15 "$f" >&2
  done
  kill_all
  rm -rf "$DIR/etcd" "$DIR/pids"
  echo "(logs kept in $DIR/logs)" >&2
  exit 1
}

wait_for() { # timeout-seconds description command...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail_start "timed out waiting for $what"
    local name pid
    while read -r name pid; do kill -0 "$pid" 2>/dev/null || fail_start "$name exited"; done < "$DIR/pids"
    sleep 0.25
  done
}

cmd_start() {
  parse_opts "$@"
  local kubeconfig="$DIR/kubeconfig"
  if [ -n "$(running_pids)" ]; then
    if KUBECONFIG="$kubeconfig" "$BIN/kubectl" get --raw /readyz >/dev/null 2>&1; then
      log "already running in $DIR"
      echo "KUBECONFIG=$kubeconfig"
      return 0
    fi
    die "processes from an earlier start are still running in $DIR; run: $0 stop --dir $DIR"
  fi
  built_already || cmd_build
  local t0=$SECONDS
  rm -rf "$DIR/etcd" "$DIR/pki" "$DIR/logs" "$DIR/pids" "$DIR/kubeconfig"
  mkdir -p "$DIR/logs"
  : > "$DIR/pids"
  gen_certs
  local pki="$DIR/pki" etcd_port etcd_peer api_port kcm_port sched_port
  read -r etcd_port etcd_peer api_port kcm_port sched_port < <(free_ports 5)
  local server="https://127.0.0.1:$api_port"
  write_kubeconfig "$kubeconfig" "$server"
  export KUBECONFIG="$kubeconfig"
  local kubectl="$BIN/kubectl"

  launch etcd "$BIN/etcd" --name gantry --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "gantry=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync --log-level warn
  wait_for 20 "etcd" curl -fsS "http://127.0.0.1:$etcd_port/health"

  launch kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --authorization-mode RBAC --allow-privileged \
    --endpoint-reconciler-type none --profiling=false
  wait_for 60 "kube-apiserver /readyz" "$kubectl" get --raw /readyz

  launch kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$kubeconfig" --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" --cert-dir "$pki/kube-controller-manager" \
    --authentication-skip-lookup --leader-elect=false --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --service-cluster-ip-range 10.0.0.0/24 --profiling=false
  launch kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$kubeconfig" --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --cert-dir "$pki/kube-scheduler" \
    --authentication-skip-lookup --leader-elect=false --profiling=false
  launch kwok "$BIN/kwok" --kubeconfig "$kubeconfig" --config "$MANIFESTS/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 --node-ip 10.244.0.1 --cidr 10.244.1.0/24

  "$kubectl" apply --server-side --force-conflicts -f "$MANIFESTS/crds" > "$DIR/logs/crds.log" 2>&1 \
    || fail_start "applying CRDs failed: $(tail -n 5 "$DIR/logs/crds.log")"
  "$kubectl" apply -f - > "$DIR/logs/node.log" 2>&1 <<EOF || fail_start "creating node $NODE_NAME failed"
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
  wait_for 30 "CRDs to be Established" "$kubectl" wait --for condition=Established --timeout 1s \
    crd/httproutes.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io crd/applications.argoproj.io
  wait_for 30 "node $NODE_NAME to be Ready" "$kubectl" wait --for condition=Ready --timeout 1s "node/$NODE_NAME"
  wait_for 30 "the default service account" "$kubectl" -n default get serviceaccount default
  local name pid
  while read -r name pid; do kill -0 "$pid" 2>/dev/null || fail_start "$name exited"; done < "$DIR/pids"
  log "cluster up in $((SECONDS - t0))s: $server (logs in $DIR/logs)"
  echo "KUBECONFIG=$kubeconfig"
}

cmd_stop() {
  parse_opts "$@"
  kill_all
  # Only what start created is removed (DIR itself only if that leaves it empty).
  rm -rf "$DIR/etcd" "$DIR/pki" "$DIR/pids" "$DIR/kubeconfig"
  if [ "$KEEP_LOGS" = 1 ]; then
    log "stopped; logs kept in $DIR/logs"
  else
    rm -rf "$DIR/logs"
    rmdir "$DIR" 2>/dev/null || true
    log "stopped; removed the cluster data in $DIR"
  fi
}

cmd_status() {
  parse_opts "$@"
  local running; running=$(running_pids)
  if [ -z "$running" ]; then echo "not running ($DIR)"; return 1; fi
  echo "$running"
  KUBECONFIG="$DIR/kubeconfig" "$BIN/kubectl" get --raw /readyz && echo
  echo "KUBECONFIG=$DIR/kubeconfig"
}

case "${1:-}" in
  build) shift; cmd_build "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) echo "usage: $0 build | start [--dir DIR] | stop [--dir DIR] [--keep-logs] | status [--dir DIR]" >&2; exit 2 ;;
esac

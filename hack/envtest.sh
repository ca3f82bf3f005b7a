#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd) from Go module
# sources and caches it under ~/.cache/airlock/envtest/<version>/. Nothing is
# fetched from anywhere but the Go module proxy. Prints the assets directory
# on stdout; progress goes to stderr.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE="${AIRLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}"
DIR="$CACHE/envtest/$KUBE_VERSION-etcd$ETCD_VERSION"

log() { echo "envtest: $*" >&2; }

if [[ -x "$DIR/kube-apiserver" && -x "$DIR/etcd" ]]; then
  echo "$DIR"
  exit 0
fi
mkdir -p "$DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

staging_minor="v0.${KUBE_VERSION#v1.}"

if [[ ! -x "$DIR/etcd" ]]; then
  log "building etcd $ETCD_VERSION, first run only, about 1 minute"
  mkdir -p "$work/etcd"
  cat >"$work/etcd/main.go" <<'GO'
// Command etcd is etcd's own main, built from the module for envtest.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work/etcd" && go mod init airlock.local/envtest/etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 && go mod tidy >&2 &&
    go build -trimpath -o "$DIR/etcd.tmp" . >&2)
  mv "$DIR/etcd.tmp" "$DIR/etcd"
fi

if [[ ! -x "$DIR/kube-apiserver" ]]; then
  log "building kube-apiserver $KUBE_VERSION, first run only, about 15 minutes"
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  mkdir -p "$work/kube"
  {
    echo "module airlock.local/envtest/kube"
    echo "go 1.26"
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    # k8s.io/kubernetes points its staging modules at ./staging; map each to its release.
    sed -n 's#^[[:space:]]*\(replace[[:space:]]\+\)\?\(k8s.io/[a-z0-9-]\+\)[[:space:]]\+=>[[:space:]]\+\./staging/.*#replace \2 => \2 '"$staging_minor"'#p' "$gomod"
  } >"$work/kube/go.mod"
  echo 'package tools' >"$work/kube/tools.go"
  ver="k8s.io/component-base/version"
  minor="${KUBE_VERSION#v1.}" && minor="${minor%%.*}"
  ldflags="-s -w -X $ver.gitVersion=$KUBE_VERSION -X $ver.gitMajor=1 -X $ver.gitMinor=$minor"
  (cd "$work/kube" && go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >&2 &&
    go build -trimpath -ldflags "$ldflags" -o "$DIR/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2)
  mv "$DIR/kube-apiserver.tmp" "$DIR/kube-apiserver"
fi
log "assets ready in $DIR"
echo "$DIR"

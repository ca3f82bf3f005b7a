#!/usr/bin/env bash
# Installs the npm MCP peers of the end-to-end tests (server-everything,
# server-filesystem, the MCP Inspector CLI) from test/e2e/npm's lockfile into
# ~/.cache/airlock/npm/<lockfile hash>/ and prints that directory. Reuses the
# cache; only the npm registry is contacted.
set -euo pipefail
src="$(cd "$(dirname "$0")/../test/e2e/npm" && pwd)"
CACHE="${AIRLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/airlock}"
hash=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
dir="$CACHE/npm/$hash"
if [[ -x "$dir/node_modules/.bin/mcp-inspector" && -x "$dir/node_modules/.bin/mcp-server-everything" ]]; then
  echo "$dir"
  exit 0
fi
command -v npm >/dev/null || { echo "npm-peers: npm is required (Node 20)" >&2; exit 1; }
echo "npm-peers: installing MCP peers from the lockfile into $dir" >&2
tmp="$dir.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
cp "$src/package.json" "$src/package-lock.json" "$tmp/"
# npm ci trips over an optional Windows-only dependency missing from the
# lockfile; npm install with the lockfile present installs the same tree.
(cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error --no-save >&2)
rm -rf "$dir" && mv "$tmp" "$dir"
echo "$dir"

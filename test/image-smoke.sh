#!/usr/bin/env bash
# What the Dockerfile's runtime stage runs, without Docker: a clean `npm ci --omit=dev` next to the
# built dist/, package.json and policies/, then the image's ENTRYPOINT + CMD with NODE_ENV=production.
# The server must come up (generating its development certificate into ./certs) and answer /readyz.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
app=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$app"; }
trap cleanup EXIT
cp -r "$root/package.json" "$root/package-lock.json" "$root/dist" "$root/policies" "$app/"
mkdir "$app/certs"
(cd "$app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
if [[ -d $app/node_modules/typescript || -d $app/node_modules/vitest ]]; then echo "image-smoke: dev dependencies were installed"; exit 1; fi
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
(cd "$app" && NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=4 exec node dist/main.js serve --policies "$app/policies" --host 127.0.0.1 --port "$port" --offline --shutdown-delay 0 > "$app/server.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do
  if curl -fsS --cacert "$app/certs/ca.crt" "https://localhost:$port/readyz" > "$app/readyz.json" 2>/dev/null; then
    echo "image-smoke: ok — $(head -c 120 "$app/readyz.json")"
    exit 0
  fi
  sleep 0.2
done
echo "image-smoke: the server did not become ready"; cat "$app/server.log"; exit 1

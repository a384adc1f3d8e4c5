#!/usr/bin/env bash
# Proves the peer range's lower half: packs the library, installs it with Nest 11 (CommonJS) in a scratch folder,
# and runs a small app against it with a real WebSocket client. The app also proves @nestjs/throttler's WebSocket
# recipe (the throttler is CommonJS: Jest on Node 20 cannot load it beside the ESM Nest 12).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
npm pack --silent --pack-destination "$work" >/dev/null
cd "$work"
echo '{ "name": "nest11-consumer", "private": true }' > package.json
npm install --silent --no-audit --no-fund \
  @nestjs/common@^11 @nestjs/core@^11 @nestjs/websockets@^11 @nestjs/platform-express@^11 \
  reflect-metadata rxjs ws class-validator class-transformer @nestjs/throttler@^6 ./nestjs-realtime-*.tgz
cp "$root/test/compat/nest11-app.cjs" .
node nest11-app.cjs

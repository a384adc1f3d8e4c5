#!/usr/bin/env bash
# Lints the package as npm would publish it: packs the built library, then checks the tarball with publint (exports,
# files, fields) and @arethetypeswrong/cli (every entry point's types resolve, for ESM consumers and bundlers). The
# package is ESM only: CommonJS apps (Nest 11) load it through Node's require(esm), which `npm run test:nest11`
# proves on a real Nest 11 app against the same kind of tarball.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/*.tgz)
npx publint run "$tarball" --strict
npx attw "$tarball" --profile esm-only

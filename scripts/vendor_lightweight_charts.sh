#!/usr/bin/env bash
# Re-vendor TradingView Lightweight Charts from its npm package (no CDN at run time).
set -euo pipefail
version="${1:-4.2.3}"
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
(cd "$tmp" && npm pack "lightweight-charts@${version}" >/dev/null && tar xzf "lightweight-charts-${version}.tgz")
dest="static/vendor/lightweight-charts-${version}"
mkdir -p "$dest"
cp "$tmp/package/dist/lightweight-charts.standalone.production.js" "$tmp/package/LICENSE" "$dest/"
echo "vendored lightweight-charts ${version} into ${dest}"

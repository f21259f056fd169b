#!/usr/bin/env bash
# Installs the emoji data packages for this experiment only (pinned in experiments/emoji/package-lock.json;
# not a workspace of the repository, so the repository's own `npm ci` never downloads them), then builds the
# benchmark in experiments/emoji/data/ (git-ignored).
#   bash experiments/emoji/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
npm ci --prefix "$here" --ignore-scripts --no-audit --no-fund
node "$here/prepare.mjs"

#!/usr/bin/env bash
# npm test: installs the Debian packages the daemon tests need (when missing and run as root),
# type-checks everything, then runs every test (or the spec files given as arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-packages.sh
echo "Type-checking (tsc --noEmit)"
npx --no-install tsc --noEmit -p .
if [ $# -eq 0 ]; then
  set -- 'test/**/*.spec.ts'
fi
npx --no-install mocha "$@"

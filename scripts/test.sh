#!/usr/bin/env bash
# npm test: installs the Debian packages the daemon tests need (when missing and run as root),
# type-checks everything, then runs every test. Extra arguments go to mocha.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-packages.sh
echo "Type-checking (tsc --noEmit)"
npx --no-install tsc --noEmit -p .
npx --no-install mocha "$@"

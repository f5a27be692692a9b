#!/usr/bin/env bash
# PID 1 of a rehearsal run's VPC services, started by testHosts.ts in the machine's network
# namespace with a PID namespace of its own:  unshare --pid --fork vpc-init.sh
# It runs the apt proxy (here, where the Debian mirror is reachable) and, inside the run's VPC
# namespace, a socat that relays the hosts' apt traffic (their gateway, port APT_PROXY_PORT) to
# the proxy's Unix socket, (with GIT_ROOT) a git daemon serving the run's buildout repositories
# in the VPC namespace, and (with FILES_ROOT) an HTTP server of the run's package stand-ins (a pip
# index, a Node.js mirror, an npm registry) there. Killing this process ends them all: nothing of
# the run outlives it.
# Environment (all required): VPC_NETNS, APT_PROXY_SOCKET, APT_PROXY_PORT, APT_CACHE_DIR,
# APT_MIRRORS (comma-separated host names), APT_PROXY_LOG, VPC_READY, PROXY_COMMAND (how to
# run aptProxy.ts: node with its arguments, separated by newlines); optional: GIT_ROOT,
# GIT_DAEMON_PORT, GIT_DAEMON_LOG, FILES_ROOT, FILES_PORT, FILES_LOG.
set -euo pipefail

: "${VPC_NETNS:?}" "${APT_PROXY_SOCKET:?}" "${APT_PROXY_PORT:?}" "${APT_CACHE_DIR:?}" "${APT_MIRRORS:?}" "${APT_PROXY_LOG:?}" "${VPC_READY:?}" "${PROXY_COMMAND:?}"

mapfile -t proxy <<< "$PROXY_COMMAND"
"${proxy[@]}" --socket "$APT_PROXY_SOCKET" --cache "$APT_CACHE_DIR" --allow "$APT_MIRRORS" >> "$APT_PROXY_LOG" 2>&1 &
for _ in $(seq 200); do
  [ -S "$APT_PROXY_SOCKET" ] && break
  sleep 0.05
done
[ -S "$APT_PROXY_SOCKET" ] || { echo "the apt proxy did not start (see $APT_PROXY_LOG)" >&2; exit 1; }

ip netns exec "$VPC_NETNS" socat -lpwarn "TCP-LISTEN:$APT_PROXY_PORT,fork,reuseaddr" "UNIX-CONNECT:$APT_PROXY_SOCKET" >> "$APT_PROXY_LOG" 2>&1 &
for _ in $(seq 100); do
  ip netns exec "$VPC_NETNS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$APT_PROXY_PORT" 2>/dev/null && break
  sleep 0.05
done
# The buildout repositories, when the run serves them (GIT_ROOT): git daemon in the VPC namespace,
# listening on every gateway address, read-only.
if [ -n "${GIT_ROOT:-}" ]; then
  ip netns exec "$VPC_NETNS" git daemon --reuseaddr --export-all --informative-errors --port="${GIT_DAEMON_PORT:?}" \
    --base-path="$GIT_ROOT" "$GIT_ROOT" >> "${GIT_DAEMON_LOG:?}" 2>&1 &
  for _ in $(seq 100); do
    ip netns exec "$VPC_NETNS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$GIT_DAEMON_PORT" 2>/dev/null && break
    sleep 0.05
  done
fi
# The package stand-ins, when the run serves them (FILES_ROOT): static files over HTTP on every
# gateway address, each request logged (what the hosts downloaded, for the rehearsal's output).
# HTTP/1.1 with keep-alive, as a CDN answers: Node's fetch (corepack's download of pnpm) trips over
# http.server's default HTTP/1.0, which closes the connection after each answer.
if [ -n "${FILES_ROOT:-}" ]; then
  ip netns exec "$VPC_NETNS" python3 -c '
import functools, http.server, sys
http.server.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2])), handler).serve_forever()
' "$FILES_ROOT" "${FILES_PORT:?}" >> "${FILES_LOG:?}" 2>&1 &
  for _ in $(seq 100); do
    ip netns exec "$VPC_NETNS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$FILES_PORT" 2>/dev/null && break
    sleep 0.05
  done
fi
touch "$VPC_READY"

# Reap the relay's connection children and anything else that ends here.
exec python3 -c '
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(1)
'

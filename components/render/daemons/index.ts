// The daemons of the service layers that Debian runs (memcached, redis): their configuration
// files, the check that runs the real daemon against a new file before it goes live, and the
// restart that applies it (neither daemon reloads its configuration).
import { PATHS, type HostPlan } from "../../topology";
import { addressOf, type RenderContext, type RenderedFile } from "../context";
import type { ServiceReload } from "../host/install";
import { rootFile } from "../scriptKit";
import { MEMCACHED_CONF, renderMemcachedConf } from "./memcached";
import { REDIS_CONF, renderRedisConf } from "./redis";

/** Runs memcached or redis-server against a configuration file, away from the live daemon. */
export const DAEMON_CHECK_SCRIPT = `${PATHS.sbinDir}/plone-daemon-check`;

/**
 * plone-daemon-check memcached|redis <file>: starts the real daemon with the file's options on a
 * scratch Unix socket (no TCP port, a scratch data directory), waits until it answers or exits, and
 * stops it. An option or value the daemon refuses makes it exit at once, with its message.
 */
export function renderDaemonCheckScript(): string {
    return `#!/bin/bash
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
# plone-daemon-check: checks a memcached or Redis configuration file with the real daemon before it goes live.
# Usage: plone-daemon-check memcached|redis <file>
# Written by plone-aws: changes are overwritten.
set -euo pipefail
die() { printf 'plone-daemon-check: ERROR: %s\n' "$*" >&2; exit 1; }
scratch=$(mktemp -d)
chmod 0777 "$scratch"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
socket="$scratch/check.sock"
[ $# -eq 2 ] || die "usage: plone-daemon-check memcached|redis <file>"
file=$2
[ -r "$file" ] || die "cannot read $file"

case $1 in
  memcached)
    # Debian's wrapper passes the lines starting with '-'; -d (background) and -P (the live
    # pidfile) are left out, and -s puts the check on a Unix socket instead of -l and -p.
    options=()
    while read -r flag value; do
      case $flag in -d | -P) continue ;; -*) options+=("$flag") ;; *) continue ;; esac
      if [ -n "$value" ]; then options+=("$value"); fi
    done <"$file"
    memcached "\${options[@]}" -s "$socket" >"$scratch/log" 2>&1 &
    pid=$!
    answers() { [ -S "$socket" ]; }
    ;;
  redis)
    # Options on the command line override the file's: no TCP port, the scratch directory.
    redis-server "$file" --port 0 --unixsocket "$socket" --unixsocketperm 700 --dir "$scratch" \\
      --daemonize no --supervised no --pidfile "$scratch/pid" --logfile "" >"$scratch/log" 2>&1 &
    pid=$!
    answers() { [ "$(redis-cli -s "$socket" ping 2>/dev/null)" = PONG ]; }
    ;;
  *) die "usage: plone-daemon-check memcached|redis <file>" ;;
esac

# Wait on progress: the daemon answers, or it exits (a refused option); a hang guard of 60 s.
for _ in $(seq 600); do
  if answers; then exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" && status=0 || status=$?
    pid=
    cat "$scratch/log" >&2
    die "$1 refused $file (exit $status)"
  fi
  sleep 0.1
done
cat "$scratch/log" >&2
die "$1 did not answer on a scratch socket within 60 s with $file"
`;
}

const restart = (service: string) => `if [ -d /run/systemd/system ]; then systemctl restart ${service}; else service ${service} restart; fi`;

/** The daemon files of a host's layers. */
export function renderDaemonFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    const { plone } = ctx.spec;
    const files: RenderedFile[] = [];
    const privateAddress = () => addressOf(host.name, ctx.addresses);
    if (host.layers.includes("memcached")) {
        files.push(rootFile(MEMCACHED_CONF, renderMemcachedConf({ privateAddress: privateAddress(), ...plone.memcached })));
    }
    if (host.layers.includes("redis")) {
        // Debian's package keeps it redis:redis 0640.
        files.push({ ...rootFile(REDIS_CONF, renderRedisConf({ privateAddress: privateAddress(), ...plone.redis }), "0640"), owner: "redis", group: "redis" });
    }
    if (files.length > 0) files.push(rootFile(DAEMON_CHECK_SCRIPT, renderDaemonCheckScript(), "0755"));
    return files;
}

/** How the configure step checks and applies a changed daemon file: a restart (neither daemon reloads). */
export function daemonServices(host: HostPlan): ServiceReload[] {
    const services: ServiceReload[] = [];
    if (host.layers.includes("memcached")) {
        services.push({
            name: "memcached",
            paths: [MEMCACHED_CONF],
            validate: `${DAEMON_CHECK_SCRIPT} memcached "$root"${MEMCACHED_CONF}`,
            reload: restart("memcached"),
        });
    }
    if (host.layers.includes("redis")) {
        services.push({ name: "redis", paths: [REDIS_CONF], validate: `${DAEMON_CHECK_SCRIPT} redis "$root"${REDIS_CONF}`, reload: restart("redis-server") });
    }
    return services;
}

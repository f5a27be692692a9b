// plone-frontend-service: validates and reloads haproxy, varnish and nginx without dropping a
// request, with systemd (the EC2 hosts) and without it (init scripts via `service`: containers,
// chroot test hosts). The configure step calls it through FRONTEND_SERVICES.
import { DEFAULT_FRONTEND_LAYOUT, FrontendLayout } from "./layout";

export function frontendServiceScriptPath(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `${layout.paths.sbinDir}/plone-frontend-service`;
}

export function renderFrontendServiceScript(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    const p = layout.paths;
    return `#!/usr/bin/env bash
# plone-frontend-service: check, reload, restart or start the front-end daemons.
# Managed by plone-aws; local edits are overwritten by the next \`pulumi up\`.
#
#   plone-frontend-service check   haproxy|varnish|nginx   validate the configuration files
#   plone-frontend-service reload  haproxy|varnish|nginx   validate, then reload without dropping
#                                                          requests (starts the daemon if it is down)
#   plone-frontend-service restart haproxy|varnish|nginx   validate, then restart (varnish: needed
#                                                          when its parameters change; empties the cache)
#
# A configuration that does not validate is never loaded: the running daemon keeps serving the
# previous one and this command exits 1 with the validator's message.
# Reloads: haproxy hands its listening sockets to the new process and the old one finishes its
# requests; varnishreload loads the new VCL next to the old one and switches (the cache is kept);
# nginx re-reads its configuration and old workers finish their requests.
set -euo pipefail

HAPROXY_CFG=\${PLONE_HAPROXY_CFG:-${p.haproxyConfig}}
HAPROXY_SOCKET=\${PLONE_HAPROXY_SOCKET:-${p.haproxySocket}}
HAPROXY_STATE=\${PLONE_HAPROXY_STATE:-${p.haproxyStateFile}}
VARNISH_VCL=\${PLONE_VARNISH_VCL:-${p.varnishVcl}}
# varnishd -n: empty for the host's default instance.
VARNISH_NAME=\${PLONE_VARNISH_NAME:-}
NGINX_CONF=\${PLONE_NGINX_CONF:-${p.nginxDir}/nginx.conf}

usage() {
  echo "usage: $0 check|reload|restart|start haproxy|varnish|nginx" >&2
  exit 2
}

fail() {
  echo "plone-frontend-service: $*" >&2
  exit 1
}

with_systemd() {
  [ -d /run/systemd/system ]
}

varnish_n() {
  if [ -n "$VARNISH_NAME" ]; then
    printf '%s\\n' -n "$VARNISH_NAME"
  fi
}

check() {
  local out tmp
  case $1 in
    haproxy)
      ensure_haproxy_state
      out=$(haproxy -c -q -f "$HAPROXY_CFG" 2>&1) || fail "$HAPROXY_CFG is invalid:
$out"
      ;;
    varnish)
      # A scratch instance directory the varnish user can write to (varnishd -C compiles as it).
      tmp=$(mktemp -d)
      chmod 755 "$tmp"
      if ! out=$(varnishd -C -n "$tmp/n" -f "$VARNISH_VCL" 2>&1); then
        rm -rf "$tmp"
        fail "$VARNISH_VCL is invalid:
$(printf '%s\\n' "$out" | grep -v '^Could not delete' | tail -n 30)"
      fi
      rm -rf "$tmp"
      ;;
    nginx)
      out=$(nginx -t -q -c "$NGINX_CONF" 2>&1) || fail "$NGINX_CONF is invalid:
$out"
      ;;
  esac
}

running() {
  case $1 in
    varnish)
      local n
      mapfile -t n < <(varnish_n)
      varnishadm "\${n[@]}" ping >/dev/null 2>&1
      ;;
    *)
      if with_systemd; then
        systemctl is-active --quiet "$1"
      else
        service "$1" status >/dev/null 2>&1
      fi
      ;;
  esac
}

# haproxy reads the saved server states at start; a missing file is only a warning, an empty one
# with the format version avoids it.
ensure_haproxy_state() {
  if [ ! -s "$HAPROXY_STATE" ]; then
    mkdir -p "$(dirname "$HAPROXY_STATE")"
    printf '1\\n' >"$HAPROXY_STATE"
  fi
}

# Saves the running servers' states (up/down, drain/maint) for the process that replaces it.
save_haproxy_state() {
  [ -S "$HAPROXY_SOCKET" ] || return 0
  local tmp="$HAPROXY_STATE.new"
  if echo "show servers state" | socat -t 5 stdio "unix-connect:$HAPROXY_SOCKET" >"$tmp" 2>/dev/null && [ -s "$tmp" ]; then
    mv -f "$tmp" "$HAPROXY_STATE"
  else
    rm -f "$tmp"
  fi
}

start() {
  if with_systemd; then
    systemctl daemon-reload
    systemctl enable --quiet "$1"
    systemctl start "$1"
  else
    service "$1" start
  fi
}

reload() {
  if ! running "$1"; then
    start "$1"
    return
  fi
  case $1 in
    haproxy)
      save_haproxy_state
      if with_systemd; then systemctl reload haproxy; else service haproxy reload; fi
      ;;
    varnish)
      local n bin
      mapfile -t n < <(varnish_n)
      bin=$(command -v varnishreload || echo /usr/share/varnish/varnishreload)
      # Keep the three newest older VCLs (their probes stop once they are discarded).
      "$bin" "\${n[@]}" -m 3 "$VARNISH_VCL"
      ;;
    nginx)
      if with_systemd; then systemctl reload nginx; else service nginx reload; fi
      ;;
  esac
}

restart() {
  if [ "$1" = haproxy ]; then
    save_haproxy_state
  fi
  if with_systemd; then
    systemctl daemon-reload
    systemctl restart "$1"
  else
    # Not "service varnish restart": Debian's init script first runs varnishd -C with the new
    # listen addresses, which fails while the running varnishd holds them.
    service "$1" stop || true
    service "$1" start
  fi
}

[ $# -eq 2 ] || usage
case $2 in
  haproxy|varnish|nginx) ;;
  *) usage ;;
esac
case $1 in
  check) check "$2" ;;
  reload) check "$2"; reload "$2" ;;
  restart) check "$2"; restart "$2" ;;
  start) check "$2"; running "$2" || start "$2" ;;
  *) usage ;;
esac
`;
}

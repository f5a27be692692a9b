// plone-status (PATHS.sbinDir): what runs on a host, read-only: its system services, the app's
// supervisor programs (the Volto processes <app>-volto1..N among them) and clients out of rotation,
// the release in use, and its disks.
import { PATHS, type HostPlan } from "../../topology";
import { appLayout } from "../app/layout";
import type { RenderContext } from "../context";
import { scriptHeader, sh, shellArray, shellQuote } from "../scriptKit";
import { systemServices } from "./services";
import { runsBuild } from "../../layers";
import { RELEASE_MARKER } from "../hostScripts/common";

/** Exit status of plone-status when it found something wrong (a service down, a disk too full). */
export const STATUS_PROBLEMS = 3;

export function renderStatusScript(ctx: RenderContext, host: HostPlan): string {
    const services = systemServices(ctx, host);
    const buildout = runsBuild(host);
    const layout = appLayout(ctx.spec);
    return `${scriptHeader(
        "plone-status",
        [
            `what runs on ${host.name} (${host.layers.join(", ")}): services, the app's programs, the release, disks.`,
            `Exit 0 when all is well, ${STATUS_PROBLEMS} when something is wrong (each problem is listed last), 1 when it cannot tell.`,
        ],
        ["services"],
    )}
HOST=${shellQuote(host.name)}
LAYERS=${shellQuote(host.layers.join(", "))}
NAMES=${shellArray(services.map((s) => s.name))}
UNITS=${shellArray(services.map((s) => s.unit))}
INITS=${shellArray(services.map((s) => s.init))}
OPTIONAL=${shellArray(services.map((s) => s.optional ?? ""))}
APP=${shellQuote(ctx.spec.app.name)}
# The release trees of this host: the backend's (build hosts) and the Volto frontend's (volto hosts).
RELEASE_ROOTS=${shellArray([...(buildout ? [layout.deployTo] : []), ...(host.voltoProcesses.length > 0 ? [layout.volto.deployTo] : [])])}
SUPERVISED=${buildout || host.voltoProcesses.length > 0 ? "yes" : "no"}
RUNTIME_DIR=$\{PLONE_RUNTIME_DIR:-${PATHS.runtimeDir}}
SUPERVISOR_CONF=$\{PLONE_SUPERVISOR_CONF:-}
MOUNTS=${shellArray(["/", ...host.volumes.map((v) => v.mountPoint)])}
DISK_LIMIT=${ctx.spec.monitoring.thresholds.diskUsedPercent}
${STATUS_LOGIC}`;
}

const STATUS_LOGIC = sh`case $\{1:-} in
  "") ;;
  -h | --help) sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
  *) echo "usage: $SCRIPT_NAME" >&2; exit 2 ;;
esac
export LC_ALL=C
problems=()
problem() { problems+=("$*"); }

echo "host $HOST ($LAYERS): $(uptime -p 2>/dev/null || echo "up")"

echo "services:"
for i in "$\{!NAMES[@]}"; do
  unit=$\{UNITS[i]}
  init=$\{INITS[i]:-$unit}
  if service_running "$unit" "$init"; then
    echo "  $\{NAMES[i]}: running"
  elif [ -n "$\{OPTIONAL[i]}" ] && ! { is_systemd && systemctl cat "$unit" >/dev/null 2>&1; } && [ ! -e "/etc/init.d/$init" ]; then
    echo "  $\{NAMES[i]}: not installed ($\{OPTIONAL[i]})"
  else
    echo "  $\{NAMES[i]}: NOT RUNNING"
    problem "$\{NAMES[i]} is not running (start it: plone-service start $\{NAMES[i]})"
  fi
done

if [ "$SUPERVISED" = yes ]; then
  sv() { if [ -n "$SUPERVISOR_CONF" ]; then supervisorctl -c "$SUPERVISOR_CONF" "$@"; else supervisorctl "$@"; fi; }
  echo "programs:"
  if sv pid >/dev/null 2>&1; then
    out=$(sv status 2>&1) || true
    found=0
    while read -r name state rest; do
      case $name in
        "$APP"-* | plone-haproxy-agent) ;;
        *) continue ;;
      esac
      found=1
      echo "  $name $state $rest"
      [ "$state" = RUNNING ] || problem "$name is $state"
    done <<<"$out"
    [ "$found" -eq 1 ] || echo "  (none yet: no release has been activated)"
  else
    echo "  supervisor does not answer"
    problem "supervisor does not answer (plone-service start supervisor)"
  fi
  if [ -d "$RUNTIME_DIR/rotation" ]; then
    for f in "$RUNTIME_DIR"/rotation/*; do
      [ -e "$f" ] || continue
      echo "  $(basename "$f"): out of haproxy's rotation ($(cat "$f"))"
      problem "$(basename "$f") is out of rotation ($(cat "$f")): plone-program start $(basename "$f")"
    done
  fi
fi

for root in "$\{RELEASE_ROOTS[@]}"; do
  echo "release ($root):"
  if target=$(readlink "$root/current" 2>/dev/null); then
    release=$(basename "$target")
    marker=$root/releases/$release/${RELEASE_MARKER}
    commit=$(sed -n 's/^commit=//p' "$marker" 2>/dev/null || true)
    built=$(sed -n 's/^built=//p' "$marker" 2>/dev/null || true)
    count=$(find "$root/releases" -mindepth 1 -maxdepth 1 -type d | wc -l)
    echo "  current -> releases/$release (commit $\{commit:0:12}, built $\{built:-?}); $count release(s) on the host"
    [ -d "$root/releases/$release" ] || problem "$root: current points at releases/$release, which does not exist"
  else
    echo "  none deployed yet ($root/current does not exist)"
  fi
done

echo "disks:"
for mount in "$\{MOUNTS[@]}"; do
  if ! line=$(df -P -h "$mount" 2>/dev/null | awk 'NR == 2 {print $5, $2, $6}'); then
    echo "  $mount: not mounted"
    problem "$mount is not mounted"
    continue
  fi
  read -r pcent size target <<<"$line"
  if [ "$target" != "$mount" ] && [ "$mount" != / ]; then
    echo "  $mount: not mounted (on $target)"
    problem "$mount is not mounted: its data volume is missing"
    continue
  fi
  echo "  $mount: $pcent of $size used"
  if [ "$\{pcent%\%}" -ge "$DISK_LIMIT" ]; then problem "$mount is $pcent full (limit $DISK_LIMIT%)"; fi
done

if [ "$\{#problems[@]}" -gt 0 ]; then
  echo "problems on $HOST:"
  printf '  - %s\n' "$\{problems[@]}"
  exit ${STATUS_PROBLEMS}
fi
echo "all well on $HOST"
`;

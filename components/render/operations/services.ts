// The system services of a host (what plone-status reports and plone-service starts and stops),
// with their systemd unit and their init script (hosts without systemd), and plone-service.
import { LAYERS, type Layer } from "../../config/schema";
import { layerInfo, runsBuild, type SystemService } from "../../layers";
import type { HostPlan } from "../../topology";
import type { RenderContext } from "../context";
import { frontendServiceScriptPath } from "../frontend/service";
import { scriptHeader, sh, shellArray } from "../scriptKit";

export function systemServices(ctx: Pick<RenderContext, "spec">, host: HostPlan): SystemService[] {
    const { spec } = ctx;
    const layerServices = (layers: readonly Layer[]) => layers.filter((l) => host.layers.includes(l)).flatMap((l) => layerInfo(l).services(spec));
    const frontend = host.layers.includes("frontend");
    return [
        { name: "cron", unit: "cron", init: "cron" },
        ...layerServices(["frontend"]),
        // haproxy logs through rsyslog; remote syslog forwards through it.
        ...(frontend || spec.monitoring.remoteSyslog ? [{ name: "rsyslog", unit: "rsyslog", init: "rsyslog" }] : []),
        // The app's programs, and on volto hosts the Volto processes, run under supervisor.
        ...(runsBuild(host) || host.voltoProcesses.length > 0 ? [{ name: "supervisor", unit: "supervisor", init: "supervisor" }] : []),
        ...layerServices(LAYERS.filter((l) => l !== "frontend")),
        ...(spec.monitoring.cloudwatchAgent
            ? [{ name: "cloudwatch-agent", unit: "amazon-cloudwatch-agent", init: "", optional: "installed on EC2 hosts only" }]
            : []),
        ...(spec.monitoring.newRelic.infrastructure ? [{ name: "newrelic-infra", unit: "newrelic-infra", init: "newrelic-infra" }] : []),
    ];
}

/** plone-service: start, stop, restart or show one of the host's system services. */
export function renderServiceScript(ctx: RenderContext, host: HostPlan): string {
    const services = systemServices(ctx, host);
    return `${scriptHeader(
        "plone-service",
        [
            `start|stop|restart|status SERVICE: a system service of ${host.name}. SERVICE is one of: ${services.map((s) => s.name).join(", ")}.`,
            "nginx, varnish and haproxy are validated before they start or restart (plone-frontend-service);",
            "restarting varnish empties its cache. The app's supervisor programs are plone-program's.",
        ],
        ["services"],
    )}
NAMES=${shellArray(services.map((s) => s.name))}
UNITS=${shellArray(services.map((s) => s.unit))}
INITS=${shellArray(services.map((s) => s.init))}
FRONTEND=${shellArray(services.map((s) => (s.frontend ? "1" : "")))}
FRONTEND_SERVICE=${frontendServiceScriptPath()}
${SERVICE_LOGIC}`;
}

const SERVICE_LOGIC = sh`case $\{1:-} in
  -h | --help) sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
  start | stop | restart | status) ;;
  *) echo "usage: $SCRIPT_NAME start|stop|restart|status SERVICE ($\{NAMES[*]})" >&2; exit 2 ;;
esac
[ $# -eq 2 ] || { echo "usage: $SCRIPT_NAME start|stop|restart|status SERVICE ($\{NAMES[*]})" >&2; exit 2; }
action=$1
index=""
for i in "$\{!NAMES[@]}"; do
  if [ "$\{NAMES[i]}" = "$2" ]; then index=$i; fi
done
[ -n "$index" ] || die "$(hostname) runs no service '$2': its services are $\{NAMES[*]} (the app's programs: plone-program)"
[ "$(id -u)" -eq 0 ] || [ "$action" = status ] || die "run as root"
unit=$\{UNITS[index]}
init=$\{INITS[index]}
run_service() { # run_service <action>
  if is_systemd; then
    systemctl "$1" "$unit"
  elif [ -n "$init" ]; then
    service "$init" "$1"
  else
    die "$2 has no init script: it runs under systemd only"
  fi
}
if [ -n "$\{FRONTEND[index]}" ] && { [ "$action" = start ] || [ "$action" = restart ]; }; then
  # Validated first: an invalid configuration is never loaded.
  "$FRONTEND_SERVICE" "$action" "$2" || die "$2 was not $\{action}ed (see above)"
  say "$2: $\{action}ed"
  exit 0
fi
case $action in
  status)
    if service_running "$unit" "$\{init:-$unit}"; then say "$2 ($unit) is running"; else say "$2 ($unit) is not running"; exit 3; fi
    ;;
  *)
    run_service "$action" "$2" >/dev/null || die "$action $2 failed"
    if [ "$action" = stop ]; then
      service_running "$unit" "$\{init:-$unit}" && die "$2 is still running after stop"
      say "$2: stopped"
    else
      service_running "$unit" "$\{init:-$unit}" || die "$2 is not running after $action"
      say "$2: $\{action}ed"
    fi
    ;;
esac
`;

// The CloudWatch agent on a host: its configuration (memory and disk metrics, the logs the host
// has to CloudWatch Logs), the log groups the stack creates for them, and the script that installs
// Amazon's package (signature checked) and loads the configuration.
import type { StackSpec } from "../../config/spec";
import { PATHS, type HostPlan, type Topology } from "../../topology";
import { appLayout, programName } from "../app/layout";
import type { RenderContext } from "../context";
import { DEFAULT_FRONTEND_LAYOUT } from "../frontend/layout";
import { scriptHeader, sh, shellQuote } from "../scriptKit";
import { supervisorPrograms } from "../app/supervisor";
import { cronJobs } from "../operations/cron";
import { runsBuild } from "../../layers";
import { usesBlobs } from "../storage/blobs";

/** GlusterFS names a brick's or a mount's log after its path, '/' turned into '-' (/srv/shared-blobs -> srv-shared-blobs.log). */
function glusterLogName(path: string): string {
    return `${path.replace(/^\/+/, "").replace(/\//g, "-")}.log`;
}
/** Where Debian's glusterfs packages write their logs. */
const GLUSTER_LOG_DIR = "/var/log/glusterfs";

/** Where plone-aws writes the agent's configuration (the agent converts it into its own files). */
export const CLOUDWATCH_AGENT_CONFIG = `${PATHS.configDir}/cloudwatch-agent.json`;
export const CLOUDWATCH_AGENT_SCRIPT = `${PATHS.sbinDir}/plone-cloudwatch-agent`;
/** The agent's control program, from Amazon's package. */
export const CLOUDWATCH_AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";
/** The namespace of the agent's metrics (the alarms read it). */
export const CLOUDWATCH_AGENT_NAMESPACE = "CWAgent";
/** Fingerprint of the key Amazon signs the agent's packages with (AWS documentation). */
export const CLOUDWATCH_AGENT_KEY_FINGERPRINT = "937616F3450B7D806CBD9725D58167303B789C72";

/** The kinds of log the hosts ship, each to a log group of its own. */
export const LOG_KINDS = {
    zope: "the event logs of the Zope clients and the ZEO server",
    supervisor: "supervisord and the stdout/stderr of the app's programs",
    volto: "the stdout/stderr of the Volto processes (server-side rendering: requests, errors)",
    "nginx-access": "nginx's access log",
    "nginx-error": "nginx's error log",
    haproxy: "haproxy's log",
    jobs: "the scheduled jobs (backup, pack) of plone-aws",
    glusterfs: "GlusterFS: glusterd and the brick on the peers, the FUSE mount on the hosts that mount the volume",
} as const;
export type LogKind = keyof typeof LOG_KINDS;

/** /plone-aws/<stack>/<kind>. */
export function logGroupName(spec: Pick<StackSpec, "stackName">, kind: LogKind): string {
    return `/plone-aws/${spec.stackName}/${kind}`;
}

export interface ShippedLog {
    path: string;
    kind: LogKind;
    /** The log stream: <host>/<file>. */
    stream: string;
}

/** The log files a host has, and where each goes. */
export function shippedLogs(ctx: Pick<RenderContext, "spec" | "topology">, host: HostPlan): ShippedLog[] {
    const logs: ShippedLog[] = [];
    // A file goes to one group, once: the first kind that claims it.
    const add = (path: string, kind: LogKind) => {
        if (!logs.some((l) => l.path === path)) logs.push({ path, kind, stream: `${host.name}/${path.split("/").pop()}` });
    };
    const layout = appLayout(ctx.spec);
    // The Volto processes (<app>-volto1..N) log to supervisor's files, as every program does: their own group.
    for (const p of host.voltoProcesses) {
        for (const stream of ["stdout", "stderr"]) add(`${layout.supervisorLogDir}/${programName(ctx.spec.app.name, p.name)}-${stream}.log`, "volto");
    }
    if (runsBuild(host)) {
        // plone.recipe.zope2instance and plone.recipe.zeoserver write var/log/<part>.log (shared/var).
        for (const client of host.clients) add(`${layout.logDir}/${client.name}.log`, "zope");
        if (host.layers.includes("zeoserver")) add(`${layout.logDir}/zeoserver.log`, "zope");
    }
    if (runsBuild(host) || host.voltoProcesses.length > 0) add(`${layout.supervisorLogDir}/supervisord.log`, "supervisor");
    if (runsBuild(host)) {
        for (const p of supervisorPrograms(ctx, host)) {
            if (!p.events) add(`${layout.supervisorLogDir}/${p.name}-stdout.log`, "supervisor");
            add(`${layout.supervisorLogDir}/${p.name}-stderr.log`, "supervisor");
        }
    }
    if (host.layers.includes("frontend")) {
        const nginxLogs = DEFAULT_FRONTEND_LAYOUT.paths.nginxLogDir;
        add(`${nginxLogs}/access.log`, "nginx-access");
        add(`${nginxLogs}/error.log`, "nginx-error");
        // Debian's haproxy package has rsyslog write what haproxy sends to /dev/log here.
        add("/var/log/haproxy.log", "haproxy");
    }
    for (const name of new Set(cronJobs(ctx, host).map((j) => j.name))) add(`${PATHS.logDir}/${name}.log`, "jobs");
    const blobs = ctx.topology.endpoints.blobs;
    if (blobs.mode === "gluster") {
        // A peer's trouble (a brick down, a heal stuck) shows first in these logs.
        if (host.layers.includes("shared_blobs")) {
            add(`${GLUSTER_LOG_DIR}/glusterd.log`, "glusterfs");
            add(`${GLUSTER_LOG_DIR}/bricks/${glusterLogName(blobs.brickPath)}`, "glusterfs");
        }
        if (usesBlobs(ctx.topology, host)) add(`${GLUSTER_LOG_DIR}/${glusterLogName(blobs.mountPoint)}`, "glusterfs");
    }
    return logs;
}

/** Every log group the hosts of a stack write to (the Monitoring component creates them). */
export function stackLogGroups(spec: StackSpec, topology: Topology): { kind: LogKind; name: string }[] {
    const ctx = { spec, topology };
    const kinds = new Set<LogKind>(topology.hosts.flatMap((h) => shippedLogs(ctx, h).map((l) => l.kind)));
    return (Object.keys(LOG_KINDS) as LogKind[]).filter((k) => kinds.has(k)).map((kind) => ({ kind, name: logGroupName(spec, kind) }));
}

/** The agent's JSON configuration for one host. */
export function renderCloudwatchAgentConfig(ctx: RenderContext, host: HostPlan): string {
    const mounts = ["/", ...host.volumes.map((v) => v.mountPoint)];
    const logs = shippedLogs(ctx, host);
    const scaled = ctx.topology.scaledGroups.some((g) => g.host.name === host.name);
    const config = {
        agent: { metrics_collection_interval: 60, run_as_user: "root", omit_hostname: true },
        metrics: {
            namespace: CLOUDWATCH_AGENT_NAMESPACE,
            // Only the instance id: the alarms name exactly these dimensions. A scaled group's
            // instances add their group, and the agent sums them by group for its step rules.
            append_dimensions: scaled
                ? { InstanceId: "${aws:InstanceId}", AutoScalingGroupName: "${aws:AutoScalingGroupName}" }
                : { InstanceId: "${aws:InstanceId}" },
            ...(scaled ? { aggregation_dimensions: [["AutoScalingGroupName"]] } : {}),
            metrics_collected: {
                mem: { measurement: ["mem_used_percent"] },
                swap: { measurement: ["swap_used_percent"] },
                disk: { resources: mounts, measurement: ["used_percent", "inodes_free"], drop_device: true },
            },
        },
        // The stack creates the groups with their retention: the agent is given none, so it changes none.
        logs:
            logs.length === 0
                ? undefined
                : {
                      logs_collected: {
                          files: {
                              collect_list: logs.map((l) => ({
                                  file_path: l.path,
                                  log_group_name: logGroupName(ctx.spec, l.kind),
                                  log_stream_name: l.stream,
                                  timezone: "UTC",
                              })),
                          },
                      },
                  },
    };
    return `${JSON.stringify(config, null, 2)}\n`;
}

/** plone-cloudwatch-agent install|reload: Amazon's package (EC2 only), and the configuration loaded. */
export function renderCloudwatchAgentScript(ctx: RenderContext): string {
    return `${scriptHeader(
        "plone-cloudwatch-agent",
        [
            "install|reload: the CloudWatch agent of this host.",
            "install  on EC2 (the instance metadata answers): download Amazon's package for the architecture,",
            "         check its signature (key fingerprint below) and install it; elsewhere say so and do nothing.",
            `reload   load ${CLOUDWATCH_AGENT_CONFIG} and (re)start the agent; nothing when it is not installed.`,
        ],
        [],
    )}
REGION=${shellQuote(ctx.spec.region)}
CONFIG=${CLOUDWATCH_AGENT_CONFIG}
CTL=${CLOUDWATCH_AGENT_CTL}
FINGERPRINT=${CLOUDWATCH_AGENT_KEY_FINGERPRINT}
${AGENT_LOGIC}`;
}

const AGENT_LOGIC = sh`[ "$(id -u)" -eq 0 ] || die "run as root"
on_ec2() {
  curl -fsS -m 2 -o /dev/null -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token 2>/dev/null
}
install_agent() {
  if dpkg-query -W -f='$\{db:Status-Abbrev}' amazon-cloudwatch-agent 2>/dev/null | grep -q '^ii'; then
    return 0
  fi
  if ! on_ec2; then
    say "not an EC2 instance (no instance metadata): the CloudWatch agent is not installed"
    return 0
  fi
  local arch work base url
  arch=$(dpkg --print-architecture)
  case $arch in amd64 | arm64) ;; *) die "no CloudWatch agent package for $arch" ;; esac
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: work is local
  trap "rm -rf '$work'" RETURN
  for base in "https://amazoncloudwatch-agent-$REGION.s3.$REGION.amazonaws.com" "https://amazoncloudwatch-agent.s3.amazonaws.com"; do
    url="$base/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb"
    if curl -fsSL --retry 3 -o "$work/agent.deb" "$url" && curl -fsSL --retry 3 -o "$work/agent.deb.sig" "$url.sig" &&
      curl -fsSL --retry 3 -o "$work/agent.gpg" "$base/assets/amazon-cloudwatch-agent.gpg"; then
      break
    fi
    rm -f "$work"/agent.*
  done
  [ -s "$work/agent.deb" ] || die "could not download the CloudWatch agent from Amazon's buckets"
  export GNUPGHOME="$work/gnupg"
  mkdir -m 0700 "$GNUPGHOME"
  gpg --batch --quiet --import "$work/agent.gpg" 2>/dev/null || die "the CloudWatch agent's signing key does not import"
  gpg --batch --with-colons --fingerprint 2>/dev/null | grep -q "^fpr:*$FINGERPRINT:" ||
    die "the CloudWatch agent's signing key is not the one AWS documents ($FINGERPRINT): not installing"
  gpg --batch --quiet --verify "$work/agent.deb.sig" "$work/agent.deb" 2>/dev/null ||
    die "the CloudWatch agent package's signature does not verify: not installing"
  dpkg -i "$work/agent.deb" >/dev/null || die "dpkg -i amazon-cloudwatch-agent failed"
  note_change "installed the CloudWatch agent ($arch, signature verified)"
}
reload_agent() {
  if [ ! -x "$CTL" ]; then
    say "the CloudWatch agent is not installed here: $CONFIG is kept for when it is"
    return 0
  fi
  "$CTL" -a fetch-config -m ec2 -s -c "file:$CONFIG" >/dev/null || die "the CloudWatch agent rejected $CONFIG"
  note_change "the CloudWatch agent runs with $CONFIG"
}
case $\{1:-} in
  install) install_agent ;;
  reload) reload_agent ;;
  *) echo "usage: $SCRIPT_NAME install|reload" >&2; exit 2 ;;
esac
finish
`;

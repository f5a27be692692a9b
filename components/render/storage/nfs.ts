// NFS blobs: the server's /etc/exports and daemon settings (statd, mountd and lockd pinned to the
// ports the security groups name), and the clients' fstab line.
import { DEPLOY_USER, PATHS, PORTS, type HostPlan } from "../../topology";
import { addressOf, type RenderContext, type RenderedFile } from "../context";
import { scaledAppSubnets } from "../frontend/layout";
import { putFileCommand, rootFile, scriptHeader, sh } from "../scriptKit";

type NfsBlobs = { mode: "nfs"; server: string; exportPath: string; mountPoint: string };

export function nfsBlobs(ctx: RenderContext): NfsBlobs {
    const blobs = ctx.topology.endpoints.blobs;
    if (blobs.mode !== "nfs") throw new Error(`blobs are ${blobs.mode}, not nfs`);
    return blobs;
}

/** The hosts that mount the export over NFS: every blob client but the server itself (it bind-mounts). */
export function nfsClientHosts(ctx: RenderContext): string[] {
    const { server } = nfsBlobs(ctx);
    return ctx.topology.roles.blobUsers.filter((h) => h !== server);
}

export const NFS_EXPORT_OPTIONS = "rw,sync,no_subtree_check,root_squash";

/** /etc/exports: the blob export, to each client's own address (a /32) and nothing else. */
export function renderExports(ctx: RenderContext): string {
    const { exportPath, server } = nfsBlobs(ctx);
    const subnets = scaledAppSubnets(ctx);
    const clients = [
        ...nfsClientHosts(ctx).map((h) => `${addressOf(h, ctx.addresses)}/32(${NFS_EXPORT_OPTIONS})`),
        ...subnets.map((cidr) => `${cidr}(${NFS_EXPORT_OPTIONS})`),
    ];
    const lines = [
        `# /etc/exports of ${server}: the Plone blob storage, to the hosts that mount it. Written by plone-aws.`,
        subnets.length
            ? "# One /32 per fixed client (the app hosts and the ZEO server), and the subnets the scaled app hosts launch into."
            : "# One /32 per client (the app hosts and the ZEO server), never a whole network.",
        `# root_squash, not the cookbook's no_root_squash: the clients write as ${DEPLOY_USER}, whose UID and GID`,
        `# are pinned to app.deployUserUid (${ctx.spec.app.deployUserUid}) on every host, so ownership matches without`,
        "# trusting a client's root.",
    ];
    if (clients.length === 0) return [...lines, "# No host mounts it over NFS: the server's own clients bind-mount it.", ""].join("\n");
    return [...lines, `${exportPath} \\`, clients.map((c) => `    ${c}`).join(" \\\n"), ""].join("\n");
}

/**
 * /etc/nfs.conf.d/plone-aws.conf: Debian 12 (nfs-utils 2.6) reads daemon options from nfs.conf
 * and ignores /etc/default options under systemd. rpc.statd also sets lockd's ports from [lockd].
 */
export function renderNfsConf(): string {
    return [
        "# NFS daemon ports pinned for the security groups (plone-aws). NFSv4 clients only need 2049;",
        "# statd, mountd and lockd serve NFSv3 clients and showmount.",
        "[statd]",
        `port=${PORTS.statd}`,
        `outgoing-port=${PORTS.statdOutgoing}`,
        "[mountd]",
        "manage-gids=y",
        `port=${PORTS.mountd}`,
        "[lockd]",
        `port=${PORTS.lockd}`,
        `udp-port=${PORTS.lockd}`,
        "",
    ].join("\n");
}

/** /etc/default/nfs-common: the same ports for init scripts that pass options on the command line. */
export function renderNfsCommonDefaults(): string {
    return [
        "# Written by plone-aws. Under systemd the ports come from /etc/nfs.conf.d/plone-aws.conf.",
        "NEED_STATD=yes",
        `STATDOPTS="--port ${PORTS.statd} --outgoing-port ${PORTS.statdOutgoing} --nlm-port ${PORTS.lockd} --nlm-udp-port ${PORTS.lockd}"`,
        "NEED_IDMAPD=",
        "NEED_GSSD=",
        "",
    ].join("\n");
}

/** /etc/default/nfs-kernel-server. */
export function renderNfsKernelServerDefaults(): string {
    return [
        "# Written by plone-aws. Under systemd the ports come from /etc/nfs.conf.d/plone-aws.conf.",
        "RPCNFSDCOUNT=8",
        "RPCNFSDPRIORITY=0",
        `RPCMOUNTDOPTS="--manage-gids --port ${PORTS.mountd}"`,
        'NEED_SVCGSSD=""',
        'RPCSVCGSSDOPTS=""',
        "",
    ].join("\n");
}

/** lockd is a kernel module: its ports are module options when nothing else sets them. */
export function renderLockdModprobe(): string {
    return `# Written by plone-aws: lockd on the port the security groups allow.\noptions lockd nlm_tcpport=${PORTS.lockd} nlm_udpport=${PORTS.lockd}\n`;
}

/** The NFS server's configuration files (the blob server script installs them). */
export function nfsServerFiles(ctx: RenderContext): RenderedFile[] {
    return [
        rootFile("/etc/exports", renderExports(ctx)),
        rootFile("/etc/nfs.conf.d/plone-aws.conf", renderNfsConf()),
        rootFile("/etc/default/nfs-common", renderNfsCommonDefaults()),
        rootFile("/etc/default/nfs-kernel-server", renderNfsKernelServerDefaults()),
        rootFile("/etc/modprobe.d/plone-aws-lockd.conf", renderLockdModprobe()),
    ];
}

/** fstab options of the NFS blob mount: hard (never silently lose a write), no boot hang. */
export const NFS_MOUNT_OPTIONS = "rw,hard,noatime,timeo=600,retrans=2,nofail,_netdev";

/**
 * The blob mount of a client: NFSv4 (one port, 2049) from the server, or a bind mount of the
 * export on the server itself (an NFS mount of one's own export can deadlock under memory pressure).
 */
export function nfsFstabLine(ctx: RenderContext, host: HostPlan): string {
    const { server, exportPath, mountPoint } = nfsBlobs(ctx);
    if (host.name === server) return `${exportPath} ${mountPoint} none bind,nofail,x-systemd.requires-mounts-for=${exportPath} 0 0`;
    return `${addressOf(server, ctx.addresses)}:${exportPath} ${mountPoint} nfs4 ${NFS_MOUNT_OPTIONS} 0 0`;
}

/** The RPC programs whose ports nfs.conf pins, as rpcinfo names them. */
const PINNED_RPC_PORTS = [
    ["mountd", PORTS.mountd],
    ["status", PORTS.statd],
    ["nlockmgr", PORTS.lockd],
] as const;

/**
 * The NFS server's part of `plone-blob-server`: installs the exports and daemon settings it
 * carries, checks that the exports volume is mounted, creates the blob directory, starts the
 * daemons, re-exports, and restarts them once when they do not listen on the pinned ports.
 */
export function renderNfsServerScript(ctx: RenderContext, host: HostPlan, blobDir: string): string {
    const { exportPath, server } = nfsBlobs(ctx);
    if (host.name !== server) throw new Error(`${host.name} is not the NFS server (${server})`);
    return `${scriptHeader(
        "plone-blob-server",
        [
            `the NFS server of the Plone blobs on ${host.name}: ${exportPath} to ${nfsClientHosts(ctx).join(", ") || "no other host"}.`,
            "Run after plone-volumes (the exports volume) and before the clients mount.",
        ],
        ["services", "files"],
    )}
[ "$(id -u)" -eq 0 ] || die "run as root"
EXPORT_DIR=${exportPath}
BLOB_DIR=${blobDir}
PINNED_PORTS=(${PINNED_RPC_PORTS.map(([p, port]) => `${p}=${port}`).join(" ")})

${nfsServerFiles(ctx)
    .map((f) => putFileCommand(f))
    .join("\n")}
${NFS_SERVER_LOGIC}`;
}

const NFS_SERVER_LOGIC = sh`
command -v exportfs >/dev/null 2>&1 || die "exportfs is missing: plone-setup installs nfs-kernel-server"
mountpoint -q "$EXPORT_DIR" || die "the exports volume is not mounted on $EXPORT_DIR (plone-volumes mounts it): exporting the root disk would put the blobs there"
ensure_dir "$BLOB_DIR" ${DEPLOY_USER}:${DEPLOY_USER} 0750

service_ensure rpcbind rpcbind
service_ensure rpc-statd nfs-common
service_ensure nfs-server nfs-kernel-server
exportfs -ra || die "exportfs -ra failed: check /etc/exports"

# wrong_ports: the pinned RPC programs listening elsewhere (or not at all), e.g. "mountd=32767".
wrong_ports() {
  local listing entry program port
  listing=$(rpcinfo -p 127.0.0.1 2>/dev/null || true)
  for entry in "$\{PINNED_PORTS[@]}"; do
    program=$\{entry%%=*} port=$\{entry#*=}
    awk -v p="$program" -v port="$port" '$5 == p && $3 == "tcp" && $4 == port { found = 1 } END { exit !found }' <<<"$listing" || printf '%s ' "$entry"
  done
}
# Restart at most once per boot: restarting nfsd starts a grace period that stalls the clients.
restarted_marker=${PATHS.runtimeDir}/nfs-ports-restarted
wrong=$(wrong_ports)
if [ -n "$wrong" ] && [ ! -e "$restarted_marker" ]; then
  say "not on the pinned ports yet: $wrong; restarting the NFS daemons"
  # lockd is in the kernel: set its ports before nfsd restarts it.
  if [ -d /proc/sys/fs/nfs ]; then sysctl -q -w fs.nfs.nlm_tcpport=${PORTS.lockd} fs.nfs.nlm_udpport=${PORTS.lockd} || true; fi
  service_restart rpc-statd nfs-common
  service_restart nfs-server nfs-kernel-server
  exportfs -ra || die "exportfs -ra failed: check /etc/exports"
  mkdir -p "$(dirname "$restarted_marker")"
  touch "$restarted_marker"
  wrong=$(wrong_ports)
fi
# NFSv4 clients (plone-aws mounts nfs4) need only port 2049, so this is not fatal.
[ -z "$wrong" ] || warn "not on the pinned ports: $wrong; NFSv3 clients behind the security groups will fail"
finish
`;

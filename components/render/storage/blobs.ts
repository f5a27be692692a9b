// Where a stack keeps its blobs, and the storage scripts of one host: plone-volumes (EBS),
// plone-blob-server (the NFS server or a GlusterFS peer) and plone-blobs (the blob mount of an app
// or ZEO host, and the blob directory on it).
import { blobStorageDir, DEPLOY_USER, PATHS, SHARED_BLOB_DIR, type BlobEndpoint, type HostPlan, type Topology } from "../../topology";
import type { RenderContext, RenderedFile } from "../context";
import { efsFstabLine } from "./efs";
import { glusterFstabLine, renderGlusterScript } from "./gluster";
import { nfsBlobs, nfsFstabLine, renderNfsServerScript } from "./nfs";
import { scriptHeader, sh, shellQuote } from "../scriptKit";
import { volumeScriptFile } from "./volumes";

export const BLOB_SERVER_SCRIPT = `${PATHS.sbinDir}/plone-blob-server`;
export const BLOBS_SCRIPT = `${PATHS.sbinDir}/plone-blobs`;
/**
 * Whether a host's Zope clients or ZEO server use the blobs: a fixed blob user (roles.blobUsers),
 * or a scaled group's host, whose instances are in no fixed role list (its setup must mount the
 * shared blobs as a fixed app host's does, or its build refuses to deploy).
 */
export function usesBlobs(topology: Pick<Topology, "roles" | "scaledGroups">, host: Pick<HostPlan, "name">): boolean {
    // A group's instances use the blobs when they run Zope clients (a group of Volto processes does not).
    return topology.roles.blobUsers.includes(host.name) || topology.scaledGroups.some((g) => g.host.name === host.name && g.host.clients.length > 0);
}

/** What a host does for the blobs: serve them (NFS server, GlusterFS peer) and/or mount them. */
export function blobRoles(ctx: RenderContext, host: HostPlan): { server: boolean; client: boolean } {
    const { mode } = ctx.topology.endpoints.blobs;
    const shared = mode === "nfs" || mode === "gluster" || mode === "efs";
    return {
        server: (mode === "nfs" || mode === "gluster") && host.layers.includes("shared_blobs"),
        client: shared && usesBlobs(ctx.topology, host),
    };
}

/** `plone-blob-server` of an NFS server or GlusterFS peer, or undefined for other hosts. */
export function renderBlobServerScript(ctx: RenderContext, host: HostPlan): string | undefined {
    if (!blobRoles(ctx, host).server) return undefined;
    const blobs = ctx.topology.endpoints.blobs;
    if (blobs.mode === "gluster") return renderGlusterScript(ctx, host);
    // The server sees the blob directory in its export, the clients on their mount.
    return renderNfsServerScript(ctx, host, `${nfsBlobs(ctx).exportPath}/${SHARED_BLOB_DIR}`);
}

/** The fstab line of a blob client's shared blob mount. */
export function blobFstabLine(ctx: RenderContext, host: HostPlan): string {
    const blobs = ctx.topology.endpoints.blobs;
    switch (blobs.mode) {
        case "nfs":
            return nfsFstabLine(ctx, host);
        case "gluster":
            return glusterFstabLine(ctx);
        case "efs":
            return efsFstabLine(ctx);
        default:
            throw new Error(`blobs are ${blobs.mode}: nothing to mount`);
    }
}

/**
 * `plone-blobs` of a blob client (app hosts and the ZEO server with nfs, gluster or efs blobs):
 * the fstab entry, the mount (retried while the server comes up), and the blob directory owned
 * by the deploy user. A mount that is up but from another source is left alone with a warning:
 * unmounting blobs under running clients would fail requests.
 */
export function renderBlobsScript(ctx: RenderContext, host: HostPlan): string | undefined {
    if (!blobRoles(ctx, host).client) return undefined;
    const blobs = ctx.topology.endpoints.blobs as Extract<BlobEndpoint, { mountPoint: string }>;
    const line = blobFstabLine(ctx, host);
    const [source, , fstype] = line.split(" ");
    // A bind mount shows the device as its source, and any GlusterFS peer serves the volume.
    const expected = fstype === "none" ? "*" : blobs.mode === "gluster" ? `*:${source.slice(source.indexOf(":") + 1)}` : source;
    return `${scriptHeader(
        "plone-blobs",
        [
            `the ${blobs.mode} blob mount of ${host.name} on ${blobs.mountPoint} and the blob directory on it.`,
            "Run after the blob server's setup (NFS server, GlusterFS primary) or with EFS mount targets up.",
            "Inputs tests override: PLONE_FSTAB (/etc/fstab), PLONE_MOUNT_WAIT (120 s).",
        ],
        ["fstab"],
    )}
[ "$(id -u)" -eq 0 ] || die "run as root"
MOUNT_POINT=${blobs.mountPoint}
FSTAB_LINE=${shellQuote(line)}
# what the mounted source must match (a glob)
EXPECTED_SOURCE=${shellQuote(expected)}
BLOB_DIR=${blobStorageDir(blobs)}
${BLOBS_LOGIC}`;
}

const BLOBS_LOGIC = sh`MOUNT_WAIT=$\{PLONE_MOUNT_WAIT:-120}

fstab_set "$MOUNT_POINT" "$FSTAB_LINE" || true
if mountpoint -q "$MOUNT_POINT"; then
  current=$(findmnt -rn -o SOURCE --mountpoint "$MOUNT_POINT")
  # shellcheck disable=SC2053 # EXPECTED_SOURCE is a glob on purpose
  if [[ $current != $EXPECTED_SOURCE ]]; then
    warn "$MOUNT_POINT has $current mounted, the stack now says $\{FSTAB_LINE%% *}: left as it is, since unmounting blobs under running clients fails requests. Switch by hand when the clients are stopped: umount $MOUNT_POINT && $SCRIPT_NAME"
  fi
else
  mkdir -p "$MOUNT_POINT"
  # Unmounted, the directory stays root's: the clients cannot write blobs to the root disk.
  chown root:root "$MOUNT_POINT"
  chmod 0755 "$MOUNT_POINT"
  deadline=$((SECONDS + MOUNT_WAIT))
  until output=$(mount --fstab "$FSTAB" "$MOUNT_POINT" 2>&1); do
    [ "$SECONDS" -lt "$deadline" ] ||
      die "cannot mount $\{FSTAB_LINE%% *} on $MOUNT_POINT after $MOUNT_WAIT s ($output): has the blob server's setup run, and do the security groups let this host in?"
    sleep 3
  done
  note_change "mounted $\{FSTAB_LINE%% *} on $MOUNT_POINT"
fi

# With NFS root is squashed on the server: the deploy user creates the directory there.
if [ ! -d "$BLOB_DIR" ]; then
  if mkdir -m 0750 "$BLOB_DIR" 2>/dev/null || runuser -u ${DEPLOY_USER} -- mkdir -m 0750 "$BLOB_DIR" 2>/dev/null; then
    note_change "created $BLOB_DIR"
  # Another host of the stack set up the same shared storage at the same time and made it first.
  elif [ ! -d "$BLOB_DIR" ]; then
    die "cannot create $BLOB_DIR on the blob mount"
  fi
fi
owner=$(stat -c '%U:%G' "$BLOB_DIR")
if [ "$owner" != ${DEPLOY_USER}:${DEPLOY_USER} ]; then
  chown ${DEPLOY_USER}:${DEPLOY_USER} "$BLOB_DIR" 2>/dev/null ||
    die "$BLOB_DIR belongs to $owner, not ${DEPLOY_USER}:${DEPLOY_USER}, and root cannot change that here (NFS root_squash): check that ${DEPLOY_USER} has the same UID and GID on the blob server"
  note_change "$BLOB_DIR: owner ${DEPLOY_USER}:${DEPLOY_USER} (was $owner)"
fi
runuser -u ${DEPLOY_USER} -- test -w "$BLOB_DIR" || die "${DEPLOY_USER} cannot write to $BLOB_DIR"
finish
`;

function script(path: string, content: string): RenderedFile {
    return { path, content, mode: "0755", owner: "root", group: "root" };
}

/**
 * The storage scripts of one host, to install in PATHS.sbinDir. Each carries the daemon
 * configuration it applies (exports, nfs.conf, glusterd.vol), so that a changed file is always
 * followed by what makes it take effect; the setup script installs and runs them in order.
 */
export function renderStorageFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    const files = [volumeScriptFile(host)];
    const server = renderBlobServerScript(ctx, host);
    if (server) files.push(script(BLOB_SERVER_SCRIPT, server));
    const client = renderBlobsScript(ctx, host);
    if (client) files.push(script(BLOBS_SCRIPT, client));
    return files;
}

// EFS blobs: the NFSv4.1 mount of the stack's file system, with the options AWS recommends.
import type { RenderContext } from "../context";

/** AWS's recommended NFS options for EFS, plus no boot hang when the mount target is unreachable. */
export const EFS_MOUNT_OPTIONS = "nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev,nofail";

/** The fstab line of the EFS blob mount. */
export function efsFstabLine(ctx: RenderContext): string {
    const blobs = ctx.topology.endpoints.blobs;
    if (blobs.mode !== "efs") throw new Error(`blobs are ${blobs.mode}, not efs`);
    if (!ctx.efsDnsName) throw new Error("blobs are efs but the render context has no efsDnsName");
    return `${ctx.efsDnsName}:/ ${blobs.mountPoint} nfs4 ${EFS_MOUNT_OPTIONS} 0 0`;
}

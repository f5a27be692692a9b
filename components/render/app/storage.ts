// Where the app's data lives on one host: the blob directory the Zope clients and the ZEO server
// use (and whether it is the shared one or a per-client cache), the shared mount that must be
// present before a build, and the data directories outside the release that the deploy user owns.
import { PATHS } from "../../topology/ports";
import { blobStorageDir, type HostPlan } from "../../topology";
import type { RenderContext } from "../context";

/** The per-client blob cache (ZEO without shared blobs, RelStorage with blobs in the database). */
export const BLOB_CACHE_DIR = "${buildout:directory}/var/blobcache";

export interface ClientBlobs {
    /** blob-storage (ZEO) or blob-dir (RelStorage). */
    dir: string;
    /** true: every client and the server use this same directory (shared-blob / shared-blob-dir). */
    shared: boolean;
}

export interface HostStorage {
    /** Blob settings of the Zope clients on this host (plone_instances hosts only). */
    clientBlobs?: ClientBlobs;
    /** blob-storage of the ZEO server (zeoserver host only). */
    zeoServerBlobs?: string;
    /** A network mount (NFS, GlusterFS, EFS) that must be mounted before the app may write blobs. */
    requiredMount?: string;
    /** Absolute directories outside the release the app writes to: plone-deploy makes the deploy user own them. */
    dataDirs: string[];
}

export function hostStorage(ctx: RenderContext, host: HostPlan): HostStorage {
    const { plone } = ctx.spec;
    const blobs = ctx.topology.endpoints.blobs;
    const isClientHost = host.layers.includes("plone_instances");
    const isZeoServer = host.layers.includes("zeoserver");
    const dataDirs: string[] = [];
    let clientBlobs: ClientBlobs | undefined;
    let zeoServerBlobs: string | undefined;
    let requiredMount: string | undefined;

    // The one directory holding the blobs themselves, when they are files (not in the database):
    // on shared storage the directory plone-blobs makes on the mount (the mount's root is the
    // volume's, whose owner the blob servers keep).
    const sharedDir = blobStorageDir(blobs);
    const onNetworkMount = blobs.mode === "nfs" || blobs.mode === "gluster" || blobs.mode === "efs";

    if (isClientHost) {
        // zeo: the ZEO server streams blobs, clients keep a cache. database: RelStorage keeps a cache.
        clientBlobs =
            blobs.mode === "zeo" || blobs.mode === "database" || !sharedDir ? { dir: BLOB_CACHE_DIR, shared: false } : { dir: sharedDir, shared: true };
        if (clientBlobs.shared) dataDirs.push(clientBlobs.dir);
        const localCache = plone.storage === "relstorage" ? plone.relstorage.cacheLocalDir : undefined;
        if (localCache?.startsWith("/")) dataDirs.push(localCache);
    }
    if (isZeoServer) {
        dataDirs.push(PATHS.filestorage);
        if (sharedDir) {
            zeoServerBlobs = sharedDir;
            dataDirs.push(sharedDir);
        }
        if (plone.backups.enabled) dataDirs.push(PATHS.backups);
    }
    if (host.layers.includes("solr")) dataDirs.push(PATHS.solrData);
    if (onNetworkMount && (isClientHost || isZeoServer)) requiredMount = blobs.mountPoint;

    return { clientBlobs, zeoServerBlobs, requiredMount, dataDirs: [...new Set(dataDirs)] };
}

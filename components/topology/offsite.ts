// The off-site backups of a stack: the S3 bucket it writes to (and those of the stacks it may
// restore from), its key prefix, and the one host that copies the backups and blobs to S3 and
// restores them. The program names the buckets (components/aws); the backup scripts
// (render/operations) use the same names. Pure.
import { createHash } from "crypto";
import { resourcePrefixOf, StackSpec } from "../config/spec";
import { blobStorageDir, type HostPlan, type Topology } from "./index";
import { BACKUP_LOCATIONS } from "./ports";

/** What the off-site plan reads: the spec and its topology. */
type StackView = { spec: StackSpec; topology: Topology };

/** Where the S3 copies of one stack go, and which other stacks' copies its hosts may read. */
export interface OffsiteTarget {
    /** The bucket the stack writes to. */
    bucket: string;
    /** Bucket of each stack whose copies the hosts may read: offsiteBackups.restoreFrom, and the stack's own when it makes copies. */
    sourceBuckets: Record<string, string>;
}

/** What one stack copies to S3, and from which host. */
export interface OffsitePlan {
    /** The host that runs plone-backup (and plone-restore): the ZEO server, or a host that sees the blobs. */
    host: string;
    /** repozo's backup directory (ZEO stacks with plone.backups.enabled). */
    repozoDir?: string;
    /** The live blob directory, copied without deleting (a superset of what any backup needs). */
    blobDir?: string;
}

/** The S3 key prefix of a stack: every object it writes is under "<stack>/". */
export function offsitePrefix(spec: Pick<StackSpec, "stackName">): string {
    return spec.stackName;
}

/** Subfolders of a stack's prefix. */
export const OFFSITE_FOLDERS = { repozo: "filestorage", blobs: "blobstorage", pgdump: "pgdump" } as const;

/**
 * The bucket a stack creates: plone-aws-<stack>-backups-<account id> (S3 names are global; the
 * account id makes them unique and lets a stack name another stack's bucket for restores). Long
 * stack names are shortened with a hash so the name stays within S3's 63 characters.
 */
export function backupBucketName(stackName: string, accountId: string): string {
    return stackBucketName(stackName, "backups", accountId);
}

/** The bucket a stack keeps its access logs in: plone-aws-<stack>-logs-<account id>, shortened as backupBucketName is. */
export function logBucketName(stackName: string, accountId: string): string {
    return stackBucketName(stackName, "logs", accountId);
}

function stackBucketName(stackName: string, purpose: string, accountId: string): string {
    let prefix = resourcePrefixOf(stackName);
    const room = 63 - `plone-aws--${purpose}-`.length - accountId.length;
    if (prefix.length > room) prefix = `${prefix.slice(0, room - 9)}-${createHash("sha256").update(prefix).digest("hex").slice(0, 8)}`;
    return `plone-aws-${prefix}-${purpose}-${accountId}`;
}

/** The offsite target of a stack from its account id: its own bucket (or offsiteBackups.bucket) and its sources'. */
export function offsiteTarget(spec: Pick<StackSpec, "stackName" | "offsiteBackups">, accountId: string): OffsiteTarget {
    const own = spec.offsiteBackups.bucket ?? backupBucketName(spec.stackName, accountId);
    const sourceBuckets: Record<string, string> = spec.offsiteBackups.enabled ? { [spec.stackName]: own } : {};
    for (const stack of spec.offsiteBackups.restoreFrom) sourceBuckets[stack] = spec.offsiteBackups.bucket ?? backupBucketName(stack, accountId);
    return { bucket: own, sourceBuckets };
}

/** The host that copies a stack's data to S3, or undefined when there is nothing on a host to copy (blobs in the database). */
export function offsitePlan(ctx: StackView): OffsitePlan | undefined {
    const { spec, topology } = ctx;
    const blobs = topology.endpoints.blobs;
    const blobDir = blobStorageDir(blobs);
    if (spec.plone.storage === "zeo") {
        const zeo = topology.endpoints.zeo;
        if (!zeo || !("host" in zeo)) return undefined;
        const repozoDir = spec.plone.backups.enabled ? BACKUP_LOCATIONS.location : undefined;
        if (!repozoDir && !blobDir) return undefined;
        return { host: zeo.host, repozoDir, blobDir };
    }
    if (!blobDir) return undefined;
    const host = blobs.mode === "local" ? blobs.host : (topology.endpoints.packingHost ?? topology.roles.appHosts[0]);
    return host ? { host, blobDir } : undefined;
}

/** The offsite plan when `host` is the one that copies. */
export function offsitePlanOf(ctx: StackView, host: Pick<HostPlan, "name">): OffsitePlan | undefined {
    const plan = offsitePlan(ctx);
    return plan?.host === host.name ? plan : undefined;
}

/**
 * The host that dumps the RelStorage database (database.dump) and restores dumps (ops restore): the
 * db_packing host, else the first app host. Undefined with ZEO.
 */
export function databaseDumpHost(ctx: StackView): string | undefined {
    if (ctx.spec.plone.storage !== "relstorage" || !ctx.spec.database) return undefined;
    return ctx.topology.endpoints.packingHost ?? ctx.topology.roles.appHosts[0];
}

/** The ZEO server host, where `ops restore` restores Data.fs and the blobs. */
export function zeoHostOf(topology: Topology): string | undefined {
    const zeo = topology.endpoints.zeo;
    return zeo && "host" in zeo ? zeo.host : undefined;
}

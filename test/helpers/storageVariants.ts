// Stacks for the storage and system renderers: the repository's dev and prod stacks plus variants
// built in the test (NFS with a ZEO server, NFS on one host, EFS with RelStorage, GlusterFS with
// a named volume, blobs on the ZEO server), each with an offline render context.
import type { RenderContext } from "../../components/render/context";
import { hostPlan } from "../../components/render/context";
import type { HostPlan } from "../../components/topology";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import { ALL_SECRETS, loadRepoStack, parseObjects } from "./stacks";

type HostSpec = { name: string; instanceType?: string; az?: number; layers: string[] };

export function variantConfig(hosts: HostSpec[], plone: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        "plone-aws:tier": "staging",
        "plone-aws:hosts": hosts.map((h) => ({ instanceType: "t3.large", az: 0, ...h })),
        "plone-aws:app": { repository: "https://github.com/example-org/site-buildout.git" },
        "plone-aws:plone": { clientCount: 2, ...plone },
        "plone-aws:frontend": { domain: "www.example.org" },
        "plone-aws:network": {
            cidr: "10.50.0.0/16",
            azCount: 2,
            natGateways: "single",
            adminCidrs: ["198.51.100.7/32"],
            availabilityZones: ["eu-west-1a", "eu-west-1b"],
        },
        "plone-aws:access": { publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMPLACEHOLDERKEYREPLACEWITHYOURS0000000000 test" },
        ...ALL_SECRETS,
        ...extra,
    };
}

export function contextOf(config: Record<string, unknown>): RenderContext {
    const result = parseObjects(config);
    if (!result.spec) throw new Error(`invalid test stack: ${JSON.stringify(result.errors)}`);
    return offlineRenderContext(result.spec);
}

const DATABASE = { "plone-aws:database": { instanceClass: "db.t4g.medium" } };

/** The configurations of the variants (a fresh object per call). */
export const STORAGE_VARIANT_CONFIGS: Record<string, () => Record<string, unknown>> = {
    /** NFS server nfs-1, app-1 and app-2, the ZEO server zeo-1, front end web-1. */
    nfsZeo: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances"] },
                { name: "app-2", az: 1, layers: ["plone_instances"] },
                { name: "zeo-1", layers: ["zeoserver"] },
                { name: "nfs-1", layers: ["shared_blobs"] },
            ],
            { storage: "zeo", blobs: "nfs" },
        ),
    /** Every layer on one host with NFS blobs: the server bind-mounts its own export. */
    nfsOneHost: () =>
        variantConfig([{ name: "all-1", layers: ["frontend", "plone_instances", "zeoserver", "shared_blobs"] }], {
            storage: "zeo",
            blobs: "nfs",
            tmpfsSize: "1G",
            timezone: "Europe/Berlin",
        }),
    /** EFS blobs, RelStorage packed on app-1 in one stage, clearing the ref tables. */
    efsRelstorage: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "db_packing"] },
                { name: "app-2", az: 1, layers: ["plone_instances"] },
            ],
            { storage: "relstorage", blobs: "efs", pack: { truncateRefs: true, days: 3 } },
            DATABASE,
        ),
    /** GlusterFS with a volume name of its own and three peers; RelStorage without packing. */
    glusterNamed: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "db_packing"] },
                { name: "gfs-1", layers: ["shared_blobs"] },
                { name: "gfs-2", az: 1, layers: ["shared_blobs"] },
                { name: "gfs-3", az: 1, layers: ["shared_blobs"] },
            ],
            { storage: "relstorage", blobs: "gluster", glusterVolume: "site-blobs", glusterCacheSize: "512MB" },
            DATABASE,
        ),
    /** Blobs kept by the ZEO server; backups off. */
    zeoBlobs: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend", "plone_instances"] },
                { name: "zeo-1", layers: ["zeoserver"] },
            ],
            { storage: "zeo", blobs: "zeo", backups: { enabled: false } },
        ),
};

/** The named variants, built fresh on each call: the repository's stacks and the configurations above. */
export const VARIANTS: Record<string, () => RenderContext> = {
    dev: () => offlineRenderContext(loadRepoStack("dev").spec),
    prod: () => offlineRenderContext(loadRepoStack("prod").spec),
    ...Object.fromEntries(Object.entries(STORAGE_VARIANT_CONFIGS).map(([name, config]) => [name, () => contextOf(config())])),
};

export function host(ctx: RenderContext, name: string): HostPlan {
    return hostPlan(ctx.topology, name);
}

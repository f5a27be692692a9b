// Stacks for the app-host renderer tests: the repository's dev and prod stacks, and variants
// built from a small base configuration (celery, Solr, NFS/EFS/database blobs, external database).
import type { StackSpec } from "../../components/config/spec";
import type { RenderContext } from "../../components/render/context";
import { hostPlan } from "../../components/render/context";
import type { HostPlan } from "../../components/topology";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import { ALL_SECRETS, loadRepoStack, parseObjects } from "./stacks";

export const BASE_CONFIG: Record<string, unknown> = {
    "aws:region": "eu-west-1",
    ...ALL_SECRETS,
    "plone-aws:tier": "staging",
    "plone-aws:app": { repository: "https://git.example.org/site-buildout.git" },
    "plone-aws:frontend": { domain: "www.example.org" },
    "plone-aws:network": { azCount: 2, adminCidrs: ["198.51.100.7/32"], availabilityZones: ["eu-west-1a", "eu-west-1b"] },
    "plone-aws:access": { via: "publicIp", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTKEY test" },
};

type Hosts = { name: string; layers: string[]; instanceType?: string; az?: number }[];

/** The configuration of a variant: BASE_CONFIG with these hosts and section overrides (merged one level deep). */
export function variantConfig(hosts: Hosts, sections: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
    const config: Record<string, unknown> = { ...BASE_CONFIG };
    config["plone-aws:hosts"] = hosts.map((h) => ({ instanceType: "t3.large", az: 0, ...h }));
    for (const [key, value] of Object.entries(sections)) {
        const base = (config[`plone-aws:${key}`] ?? {}) as Record<string, unknown>;
        config[`plone-aws:${key}`] = { ...base, ...value };
    }
    return config;
}

/** A stack from variantConfig. */
export function variantSpec(hosts: Hosts, sections: Record<string, Record<string, unknown>> = {}): StackSpec {
    return specOf(variantConfig(hosts, sections));
}

function specOf(config: Record<string, unknown>): StackSpec {
    const result = parseObjects(config, "variant");
    if (!result.spec) throw new Error(`variant stack is invalid: ${JSON.stringify(result.errors, null, 1)}`);
    return result.spec;
}

export interface Rendered {
    ctx: RenderContext;
    host: (name: string) => HostPlan;
}

export function contextOf(spec: StackSpec): Rendered {
    const ctx = offlineRenderContext(spec);
    return { ctx, host: (name) => hostPlan(ctx.topology, name) };
}

export const repoStack = (name: "dev" | "prod"): Rendered => contextOf(loadRepoStack(name).spec);

/** The variants every renderer is checked against, by name. */
/** The configurations of the variants (a fresh object per call). */
export const APP_VARIANT_CONFIGS: Record<string, () => Record<string, unknown>> = {
    // ZEO on its own host with Redis; celery workers on both app hosts, beat on app-1; blobs on the ZEO server.
    celery: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "celerybeat"], instanceType: "c6i.large" },
                { name: "app-2", layers: ["plone_instances"], instanceType: "c6i.large", az: 1 },
                { name: "zeo-1", layers: ["zeoserver", "redis"] },
            ],
            { plone: { storage: "zeo", blobs: "zeo", celery: { enabled: true, workerArgs: "-A collective.celery -c 2", beatArgs: "-A collective.celery" } } },
        ),
    solr: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "zeoserver"] },
                { name: "solr-1", layers: ["solr"] },
            ],
            { plone: { storage: "zeo", blobs: "local", solr: { enabled: true, port: 8984 } } },
        ),
    nfs: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances"] },
                { name: "app-2", layers: ["plone_instances"], az: 1 },
                { name: "zeo-1", layers: ["zeoserver"] },
                { name: "nfs-1", layers: ["shared_blobs"] },
            ],
            {
                plone: {
                    storage: "zeo",
                    blobs: "nfs",
                    clientCount: 3,
                    zeoSyslog: { facility: "local2" },
                    clientSyslog: { facility: "local1", level: "WARNING" },
                },
            },
        ),
    efs: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "db_packing"] },
                { name: "app-2", layers: ["plone_instances"], az: 1 },
            ],
            { plone: { storage: "relstorage", blobs: "efs", clientCount: 2 }, database: {} },
        ),
    databaseBlobs: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "db_packing"] },
            ],
            {
                plone: {
                    storage: "relstorage",
                    blobs: "database",
                    clientCount: 2,
                    pack: { gc: false, truncateRefs: false },
                    relstorage: { blobCacheSize: "4gb", keepHistory: false },
                },
                database: {},
            },
        ),
    externalDatabase: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "db_packing"] },
                { name: "cache-1", layers: ["memcached"] },
            ],
            {
                plone: {
                    storage: "relstorage",
                    blobs: "local",
                    clientCount: 2,
                    pack: { truncateRefs: true },
                    relstorage: { cacheServers: ["cache.example.net:11211"] },
                },
                database: { host: "pg.example.net", port: 6432, name: "site", user: "zope" },
            },
        ),
    // The pip builder (Plone 6): a cookieplone project's backend folder, ZEO on its own host with shared blobs on NFS.
    pipZeo: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances"] },
                { name: "zeo-1", layers: ["zeoserver", "shared_blobs"] },
            ],
            {
                app: { builder: "pip", backendPath: "backend" },
                plone: { storage: "zeo", blobs: "nfs", clientCount: 2, zodbCacheSize: 50000, backups: { keep: 3 } },
            },
        ),
    // The pip builder with RelStorage, blobs in the database, zodbpack from the release's environment.
    pipRelstorage: () =>
        variantConfig(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "db_packing"] },
            ],
            {
                app: { builder: "pip", pip: { instanceTemplateRevision: "3.1.0", tools: ["mxdev==4.1.1", "cookiecutter==2.6.0"] } },
                plone: { storage: "relstorage", blobs: "database", clientCount: 2, relstorage: { cacheLocalDir: "/srv/relstorage-cache" } },
                database: {},
            },
        ),
};

/** The variants as specs. */
export const VARIANTS: Record<string, () => StackSpec> = Object.fromEntries(
    Object.entries(APP_VARIANT_CONFIGS).map(([name, config]) => [name, () => specOf(config())]),
);

/** Every stack of the tests: the two repository stacks and the variants. */
export function allStacks(): [string, Rendered][] {
    return [
        ["dev", repoStack("dev")],
        ["prod", repoStack("prod")],
        ...Object.entries(VARIANTS).map(([name, make]) => [name, contextOf(make())] as [string, Rendered]),
    ];
}

// The hosts of an imported stack: one per layer as the CloudFormation templates made them, or the
// instances of an --instances file with the layers plone-aws keeps (singletons, app-host layers).
import { BlobMode, Layer, LAYERS, ploneSchema, VolumeKind } from "../../../components/config/schema";
import { volumeKindsFor } from "../../../components/topology";
import { APP_HOST_LAYERS, singleInstanceLayers } from "../../../components/layers";
import { instanceTypeInfo } from "../../../components/topology/instanceTypes";
import { estimatedVcpus } from "../stacks/stagingTypes";
import { ImportedHost, readInstances } from "./instances";
import { Conversion } from "./conversion";
import { splitScaledInstances } from "./scaling";

/** Why the imported stack needs no host of a layer its instances carry (undefined: it needs it). */
type UnusedLayer = ((c: Conversion, storage: "zeo" | "relstorage", blobs: BlobMode) => string | undefined) | null;

const value = (c: Conversion, p: string) => c.values.get(p)?.value;
const celery = (c: Conversion) => value(c, "plone.celery.enabled") === true;

/** By layer, in the order the import's notes list them (null: every stack needs it). */
const UNUSED_LAYER = {
    zeoserver: (_, storage) => (storage === "zeo" ? undefined : "RelStorage needs no ZEO server"),
    memcached: (c, storage) =>
        storage === "relstorage" && c.facts.enableCache !== false && !c.facts.cacheServers
            ? undefined
            : storage !== "relstorage"
              ? "memcached served only RelStorage's cache"
              : c.facts.cacheServers
                ? "the static relstorage.cache_servers won over the memcached layer"
                : "relstorage.enable_cache is false",
    shared_blobs: (_, __, blobs) => (blobs === "nfs" || blobs === "gluster" ? undefined : `no client mounted it (plone.blobs ${blobs})`),
    redis: (c) =>
        celery(c) && !value(c, "plone.celery.brokerHost")
            ? undefined
            : celery(c)
              ? "the fixed plone_instances.broker.host won over the broker layer"
              : "celery is not enabled, so nothing used the broker",
    solr: (c) =>
        value(c, "plone.solr.enabled") === true && !value(c, "plone.solr.host")
            ? undefined
            : value(c, "plone.solr.host")
              ? "the fixed solr_host won over the solr layer"
              : "solr_enabled is false: the clients never used this Solr",
    celerybeat: (c) => (celery(c) ? undefined : "celery is not enabled"),
    db_packing: (_, storage) => (storage === "relstorage" ? undefined : "packing RelStorage; ZEO packs on the zeoserver host"),
    frontend: null,
    plone_instances: null,
    // OpsWorks stacks predate Volto: no instances file names the layer.
    volto: null,
} satisfies Record<Layer, UnusedLayer>;

/** Previous-generation instance types and their current equivalents (same size). */
export const CURRENT_GENERATION: Readonly<Record<string, string>> = {
    c1: "c6i",
    c3: "c6i",
    c4: "c6i",
    m1: "m6i",
    m2: "r6i",
    m3: "m6i",
    m4: "m6i",
    r3: "r6i",
    r4: "r6i",
    i2: "i4i",
    i3: "i4i",
    t1: "t3",
    t2: "t3",
    hi1: "i4i",
    hs1: "d3",
};

/** A type Debian 12 runs on and the instance table knows: old generations become current ones. */
export function currentInstanceType(type: string): { type: string; note?: string } {
    const [family, size] = type.split(".");
    const modern = CURRENT_GENERATION[family];
    if (!modern) return { type };
    const currentSize = modern === "t3" || ["large", "xlarge"].includes(size) || /^\d+xlarge$/.test(size) ? size : "large";
    const next = `${modern}.${currentSize}`;
    return { type: next, note: `${type} -> ${next}: a previous-generation type; the current one of its family and size` };
}

/** What the keys that became layers (memcached, celerybeat, db_packing) became, given the final hosts. */
export function describeLayerKeys(c: Conversion, hosts: ImportedHost[], storage: "zeo" | "relstorage"): void {
    const f = c.facts;
    const on = (layer: Layer) => {
        const names = hosts.filter((h) => h.layers.includes(layer)).map((h) => h.name);
        return names.length ? `the ${layer} layer on ${names.join(", ")}` : undefined;
    };
    const fromFile = c.o.instances ? ` (the hosts of ${c.o.instances.file})` : "";
    if (f.enableCache !== undefined) {
        const at = "plone_instances.relstorage.enable_cache";
        if (storage !== "relstorage") c.became(at, "not used: plone-aws:plone.storage is zeo, and memcached served RelStorage's cache only");
        else if (!f.enableCache) c.became(at, "no memcached layer and no cache servers");
        else if (f.cacheServers)
            c.became(
                at,
                `the static plone_instances.relstorage.cache_servers serve the cache (${c.keyName("plone.relstorage.cacheServers")}): they win over a memcached layer, as in the cookbook`,
            );
        else c.became(at, on("memcached") ?? `no host carries the memcached layer${fromFile}: the clients' own RelStorage cache serves alone`);
    }
    if (f.celerybeat !== undefined) {
        const at = "plone_instances.celerybeat";
        const celery = c.values.get("plone.celery.enabled")?.value === true;
        if (f.celerybeat && !celery) c.became(at, "not used: plone_instances.enable_celery is not true, so there is no celery");
        else c.became(at, on("celerybeat") ? `${on("celerybeat")}${f.celerybeat ? "" : fromFile}` : "no celerybeat layer");
    }
    if (f.enablePack !== undefined) {
        const at = "plone_instances.relstorage.enable_pack";
        if (storage !== "relstorage") c.became(at, "not used: plone-aws:plone.storage is zeo; the ZEO server packs (plone_zeoserver.enable_pack)");
        else {
            const packing = on("db_packing");
            const why = f.enablePack ? "" : c.o.instances ? fromFile : " (plone-aws packs RelStorage from one app host unless plone.pack.enabled is false)";
            c.became(at, packing ? `${packing}${why}` : `no db_packing layer: RelStorage is not packed (${c.keyName("plone.pack.enabled")} false)`);
        }
    }
}

/** The CloudFormation templates' layout: one host per layer the JSON needs, or one host for a single-host stack. */
export function defaultHosts(c: Conversion, storage: "zeo" | "relstorage", blobs: BlobMode): ImportedHost[] {
    const f = c.facts;
    const get = (p: string) => c.values.get(p)?.value;
    const celery = get("plone.celery.enabled") === true;
    const solr = get("plone.solr.enabled") === true && !get("plone.solr.host");
    const redis = celery && !get("plone.celery.brokerHost");
    const memcached = storage === "relstorage" && f.enableCache !== false && !f.cacheServers;
    const packs = storage === "relstorage" && get("plone.pack.enabled") !== false;
    const appLayers: Layer[] = ["plone_instances", ...(f.celerybeat ? ["celerybeat" as Layer] : []), ...(packs ? ["db_packing" as Layer] : [])];
    const single = blobs === "local" || f.zeoOnAppHost !== undefined;
    const host = (name: string, instanceType: string, layers: Layer[]): ImportedHost => ({
        name,
        hostname: name,
        instanceType,
        az: 0,
        layers: LAYERS.filter((l) => layers.includes(l)),
        volumes: {},
    });

    let hosts: ImportedHost[];
    if (single) {
        hosts = [
            host("plone-1", "m6i.large", [
                "frontend",
                ...appLayers,
                ...(storage === "zeo" ? ["zeoserver" as Layer] : []),
                ...(solr ? ["solr" as Layer] : []),
                ...(redis ? ["redis" as Layer] : []),
            ]),
        ];
        c.note(
            `no --instances file: one host, plone-1 (m6i.large), carries every layer, as the single-host stack (${f.zeoOnAppHost ?? "plone_blobs.blob_dir"}) did${memcached ? "; no memcached on it: the clients' own RelStorage cache does that on one host" : ""}`,
        );
    } else {
        hosts = [host("web-1", "t3.medium", ["frontend"]), host("app-1", "m6i.large", appLayers)];
        if (storage === "zeo") hosts.push(host("zeo-1", "t3.medium", ["zeoserver"]));
        if (blobs === "nfs" || blobs === "gluster") hosts.push(host("blobs-1", "t3.medium", ["shared_blobs"]));
        if (memcached) hosts.push(host("cache-1", "t3.medium", ["memcached"]));
        if (solr) hosts.push(host("solr-1", "t3.medium", ["solr"]));
        if (redis) hosts.push(host("redis-1", "t3.small", ["redis"]));
        c.note(
            `no --instances file: one host per layer, as the plone_buildout CloudFormation templates created them (${hosts.map((h) => `${h.name}: ${h.layers.join("+")}`).join(", ")}); instance types are a starting point: review them`,
        );
    }
    if (packs) c.note("RelStorage packing runs on app host's db_packing layer, as the DB Packing layer of the relstorage template did");
    c.comments.set(
        "hosts",
        `Assumed topology (no --instances file): ${single ? "one host carries every layer" : "one host per OpsWorks layer, as the CloudFormation templates made them"}.\nInstance types are a starting point: size them from your OpsWorks instances.`,
    );
    return hosts;
}

export function hostsFromInstances(c: Conversion, storage: "zeo" | "relstorage", blobs: BlobMode): ImportedHost[] | undefined {
    const o = c.o;
    const file = o.instances!.file;
    const read = readInstances(o.instances!.json, file, c.layerNames);
    c.issues.push(...read.issues);
    for (const n of read.notes) c.note(n);
    if (read.issues.length > 0) return undefined;
    let hosts = read.hosts;
    if (read.region) c.instancesRegion = { region: read.region, zones: read.zones };
    const azCount = Math.min(3, Math.max(2, read.zones.length));
    c.set("network.azCount", azCount, read.zones.length ? `${file} availability zones (${read.zones.join(", ")})` : "(assumed)");

    for (const h of hosts) {
        const current = currentInstanceType(h.instanceType);
        if (current.note) {
            c.note(`${h.name}: ${current.note}`);
            h.instanceType = current.type;
        }
        if (!instanceTypeInfo(h.instanceType) && h.layers.includes("plone_instances")) {
            const vcpus = estimatedVcpus(h.instanceType);
            if (vcpus)
                c.note(
                    `${h.name}: ${h.instanceType} is not in plone-aws's instance table; its ${vcpus} vCPUs are estimated from the size name (hosts[].vcpus)`,
                );
        }
    }

    for (const [layer, unused] of Object.entries(UNUSED_LAYER) as [Layer, UnusedLayer][]) {
        const why = unused?.(c, storage, blobs);
        if (!why) continue;
        for (const h of hosts) {
            if (h.layers.includes(layer)) {
                h.layers = h.layers.filter((l) => l !== layer);
                c.note(`${h.name}: layer ${layer} dropped: ${why}`);
            }
        }
    }

    // Singletons: the cookbook's clients took the first online instance of the layer.
    for (const layer of singleInstanceLayers(blobs)) {
        const carriers = hosts.filter((h) => h.layers.includes(layer));
        for (const h of carriers.slice(1)) {
            h.layers = h.layers.filter((l) => l !== layer);
            c.note(`${h.name}: layer ${layer} dropped: ${carriers[0].name} carries it, and the cookbook used the first instance of a ${layer} layer only`);
        }
    }
    // Load- and time-based instances: an Auto Scaling group instead of fixed hosts.
    hosts = splitScaledInstances(c, read.autoScaling, hosts, blobs);
    const firstApp = hosts.find((h) => h.layers.includes("plone_instances"));
    for (const layer of APP_HOST_LAYERS) {
        for (const h of hosts.filter((x) => x.layers.includes(layer) && !x.layers.includes("plone_instances"))) {
            h.layers = h.layers.filter((l) => l !== layer);
            if (firstApp && !hosts.some((x) => x.layers.includes(layer))) firstApp.layers = LAYERS.filter((l) => l === layer || firstApp.layers.includes(l));
            c.note(`${h.name}: layer ${layer} moved to ${firstApp?.name ?? "(no app host)"}: it runs from the buildout of a plone_instances host`);
        }
    }
    const wants = (layer: Layer, flag: boolean | undefined, why: string) => {
        if (flag && firstApp && !hosts.some((h) => h.layers.includes(layer))) {
            firstApp.layers = LAYERS.filter((l) => l === layer || firstApp.layers.includes(l));
            c.note(`${firstApp.name}: layer ${layer} added: ${why}`);
        }
    };
    wants("celerybeat", celery(c) && c.facts.celerybeat, "plone_instances.celerybeat is true (every app host ran it in the cookbook; one does now)");
    wants("db_packing", storage === "relstorage" && c.facts.enablePack, "relstorage.enable_pack is true (every app host packed in the cookbook; one does now)");
    if (storage === "relstorage" && !hosts.some((h) => h.layers.includes("db_packing")) && value(c, "plone.pack.enabled") !== true) {
        c.set("plone.pack.enabled", false, `${file} (no db_packing instance)`);
        c.note(
            "no instance carried the DB Packing layer, so the cookbook never packed RelStorage: plone.pack.enabled false (add db_packing to one plone_instances host to pack)",
        );
    }
    for (const h of hosts) {
        if (h.layers.length === 0) c.issue(`${file}`, `instance ${h.hostname} has no plone-aws layer left: remove it from the file`);
    }
    // Volume sizes only for the volumes a host's layers give it.
    const plone = ploneSchema.parse({ storage, blobs, backups: { enabled: value(c, "plone.backups.enabled") !== false } });
    const blobHost = blobs === "local" ? firstApp?.name : blobs === "zeo" ? hosts.find((h) => h.layers.includes("zeoserver"))?.name : undefined;
    for (const h of hosts) {
        const kinds = volumeKindsFor({ plone }, h.layers, blobHost, h.name).map(([k]) => k);
        for (const kind of Object.keys(h.volumes) as VolumeKind[]) {
            if (!kinds.includes(kind)) {
                c.note(`${h.name}: its ${kind} volume is not carried over (its layers give it ${kinds.join(", ") || "no data volume"})`);
                delete h.volumes[kind];
            }
        }
    }
    c.comments.set("hosts", `From ${file}: one host per OpsWorks instance, with the layers plone-aws keeps.`);
    return hosts;
}

// The instances file of `npm run import-opsworks -- ... --instances FILE`: the OpsWorks instances of a
// stack and their layers, written down by hand (the OpsWorks API is gone with the service).
//
//   [
//     { "hostname": "plone-app1", "instance_type": "c4.large", "layers": ["plone_instances", "lb"],
//       "availability_zone": "us-east-1a" },
//     { "hostname": "blobs1", "instance_type": "m4.large", "layers": ["shared_blobs", "ebs_snapshots"],
//       "availability_zone": "us-east-1b", "volumes": [{ "mount_point": "/srv/exports", "size": 200 }] }
//   ]
//
// or, to name custom layers, { "layers": { "maintenance": "db_packing", "monitoring": null },
// "instances": [ ... ] }. Layer short names are OpsWorks': the built-in `lb` and `memcached`, the
// cookbook's custom layers (the names plone_instances.zeo_layer/broker_layer/solr_layer and
// plone_blobs.layer give), plone-aws's own layer names, and those the file maps (null: no layer).
import { z } from "zod";
import type { ConfigIssue } from "../../../components/config/issues";
import { LAYERS, Layer, VolumeKind } from "../../../components/config/schema";
import { layerInfo } from "../../../components/layers";

const instanceSchema = z
    .object({
        hostname: z.string().min(1),
        instance_type: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as c4.large"),
        layers: z.array(z.string().min(1)).min(1, "an instance has at least one layer"),
        availability_zone: z
            .string()
            .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, "must be an availability zone such as us-east-1a")
            .optional(),
        /** The EBS volumes of the instance's layers, by mount point. */
        volumes: z.array(z.object({ mount_point: z.string().startsWith("/"), size: z.number().int().min(1) }).strict()).default([]),
        root_volume_size: z.number().int().min(8).max(1024).optional(),
        /** OpsWorks' instance id (describe-instances InstanceId): what describe-time-based-auto-scaling names. */
        instance_id: z.string().min(1).max(64).optional(),
        /** OpsWorks' AutoScalingType: a load-based or time-based instance (absent: 24/7). */
        auto_scaling_type: z.enum(["load", "timer"]).optional(),
    })
    .strict();

const fileSchema = z
    .object({
        layers: z.record(z.string(), z.enum(LAYERS).nullable()).default({}),
        instances: z.array(instanceSchema).min(1, "list at least one instance"),
        /** OpsWorks layer ids (describe-layers LayerId) -> plone-aws layer, for the load-based configurations. */
        layer_ids: z.record(z.string(), z.enum(LAYERS).nullable()).default({}),
        /** The output of `aws opsworks describe-load-based-auto-scaling`. */
        load_based_auto_scaling: z.unknown().optional(),
        /** The output of `aws opsworks describe-time-based-auto-scaling`. */
        time_based_auto_scaling: z.unknown().optional(),
    })
    .strict();

export type OpsWorksInstance = z.output<typeof instanceSchema>;

/** The layer names the cookbook's attributes give to its configurable layers. */
export interface LayerNames {
    zeo: string;
    broker: string;
    solr: string;
    blobs: string;
}

/** OpsWorks layer short name -> plone-aws layer (null: a layer plone-aws needs no host for). */
export function defaultLayerMap(names: LayerNames): Map<string, Layer | null> {
    const map = new Map<string, Layer | null>(LAYERS.map((l) => [l, l]));
    for (const l of LAYERS) for (const name of layerInfo(l).opsworksNames) map.set(name, l);
    map.set("ebs_snapshots", null);
    map.set(names.zeo, "zeoserver");
    map.set(names.broker, "redis");
    map.set(names.solr, "solr");
    map.set(names.blobs, "shared_blobs");
    return map;
}

/** Cookbook mount points (README, CloudFormation templates, inventory) -> plone-aws volume kinds. */
export const MOUNT_POINTS: Readonly<Record<string, VolumeKind>> = {
    "/mnt/shared/zodb/filestorage": "filestorage",
    "/mnt/shared/filestorage": "filestorage",
    "/srv/www/zeoserver/shared/var": "filestorage",
    "/mnt/shared/blobs/blobstorage": "blobs",
    "/mnt/shared/blobstorage": "blobs",
    "/mnt/shared/zodb/blobs": "blobs",
    "/srv/exports": "exports",
    "/mnt/gluster-exports": "bricks",
    "/srv/gluster-exports": "bricks",
    "/mnt/shared/solr": "solr",
    "/srv/www/solr/shared/var": "solr",
    "/mnt/redis": "redis",
};

export interface ImportedHost {
    name: string;
    instanceType: string;
    /** Index into the stack's availability zones. */
    az: number;
    layers: Layer[];
    volumes: Partial<Record<VolumeKind, number>>;
    rootVolumeSize?: number;
    /** The OpsWorks hostname, for comments. */
    hostname: string;
    /** The OpsWorks instance id, when the file gives it. */
    instanceId?: string;
    /** OpsWorks' AutoScalingType: started by load or by time (undefined: 24/7). */
    autoScaling?: "load" | "timer";
    /** Its index in the file's instances (undefined: an assumed host). */
    index?: number;
}

/** What the instances file says of OpsWorks' load- and time-based instances (scripts/lib/opsworks/scaling.ts reads it). */
export interface AutoScalingInput {
    layerIds: Record<string, Layer | null>;
    loadBased?: unknown;
    timeBased?: unknown;
    /** The report path of one of the file's instances: ["instances", 3] or [3]. */
    instanceParts(i: number): (string | number)[];
}

export interface ImportedInstances {
    hosts: ImportedHost[];
    region?: string;
    /** Distinct availability zones, in the order of their index. */
    zones: string[];
    notes: string[];
    issues: ConfigIssue[];
    autoScaling?: AutoScalingInput;
}

/** Reads the parsed JSON of an instances file; `file` names it in issue paths. */
export function readInstances(json: unknown, file: string, names: LayerNames): ImportedInstances {
    const issues: ConfigIssue[] = [];
    const notes: string[] = [];
    const parsed = fileSchema.safeParse(Array.isArray(json) ? { instances: json } : json);
    if (!parsed.success) {
        const arrayForm = Array.isArray(json);
        for (const issue of parsed.error.issues) {
            const p = arrayForm ? issue.path.slice(1) : issue.path;
            issues.push({ path: `${file}${jsonPath(p)}`, message: issue.message.replace(/^Invalid input: /, "") });
        }
        return { hosts: [], zones: [], notes, issues };
    }
    const where = (i: number, rest = "") => `${file}${Array.isArray(json) ? "" : ".instances"}[${i}]${rest}`;
    const layerMap = defaultLayerMap(names);
    for (const [name, layer] of Object.entries(parsed.data.layers)) layerMap.set(name, layer);

    const zones = [...new Set(parsed.data.instances.map((i) => i.availability_zone).filter((z): z is string => !!z))].sort();
    const regions = [...new Set(zones.map((z) => z.slice(0, -1)))];
    if (regions.length > 1) issues.push({ path: file, message: `the instances are in several regions (${regions.join(", ")}): a stack lives in one` });
    if (zones.length > 3) issues.push({ path: file, message: `the instances use ${zones.length} availability zones: a plone-aws stack spans at most 3` });

    const taken = new Set<string>();
    const hosts = parsed.data.instances.map((inst, i): ImportedHost => {
        const layers = new Set<Layer>();
        inst.layers.forEach((short, j) => {
            if (!layerMap.has(short)) {
                issues.push({
                    path: where(i, `.layers[${j}]`),
                    message: `unknown layer "${short}": map it in the file, e.g. {"layers": {"${short}": "db_packing"}, "instances": [...]} (one of ${LAYERS.join(", ")}, or null for none)`,
                });
                return;
            }
            const layer = layerMap.get(short)!;
            if (layer) layers.add(layer);
            else
                notes.push(
                    `${inst.hostname}: layer ${short} needs no host in plone-aws${short === "ebs_snapshots" ? " (Data Lifecycle Manager snapshots every data volume)" : ""}`,
                );
        });
        const volumes: Partial<Record<VolumeKind, number>> = {};
        inst.volumes.forEach((v, j) => {
            const kind = MOUNT_POINTS[v.mount_point.replace(/\/+$/, "")];
            if (!kind)
                notes.push(
                    `${where(i, `.volumes[${j}]`)}: no plone-aws volume for ${v.mount_point} (its data volumes are ${[...new Set(Object.values(MOUNT_POINTS))].join(", ")}); not carried over`,
                );
            else volumes[kind] = Math.max(volumes[kind] ?? 0, v.size);
        });
        const name = uniqueHostName(inst.hostname, taken);
        if (name !== inst.hostname) notes.push(`${inst.hostname} is host ${name} (plone-aws host names are lower-case letters, digits and '-')`);
        return {
            name,
            hostname: inst.hostname,
            instanceType: inst.instance_type,
            az: inst.availability_zone ? zones.indexOf(inst.availability_zone) : 0,
            layers: LAYERS.filter((l) => layers.has(l)),
            volumes,
            rootVolumeSize: inst.root_volume_size,
            instanceId: inst.instance_id,
            autoScaling: inst.auto_scaling_type,
            index: i,
        };
    });
    const autoScaling: AutoScalingInput = {
        layerIds: parsed.data.layer_ids,
        loadBased: parsed.data.load_based_auto_scaling,
        timeBased: parsed.data.time_based_auto_scaling,
        instanceParts: (i) => (Array.isArray(json) ? [i] : ["instances", i]),
    };
    return { hosts, region: regions[0], zones, notes, issues, autoScaling };
}

/** A plone-aws host name (2-30 characters: a-z, 0-9, '-', starting with a letter) for a hostname. */
export function uniqueHostName(hostname: string, taken: Set<string>): string {
    let base = hostname
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^-+|-+$/g, "");
    if (!/^[a-z]/.test(base)) base = `h-${base}`;
    base = base.slice(0, 27).replace(/-+$/, "");
    if (base.length < 2) base = `${base}-h`;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    return name;
}

/** `[0].layers[1]`-style path from a zod path. */
export function jsonPath(parts: readonly PropertyKey[]): string {
    return parts
        .map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`))
        .join("");
}

// Cloning a stack file into a staging stack: the same app, layers and settings, every layer on one
// smaller host (or the same hosts, smaller, with keepTopology), no Multi-AZ and no deletion
// protection, an Elastic IP instead of the load balancer, its own domain, tier, environment and
// snapshot tag. The source file's comments and key order survive: the clone edits the parsed
// document (yaml's Document API) instead of writing a new one.
import YAML, { Document, isMap, isScalar, isSeq, Scalar, YAMLMap, YAMLSeq } from "yaml";
import { formatIssues } from "../../../components/config/load";
import { NAMESPACE } from "../../../components/config/issues";
import { LAYERS, Layer, SECRET_KEYS, SecretKey, VolumeKind } from "../../../components/config/schema";
import { resourcePrefixOf, StackSpec } from "../../../components/config/spec";
import { buildTopology, volumeKindsFor } from "../../../components/topology";
import { validateStack } from "../offline/loadStack";
import { ploneSecret, SecretToSet, setSecretForStack, sortSecrets } from "./secretCommands";
import { parseStackText } from "../offline/stackFile";
import { commentAbove, flowScalarLists, pairOf, STRINGIFY } from "./yaml";
import { collapsedInstanceType, estimatedVcpus, stagingDbClass, stagingInstanceType } from "./stagingTypes";

export interface CloneOptions {
    from: string;
    to: string;
    /** The source file's name, for messages and the header. */
    sourceFile: string;
    keepTopology: boolean;
    domain?: string;
    /** `--instance-type` values: TYPE for every host, or HOST=TYPE. */
    instanceTypes: string[];
    certbotEmail?: string;
    certificateArn?: string;
    /** `--set KEY=value` entries for app.environment. */
    environment: Record<string, string>;
    snapshotTag?: string;
    /** `--mail-to`: every mail of the clone goes to this sandbox address; unset, the clone sends no mail. */
    mailTo?: string;
    now: Date;
}

export interface CloneResult {
    text: string;
    /** What the clone changed and why, one line each. */
    changes: string[];
    /** Every secret the source sets or the clone needs, with the command that sets it. */
    secrets: SecretToSet[];
    /** `pulumi config cp` commands for the secrets the source file sets. */
    copyCommands: string[];
    warnings: string[];
}

/** An expected failure: a bad source, bad options, or a clone that would not validate. */
export class CloneError extends Error {}

/** Top-level keys that belong to the source stack's own secrets provider. */
const SECRETS_PROVIDER_KEYS = ["encryptionsalt", "secretsprovider", "encryptedkey"];

export function cloneStack(sourceText: string, o: CloneOptions): CloneResult {
    const source = validateStack(parseStackText(sourceText, o.sourceFile, o.from));
    if (!source.spec) {
        throw new CloneError(`${formatIssues(source.errors, o.sourceFile)}\nThe source stack must be valid before it is cloned.`);
    }
    const spec = source.spec;
    const doc = YAML.parseDocument(sourceText);
    const root = doc.contents;
    const config = doc.get("config");
    if (!isMap(root) || !isMap(config)) throw new CloneError(`${o.sourceFile} has no "config:" mapping`);

    const edit = new Editor(doc);
    const changes: string[] = [];
    const warnings: string[] = [];
    const sourceSecrets = new Set<string>();

    for (const key of SECRETS_PROVIDER_KEYS) {
        if (root.has(key)) {
            root.delete(key);
            changes.push(`${key} not copied: \`pulumi stack init ${o.to}\` gives the new stack its own secrets provider`);
        }
    }
    const secretNames = new Set(Object.keys(SECRET_KEYS).map((k) => `${NAMESPACE}:${k}`));
    for (const pair of [...config.items]) {
        const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
        const full = key.includes(":") ? key : `${NAMESPACE}:${key}`;
        const secure = isMap(pair.value) && pair.value.items.length === 1 && pair.value.has("secure");
        if (secure || secretNames.has(full)) {
            config.delete(pair.key);
            sourceSecrets.add(full);
            if (!secure)
                warnings.push(
                    `${full} is stored in plain text in ${o.sourceFile}: it was not copied; set it with pulumi config set --secret and remove it from ${o.sourceFile}`,
                );
        }
    }

    const section = (name: string) => edit.map(config, `${NAMESPACE}:${name}`);
    if (spec.tier !== "staging") {
        edit.set(config, `${NAMESPACE}:tier`, "staging", { trailing: `${o.from}: ${spec.tier}` });
    }

    // Services prod reaches at fixed addresses are prod's own: a staging stack must not write to them.
    const plone = section("plone");
    const addLayers = new Set<Layer>();
    if (plone) {
        if (spec.plone.relstorage.cacheServers.length > 0) {
            edit.delete(edit.map(plone, "relstorage"), "cacheServers");
            changes.push(
                `plone.relstorage.cacheServers dropped: ${o.from}'s memcached servers are not shared, a staging client would read ${o.from}'s cached objects`,
            );
        }
        if (spec.plone.celery.enabled && spec.plone.celery.brokerHost) {
            edit.delete(edit.map(plone, "celery"), "brokerHost");
            addLayers.add("redis");
            changes.push(`plone.celery.brokerHost dropped (${o.from}'s broker): a redis layer is the broker, so ${o.from}'s workers never run staging's tasks`);
        }
        if (spec.plone.solr.enabled && spec.plone.solr.host) {
            edit.delete(edit.map(plone, "solr"), "host");
            addLayers.add("solr");
            changes.push(`plone.solr.host dropped (${o.from}'s Solr): a solr layer keeps staging's index apart`);
        }
    }

    const blobs = !o.keepTopology && (spec.plone.blobs === "nfs" || spec.plone.blobs === "gluster") ? "local" : spec.plone.blobs;
    const hostsNode = config.get(`${NAMESPACE}:hosts`, true);
    if (!isSeq(hostsNode)) throw new CloneError(`${o.sourceFile}: ${NAMESPACE}:hosts is not a list`);
    const typeOverrides = parseTypeOverrides(o.instanceTypes);
    if (o.keepTopology) {
        changes.push(...keepHosts(edit, hostsNode, spec, o.from, typeOverrides, addLayers));
    } else {
        const collapsed = collapseHosts(spec, o.to, blobs, addLayers, typeOverrides);
        config.set(`${NAMESPACE}:hosts`, edit.node(collapsed.hosts));
        edit.commentOn(config, `${NAMESPACE}:hosts`, collapsed.comment);
        changes.push(...collapsed.changes);
    }
    if (plone && blobs !== spec.plone.blobs) {
        edit.set(plone, "blobs", blobs, { trailing: `${o.from}: ${spec.plone.blobs}` });
        edit.delete(plone, "glusterVolume");
    }

    const app = section("app");
    if (app && Object.keys(o.environment).length > 0) {
        const env = edit.map(app, "environment") ?? edit.addMap(app, "environment");
        for (const [k, v] of Object.entries(o.environment)) edit.set(env, k, v);
        edit.commentOn(app, "environment", `${Object.keys(o.environment).join(", ")} set by --set; the rest is ${o.from}'s`);
    }
    const inherited = Object.entries(spec.app.environment).filter(([k]) => !(k in o.environment));
    if (inherited.length > 0)
        warnings.push(`app.environment keeps ${o.from}'s ${inherited.map(([k, v]) => `${k}=${v}`).join(", ")}: override with --set KEY=value`);
    // Volto's own variables are built into its pages (RAZZLE_*); the API paths follow the clone's domain by themselves.
    const voltoEnvironment = Object.entries(spec.volto.environment);
    if (voltoEnvironment.length > 0 && spec.hosts.some((h) => h.layers.includes("volto")))
        warnings.push(
            `volto.environment keeps ${o.from}'s ${voltoEnvironment.map(([k, v]) => `${k}=${v}`).join(", ")}: edit them in the clone where staging needs its own (RAZZLE_API_PATH follows its domain by itself)`,
        );

    const database = section("database");
    if (database && spec.database) {
        edit.set(database, "multiAz", false);
        edit.commentOn(database, "multiAz", "staging needs no standby database");
        edit.set(database, "deletionProtection", false);
        edit.commentOn(database, "deletionProtection", "staging is rebuilt and removed freely");
        if (database.has("instanceClass")) {
            const smaller = stagingDbClass(spec.database.instanceClass);
            if (smaller !== spec.database.instanceClass)
                edit.set(database, "instanceClass", smaller, { trailing: `${o.from}: ${spec.database.instanceClass}` });
        }
        changes.push("RDS without Multi-AZ and without deletion protection");
        if (spec.database.backupReplication.enabled) {
            const replication = edit.map(database, "backupReplication") ?? edit.addMap(database, "backupReplication");
            edit.set(replication, "enabled", false);
            edit.commentOn(replication, "enabled", "staging's database is a copy already");
            changes.push(
                `RDS automated backups are not replicated${spec.snapshots.crossRegionCopy ? ` to ${spec.snapshots.crossRegionCopy.region}` : ""}: staging's database is a copy already`,
            );
        }
        if (spec.database.dump.enabled) {
            const dump = edit.map(database, "dump") ?? edit.addMap(database, "dump");
            edit.set(dump, "enabled", false);
            edit.commentOn(
                dump,
                "enabled",
                `staging's database is a copy already: npm run ops -- ${o.from} restore --from latest restores ${o.from}'s dump into it`,
            );
            changes.push(`the database is not dumped to S3: staging's database is a copy already (it restores ${o.from}'s dumps)`);
        }
        if (spec.database.host) {
            edit.delete(database, "host");
            edit.commentOn(database, "multiAz", `${o.from} used the existing server ${spec.database.host}; staging gets an RDS instance of its own`);
            changes.push(
                `database.host (${spec.database.host}) dropped: staging must not write to ${o.from}'s database; restore a copy into its own RDS instance`,
            );
            const network = section("network");
            if (network && spec.network.azCount < 2) {
                edit.set(network, "azCount", 2, { trailing: `${o.from}: ${spec.network.azCount}` });
                edit.commentOn(network, "azCount", "an RDS instance needs subnets in two availability zones");
                const zones = spec.network.availabilityZones;
                if (zones && zones.length < 2) {
                    const added = nextZone(zones[0]);
                    edit.set(network, "availabilityZones", [...zones, added]);
                    edit.commentOn(network, "availabilityZones", `the second AZ: ${added} was added next to ${zones[0]}, check that your account has it`);
                    warnings.push(`network.availabilityZones: ${added} was added as the second AZ (for the database): check that your account has it`);
                }
            }
        }
    }

    changes.push(...cloneFrontend(edit, section("frontend"), spec, o, warnings));

    const snapshotTag = o.snapshotTag ?? o.to;
    const snapshots = section("snapshots") ?? edit.addMap(config, `${NAMESPACE}:snapshots`);
    edit.set(snapshots, "tagValue", snapshotTag);
    edit.commentOn(snapshots, "tagValue", `${o.from}'s snapshot policy selects volumes by this tag: a value of staging's own`);
    if (spec.snapshots.crossRegionCopy) {
        edit.delete(snapshots, "crossRegionCopy");
        changes.push(`snapshots are not copied to ${spec.snapshots.crossRegionCopy.region}: staging's data is a copy already`);
    }
    changes.push(`snapshot tag ${snapshotTag}`);

    // Staging restores the source's backups (ops restore) and keeps copies of its own, unreplicated.
    const offsite = section("offsiteBackups") ?? edit.addMap(config, `${NAMESPACE}:offsiteBackups`);
    if (spec.offsiteBackups.replicaRegion) {
        edit.delete(offsite, "replicaRegion");
        changes.push(`backups are not replicated to ${spec.offsiteBackups.replicaRegion}: staging's data is a copy already`);
    }
    if (spec.offsiteBackups.enabled && !spec.offsiteBackups.restoreFrom.includes(o.from)) {
        edit.set(offsite, "restoreFrom", [...spec.offsiteBackups.restoreFrom, o.from]);
        edit.commentOn(offsite, "restoreFrom", `npm run ops -- ${o.from} restore --from DATE restores ${o.from}'s backups onto staging`);
        changes.push(`may read ${o.from}'s backups (offsiteBackups.restoreFrom) for ops restore`);
    }

    const logs = spec.monitoring.accessLogs;
    if (logs.enabled && logs.expireDays > STAGING_LOG_EXPIRE_DAYS) {
        const monitoring = section("monitoring") ?? edit.addMap(config, `${NAMESPACE}:monitoring`);
        const accessLogs = edit.map(monitoring, "accessLogs") ?? edit.addMap(monitoring, "accessLogs");
        edit.set(accessLogs, "expireDays", STAGING_LOG_EXPIRE_DAYS, { trailing: `${o.from}: ${logs.expireDays}` });
        changes.push(`access logs kept ${STAGING_LOG_EXPIRE_DAYS} days instead of ${logs.expireDays}`);
    }

    changes.push(...cloneMail(edit, config, section("mail"), spec, o));

    const network = section("network");
    if (network) {
        const nat = o.keepTopology ? (spec.network.natGateways === "perAz" ? "single" : undefined) : spec.network.natGateways !== "none" ? "none" : undefined;
        if (nat) {
            edit.set(network, "natGateways", nat, { trailing: `${o.from}: ${spec.network.natGateways}` });
            changes.push(nat === "none" ? "no NAT gateway: the one host is in a public subnet behind its Elastic IP" : "one NAT gateway instead of one per AZ");
        }
    }

    setHeader(doc, o, changes);
    const text = doc.toString(STRINGIFY);

    const clone = validateStack(parseStackText(text, `Pulumi.${o.to}.yaml`, o.to));
    if (!clone.spec) {
        throw new CloneError(`${formatIssues(clone.errors, `The clone Pulumi.${o.to}.yaml`)}\nThe clone was not written.`);
    }
    warnings.push(...clone.warnings.map((w) => `${w.path}: ${w.message}`));
    const needed = new Set([...sourceSecrets, ...clone.unsetSecrets.map((e) => e.path)]);
    const secrets = [...needed].map((key) => secretFor(key, o.to, sourceSecrets.has(key) ? `${o.from} sets it` : undefined));
    const copyCommands = [...sourceSecrets].sort().map((key) => `pulumi config cp ${key} --stack ${o.from} --dest ${o.to}`);
    return { text, changes, secrets: sortSecrets(secrets), copyCommands, warnings };
}

function secretFor(key: string, stack: string, note?: string): SecretToSet {
    const name = key.slice(NAMESPACE.length + 1);
    if (key.startsWith(`${NAMESPACE}:`) && name in SECRET_KEYS) return ploneSecret(name as SecretKey, stack, note);
    return { key, why: note ?? "a secret of the source stack", command: setSecretForStack(key, stack) };
}

/** `--instance-type` values: one TYPE for every host and/or HOST=TYPE entries. */
function parseTypeOverrides(values: string[]): { all?: string; byHost: Map<string, string> } {
    const byHost = new Map<string, string>();
    let all: string | undefined;
    for (const v of values) {
        const eq = v.indexOf("=");
        if (eq < 0) {
            if (all) throw new CloneError(`--instance-type ${v}: a type for every host is already given (${all}); name hosts as HOST=TYPE`);
            all = v;
        } else {
            byHost.set(v.slice(0, eq), v.slice(eq + 1));
        }
    }
    return { all, byHost };
}

function checkOverrides(overrides: { byHost: Map<string, string> }, names: string[]): void {
    for (const host of overrides.byHost.keys()) {
        if (!names.includes(host)) throw new CloneError(`--instance-type ${host}=...: the clone has no host ${host} (its hosts: ${names.join(", ")})`);
    }
}

/** The clone's layers in the schema's order. */
function orderLayers(layers: Iterable<Layer>): Layer[] {
    const set = new Set(layers);
    return LAYERS.filter((l) => set.has(l));
}

/** Why the one host of a collapsed clone does without a layer (undefined: it carries it). */
const WITHOUT_ON_ONE_HOST: Record<Layer, (spec: StackSpec, blobs: StackSpec["plone"]["blobs"]) => string | undefined> = {
    frontend: () => undefined,
    plone_instances: () => undefined,
    zeoserver: () => undefined,
    shared_blobs: (spec, blobs) =>
        blobs === "local"
            ? `${spec.plone.blobs} blobs -> local: the blob files live on the one host's blobs volume, no network file system is needed`
            : undefined,
    memcached: () =>
        "memcached dropped: on the one host it would only repeat the clients' own RelStorage cache (plone.relstorage.cacheLocalMb) in the same memory",
    solr: () => undefined,
    redis: () => undefined,
    celerybeat: () => undefined,
    db_packing: () => undefined,
    volto: () => undefined,
};

interface CollapsedHosts {
    hosts: Record<string, unknown>[];
    comment: string;
    changes: string[];
}

/** Every layer on one host: its type from the largest app host, its volumes as large as prod's. */
function collapseHosts(
    spec: StackSpec,
    to: string,
    blobs: StackSpec["plone"]["blobs"],
    addLayers: Set<Layer>,
    overrides: { all?: string; byHost: Map<string, string> },
): CollapsedHosts {
    const name = `${resourcePrefixOf(to).slice(0, 27).replace(/-+$/, "")}-1`;
    checkOverrides(overrides, [name]);
    const vcpus = (h: StackSpec["hosts"][number]) => estimatedVcpus(h.instanceType, h.vcpus) ?? 0;
    const appHosts = spec.hosts.filter((h) => h.layers.includes("plone_instances"));
    const biggest = appHosts.reduce((a, b) => (vcpus(b) > vcpus(a) ? b : a));
    const chosen = overrides.byHost.get(name) ?? overrides.all ?? collapsedInstanceType(biggest.instanceType, biggest.vcpus);

    const sourceLayers = new Set(spec.hosts.flatMap((h) => h.layers));
    const dropped: string[] = [];
    const layers = orderLayers(
        [...sourceLayers, ...addLayers].filter((l) => {
            const why = WITHOUT_ON_ONE_HOST[l](spec, blobs);
            if (why) dropped.push(why);
            return !why;
        }),
    );

    // Each data volume as large as the largest of prod's volumes that held the same data.
    const topology = buildTopology(spec);
    const collapsedPlone = { plone: { ...spec.plone, blobs } };
    const kinds = volumeKindsFor(collapsedPlone, layers, name, name).map(([k]) => k);
    const volumes: Partial<Record<VolumeKind, number>> = {};
    for (const kind of kinds) {
        const sameData = (k: VolumeKind) => k === kind || (kind === "blobs" && (k === "exports" || k === "bricks"));
        const size = Math.max(0, ...topology.hosts.flatMap((h) => h.volumes.filter((v) => sameData(v.kind)).map((v) => v.sizeGiB)));
        if (size > spec.volumes.sizes[kind]) volumes[kind] = size;
    }
    const rootVolumeSize = Math.max(...spec.hosts.map((h) => h.rootVolumeSize));

    const host: Record<string, unknown> = { name, instanceType: chosen, az: 0, layers };
    if (biggest.vcpus && chosen === biggest.instanceType) host.vcpus = biggest.vcpus;
    if (Object.keys(volumes).length > 0) host.volumes = volumes;
    if (rootVolumeSize > 20) host.rootVolumeSize = rootVolumeSize;

    const names = spec.hosts.map((h) => h.name).join(", ");
    const how =
        overrides.byHost.has(name) || overrides.all
            ? "given by --instance-type"
            : `for ${biggest.name}'s ${biggest.instanceType}, see scripts/lib/stacks/stagingTypes.ts`;
    return {
        hosts: [host],
        comment: `every layer of ${spec.hosts.length === 1 ? `${names}` : `${spec.hosts.length} hosts (${names})`} on one host; ${chosen} ${how}`,
        changes: [`every layer on one host, ${name} (${chosen}); --keep-topology keeps ${names}`, ...dropped],
    };
}

/** The same hosts with staging instance types; layers prod reached externally go to the first app host. */
function keepHosts(
    edit: Editor,
    hosts: YAMLSeq,
    spec: StackSpec,
    from: string,
    overrides: { all?: string; byHost: Map<string, string> },
    addLayers: Set<Layer>,
): string[] {
    checkOverrides(
        overrides,
        spec.hosts.map((h) => h.name),
    );
    const changes: string[] = [];
    const firstApp = spec.hosts.findIndex((h) => h.layers.includes("plone_instances"));
    hosts.items.forEach((item, i) => {
        if (!isMap(item)) return;
        const h = spec.hosts[i];
        const type = overrides.byHost.get(h.name) ?? overrides.all ?? stagingInstanceType(h.instanceType, h.vcpus) ?? h.instanceType;
        if (type !== h.instanceType) {
            edit.set(item, "instanceType", type, { trailing: `${from}: ${h.instanceType}` });
            if (item.has("vcpus") && estimatedVcpus(type) !== undefined) item.delete("vcpus");
            changes.push(`${h.name}: ${h.instanceType} -> ${type}`);
        }
        if (i === firstApp && addLayers.size > 0) {
            const layers = item.get("layers", true);
            if (isSeq(layers)) for (const l of addLayers) layers.add(edit.node(l));
            changes.push(`${h.name} also carries ${[...addLayers].join(", ")}`);
        }
    });
    return changes;
}

function cloneFrontend(edit: Editor, frontend: YAMLMap | undefined, spec: StackSpec, o: CloneOptions, warnings: string[]): string[] {
    if (!frontend) return [];
    const changes: string[] = [];
    const oldDomain = spec.frontend.domain;
    const domain = o.domain ?? `${resourcePrefixOf(o.to)}.${oldDomain.replace(/^www\./, "")}`;
    edit.set(frontend, "domain", domain, { trailing: `${o.from}: ${oldDomain}` });
    changes.push(`domain ${domain}${o.domain ? "" : " (derived from the source domain; --domain sets it)"}`);
    if (spec.frontend.aliases.length > 0) {
        edit.delete(frontend, "aliases");
        changes.push(`aliases dropped (${spec.frontend.aliases.join(", ")} are ${o.from}'s names)`);
    }
    const rawSubsiteServer = edit.map(frontend, "rawSubsiteServer");
    if (rawSubsiteServer) {
        for (const alias of spec.frontend.aliases) edit.delete(rawSubsiteServer, alias);
        if (rawSubsiteServer.has(oldDomain)) {
            const pair = rawSubsiteServer.items.find((p) => isScalar(p.key) && p.key.value === oldDomain)!;
            (pair.key as Scalar).value = domain;
        }
    }
    const subsites = Object.keys(spec.frontend.subsites);
    if (subsites.length > 0)
        warnings.push(`frontend.subsites keeps ${o.from}'s host names (${subsites.join(", ")}): rename them for staging, or reach them through /etc/hosts`);

    const frontends = spec.hosts.filter((h) => h.layers.includes("frontend")).length;
    const eip = !o.keepTopology || frontends === 1;
    if (eip) {
        if (spec.frontend.frontDoor !== "eip") {
            edit.set(frontend, "frontDoor", "eip");
            edit.commentOn(frontend, "frontDoor", "one front end: an Elastic IP instead of the load balancer");
            changes.push("an Elastic IP instead of the load balancer");
        }
    } else {
        warnings.push(`--keep-topology keeps ${frontends} front ends, so staging keeps a load balancer`);
    }

    const waf = spec.frontend.waf;
    if (waf && eip) {
        edit.delete(frontend, "waf");
        changes.push("no web firewall: AWS WAF attaches to a load balancer, and staging has an Elastic IP");
    } else if (waf?.mode === "block") {
        const node = edit.map(frontend, "waf")!;
        edit.set(node, "mode", "count", { trailing: `${o.from}: block` });
        edit.commentOn(node, "mode", "staging's traffic is the testers': the firewall logs what it would block, and blocks nothing");
        changes.push("web firewall in count mode: it logs what it would block, and blocks nothing");
    }

    const tls = spec.frontend.tls;
    let next: Record<string, string> | undefined;
    let why = "";
    if (eip && (o.certbotEmail || tls.mode === "acm")) {
        if (o.certbotEmail) {
            next = { mode: "certbot", email: o.certbotEmail };
            why =
                tls.mode === "acm"
                    ? "ACM certificates live on load balancers, not on an Elastic IP: certbot issues staging's certificate on the host"
                    : "certbot issues staging's certificate on the host";
        } else {
            next = { mode: "none" };
            why =
                "ACM certificates live on load balancers, not on an Elastic IP: no TLS until you set mode certbot with an email (or clone again with --certbot-email)";
            warnings.push(
                `TLS is off: ${o.from}'s ACM certificate cannot be served from an Elastic IP; clone again with --certbot-email ADDRESS to use certbot`,
            );
        }
    } else if (!eip && tls.mode === "acm") {
        if (o.certificateArn) next = { mode: "acm", certificateArn: o.certificateArn };
        else warnings.push(`frontend.tls keeps ${o.from}'s certificate ${tls.certificateArn}: it must cover ${domain}, or clone again with --certificate-arn`);
        why = "a certificate for staging's own domain";
    }
    if (next) {
        frontend.set("tls", edit.node(next));
        edit.commentOn(frontend, "tls", why);
        changes.push(`TLS ${next.mode}${next.mode === "certbot" ? ` (${next.email})` : ""}: ${why}`);
    }
    return changes;
}

/** The header: where the clone came from and what it changed, then the source's own description. */
function setHeader(doc: Document, o: CloneOptions, changes: string[]): void {
    const root = doc.contents as YAMLMap;
    const first = root.items[0];
    const holder = first && isScalar(first.key) ? first.key : doc;
    const old = holder.commentBefore ?? "";
    // The source's paragraphs that describe it; its secret commands name the wrong stack.
    const paragraphs = old.split(/\n\s*\n/).filter((p) => p.trim() && !/pulumi config set/.test(p));
    const lines = [
        `The ${o.to} stack, cloned from ${o.from} (${o.sourceFile}) on ${o.now.toISOString().slice(0, 10)} by`,
        `\`npm run clone-stack -- ${o.from} ${o.to}\`. What the clone changed:`,
        ...changes.map((c) => `  - ${c}`),
    ];
    if (paragraphs.length > 0) {
        lines.push(
            `${o.from}'s own description:`,
            ...paragraphs
                .join("\n")
                .split("\n")
                .map((l) => `  ${l.trim()}`),
        );
    }
    lines.push(
        "",
        "Secrets are not copied between stacks: each stack encrypts with its own key. The commands",
        "to set this stack's secrets are printed by the clone (pulumi prompts for each value).",
    );
    holder.commentBefore = lines.map((l) => ` ${l}`).join("\n");
}

/** Small edits on a parsed document that keep the nodes (and so the comments) already there. */
/** The zone after this one: eu-west-1a -> eu-west-1b, euw1-az1 -> euw1-az2. */
function nextZone(zone: string): string {
    const id = /^(.*-az)(\d+)$/.exec(zone);
    if (id) return `${id[1]}${Number(id[2]) + 1}`;
    return `${zone.slice(0, -1)}${String.fromCharCode(zone.charCodeAt(zone.length - 1) + 1)}`;
}

/** Days a staging clone keeps its access logs (monitoring.accessLogs.expireDays), when the source keeps them longer. */
const STAGING_LOG_EXPIRE_DAYS = 30;

/**
 * Staging must never mail the source's users (a test that resets passwords would reach them): no
 * mail, or with --mail-to every mail to one sandbox address (mail.redirectTo). The clone relays to
 * the same SES endpoint as the source without an SES identity of its own (mail.ses false): the
 * source's identity for the domain signs it, and a second one in the same account and region would
 * collide.
 */
function cloneMail(edit: Editor, config: YAMLMap, mail: YAMLMap | undefined, spec: StackSpec, o: CloneOptions): string[] {
    if (!spec.mail || !mail) return [];
    if (!o.mailTo) {
        edit.delete(config, `${NAMESPACE}:mail`);
        return [
            `mail off (plone-aws:mail dropped): staging must not mail ${o.from}'s users; --mail-to ADDRESS sends every mail to one sandbox address instead`,
        ];
    }
    edit.set(mail, "redirectTo", o.mailTo);
    edit.commentOn(mail, "redirectTo", `every mail goes to this sandbox address, never to ${o.from}'s users`);
    const changes = [`every mail goes to ${o.mailTo} (mail.redirectTo), never to ${o.from}'s users`];
    if (spec.mail.ses) {
        edit.set(mail, "ses", false, { trailing: `${o.from}'s SES identity for ${spec.mail.domain} signs staging's mail` });
        changes.push(`no SES identity of its own (mail.ses false): ${o.from}'s identity for ${spec.mail.domain} signs the mail; a second one would collide`);
    }
    return changes;
}

class Editor {
    constructor(private readonly doc: Document) {}

    node(value: unknown): YAML.Node {
        return flowScalarLists(this.doc.createNode(value));
    }

    map(parent: YAMLMap | undefined, key: string): YAMLMap | undefined {
        const v = parent?.get(key, true);
        return isMap(v) ? v : undefined;
    }

    addMap(parent: YAMLMap, key: string): YAMLMap {
        const map = this.doc.createNode({}) as YAMLMap;
        parent.add(this.doc.createPair(key, map));
        return map;
    }

    /** Sets a value in place (a scalar keeps its node and comments); new keys go last. */
    set(map: YAMLMap, key: string, value: unknown, opts: { trailing?: string } = {}): void {
        const pair = this.pair(map, key);
        if (pair && isScalar(pair.value) && (value === null || typeof value !== "object")) {
            pair.value.value = value;
        } else if (pair) {
            pair.value = this.node(value);
        } else {
            map.add(this.doc.createPair(key, this.node(value)));
        }
        const node = this.pair(map, key)!.value;
        if (opts.trailing && isScalar(node)) node.comment = ` ${opts.trailing}`;
    }

    delete(map: YAMLMap | undefined, key: string): void {
        map?.delete(key);
    }

    /** A "clone:" comment line above a key, after any comment already there. */
    commentOn(map: YAMLMap, key: string, text: string): void {
        commentAbove(map, key, `clone: ${text}`);
    }

    private pair(map: YAMLMap, key: string) {
        return pairOf(map, key);
    }
}

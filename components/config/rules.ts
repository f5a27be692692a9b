// Rules that span several keys: which layers need which settings, which layers are singletons,
// what the front door and the network allow. Each rule runs only when the keys it reads parsed,
// so one bad key does not hide the errors of the others.
import { cronFields, SECRET_KEYS, SecretKey, Layer } from "./schema";
import type { ParsedSections } from "./spec";
import { MAX_VPC_PREFIX, parseCidr, planSubnet } from "../topology/addressing";
import { instanceTypeInfo } from "../topology/instanceTypes";
import { APP_HOST_LAYERS, frontDoorKind, SINGLE_INSTANCE_LAYERS } from "../topology";
import { operationsIssues } from "./operationsRules";

export interface ConfigIssue {
    /** Key path, e.g. plone-aws:hosts[2].layers */
    path: string;
    message: string;
}

export const NAMESPACE = "plone-aws";

/** `plone-aws:hosts[2].layers` from ["hosts", 2, "layers"]. */
export function keyPath(parts: readonly PropertyKey[]): string {
    let out = `${NAMESPACE}:`;
    parts.forEach((p, i) => {
        if (typeof p === "number") out += `[${p}]`;
        else out += i === 0 ? String(p) : `.${String(p)}`;
    });
    return out;
}

/** The shell command that sets a secret, for error messages and stack files. */
export function setSecretCommand(key: SecretKey): string {
    return `pulumi config set --secret ${NAMESPACE}:${key} <value>`;
}

/** Names supervisor programs get from the stack itself; app.initCommands must not reuse them. */
const GENERATED_PROGRAMS = /^(client\d+|zeoserver|celery|celerybeat|solr|haproxy-agent)$/;

export function crossFieldIssues(
    s: Partial<ParsedSections>,
    ctx: { secrets: Record<SecretKey, boolean>; region?: string },
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const err = (path: PropertyKey[], message: string) => errors.push({ path: keyPath(path), message });
    const warn = (path: PropertyKey[], message: string) => warnings.push({ path: keyPath(path), message });
    const { hosts, plone, network, frontend, access, app, snapshots } = s;

    if (hosts) {
        const withLayer = (layer: Layer) => hosts.map((h, i) => ({ h, i })).filter(({ h }) => h.layers.includes(layer));
        const seen = new Map<string, number>();
        hosts.forEach((h, i) => {
            const first = seen.get(h.name);
            if (first !== undefined) err(["hosts", i, "name"], `"${h.name}" is already the name of hosts[${first}]; host names must be unique`);
            else seen.set(h.name, i);
            if (network && h.az >= network.azCount) {
                err(["hosts", i, "az"], `AZ index ${h.az} is outside the stack's ${network.azCount} AZs (network.azCount): use 0..${network.azCount - 1} or raise network.azCount`);
            }
            const countsClients = h.layers.includes("plone_instances") && plone?.clientCount === undefined;
            if (countsClients && h.vcpus === undefined && !instanceTypeInfo(h.instanceType)) {
                err(["hosts", i, "instanceType"], `the vCPU count of ${h.instanceType} is not in plone-aws's table, so its client count cannot be derived: set hosts[${i}].vcpus or plone.clientCount`);
            }
            for (const layer of APP_HOST_LAYERS) {
                if (h.layers.includes(layer) && !h.layers.includes("plone_instances")) {
                    err(["hosts", i, "layers"], `${layer} runs from the buildout of a plone_instances host: add plone_instances to this host or move ${layer} to one`);
                }
            }
        });
        if (withLayer("frontend").length === 0) err(["hosts"], "no host carries the frontend layer: a stack needs at least one front end (nginx, varnish, haproxy)");
        if (withLayer("plone_instances").length === 0) err(["hosts"], "no host carries the plone_instances layer: a stack needs at least one host running Zope clients");

        const singletons: Layer[] = [...SINGLE_INSTANCE_LAYERS, ...(plone?.blobs === "nfs" ? ["shared_blobs" as Layer] : [])];
        for (const layer of singletons) {
            const carriers = withLayer(layer);
            for (const { i } of carriers.slice(1)) {
                err(["hosts", i, "layers"], `${layer} is already on ${carriers[0].h.name}: a stack has exactly one ${layer} host${layer === "shared_blobs" ? " with NFS blobs (GlusterFS allows replicas)" : ""}`);
            }
        }

        if (plone) {
            const zeo = withLayer("zeoserver");
            if (plone.storage === "zeo" && zeo.length === 0) err(["hosts"], "plone.storage is zeo but no host carries the zeoserver layer: add it to one host");
            if (plone.storage === "relstorage") {
                for (const { i } of zeo) err(["hosts", i, "layers"], "zeoserver is not used with plone.storage relstorage: remove the layer or set plone.storage to zeo");
            }

            const blobServers = withLayer("shared_blobs");
            if (plone.blobs === "nfs" && blobServers.length === 0) err(["hosts"], "plone.blobs is nfs but no host carries the shared_blobs layer (the NFS server): add it to one host");
            if (plone.blobs === "gluster") {
                if (blobServers.length === 0) err(["hosts"], "plone.blobs is gluster but no host carries the shared_blobs layer: add it to one host, then replicas later");
                for (const { i } of blobServers.slice(3)) err(["hosts", i, "layers"], "a GlusterFS volume here has 1 to 3 peers: this would be the 4th shared_blobs host");
                const azs = new Set(blobServers.map(({ h }) => h.az));
                if (blobServers.length > 1 && azs.size < blobServers.length) {
                    warn(["hosts"], "GlusterFS peers share an availability zone: put each replica in a different AZ");
                }
            }
            if (plone.blobs !== "nfs" && plone.blobs !== "gluster") {
                for (const { i } of blobServers) err(["hosts", i, "layers"], `shared_blobs serves NFS or GlusterFS blobs, but plone.blobs is ${plone.blobs}: remove the layer or change plone.blobs`);
            }
            if (plone.blobs === "local") {
                const blobUsers = new Set([...withLayer("plone_instances"), ...zeo].map(({ h }) => h.name));
                if (blobUsers.size > 1) {
                    err(["plone", "blobs"], `local blobs live on one host's disk, but ${[...blobUsers].join(", ")} all need them: use zeo, nfs, gluster, efs or (with RelStorage) database`);
                }
            }

            for (const { i } of withLayer("memcached")) {
                if (plone.storage !== "relstorage") err(["hosts", i, "layers"], "memcached serves RelStorage's cache, and plone.storage is zeo: remove the layer");
            }

            const redis = withLayer("redis");
            if (plone.celery.enabled) {
                if (redis.length === 0 && !plone.celery.brokerHost) err(["plone", "celery"], "celery needs a broker: add the redis layer to one host or set plone.celery.brokerHost");
                if (redis.length > 0 && plone.celery.brokerHost) err(["plone", "celery", "brokerHost"], `both an external broker and the redis layer (on ${redis[0].h.name}) are configured: keep one`);
                if (withLayer("celerybeat").length === 0) warn(["hosts"], "celery is enabled but no host carries celerybeat: scheduled tasks will not run");
            } else {
                for (const { i } of redis) err(["hosts", i, "layers"], "the redis layer is the celery broker, and plone.celery.enabled is false: remove the layer or enable celery");
                for (const { i } of withLayer("celerybeat")) err(["hosts", i, "layers"], "celerybeat needs celery: set plone.celery.enabled to true or remove the layer");
            }

            const solr = withLayer("solr");
            if (plone.solr.enabled) {
                if (solr.length === 0 && !plone.solr.host) err(["plone", "solr"], "Solr is enabled but no host carries the solr layer and plone.solr.host is not set");
                if (solr.length > 0 && plone.solr.host) err(["plone", "solr", "host"], `both an external Solr and the solr layer (on ${solr[0].h.name}) are configured: keep one`);
            } else {
                for (const { i } of solr) err(["hosts", i, "layers"], "the solr layer needs plone.solr.enabled: true");
            }

            const packers = withLayer("db_packing");
            if (plone.storage !== "relstorage") {
                for (const { i } of packers) err(["hosts", i, "layers"], "db_packing runs zodbpack for RelStorage; with ZEO the zeoserver host packs: remove the layer");
            } else if (plone.pack.enabled && packers.length === 0) {
                err(["hosts"], "RelStorage packing is enabled (plone.pack.enabled) but no host carries db_packing: add it to exactly one plone_instances host");
            }
        }

        if (network && access) {
            const frontendCount = withLayer("frontend").length;
            const singleFrontend = frontend ? frontDoorKind({ frontend, hosts }) === "eip" : frontendCount === 1;
            const privateHosts = access.via === "bastion" && hosts.some((h) => !(singleFrontend && h.layers.includes("frontend")));
            if (privateHosts && network.natGateways === "none") {
                err(["network", "natGateways"], "hosts in private subnets (access.via bastion) need a NAT gateway to fetch packages and code: use single or perAz");
            }
            const perSubnet = new Map<string, number>();
            for (const h of hosts) {
                const tier = access.via === "publicIp" || (singleFrontend && h.layers.includes("frontend")) ? "public" : "private";
                perSubnet.set(`${tier}:${h.az}`, (perSubnet.get(`${tier}:${h.az}`) ?? 0) + 1);
            }
            if (parseCidr(network.cidr).prefix <= MAX_VPC_PREFIX) {
                for (const [key, count] of perSubnet) {
                    const [tier, az] = key.split(":");
                    const subnet = planSubnet(network.cidr, tier as "public" | "private", Number(az));
                    if (count + 2 > subnet.capacity) err(["network", "cidr"], `the ${tier} subnet of AZ ${az} (${subnet.cidr}) has room for ${subnet.capacity - 2} hosts, not ${count}: use a larger VPC`);
                }
            }
        }

        if (frontend) {
            const kind = frontDoorKind({ frontend, hosts });
            const frontendCount = withLayer("frontend").length;
            if (frontend.frontDoor === "eip" && frontendCount > 1) err(["frontend", "frontDoor"], `an Elastic IP serves one front end, and ${frontendCount} hosts carry frontend: use alb (or auto)`);
            if (frontend.tls.mode === "acm" && kind !== "alb") err(["frontend", "tls", "mode"], "ACM certificates are served by the load balancer, and this stack has a single front end on an Elastic IP: set frontend.frontDoor to alb, or use tls mode certbot");
            if (frontend.tls.mode === "certbot" && kind !== "eip") err(["frontend", "tls", "mode"], "certbot issues a certificate on the one front end host, but this stack's front door is a load balancer: use tls mode acm with a certificateArn");
        }
    }

    if (plone) {
        if (plone.blobs === "database" && plone.storage !== "relstorage") err(["plone", "blobs"], "blobs in the database need plone.storage relstorage; with ZEO use zeo (blobs on the ZEO server) instead");
        if (plone.blobs === "zeo" && plone.storage !== "zeo") err(["plone", "blobs"], "zeo blobs are kept by the ZEO server, and plone.storage is relstorage: use database, nfs, gluster or efs");
        if (plone.pack.truncateRefs && !plone.pack.gc) err(["plone", "pack", "truncateRefs"], "clearing the object_ref tables needs plone.pack.gc: true");
        if (plone.storage === "relstorage" && plone.pack.twoStage) {
            const [, , dayOfMonth, , weekday] = cronFields(plone.pack.schedule);
            if (dayOfMonth !== "*" || weekday === "*") {
                err(["plone", "pack", "schedule"], `a two-stage pack runs the prepack on the scheduled day and the pack the day after: give weekdays and * as day of month, e.g. "0 1 * * 6" (not "${plone.pack.schedule}")`);
            }
        }
        if (plone.storage === "relstorage" && s.database && !s.database.host && network && network.azCount < 2) {
            err(["network", "azCount"], "an RDS database needs subnets in at least two availability zones (even without Multi-AZ): set network.azCount to 2 or 3");
        }
        if (plone.storage === "relstorage" && !s.database) {
            errors.push({ path: `${NAMESPACE}:database`, message: "plone.storage relstorage needs a database: add plone-aws:database (an RDS PostgreSQL is created from it)" });
        }
        if (plone.storage === "zeo" && s.database) {
            errors.push({ path: `${NAMESPACE}:database`, message: "a database is only used with plone.storage relstorage: remove plone-aws:database or switch to relstorage" });
        }
    }

    if (network && parseCidr(network.cidr).prefix < 16) err(["network", "cidr"], "VPCs can be /16 to /24: this block is larger than AWS allows");
    if (network && parseCidr(network.cidr).prefix > MAX_VPC_PREFIX) err(["network", "cidr"], `a /${parseCidr(network.cidr).prefix} is too small for 2 x ${network.azCount} subnets: use /16 to /${MAX_VPC_PREFIX}`);

    if (access && network) {
        const externalBastion = access.via === "bastion" && access.bastion.host;
        if (network.adminCidrs.length === 0) {
            err(["network", "adminCidrs"], externalBastion
                ? "list the address of the bastion host (and any admin networks) so the hosts accept its SSH connections"
                : "list the networks operators and `pulumi up` connect from (e.g. 203.0.113.7/32): SSH and the haproxy statistics are open to them only");
        }
        if (network.adminCidrs.includes("0.0.0.0/0")) warn(["network", "adminCidrs"], "0.0.0.0/0 opens SSH to the whole internet");
    }
    if (access && access.via === "publicIp" && (access.bastion.host || access.bastion.user)) {
        err(["access", "bastion"], "a bastion is only used with access.via bastion");
    }

    if (frontend) {
        const names = [frontend.domain, ...frontend.aliases];
        names.forEach((n, i) => {
            if (names.indexOf(n) !== i) err(["frontend", "aliases"], `${n} is listed twice`);
        });
        for (const host of Object.keys(frontend.subsites)) {
            if (names.includes(host)) err(["frontend", "subsites", host], `${host} is already the site's domain or an alias: a sub-site needs a host name of its own`);
        }
        for (const host of Object.keys(frontend.rawSubsiteServer)) {
            if (!names.includes(host) && !(host in frontend.subsites)) err(["frontend", "rawSubsiteServer", host], `${host} is neither the domain, an alias nor a sub-site`);
        }
        if (s.tier === "production" && frontend.tls.mode === "none" && !frontend.tls.plainHttpIntended) {
            warn(["frontend", "tls"], "production without TLS: the site is served over plain HTTP (the production policy refuses this; set frontend.tls, or frontend.tls.plainHttpIntended: true when TLS ends in front of the stack)");
        }
    }

    if (app) {
        const names = new Set<string>();
        app.initCommands.forEach((c, i) => {
            if (names.has(c.name)) err(["app", "initCommands", i, "name"], `"${c.name}" is used twice`);
            names.add(c.name);
            if (GENERATED_PROGRAMS.test(c.name)) err(["app", "initCommands", i, "name"], `"${c.name}" is a program plone-aws generates itself: choose another name`);
        });
        if (app.cacheArchives.some((a) => a.user) && !ctx.secrets.cacheArchivePassword) {
            errors.push({ path: `${NAMESPACE}:cacheArchivePassword`, message: `app.cacheArchives name a user, so the password is needed: ${setSecretCommand("cacheArchivePassword")}` });
        }
        if (ctx.secrets.repositoryToken && !/^https:\/\/[^/@]+@/.test(app.repository)) {
            errors.push({
                path: `${NAMESPACE}:repositoryToken`,
                message: /^https:\/\//.test(app.repository)
                    ? "the token needs a user name in app.repository (https://USER@host/..., e.g. oauth2@ on GitLab or x-access-token@ on GitHub)"
                    : "is only used with an https:// app.repository: remove it (SSH repositories use plone-aws:deployKey)",
            });
        }
        if (/^(git@|ssh:\/\/)/.test(app.repository) && !ctx.secrets.deployKey) {
            errors.push({ path: `${NAMESPACE}:deployKey`, message: `the buildout repository is reached over SSH, so a deploy key is needed: ${setSecretCommand("deployKey")}` });
        }
    }

    if (snapshots?.crossRegionCopy && ctx.region && snapshots.crossRegionCopy.region === ctx.region) {
        err(["snapshots", "crossRegionCopy", "region"], `the copy must go to another region than the stack's own (${ctx.region})`);
    }

    if (s.database && s.database.allocatedStorage > s.database.maxAllocatedStorage) {
        err(["database", "allocatedStorage"], `${s.database.allocatedStorage} GiB is more than database.maxAllocatedStorage (${s.database.maxAllocatedStorage} GiB), which RDS refuses: raise maxAllocatedStorage or lower allocatedStorage`);
    }
    if (s.database && s.tier === "production" && !s.database.multiAz) warn(["database", "multiAz"], "production without Multi-AZ: a failure of the database host stops the site");

    for (const key of ["sshPrivateKey", "haproxyStatsPassword"] as const) {
        if (!ctx.secrets[key]) errors.push({ path: `${NAMESPACE}:${key}`, message: `required (${SECRET_KEYS[key]}): ${setSecretCommand(key)}` });
    }
    if (plone?.storage === "relstorage" && s.database && !ctx.secrets.dbPassword) {
        const what = s.database.host ? `the password of ${s.database.user} on ${s.database.host}` : SECRET_KEYS.dbPassword;
        errors.push({ path: `${NAMESPACE}:dbPassword`, message: `required with RelStorage (${what}): ${setSecretCommand("dbPassword")}` });
    }
    const operations = operationsIssues(s, ctx);
    errors.push(...operations.errors);
    warnings.push(...operations.warnings);
    return { errors, warnings };
}

// Rules that span several keys: which layers need which settings, which layers are singletons,
// what the front door and the network allow. Each rule runs only when the keys it reads parsed,
// so one bad key does not hide the errors of the others.
import { cronFields, LAYERS, SECRET_KEYS, SecretKey, Layer } from "./schema";
import type { ParsedSections } from "./spec";
import { MAX_VPC_PREFIX, parseCidr, planSubnet } from "../topology/addressing";
import { instanceTypeInfo } from "../topology/instanceTypes";
import { frontDoorKind } from "../topology/frontDoor";
import { APP_HOST_LAYERS, layerInfo, singleInstanceLayers } from "../layers";
import { LAYER_RULES, type LayerRuleContext } from "./layerRules";
import { operationsIssues } from "./operationsRules";
import { mailIssues } from "./mailRules";
import { scalingIssues } from "./scalingRules";
import { builderIssues } from "./builderRules";
import { voltoIssues } from "./voltoRules";
import { ConfigIssue, keyPath, NAMESPACE, setSecretCommand } from "./issues";

/** Names supervisor programs get from the stack itself (volto1..N: the Volto processes); app.initCommands must not reuse them. */
const GENERATED_PROGRAMS = /^(client\d+|volto\d+|zeoserver|celery|celerybeat|solr|haproxy-agent)$/;

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
                err(
                    ["hosts", i, "az"],
                    `AZ index ${h.az} is outside the stack's ${network.azCount} AZs (network.azCount): use 0..${network.azCount - 1} or raise network.azCount`,
                );
            }
            const countsClients = h.layers.includes("plone_instances") && plone?.clientCount === undefined;
            if (countsClients && h.vcpus === undefined && !instanceTypeInfo(h.instanceType)) {
                err(
                    ["hosts", i, "instanceType"],
                    `the vCPU count of ${h.instanceType} is not in plone-aws's table, so its client count cannot be derived: set hosts[${i}].vcpus or plone.clientCount`,
                );
            }
            for (const layer of APP_HOST_LAYERS) {
                if (h.layers.includes(layer) && !h.layers.includes("plone_instances")) {
                    err(
                        ["hosts", i, "layers"],
                        `${layer} runs from the buildout of a plone_instances host: add plone_instances to this host or move ${layer} to one`,
                    );
                }
            }
        });
        for (const layer of LAYERS) {
            const { required } = layerInfo(layer);
            if (required && withLayer(layer).length === 0) err(["hosts"], required);
        }

        for (const layer of singleInstanceLayers(plone?.blobs)) {
            const carriers = withLayer(layer);
            const { instances } = layerInfo(layer);
            for (const { i } of carriers.slice(1)) {
                err(
                    ["hosts", i, "layers"],
                    `${layer} is already on ${carriers[0].h.name}: a stack has exactly one ${layer} host${instances.count === "one" && instances.when === "nfs-blobs" ? " with NFS blobs (GlusterFS allows replicas)" : ""}`,
                );
            }
        }

        if (plone) {
            const ctx: LayerRuleContext = { plone, frontend, volto: s.volto, carriers: withLayer, err, warn };
            for (const layer of LAYERS) LAYER_RULES[layer]?.(ctx);
        }

        if (network && access) {
            const frontendCount = withLayer("frontend").length;
            const singleFrontend = frontend ? frontDoorKind({ frontend, hosts }) === "eip" : frontendCount === 1;
            const privateHosts = access.via === "bastion" && hosts.some((h) => !(singleFrontend && h.layers.includes("frontend")));
            if (privateHosts && network.natGateways === "none") {
                err(
                    ["network", "natGateways"],
                    "hosts in private subnets (access.via bastion) need a NAT gateway to fetch packages and code: use single or perAz",
                );
            }
            const perSubnet = new Map<string, number>();
            for (const h of hosts) {
                const tier = access.via === "publicIp" || (singleFrontend && h.layers.includes("frontend")) ? "public" : "private";
                perSubnet.set(`${tier}:${h.az}`, (perSubnet.get(`${tier}:${h.az}`) ?? 0) + 1);
            }
            if (parseCidr(network.cidr).prefix <= MAX_VPC_PREFIX) {
                for (const [key, count] of perSubnet) {
                    const [tier, az] = key.split(":");
                    // An AZ index outside network.azCount has its own error above, and no subnet.
                    if (Number(az) >= network.azCount) continue;
                    const subnet = planSubnet(network.cidr, tier as "public" | "private", Number(az));
                    if (count + 2 > subnet.capacity)
                        err(
                            ["network", "cidr"],
                            `the ${tier} subnet of AZ ${az} (${subnet.cidr}) has room for ${subnet.capacity - 2} hosts, not ${count}: use a larger VPC`,
                        );
                }
            }
        }

        if (frontend) {
            const kind = frontDoorKind({ frontend, hosts });
            const frontendCount = withLayer("frontend").length;
            if (frontend.frontDoor === "eip" && frontendCount > 1)
                err(["frontend", "frontDoor"], `an Elastic IP serves one front end, and ${frontendCount} hosts carry frontend: use alb (or auto)`);
            if (frontend.tls.mode === "acm" && kind !== "alb")
                err(
                    ["frontend", "tls", "mode"],
                    "ACM certificates are served by the load balancer, and this stack has a single front end on an Elastic IP: set frontend.frontDoor to alb, or use tls mode certbot",
                );
            if (frontend.waf && kind !== "alb")
                err(
                    ["frontend", "waf"],
                    "AWS WAF attaches to a load balancer, and this stack has a single front end on an Elastic IP: set frontend.frontDoor to alb, or remove frontend.waf",
                );
            if (frontend.tls.mode === "certbot" && kind !== "eip")
                err(
                    ["frontend", "tls", "mode"],
                    "certbot issues a certificate on the one front end host, but this stack's front door is a load balancer: use tls mode acm with a certificateArn",
                );
        }
    }

    if (plone) {
        if (plone.blobs === "database" && plone.storage !== "relstorage")
            err(["plone", "blobs"], "blobs in the database need plone.storage relstorage; with ZEO use zeo (blobs on the ZEO server) instead");
        if (plone.blobs === "zeo" && plone.storage !== "zeo")
            err(["plone", "blobs"], "zeo blobs are kept by the ZEO server, and plone.storage is relstorage: use database, nfs, gluster or efs");
        if (plone.pack.truncateRefs && !plone.pack.gc) err(["plone", "pack", "truncateRefs"], "clearing the object_ref tables needs plone.pack.gc: true");
        if (plone.storage === "relstorage" && plone.pack.twoStage) {
            const [, , dayOfMonth, , weekday] = cronFields(plone.pack.schedule);
            if (dayOfMonth !== "*" || weekday === "*") {
                err(
                    ["plone", "pack", "schedule"],
                    `a two-stage pack runs the prepack on the scheduled day and the pack the day after: give weekdays and * as day of month, e.g. "0 1 * * 6" (not "${plone.pack.schedule}")`,
                );
            }
        }
        if (plone.storage === "relstorage" && s.database && !s.database.host && network && network.azCount < 2) {
            err(
                ["network", "azCount"],
                "an RDS database needs subnets in at least two availability zones (even without Multi-AZ): set network.azCount to 2 or 3",
            );
        }
        if (plone.storage === "relstorage" && !s.database) {
            errors.push({
                path: `${NAMESPACE}:database`,
                message: "plone.storage relstorage needs a database: add plone-aws:database (an RDS PostgreSQL is created from it)",
            });
        }
        if (plone.storage === "zeo" && s.database) {
            errors.push({
                path: `${NAMESPACE}:database`,
                message: "a database is only used with plone.storage relstorage: remove plone-aws:database or switch to relstorage",
            });
        }
    }

    if (network && parseCidr(network.cidr).prefix < 16) err(["network", "cidr"], "VPCs can be /16 to /24: this block is larger than AWS allows");
    if (network && parseCidr(network.cidr).prefix > MAX_VPC_PREFIX)
        err(["network", "cidr"], `a /${parseCidr(network.cidr).prefix} is too small for 2 x ${network.azCount} subnets: use /16 to /${MAX_VPC_PREFIX}`);

    if (access && network) {
        const externalBastion = access.via === "bastion" && access.bastion.host;
        if (network.adminCidrs.length === 0) {
            err(
                ["network", "adminCidrs"],
                externalBastion
                    ? "list the address of the bastion host (and any admin networks) so the hosts accept its SSH connections"
                    : "list the networks operators and `pulumi up` connect from (e.g. 203.0.113.7/32): SSH and the haproxy statistics are open to them only",
            );
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
            if (names.includes(host))
                err(["frontend", "subsites", host], `${host} is already the site's domain or an alias: a sub-site needs a host name of its own`);
        }
        for (const host of Object.keys(frontend.rawSubsiteServer)) {
            if (!names.includes(host) && !(host in frontend.subsites))
                err(["frontend", "rawSubsiteServer", host], `${host} is neither the domain, an alias nor a sub-site`);
        }
        if (s.tier === "production" && frontend.tls.mode === "none" && !frontend.tls.plainHttpIntended) {
            warn(
                ["frontend", "tls"],
                "production without TLS: the site is served over plain HTTP (the production policy refuses this; set frontend.tls, or frontend.tls.plainHttpIntended: true when TLS ends in front of the stack)",
            );
        }
    }

    if (app) {
        const names = new Set<string>();
        app.initCommands.forEach((c, i) => {
            if (names.has(c.name)) err(["app", "initCommands", i, "name"], `"${c.name}" is used twice`);
            names.add(c.name);
            if (GENERATED_PROGRAMS.test(c.name))
                err(["app", "initCommands", i, "name"], `"${c.name}" is a program plone-aws generates itself: choose another name`);
        });
        if (app.cacheArchives.some((a) => a.user) && !ctx.secrets.cacheArchivePassword) {
            errors.push({
                path: `${NAMESPACE}:cacheArchivePassword`,
                message: `app.cacheArchives name a user, so the password is needed: ${setSecretCommand("cacheArchivePassword")}`,
            });
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
            errors.push({
                path: `${NAMESPACE}:deployKey`,
                message: `the buildout repository is reached over SSH, so a deploy key is needed: ${setSecretCommand("deployKey")}`,
            });
        }
    }

    if (snapshots?.crossRegionCopy && ctx.region && snapshots.crossRegionCopy.region === ctx.region) {
        err(["snapshots", "crossRegionCopy", "region"], `the copy must go to another region than the stack's own (${ctx.region})`);
    }

    if (s.database && s.database.allocatedStorage > s.database.maxAllocatedStorage) {
        err(
            ["database", "allocatedStorage"],
            `${s.database.allocatedStorage} GiB is more than database.maxAllocatedStorage (${s.database.maxAllocatedStorage} GiB), which RDS refuses: raise maxAllocatedStorage or lower allocatedStorage`,
        );
    }
    const replication = s.database?.backupReplication;
    if (s.database && !s.database.host && snapshots && replication?.enabled === true) {
        if (!snapshots.crossRegionCopy)
            err(
                ["database", "backupReplication", "enabled"],
                "the backups are replicated to the region the EBS snapshots are copied to, and none is set: set snapshots.crossRegionCopy.region",
            );
        if (s.database.backupRetentionDays === 0)
            err(
                ["database", "backupReplication", "enabled"],
                "database.backupRetentionDays is 0, so RDS keeps no automated backups to replicate: raise it, or set backupReplication.enabled to false",
            );
    }
    if (s.database?.dump.enabled === true && s.offsiteBackups && !s.offsiteBackups.enabled)
        err(
            ["database", "dump", "enabled"],
            "the dumps go to the off-site bucket, and offsiteBackups.enabled is false: set offsiteBackups.enabled, or set database.dump.enabled to false",
        );
    if (s.database && s.tier === "production" && !s.database.multiAz)
        warn(["database", "multiAz"], "production without Multi-AZ: a failure of the database host stops the site");

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
    const mail = mailIssues(s, ctx);
    errors.push(...mail.errors);
    warnings.push(...mail.warnings);
    errors.push(...builderIssues(s));
    const volto = voltoIssues(s, ctx);
    errors.push(...volto.errors);
    warnings.push(...volto.warnings);
    const scaled = scalingIssues(s);
    errors.push(...scaled.errors);
    warnings.push(...scaled.warnings);
    return { errors, warnings };
}

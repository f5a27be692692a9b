// The machinery of the hostile-configuration property test: full stacks that set every string key
// of the schema (dev and prod with every optional key added), a render of every file and step
// script of every host, and the shapes the test compares (lines per file, haproxy servers,
// supervisor programs, VCL backends, nginx servers).
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import type { LoadResult } from "../../components/config/load";
import { parseStackConfig } from "../../components/stackConfig";
import { SECRET_KEYS, SecretKey } from "../../components/config/schema";
import type { StackSpec } from "../../components/config/spec";
import { RenderContext, RenderedFile, RenderSecrets, secretPlaceholder } from "../../components/render/context";
import { hostFiles, hostStepNames, renderHostStep } from "../../components/render/hostSteps";
import { PATHS } from "../../components/topology/ports";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import { mockVolumeIds } from "../../scripts/render";
import { REPO } from "./stacks";
import { NODE_RELEASE_KEYS } from "../../components/render/volto/nodeReleaseKeys";

export type Raw = Record<string, string>;

/** A stack file's config map as Pulumi passes it (structured values as JSON). */
function repoRaw(stack: string): Record<string, unknown> {
    const text = fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8");
    return (YAML.parse(text) as { config: Record<string, unknown> }).config;
}

/** Real-looking values for every secret (the property test also puts hostile ones in). */
export const SECRET_VALUES: Record<SecretKey, string> = {
    sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nc3NoLWtleQ==\n-----END OPENSSH PRIVATE KEY-----",
    deployKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nZGVwbG95\n-----END OPENSSH PRIVATE KEY-----",
    repositoryToken: "glpat-0123456789abcdef",
    dbPassword: "db-Passw0rd-9f2c1e",
    haproxyStatsPassword: "stats-Passw0rd-77",
    cacheArchivePassword: "archive-Passw0rd",
    newRelicLicenseKey: "0123456789abcdef0123456789abcdef0123NRAL",
    smtpCredentials: "AKIAEXAMPLESMTPUSER0:BExampleSmtpPasswordDerivedFromTheSecretKey0",
};

const merge = (a: unknown, b: unknown): unknown => {
    if (typeof a === "object" && a && !Array.isArray(a) && typeof b === "object" && b && !Array.isArray(b)) {
        const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
        for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
        return out;
    }
    return b;
};

/** Keys every full stack sets besides its own: each string key of the schema gets a value. */
const COMMON_OVERLAY = {
    "plone-aws:app": {
        baseConfig: "cfg/base.cfg",
        buildoutExtends: ["cfg/production.cfg"],
        partsToInclude: ["instance-tools"],
        rawBuildoutConfig: "[instance-tools]\nrecipe = zc.recipe.egg\neggs = Products.PrintingMailHost",
        initCommands: [
            { name: "memmon", cmd: "bin/memmon", args: "-p plone-client1=800MB -m ops@example.org", eventListener: { events: ["TICK_60"] } },
            { name: "worker", cmd: "bin/worker", args: "--queue default --name='night worker'" },
        ],
        environment: { PLONE_ENV: "production", SITE_LABEL: "Plone site" },
        osPackages: ["poppler-utils", "wv"],
        pipPackages: ["zc.buildout==3.0.1", "setuptools<70"],
        cacheArchives: [{ url: "https://cache.example.org/eggs.tgz", path: "shared/eggs", user: "ci-bot" }],
        symlinkBeforeMigrate: { src: "src" },
        purgeBeforeSymlink: ["src"],
        createDirsBeforeSymlink: ["src"],
        python: "python3",
        bootstrapCommand: '"$VENV/bin/pip" install -r requirements.txt && "$VENV/bin/buildout" -c deploy.cfg bootstrap',
        buildCommand: "bin/buildout -c deploy.cfg",
        buildoutFlags: "-N",
        // The pip builder's keys (inactive with builder buildout; pipFullStacks turns them on).
        backendPath: "backend",
        pip: {
            requirements: "requirements.txt",
            constraints: "constraints.txt",
            instanceConfig: "instance.yaml",
            instanceTemplate: "https://github.com/plone/cookiecutter-zope-instance",
            instanceTemplateRevision: "3.1.0",
            tools: ["mxdev==4.1.1", "cookiecutter==2.6.0"],
        },
    },
    "plone-aws:plone": {
        glusterVolume: "blobs",
        maxUnavailable: "50%",
        glusterCacheSize: "256MB",
        pack: { schedule: "0 1 * * 6" },
        backups: { schedule: "0 21 * * *" },
        celery: { enabled: true, brokerHost: "broker.example.internal", workerArgs: "-c 2 --loglevel=info", beatArgs: "--loglevel=info" },
        solr: { enabled: true, host: "solr.example.internal" },
        clientSyslog: { facility: "local1" },
        zeoSyslog: { facility: "local2" },
        tmpfsSize: "1G",
        timezone: "Europe/Berlin",
        warmupPaths: ["/", "/news"],
        healthCheckPath: "/ok",
    },
    "plone-aws:frontend": {
        subsites: { "docs.example.org": "docs" },
        rawSubsiteServer: { "docs.example.org": "location = /robots.txt { return 200 'docs'; }" },
        haproxy: {
            statsUser: "stats",
            connectTimeout: "5s",
            clientTimeout: "300s",
            serverTimeout: "300s",
            queueTimeout: "60s",
            httpRequestTimeout: "10s",
            slowstart: "30s",
        },
        varnish: { purgeUrls: [".*", "^/news"] },
        nginx: {
            clientMaxBodySize: "128m",
            rawHttp: "server {\n    listen 127.0.0.1:8099;\n    return 204;\n}",
            rawServer: "add_header X-Frame-Options SAMEORIGIN;",
            rawSslServer: "add_header X-Ssl yes;",
            rawDefaultServer: "location = /default-only {\n    return 204;\n}",
            rawDefaultSslServer: "location = /default-ssl-only {\n    return 204;\n}",
        },
    },
    "plone-aws:snapshots": {
        tagValue: "plone-full",
        crossRegionCopy: { region: "eu-central-1", kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/0000-1111" },
    },
    "plone-aws:monitoring": {
        alarmEmail: "ops@example.org",
        remoteSyslog: { host: "logs.example.org", port: 6514, permittedPeer: "*.example.org", files: { "/var/log/plone/extra.log": "plone-extra" } },
        newRelic: { infrastructure: true, pythonAgent: true, appName: "Plone site" },
    },
    "plone-aws:offsiteBackups": { restoreFrom: ["prod"] },
    // The Volto frontend (dev: on its one host; prod: on the front ends), every key set.
    "plone-aws:volto": {
        path: "frontend",
        // A mirror that signs its releases with a key of its own (one of Node.js's releasers' here).
        node: {
            version: "22.23.5",
            mirror: "https://nodejs.example.org/dist",
            releaseKeys: NODE_RELEASE_KEYS.split(/(?<=-----END PGP PUBLIC KEY BLOCK-----\n)/)[0],
        },
        npmRegistry: "https://npm.example.org/registry",
        processesPerCpu: 1,
        buildCommand: "pnpm install --frozen-lockfile && pnpm build",
        startCommand: "pnpm start:prod",
        healthPath: "/ok",
        backendPaths: ["/@@overview-controlpanel", "/++resource++plone.app"],
        environment: { RAZZLE_LEGACY_TRAVERSE: "false", SITE_TITLE: "Plone site" },
        startTimeout: 90,
    },
};

export interface FullStack {
    name: string;
    raw: Raw;
}

function rawOf(config: Record<string, unknown>): Raw {
    const raw: Raw = {};
    for (const [k, v] of Object.entries(config)) raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    // The repository token only goes with an https repository that names its user (dev's).
    const https = /^https:\/\/[^/@]+@/.test((config["plone-aws:app"] as { repository: string }).repository);
    for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
        if (key !== "repositoryToken" || https) raw[`plone-aws:${key}`] = SECRET_VALUES[key];
    }
    raw["plone-aws:appSecrets"] = JSON.stringify({ SENTRY_DSN: "https://k3y@sentry.example.org/1" });
    return raw;
}

/** dev, prod and prod with an external database, each with every optional string key set. */
export function fullStacks(): FullStack[] {
    const dev = merge(repoRaw("dev"), {
        ...COMMON_OVERLAY,
        "plone-aws:hosts": [
            {
                name: "dev-1",
                instanceType: "t3.large",
                az: 0,
                layers: ["frontend", "plone_instances", "zeoserver", "celerybeat", "volto"],
                previousNames: ["dev-0"],
                volumeSnapshots: { filestorage: "snap-0123456789abcdef0" },
            },
        ],
        "plone-aws:access": { additionalPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBZ0rK6X1cB6M8pWfhQ0bB7m9m1Zr2xZsMeJ1g3vGk2c next-key"] },
        "plone-aws:app": merge(COMMON_OVERLAY["plone-aws:app"], { repository: "https://ci-bot@github.com/plone/plone-aws-example-buildout.git" }),
        "plone-aws:frontend": merge(COMMON_OVERLAY["plone-aws:frontend"], {
            aliases: ["www.dev.example.org"],
            tls: { mode: "certbot", email: "ops@example.org" },
        }),
        // A fixed count of Volto processes on the one host.
        "plone-aws:volto": merge(COMMON_OVERLAY["plone-aws:volto"], { processCount: 2 }),
        // An existing bucket here; prod keeps the one it creates and replicates it.
        "plone-aws:offsiteBackups": { bucket: "plone-full-backups", restoreFrom: ["prod"] },
        // A development stack may send every mail to a sandbox address (production refuses it).
        // Its own bounce subdomain and relay host (SES still set up: a warning, not an error).
        "plone-aws:mail": {
            senderAddress: "noreply@mail.dev.example.org",
            senderName: "Dev site",
            domain: "dev.example.org",
            mailFromSubdomain: "bounce-dev",
            relay: { host: "smtp.dev.example.org" },
            redirectTo: "qa@example.org",
        },
    }) as Record<string, unknown>;
    const prodBase = repoRaw("prod");
    const prodHosts = (prodBase["plone-aws:hosts"] as { name: string; layers: string[] }[]).map((h) =>
        h.name === "app-1" ? { ...h, layers: [...h.layers, "celerybeat"] } : h.layers.includes("frontend") ? { ...h, layers: [...h.layers, "volto"] } : h,
    );
    const prod = merge(prodBase, {
        ...COMMON_OVERLAY,
        "plone-aws:hosts": prodHosts,
        "plone-aws:plone": merge(COMMON_OVERLAY["plone-aws:plone"], {
            relstorage: {
                config: "cfg/relstorage.cfg",
                cacheLocalDir: "/srv/relstorage-cache",
                blobCacheSize: "2gb",
                cacheServers: ["cache.example.internal:11211"],
            },
        }),
        "plone-aws:frontend": merge(COMMON_OVERLAY["plone-aws:frontend"], { tls: { sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" } }),
        "plone-aws:database": merge(prodBase["plone-aws:database"], {
            name: "plone",
            user: "plone",
            engineVersion: "16",
            backupWindow: "02:00-03:00",
            maintenanceWindow: "sun:03:30-sun:04:30",
            backupReplication: { kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/2222-3333" },
            dump: { schedule: "30 19 * * *" },
        }),
        "plone-aws:access": merge(prodBase["plone-aws:access"], { bastion: { user: "admin" } }),
        // The frontend from a repository of its own, at a revision of its own.
        "plone-aws:volto": merge(COMMON_OVERLAY["plone-aws:volto"], { repository: "git@github.com:example-org/plone-frontend.git", revision: "v2.0.0" }),
        // An Auto Scaling group of app hosts with every key set.
        "plone-aws:scaling": {
            groups: [
                {
                    name: "app-auto",
                    layers: ["plone_instances"],
                    instanceTypes: ["c6i.xlarge", "m6i.xlarge"],
                    vcpus: 4,
                    rootVolumeSize: 30,
                    min: 1,
                    max: 6,
                    desired: 2,
                    healthCheckGracePeriod: 900,
                    schedules: [{ name: "office-hours", recurrence: "0 8 * * 1-5", timeZone: "Etc/GMT-1", min: 2, max: 6, desired: 3 }],
                    targetCpu: { averageCpu: 60, disableScaleIn: false },
                    steps: [{ metric: "memory", scaleOutAbove: 85, scaleInBelow: 40, adjustment: 1, evaluationMinutes: 5 }],
                    cooldowns: { scaleOut: 300, scaleIn: 600, warmup: 300 },
                    drainTimeout: 300,
                },
            ],
        },
    }) as Record<string, unknown>;
    prod["plone-aws:frontend"] = { ...(prod["plone-aws:frontend"] as object) };
    const external = merge(prod, {
        "plone-aws:database": { host: "db.example.internal", port: 5432 },
        "plone-aws:access": { bastion: { host: "bastion.example.org" } },
        // A relay of the operator's own instead of SES.
        "plone-aws:mail": { ses: false, relay: { host: "smtp.example.internal", port: 587 } },
    }) as Record<string, unknown>;
    // Volto on hosts of its own here (the front ends' haproxy serves them the REST API on the private address).
    external["plone-aws:hosts"] = [
        ...prodHosts.map((h) => ({ ...h, layers: h.layers.filter((l) => l !== "volto") })),
        { name: "volto-1", instanceType: "c6i.large", az: 0, layers: ["volto"] },
        { name: "volto-2", instanceType: "c6i.large", az: 1, layers: ["volto"] },
    ];
    return [
        { name: "dev", raw: rawOf(dev) },
        { name: "prod", raw: rawOf(prod) },
        { name: "prod-external-db", raw: rawOf(external) },
    ];
}

/** Sections of a configuration as objects (structured values parsed). */
export type Sections = Record<string, Record<string, unknown>>;

/**
 * The configuration sections of a full stack made acceptable to the pip builder: without what only a
 * buildout builds (components/config/builderRules.ts); the builder itself is left as it is.
 */
export function pipReady(s: Sections): void {
    for (const key of ["rawBuildoutConfig", "buildoutExtends", "partsToInclude", "cacheArchives", "pipPackages"]) delete s.app[key];
    s.plone.celery = { enabled: false };
    s.plone.solr = { enabled: false };
    s.plone.backups = { ...(s.plone.backups as object), enabled: false };
    s.plone.pack = { ...(s.plone.pack as object), enabled: false };
    s.plone.relstorage = { ...(s.plone.relstorage as object), cacheServers: [] };
    if (s.scaling) s.scaling = { groups: [] };
    const hosts = (s.hosts as unknown as { layers: string[] }[])
        .map((h) => ({ ...h, layers: h.layers.filter((l) => !["celerybeat", "redis", "memcached", "solr"].includes(l)) }))
        .filter((h) => h.layers.length > 0);
    s.hosts = hosts as unknown as Record<string, unknown>;
}

/** The full stacks built with the pip builder (a cookieplone project's backend folder, every pip key set). */
export function pipFullStacks(): FullStack[] {
    return fullStacks().map(({ name, raw }) => {
        const sections: Sections = {};
        for (const [k, v] of Object.entries(raw)) if (k.startsWith("plone-aws:") && /^[[{]/.test(v)) sections[k.slice(10)] = JSON.parse(v);
        pipReady(sections);
        sections.app = { ...sections.app, builder: "pip" };
        const pipRaw = { ...raw, ...Object.fromEntries(Object.entries(sections).map(([k, v]) => [`plone-aws:${k}`, JSON.stringify(v)])) };
        return { name: `${name}-pip`, raw: pipRaw };
    });
}

export function validate(raw: Raw, stackName: string): LoadResult {
    return parseStackConfig(raw, { stackName });
}

/** The secrets a render gets: the raw values, as `pulumi up` would pass them. */
export function secretsOf(raw: Raw, spec: StackSpec): RenderSecrets {
    const value = (k: SecretKey) => (spec.secrets[k] ? raw[`plone-aws:${k}`] : undefined);
    const appSecrets = spec.appSecretNames.length ? (JSON.parse(raw["plone-aws:appSecrets"]) as Record<string, string>) : {};
    return {
        haproxyStatsPassword: value("haproxyStatsPassword") ?? secretPlaceholder("plone-aws:haproxyStatsPassword"),
        dbPassword: spec.plone.storage === "relstorage" ? value("dbPassword") : undefined,
        deployKey: value("deployKey"),
        cacheArchivePassword: value("cacheArchivePassword"),
        newRelicLicenseKey: value("newRelicLicenseKey"),
        repositoryToken: value("repositoryToken"),
        smtpCredentials: value("smtpCredentials"),
        appSecrets: Object.fromEntries(spec.appSecretNames.map((n) => [n, appSecrets[n]])),
    };
}

export interface RenderedStack {
    /** "<host> <path>" -> the file; step scripts are "<host> step:<name>". */
    files: Map<string, RenderedFile>;
    /** What they were rendered with. */
    ctx: RenderContext;
}

/** The context renderEverything renders with. */
export function renderContextOf(spec: StackSpec, secrets: RenderSecrets): RenderContext {
    return { ...offlineRenderContext(spec), secrets };
}

/**
 * Every file of every host, then every host's step scripts, one at a time, keyed as
 * renderEverything keys them. A caller that stops at the first file that differs from another
 * render skips the rest; the step scripts come last because they cost most (the configure step
 * embeds every file of its host).
 */
export function* renderEachFile(ctx: RenderContext): Generator<[string, RenderedFile]> {
    for (const host of ctx.topology.hosts) for (const f of hostFiles(ctx, host)) yield [`${host.name} ${f.path}`, f];
    for (const host of ctx.topology.hosts) {
        for (const step of hostStepNames(host)) {
            if (step === "ready") continue;
            const content = renderHostStep(ctx, host, step, mockVolumeIds(ctx.spec, ctx, host.name));
            yield [`${host.name} step:${step}`, { path: `step:${step}`, content, mode: "0700", owner: "root", group: "root" }];
        }
    }
}

/** Every file and step script of every host, as `pulumi up` would install and run them. */
export function renderEverything(spec: StackSpec, secrets: RenderSecrets): RenderedStack {
    const ctx = renderContextOf(spec, secrets);
    return { files: new Map(renderEachFile(ctx)), ctx };
}

/** What a value may never change in a file: its lines, and the entities its daemon serves. */
export function shapeOf(file: RenderedFile): Record<string, unknown> {
    // The redaction list holds each line of each secret on a line of its own, by design (render/host/redaction.ts).
    if (file.path === PATHS.redactList) return { redactionList: true, mode: file.mode };
    const lines = file.content.split("\n");
    const shape: Record<string, unknown> = { lines: lines.length };
    const matching = (re: RegExp) => lines.map((l) => re.exec(l)?.[1]).filter((m): m is string => m !== undefined);
    if (file.path.endsWith("haproxy.cfg")) shape.servers = matching(/^\s*server\s+(\S+)/);
    if (file.path.startsWith("/etc/supervisor/")) shape.programs = matching(/^\[([^\]]+)\]/);
    if (file.path.endsWith(".vcl")) shape.backends = matching(/^backend\s+(\S+)/);
    if (file.path.includes("/nginx/")) {
        shape.servers = lines.filter((l) => /^\s*server\s*\{/.test(l)).length;
        shape.serverNames = matching(/^\s*server_name\s+(.*);/);
        shape.locations = matching(/^\s*location\s+(.*)\{/).length;
    }
    if (file.path.endsWith(".cfg") || file.path.endsWith(".ini")) shape.sections = matching(/^\[([^\]]+)\]/);
    // The pip builder's instance configuration: the keys of each context, and the instances.
    if (file.path.endsWith("/instance.yaml")) shape.yamlKeys = keyPaths(YAML.parse(file.content));
    if (file.path.endsWith("/zeo.conf")) shape.sections = matching(/^\s*<\/?([a-z]+)/);
    return shape;
}

/** Every key path of a parsed YAML mapping (a.b.c), sorted. */
function keyPaths(node: unknown, prefix = ""): string[] {
    if (!node || typeof node !== "object" || Array.isArray(node)) return [prefix];
    return Object.entries(node as Record<string, unknown>)
        .flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k))
        .sort();
}

/** Files a raw key may change: the ones its daemon validates (nginx, buildout), and the step scripts that install them. */
export function rawMayChange(leafName: string, key: string): boolean {
    if (key.includes(" step:")) return true;
    if (leafName.includes("nginx.raw") || leafName.includes("rawSubsiteServer")) return key.includes("/nginx/");
    if (leafName.includes("rawBuildoutConfig")) return key.endsWith("/deploy.cfg");
    return false;
}

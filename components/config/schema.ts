// The stack configuration schema: every `plone-aws:*` key of a `Pulumi.<stack>.yaml`, with its
// default. This module is the one place defaults live; the topology and the renderers read the
// parsed values and never invent their own.
import { z } from "zod";
import * as kind from "./kinds";
import { MAX_CLIENTS_PER_HOST, MAX_VOLTO_PER_HOST, PORTS } from "../topology/ports";

/** The OpsWorks layers, under the names the cookbook's users know. */
export const LAYERS = ["frontend", "plone_instances", "zeoserver", "shared_blobs", "memcached", "solr", "redis", "celerybeat", "db_packing", "volto"] as const;
export type Layer = (typeof LAYERS)[number];

/** Kinds of EBS data volume a host can carry, each tied to the layer that needs it. */
export const VOLUME_KINDS = ["filestorage", "blobs", "backups", "exports", "bricks", "solr", "redis"] as const;
export type VolumeKind = (typeof VOLUME_KINDS)[number];

export const TIERS = ["development", "staging", "production"] as const;
export type Tier = (typeof TIERS)[number];

export const BLOB_MODES = ["local", "zeo", "nfs", "gluster", "efs", "database"] as const;
export type BlobMode = (typeof BLOB_MODES)[number];

/**
 * Secrets are top-level keys of their own so that `pulumi config set --secret plone-aws:<key>` works
 * and the structured keys stay readable and diffable in review.
 */
export const SECRET_KEYS = {
    sshPrivateKey: "the private half of access.publicKey, used by `pulumi up` to provision the hosts over SSH",
    deployKey: "an SSH key with read access to the buildout repository (and its submodules / mr.developer sources)",
    repositoryToken:
        "the password or access token of an https:// app.repository (its user name stays in the URL, e.g. https://oauth2@gitlab.com/...); git reads it from a 0600 credential file during the build",
    dbPassword: "the RDS master password, also written into deploy.cfg for RelStorage",
    haproxyStatsPassword: "the password of the haproxy statistics page",
    cacheArchivePassword: "the HTTP basic-auth password of app.cacheArchives entries that name a user",
    newRelicLicenseKey: "the New Relic license key (monitoring.newRelic): in newrelic-infra.yml and the Python agent's newrelic.ini, files of mode 0600/0640",
    smtpCredentials:
        "the mail relay's SMTP user and password as USER:PASSWORD (Amazon SES: the access key id of the stack's SMTP user and the password derived from its secret key, see docs/operations.md); in the relay's 0600 password file",
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

/** plone.maxUnavailable as text: a share of the clients, or a count per app host (a plain count is a number). */
export const MAX_UNAVAILABLE_PATTERN = /^(?:(100|[1-9][0-9]?)%|([1-9][0-9]{0,2}) per host)$/;
const MAX_UNAVAILABLE_FORMS = 'a count of clients of at least 1 (2), a share of them from 1% to 100% ("25%"), or a count per app host ("1 per host")';

const hostName = kind.name(/^[a-z][a-z0-9-]{0,28}[a-z0-9]$/, "2-30 characters: lower-case letters, digits and '-', starting with a letter");

const instanceType = kind.format(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "an EC2 instance type such as t3.medium", 64);

const cron = kind.format(
    /^(@(daily|weekly|monthly|hourly)|([0-9A-Za-z*/,-]+ +){4}[0-9A-Za-z*/,-]+)$/,
    "a cron schedule with five fields (minute hour day month weekday, each of digits, names, '*', '/', ',', '-') or @daily/@weekly/@monthly/@hourly",
    128,
);

const CRON_MACROS: Record<string, string> = { "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *" };

/** The five fields (minute hour day-of-month month weekday) of a cron schedule, macros expanded. */
export function cronFields(schedule: string): string[] {
    return (CRON_MACROS[schedule] ?? schedule).trim().split(/\s+/);
}

const relativePath = kind.relativePath();

const envName = kind.name(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "an environment variable name (letters, digits and '_', not starting with a digit)");

const cidr = kind.format(/^[0-9./]+$/, "an IPv4 CIDR block such as 10.0.0.0/16 (no bits set past the prefix)", 18, (v) => isCidr(v));

/** A server outside the stack: host:port. */
const hostPort = kind.format(
    /^[A-Za-z0-9.-]{1,253}:\d{1,5}$/,
    "host:port with a DNS name or IPv4 address and a port 1-65535, such as cache.example.internal:11211",
    260,
    (v) => {
        const [host, port] = v.split(":");
        return kind.isHostAddress(host) && Number(port) >= 1 && Number(port) <= 65535;
    },
);

const duration = kind.format(/^\d{1,9}(ms|s|m)$/, "a duration such as 5s, 300ms or 2m", 16);

/** An OpenSSH public key line: type, key, an optional comment of printable characters. */
const sshPublicKey = kind.format(
    /^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}( [\x20-\x7e]{0,255})?$/,
    "an OpenSSH public key line (type, key and an optional comment)",
    16384,
);

const unixUser = kind.name(/^[a-z_][a-z0-9_-]{0,31}$/, "a Unix user name (lower-case letters, digits, '_', '-')");

/** A Pulumi stack name. */
const stackName = kind.name(/^[A-Za-z0-9_.-]{1,100}$/, "a stack name (letters, digits, '_', '.', '-')");

/** A pip requirement specifier: name, extras, version clauses; never an option such as --index-url. */
const PIP_REQUIREMENT =
    /^[A-Za-z0-9]([A-Za-z0-9._-]{0,127})(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?((===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]{1,64}(,(===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]{1,64})*)?$/;

/** True when `value` is an IPv4 CIDR block whose address has no bits set past the prefix. */
export function isCidr(value: string): boolean {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
    if (!m) return false;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return false;
    const address = octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - prefix);
    return address % size === 0;
}

/** One host: an EC2 instance carrying one or more layers, as an OpsWorks instance did. */
const host = z
    .object({
        name: hostName,
        instanceType,
        /** Index into the stack's availability zones (0 = the first). */
        az: z.number().int().min(0).default(0),
        layers: z
            .array(z.enum(LAYERS))
            .min(1, "a host needs at least one layer")
            .refine((ls) => new Set(ls).size === ls.length, "lists a layer twice"),
        /** vCPUs, for instance types the built-in table does not know. */
        vcpus: z.number().int().min(1).max(448).optional(),
        /** Size overrides in GiB for this host's data volumes, by kind. */
        volumes: z.partialRecord(z.enum(VOLUME_KINDS), z.number().int().min(1).max(16384)).prefault({}),
        rootVolumeSize: z.number().int().min(8).max(1024).default(20),
        /** Names this host had before: a rename keeps its instance, volumes and steps (Pulumi aliases). */
        previousNames: z.array(hostName).default([]),
        /** EBS snapshots (snap-...) to create this host's data volumes from, by kind: moving a host to another AZ, restoring. */
        volumeSnapshots: z
            .partialRecord(z.enum(VOLUME_KINDS), kind.format(/^snap-[0-9a-f]{8,17}$/, "an EBS snapshot id such as snap-0123456789abcdef0", 22))
            .prefault({}),
    })
    .strict();

const initCommand = z
    .object({
        name: kind.name(/^[a-z][a-z0-9_-]{0,62}$/, "a supervisor program name (lower-case letters, digits, '_' and '-')"),
        cmd: relativePath,
        /** Arguments of cmd: plain words (quotes and shell syntax are refused, as supervisor does not read them as bash would). */
        args: kind.shellWords().default(""),
        /** Seconds to wait before restarting it during a rolling restart. */
        delay: z.number().int().min(0).default(0),
        /** Supervisor event listener (e.g. superlance memmon) instead of a program. */
        eventListener: z
            .object({ events: z.array(kind.name(/^[A-Z][A-Z_0-9]{0,63}$/, "a supervisor event type such as TICK_60")).min(1) })
            .strict()
            .optional(),
    })
    .strict();

const cacheArchive = z
    .object({
        url: kind.url(["https", "http"], "the password of a user is plone-aws:cacheArchivePassword, and user names go in user"),
        /** Where to unpack it, relative to the app's deploy directory (e.g. shared/eggs). */
        path: relativePath,
        /** HTTP basic-auth user; the password is the secret plone-aws:cacheArchivePassword. */
        user: kind.name(/^[A-Za-z0-9._@+-]{1,128}$/, "a user name of letters, digits and '.', '_', '@', '+', '-' (no ':')").optional(),
        /** Delete the directory and unpack again on every deploy. */
        purge: z.boolean().default(false),
    })
    .strict();

/** How an app is built: buildout (the cookbook's world), or pip (Plone 6 as it is built today). */
export const BUILDERS = ["buildout", "pip"] as const;
export type Builder = (typeof BUILDERS)[number];

/** A pip requirement specifier of a tool the build installs (no options). */
const pipRequirement = kind.format(
    PIP_REQUIREMENT,
    "a pip requirement such as zc.buildout==3.0.1 or setuptools<70 (a name with optional extras and version specifiers, no options)",
    256,
);

/**
 * The pip builder (app.builder pip): each release is a fresh virtual environment in the release,
 * built from the project's requirements and constraints (through mxdev when the project has an
 * mx.ini), and each Zope client's instance configuration is generated by cookiecutter-zope-instance
 * from the project's instance.yaml plus what the stack knows (render/app/instanceConfig.ts).
 */
const pipBuild = z
    .object({
        /** The requirements file, relative to the backend folder (used when the project has no mx.ini). */
        requirements: relativePath.default("requirements.txt"),
        /** The constraints file, relative to the backend folder: added with -c when the project has it. */
        constraints: relativePath.default("constraints.txt"),
        /** The project's cookiecutter-zope-instance configuration, relative to the backend folder. */
        instanceConfig: relativePath.default("instance.yaml"),
        /** The cookiecutter template that generates zope.conf, zope.ini and site.zcml. */
        instanceTemplate: kind
            .gitUrl("a template needs no password: use a public repository or a file:// path")
            .default("https://github.com/plone/cookiecutter-zope-instance"),
        /** Its branch, tag or commit (cookiecutter --checkout): pin it so that a release builds the same files. */
        instanceTemplateRevision: kind.gitRevision().default("3.1.0"),
        /** The build's own tools, installed into each release's environment before the project's requirements. */
        tools: z.array(pipRequirement).default(["mxdev", "cookiecutter"]),
    })
    .strict();

/** A Node.js release as nodejs.org names it: major.minor.patch. */
const nodeVersion = kind.format(/^\d{1,3}\.\d{1,3}\.\d{1,3}$/, "a Node.js release such as 22.23.5 (major.minor.patch)", 16);

/** A URL path prefix nginx sends to the backend instead of Volto: /@@name, /folder/@@name, /++resource++x. */
const backendPathPrefix = kind.format(
    /^\/[A-Za-z0-9@+._~-][A-Za-z0-9@+._~/-]{0,254}$/,
    "a URL path prefix such as /@@overview-controlpanel or /++resource++plone.app (letters, digits and '@', '+', '.', '_', '~', '-', '/')",
    256,
    (v) => !v.split("/").some((s) => s === "." || s === ".."),
);

/**
 * The Volto frontend (hosts carrying the volto layer): Node's server-side rendering, built once per
 * revision in its own release folder, N processes per host under supervisor behind haproxy. nginx
 * sends /++api++ (and backendPaths) to the backend, everything else to Volto.
 */
export const voltoSchema = z
    .object({
        /** The Volto project's folder in app.repository (a cookieplone project's frontend). */
        path: relativePath.default("frontend"),
        /** Its own repository, when the frontend is not in app.repository (then app.deployKey / repositoryToken apply too). */
        repository: kind
            .gitUrl(
                "the password or token of an https repository is the secret plone-aws:repositoryToken (pulumi config set --secret plone-aws:repositoryToken)",
            )
            .optional(),
        /** Branch, tag or commit of volto.repository; app.revision when the frontend lives in app.repository. */
        revision: kind.gitRevision().optional(),
        node: z
            .object({
                /** The Node.js release the hosts install (an LTS that the project's Volto supports: Volto 18 runs on 20 and 22). */
                version: nodeVersion.default("22.23.5"),
                /**
                 * Where the hosts download it: a nodejs.org/dist layout (v<version>/node-v<version>-linux-<arch>.tar.xz
                 * and its SHASUMS256.txt, checked before unpacking). A mirror of your own works the same.
                 */
                mirror: kind
                    .url(["https", "http"], "a Node.js mirror needs no password: use a public or VPC-internal mirror")
                    .default("https://nodejs.org/dist"),
                /**
                 * The OpenPGP keys SHASUMS256.txt.sig must be signed with (ASCII armor, several blocks may
                 * follow each other): unset, Node.js's active releasers' keys (components/render/volto/nodeReleaseKeys.ts).
                 * Set it for a release signed by a releaser no longer active, or a mirror that signs its own.
                 */
                releaseKeys: kind.openpgpKeys().optional(),
            })
            .strict()
            .prefault({}),
        /** The npm registry pnpm (through corepack) and the build install from. */
        npmRegistry: kind
            .url(["https", "http"], "a registry token is not supported: use a public or VPC-internal registry")
            .default("https://registry.npmjs.org"),
        /** Volto SSR processes per vCPU on each volto host (Node renders on one core). */
        processesPerCpu: z.number().positive().max(8).default(1),
        /** A fixed count per volto host, instead of processesPerCpu. */
        processCount: z.number().int().min(1).max(MAX_VOLTO_PER_HOST).optional(),
        /** The build, run in the frontend folder of a new release (pnpm comes from corepack, at the project's packageManager version). */
        buildCommand: kind.shellCommand().default("pnpm install --frozen-lockfile && pnpm build"),
        /** What each process runs, from the frontend folder, with PORT, RAZZLE_API_PATH and RAZZLE_INTERNAL_API_PATH set. */
        startCommand: kind.shellCommand().default("pnpm start:prod"),
        /** haproxy's health check of a process: a path that answers 200 without the backend (Volto's /ok). */
        healthPath: kind.urlPath().default("/ok"),
        /** Classic views and resources nginx sends to the backend besides /++api++ (path prefixes). */
        backendPaths: z.array(backendPathPrefix).max(50).default([]),
        /** Environment of the build and the processes (RAZZLE_*, VOLTO_*, ...); the stack sets the API paths and PORT. */
        environment: z.record(envName, kind.envValue()).default({}),
        /** Seconds a process may take to answer its health check after a restart before the rolling restart stops. */
        startTimeout: z.number().int().min(5).max(600).default(60),
    })
    .strict();

export const appSchema = z
    .object({
        /**
         * buildout: the app's buildout (deploy.cfg, bin/clientN). pip: a Plone 6 backend installed
         * with pip into a fresh virtual environment per release, clients under runwsgi (app.pip).
         */
        builder: z.enum(BUILDERS).default("buildout"),
        /** The folder of the repository that holds the backend (a cookieplone project's backend); unset: the repository's root. pip only. */
        backendPath: relativePath.optional(),
        pip: pipBuild.prefault({}),
        /** App short name: the deploy directory /srv/www/<name> and the supervisor program prefix. */
        name: kind.name(/^[a-z][a-z0-9_]{0,30}$/, "lower-case letters, digits and '_', starting with a letter (at most 31)").default("plone"),
        /**
         * The buildout repository (git URL). git:// is git's own read-only protocol (a git daemon, as
         * the rehearsal serves its fixture buildout): unauthenticated and unencrypted, for private
         * networks only.
         */
        repository: kind.gitUrl(
            "the password or token of an https repository is the secret plone-aws:repositoryToken (pulumi config set --secret plone-aws:repositoryToken)",
        ),
        /** Branch, tag or commit to deploy. */
        revision: kind.gitRevision().default("main"),
        /** First `extends` entry of deploy.cfg (the cookbook's plone_instances.base_config). */
        baseConfig: relativePath.default("cfg/base.cfg"),
        /** Extra `extends` entries after the base (and RelStorage) config. */
        buildoutExtends: z.array(relativePath).default([]),
        /** Extra buildout parts after the generated ones. */
        partsToInclude: z.array(kind.name(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "a buildout part name (letters, digits, '_', '.', '-')")).default([]),
        /** `parts +=` (true) or `parts =` (false) in deploy.cfg. */
        inheritParts: z.boolean().default(true),
        /**
         * Raw buildout text appended to deploy.cfg (the cookbook's additional_config). It may override
         * any generated option; buildout reads it in the build step, and a build that fails leaves the
         * running release alone.
         */
        rawBuildoutConfig: kind.raw().default(""),
        /** Extra supervisor programs and event listeners (e.g. memmon). */
        initCommands: z.array(initCommand).default([]),
        /** Environment of the clients, the build and the supervisor programs. */
        environment: z.record(envName, kind.envValue()).default({}),
        /** apt packages the buildout needs beyond the built-in list. */
        osPackages: z.array(kind.name(/^[a-z0-9][a-z0-9+.-]{0,127}(=[A-Za-z0-9.+:~-]{1,128})?$/, "a Debian package name, optionally =version")).default([]),
        /** pip packages installed into the app's virtualenv before bootstrap: requirement specifiers such as zc.buildout==3.0.1 (no options). */
        pipPackages: z
            .array(
                kind.format(
                    PIP_REQUIREMENT,
                    "a pip requirement such as zc.buildout==3.0.1 or setuptools<70 (a name with optional extras and version specifiers, no options)",
                    256,
                ),
            )
            .default([]),
        /** Tarballs (eggs, downloads) unpacked before the first build. */
        cacheArchives: z.array(cacheArchive).default([]),
        /** Run the build on every deploy, even when neither the revision nor deploy.cfg changed. */
        alwaysBuildOnDeploy: z.boolean().default(false),
        /** Extra shared -> release links, e.g. { src: src } for mr.developer checkouts. */
        symlinkBeforeMigrate: z.record(relativePath, relativePath).default({}),
        /** Release directories removed before linking (e.g. src). */
        purgeBeforeSymlink: z.array(relativePath).default([]),
        /** Directories created under shared/ before linking. */
        createDirsBeforeSymlink: z.array(relativePath).default([]),
        /** Releases kept on each host (the newest first). */
        keepReleases: z.number().int().min(2).max(50).default(5),
        /** UID and GID of the deploy user, the same on every host so NFS and Gluster ownership match. */
        deployUserUid: z.number().int().min(1000).max(60000).default(4000),
        /** Python used for the app's virtualenv. */
        python: kind.name(/^python3(\.\d{1,2})?$/, "python3 or python3.N").default("python3"),
        /** Run once per release in the release directory; $VENV is the app's virtualenv (shared/env). */
        bootstrapCommand: kind.shellCommand().default('"$VENV/bin/pip" install -r requirements.txt && "$VENV/bin/buildout" -c deploy.cfg bootstrap'),
        /** The build, run in the new release directory. */
        buildCommand: kind.shellCommand().default("bin/buildout -c deploy.cfg"),
        /** Extra flags for the build (the cookbook's buildout_flags, e.g. -N). */
        buildoutFlags: kind.shellWords().default(""),
    })
    .strict();

const relstorage = z
    .object({
        /** Second `extends` entry when RelStorage is used. */
        config: relativePath.default("cfg/relstorage.cfg"),
        keepHistory: z.boolean().default(true),
        /** RelStorage's in-process cache per client, in MB. */
        cacheLocalMb: z.number().int().min(0).default(512),
        /** Persistent local cache directory (fast warm restarts). */
        cacheLocalDir: kind.absolutePath().optional(),
        /** Blob cache on each client when blobs are kept in the database. */
        blobCacheSize: kind.format(/^\d{1,9}(kb|mb|gb)$/i, "a size such as 1gb or 500mb", 16).default("1gb"),
        /** Remote memcached servers (host:port), e.g. ElastiCache; the memcached layer adds its hosts. */
        cacheServers: z.array(hostPort).default([]),
    })
    .strict();

const pack = z
    .object({
        /** zeopack on the ZEO server, or zodbpack on the db_packing host. */
        enabled: z.boolean().default(true),
        days: z.number().int().min(0).default(7),
        schedule: cron.default("0 1 * * 0"),
        /** RelStorage: prepack and pack on consecutive days. */
        twoStage: z.boolean().default(false),
        /** RelStorage: garbage-collect while packing. */
        gc: z.boolean().default(true),
        /** RelStorage: clear the object_ref tables after packing (needs gc). */
        truncateRefs: z.boolean().default(false),
    })
    .strict();

const backups = z
    .object({
        /** repozo (collective.recipe.backup) on the ZEO server. */
        enabled: z.boolean().default(true),
        schedule: cron.default("0 21 * * *"),
        /** Full backups kept (collective.recipe.backup `keep`). */
        keep: z.number().int().min(1).default(2),
        keepBlobDays: z.number().int().min(1).default(14),
    })
    .strict();

const syslog = z
    .object({
        facility: kind.name(/^local[0-7]$/, "local0 .. local7").optional(),
        level: z.enum(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]).default("INFO"),
    })
    .strict();

export const ploneSchema = z
    .object({
        /** Zope path of the Plone site, used in the virtual-hosting rewrite. */
        siteId: kind.name(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/, "a Zope id of letters, digits, '_', '.', '-', not starting with '.'").default("Plone"),
        /** Zope clients per vCPU on each plone_instances host. */
        clientsPerCpu: z.number().positive().max(16).default(2),
        /** A fixed client count per plone_instances host, instead of clientsPerCpu. */
        clientCount: z.number().int().min(1).max(MAX_CLIENTS_PER_HOST).optional(),
        /** Worker threads per client; haproxy sends each client at most this many requests at once. */
        zserverThreads: z.number().int().min(1).max(16).default(2),
        zodbCacheSize: z.number().int().min(1000).optional(),
        /** ZEO client persistent cache (zeo-client-client). */
        persistentCache: z.boolean().default(true),
        /** Seconds between client restarts in a rolling restart. */
        restartDelay: z.number().int().min(0).max(3600).default(0),
        /**
         * Rolling restarts (deploy, rollback, `ops restart`): how many Zope clients of the whole stack
         * may be out of rotation at the same moment. A count (`2`), a share of the stack's clients
         * (`"25%"`, rounded down, at least one), or a count per app host (`"1 per host"`: the app
         * hosts restart side by side, each one client at a time). Never all clients of a stack that
         * has more than one; the topology turns it into waves of hosts (components/topology/restarts.ts).
         */
        maxUnavailable: z
            .union(
                [
                    z.number().int(`must be ${MAX_UNAVAILABLE_FORMS}`).min(1, `must be ${MAX_UNAVAILABLE_FORMS}`),
                    kind.format(MAX_UNAVAILABLE_PATTERN, MAX_UNAVAILABLE_FORMS, 32),
                ],
                { error: `must be ${MAX_UNAVAILABLE_FORMS}` },
            )
            .default("1 per host"),
        /** haproxy cookie stickiness. */
        stickySessions: z.boolean().default(false),
        storage: z.enum(["zeo", "relstorage"]).default("zeo"),
        blobs: z.enum(BLOB_MODES).default("local"),
        /** GlusterFS volume name. */
        glusterVolume: kind.name(/^[A-Za-z0-9_-]{1,64}$/, "a GlusterFS volume name (letters, digits, '_', '-')").default("blobs"),
        /** GlusterFS performance.cache-size of the blob volume (read cache per client), as the cookbook set it. */
        glusterCacheSize: kind.format(/^\d{1,9}(KB|MB|GB)$/, "a size such as 256MB", 16).default("256MB"),
        relstorage: relstorage.prefault({}),
        pack: pack.prefault({}),
        backups: backups.prefault({}),
        celery: z
            .object({
                enabled: z.boolean().default(false),
                /** Extra arguments of `celery worker`: plain words. */
                workerArgs: kind.shellWords().default(""),
                /** Extra arguments of `celery beat`: plain words. */
                beatArgs: kind.shellWords().default(""),
                /** An external broker (e.g. ElastiCache); otherwise the redis layer's host. */
                brokerHost: kind.hostAddress().optional(),
                brokerPort: z.number().int().min(1).max(65535).default(6379),
            })
            .strict()
            .prefault({}),
        /** The memcached layer's daemon (RelStorage's shared cache); OpsWorks' built-in memcached layer had these two. */
        memcached: z
            .object({
                /** Cache memory in MB (memcached -m; OpsWorks' memcached.memory). Leave room for the host's own use. */
                memoryMb: z.number().int().min(16).max(1048576).default(512),
                /** Simultaneous connections (memcached -c; OpsWorks' memcached.max_connections): every Zope client holds a few. */
                maxConnections: z.number().int().min(16).max(1048576).default(4096),
            })
            .strict()
            .prefault({}),
        /** The redis layer's daemon (the celery broker); the cookbook left Redis's own defaults, with no memory limit. */
        redis: z
            .object({
                /** Memory for the queued tasks in MB (maxmemory). A broker must not evict tasks: when it is full, new tasks are refused. */
                maxMemoryMb: z.number().int().min(16).max(1048576).default(512),
                /** Simultaneous client connections (maxclients; Redis's default). */
                maxClients: z.number().int().min(16).max(65000).default(10000),
            })
            .strict()
            .prefault({}),
        solr: z
            .object({
                enabled: z.boolean().default(false),
                /** An external Solr; otherwise the solr layer's host. */
                host: kind.hostAddress().optional(),
                port: z.number().int().min(1).max(65535).default(PORTS.solr),
            })
            .strict()
            .prefault({}),
        clientSyslog: syslog.prefault({}),
        zeoSyslog: syslog.prefault({}),
        /** Mount /tmp as tmpfs of this size (e.g. 1G) on plone_instances hosts. */
        tmpfsSize: kind.format(/^\d{1,9}[KMG]$/, "a size such as 1G or 512M", 16).optional(),
        /** Point the release's var/tmp at /tmp. */
        globalTmp: z.boolean().default(false),
        timezone: kind.name(/^[A-Za-z_]{1,32}(\/[A-Za-z0-9_+-]{1,32}){0,3}$/, "a time zone such as Europe/Berlin or Etc/UTC").default("Etc/UTC"),
        /** Paths below the Plone site (/<siteId>) fetched from each restarted client before it takes traffic again. */
        warmupPaths: z.array(kind.urlPath()).default(["/"]),
        /** Cheap URL for health checks (relative to the Zope root). */
        healthCheckPath: kind.urlPath().default("/ok"),
        /**
         * Rolling restart: seconds to wait for a drained client's open connections to finish before it
         * is restarted anyway (long requests such as big uploads are cut off after this).
         */
        drainTimeout: z.number().int().min(0).max(3600).default(120),
        /**
         * Rolling restart: seconds a restarted client has to answer healthCheckPath; a client that does
         * not stays out of rotation and the restart (or deploy, which then rolls back) fails.
         */
        startTimeout: z.number().int().min(5).max(3600).default(300),
    })
    .strict();

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** A CloudWatch Logs retention period in days. */
const logRetentionDays = z
    .number()
    .int()
    .refine(
        (d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d),
        `must be one of the periods CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(", ")}`,
    );

const hostnameString = kind.dnsName({ wildcard: true });

export const frontendSchema = z
    .object({
        /** The site's public host name. */
        domain: hostnameString,
        /** Further names served by the same site. */
        aliases: z.array(hostnameString).default([]),
        /** Host name -> path below the site (sub-site virtual hosts). */
        subsites: z
            .record(
                hostnameString,
                kind.name(
                    /^\/?[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}(\/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}){0,15}\/?$/,
                    "a path below the site such as en/about (letters, digits, '_', '.', '-' and '/', no '.' or '..' segments)",
                ),
            )
            .default({}),
        /** Host name -> raw nginx text inside that virtual host's server blocks (the cookbook's per-site config). */
        rawSubsiteServer: z.record(hostnameString, kind.raw()).default({}),
        /** auto: an ALB when there is more than one frontend host, an Elastic IP when there is one. */
        frontDoor: z.enum(["auto", "alb", "eip"]).default("auto"),
        tls: z
            .discriminatedUnion("mode", [
                z
                    .object({
                        mode: z.literal("none"),
                        /**
                         * Production only: says plain HTTP is intended (TLS ends in front of the stack, at a CDN
                         * or a proxy of your own). Without it the production policy refuses a stack without TLS.
                         */
                        plainHttpIntended: z.boolean().default(false),
                    })
                    .strict(),
                z
                    .object({
                        mode: z.literal("acm"),
                        certificateArn: kind.format(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, "an ACM certificate ARN", 2048),
                        sslPolicy: kind
                            .name(/^ELBSecurityPolicy-[A-Za-z0-9-]{1,100}$/, "an ALB security policy name such as ELBSecurityPolicy-TLS13-1-2-2021-06")
                            .default("ELBSecurityPolicy-TLS13-1-2-2021-06"),
                    })
                    .strict(),
                z.object({ mode: z.literal("certbot"), email: kind.email() }).strict(),
            ])
            .prefault({ mode: "none" }),
        /**
         * An AWS WAF web ACL on the load balancer (ALB front door only): AWS's managed rule groups
         * (common rule set, known bad inputs, IP reputation), a rate limit on Plone's login forms,
         * the admin CIDRs allowed past the rules, its log to CloudWatch Logs. Unset: no WAF.
         */
        waf: z
            .object({
                /** count: the rules only count and log what they match (start here); block: they block it. */
                mode: z.enum(["count", "block"]).default("count"),
                /** Requests to a login path one client address may send in 5 minutes before it is limited (WAF's minimum is 10). */
                loginRateLimit: z.number().int().min(10).max(2000000000).default(100),
                /** Let network.adminCidrs past every rule (an IP set allow-list). */
                allowAdminCidrs: z.boolean().default(true),
                /** Days CloudWatch Logs keeps the WAF's log. */
                logRetentionDays: logRetentionDays.default(90),
            })
            .strict()
            .optional(),
        haproxy: z
            .object({
                statsUser: kind.name(/^[A-Za-z0-9_.-]{1,64}$/, "a user name of letters, digits, '_', '.', '-'").default("stats"),
                balance: z.enum(["leastconn", "roundrobin", "first"]).default("leastconn"),
                retries: z.number().int().min(0).max(10).default(3),
                /** Health-check interval in ms (long: each check takes a Zope thread). */
                checkInterval: z.number().int().min(1000).default(10000),
                rise: z.number().int().min(1).default(1),
                fall: z.number().int().min(1).default(5),
                connectTimeout: duration.default("5s"),
                clientTimeout: duration.default("300s"),
                serverTimeout: duration.default("300s"),
                queueTimeout: duration.default("60s"),
                httpRequestTimeout: duration.default("10s"),
                maxConnections: z.number().int().min(100).default(20000),
                slowstart: duration.default("30s"),
            })
            .strict()
            .prefault({}),
        varnish: z
            .object({
                /** varnishd -s argument. */
                storage: kind
                    .format(
                        /^(malloc,\d{1,9}[kmgKMG]?|file,\/[A-Za-z0-9_./-]{1,255},\d{1,9}[kmgKMG]?)$/,
                        "a varnishd storage such as malloc,256m or file,/var/lib/varnish/cache,2g",
                        300,
                    )
                    .default("malloc,256m"),
                /** TTL in seconds for anonymous responses without Cache-Control. */
                defaultTtl: z.number().int().min(0).default(300),
                /** Seconds a stale object is served while the backend is healthy. */
                grace: z.number().int().min(0).default(60),
                /** Seconds a stale object is served while the backend is sick. */
                graceSick: z.number().int().min(0).default(600),
                /** Regular expressions banned by `ops varnish-purge` when none are given. */
                purgeUrls: z.array(kind.regex()).default([".*"]),
            })
            .strict()
            .prefault({}),
        nginx: z
            .object({
                clientMaxBodySize: kind.format(/^\d{1,9}[kmg]?$/, "a size such as 128m", 16).default("128m"),
                workerProcesses: z.union([z.literal("auto"), z.number().int().min(1)]).default("auto"),
                enableSsi: z.boolean().default(false),
                /** Raw nginx text at http level: extra server blocks, redirects (the cookbook's additional_servers). */
                rawHttp: kind.raw().default(""),
                /** Raw nginx text inside every site server block (the cookbook's additional_config). */
                rawServer: kind.raw().default(""),
                /** Raw nginx text inside every TLS server block (the cookbook's additional_ssl_config). */
                rawSslServer: kind.raw().default(""),
                /** Raw nginx text only in the main site's and the catch-all HTTP server blocks (the cookbook's default_config). */
                rawDefaultServer: kind.raw().default(""),
                /** Raw nginx text only in the main site's and the catch-all TLS server blocks (the cookbook's default_ssl_config). */
                rawDefaultSslServer: kind.raw().default(""),
                logRetentionDays: z.number().int().min(1).default(14),
            })
            .strict()
            .prefault({}),
    })
    .strict();

/** A KMS key (or alias) ARN: keys are regional, so each key names the region it is for. */
const kmsKeyArn = kind.format(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]{1,256}$/,
    "a KMS key ARN such as arn:aws:kms:eu-central-1:123456789012:key/...",
    2048,
);

export const databaseSchema = z
    .object({
        /** An existing PostgreSQL server instead of an RDS instance created by the stack. */
        host: kind.hostAddress().optional(),
        port: z.number().int().min(1).max(65535).default(PORTS.postgres),
        name: kind.name(/^[a-z][a-z0-9_]{0,62}$/, "a PostgreSQL database name: lower-case letters, digits and '_', starting with a letter").default("plone"),
        user: kind.name(/^[a-z][a-z0-9_]{0,62}$/, "a PostgreSQL user name: lower-case letters, digits and '_', starting with a letter").default("plone"),
        engineVersion: kind.format(/^\d{1,3}(\.\d{1,3})?$/, "a PostgreSQL version such as 16 or 16.4", 8).default("16"),
        instanceClass: kind.format(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS instance class such as db.t4g.medium", 64).default("db.t4g.medium"),
        allocatedStorage: z.number().int().min(20).max(65536).default(50),
        maxAllocatedStorage: z.number().int().min(20).max(65536).default(200),
        /** Defaults to true on every tier; staging clones turn it off. */
        multiAz: z.boolean().default(true),
        backupRetentionDays: z.number().int().min(0).max(35).default(7),
        /** Defaults to true in production. */
        deletionProtection: z.boolean().optional(),
        /** Take a final snapshot on delete; defaults to true in production. */
        finalSnapshot: z.boolean().optional(),
        /**
         * RDS automated backups replicated to the region snapshots.crossRegionCopy copies the EBS
         * snapshots to, so a regional outage leaves a point-in-time restore elsewhere. On by default
         * whenever that copy is configured.
         */
        backupReplication: z
            .object({
                /** Unset: on when snapshots.crossRegionCopy is set. */
                enabled: z.boolean().optional(),
                /** Days the replicated backups are kept (RDS: 1-35). */
                retentionDays: z.number().int().min(1).max(35).default(7),
                /** KMS key in the destination region that encrypts the replica; the region's aws/rds key when unset. */
                kmsKeyArn: kmsKeyArn.optional(),
            })
            .strict()
            .prefault({}),
        /**
         * A logical dump (pg_dump -Fc) of the RelStorage database on the db_packing host, copied to
         * the off-site bucket under "<stack>/pgdump/" and pruned as the repozo copies are: restorable
         * into any PostgreSQL (ops restore), unlike RDS's own backups.
         */
        dump: z
            .object({
                /** Unset: on when offsiteBackups.enabled. */
                enabled: z.boolean().optional(),
                /** When the dump runs (the host's time zone), before the blobs are copied (plone.backups.schedule). */
                schedule: cron.default("0 20 * * *"),
                /** Days the bucket keeps dumps (the newest dump before them is kept too). */
                keepDays: z.number().int().min(1).max(3650).default(35),
            })
            .strict()
            .prefault({}),
        backupWindow: kind.format(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, "a UTC window such as 02:00-03:00", 11).default("02:00-03:00"),
        /** Allow a new major engineVersion (with its parameter group family); set for the upgrade, then unset. */
        allowMajorVersionUpgrade: z.boolean().default(false),
        /** Apply changes now rather than in the maintenance window (needed for an engine upgrade). */
        applyImmediately: z.boolean().default(false),
        maintenanceWindow: kind
            .format(
                /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/,
                "a UTC window such as sun:03:30-sun:04:30",
                19,
            )
            .default("sun:03:30-sun:04:30"),
    })
    .strict();

export const snapshotsSchema = z
    .object({
        /** UTC time of the daily snapshot. */
        time: kind.format(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM (UTC)", 5).default("08:00"),
        /** Snapshots kept per volume. */
        retain: z.number().int().min(1).max(1000).default(15),
        /** Value of the plone-aws:snapshot tag on the data volumes; defaults to the stack name. */
        tagValue: kind.name(/^[A-Za-z0-9_.:/=+@-]{1,256}$/, "a tag value of letters, digits and '_', '.', ':', '/', '=', '+', '@', '-'").optional(),
        crossRegionCopy: z
            .object({
                region: kind.awsRegion(),
                retainDays: z.number().int().min(1).default(30),
                /** KMS key in the target region; the default EBS key when unset. */
                kmsKeyArn: kmsKeyArn.optional(),
            })
            .strict()
            .optional(),
    })
    .strict();

const region = kind.awsRegion();

export const monitoringSchema = z
    .object({
        /** Subscribed to the stack's alarm topic (SNS mails a confirmation link first); without it the topic has no subscriber. */
        alarmEmail: kind.email().optional(),
        /** The CloudWatch agent on every host: memory and disk metrics, the logs to CloudWatch Logs (installed on EC2 only). */
        cloudwatchAgent: z.boolean().default(true),
        /** Days CloudWatch Logs keeps the hosts' logs. */
        logRetentionDays: logRetentionDays.default(30),
        /**
         * Access logs in a log bucket of the stack: the load balancer's (requests it answers itself
         * never reach nginx) and S3 server access logs of the backup buckets (who read or deleted them).
         */
        accessLogs: z
            .object({
                enabled: z.boolean().default(true),
                /** Days the log bucket keeps a log object before it expires. */
                expireDays: z.number().int().min(1).max(3650).default(365),
            })
            .strict()
            .prefault({}),
        /** When the alarms fire. */
        thresholds: z
            .object({
                /** The fullest file system of a host, in percent. */
                diskUsedPercent: z.number().min(1).max(100).default(85),
                memoryUsedPercent: z.number().min(1).max(100).default(90),
                /** 5xx answers of the load balancer and its targets in 5 minutes. */
                http5xxPer5Minutes: z.number().int().min(1).default(25),
                rdsCpuPercent: z.number().min(1).max(100).default(80),
                rdsFreeStorageGiB: z.number().min(1).default(5),
                rdsReplicaLagSeconds: z.number().int().min(1).default(300),
            })
            .strict()
            .prefault({}),
        /** Forward the app, supervisor and nginx logs to a remote syslog (Papertrail style), over TLS by default. */
        remoteSyslog: z
            .object({
                host: kind.hostAddress(),
                port: z.number().int().min(1).max(65535),
                tls: z.boolean().default(true),
                /** The name the server's certificate must carry; defaults to host (wildcards such as *.papertrailapp.com allowed). */
                permittedPeer: kind
                    .name(/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/, "a certificate name such as logs.example.com or *.papertrailapp.com")
                    .optional(),
                /** More files to forward: path -> tag (the cookbook's papertrail.watch_files). */
                files: z.record(kind.absolutePath(), kind.name(/^[A-Za-z0-9_.-]{1,64}$/, "a syslog tag of letters, digits, '_', '.', '-'")).default({}),
            })
            .strict()
            .optional(),
        newRelic: z
            .object({
                /** The New Relic infrastructure agent (newrelic-infra) on every host. */
                infrastructure: z.boolean().default(false),
                /** NEW_RELIC_CONFIG_FILE for the Zope clients: the buildout brings the agent (newrelic, collective.newrelic). */
                pythonAgent: z.boolean().default(false),
                /** The app name the Python agent reports; defaults to "<stack>: <app>". */
                appName: kind.text(255).optional(),
            })
            .strict()
            .prefault({}),
    })
    .strict();

export const offsiteBackupsSchema = z
    .object({
        /** Copy the backups (repozo) and the blobs to S3 after every backup run. */
        enabled: z.boolean().default(true),
        /** An existing bucket to use instead of the one the stack creates (e.g. one shared by several stacks). */
        bucket: kind.name(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name (3-63 lower-case letters, digits, '.', '-')").optional(),
        /** Days the bucket keeps repozo backups (the newest full backup before them is kept too). */
        keepDays: z.number().int().min(1).max(3650).default(35),
        /** Days before objects move to S3 Standard-IA, then to Glacier Instant Retrieval (restores need no thaw). */
        infrequentAccessDays: z.number().int().min(30).default(30),
        glacierDays: z.number().int().min(60).default(90),
        /** Days a replaced or deleted object version is kept. */
        noncurrentDays: z.number().int().min(1).default(90),
        /** Replicate the bucket to one in this region. */
        replicaRegion: region.optional(),
        /** Other stacks (same account) whose backups this stack's hosts may read, for `ops restore` (staging: [prod]). */
        restoreFrom: z.array(stackName).default([]),
    })
    .strict();

export const networkSchema = z
    .object({
        cidr: cidr.default("10.0.0.0/16"),
        azCount: z.number().int().min(1).max(3).default(2),
        /** NAT for hosts in private subnets: none, one shared gateway, or one per AZ. */
        natGateways: z.enum(["none", "single", "perAz"]).default("single"),
        /** Where operators and `pulumi up` connect from (SSH, haproxy stats). */
        adminCidrs: z.array(cidr).default([]),
        /**
         * The AZs the indices of hosts[].az and the subnets mean, by name (eu-west-1a) or zone id
         * (euw1-az1). Unset, index i is the i-th zone AWS lists at each `pulumi up`.
         */
        availabilityZones: z
            .array(kind.format(/^([a-z]{2}(-gov)?-[a-z]+-\d[a-z]|[a-z]{2,5}\d-az\d{1,2})$/, "an AZ name such as eu-west-1a or a zone id such as euw1-az1", 32))
            .optional(),
    })
    .strict();

export const accessSchema = z
    .object({
        /** The login user of the AMI (admin on Debian). */
        sshUser: unixUser.default("admin"),
        publicKey: sshPublicKey,
        /** More keys the hosts accept besides publicKey (a key rotation authorizes the new key here first). */
        additionalPublicKeys: z.array(sshPublicKey).default([]),
        /** publicIp: every host gets a public IP; bastion: hosts stay private, reached through a bastion. */
        via: z.enum(["publicIp", "bastion"]).default("bastion"),
        bastion: z
            .object({
                /** An existing bastion to use instead of creating one. */
                host: kind.hostAddress().optional(),
                user: unixUser.optional(),
                instanceType: instanceType.default("t3.nano"),
            })
            .strict()
            .prefault({}),
    })
    .strict();

/** The EBS volume types a data volume may have. */
const VOLUME_TYPES = ["gp3", "gp2", "io2"] as const;

export const volumesSchema = z
    .object({
        /** EBS type of every data volume (the root volumes stay gp3). */
        type: z.enum(VOLUME_TYPES).default("gp3"),
        /** Provisioned IOPS per data volume: gp3 3000-80000 (3000 when unset), io2 100-256000 (required). */
        iops: z.number().int().min(100).max(256000).optional(),
        /** Throughput per data volume in MiB/s, gp3 only: 125-2000 (125 when unset). */
        throughput: z.number().int().min(125).max(2000).optional(),
        /** Default size in GiB per kind; hosts can override. */
        sizes: z
            .object({
                filestorage: z.number().int().min(1).default(20),
                blobs: z.number().int().min(1).default(50),
                backups: z.number().int().min(1).default(50),
                exports: z.number().int().min(1).default(200),
                bricks: z.number().int().min(1).default(200),
                solr: z.number().int().min(1).default(20),
                redis: z.number().int().min(1).default(10),
            })
            .strict()
            .prefault({}),
    })
    .strict()
    .superRefine((v, ctx) => {
        const issue = (key: "iops" | "throughput", message: string) => ctx.addIssue({ code: "custom", path: [key], message });
        if (v.type === "io2" && v.iops === undefined) issue("iops", "required with type io2: the provisioned IOPS of each data volume (100-256000)");
        if (v.type === "gp2" && v.iops !== undefined) issue("iops", "gp2 volumes have no provisioned IOPS (they follow the size): use type gp3 or io2");
        if (v.type === "gp3" && v.iops !== undefined && (v.iops < 3000 || v.iops > 80000)) issue("iops", "gp3 takes 3000-80000 IOPS");
        if (v.type !== "gp3" && v.throughput !== undefined) issue("throughput", `only gp3 volumes take a throughput, not ${v.type}`);
    });

/** AWS quotas the stack checks against; the defaults are AWS's, raise them when AWS raised yours. */
export const quotasSchema = z
    .object({
        /** Security groups per network interface (a host gets one per listening layer, plus one). */
        securityGroupsPerInterface: z.number().int().min(1).max(16).default(5),
        /** Elastic IPs per region, counted over every stack file in the same directory and region. */
        elasticIpsPerRegion: z.number().int().min(1).default(5),
    })
    .strict();

/** The SMTP ports that take TLS from the first byte (SMTPS); the others start plain and require STARTTLS. */
export const IMPLICIT_TLS_PORTS: readonly number[] = [465, 2465];

/**
 * Outbound mail: a relay on every host that runs Zope clients, listening on localhost:25 (Plone's
 * MailHost default), relaying to Amazon SES (or relay.host) over TLS; SES's domain identity with
 * DKIM and its MAIL FROM domain; the sender Plone writes. Unset: the hosts send no mail.
 */
export const mailSchema = z
    .object({
        /** Plone's sender address (email_from_address); its domain is sent as (domain). */
        senderAddress: kind.email(),
        /** Plone's sender name (email_from_name). */
        senderName: kind.buildoutText(128).default("Plone site"),
        /** The domain SES verifies (DKIM) and signs for; the sender address's domain when unset. */
        domain: kind.dnsName().optional(),
        /** The MAIL FROM (bounce) domain is <mailFromSubdomain>.<domain>: SPF aligns on it. */
        mailFromSubdomain: kind
            .name(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "one DNS label such as bounce (lower-case letters, digits, '-')")
            .default("bounce"),
        /**
         * Amazon SES in the stack's region: the domain identity with DKIM, the MAIL FROM domain, a
         * configuration set and the bounce and complaint alarms. false with a relay host of your own.
         */
        ses: z.boolean().default(true),
        relay: z
            .object({
                /** The SMTP server the hosts relay to; SES's SMTP endpoint of the stack's region (email-smtp.<region>.amazonaws.com) when unset. */
                host: kind.hostAddress().optional(),
                /** 587 (STARTTLS, the default) or 465 (TLS from the first byte); SES also listens on 2587 and 2465. */
                port: z.number().int().min(1).max(65535).default(587),
                /** starttls or implicit (465/2465 are implicit when unset); none only for a relay of your own inside the VPC (never in production). */
                tls: z.enum(["starttls", "implicit", "none"]).optional(),
                // The SMTP user and password are the secret plone-aws:smtpCredentials (an SES user is an access key id).
            })
            .strict()
            .prefault({}),
        /** Every mail goes to this address instead of its recipients (a staging clone's sandbox); its own domain must be verified in SES too. */
        redirectTo: kind.email().optional(),
        /** SES: alarm when the bounce rate reaches this share of the mails sent (SES reviews an account at 5 %, pauses it at 10 %). */
        bounceRateAlarm: z.number().min(0.001).max(1).default(0.05),
        /** SES: alarm when the complaint rate reaches this share (SES reviews an account at 0.1 %, pauses it at 0.5 %). */
        complaintRateAlarm: z.number().min(0.0001).max(1).default(0.001),
        /**
         * SES delivers to recipients' servers over TLS only (the configuration set's TLS policy
         * REQUIRE): a server without TLS gets no mail. Defaults to true in production.
         */
        requireTlsDelivery: z.boolean().optional(),
    })
    .strict();

/** An IANA time zone (Europe/Berlin, UTC) that the node runtime knows, as AWS's scheduled actions take it. */
const timeZone = kind.format(
    /^(UTC|GMT|Etc\/[A-Za-z0-9+-]{1,16}|[A-Z][A-Za-z_-]{1,30}(\/[A-Za-z0-9_+-]{1,30}){1,2})$/,
    "an IANA time zone such as Europe/Berlin, America/New_York or UTC",
    64,
    (v) => {
        try {
            new Intl.DateTimeFormat("en", { timeZone: v });
            return true;
        } catch {
            return false;
        }
    },
);

/** Instances in a scaled group: AWS allows far more, a stack of app hosts needs no more than this. */
export const MAX_SCALED_INSTANCES = 100;
const instanceCount = z.number().int().min(0).max(MAX_SCALED_INSTANCES);
const seconds = (max: number) => z.number().int().min(0).max(max);

/** A time-based change of a scaled group's size (OpsWorks' time-based instances): from this time on, these sizes. */
const scalingSchedule = z
    .object({
        name: kind.name(/^[a-z][a-z0-9-]{0,62}$/, "a schedule name (lower-case letters, digits and '-', starting with a letter)"),
        /** When the sizes apply: a cron schedule in timeZone (a later schedule sets them back). */
        recurrence: cron,
        timeZone: timeZone.default("UTC"),
        min: instanceCount.optional(),
        max: instanceCount.optional(),
        desired: instanceCount.optional(),
    })
    .strict();

/** What a step rule scales on, per instance of the group: memory used in percent, or the 1-minute load average. */
export const SCALING_STEP_METRICS = ["memory", "load"] as const;

/** A load-based rule on memory or load (OpsWorks' thresholds): add instances above, remove below. */
const scalingStep = z
    .object({
        metric: z.enum(SCALING_STEP_METRICS),
        /** Scale out when the group's average is above this for evaluationMinutes. */
        scaleOutAbove: z.number().min(0).max(1000),
        /** Scale in when the group's average is below this for evaluationMinutes. */
        scaleInBelow: z.number().min(0).max(1000),
        /** Instances added or removed per step. */
        adjustment: z.number().int().min(1).max(MAX_SCALED_INSTANCES).default(1),
        /** Minutes the threshold must hold before the step runs (OpsWorks' ThresholdsWaitTime). */
        evaluationMinutes: z.number().int().min(1).max(60).default(5),
    })
    .strict();

/**
 * A group of app hosts that AWS starts and stops (an Auto Scaling group): the hosts provision
 * themselves at boot from the release artifact the stack writes, and the front ends find them by DNS.
 */
const scaledGroup = z
    .object({
        /** The group's name; its instances are <name>-<instance id>. */
        name: hostName,
        layers: z
            .array(z.enum(LAYERS))
            .min(1, "a scaled group needs at least one layer")
            .refine((ls) => new Set(ls).size === ls.length, "lists a layer twice")
            .default(["plone_instances"]),
        /** Instance types, the first preferred; the others are used when EC2 has none of it left. */
        instanceTypes: z
            .array(instanceType)
            .min(1, "a scaled group needs at least one instance type")
            .max(20)
            .refine((ts) => new Set(ts).size === ts.length, "lists an instance type twice"),
        /** vCPUs of the instance types, for types the built-in table does not know. */
        vcpus: z.number().int().min(1).max(448).optional(),
        rootVolumeSize: z.number().int().min(8).max(1024).default(20),
        min: instanceCount,
        max: instanceCount,
        /** Instances right after `pulumi up`; defaults to min. Schedules and rules change it later. */
        desired: instanceCount.optional(),
        /** Seconds after launch before a failed health check replaces an instance (the boot script's time to serve). */
        healthCheckGracePeriod: seconds(7200).default(600),
        schedules: z.array(scalingSchedule).max(50).default([]),
        /** Target tracking: keep the group's average CPU near this percent (OpsWorks' CpuThreshold). */
        targetCpu: z
            .object({
                averageCpu: z.number().min(10).max(90),
                /** Never remove instances for low CPU (schedules and step rules still may). */
                disableScaleIn: z.boolean().default(false),
            })
            .strict()
            .optional(),
        steps: z.array(scalingStep).max(10).default([]),
        cooldowns: z
            .object({
                /** Seconds after a scale-out before the next step rule runs. */
                scaleOut: seconds(86400).default(300),
                /** Seconds after a scale-in before the next step rule runs (OpsWorks' IgnoreMetricsTime). */
                scaleIn: seconds(86400).default(600),
                /** Seconds a new instance's metrics are left out of the group's (boot and warm-up). */
                warmup: seconds(3600).default(300),
            })
            .strict()
            .prefault({}),
        /** Seconds a terminating instance may take to drain its clients before it is stopped anyway. */
        drainTimeout: z.number().int().min(30).max(7200).default(300),
        /**
         * Launch from an image with the instances' packages baked in (EC2 Image Builder, rebuilt when
         * the package list changes), so a new instance skips apt; false: Debian's own AMI, and apt at every boot.
         */
        bakedImage: z.boolean().default(true),
    })
    .strict();

export const scalingSchema = z
    .object({
        groups: z.array(scaledGroup).max(10).default([]),
    })
    .strict();

/** The structured keys of the plone-aws namespace, each parsed by its own schema. */
export const SECTION_SCHEMAS = {
    tier: z.enum(TIERS).default("development"),
    hosts: z.array(host).min(1, "a stack needs at least one host"),
    app: appSchema,
    plone: ploneSchema.prefault({}),
    frontend: frontendSchema,
    database: databaseSchema.optional(),
    snapshots: snapshotsSchema.prefault({}),
    network: networkSchema.prefault({}),
    access: accessSchema,
    volumes: volumesSchema.prefault({}),
    monitoring: monitoringSchema.prefault({}),
    offsiteBackups: offsiteBackupsSchema.prefault({}),
    quotas: quotasSchema.prefault({}),
    mail: mailSchema.optional(),
    scaling: scalingSchema.prefault({}),
    volto: voltoSchema.prefault({}),
} as const;
export type SectionName = keyof typeof SECTION_SCHEMAS;

/** Keys whose raw config value is a plain string rather than JSON. */
export const STRING_SECTIONS: ReadonlySet<SectionName> = new Set<SectionName>(["tier"]);

export type HostConfig = z.output<typeof host>;
export type AppConfig = z.output<typeof appSchema>;
export type InitCommand = z.output<typeof initCommand>;
export type PloneConfig = z.output<typeof ploneSchema>;
export type FrontendConfig = z.output<typeof frontendSchema>;
export type DatabaseConfig = z.output<typeof databaseSchema>;
export type SnapshotsConfig = z.output<typeof snapshotsSchema>;
export type NetworkConfig = z.output<typeof networkSchema>;
export type AccessConfig = z.output<typeof accessSchema>;
export type VolumesConfig = z.output<typeof volumesSchema>;
export type MonitoringConfig = z.output<typeof monitoringSchema>;
export type OffsiteBackupsConfig = z.output<typeof offsiteBackupsSchema>;
export type QuotasConfig = z.output<typeof quotasSchema>;
export type MailConfig = z.output<typeof mailSchema>;
export type ScalingConfig = z.output<typeof scalingSchema>;
export type VoltoConfig = z.output<typeof voltoSchema>;
export type ScaledGroupConfig = z.output<typeof scaledGroup>;

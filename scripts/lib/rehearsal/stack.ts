// The stack as the rehearsal provisions it: the stack file's configuration with the run's own
// secrets. The private key is the run's key pair (so access.publicKey becomes its public half,
// as the stack requires), the other secrets are generated for the run: the rehearsal never
// needs, reads or decrypts a stack's real secrets, and its values work where placeholders would
// not (a password with a space in it would break the haproxy.cfg it is written into).
import * as crypto from "crypto";
import { formatIssues } from "../../../components/config/load";
import { parseStackConfig } from "../../../components/stackConfig";
import { NAMESPACE } from "../../../components/config/issues";
import { SECRET_KEYS, SecretKey } from "../../../components/config/schema";
import { STANDIN_COMMANDS } from "./standin";
import { STANDIN_PIP_TOOLS } from "./pipStandin";
import type { StackSpec } from "../../../components/config/spec";
import type { LoadedStack } from "../offline/loadStack";
import type { StackConfig } from "../offline/stackFile";

export interface RehearsalKeys {
    /** The run's SSH private key (OpenSSH format): plone-aws:sshPrivateKey. */
    privateKey: string;
    /** Its public half: access.publicKey. */
    publicKey: string;
    /** A second key pair's private half, for plone-aws:deployKey. */
    deployKey: string;
    /**
     * The values generated for the other secrets, by key: kept by the run and given again on every
     * plan, as a stack keeps its secrets between two `pulumi up` (a new RDS password on a new
     * revision would lock the hosts out of the database, which has the first one).
     */
    generated?: Map<string, string>;
}

export interface RehearsalStack {
    config: StackConfig;
    spec: StackSpec;
    /** The secret values the run uses, to keep them out of logs. */
    secretValues: string[];
}

export class RehearsalStackError extends Error {}

/** The SMTP user of the run's credentials (plone-aws:smtpCredentials is USER:PASSWORD): the SMTP stand-in for SES takes it. */
export const REHEARSAL_SMTP_USER = "rehearsal-smtp";

/** A generated password: letters and digits only, safe in every file it may be written into. */
export function generatedPassword(length = 32): string {
    const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    const bytes = crypto.randomBytes(length);
    return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

/**
 * The loaded stack with the run's secrets: every secret the stack sets or requires gets a value
 * of the run (secrets the stack neither sets nor requires stay unset, so the program takes the
 * same branches as with the stack's own), and access.publicKey is the run key's public half.
 */
export function withRehearsalSecrets(loaded: LoadedStack, keys: RehearsalKeys): RehearsalStack {
    const raw = { ...loaded.config.raw };
    const secretKeys = [...loaded.config.secretKeys];
    const secretValues: string[] = [];
    for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
        const full = `${NAMESPACE}:${key}`;
        if (raw[full] === undefined) continue;
        const generated = keys.generated ?? new Map<string, string>();
        const value =
            key === "sshPrivateKey"
                ? keys.privateKey
                : key === "deployKey"
                  ? keys.deployKey
                  : (generated.get(full) ?? (key === "smtpCredentials" ? `${REHEARSAL_SMTP_USER}:${generatedPassword()}` : generatedPassword()));
        if (key !== "sshPrivateKey" && key !== "deployKey") generated.set(full, value);
        raw[full] = value;
        if (!secretKeys.includes(full)) secretKeys.push(full);
        secretValues.push(value);
    }
    const accessKey = `${NAMESPACE}:access`;
    if (raw[accessKey] !== undefined) {
        let access: unknown;
        try {
            access = JSON.parse(raw[accessKey]);
        } catch {
            access = undefined;
        }
        if (access && typeof access === "object" && !Array.isArray(access)) {
            raw[accessKey] = JSON.stringify({ ...(access as Record<string, unknown>), publicKey: keys.publicKey });
        }
    }
    const parsed = parseStackConfig(raw, { stackName: loaded.config.stackName });
    if (!parsed.spec) throw new RehearsalStackError(formatIssues(parsed.errors, `${loaded.config.file} (with the rehearsal's secrets)`));
    return { config: { ...loaded.config, raw, secretKeys }, spec: parsed.spec, secretValues };
}

/** What the rehearsal changes in the stack's app settings: the buildout or Plone 6 project it deploys. */
export interface RehearsalApp {
    /** The fixture repository, as the hosts reach it (git://<gateway>/buildout or /project). */
    repository: string;
    /** Branch or tag of the fixture to deploy (default main). */
    revision?: string;
    /** Added to app.environment (the stand-in's settings). */
    environment?: Record<string, string>;
    /** app.builder pip: the stand-ins of PyPI and of cookiecutter-zope-instance, as the hosts reach them. */
    pip?: {
        /** The stand-in package index (PIP_INDEX_URL): http://<gateway>:<port>/simple/. */
        indexUrl: string;
        /** The fixture instance template repository (app.pip.instanceTemplate). */
        instanceTemplate: string;
    };
    /** Volto hosts: the stand-ins of nodejs.org/dist and registry.npmjs.org, as the hosts reach them. */
    volto?: {
        /** volto.node.mirror: the Node.js mirror stand-in. */
        nodeMirror: string;
        /** The Node.js release the mirror has (volto.node.version). */
        nodeVersion: string;
        /** The key the mirror's SHASUMS256.txt is signed with (volto.node.releaseKeys): the stand-in releaser's. */
        releaseKeys: string;
        /** volto.npmRegistry: the static registry stand-in (pnpm for corepack). */
        npmRegistry: string;
    };
}

/** A stack value (JSON) as an object: {} when unset or not an object (parseStackConfig reports an invalid one). */
function objectValue(config: StackConfig, key: string): Record<string, unknown> {
    try {
        const parsed: unknown = JSON.parse(config.raw[key] ?? "{}");
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
        // an invalid value: parseStackConfig reports it
    }
    return {};
}

/**
 * The stack file's configuration with the rehearsal's application. A buildout stack gets the
 * fixture buildout and the stand-in's bootstrap and build commands (scripts/lib/rehearsal/standin.ts);
 * a pip stack (app.builder pip) gets the fixture Plone 6 project, the stand-in package index
 * (PIP_INDEX_URL), the fixture instance template and the stand-in build tools (pipStandin.ts);
 * volto hosts get the Node.js mirror and npm registry stand-ins (voltoStandin.ts). Neither gets pip
 * packages or cache archives (PyPI and the stack's archive server are out of reach). Everything
 * else (app name, osPackages, environment, releases kept, Volto's processes and paths, ...) stays
 * the stack's own. `changes` says what was replaced, for the rehearsal's output.
 */
export function withRehearsalApp(config: StackConfig, app: RehearsalApp): { config: StackConfig; changes: string[] } {
    const key = `${NAMESPACE}:app`;
    const current = objectValue(config, key);
    const pip = current.builder === "pip";
    if (pip && !app.pip) throw new RehearsalStackError("a pip stack needs the rehearsal's package index and instance template (RehearsalApp.pip)");
    const environment = {
        ...((current.environment as Record<string, string> | undefined) ?? {}),
        ...(app.environment ?? {}),
        // pip trusts plain HTTP only from localhost: the stand-in index is at the VPC's gateway.
        ...(app.pip ? { PIP_INDEX_URL: app.pip.indexUrl, PIP_TRUSTED_HOST: new URL(app.pip.indexUrl).hostname, PIP_DISABLE_PIP_VERSION_CHECK: "1" } : {}),
    };
    const next: Record<string, unknown> = {
        ...current,
        repository: app.repository,
        revision: app.revision ?? "main",
        ...(app.pip
            ? {
                  pip: {
                      ...((current.pip as Record<string, unknown> | undefined) ?? {}),
                      instanceTemplate: app.pip.instanceTemplate,
                      instanceTemplateRevision: "main",
                      tools: STANDIN_PIP_TOOLS,
                  },
              }
            : { bootstrapCommand: STANDIN_COMMANDS.bootstrapCommand, buildCommand: STANDIN_COMMANDS.buildCommand }),
        pipPackages: [],
        cacheArchives: [],
        environment,
    };
    const changes = [
        `app.repository ${app.repository} (the fixture ${app.pip ? "Plone 6 project" : "buildout"}; the stack's is ${String(current.repository ?? "unset")})`,
        `app.revision ${String(next.revision)}`,
        app.pip
            ? `app.pip.instanceTemplate ${app.pip.instanceTemplate} (the fixture template) at main, app.pip.tools ${STANDIN_PIP_TOOLS.join(" ")}, ` +
              `app.environment PIP_INDEX_URL=${app.pip.indexUrl} and PIP_TRUSTED_HOST (the stand-in package index, over HTTP: no PyPI here)`
            : "app.bootstrapCommand and app.buildCommand: the stand-in build (no PyPI here)",
    ];
    const dropped = (["pipPackages", "cacheArchives"] as const).filter((k) => Array.isArray(current[k]) && (current[k] as unknown[]).length > 0);
    if (dropped.length) changes.push(`app.${dropped.join(" and app.")} left out (out of reach here)`);
    if (app.environment && Object.keys(app.environment).length) {
        changes.push(
            `app.environment + ${Object.entries(app.environment)
                .map(([k, v]) => `${k}=${v}`)
                .join(" ")}`,
        );
    }
    let raw: Record<string, string> = { ...config.raw, [key]: JSON.stringify(next) };
    const voltoKey = `${NAMESPACE}:volto`;
    if (app.volto && config.raw[voltoKey] !== undefined) {
        const volto = objectValue(config, voltoKey);
        const node = (volto.node as Record<string, unknown> | undefined) ?? {};
        raw = {
            ...raw,
            [voltoKey]: JSON.stringify({
                ...volto,
                node: { ...node, version: app.volto.nodeVersion, mirror: app.volto.nodeMirror, releaseKeys: app.volto.releaseKeys },
                npmRegistry: app.volto.npmRegistry,
                // A frontend repository of its own: the fixture holds the stand-in project too.
                ...(volto.repository !== undefined ? { repository: app.repository, revision: next.revision } : {}),
            }),
        };
        if (volto.repository !== undefined)
            changes.push(`volto.repository ${app.repository} at ${String(next.revision)} (the fixture; the stack's is ${String(volto.repository)})`);
        changes.push(
            `volto.node.mirror ${app.volto.nodeMirror} and volto.npmRegistry ${app.volto.npmRegistry} (stand-ins of nodejs.org/dist and registry.npmjs.org), ` +
                "volto.node.releaseKeys the stand-in releaser's key (it signed the mirror's SHASUMS256.txt)" +
                (node.version !== undefined && node.version !== app.volto.nodeVersion
                    ? `, volto.node.version ${app.volto.nodeVersion} (the mirror's; the stack's is ${String(node.version)})`
                    : ""),
        );
    }
    return { config: { ...config, raw }, changes };
}

/** The PostgreSQL major the RDS stand-in runs: Debian bookworm's (the test hosts' release), the only one reachable here. */
export const STANDIN_POSTGRESQL_MAJOR = "15";

/**
 * The stack's database as the RDS stand-in can play it: RDS runs the engine version the stack asks
 * for (16 by default), the stand-in runs Debian's PostgreSQL. The hosts install the client of the
 * engine's major (pg_dump refuses a newer server), from apt.postgresql.org when Debian lacks it, which
 * is out of reach here: so the rehearsal sets the stand-in's major, and `changes` says so.
 * An external database (database.host) or a stack without one is left as it is.
 */
export function withRehearsalDatabase(config: StackConfig): { config: StackConfig; changes: string[] } {
    const key = `${NAMESPACE}:database`;
    if (config.raw[key] === undefined) return { config, changes: [] };
    let current: Record<string, unknown>;
    try {
        const parsed: unknown = JSON.parse(config.raw[key]);
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { config, changes: [] };
        current = parsed as Record<string, unknown>;
    } catch {
        // an invalid database value: parseStackConfig reports it
        return { config, changes: [] };
    }
    if (current.host !== undefined) return { config, changes: [] };
    const asked = typeof current.engineVersion === "string" ? current.engineVersion : "the default";
    if (typeof current.engineVersion === "string" && current.engineVersion.split(".")[0] === STANDIN_POSTGRESQL_MAJOR) return { config, changes: [] };
    const next = { ...current, engineVersion: STANDIN_POSTGRESQL_MAJOR };
    return {
        config: { ...config, raw: { ...config.raw, [key]: JSON.stringify(next) } },
        changes: [
            `database.engineVersion ${STANDIN_POSTGRESQL_MAJOR} (the stack's is ${asked}): the RDS stand-in is Debian's PostgreSQL ${STANDIN_POSTGRESQL_MAJOR}, ` +
                `and the hosts' client must be of the server's major (apt.postgresql.org, where RDS's newer clients come from, is out of reach here)`,
        ],
    };
}

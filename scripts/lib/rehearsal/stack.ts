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

/** What the rehearsal changes in the stack's app settings: the buildout it deploys. */
export interface RehearsalApp {
    /** The fixture buildout, as the hosts reach it (git://<gateway>/buildout). */
    repository: string;
    /** Branch or tag of the fixture to deploy (default main). */
    revision?: string;
    /** Added to app.environment (the stand-in's settings). */
    environment?: Record<string, string>;
}

/**
 * The stack file's configuration with the rehearsal's buildout: the fixture repository and
 * revision, the stand-in's bootstrap and build commands (scripts/lib/rehearsal/standin.ts), no pip packages
 * and no cache archives (PyPI and the stack's archive server are out of reach). Everything else
 * (app name, osPackages, environment, releases kept, ...) stays the stack's own. `changes` says
 * what was replaced, for the rehearsal's output.
 */
export function withRehearsalApp(config: StackConfig, app: RehearsalApp): { config: StackConfig; changes: string[] } {
    const key = `${NAMESPACE}:app`;
    let current: Record<string, unknown> = {};
    try {
        const parsed: unknown = JSON.parse(config.raw[key] ?? "{}");
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) current = parsed as Record<string, unknown>;
    } catch {
        // an invalid app value: parseStackConfig reports it
    }
    const next: Record<string, unknown> = {
        ...current,
        repository: app.repository,
        revision: app.revision ?? "main",
        bootstrapCommand: STANDIN_COMMANDS.bootstrapCommand,
        buildCommand: STANDIN_COMMANDS.buildCommand,
        pipPackages: [],
        cacheArchives: [],
        environment: { ...((current.environment as Record<string, string> | undefined) ?? {}), ...(app.environment ?? {}) },
    };
    const changes = [
        `app.repository ${app.repository} (the fixture buildout; the stack's is ${String(current.repository ?? "unset")})`,
        `app.revision ${String(next.revision)}`,
        "app.bootstrapCommand and app.buildCommand: the stand-in build (no PyPI here)",
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
    return { config: { ...config, raw: { ...config.raw, [key]: JSON.stringify(next) } }, changes };
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

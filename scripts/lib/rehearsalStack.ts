// The stack as the rehearsal provisions it: the stack file's configuration with the run's own
// secrets. The private key is the run's key pair (so access.publicKey becomes its public half,
// as the stack requires), the other secrets are generated for the run: the rehearsal never
// needs, reads or decrypts a stack's real secrets, and its values work where placeholders would
// not (a password with a space in it would break the haproxy.cfg it is written into).
import * as crypto from "crypto";
import { formatIssues, parseStackConfig } from "../../components/config/load";
import { NAMESPACE } from "../../components/config/rules";
import { SECRET_KEYS, SecretKey } from "../../components/config/schema";
import type { StackSpec } from "../../components/config/spec";
import type { LoadedStack } from "./planLoad";
import type { StackConfig } from "./stackFile";

export interface RehearsalKeys {
    /** The run's SSH private key (OpenSSH format): plone-aws:sshPrivateKey. */
    privateKey: string;
    /** Its public half: access.publicKey. */
    publicKey: string;
    /** A second key pair's private half, for plone-aws:deployKey. */
    deployKey: string;
}

export interface RehearsalStack {
    config: StackConfig;
    spec: StackSpec;
    /** The secret values the run uses, to keep them out of logs. */
    secretValues: string[];
}

export class RehearsalStackError extends Error {}

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
        const value = key === "sshPrivateKey" ? keys.privateKey : key === "deployKey" ? keys.deployKey : generatedPassword();
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

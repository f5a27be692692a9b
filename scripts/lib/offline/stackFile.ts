// Reading a Pulumi.<stack>.yaml without the Pulumi CLI: the `config:` map becomes the key -> string
// map the program gets from the CLI. Encrypted (`secure:`) values cannot be decrypted here: they
// become placeholders and stay marked secret.
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { SECRET_KEYS, SecretKey } from "../../../components/config/schema";
import { NAMESPACE } from "../../../components/config/issues";
import { APP_SECRETS_KEY } from "../../../components/config/secretNames";
import { secretPlaceholder } from "../../../components/render/context";

export { secretPlaceholder };

export interface StackConfig {
    /** Stack name (from the file name Pulumi.<stack>.yaml, or given). */
    stackName: string;
    file: string;
    /** key -> value as the Pulumi CLI passes it (JSON for structured values). */
    raw: Record<string, string>;
    /** Keys whose value is secret (encrypted in the file, or a secret key given in plain text). */
    secretKeys: string[];
    /** Secret keys stored in plain text in the stack file (they should be encrypted). */
    plaintextSecrets: string[];
    /** Keys stored encrypted, replaced by a placeholder offline. */
    encryptedKeys: string[];
}

export class StackFileError extends Error {}

export function stackFilePath(stack: string, dir = process.cwd()): string {
    return path.join(dir, `Pulumi.${stack}.yaml`);
}

export function stackNameOf(file: string): string {
    const m = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(file));
    return m ? m[1] : path.basename(file).replace(/\.ya?ml$/, "");
}

function isSecure(v: unknown): v is { secure: string } {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** Reads a stack file. Throws StackFileError with a message naming the file for unreadable input. */
export function readStackFile(file: string, stackName = stackNameOf(file)): StackConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new StackFileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    return parseStackText(text, file, stackName);
}

/** Aliases a stack file may use (YAML anchors): enough for any real file, far too few for an alias bomb. */
const MAX_ALIASES = 100;

/** Reads the text of a stack file (named `file` in messages), e.g. one not written to disk yet. */
export function parseStackText(text: string, file: string, stackName = stackNameOf(file)): StackConfig {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length > 0) {
        throw new StackFileError(`${file} is not valid YAML: ${firstLine(doc.errors[0].message)}`);
    }
    let root: { config?: Record<string, unknown> } | null;
    try {
        root = doc.toJS({ maxAliasCount: MAX_ALIASES }) as { config?: Record<string, unknown> } | null;
    } catch (e) {
        // The yaml library refuses documents whose aliases would expand beyond reason (an alias bomb).
        throw new StackFileError(`${file} is not a usable stack file: ${firstLine((e as Error).message)} (at most ${MAX_ALIASES} YAML aliases are expanded)`);
    }
    const config = root?.config ?? {};
    if (typeof config !== "object" || Array.isArray(config)) throw new StackFileError(`${file}: "config" must be a mapping of keys to values`);

    const raw: Record<string, string> = {};
    const secretKeys: string[] = [];
    const plaintextSecrets: string[] = [];
    const encryptedKeys: string[] = [];
    const secretNames = new Set(Object.keys(SECRET_KEYS).map((k) => `${NAMESPACE}:${k}`));
    const appSecretsKey = `${NAMESPACE}:${APP_SECRETS_KEY}`;
    for (const [key, value] of Object.entries(config)) {
        const fullKey = key.includes(":") ? key : `${NAMESPACE}:${key}`;
        if (fullKey === appSecretsKey && typeof value === "object" && value !== null && !Array.isArray(value) && !isSecure(value)) {
            // A map of secrets, each set with --path: encrypted leaves become placeholders one by one.
            const entries = Object.entries(value as Record<string, unknown>);
            raw[fullKey] = JSON.stringify(Object.fromEntries(entries.map(([name, v]) => [name, isSecure(v) ? secretPlaceholder(`${fullKey}.${name}`) : v])));
            secretKeys.push(fullKey);
            if (entries.some(([, v]) => isSecure(v))) encryptedKeys.push(fullKey);
            if (entries.some(([, v]) => !isSecure(v))) plaintextSecrets.push(fullKey);
            continue;
        }
        if (isSecure(value)) {
            raw[fullKey] = secretPlaceholder(fullKey);
            secretKeys.push(fullKey);
            encryptedKeys.push(fullKey);
            continue;
        }
        if (value === null || value === undefined) continue;
        raw[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
        if (secretNames.has(fullKey) || fullKey === appSecretsKey) {
            secretKeys.push(fullKey);
            plaintextSecrets.push(fullKey);
        }
    }
    return { stackName, file, raw, secretKeys, plaintextSecrets, encryptedKeys };
}

/** Fills the secret keys that are not set with placeholders, for offline runs; returns their names. */
export function withSecretPlaceholders(config: StackConfig, keys: SecretKey[]): { config: StackConfig; filled: string[] } {
    const raw = { ...config.raw };
    const secretKeys = [...config.secretKeys];
    const filled: string[] = [];
    for (const k of keys) {
        const full = `${NAMESPACE}:${k}`;
        if (raw[full] === undefined) {
            raw[full] = secretPlaceholder(full);
            secretKeys.push(full);
            filled.push(full);
        }
    }
    return { config: { ...config, raw, secretKeys }, filled };
}

function firstLine(message: string): string {
    return message.split("\n")[0].trim();
}

// The commands that set a stack's secrets. Values never appear in them: `pulumi config set` without
// a value prompts for it (hidden) or reads it from standard input, so a value is neither printed
// nor left in the shell history.
import { SECRET_KEYS, SecretKey } from "../../../components/config/schema";
import { NAMESPACE } from "../../../components/config/issues";
import { APP_SECRETS_KEY } from "../../../components/config/secretNames";

export interface SecretToSet {
    /** Full config key, e.g. plone-aws:dbPassword. */
    key: string;
    /** What it is and where the value comes from. */
    why: string;
    /** The exact command; it prompts for the value or reads it from stdin. */
    command: string;
}

/** `pulumi config set --secret <key> --stack <stack>` for a full key (plone-aws:dbPassword, aws:secretKey). */
export function setSecretForStack(key: string, stack: string): string {
    return `pulumi config set --secret ${key} --stack ${stack}`;
}

export function secretKeyName(key: SecretKey): string {
    return `${NAMESPACE}:${key}`;
}

/** Secrets whose values are key files: the command reads them from a file on stdin. */
const KEY_FILES: Partial<Record<SecretKey, string>> = {
    sshPrivateKey: "the private key file of access.publicKey",
    deployKey: "the deploy key file",
};

/** A plone-aws secret with its purpose; key files get a hint on how to pipe them. */
export function ploneSecret(key: SecretKey, stack: string, extra?: string): SecretToSet {
    const file = KEY_FILES[key];
    const why = [SECRET_KEYS[key], extra, file ? `pipe ${file}: ... < FILE` : undefined].filter(Boolean).join("; ");
    return { key: secretKeyName(key), why, command: setSecretForStack(secretKeyName(key), stack) };
}

/** Sorts plone-aws secrets in the order of SECRET_KEYS, other keys after them by name. */
export function sortSecrets(list: SecretToSet[]): SecretToSet[] {
    const order = (Object.keys(SECRET_KEYS) as SecretKey[]).map(secretKeyName);
    const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
    return [...list].sort((a, b) => rank(a.key) - rank(b.key) || a.key.localeCompare(b.key));
}

/** The lines printed for a list of secrets: the command, then what it is. */
export function formatSecrets(list: SecretToSet[]): string[] {
    return sortSecrets(list).flatMap((s) => [`  ${s.command}`, `      ${s.why}`]);
}

/**
 * The command that sets one variable of the app's secret environment (plone-aws:appSecrets, a map
 * NAME -> value): `--path` keeps each value a secret of its own in the stack file.
 */
export function appSecret(name: string, stack: string, why: string): SecretToSet {
    const key = `${NAMESPACE}:${APP_SECRETS_KEY}.${name}`;
    return { key, why, command: `pulumi config set --secret --path '${key}' --stack ${stack}` };
}

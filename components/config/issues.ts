// How a configuration problem is reported: the key path (plone-aws:hosts[2].layers) and what to do.
// Every rule of the configuration (rules.ts, operationsRules.ts, awsRules.ts, secrets.ts) and the
// stack tools report through these.
import { PROJECT } from "./spec";

export interface ConfigIssue {
    /** Key path, e.g. plone-aws:hosts[2].layers */
    path: string;
    message: string;
}

/** The configuration namespace: the Pulumi project's name. */
export const NAMESPACE = PROJECT;

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
export function setSecretCommand(key: string): string {
    return `pulumi config set --secret ${NAMESPACE}:${key} <value>`;
}

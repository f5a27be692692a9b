// Rules of plone-aws:volto's own keys that span several keys: the variables the stack sets itself,
// secrets in an environment every browser may end up reading, the frontend's own repository and its
// revision, and settings no host uses. What the volto layer needs from the hosts and the front ends
// is LAYER_RULES.volto (layerRules.ts). crossFieldIssues (rules.ts) runs them with the others.
import { looksLikeSecretName } from "./secretNames";
import { voltoSchema, type SecretKey } from "./schema";
import { ConfigIssue, keyPath, NAMESPACE, setSecretCommand } from "./issues";
import type { ParsedSections } from "./spec";

/**
 * What each Volto process gets from the stack (render/hostScripts, plone-volto: the process's port
 * and address, where haproxy checks it and sends requests; the site's public address for the
 * browser; the front end's haproxy for the server-side rendering, which knows the Zope clients in
 * rotation): a value of volto.environment would fight them, or be ignored.
 */
export const VOLTO_STACK_VARIABLES = ["PORT", "HOST", "RAZZLE_API_PATH", "RAZZLE_INTERNAL_API_PATH"] as const;

export function voltoIssues(s: Partial<ParsedSections>, ctx: { secrets: Record<SecretKey, boolean> }): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const err = (path: PropertyKey[], message: string) => errors.push({ path: keyPath(path), message });
    const { volto, hosts } = s;
    if (!volto) return { errors, warnings };

    for (const name of Object.keys(volto.environment)) {
        const path = ["volto", "environment", name];
        if ((VOLTO_STACK_VARIABLES as readonly string[]).includes(name)) {
            err(
                path,
                `is set by the stack for each Volto process (${VOLTO_STACK_VARIABLES.join(", ")}: its port and address, https://<frontend.domain>, a front end's haproxy): remove it`,
            );
        } else if (looksLikeSecretName(name)) {
            // Razzle compiles every RAZZLE_* variable of the build into the JavaScript it serves.
            err(
                path,
                "looks like a secret, and volto.environment is readable on the hosts and in the plan (and Volto's build puts RAZZLE_* variables into the JavaScript every browser loads): remove it",
            );
        }
    }

    if (volto.revision !== undefined && volto.repository === undefined)
        err(
            ["volto", "revision"],
            "is the revision of volto.repository, which is unset: the frontend in app.repository (volto.path) is built at app.revision. Remove it, or set volto.repository",
        );
    if (volto.repository !== undefined) {
        if (volto.revision === undefined)
            err(["volto", "revision"], "volto.repository is set: pin the frontend's branch, tag or commit here (a tag, as for app.revision)");
        if (/^(git@|ssh:\/\/)/.test(volto.repository) && !ctx.secrets.deployKey)
            errors.push({
                path: `${NAMESPACE}:deployKey`,
                message: `the Volto frontend's repository (volto.repository) is reached over SSH, so a deploy key is needed: ${setSecretCommand("deployKey")}`,
            });
    }

    const carried = hosts?.some((h) => h.layers.includes("volto"));
    if (hosts && !carried && JSON.stringify(volto) !== JSON.stringify(voltoSchema.parse({})))
        warnings.push({
            path: keyPath(["volto"]),
            message:
                "is set, but no host carries the volto layer, so nothing uses it: add volto to the layers of the hosts that render the frontend, or remove it",
        });
    return { errors, warnings };
}

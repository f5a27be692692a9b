// Stacks for tests: the repository's stack files (with placeholders for unset secrets), or a
// configuration built in the test.
import * as path from "path";
import type { LoadResult } from "../../components/config/load";
import { parseStackConfig } from "../../components/stackConfig";
import type { StackSpec } from "../../components/config/spec";
import { loadStack, LoadedStack } from "../../scripts/lib/offline/loadStack";

export const REPO = path.resolve(__dirname, "..", "..");

/** A stack file of the repository, loaded the way the offline tools load it. */
export function loadRepoStack(stack: string): LoadedStack & { spec: StackSpec } {
    const loaded = loadStack({ stackFile: path.join(REPO, `Pulumi.${stack}.yaml`) });
    if (!loaded.spec) throw new Error(`Pulumi.${stack}.yaml is invalid: ${JSON.stringify(loaded.errors)}`);
    return loaded as LoadedStack & { spec: StackSpec };
}

/** Every secret set, so that only the keys under test can produce errors. */
export const ALL_SECRETS: Record<string, string> = {
    "plone-aws:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----",
    "plone-aws:haproxyStatsPassword": "stats-secret",
    "plone-aws:dbPassword": "db-secret",
    "plone-aws:deployKey": "-----BEGIN OPENSSH PRIVATE KEY-----\ndeploy\n-----END OPENSSH PRIVATE KEY-----",
    "plone-aws:cacheArchivePassword": "archive-secret",
};

/** Parses structured config values (given as objects) the way Pulumi passes them (JSON strings). */
export function parseObjects(config: Record<string, unknown>, stackName = "test"): LoadResult {
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) {
        if (v !== undefined) raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return parseStackConfig(raw, { stackName });
}

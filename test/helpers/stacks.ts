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
    "plone-aws:smtpCredentials": "AKIAEXAMPLESMTPUSER0:smtp-secret",
};

/** Parses structured config values (given as objects) the way Pulumi passes them (JSON strings). */
export function parseObjects(config: Record<string, unknown>, stackName = "test"): LoadResult {
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) {
        if (v !== undefined) raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return parseStackConfig(raw, { stackName });
}

/** A valid single-host ZEO stack (every secret set): the start of the configuration tests, each of which breaks one thing. */
export function minimalConfig(): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        "plone-aws:tier": "development",
        "plone-aws:hosts": [{ name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] }],
        "plone-aws:app": { repository: "https://example.org/buildout.git" },
        "plone-aws:plone": { storage: "zeo", blobs: "local" },
        "plone-aws:frontend": { domain: "www.example.org" },
        "plone-aws:network": { azCount: 1, natGateways: "none", adminCidrs: ["198.51.100.7/32"] },
        "plone-aws:access": { via: "publicIp", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test" },
        ...ALL_SECRETS,
    };
}

// The Pulumi program: read and validate the stack configuration, then build the stack. index.ts
// exports what this returns; the offline plan runs the same function under mocks.
import * as pulumi from "@pulumi/pulumi";
import { formatIssues } from "./config/load";
import { parseStackConfig } from "./stackConfig";
import { SECRET_KEYS, SecretKey } from "./config/schema";
import { NAMESPACE } from "./config/issues";
import { APP_SECRETS_KEY } from "./config/secretNames";
import { PloneStack, StackOutputs } from "./aws/ploneStack";
import type { StackSecrets } from "./aws/stackSecrets";
import { deploymentIssues } from "./config/awsRules";

export interface ProgramOptions {
    /**
     * The offline tools (plan, policy, render) run the program with the stack files' example
     * values (key, certificate, documentation address ranges) and secret placeholders: they list
     * those as what to set before `pulumi up` instead of refusing to run.
     */
    offline?: boolean;
}

/**
 * Validates the whole configuration before a single resource is registered. On any error it
 * stops the program with every error listed and no stack trace (pulumi.RunError). A real
 * deployment (`pulumi preview`, `pulumi up`) also refuses the example values of the stack files
 * and secret values AWS would refuse.
 */
export function ploneProgram(options: ProgramOptions = {}): StackOutputs {
    const stackName = pulumi.getStack();
    const raw = pulumi.runtime.allConfig();
    const { spec, errors, warnings } = parseStackConfig(raw, { stackName });
    for (const w of warnings) pulumi.log.warn(`${w.path}: ${w.message}`);
    if (!spec) throw new pulumi.RunError(formatIssues(errors, `Stack ${stackName}`));

    if (!options.offline) {
        // Secret values AWS would refuse were checked with the configuration (config/secrets.ts).
        const blockers = deploymentIssues(spec);
        if (blockers.length) throw new pulumi.RunError(formatIssues(blockers, `Stack ${stackName}`));
    }

    const config = new pulumi.Config(NAMESPACE);
    const secrets: StackSecrets = {};
    for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
        if (spec.secrets[key]) secrets[key] = config.requireSecret(key);
    }
    if (spec.appSecretNames.length > 0) secrets.appSecrets = config.requireSecretObject<Record<string, string>>(APP_SECRETS_KEY);

    return new PloneStack(spec.resourcePrefix, { spec, secrets }).outputs;
}

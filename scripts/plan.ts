// npm run plan -- <stack> [--stack-file FILE] [--policy-config FILE] [--json]
// What `pulumi up` would create for a stack, computed offline: the program runs in-process under
// Pulumi's mocks with the stack file's configuration, and the plone-guard policy pack judges the
// result (its "Policy" section; `npm run policy` gives the same verdict as an exit code).
// Every registered input is checked against what AWS and the provider accept (scripts/lib/awsCheck).
// Exit 0, or 1 with the configuration errors or the inputs AWS would refuse.
import { exitWith } from "./lib/cli";
import { startPolicyPack } from "./lib/plan/policyPack";
import type { PolicyReport } from "./lib/plan/policyCheck";

const USAGE = "usage: npm run plan -- <stack> [--stack-file FILE] [--policy-config FILE] [--json]";

async function main(argv: string[]): Promise<number> {
    // The policy pack loads while this process loads the program and runs it, so it starts before
    // the heavy modules below are imported.
    const pack = startPolicyPack();
    try {
        const { prepareOfflineCommand } = await import("./lib/offline/command");
        const { addressPlan, runOffline } = await import("./lib/offline/run");
        const { planJson, planText } = await import("./lib/plan/report");
        const { checkPolicies } = await import("./lib/plan/policyCheck");
        const { checkAwsConstraints, formatAwsIssues, siblingStacks } = await import("./lib/awsCheck");

        const command = prepareOfflineCommand(argv, USAGE);
        if ("exitCode" in command) return command.exitCode;
        const { loaded, json, policyConfig } = command;
        const run = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
        const refused = checkAwsConstraints(run, { spec: loaded.spec, siblings: siblingStacks(loaded.config.file) });
        if (refused.length) {
            if (json) console.log(JSON.stringify({ stack: loaded.config.stackName, file: loaded.config.file, awsErrors: refused }, null, 2));
            else console.error(formatAwsIssues(refused, loaded.config.file));
            return 1;
        }
        let policy: PolicyReport | undefined;
        let policyError: string | undefined;
        if (policyConfig.errors.length) {
            policyError = policyConfig.errors.join("; ");
        } else {
            try {
                policy = await checkPolicies(run, { pack, config: policyConfig.config, configFile: policyConfig.configFile });
            } catch (e) {
                // The plan still shows what would be created; the section says why there is no verdict.
                policyError = e instanceof Error ? e.message : String(e);
            }
        }
        const ctx = {
            file: loaded.config.file,
            spec: loaded.spec,
            run,
            warnings: loaded.warnings,
            unsetSecrets: loaded.unsetSecrets,
            deployBlockers: loaded.deployBlockers,
            policy,
            policyError,
        };
        console.log(json ? JSON.stringify(planJson(ctx), null, 2) : planText(ctx));
        return 0;
    } finally {
        pack.stop();
    }
}

exitWith(main(process.argv.slice(2)));

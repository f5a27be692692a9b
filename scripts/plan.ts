// npm run plan -- <stack> [--stack-file FILE] [--policy-config FILE] [--json]
// What `pulumi up` would create for a stack, computed offline: the program runs in-process under
// Pulumi's mocks with the stack file's configuration, and the plone-guard policy pack judges the
// result (its "Policy" section; `npm run policy` gives the same verdict as an exit code).
// Exit 0, or 1 with the configuration errors.
import { exitWith } from "./lib/cli";
import { startPolicyPack } from "./lib/policyPack";
import type { PolicyReport } from "./lib/policyCheck";

const USAGE = "usage: npm run plan -- <stack> [--stack-file FILE] [--policy-config FILE] [--json]";

async function main(argv: string[]): Promise<number> {
    // The policy pack loads while this process loads the program and runs it, so it starts before
    // the heavy modules below are imported.
    const pack = startPolicyPack();
    try {
        const { takeOption, usageError } = await import("./lib/cli");
        const { formatIssues } = await import("../components/config/load");
        const { addressPlan, runOffline } = await import("./lib/offline");
        const { loadStack, parseStackArgs } = await import("./lib/planLoad");
        const { planJson, planText } = await import("./lib/planReport");
        const { checkPolicies, defaultPolicyConfigFile, loadPolicyConfig } = await import("./lib/policyCheck");
        const { StackFileError } = await import("./lib/stackFile");

        const option = takeOption(argv, "--policy-config");
        if (option.missing) return usageError("--policy-config needs a file name", USAGE);
        const { selection, flags, rest } = parseStackArgs(option.rest, ["--json", "--help"]);
        if (flags.has("--help")) {
            console.log(USAGE);
            return 0;
        }
        if (rest.length) return usageError(`unknown argument ${rest[0]}`, USAGE);
        let loaded: ReturnType<typeof loadStack>;
        try {
            loaded = loadStack(selection);
        } catch (e) {
            if (!(e instanceof StackFileError)) throw e;
            console.error(`error: ${e.message}`);
            return 1;
        }
        if (!loaded.spec) {
            if (flags.has("--json")) console.log(JSON.stringify({ stack: loaded.config.stackName, file: loaded.config.file, errors: loaded.errors, unsetSecrets: loaded.unsetSecrets }, null, 2));
            else console.error(formatIssues(loaded.errors, loaded.config.file));
            return 1;
        }
        const run = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
        let policy: PolicyReport | undefined;
        let policyError: string | undefined;
        const policyConfig = loadPolicyConfig(option.value ?? defaultPolicyConfigFile(loaded.spec.stackName, loaded.spec.tier));
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
        const ctx = { file: loaded.config.file, spec: loaded.spec, run, warnings: loaded.warnings, unsetSecrets: loaded.unsetSecrets, policy, policyError };
        console.log(flags.has("--json") ? JSON.stringify(planJson(ctx), null, 2) : planText(ctx));
        return 0;
    } finally {
        pack.stop();
    }
}

exitWith(main(process.argv.slice(2)));

// npm run policy -- <stack> [--stack-file FILE] [--policy-config FILE] [--json | --print-policy-config]
// The policy check of a stack without a cloud account: the program runs under mocks (as for the
// offline plan), then the real plone-guard pack judges its resources over gRPC, as
// `pulumi preview --policy-pack policies` would. The policy config defaults to
// policies/config.<stack>.json, else the one of the stack's tier (dev, staging, prod).
// Exit 0: clean or advisory only; 1: invalid stack or policy config; 2: a mandatory violation.
// --print-policy-config prints the policy config file the check would use (relative to the current
// directory; nothing when the stack has none) and checks nothing: `pulumi preview` in pull-request
// review takes the same file.
import * as path from "path";
import { exitWith } from "./lib/cli";
import { startPolicyPack } from "./lib/plan/policyPack";

const USAGE = "usage: npm run policy -- <stack> [--stack-file FILE] [--policy-config FILE] [--json | --print-policy-config]";
const PRINT_POLICY_CONFIG = "--print-policy-config";

async function printPolicyConfig(argv: string[]): Promise<number> {
    const { prepareOfflineCommand } = await import("./lib/offline/command");
    const command = prepareOfflineCommand(argv, USAGE);
    if ("exitCode" in command) return command.exitCode;
    const { configFile, errors } = command.policyConfig;
    if (errors.length) {
        console.error(errors.map((e) => `error: ${e}`).join("\n"));
        return 1;
    }
    if (configFile) console.log(path.relative(process.cwd(), configFile));
    return 0;
}

async function main(argv: string[]): Promise<number> {
    if (argv.includes(PRINT_POLICY_CONFIG)) return printPolicyConfig(argv.filter((a) => a !== PRINT_POLICY_CONFIG));
    // The pack loads (a second or so) while this process loads the program and runs it, so it
    // starts before the heavy modules below are imported.
    const pack = startPolicyPack();
    try {
        const { prepareOfflineCommand } = await import("./lib/offline/command");
        const { addressPlan, runOffline } = await import("./lib/offline/run");
        const { checkPolicies, exitCodeFor, formatPolicyReport } = await import("./lib/plan/policyCheck");

        const command = prepareOfflineCommand(argv, USAGE);
        if ("exitCode" in command) return command.exitCode;
        const { loaded, json, policyConfig } = command;
        if (policyConfig.errors.length) {
            if (json) console.log(JSON.stringify({ stack: loaded.spec.stackName, configErrors: policyConfig.errors }, null, 2));
            else console.error(policyConfig.errors.map((e) => `error: ${e}`).join("\n"));
            return 1;
        }
        const run = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
        const report = await checkPolicies(run, { pack, config: policyConfig.config, configFile: policyConfig.configFile });
        const code = exitCodeFor(report);
        if (json) {
            console.log(JSON.stringify({ ...report, file: loaded.config.file, warnings: loaded.warnings, exitCode: code }, null, 2));
        } else {
            if (loaded.warnings.length)
                console.log(`Configuration warnings (${loaded.config.file}):\n${loaded.warnings.map((w) => `  - ${w.path}: ${w.message}`).join("\n")}\n`);
            (code === 1 ? console.error : console.log)(formatPolicyReport(report));
        }
        return code;
    } finally {
        pack.stop();
    }
}

exitWith(main(process.argv.slice(2)));

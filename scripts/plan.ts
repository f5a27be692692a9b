// npm run plan -- <stack> [--stack-file FILE] [--json]
// What `pulumi up` would create for a stack, computed offline: the program runs in-process under
// Pulumi's mocks with the stack file's configuration. Exit 0, or 1 with the configuration errors.
import { formatIssues } from "../components/config/load";
import { addressPlan, runOffline } from "./lib/offline";
import { loadStack, parseStackArgs } from "./lib/planLoad";
import { planJson, planText } from "./lib/planReport";
import { StackFileError } from "./lib/stackFile";
import { exitWith, usageError } from "./lib/cli";

const USAGE = "usage: npm run plan -- <stack> [--stack-file FILE] [--json]";

async function main(argv: string[]): Promise<number> {
    const { selection, flags, rest } = parseStackArgs(argv, ["--json", "--help"]);
    if (flags.has("--help")) {
        console.log(USAGE);
        return 0;
    }
    if (rest.length) return usageError(`unknown argument ${rest[0]}`, USAGE);
    const loaded = loadStack(selection);
    if (!loaded.spec) {
        if (flags.has("--json")) console.log(JSON.stringify({ stack: loaded.config.stackName, file: loaded.config.file, errors: loaded.errors, unsetSecrets: loaded.unsetSecrets }, null, 2));
        else console.error(formatIssues(loaded.errors, loaded.config.file));
        return 1;
    }
    const run = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
    const ctx = { file: loaded.config.file, spec: loaded.spec, run, warnings: loaded.warnings, unsetSecrets: loaded.unsetSecrets };
    console.log(flags.has("--json") ? JSON.stringify(planJson(ctx), null, 2) : planText(ctx));
    return 0;
}

exitWith(main(process.argv.slice(2)), [StackFileError]);

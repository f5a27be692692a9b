// What the offline commands (plan, policy) do before they run the program: arguments, the stack
// file and its validation, the policy config. Errors are printed here; the command exits with
// the code it is given.
import { formatIssues } from "../../../components/config/load";
import type { StackSpec } from "../../../components/config/spec";
import { takeOption, usageError } from "../cli";
import { LoadedStack, loadStack, parseStackArgs } from "./loadStack";
import { defaultPolicyConfigFile, loadPolicyConfig } from "../plan/policyCheck";
import { StackFileError } from "./stackFile";

export interface OfflineCommand {
    loaded: LoadedStack & { spec: StackSpec };
    json: boolean;
    /** The policy config: --policy-config FILE, or the stack's default (config.<stack>.json, else its tier's). */
    policyConfig: ReturnType<typeof loadPolicyConfig>;
}

/** Parses `<stack> [--stack-file FILE] [--policy-config FILE] [--json]` and loads the stack; an exit code when there is nothing to run. */
export function prepareOfflineCommand(argv: string[], usage: string): OfflineCommand | { exitCode: number } {
    const option = takeOption(argv, "--policy-config");
    if (option.missing) return { exitCode: usageError("--policy-config needs a file name", usage) };
    let parsed: ReturnType<typeof parseStackArgs>;
    let loaded: LoadedStack | undefined;
    try {
        parsed = parseStackArgs(option.rest, ["--json", "--help"]);
        if (!parsed.flags.has("--help") && !parsed.rest.length) loaded = loadStack(parsed.selection);
    } catch (e) {
        if (!(e instanceof StackFileError)) throw e;
        console.error(`error: ${e.message}`);
        return { exitCode: 1 };
    }
    if (parsed.flags.has("--help")) {
        console.log(usage);
        return { exitCode: 0 };
    }
    if (!loaded) return { exitCode: usageError(`unknown argument ${parsed.rest[0]}`, usage) };
    const json = parsed.flags.has("--json");
    if (!loaded.spec) {
        if (json)
            console.log(
                JSON.stringify({ stack: loaded.config.stackName, file: loaded.config.file, errors: loaded.errors, unsetSecrets: loaded.unsetSecrets }, null, 2),
            );
        else console.error(formatIssues(loaded.errors, loaded.config.file));
        return { exitCode: 1 };
    }
    const spec = loaded.spec;
    return {
        loaded: { ...loaded, spec },
        json,
        policyConfig: loadPolicyConfig(option.value ?? defaultPolicyConfigFile(spec.stackName, spec.tier)),
    };
}

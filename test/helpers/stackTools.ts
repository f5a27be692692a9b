// Checks shared by the stack-tool tests: a written stack file must validate the way `npm run plan`
// validates it, plan offline with nothing AWS would refuse, and pass the policy pack with its
// tier's policy config.
import * as path from "path";
import YAML from "yaml";
import { expect } from "chai";
import { addressPlan, CapturedResource, OfflineRun, runOffline } from "../../scripts/lib/offline/run";
import { LoadedStack, validateStack } from "../../scripts/lib/offline/loadStack";
import { parseStackText } from "../../scripts/lib/offline/stackFile";
import type { StackSpec } from "../../components/config/spec";
import { REPO } from "./stacks";
import {
    checkPolicies,
    defaultPolicyConfigFile,
    exitCodeFor,
    loadPolicyConfig,
    PolicyCheckOptions,
    PolicyReport,
    startPolicyPack,
} from "../../scripts/lib/plan/policyCheck";
import type { PolicyPackProcess } from "../../scripts/lib/plan/policyPack";
import { run, RunResult } from "./system";
import { checkAwsConstraints, formatAwsIssues } from "../../scripts/lib/awsCheck";
import type { CommandIo } from "../../scripts/lib/cli";

export interface CheckedStack {
    loaded: LoadedStack & { spec: StackSpec };
    run: OfflineRun;
    policy: PolicyReport;
}

/**
 * The policy pack of a spec file's checks: starting one costs about two seconds of CPU, and each
 * check configures it afresh (policy config, stack), as `pulumi preview` configures the one it
 * starts. It starts with the first check and stops after the tests of the suite that made it (call
 * this at the top of a spec file: after the file's tests).
 */
export function sharedPolicyPack(): SharedPolicyPack {
    const shared = new SharedPolicyPack();
    after(() => shared.stop());
    return shared;
}

export class SharedPolicyPack {
    private pack?: PolicyPackProcess;
    private last: Promise<unknown> = Promise.resolve();

    /** checkPolicies with this pack, one check at a time (a check configures the pack for its run). */
    check(run: OfflineRun, options: Pick<PolicyCheckOptions, "config" | "configFile"> = {}): Promise<PolicyReport> {
        const report = this.last.then(() => {
            this.pack ??= startPolicyPack();
            return checkPolicies(run, { ...options, pack: this.pack, keepPack: true });
        });
        // A check that failed may leave the pack unusable: the next one starts another.
        this.last = report.catch(() => this.stop());
        return report;
    }

    stop(): void {
        this.pack?.stop();
        this.pack = undefined;
    }
}

/**
 * Validates a stack file's text (unset secrets become placeholders, as in the offline plan) and
 * plans it under mocks. Fails the test with every configuration error.
 */
export async function checkStackText(text: string, stackName: string, pack: SharedPolicyPack, expected: { mandatory?: string[] } = {}): Promise<CheckedStack> {
    const loaded = validateStack(parseStackText(text, `Pulumi.${stackName}.yaml`, stackName));
    expect(loaded.errors, `configuration errors of ${stackName}`).to.deep.equal([]);
    const spec = loaded.spec!;
    const planned = await runOffline(loaded.config, { addresses: addressPlan(spec) });
    // As `npm run plan` does: nothing AWS or the provider would refuse at `pulumi up`.
    const refused = checkAwsConstraints(planned, { spec });
    expect(refused, formatAwsIssues(refused, `Pulumi.${stackName}.yaml`)).to.deep.equal([]);
    // As `npm run policy` does: the real pack over gRPC, with the stack's (or its tier's) policy config.
    const { config, configFile, errors } = loadPolicyConfig(defaultPolicyConfigFile(stackName, spec.tier));
    expect(errors, "policy config").to.deep.equal([]);
    const policy = await pack.check(planned, { config, configFile });
    const mandatory = policy.violations.filter((v) => v.level === "mandatory");
    const unexpected = mandatory.filter((v) => !(expected.mandatory ?? []).includes(v.policy));
    expect(
        unexpected.map((v) => `${v.policy}: ${v.message}`),
        `mandatory policy violations of ${stackName}`,
    ).to.deep.equal([]);
    // The violations the caller expects must really be reported (a stack without TLS, for instance).
    expect([...new Set(mandatory.map((v) => v.policy))].sort(), `expected mandatory violations of ${stackName}`).to.deep.equal(
        [...(expected.mandatory ?? [])].sort(),
    );
    expect(exitCodeFor(policy)).to.equal(mandatory.length > 0 ? 2 : 0);
    return { loaded: loaded as LoadedStack & { spec: StackSpec }, run: planned, policy };
}

/** Registrations of one resource type. */
export function ofType(run: OfflineRun, type: string): CapturedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/** The `config:` mapping of a stack file's text, as plain values. */
export function configOf(text: string): Record<string, unknown> {
    return (YAML.parse(text) as { config: Record<string, unknown> }).config;
}

/**
 * Calls a command (cloneStackCommand, importOpsWorksCommand...) in this process with its output
 * captured: the same status and text as its process, without a second or more of CPU to start one
 * (ts-node, @pulumi/pulumi). Relative paths in `argv` start from this process's directory, `cwd`
 * is where the command's default paths start, `env` what it reads and gives the programs it starts
 * (this process's by default). Each command keeps a case through runScript too.
 */
export async function runCommand(
    command: (argv: string[], io: CommandIo) => Promise<number>,
    argv: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
    let stdout = "";
    let stderr = "";
    const io: CommandIo = {
        out: (text) => (stdout += `${text}\n`),
        err: (text) => (stderr += `${text}\n`),
        cwd: options.cwd ?? REPO,
        env: options.env ?? process.env,
        ownStdio: false,
    };
    const status = await command(argv, io);
    return { status, stdout, stderr };
}

/** Runs one of the repository's scripts as `npm run <name>` would, from `cwd`. */
export function runScript(script: string, args: string[], cwd = REPO): RunResult {
    const register = require.resolve("ts-node/register/transpile-only", { paths: [REPO] });
    return run(process.execPath, ["-r", register, path.join(REPO, "scripts", script), ...args], {
        cwd,
        env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, "tsconfig.json") },
    });
}

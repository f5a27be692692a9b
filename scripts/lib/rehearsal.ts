// A whole rehearsal of `pulumi up` for a stack: the program runs offline (under mocks, with the
// addresses the plan gives the instances and the run's own secrets), a test host starts for every
// instance at its planned private IP, every provisioning command runs over real SSH in dependency
// order, the smoke checks run, and the test hosts are removed (unless kept). scripts/rehearse.ts
// is its command line; tests call it with a program of their own.
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { formatIssues } from "../../components/config/load";
import type { StackOutputs } from "../../components/program";
import { addressPlan, OfflineRun, plannedHostAddresses, runOffline } from "./offline";
import { loadStack, StackSelection } from "./planLoad";
import { withRehearsalSecrets } from "./rehearsalStack";
import { RehearsalError, RehearsalStep, RunnerResult, runSteps, sshTransport, stepsFromRun } from "./rehearsalRunner";
import { runSmokeChecks, SMOKE_CHECKS, SmokeCheck, SmokeResult } from "./smokeChecks";
import { BaseRoot, DEFAULT_CACHE_DIR, machineRoutesOverlapping, TestHostError, TestHostRun, teardownStale } from "./testHosts";

export interface RehearseOptions extends StackSelection {
    keep?: boolean;
    runDir?: string;
    cacheDir?: string;
    /** Commands at once (default 8). */
    parallel?: number;
    /** Runs this program instead of plone-aws's (tests: synthetic commands). */
    program?: () => StackOutputs | Record<string, unknown>;
    smokeChecks?: SmokeCheck[];
    /** Removes the test hosts on SIGINT/SIGTERM (the command line). */
    handleSignals?: boolean;
    print?: (line: string) => void;
}

export interface RehearsalReport {
    /** 0: every command and smoke check passed; 1: one failed, or the stack is invalid. */
    exitCode: number;
    runId?: string;
    runDir?: string;
    base?: BaseRoot;
    steps: RehearsalStep[];
    result?: RunnerResult;
    smoke: SmokeResult[];
    timings: { vpcSeconds: number; hostsSeconds: number; teardownSeconds: number; totalSeconds: number };
    /** What teardown could not remove (empty when all is gone, or kept). */
    leftovers: string[];
}

const seconds = (s: number) => `${s.toFixed(1)}s`;

/** A throwaway ed25519 private key (the deploy key the rehearsal hands the stack). */
function generateKey(file: string): string {
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "plone-aws-rehearsal-deploy", "-f", file], { encoding: "utf8" });
    if (r.status !== 0) throw new TestHostError(`ssh-keygen failed: ${r.stderr}`);
    return fs.readFileSync(file, "utf8");
}

export async function rehearse(options: RehearseOptions): Promise<RehearsalReport> {
    const print = options.print ?? ((line: string) => console.log(line));
    const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
    const startedAt = Date.now();
    const report: RehearsalReport = { exitCode: 1, steps: [], smoke: [], timings: { vpcSeconds: 0, hostsSeconds: 0, teardownSeconds: 0, totalSeconds: 0 }, leftovers: [] };

    const loaded = loadStack(options);
    if (!loaded.spec) {
        print(formatIssues(loaded.errors, loaded.config.file));
        return report;
    }
    const stale = await teardownStale({ cacheDir });
    for (const id of stale.removed) print(`removed the leftovers of crashed rehearsal ${id}`);
    for (const l of stale.leftovers) print(`warning: could not remove ${l}`);

    const cidr = loaded.spec.network.cidr;
    for (const r of machineRoutesOverlapping(cidr)) {
        print(`note: this machine routes ${r.dst}${r.dev ? ` via ${r.dev}` : ""}, which overlaps ${cidr}; the rehearsal's VPC lives in namespaces of its own, so they never meet`);
    }

    const { run: hosts, base } = await TestHostRun.create({ vpcCidr: cidr, region: loaded.spec.region, cacheDir, runDir: options.runDir, log: print });
    Object.assign(report, { runId: hosts.runId, runDir: hosts.runDir, base });
    // Ctrl-C: no further command starts, the running ones end with their hosts, which are removed
    // (or kept with --keep); a second Ctrl-C exits at once (the next rehearsal removes what is left).
    let interrupted: NodeJS.Signals | undefined;
    const interruption = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
        if (interrupted) {
            print(`${signal} again: exiting now; npm run rehearse -- --teardown stale removes what is left of ${hosts.runId}`);
            process.exit(130);
        }
        interrupted = signal;
        print(`\n${signal}: stopping; ${options.keep ? "keeping" : "removing"} the test hosts of ${hosts.runId}`);
        interruption.abort();
        if (options.keep) {
            print(hosts.keep().join("\n"));
            process.exit(130);
        }
        void hosts.teardown();
    };
    if (options.handleSignals) {
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
    }

    let program: OfflineRun | undefined;
    let addresses: Record<string, string> = {};
    let hostCount = 0;
    try {
        const rehearsal = withRehearsalSecrets(loaded, {
            privateKey: hosts.privateKey,
            publicKey: hosts.publicKey,
            deployKey: generateKey(path.join(hosts.runDir, "ssh", "deploy_key")),
        });
        const spec = rehearsal.spec;
        addresses = plannedHostAddresses(spec);
        program = await runOffline(rehearsal.config, { addresses: addressPlan(spec), program: options.program });
        const steps = stepsFromRun(program, { hostAddresses: addresses });
        report.steps = steps;
        const known = new Set(Object.values(addresses));
        const stray = steps.filter((s) => !known.has(s.address));
        if (stray.length) {
            throw new RehearsalError(`these commands connect to addresses no planned instance has: ${stray.map((s) => `${s.host}/${s.step} -> ${s.address}`).join(", ")} ` +
                `(planned: ${Object.entries(addresses).map(([h, a]) => `${h} ${a}`).join(", ")})`);
        }

        print(`Rehearsal of ${loaded.config.stackName} (${path.relative(process.cwd(), loaded.config.file) || loaded.config.file}), run ${hosts.runId} in ${path.relative(process.cwd(), hosts.runDir) || "."}`);
        const started = await hosts.startHosts(Object.entries(addresses).map(([name, address]) => ({ name, address })));
        hostCount = started.length;
        for (const h of started) print(`[${h.name}] test host ${h.address} (${h.hostname}) up in ${seconds(h.startSeconds)}`);

        if (!steps.length) print("note: the program registers no command:remote:Command yet: there is nothing to provision");
        report.result = await runSteps(steps, sshTransport(hosts), {
            logsDir: hosts.logsDir, concurrency: options.parallel ?? 8, redact: rehearsal.secretValues, print, signal: interruption.signal,
        });
        if (report.result.ok && !interrupted) {
            report.smoke = await runSmokeChecks(options.smokeChecks ?? SMOKE_CHECKS, { spec, run: program, hosts, addresses, steps }, print, interruption.signal);
        }
    } finally {
        if (options.handleSignals) {
            process.off("SIGINT", onSignal);
            process.off("SIGTERM", onSignal);
        }
        if (options.keep) print(hosts.keep().join("\n"));
        else {
            report.leftovers = (await hosts.teardown()).leftovers;
            for (const l of report.leftovers) print(`warning: teardown left ${l}`);
        }
    }

    const result = report.result;
    const ok = !interrupted && !!result?.ok && report.smoke.every((s) => s.ok) && report.leftovers.length === 0;
    report.exitCode = interrupted ? 130 : ok ? 0 : 1;
    report.timings = { ...hosts.timings, totalSeconds: (Date.now() - startedAt) / 1000 };
    const perHost = new Map<string, number>();
    for (const r of result?.results ?? []) perHost.set(r.host, (perHost.get(r.host) ?? 0) + (r.seconds ?? 0));
    print([
        "",
        `Summary of rehearsal ${hosts.runId} (${loaded.config.stackName})`,
        `  base root      ${base.built ? `built in ${seconds(base.seconds)}` : "reused"} (${path.relative(process.cwd(), base.dir)})`,
        `  VPC, apt proxy ${seconds(hosts.timings.vpcSeconds)}`,
        `  test hosts     ${hostCount} started in ${seconds(hosts.timings.hostsSeconds)}`,
        `  commands       ${(result?.results ?? []).filter((r) => r.status === "ok").length}/${report.steps.length} ok in ${seconds(result?.seconds ?? 0)}` +
            (perHost.size ? ` (${[...perHost].map(([h, s]) => `${h} ${seconds(s)}`).join(", ")})` : ""),
        `  smoke checks   ${report.smoke.filter((s) => s.ok).length}/${report.smoke.length} ok`,
        `  teardown       ${options.keep ? "kept (--keep)" : seconds(hosts.timings.teardownSeconds)}`,
        `  total          ${seconds(report.timings.totalSeconds)}`,
        `  logs           ${path.relative(process.cwd(), hosts.logsDir)}`,
        ok ? "OK"
            : interrupted ? `INTERRUPTED (${interrupted})`
            : result?.failed ? `FAILED: [${result.failed.host}] ${result.failed.step}`
            : report.leftovers.length ? "FAILED: teardown left parts of the run behind"
            : `FAILED: ${report.smoke.filter((s) => !s.ok).map((s) => s.name).join("; ") || "see above"}`,
    ].join("\n"));
    return report;
}

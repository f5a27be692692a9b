// A whole rehearsal of `pulumi up` for a stack: the program runs offline (under mocks, with the
// addresses the plan gives the instances and the run's own secrets), a test host starts for every
// instance at its planned private IP with its EBS volumes (loop devices), every provisioning
// command runs over real SSH in dependency order, the smoke checks run, a second provisioning run
// must change and restart nothing, and the test hosts are removed (unless kept).
//
// The application: the Plone buildout cannot be built here (no PyPI), so the stack deploys a
// fixture buildout (scripts/lib/rehearsal/standin.ts) that git daemon serves in the run's VPC namespace,
// built by a stand-in build command. Everything else is the real thing.
//
// `Rehearsal` is a rehearsal's session (hosts, program, steps) for tests and bench:deploy;
// `rehearse()` is the whole sequence that scripts/rehearse.ts runs.
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { NAMESPACE } from "../../../components/config/issues";
import { formatIssues } from "../../../components/config/load";
import type { StackSpec } from "../../../components/config/spec";
import type { StackOutputs } from "../../../components/aws/ploneStack";
import { buildTopology } from "../../../components/topology";
import { daemonChanges, releaseTreesOf, secondRunProblems, snapshotDaemons } from "./idempotence";
import { addressPlan, OfflineRun, plannedHostAddresses, runOffline } from "../offline/run";
import { LoadedStack, loadStack, StackSelection } from "../offline/loadStack";
import { RehearsalApp, withRehearsalApp, withRehearsalDatabase, withRehearsalSecrets } from "./stack";
import {
    AlbStandin,
    albStandinOf,
    albStandinScript,
    RdsStandin,
    rdsStandinOf,
    rdsStandinScript,
    SmtpRelayStandin,
    smtpRelayStandinOf,
    smtpRelayStandinScript,
    trustSmtpStandinScript,
} from "./awsStandins";
import { planMismatches, plannedSteps } from "./planMatch";
import { plannedVolumes, RehearsalError, RehearsalStep, RunnerResult, runSteps, sshTransport, stepsFromRun } from "./runner";
import { hostsAnswerAtTheirAddresses, runSmokeChecks, SMOKE_CHECKS, SmokeCheck, SmokeContext, SmokeResult } from "./smokeChecks";
import type { FixtureGit } from "./standin";
import { needsPackageStandins, rehearsalFixture } from "./fixture";
import { TestHostRun } from "./testHosts";
import { BaseRoot } from "./baseRoot";
import { DEFAULT_CACHE_DIR, teardownStale } from "./runs";
import { machineRoutesOverlapping } from "./machine";
import { TestHostError } from "./processes";
import { runsBuild } from "../../../components/layers";

export { STANDIN_ENVIRONMENT } from "./fixture";

/** What the rehearsal says about itself before it starts. */
export const WHAT_IS_REAL = [
    "The Plone buildout cannot be built here (no PyPI): the hosts deploy a fixture buildout served by git daemon",
    "in the run's VPC, whose stand-in build makes bin/client1..N and bin/zeoserver running a small python3 HTTP app",
    "(a pip stack: a fixture Plone 6 project whose stand-in wheels, from a package index in the run's VPC, run the",
    "same app under runwsgi; Volto: a stand-in Node server built with pnpm, Node.js and pnpm from stand-ins of",
    "nodejs.org and the npm registry, named below).",
    "Everything else is real: the scripts pulumi up sends over SSH, apt, git, releases, supervisor, haproxy, varnish,",
    "nginx, GlusterFS and the mounts; the EBS volumes are loop devices shown as Nitro NVMe devices. What AWS itself",
    "provides (RDS, the application load balancer, SES's SMTP endpoint) is played by stand-in test hosts, named below.",
].join("\n");

export interface RehearsalStartOptions extends StackSelection {
    runDir?: string;
    cacheDir?: string;
    /** Runs this program instead of plone-aws's (tests: synthetic commands). */
    program?: () => StackOutputs | Record<string, unknown>;
    print?: (line: string) => void;
}

const seconds = (s: number) => `${s.toFixed(1)}s`;

/** A throwaway ed25519 private key (the deploy key the rehearsal hands the stack). */
function generateKey(file: string): string {
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "plone-aws-rehearsal-deploy", "-f", file], { encoding: "utf8" });
    if (r.status !== 0) throw new TestHostError(`ssh-keygen failed: ${r.stderr}`);
    return fs.readFileSync(file, "utf8");
}

/** The stack could not be loaded: the issues, formatted. */
export class InvalidStackError extends Error {}

/**
 * One rehearsal: its test hosts, the fixture buildout, the program's captured run and steps.
 * start() -> provision() (as often as needed; plan() first to change the app's revision) ->
 * smoke() -> teardown() or keep().
 */
export class Rehearsal {
    program!: OfflineRun;
    steps: RehearsalStep[] = [];
    spec!: StackSpec;
    secretValues: string[] = [];
    /** What the rehearsal changed in the stack's configuration (the app), for the output. */
    appChanges: string[] = [];
    /** Planned private IP by host name (and "bastion"). */
    readonly addresses: Record<string, string>;
    /** The RDS instance of the plan, played by a PostgreSQL test host (none without RDS). */
    rds?: RdsStandin;
    /** The application load balancer of the plan, played by haproxy on a test host (none with an Elastic IP). */
    alb?: AlbStandin;
    /** The SMTP relay the mail relays send to (SES's endpoint), played by the SMTP stand-in (none without plone-aws:mail). */
    smtp?: SmtpRelayStandin;
    /** What plays each stand-in (e.g. "haproxy 2.6.12"), once startHosts() has set it up. */
    private standinVersions: { rds?: string; alb?: string; smtp?: string } = {};
    private app: RehearsalApp;
    /** What the fixture's build gets from stand-ins (PyPI, nodejs.org, the npm registry), for the output. */
    private readonly buildStandins: string[];
    /** The Volto project's folder in the fixture repository (a stack with volto hosts). */
    readonly voltoPath?: string;
    /** The repository a new revision is committed to: the fixture buildout or Plone 6 project. */
    readonly repo: FixtureGit;
    private readonly deployKey: string;
    /** The secrets generated for this run, kept across plans (render/stack.ts withRehearsalSecrets). */
    private readonly generatedSecrets = new Map<string, string>();

    private constructor(
        readonly loaded: LoadedStack & { spec: StackSpec },
        readonly hosts: TestHostRun,
        readonly base: BaseRoot,
        private readonly options: RehearsalStartOptions,
    ) {
        this.addresses = plannedHostAddresses(loaded.spec);
        const topology = buildTopology(loaded.spec);
        const gitHost = topology.hosts.find((h) => runsBuild(h))?.name ?? Object.keys(this.addresses)[0];
        const fixture = rehearsalFixture(hosts, loaded.spec, this.addresses[gitHost]);
        this.repo = fixture.repo;
        this.app = fixture.app;
        this.voltoPath = fixture.voltoPath;
        this.buildStandins = fixture.standins;
        this.deployKey = generateKey(path.join(hosts.runDir, "ssh", "deploy_key"));
    }

    get stackName(): string {
        return this.loaded.config.stackName;
    }

    get print(): (line: string) => void {
        return this.options.print ?? ((line: string) => console.log(line));
    }

    /**
     * Loads the stack, removes what crashed rehearsals left, makes the run (base root, VPC, git
     * daemon, fixture buildout), runs the program offline. Throws InvalidStackError for a stack
     * that does not validate. The hosts start with startHosts().
     */
    static async start(options: RehearsalStartOptions): Promise<Rehearsal> {
        const print = options.print ?? ((line: string) => console.log(line));
        const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
        const loaded = loadStack(options);
        if (!loaded.spec) throw new InvalidStackError(formatIssues(loaded.errors, loaded.config.file));
        const stale = await teardownStale({ cacheDir });
        for (const id of stale.removed) print(`removed the leftovers of crashed rehearsal ${id}`);
        for (const l of stale.leftovers) print(`warning: could not remove ${l}`);
        const cidr = loaded.spec.network.cidr;
        for (const r of machineRoutesOverlapping(cidr)) {
            print(
                `note: this machine routes ${r.dst}${r.dev ? ` via ${r.dev}` : ""}, which overlaps ${cidr}; the rehearsal's VPC lives in namespaces of its own, so they never meet`,
            );
        }
        const { run: hosts, base } = await TestHostRun.create({
            vpcCidr: cidr,
            region: loaded.spec.region,
            cacheDir,
            runDir: options.runDir,
            serveGit: true,
            serveFiles: needsPackageStandins(loaded.spec),
            log: print,
        });
        try {
            const rehearsal = new Rehearsal(loaded as LoadedStack & { spec: StackSpec }, hosts, base, options);
            await rehearsal.plan();
            return rehearsal;
        } catch (e) {
            await hosts.teardown();
            throw e;
        }
    }

    /**
     * Runs the program offline with the rehearsal's app settings (changed by `app`: another
     * revision, as a `pulumi config set` before `pulumi up` would) and takes its commands.
     */
    async plan(app: Partial<RehearsalApp> = {}): Promise<void> {
        this.app = { ...this.app, ...app };
        const withDatabase = withRehearsalDatabase(this.loaded.config);
        const withApp = withRehearsalApp(withDatabase.config, this.app);
        const rehearsal = withRehearsalSecrets(
            { ...this.loaded, config: withApp.config },
            {
                privateKey: this.hosts.privateKey,
                publicKey: this.hosts.publicKey,
                deployKey: this.deployKey,
                generated: this.generatedSecrets,
            },
        );
        this.appChanges = [...withDatabase.changes, ...withApp.changes];
        this.spec = rehearsal.spec;
        this.secretValues = rehearsal.secretValues;
        this.program = await runOffline(rehearsal.config, { addresses: addressPlan(this.spec), program: this.options.program });
        const steps = stepsFromRun(this.program, { hostAddresses: this.addresses });
        const known = new Set(Object.values(this.addresses));
        const stray = steps.filter((s) => !known.has(s.address));
        if (stray.length) {
            throw new RehearsalError(
                `these commands connect to addresses no planned instance has: ${stray.map((s) => `${s.host}/${s.step} -> ${s.address}`).join(", ")} ` +
                    `(planned: ${Object.entries(this.addresses)
                        .map(([h, a]) => `${h} ${a}`)
                        .join(", ")})`,
            );
        }
        this.steps = steps;
        this.rds = rdsStandinOf(this.program, this.spec);
        this.alb = albStandinOf(this.program, this.spec, this.addresses);
        this.smtp = smtpRelayStandinOf(this.spec, rehearsal.config.raw[`${NAMESPACE}:smtpCredentials`]);
    }

    /** Starts a test host for every planned instance, with its EBS volumes. */
    async startHosts(): Promise<void> {
        const volumes = plannedVolumes(this.program, this.addresses);
        const started = await this.hosts.startHosts([
            ...Object.entries(this.addresses).map(([name, address]) => ({
                name,
                address,
                volumes: (volumes[name] ?? []).map(({ volumeId, sizeGiB }) => ({ volumeId, sizeGiB })),
            })),
            ...(this.rds ? [{ name: this.rds.host, address: this.rds.address, dnsNames: [this.rds.endpoint] }] : []),
            ...(this.alb ? [{ name: this.alb.host, address: this.alb.address, dnsNames: [this.alb.dnsName] }] : []),
            ...(this.smtp ? [{ name: this.smtp.host, address: this.smtp.address, dnsNames: [this.smtp.endpoint] }] : []),
        ]);
        for (const h of started) {
            const vols = h.volumes.map((v) => `${v.device}=${v.volumeId} (${v.sizeGiB} GiB, ${v.loop})`).join(", ");
            this.print(`[${h.name}] test host ${h.address} (${h.hostname}) up in ${seconds(h.startSeconds)}${vols ? `; EBS volumes ${vols}` : ""}`);
        }
        const lastLine = (out: string) => out.trim().split("\n").pop() ?? "";
        await Promise.all([
            (async () => {
                if (!this.rds) return;
                const t = Date.now();
                this.standinVersions.rds = lastLine(await this.root(this.rds.host, rdsStandinScript(this.rds, this.spec.network.cidr), 600_000));
                this.print(
                    `[stand-in] RDS ${this.rds.endpoint}:${this.rds.port} is played by ${this.standinVersions.rds} on test host ${this.rds.host} (${this.rds.address}), ` +
                        `database ${this.rds.dbName}, master user ${this.rds.username} with the password the program sets (${seconds((Date.now() - t) / 1000)})`,
                );
            })(),
            (async () => {
                if (!this.alb) return;
                const t = Date.now();
                this.standinVersions.alb = lastLine(await this.root(this.alb.host, albStandinScript(this.alb, this.spec.frontend.domain), 600_000));
                const hc = this.alb.targetGroup.healthCheck;
                this.print(
                    `[stand-in] the application load balancer ${this.alb.dnsName} is played by ${this.standinVersions.alb} on test host ${this.alb.host} (${this.alb.address}): ` +
                        `listeners ${this.alb.listeners.map((l) => `${l.protocol} ${l.port} (${l.action.kind === "forward" ? "forward" : `redirect to ${l.action.protocol} ${l.action.port}`})`).join(", ")}; ` +
                        `target group ${this.alb.targetGroup.name} (${this.alb.targetGroup.targets.map((x) => `${x.host} ${x.address}:${x.port}`).join(", ")}) checked as ALB does: ` +
                        `GET ${hc.path} every ${hc.intervalSeconds}s (timeout ${hc.timeoutSeconds}s), healthy after ${hc.healthyThreshold}, unhealthy after ${hc.unhealthyThreshold}, matcher ${hc.matcher} ` +
                        `(${seconds((Date.now() - t) / 1000)})`,
                );
            })(),
            (async () => {
                if (!this.smtp) return;
                const smtp = this.smtp;
                const t = Date.now();
                const out = await this.root(smtp.host, smtpRelayStandinScript(smtp), 600_000);
                this.standinVersions.smtp = lastLine(out);
                const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(out)?.[0] ?? "";
                const relays = buildTopology(this.spec).roles.mailRelays;
                await Promise.all(relays.map((h) => this.root(h, trustSmtpStandinScript(certificate))));
                this.print(
                    `[stand-in] ${smtp.plays} ${smtp.endpoint}:${smtp.port} is played by the SMTP stand-in (${this.standinVersions.smtp}) on test host ${smtp.host} (${smtp.address}): ` +
                        `${smtp.tls === "implicit" ? "TLS" : "STARTTLS"}, AUTH as ${smtp.user} with the password of the run's plone-aws:smtpCredentials; ` +
                        `its certificate for ${smtp.endpoint} is trusted by ${relays.join(", ")} (${seconds((Date.now() - t) / 1000)})`,
                );
            })(),
        ]);
    }

    /** The AWS parts this rehearsal plays with local stand-ins, one line each. */
    get standins(): string[] {
        return [
            ...this.buildStandins,
            ...(this.rds ? [`RDS endpoint ${this.rds.endpoint}:${this.rds.port}: PostgreSQL on test host ${this.rds.host} (${this.rds.address})`] : []),
            ...(this.alb
                ? [
                      `application load balancer ${this.alb.dnsName}: played by ${this.standinVersions.alb ?? "haproxy"} on test host ${this.alb.host} (${this.alb.address}) (stand-in)`,
                  ]
                : []),
            ...(this.smtp
                ? [
                      `${this.smtp.plays} SMTP ${this.smtp.endpoint}:${this.smtp.port}: the SMTP stand-in (${this.standinVersions.smtp ?? "aiosmtpd"}) on test host ${this.smtp.host} (${this.smtp.address}) (stand-in)`,
                  ]
                : []),
        ];
    }

    /** Runs every step of the current plan, as a `pulumi up` that creates or replaces them all. */
    provision(options: { concurrency?: number; signal?: AbortSignal } = {}): Promise<RunnerResult> {
        if (!this.steps.length) this.print("note: the program registers no command:remote:Command yet: there is nothing to provision");
        return runSteps(this.steps, sshTransport(this.hosts), {
            logsDir: this.hosts.logsDir,
            concurrency: options.concurrency ?? 8,
            redact: this.secretValues,
            print: this.print,
            signal: options.signal,
        });
    }

    smokeContext(): SmokeContext {
        return {
            spec: this.spec,
            run: this.program,
            hosts: this.hosts,
            addresses: this.addresses,
            steps: this.steps,
            standins: {
                ...(this.rds ? { [this.rds.endpoint]: `RDS, played by ${this.rds.host}` } : {}),
                ...(this.smtp ? { [this.smtp.endpoint]: `${this.smtp.plays}, played by ${this.smtp.host}` } : {}),
            },
            alb: this.alb,
            smtp: this.smtp,
        };
    }

    smoke(checks: SmokeCheck[] = SMOKE_CHECKS, signal?: AbortSignal): Promise<SmokeResult[]> {
        return runSmokeChecks(checks, this.smokeContext(), this.print, signal);
    }

    /** Runs a command as root on a test host; throws with its output unless it exits 0. */
    async root(host: string, script: string, timeoutMs = 120_000): Promise<string> {
        const r = await this.hosts.ssh(host, "bash -s", { user: "root", input: script, timeoutMs });
        if (r.status !== 0) throw new RehearsalError(`${host}: exit ${r.status}: ${(r.stdout + r.stderr).trim()}`);
        return r.stdout;
    }

    /** Host names that run the Zope clients. */
    get appHosts(): string[] {
        return buildTopology(this.spec).roles.appHosts;
    }

    /** Host names of the front ends. */
    get frontendHosts(): string[] {
        return buildTopology(this.spec).roles.frontends;
    }
}

export interface RehearseOptions extends RehearsalStartOptions {
    keep?: boolean;
    /** Commands at once (default 8). */
    parallel?: number;
    smokeChecks?: SmokeCheck[];
    /**
     * Provision a second time on the same hosts and check that it changes and restarts nothing
     * (default: yes for the plone-aws program, no for another one).
     */
    secondRun?: boolean;
    /** Removes the test hosts on SIGINT/SIGTERM (the command line). */
    handleSignals?: boolean;
}

export interface SecondRunReport {
    result: RunnerResult;
    /** Daemons restarted, started or stopped by it. */
    daemonChanges: string[];
    /** Steps that failed or reported a change. */
    problems: string[];
    /** How many daemons were watched. */
    daemons: number;
}

export interface RehearsalReport {
    /** 0: every command, smoke check and the second run passed; 1: one failed, or the stack is invalid. */
    exitCode: number;
    runId?: string;
    runDir?: string;
    base?: BaseRoot;
    steps: RehearsalStep[];
    result?: RunnerResult;
    smoke: SmokeResult[];
    second?: SecondRunReport;
    timings: { vpcSeconds: number; hostsSeconds: number; teardownSeconds: number; totalSeconds: number };
    /** What teardown could not remove (empty when all is gone, or kept). */
    leftovers: string[];
    /** How the executed commands differ from the plan's provisioning steps (plone-aws's program only). */
    planMismatches?: string[];
    /** The AWS parts played by local stand-ins. */
    standins: string[];
}

/** Provisions the hosts again, as a `pulumi up` after a change re-runs every step, and judges it. */
export async function secondRun(rehearsal: Rehearsal, options: { concurrency?: number; signal?: AbortSignal } = {}): Promise<SecondRunReport> {
    const hostNames = [...rehearsal.hosts.hosts.keys()];
    const before = await snapshotDaemons(rehearsal.hosts, hostNames);
    const result = await rehearsal.provision(options);
    const after = await snapshotDaemons(rehearsal.hosts, hostNames);
    return {
        result,
        daemonChanges: daemonChanges(before, after),
        problems: secondRunProblems(result, releaseTreesOf(buildTopology(rehearsal.spec).roles)),
        daemons: Object.values(before).reduce((n, l) => n + l.length, 0),
    };
}

export async function rehearse(options: RehearseOptions): Promise<RehearsalReport> {
    const print = options.print ?? ((line: string) => console.log(line));
    const startedAt = Date.now();
    const report: RehearsalReport = {
        exitCode: 1,
        steps: [],
        smoke: [],
        timings: { vpcSeconds: 0, hostsSeconds: 0, teardownSeconds: 0, totalSeconds: 0 },
        leftovers: [],
        standins: [],
    };

    let rehearsal: Rehearsal;
    try {
        rehearsal = await Rehearsal.start({ ...options, print });
    } catch (e) {
        if (e instanceof InvalidStackError) {
            print(e.message);
            return report;
        }
        throw e;
    }
    const hosts = rehearsal.hosts;
    Object.assign(report, { runId: hosts.runId, runDir: hosts.runDir, base: rehearsal.base, steps: rehearsal.steps });
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

    const concurrency = options.parallel ?? 8;
    const wantSecond = options.secondRun ?? !options.program;
    try {
        print(
            `Rehearsal of ${rehearsal.stackName} (${path.relative(process.cwd(), rehearsal.loaded.config.file) || rehearsal.loaded.config.file}), run ${hosts.runId} in ${path.relative(process.cwd(), hosts.runDir) || "."}`,
        );
        if (!options.program) {
            print(WHAT_IS_REAL);
            print(`The rehearsal's changes to the stack: ${rehearsal.appChanges.join("; ")}.`);
        }
        await rehearsal.startHosts();
        report.standins = rehearsal.standins;
        report.result = await rehearsal.provision({ concurrency, signal: interruption.signal });
        if (!options.program && report.result.ok) {
            report.planMismatches = planMismatches(plannedSteps(rehearsal.spec), report.result.results);
            print(
                report.planMismatches.length
                    ? `the executed commands differ from the plan's provisioning steps: ${report.planMismatches.join("; ")}`
                    : `the executed commands are the plan's ${report.steps.length} provisioning steps, in the order the plan constrains`,
            );
        }
        if (report.result.ok && !interrupted) {
            // A program of its own (tests) gets only the check that needs no plone-aws daemons.
            report.smoke = await rehearsal.smoke(options.smokeChecks ?? (options.program ? [hostsAnswerAtTheirAddresses] : SMOKE_CHECKS), interruption.signal);
        }
        if (wantSecond && report.result.ok && !interrupted) {
            print("\nSecond provisioning run on the same hosts (every step again, as a pulumi up after a change): it must change and restart nothing");
            report.second = await secondRun(rehearsal, { concurrency, signal: interruption.signal });
            for (const c of report.second.daemonChanges) print(`  ${c}`);
            for (const p of report.second.problems) print(`  ${p}`);
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
    const second = report.second;
    const secondOk = !wantSecond || (!!second && second.result.ok && !second.daemonChanges.length && !second.problems.length);
    const planOk = !report.planMismatches?.length;
    const ok = !interrupted && !!result?.ok && report.smoke.every((s) => s.ok) && secondOk && planOk && report.leftovers.length === 0;
    report.exitCode = interrupted ? 130 : ok ? 0 : 1;
    report.timings = { ...hosts.timings, totalSeconds: (Date.now() - startedAt) / 1000 };
    const perHost = new Map<string, number>();
    for (const r of result?.results ?? []) perHost.set(r.host, (perHost.get(r.host) ?? 0) + (r.seconds ?? 0));
    const secondLine = !wantSecond
        ? []
        : [
              `  second run     ${
                  second
                      ? `${second.result.results.filter((r) => r.status === "ok").length}/${report.steps.length} ok in ${seconds(second.result.seconds)}` +
                        ` (${((100 * second.result.seconds) / Math.max(result?.seconds ?? 1, 0.001)).toFixed(0)}% of the first); ` +
                        `${second.daemonChanges.length ? `${second.daemonChanges.length} daemon(s) restarted` : `no daemon restarted (${second.daemons} watched)`}, ` +
                        `${second.problems.length ? `${second.problems.length} change(s)` : "nothing changed"}`
                      : "not run"
              }`,
          ];
    print(
        [
            "",
            `Summary of rehearsal ${hosts.runId} (${rehearsal.stackName})`,
            `  base root      ${rehearsal.base.built ? `built in ${seconds(rehearsal.base.seconds)}` : "reused"} (${path.relative(process.cwd(), rehearsal.base.dir)})`,
            `  VPC, apt proxy ${seconds(hosts.timings.vpcSeconds)}`,
            `  test hosts     ${hosts.hosts.size} started in ${seconds(hosts.timings.hostsSeconds)}`,
            `  commands       ${(result?.results ?? []).filter((r) => r.status === "ok").length}/${report.steps.length} ok in ${seconds(result?.seconds ?? 0)}` +
                (perHost.size ? ` (${[...perHost].map(([h, s]) => `${h} ${seconds(s)}`).join(", ")})` : ""),
            ...(report.planMismatches
                ? [
                      `  plan match     ${report.planMismatches.length ? `${report.planMismatches.length} difference(s)` : "the commands run are the plan's steps"}`,
                  ]
                : []),
            `  smoke checks   ${report.smoke.filter((s) => s.ok).length}/${report.smoke.length} ok`,
            ...(report.standins.length ? [`  stand-ins      ${report.standins.join("; ")}`] : []),
            ...secondLine,
            `  teardown       ${options.keep ? "kept (--keep)" : seconds(hosts.timings.teardownSeconds)}`,
            `  total          ${seconds(report.timings.totalSeconds)}`,
            `  logs           ${path.relative(process.cwd(), hosts.logsDir)}`,
            ok
                ? "OK"
                : interrupted
                  ? `INTERRUPTED (${interrupted})`
                  : result?.failed
                    ? `FAILED: [${result.failed.host}] ${result.failed.step}`
                    : !report.smoke.every((s) => s.ok)
                      ? `FAILED: ${report.smoke
                            .filter((s) => !s.ok)
                            .map((s) => s.name)
                            .join("; ")}`
                      : !secondOk
                        ? `FAILED: the second run ${second?.result.failed ? `failed at [${second.result.failed.host}] ${second.result.failed.step}` : "changed or restarted something (see above)"}`
                        : !planOk
                          ? "FAILED: the executed commands are not the plan's provisioning steps"
                          : report.leftovers.length
                            ? "FAILED: teardown left parts of the run behind"
                            : "FAILED: see above",
        ].join("\n"),
    );
    return report;
}

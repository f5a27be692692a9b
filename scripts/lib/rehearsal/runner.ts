// The rehearsal runner: runs a stack's provisioning commands (the `command:remote:Command`s the
// program registers) over real SSH against test hosts, the way pulumi-command runs them during
// `pulumi up`: `create` as the SSH exec command, `stdin` piped in, no pty, in dependency order,
// independent commands in parallel (a bounded pool), and no new command after the first failure
// (commands already running finish, as Pulumi lets them).
import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { resourcePrefixOf } from "../../../components/config/spec";
import { CapturedResource, OfflineRun, unwrapSecrets } from "../offline/run";
import type { TestHostRun } from "./testHosts";
import { dialWithRetry } from "./dial";
import type { CommandResult } from "./processes";

export const COMMAND_TYPE = "command:remote:Command";
/** Resource types the rehearsal cannot replay yet: they stop it instead of being skipped silently. */
const UNSUPPORTED_TYPES = ["command:remote:CopyToRemote", "command:remote:CopyFile"];

export type CommandLogging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

export interface RehearsalStep {
    /** The command's URN. */
    urn: string;
    /** Host name (plone-aws host, or "bastion"). */
    host: string;
    /** e.g. "ready", "setup", "configure", "build", "activate". */
    step: string;
    /** The private IP the plan assigned (connection.host). */
    address: string;
    /** connection.user (pulumi-command's default: root). */
    user: string;
    /** The command line pulumi-command runs. */
    create: string;
    /** What it pipes to the command (secret values unwrapped). */
    stdin?: string;
    /** URNs of steps that must finish first. */
    dependsOn: string[];
    /** The command a later `pulumi up` runs when the inputs change (create when absent). */
    update?: string;
    /** Sent as SSH environment requests, which sshd applies only for names in AcceptEnv. */
    environment?: Record<string, string>;
    /** The bastion (connection.proxy.host) `pulumi up` goes through. */
    viaBastion?: string;
    /**
     * How the rehearsal goes through it: the bastion's test host (its private address, where a
     * public connection.proxy.host lands) and connection.proxy.user, for ssh's ProxyJump.
     */
    proxy?: { address: string; user: string };
    /** The public address (public IP or Elastic IP) `pulumi up` connects to; `address` is the instance's private IP. */
    publicAddress?: string;
    logging?: CommandLogging;
    /** connection.dialErrorLimit: dials before a connection that does not open fails the step. */
    dialErrorLimit?: number;
    /** customTimeouts.create, in milliseconds. */
    timeoutMs?: number;
}

export class RehearsalError extends Error {}

/** Go durations as Pulumi's customTimeouts take them: "90s", "10m", "1h30m". */
export function parseDuration(text: string): number | undefined {
    const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
    let total = 0;
    let consumed = 0;
    for (const m of text.matchAll(re)) {
        total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
        consumed += m[0].length;
    }
    return consumed === text.length && consumed > 0 ? total : undefined;
}

interface ConnectionInputs {
    host?: unknown;
    user?: unknown;
    port?: unknown;
    dialErrorLimit?: unknown;
    proxy?: { host?: unknown; user?: unknown };
}

/**
 * Private IPs by the public addresses that reach the same instance in a captured run: an
 * instance's own public IP, an Elastic IP given to it (Eip.instance or an EipAssociation).
 */
export function privateAddressesByPublic(run: OfflineRun): Map<string, string> {
    const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
    const privateById = new Map<string, string>();
    const result = new Map<string, string>();
    for (const r of run.resources.filter((r) => r.type === "aws:ec2/instance:Instance")) {
        const state = unwrapSecrets(r.state) as Record<string, unknown>;
        const privateIp = str(state.privateIp);
        if (!privateIp) continue;
        if (r.id) privateById.set(r.id, privateIp);
        const publicIp = str(state.publicIp);
        if (publicIp) result.set(publicIp, privateIp);
    }
    const eips = run.resources.filter((r) => r.type === "aws:ec2/eip:Eip");
    const eipById = new Map(eips.map((r) => [r.id ?? "", unwrapSecrets(r.state) as Record<string, unknown>]));
    for (const state of eipById.values()) {
        const privateIp = privateById.get(str(state.instance) ?? "");
        const publicIp = str(state.publicIp);
        if (privateIp && publicIp) result.set(publicIp, privateIp);
    }
    for (const r of run.resources.filter((r) => r.type === "aws:ec2/eipAssociation:EipAssociation")) {
        const inputs = unwrapSecrets(r.inputs) as Record<string, unknown>;
        const publicIp = str(eipById.get(str(inputs.allocationId) ?? "")?.publicIp) ?? str(inputs.publicIp);
        const privateIp = privateById.get(str(inputs.instanceId) ?? "");
        if (publicIp && privateIp) result.set(publicIp, privateIp);
    }
    return result;
}

/**
 * The EBS data volumes of every instance of a captured run, by host name (hostAddresses: host name
 * -> planned IP), in attachment-name order (/dev/sdf, /dev/sdg, ...): what the rehearsal attaches
 * to the test hosts as loop devices.
 */
export function plannedVolumes(
    run: OfflineRun,
    hostAddresses: Record<string, string>,
): Record<string, { volumeId: string; sizeGiB: number; deviceName: string }[]> {
    const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
    const hostByAddress = new Map(Object.entries(hostAddresses).map(([host, ip]) => [ip, host]));
    const hostByInstance = new Map<string, string>();
    for (const r of run.resources.filter((r) => r.type === "aws:ec2/instance:Instance")) {
        const host = hostByAddress.get(str((unwrapSecrets(r.state) as Record<string, unknown>).privateIp) ?? "");
        if (r.id && host) hostByInstance.set(r.id, host);
    }
    const sizeById = new Map(
        run.resources
            .filter((r) => r.type === "aws:ebs/volume:Volume" && r.id)
            .map((r) => [r.id!, Number((unwrapSecrets(r.inputs) as Record<string, unknown>).size)]),
    );
    const volumes: Record<string, { volumeId: string; sizeGiB: number; deviceName: string }[]> = {};
    for (const r of run.resources.filter((r) => r.type === "aws:ec2/volumeAttachment:VolumeAttachment")) {
        const inputs = unwrapSecrets(r.inputs) as Record<string, unknown>;
        const host = hostByInstance.get(str(inputs.instanceId) ?? "");
        const volumeId = str(inputs.volumeId);
        if (!host || !volumeId) throw new RehearsalError(`${r.name}: the attachment's instance or volume is not known offline`);
        const sizeGiB = sizeById.get(volumeId);
        if (!sizeGiB) throw new RehearsalError(`${r.name}: volume ${volumeId} has no size`);
        (volumes[host] ??= []).push({ volumeId, sizeGiB, deviceName: str(inputs.deviceName) ?? "" });
    }
    for (const list of Object.values(volumes)) list.sort((a, b) => a.deviceName.localeCompare(b.deviceName));
    return volumes;
}

/**
 * The steps of a captured program run, in registration order. host and step come from the
 * resource name `<stackPrefix>-<host>-provision-<step>`; a name of another shape is matched to a
 * host by its connection address (hostAddresses: host name -> planned IP) and the step is the
 * rest of the name. dependsOn keeps the commands a command depends on, also through other
 * resources (a command that depends on a volume attachment that depends on a command).
 * A command that connects to a public address (access.via publicIp, an Elastic IP) is sent to
 * the instance's private IP, where its test host is; publicAddress keeps the one `pulumi up` uses.
 */
export function stepsFromRun(run: OfflineRun, options: { hostAddresses?: Record<string, string> } = {}): RehearsalStep[] {
    const unsupported = run.resources.filter((r) => UNSUPPORTED_TYPES.includes(r.type));
    if (unsupported.length) {
        throw new RehearsalError(`the rehearsal replays ${COMMAND_TYPE} only; it cannot replay ${unsupported.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    }
    const prefix = resourcePrefixOf(run.stackName);
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const commands = run.resources.filter((r) => r.type === COMMAND_TYPE);
    const commandUrns = new Set(commands.map((r) => r.urn));
    const hostByAddress = new Map(Object.entries(options.hostAddresses ?? {}).map(([host, ip]) => [ip, host]));
    const privateByPublic = privateAddressesByPublic(run);

    const commandDependencies = (resource: CapturedResource): string[] => {
        const found = new Set<string>();
        const seen = new Set<string>();
        const visit = (urns: string[]) => {
            for (const urn of urns) {
                if (seen.has(urn)) continue;
                seen.add(urn);
                if (commandUrns.has(urn)) found.add(urn);
                else visit(byUrn.get(urn)?.options.dependencies ?? []);
            }
        };
        visit(resource.options.dependencies);
        found.delete(resource.urn);
        return [...found];
    };

    const steps: RehearsalStep[] = [];
    for (const r of commands) {
        const inputs = unwrapSecrets(r.inputs) as Record<string, unknown>;
        const connection = (inputs.connection ?? {}) as ConnectionInputs;
        const connectTo = typeof connection.host === "string" ? connection.host : "";
        if (!connectTo) throw new RehearsalError(`${r.name}: connection.host is not known offline (it should be the instance's private or public IP)`);
        const address = privateByPublic.get(connectTo) ?? connectTo;
        if (typeof inputs.create !== "string") continue; // nothing runs on create
        if (connection.port !== undefined && Number(connection.port) !== 22) {
            throw new RehearsalError(`${r.name}: connects to port ${String(connection.port)}; the test hosts' sshd listens on 22`);
        }
        const local = r.name.startsWith(`${prefix}-`) ? r.name.slice(prefix.length + 1) : r.name;
        const named = /^(.+?)-provision-(.+)$/.exec(local);
        const byAddress = hostByAddress.get(address);
        const host = named?.[1] ?? byAddress ?? address;
        const step = named?.[2] ?? (byAddress && local.startsWith(`${byAddress}-`) ? local.slice(byAddress.length + 1) : local);
        const environment =
            inputs.environment && typeof inputs.environment === "object"
                ? Object.fromEntries(Object.entries(inputs.environment as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
                : undefined;
        const timeout = r.options.customTimeouts?.create;
        steps.push({
            urn: r.urn,
            host,
            step,
            address,
            user: typeof connection.user === "string" && connection.user ? connection.user : "root",
            create: inputs.create,
            stdin: typeof inputs.stdin === "string" ? inputs.stdin : undefined,
            dependsOn: commandDependencies(r),
            update: typeof inputs.update === "string" ? inputs.update : undefined,
            environment: environment && Object.keys(environment).length ? environment : undefined,
            viaBastion: typeof connection.proxy?.host === "string" ? connection.proxy.host : undefined,
            proxy:
                typeof connection.proxy?.host === "string" && connection.proxy.host
                    ? {
                          address: privateByPublic.get(connection.proxy.host) ?? connection.proxy.host,
                          user: typeof connection.proxy.user === "string" && connection.proxy.user ? connection.proxy.user : "root",
                      }
                    : undefined,
            publicAddress: address !== connectTo ? connectTo : undefined,
            logging: typeof inputs.logging === "string" ? (inputs.logging as CommandLogging) : undefined,
            dialErrorLimit: typeof connection.dialErrorLimit === "number" ? connection.dialErrorLimit : undefined,
            timeoutMs: timeout ? parseDuration(timeout) : undefined,
        });
    }
    return steps;
}

// ---------------------------------------------------------------------------------------------
// Transports

export interface StepIo {
    onOutput(chunk: string, stream: "stdout" | "stderr"): void;
    /** Aborted when the step times out: the transport ends the command. */
    signal: AbortSignal;
}

/** How a step's command reaches its host. */
export interface StepTransport {
    /** Runs `command` for the step (its create or update) and resolves with the exit status. */
    run(step: RehearsalStep, command: string, io: StepIo): Promise<number>;
}

/** Quotes a value for an ssh_config SetEnv line. */
function setEnvOption(name: string, value: string): string[] {
    return ["-o", `SetEnv=${name}="${value.replace(/(["\\])/g, "\\$1")}"`];
}

/**
 * Runs steps with OpenSSH from inside the run's VPC namespace, as pulumi-command does with its
 * Go SSH client: one session per step, `create` as the exec request, stdin piped (EOF at once
 * when the step has none), no pty, environment as SSH env requests.
 */
export function sshTransport(hosts: Pick<TestHostRun, "sshArgv">): StepTransport {
    return {
        run(step, command, io) {
            const env = Object.entries(step.environment ?? {}).flatMap(([k, v]) => setEnvOption(k, v));
            const [cmd, ...args] = hosts.sshArgv(step.address, step.user, command, env, step.proxy);
            // One dial: its output goes to the step as it comes, and is kept (the start of it) to
            // tell a connection that never opened from a command that ran.
            const dial = () =>
                new Promise<CommandResult>((resolve, reject) => {
                    const kept = { stdout: "", stderr: "" };
                    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
                    const take = (stream: "stdout" | "stderr") => (d: Buffer) => {
                        if (kept[stream].length < 4096) kept[stream] += d.toString();
                        io.onOutput(d.toString(), stream);
                    };
                    child.stdout.on("data", take("stdout"));
                    child.stderr.on("data", take("stderr"));
                    child.stdin.on("error", () => undefined);
                    child.stdin.end(step.stdin ?? "");
                    const abort = () => child.kill("SIGTERM");
                    io.signal.addEventListener("abort", abort);
                    child.on("error", (e) => reject(new RehearsalError(`${cmd}: ${e.message}`)));
                    child.on("close", (code, signal) => {
                        io.signal.removeEventListener("abort", abort);
                        resolve({ status: code ?? (signal ? 128 + 15 : -1), ...kept });
                    });
                });
            // ConnectTimeout (sshClientOptions) is 15 s: pulumi-command's perDialTimeout default and the program's.
            return dialWithRetry(dial, {
                dialErrorLimit: step.dialErrorLimit,
                onRetry: (line) => io.onOutput(`${line}\n`, "stderr"),
                shouldRetry: () => !io.signal.aborted,
            }).then((r) => r.status);
        },
    };
}

// ---------------------------------------------------------------------------------------------
// The runner

export type StepStatus = "ok" | "failed" | "timeout" | "not-run";

export interface StepResult {
    urn: string;
    host: string;
    step: string;
    status: StepStatus;
    exitCode?: number;
    /** Epoch milliseconds. */
    startedAt?: number;
    finishedAt?: number;
    seconds?: number;
    /** The last lines of its output (failed steps). */
    tail?: string[];
    /** Its whole output, secrets redacted (steps that ran). */
    output?: string[];
}

export interface RunnerResult {
    ok: boolean;
    results: StepResult[];
    /** The first step that failed. */
    failed?: StepResult;
    seconds: number;
    /** Notes worth printing once (bastion connections made directly, ignored dependencies). */
    notes: string[];
}

export interface RunnerOptions {
    /** <run dir>/logs: one <host>.log per host. */
    logsDir: string;
    /** At most this many commands at once (default 8). */
    concurrency?: number;
    /** "create" for a first `pulumi up`, "update" for a later one (update, or create when absent). */
    phase?: "create" | "update";
    /** Strings never written to logs or the terminal (the run's secrets). */
    redact?: string[];
    /** A progress line (default: console.log). */
    print?: (line: string) => void;
    /** Steps without customTimeouts.create stop after this long (default 30 minutes). */
    defaultTimeoutMs?: number;
    /** Lines of output shown for a failed step (default 40). */
    tailLines?: number;
    /** Aborted (Ctrl-C): no further step starts and the running ones are ended. */
    signal?: AbortSignal;
}

/** Orders steps so that each comes after what it depends on; throws on a cycle. */
export function dependencyOrder(steps: RehearsalStep[]): RehearsalStep[] {
    const byUrn = new Map(steps.map((s) => [s.urn, s]));
    const state = new Map<string, "visiting" | "done">();
    const order: RehearsalStep[] = [];
    const visit = (s: RehearsalStep, chain: string[]) => {
        const st = state.get(s.urn);
        if (st === "done") return;
        if (st === "visiting")
            throw new RehearsalError(
                `the commands depend on each other in a cycle: ${[...chain, s.urn].map((u) => (byUrn.get(u)?.step ? `${byUrn.get(u)!.host}/${byUrn.get(u)!.step}` : u)).join(" -> ")}`,
            );
        state.set(s.urn, "visiting");
        for (const d of s.dependsOn) {
            const dep = byUrn.get(d);
            if (dep) visit(dep, [...chain, s.urn]);
        }
        state.set(s.urn, "done");
        order.push(s);
    };
    for (const s of steps) visit(s, []);
    return order;
}

function redactor(secrets: string[]): (text: string) => string {
    const needles = [...new Set(secrets.flatMap((s) => [s, ...s.split("\n").filter((l) => l.trim().length >= 16)]))]
        .filter((s) => s.length >= 6)
        .sort((a, b) => b.length - a.length);
    return (text) => needles.reduce((t, n) => t.split(n).join("[secret]"), text);
}

/**
 * Runs the steps: each once all it depends on succeeded, up to `concurrency` at once, every
 * line of output in <logsDir>/<host>.log, a progress line per step. After the first failure no
 * further step starts; the result names it with the end of its output.
 */
export async function runSteps(steps: RehearsalStep[], transport: StepTransport, options: RunnerOptions): Promise<RunnerResult> {
    const started = Date.now();
    const print = options.print ?? ((line: string) => console.log(line));
    const concurrency = Math.max(1, options.concurrency ?? 8);
    const tailLines = options.tailLines ?? 40;
    const redact = redactor(options.redact ?? []);
    const notes: string[] = [];

    const urns = new Set<string>();
    for (const s of steps) {
        if (urns.has(s.urn)) throw new RehearsalError(`two steps with the URN ${s.urn}`);
        urns.add(s.urn);
    }
    const unknown = [...new Set(steps.flatMap((s) => s.dependsOn.filter((d) => !urns.has(d))))];
    if (unknown.length) notes.push(`ignored dependencies on resources that are not commands of this run: ${unknown.join(", ")}`);
    const bastions = [
        ...new Set(
            steps
                .map((s) => s.proxy && `${s.proxy.user}@${s.proxy.address}${s.viaBastion !== s.proxy.address ? ` (pulumi up: ${s.viaBastion})` : ""}`)
                .filter((b): b is string => !!b),
        ),
    ];
    if (bastions.length) notes.push(`connecting through the bastion ${bastions.join(", ")} with ProxyJump, as pulumi up does`);
    const publicOnes = steps.filter((s) => s.publicAddress);
    if (publicOnes.length) {
        const pairs = [...new Set(publicOnes.map((s) => `${s.host} ${s.publicAddress} -> ${s.address}`))];
        notes.push(`pulumi up connects to these hosts' public addresses; the rehearsal connects to their private addresses from the VPC: ${pairs.join(", ")}`);
    }
    for (const n of notes) print(`note: ${n}`);

    const ordered = dependencyOrder(steps);
    fs.mkdirSync(options.logsDir, { recursive: true });
    const logs = new Map<string, fs.WriteStream>();
    const logOf = (host: string) => {
        let stream = logs.get(host);
        if (!stream) {
            stream = fs.createWriteStream(path.join(options.logsDir, `${host}.log`), { flags: "a" });
            logs.set(host, stream);
        }
        return stream;
    };

    const results = new Map<string, StepResult>(ordered.map((s) => [s.urn, { urn: s.urn, host: s.host, step: s.step, status: "not-run" }]));
    const done = new Set<string>();
    const startedUrns = new Set<string>();
    let failed: StepResult | undefined;
    let running = 0;

    const runOne = async (s: RehearsalStep): Promise<void> => {
        const result = results.get(s.urn)!;
        const command = options.phase === "update" && s.update !== undefined ? s.update : s.create;
        const log = logOf(s.host);
        const tail: string[] = [];
        const output: string[] = [];
        result.output = output;
        const partial = { stdout: "", stderr: "" };
        const writeLines = (text: string) => {
            for (const line of redact(text).split("\n")) {
                log.write(`${s.step} | ${line}\n`);
                output.push(line);
                tail.push(line);
                if (tail.length > tailLines) tail.shift();
            }
        };
        result.startedAt = Date.now();
        const how = [s.publicAddress ? `to ${s.publicAddress}` : "", s.viaBastion ? `through the bastion ${s.viaBastion}` : ""].filter(Boolean).join(" ");
        log.write(
            `==> ${new Date(result.startedAt).toISOString()} ${s.step} as ${s.user}@${s.address}${how ? ` (pulumi up: ${how})` : ""}` +
                `${s.logging ? `, logging: ${s.logging}` : ""}\n    ${s.urn}\n`,
        );
        print(`[${s.host}] ${s.step} ...`);
        const timeoutMs = s.timeoutMs ?? options.defaultTimeoutMs ?? 30 * 60_000;
        const abort = new AbortController();
        const interrupt = () => abort.abort();
        options.signal?.addEventListener("abort", interrupt);
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            abort.abort();
        }, timeoutMs);
        let exitCode: number;
        try {
            exitCode = await transport.run(s, command, {
                signal: abort.signal,
                onOutput: (chunk, stream) => {
                    const text = partial[stream] + chunk;
                    const cut = text.lastIndexOf("\n");
                    if (cut < 0) {
                        partial[stream] = text;
                        return;
                    }
                    partial[stream] = text.slice(cut + 1);
                    writeLines(text.slice(0, cut));
                },
            });
        } catch (e) {
            writeLines(`rehearsal: ${(e as Error).message}`);
            exitCode = -1;
        } finally {
            clearTimeout(timer);
            options.signal?.removeEventListener("abort", interrupt);
        }
        for (const rest of [partial.stdout, partial.stderr]) if (rest) writeLines(rest);
        result.finishedAt = Date.now();
        result.seconds = (result.finishedAt - result.startedAt) / 1000;
        result.exitCode = exitCode;
        result.status = timedOut ? "timeout" : exitCode === 0 ? "ok" : "failed";
        const outcome = result.status === "ok" ? "ok" : result.status === "timeout" ? `TIMED OUT after ${timeoutMs / 1000}s` : `FAILED (exit ${exitCode})`;
        log.write(`<== ${s.step} ${outcome} in ${result.seconds.toFixed(1)}s\n`);
        print(`[${s.host}] ${s.step} ... ${outcome} ${result.seconds.toFixed(1)}s`);
        if (result.status !== "ok") {
            result.tail = tail;
            if (!failed) failed = result;
        } else {
            done.add(s.urn);
        }
    };

    await new Promise<void>((resolve) => {
        const pump = () => {
            if (!failed && !options.signal?.aborted) {
                for (const s of ordered) {
                    if (running >= concurrency) break;
                    if (startedUrns.has(s.urn)) continue;
                    if (!s.dependsOn.every((d) => !urns.has(d) || done.has(d))) continue;
                    startedUrns.add(s.urn);
                    running++;
                    void runOne(s).then(() => {
                        running--;
                        pump();
                    });
                }
            }
            if (running === 0) resolve();
        };
        pump();
    });

    await Promise.all([...logs.values()].map((l) => new Promise<void>((r) => l.end(r))));
    if (failed) {
        print(
            `\n[${failed.host}] ${failed.step} ${failed.status === "timeout" ? "timed out" : `failed (exit ${failed.exitCode})`}; the end of its output (${path.join(options.logsDir, `${failed.host}.log`)}):`,
        );
        for (const line of failed.tail ?? []) print(`  | ${line}`);
        const notRun = [...results.values()].filter((r) => r.status === "not-run");
        if (notRun.length) print(`not run after the failure: ${notRun.map((r) => `${r.host}/${r.step}`).join(", ")}`);
    }
    return { ok: !failed, results: ordered.map((s) => results.get(s.urn)!), failed, seconds: (Date.now() - started) / 1000, notes };
}

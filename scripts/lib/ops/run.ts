// Running an ops plan: where each host is (the stack's outputs, or --address), how to reach it
// (directly, or through the bastion), and the SSH command that runs a host script as root. Each
// step's output streams through; the first failing step stops the plan and is named.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import type { StackSpec } from "../../../components/config/spec";
import { shellQuote } from "../../../components/render/shell";
import { buildTopology } from "../../../components/topology";
import { CommandIo, processIo } from "../cli";
import { OpsError, OpsPlan, OpsStep } from "./commands";

/** Where the hosts are and how to log in: from the stack outputs, the stack file and the options. */
export interface Connection {
    user: string;
    /** SSH address of each host. */
    addresses: Record<string, string>;
    /** user@address of the bastion, when the stack is reached through one. */
    bastion?: string;
    /** --identity FILE; without it the ssh agent's keys. */
    identity?: string;
    /** The ssh program (PLONE_AWS_SSH: tests put a stand-in there). */
    ssh: string;
}

/** The outputs `pulumi stack output --json` prints (the ones ops reads). */
export interface StackOutputsJson {
    sshAddresses?: Record<string, string>;
    hostPrivateIps?: Record<string, string>;
    bastionAddress?: string;
}

/** `--address host=ip` values. */
export function parseAddresses(values: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const v of values) {
        const m = /^([a-z][a-z0-9-]*)=([A-Za-z0-9.:-]+)$/.exec(v);
        if (!m) throw new OpsError(`--address ${v}: give HOST=ADDRESS, e.g. --address app-1=10.40.128.11`);
        out[m[1]] = m[2];
    }
    return out;
}

/** The stack outputs: from --outputs FILE, or `pulumi stack output --json --stack <stack>`. */
export function readOutputs(stack: string, file: string | undefined, env: NodeJS.ProcessEnv = process.env): StackOutputsJson | undefined {
    if (file) {
        try {
            return JSON.parse(fs.readFileSync(file, "utf8")) as StackOutputsJson;
        } catch (e) {
            throw new OpsError(`--outputs ${file}: ${(e as Error).message}`);
        }
    }
    const r = spawnSync("pulumi", ["stack", "output", "--json", "--show-secrets=false", "--stack", stack], { encoding: "utf8", env });
    if (r.error || r.status !== 0) return undefined;
    try {
        return JSON.parse(r.stdout) as StackOutputsJson;
    } catch {
        return undefined;
    }
}

/** Addresses and the bastion for the hosts a plan visits. */
export function resolveConnection(
    spec: StackSpec,
    outputs: StackOutputsJson | undefined,
    options: { addresses: Record<string, string>; identity?: string; bastion?: string; ssh?: string },
): Connection {
    const topology = buildTopology(spec);
    const fromOutputs = outputs?.sshAddresses ?? (spec.access.via === "bastion" ? outputs?.hostPrivateIps : undefined) ?? {};
    const addresses = { ...fromOutputs, ...options.addresses };
    let bastion: string | undefined;
    if (spec.access.via === "bastion") {
        const address = options.bastion ?? outputs?.bastionAddress ?? spec.access.bastion.host;
        if (!address) throw new OpsError(`${spec.stackName} is reached through its bastion: give --bastion ADDRESS (the stack output bastionAddress)`);
        bastion = `${topology.bastion?.user ?? spec.access.sshUser}@${address}`;
    }
    if (options.identity && !fs.existsSync(options.identity)) throw new OpsError(`--identity ${options.identity}: no such file`);
    return { user: spec.access.sshUser, addresses, bastion, identity: options.identity, ssh: options.ssh ?? process.env.PLONE_AWS_SSH ?? "ssh" };
}

/** The remote command: the host script as root (sudo when the login user is not root), every word quoted. */
export function remoteCommand(command: string[]): string {
    const words = command.map(shellQuote).join(" ");
    return `if [ "$(id -u)" -eq 0 ]; then ${words}; else sudo -n ${words}; fi`;
}

/** ssh's arguments for one step. */
export function sshArgs(connection: Connection, address: string, command: string[]): string[] {
    const common = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "StrictHostKeyChecking=accept-new", "-o", "ServerAliveInterval=30"];
    const args = [...common];
    if (connection.identity) args.push("-i", connection.identity, "-o", "IdentitiesOnly=yes");
    if (connection.bastion) {
        if (connection.identity) {
            // ProxyJump would not hand the key to the jump; an explicit hop does.
            const hop = [connection.ssh, ...common, "-i", connection.identity, "-o", "IdentitiesOnly=yes", "-W", "%h:%p", connection.bastion]
                .map(shellQuote)
                .join(" ");
            args.push("-o", `ProxyCommand=${hop}`);
        } else {
            args.push("-J", connection.bastion);
        }
    }
    args.push(`${connection.user}@${address}`, "--", remoteCommand(command));
    return args;
}

export interface RunOptions {
    /** Print the SSH commands instead of running them. */
    dryRun: boolean;
    /** Where the report and the hosts' output go, and the environment ssh gets (the process's own by default). */
    io?: CommandIo;
}

/**
 * Runs one step over SSH. Alone, its output streams through as it comes (straight to this
 * process's stdout and stderr when they are the io's); beside others (a wave), each line is
 * prefixed with its host so that the hosts' outputs can be told apart.
 */
function runSsh(connection: Connection, args: string[], io: CommandIo, prefix = ""): Promise<number> {
    return new Promise((resolve) => {
        const inherit = io.ownStdio && !prefix;
        const child = spawn(connection.ssh, args, { stdio: ["ignore", inherit ? "inherit" : "pipe", inherit ? "inherit" : "pipe"], env: io.env });
        if (!inherit) {
            for (const [stream, to] of [
                [child.stdout, io.out],
                [child.stderr, io.err],
            ] as const) {
                let rest = "";
                stream!.on("data", (d: Buffer) => {
                    const lines = (rest + d.toString()).split("\n");
                    rest = lines.pop()!;
                    for (const line of lines) to(`${prefix}${line}`);
                });
                stream!.on("end", () => {
                    if (rest) to(`${prefix}${rest}`);
                });
            }
        }
        child.on("error", (e) => {
            io.err(`ops: cannot run ${connection.ssh}: ${e.message}`);
            resolve(127);
        });
        child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
}

/** What a failed step's exit status means. */
function failure(step: OpsStep, address: string, status: number): string {
    if (status === 255) return `could not reach ${step.host} (${address}) over SSH (exit 255)`;
    if (step.command[0].endsWith("/plone-status") && status === 3) return `${step.host} has problems (listed above)`;
    return `${step.what} failed on ${step.host} (exit ${status})`;
}

/** The plan's steps in the groups that run at the same time: a wave's consecutive steps, else one step. */
export function stepGroups(steps: OpsStep[]): OpsStep[][] {
    const groups: OpsStep[][] = [];
    for (const s of steps) {
        const last = groups[groups.length - 1];
        if (last && s.wave !== undefined && last[0].wave === s.wave) last.push(s);
        else groups.push([s]);
    }
    return groups;
}

/** Runs a plan; 0 when every step succeeded. */
export async function runPlan(plan: OpsPlan, connection: Connection, options: RunOptions): Promise<number> {
    const io = options.io ?? processIo();
    const out = io.out;
    const missing = [...new Set([...plan.steps, ...plan.recover].map((s) => s.host))].filter((h) => !connection.addresses[h]);
    if (missing.length && !options.dryRun) {
        throw new OpsError(`no address for ${missing.join(", ")}: give --address HOST=ADDRESS, or --outputs FILE (pulumi stack output --json)`);
    }
    const failed: string[] = [];
    const groups = stepGroups(plan.steps);
    for (const [i, group] of groups.entries()) {
        if (group.length > 1) out(`== at the same time (restart wave ${group[0].wave}): ${group.map((s) => s.host).join(", ")}`);
        for (const step of group) {
            out(`== ${step.host} (${step.layers.join(", ")}): ${step.what}`);
            if (options.dryRun)
                out(`   ${[connection.ssh, ...sshArgs(connection, connection.addresses[step.host] ?? "<address>", step.command)].map(shellQuote).join(" ")}`);
        }
        if (options.dryRun) continue;
        const statuses = await Promise.all(
            group.map((step) =>
                runSsh(connection, sshArgs(connection, connection.addresses[step.host], step.command), io, group.length > 1 ? `[${step.host}] ` : undefined),
            ),
        );
        const messages = group.flatMap((step, j) => (statuses[j] === 0 ? [] : [failure(step, connection.addresses[step.host], statuses[j])]));
        if (messages.length === 0) continue;
        if (plan.continueOnFailure) {
            for (const m of messages) out(`!! ${m}`);
            failed.push(...group.filter((_, j) => statuses[j] !== 0).map((s) => s.host));
            continue;
        }
        const rest = groups.slice(i + 1).flatMap((g) => g.map((s) => s.host));
        const message = messages.join("; ");
        out(`!! ${message}; ${rest.length ? `not run on: ${[...new Set(rest)].join(", ")}` : "it was the last host"}`);
        if (plan.recover.length) {
            out("== putting the clients back into service");
            for (const r of plan.recover) {
                out(`== ${r.host} (${r.layers.join(", ")}): ${r.what}`);
                const code = await runSsh(connection, sshArgs(connection, connection.addresses[r.host], r.command), io);
                if (code !== 0) out(`!! ${failure(r, connection.addresses[r.host], code)}`);
            }
        }
        io.err(`ops: ${message}`);
        return 1;
    }
    if (failed.length) {
        io.err(`ops: problems on ${failed.join(", ")}`);
        return 1;
    }
    return 0;
}

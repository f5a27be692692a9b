// Scratch hosts for the storage tests: a process holding private namespaces (mount, and for
// network hosts also UTS and a network namespace on a test bridge), so a script can mount, run
// daemons and change /etc inside it without touching the real system. Every process in a host's
// network namespace is killed by id on cleanup; names and addresses are unique per test run.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import { run, RunResult, sleepMs } from "./system";

const RUN_ID = process.pid % 10000;

function commandOf(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
        return "";
    }
}

function must(r: RunResult, what: string): RunResult {
    if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}${r.stdout}`);
    return r;
}

export class ScratchHost {
    private constructor(
        private readonly holder: ChildProcess,
        readonly netns?: string,
        readonly address?: string,
    ) {}

    /** A private mount namespace (shared network and host name). */
    static mountOnly(): ScratchHost {
        return ScratchHost.start(spawn("unshare", ["--mount", "--propagation", "private", "sleep", "3600"], { stdio: "ignore" }));
    }

    /** Private mount and UTS namespaces inside network namespace `netns`. */
    static inNetns(netns: string, address: string): ScratchHost {
        const holder = spawn("ip", ["netns", "exec", netns, "unshare", "--uts", "--mount", "--propagation", "private", "sleep", "3600"], { stdio: "ignore" });
        return ScratchHost.start(holder, netns, address);
    }

    private static start(holder: ChildProcess, netns?: string, address?: string): ScratchHost {
        const pid = holder.pid;
        if (!pid) throw new Error("could not start the namespace holder");
        // ip and unshare exec into sleep once every namespace is set up.
        for (let i = 0; i < 250 && commandOf(pid) !== "sleep"; i++) sleepMs(20);
        if (commandOf(pid) !== "sleep") throw new Error("the namespace holder did not enter its namespaces");
        return new ScratchHost(holder, netns, address);
    }

    get pid(): number {
        return this.holder.pid as number;
    }

    /** Runs bash with `script` inside the host's namespaces. */
    sh(script: string, env: Record<string, string> = {}, timeout = 120_000): RunResult {
        const flags = this.netns ? ["-m", "-u", "-n"] : ["-m"];
        return run("nsenter", ["-t", String(this.pid), ...flags, "bash", "-c", script], { env: { ...process.env, ...env }, timeout });
    }

    /** Like sh, but fails the test with the output when the script fails. */
    must(script: string, what = script): RunResult {
        return must(this.sh(script), what);
    }

    /** Stops the holder and, for network hosts, every process in the network namespace. */
    cleanup(): void {
        if (this.netns) {
            for (const pid of run("ip", ["netns", "pids", this.netns]).stdout.split(/\s+/).filter(Boolean)) {
                try {
                    process.kill(Number(pid), "SIGKILL");
                } catch {
                    // already gone
                }
            }
        }
        this.holder.kill("SIGKILL");
    }
}

/** A Linux bridge with network namespaces on it, 10.253.<n>.0/24 (n unique per test run). */
export class TestBridge {
    readonly name = `psb${RUN_ID}`;
    readonly prefix = `10.253.${RUN_ID % 250}`;
    private readonly namespaces: string[] = [];

    constructor() {
        must(run("ip", ["link", "add", this.name, "type", "bridge"]), "creating the test bridge");
        must(run("ip", ["link", "set", this.name, "up"]), "bringing the test bridge up");
    }

    /** A network namespace with eth0 on the bridge at prefix.<n + 1>; returns its address. */
    addNamespace(n: number): { netns: string; address: string } {
        const netns = `psn${RUN_ID}-${n}`;
        const veth = `psv${RUN_ID}x${n}`;
        const address = `${this.prefix}.${n + 1}`;
        this.namespaces.push(netns);
        for (const args of [
            ["netns", "add", netns],
            ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns],
            ["link", "set", veth, "master", this.name, "up"],
            ["-n", netns, "addr", "add", `${address}/24`, "dev", "eth0"],
            ["-n", netns, "link", "set", "eth0", "up"],
            ["-n", netns, "link", "set", "lo", "up"],
        ]) {
            must(run("ip", args), `ip ${args.join(" ")}`);
        }
        return { netns, address };
    }

    cleanup(): void {
        for (const netns of this.namespaces) run("ip", ["netns", "del", netns]);
        run("ip", ["link", "del", this.name]);
    }
}

/** /etc/passwd and /etc/group with the deploy user added, to bind-mount inside a scratch host. */
export function passwdWithDeployUser(dir: string, user: string, uid: number): { passwd: string; group: string } {
    const passwd = `${dir}/passwd`;
    const group = `${dir}/group`;
    fs.writeFileSync(passwd, `${fs.readFileSync("/etc/passwd", "utf8")}${user}:x:${uid}:${uid}::/home/${user}:/bin/bash\n`);
    fs.writeFileSync(group, `${fs.readFileSync("/etc/group", "utf8")}${user}:x:${uid}:\n`);
    return { passwd, group };
}

// Running the front-end daemons in tests: a layout whose paths all live under a temporary root
// (so nothing of the machine's own /etc is read or written), writing rendered files there, and
// processes that are always cleaned up.
import { ChildProcess, spawn, SpawnOptions } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import type { RenderedFile } from "../../components/render/context";
import { DEFAULT_FRONTEND_LAYOUT, FrontendLayout } from "../../components/render/frontend/layout";
import { run } from "./system";

/** The default layout with every path moved under `root`, and optionally other ports. */
export function rootedLayout(root: string, ports: Partial<FrontendLayout["ports"]> = {}, nginxBind = ""): FrontendLayout {
    const paths = Object.fromEntries(Object.entries(DEFAULT_FRONTEND_LAYOUT.paths).map(([k, v]) => [k, path.join(root, v)])) as FrontendLayout["paths"];
    return { ports: { ...DEFAULT_FRONTEND_LAYOUT.ports, ...ports }, nginxBind, paths };
}

/** Writes files at their path when it is under `root`, else at root + path. */
export function writeFiles(root: string, files: RenderedFile[]): Record<string, string> {
    const written: Record<string, string> = {};
    for (const f of files) {
        const target = f.path.startsWith(root + "/") ? f.path : path.join(root, f.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, f.content, { mode: parseInt(f.mode, 8) });
        fs.chmodSync(target, parseInt(f.mode, 8));
        written[f.path] = target;
    }
    return written;
}

/** What the nginx and varnish packages provide on a host, under the layout's root. */
export function prepareDebianFiles(layout: FrontendLayout): void {
    const p = layout.paths;
    for (const dir of [
        `${p.nginxDir}/conf.d`,
        `${p.nginxDir}/modules-enabled`,
        `${p.nginxDir}/sites-enabled`,
        p.nginxLogDir,
        p.acmeWebroot,
        p.haproxyChroot,
        path.dirname(p.haproxySocket),
        path.dirname(p.varnishSecret),
        p.letsencryptLive,
    ]) {
        fs.mkdirSync(dir, { recursive: true });
    }
    fs.copyFileSync("/etc/nginx/mime.types", `${p.nginxDir}/mime.types`);
    if (!fs.existsSync(p.varnishSecret)) fs.writeFileSync(p.varnishSecret, "test-secret\n", { mode: 0o600 });
}

/** A self-signed certificate where certbot would put the domain's. */
export function selfSignedCertificate(layout: FrontendLayout, domain: string): void {
    const dir = `${layout.paths.letsencryptLive}/${domain}`;
    fs.mkdirSync(dir, { recursive: true });
    const r = run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        `/CN=${domain}`,
        "-keyout",
        `${dir}/privkey.pem`,
        "-out",
        `${dir}/fullchain.pem`,
    ]);
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
}

/** Processes a test started, each in its own process group, killed group-wise by stopAll. */
export class Processes {
    private readonly started: { name: string; child: ChildProcess }[] = [];
    private readonly stopped = new Set<ChildProcess>();
    private readonly onExit = () => this.stopAllSync();

    constructor(private readonly logDir: string) {
        process.on("exit", this.onExit);
    }

    start(name: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
        const log = fs.openSync(path.join(this.logDir, `${name}.log`), "a");
        const child = spawn(command, args, { stdio: ["ignore", log, log], detached: true, ...options });
        fs.closeSync(log);
        this.started.push({ name, child });
        return child;
    }

    /** Stops one process group (SIGTERM, then SIGKILL) and waits for its leader. */
    async stop(name: string): Promise<void> {
        const entries = this.started.filter((p) => p.name === name);
        for (const e of entries) this.stopped.add(e.child);
        await Promise.all(entries.map((e) => this.stopOne(e.child)));
    }

    /** The processes that exited without being stopped: what a test waiting on them will never see. */
    died(): string[] {
        return this.started.filter((p) => !this.stopped.has(p.child) && (p.child.exitCode !== null || p.child.signalCode !== null)).map((p) => p.name);
    }

    /**
     * Waits until `probe` gives a value, as long as the processes it waits on are alive: progress,
     * not a deadline (mocha's hang guard stops a test that never gets there). A process that died
     * fails the wait at once, with the end of its log.
     */
    async until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
        let last: unknown;
        for (;;) {
            try {
                const v = await probe();
                if (v !== undefined) return v;
            } catch (e) {
                last = e;
            }
            const dead = this.died();
            if (dead.length) {
                const logs = dead.map((n) => `--- ${n} ---\n${this.log(n).split("\n").slice(-15).join("\n")}`).join("\n");
                throw new Error(`waiting for ${what}: ${dead.join(", ")} exited${last ? ` (last error: ${String(last)})` : ""}\n${logs}`);
            }
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    async stopAll(): Promise<void> {
        await Promise.all(this.started.map((p) => this.stopOne(p.child)));
        process.removeListener("exit", this.onExit);
    }

    log(name: string): string {
        try {
            return fs.readFileSync(path.join(this.logDir, `${name}.log`), "utf8");
        } catch {
            return "";
        }
    }

    private async stopOne(child: ChildProcess): Promise<void> {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        signalGroup(child.pid, "SIGTERM");
        const timer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
        // Children of the leader (varnish's cache process, nginx workers) may outlive it briefly.
        signalGroup(child.pid, "SIGKILL");
    }

    private stopAllSync(): void {
        for (const p of this.started) if (p.child.pid !== undefined) signalGroup(p.child.pid, "SIGKILL");
    }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pid, signal);
    } catch {
        // already gone
    }
}

/** One command on haproxy's runtime API socket (show stat, show info, ...): its whole answer. */
export function haproxyCommand(socket: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
        let out = "";
        const c = net.connect(socket, () => c.write(command + "\n"));
        c.setEncoding("utf8");
        c.on("data", (d) => (out += d));
        c.on("end", () => resolve(out));
        c.on("error", reject);
    });
}

/** Prints the end of each named process's log and of nginx's error log: what a failed chain test needs to be read. */
export function dumpChainLogs(procs: Processes, layout: FrontendLayout, names: string[]): void {
    for (const name of names) console.log(`--- ${name} ---\n${procs.log(name).split("\n").slice(-15).join("\n")}`);
    const errors = path.join(layout.paths.nginxLogDir, "error.log");
    if (fs.existsSync(errors)) console.log(`--- nginx error.log ---\n${fs.readFileSync(errors, "utf8").split("\n").slice(-15).join("\n")}`);
}

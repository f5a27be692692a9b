// A supervisord of the test's own: temp config, socket and logs in the test's directory, the
// rendered program files included from there, stopped by its pid when the test ends.
//
// The test reads supervisord's state over its XML-RPC interface (what supervisorctl calls) with
// curl: a supervisorctl run costs about half a second of CPU (python importing pkg_resources), and
// the tests poll the states. The host scripts under test still run the real supervisorctl.
import * as fs from "fs";
import * as path from "path";
import { run, RunResult, sleepMs } from "./system";

/** States a program passes through on its way to a settled one (RUNNING, STOPPED, EXITED, FATAL). */
const TRANSITIONAL = new Set(["STARTING", "BACKOFF", "STOPPING"]);

/** A program as supervisord's getAllProcessInfo describes it. */
interface ProcessInfo {
    /** As supervisorctl names it: group:name, or name when the group is the program's own. */
    name: string;
    state: string;
    pid: number;
    /** When it was last started (0: never, since supervisord added it). */
    start: number;
}

const xmlText = (s: string) =>
    s
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&");
const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export class TempSupervisord {
    readonly conf: string;
    private readonly pidFile: string;

    /** `include`: a glob of program files (e.g. <dir>/etc/supervisor/conf.d/*.conf). */
    private readonly socket: string;

    constructor(
        readonly dir: string,
        include: string,
    ) {
        fs.mkdirSync(dir, { recursive: true });
        this.conf = path.join(dir, "supervisord.conf");
        this.pidFile = path.join(dir, "supervisord.pid");
        this.socket = path.join(dir, "supervisor.sock");
        fs.writeFileSync(
            this.conf,
            [
                "[unix_http_server]",
                `file=${this.socket}`,
                "[supervisord]",
                `logfile=${path.join(dir, "supervisord.log")}`,
                `pidfile=${this.pidFile}`,
                `childlogdir=${dir}`,
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
                "[supervisorctl]",
                `serverurl=unix://${this.socket}`,
                "[include]",
                `files = ${include}`,
                "",
            ].join("\n"),
        );
    }

    /** Starts supervisord and waits until it answers, as long as it runs. */
    start(): void {
        const r = run("supervisord", ["-c", this.conf]);
        if (r.status !== 0) throw new Error(`supervisord did not start: ${r.stdout}${r.stderr}`);
        for (;;) {
            if (this.rpc("supervisor.getPID").ok) return;
            const pid = this.pid();
            if (pid && !alive(pid)) throw new Error(`supervisord exited: ${this.log()}`);
            sleepMs(100);
        }
    }

    ctl(...args: string[]): RunResult {
        return run("supervisorctl", ["-c", this.conf, ...args]);
    }

    /** program -> state (RUNNING, STOPPED, FATAL, ...), as `supervisorctl status` lists them. */
    states(): Record<string, string> {
        return Object.fromEntries(this.processes().map((p) => [p.name, p.state]));
    }

    /**
     * Waits until every program (or the ones named) has settled: none on its way to a state
     * (starting, backing off, stopping, or added and not started yet). Returns the states.
     */
    settled(...programs: string[]): Record<string, string> {
        for (;;) {
            const all = this.processes();
            const watched = programs.length ? all.filter((p) => programs.includes(p.name)) : all;
            const moving = watched.filter((p) => TRANSITIONAL.has(p.state) || (p.state === "STOPPED" && p.start === 0));
            if (moving.length === 0 && watched.length >= programs.length) return Object.fromEntries(all.map((p) => [p.name, p.state]));
            sleepMs(250);
        }
    }

    pidOf(program: string): number {
        const info = this.call("supervisor.getProcessInfo", program);
        return Number(member(info, "pid"));
    }

    /** Every program supervisord knows. */
    private processes(): ProcessInfo[] {
        return this.call("supervisor.getAllProcessInfo")
            .split("<struct>")
            .slice(1)
            .map((struct) => {
                const name = member(struct, "name");
                const group = member(struct, "group");
                return {
                    name: group === name ? name : `${group}:${name}`,
                    state: member(struct, "statename"),
                    pid: Number(member(struct, "pid")),
                    start: Number(member(struct, "start")),
                };
            });
    }

    /** The response of an XML-RPC call; a fault or no answer fails the test. */
    private call(method: string, ...params: string[]): string {
        const r = this.rpc(method, ...params);
        if (!r.ok) throw new Error(`supervisord: ${method}(${params.join(", ")}): ${r.error}`);
        return r.body;
    }

    private rpc(method: string, ...params: string[]): { ok: boolean; body: string; error: string } {
        const args = params.map((p) => `<param><value><string>${xmlEscape(p)}</string></value></param>`).join("");
        const request = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${args}</params></methodCall>`;
        const r = run("curl", ["-sS", "--unix-socket", this.socket, "-H", "Content-Type: text/xml", "--data-binary", "@-", "http://localhost/RPC2"], {
            input: request,
        });
        if (r.status !== 0) return { ok: false, body: "", error: `no answer (curl: ${r.stderr.trim()})` };
        if (r.stdout.includes("<fault>")) return { ok: false, body: r.stdout, error: member(r.stdout, "faultString") };
        return { ok: true, body: r.stdout, error: "" };
    }

    private pid(): number {
        try {
            return Number(fs.readFileSync(this.pidFile, "utf8").trim());
        } catch {
            return 0;
        }
    }

    log(): string {
        try {
            return fs.readFileSync(path.join(this.dir, "supervisord.log"), "utf8");
        } catch {
            return "";
        }
    }

    /** Shuts down supervisord (stopping its programs), then makes sure its pid is gone. */
    stop(): void {
        const pid = this.pid();
        if (!pid) return;
        this.rpc("supervisor.shutdown");
        for (let i = 0; i < 100 && alive(pid); i++) sleepMs(100);
        if (alive(pid)) process.kill(pid, "SIGKILL");
    }
}

/** The value of a struct member (its first occurrence in `xml`). */
function member(xml: string, name: string): string {
    const m = new RegExp(`<name>${name}</name>\\s*<value><(?:string|int|i4|boolean)>([\\s\\S]*?)</`).exec(xml);
    if (!m) throw new Error(`supervisord's answer has no ${name}: ${xml.slice(0, 500)}`);
    return xmlText(m[1]);
}

function alive(pid: number): boolean {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    // A zombie (PID 1 here does not reap) counts as gone.
    try {
        return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    } catch {
        return false;
    }
}

// A supervisord of the test's own: temp config, socket and logs in the test's directory, the
// rendered program files included from there, stopped by its pid when the test ends.
import * as fs from "fs";
import * as path from "path";
import { run, RunResult } from "./system";

export class TempSupervisord {
    readonly conf: string;
    private readonly pidFile: string;

    /** `include`: a glob of program files (e.g. <dir>/etc/supervisor/conf.d/*.conf). */
    constructor(
        readonly dir: string,
        include: string,
    ) {
        fs.mkdirSync(dir, { recursive: true });
        this.conf = path.join(dir, "supervisord.conf");
        this.pidFile = path.join(dir, "supervisord.pid");
        fs.writeFileSync(
            this.conf,
            [
                "[unix_http_server]",
                `file=${path.join(dir, "supervisor.sock")}`,
                "[supervisord]",
                `logfile=${path.join(dir, "supervisord.log")}`,
                `pidfile=${this.pidFile}`,
                `childlogdir=${dir}`,
                "[rpcinterface:supervisor]",
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
                "[supervisorctl]",
                `serverurl=unix://${path.join(dir, "supervisor.sock")}`,
                "[include]",
                `files = ${include}`,
                "",
            ].join("\n"),
        );
    }

    start(): void {
        const r = run("supervisord", ["-c", this.conf]);
        if (r.status !== 0) throw new Error(`supervisord did not start: ${r.stdout}${r.stderr}`);
        for (let i = 0; i < 50; i++) {
            if (this.ctl("pid").status === 0) return;
            run("sleep", ["0.1"]);
        }
        throw new Error(`supervisord did not answer: ${this.log()}`);
    }

    ctl(...args: string[]): RunResult {
        return run("supervisorctl", ["-c", this.conf, ...args]);
    }

    /** program -> state (RUNNING, STOPPED, FATAL, ...). */
    states(): Record<string, string> {
        const out: Record<string, string> = {};
        for (const line of this.ctl("status").stdout.split("\n")) {
            const m = /^(\S+)\s+(\S+)/.exec(line);
            if (m) out[m[1]] = m[2];
        }
        return out;
    }

    pidOf(program: string): number {
        return Number(this.ctl("pid", program).stdout.trim());
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
        let pid = 0;
        try {
            pid = Number(fs.readFileSync(this.pidFile, "utf8").trim());
        } catch {
            return;
        }
        this.ctl("shutdown");
        for (let i = 0; i < 100 && alive(pid); i++) run("sleep", ["0.1"]);
        if (alive(pid)) process.kill(pid, "SIGKILL");
    }
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

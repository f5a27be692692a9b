// Helpers of the app-script tests: the stand-in Plone (scripts/lib/rehearsal/standin.ts, shared with the
// rehearsal) in a fixture repository on a local path, and the app files of a host installed under a
// temp dir with the host's paths and ports moved there.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderAppFiles } from "../../components/render/app";
import type { RenderContext, RenderedFile } from "../../components/render/context";
import type { HostPlan } from "../../components/topology";
import { StandinRepo } from "../../scripts/lib/rehearsal/standin";
import { run, RunResult } from "./system";

export { STANDIN_APP, STANDIN_COMMANDS } from "../../scripts/lib/rehearsal/standin";

/** The fixture buildout repository: git on a local path, reached through a file:// URL. */
export class FixtureRepo extends StandinRepo {
    readonly url: string;

    constructor(dir: string) {
        super(dir);
        this.url = `file://${dir}`;
    }
}

/** Absolute roots of the host layout the rendered files name; tests move them under a temp dir. */
const HOST_ROOTS = [
    "/srv/www",
    "/srv/data",
    "/srv/shared-blobs",
    "/etc/plone-aws",
    "/etc/supervisor",
    "/run/plone-aws",
    "/var/log/supervisor",
    "/usr/local/sbin",
    "/usr/local/lib/plone-aws",
];
const ROOTS = new RegExp(`(?<![\\w.])(${HOST_ROOTS.map((r) => r.replace(/[/.-]/g, "\\$&")).join("|")})(?=[/'"\\s:},)]|$)`, "gm");

/** The same text with the host's absolute paths moved under `root` (so a test writes nothing outside its temp dir). */
export function relocate(text: string, root: string): string {
    return text.replace(ROOTS, (p) => `${root}${p}`);
}

/** Writes rendered files under `root` with their modes, content relocated and `edit` applied. */
export function installRelocated(
    files: RenderedFile[],
    root: string,
    edit: (file: RenderedFile, content: string) => string = (_, c) => c,
): Record<string, string> {
    const paths: Record<string, string> = {};
    for (const f of files) {
        const target = `${root}${f.path}`;
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, edit(f, relocate(f.content, root)));
        fs.chmodSync(target, parseInt(f.mode, 8));
        paths[f.path] = target;
    }
    return paths;
}

/** Replaces whole-number occurrences of rendered ports (8081 ...) with the test's free ports. */
export function remapPorts(text: string, ports: Record<number, number>): string {
    return text.replace(/\b\d{4,5}\b/g, (p) => String(ports[Number(p)] ?? p));
}

/** GET on 127.0.0.1: status and body, or status 0 when nothing answers. */
export function httpGet(port: number, urlPath: string, timeoutSeconds = 5): { status: number; body: string } {
    const r = run("curl", ["-sS", "-m", String(timeoutSeconds), "-o", "-", "-w", "\n%{http_code}", `http://127.0.0.1:${port}${urlPath}`]);
    const lines = r.stdout.split("\n");
    const status = Number(lines.pop() ?? 0);
    return { status: r.status === 0 ? status : 0, body: lines.join("\n") };
}

/**
 * Installs the app files of a host under `root` as a test host: paths relocated, rendered ports
 * swapped for the test's, and test-only settings appended to deploy.env (the test's supervisord,
 * DEPLOY_USER root since this machine has no plone user, short drain and ready graces). supervisor's
 * user=plone becomes user=root for the same reason. Returns rendered path -> installed path.
 */
export function installTestHost(
    ctx: RenderContext,
    host: HostPlan,
    root: string,
    ports: Record<number, number>,
    settings: Record<string, string | number>,
): Record<string, string> {
    const overrides = Object.entries({ DEPLOY_USER: "root", DRAIN_GRACE: 1, READY_GRACE: 1, ...settings })
        .map(([k, v]) => `${k}='${String(v)}'`)
        .join("\n");
    return installRelocated(renderAppFiles(ctx, host), root, (file, content) => {
        // deploy.cfg (buildout), the stack's instance configuration and zeo.conf (pip) name the ports.
        if (/\/(deploy\.cfg|instance\.yaml|zeo\.conf)$/.test(file.path)) return remapPorts(content, ports);
        if (file.path.endsWith("/deploy.env")) return `${remapPorts(content, ports)}# Test overrides\n${overrides}\n`;
        if (file.path.endsWith(".conf")) return content.replace(/^user=plone$/gm, "user=root");
        return content;
    });
}

/** The environment the host scripts run with in tests: the tester's PLONE_DEPLOY_ENV left out. */
function hostScriptEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env.PLONE_DEPLOY_ENV;
    return env;
}

/** Runs one of the host scripts installed under `root` (set PLONE_AWS_TEST_VERBOSE=1 to see its output). */
export function runHostScript(root: string, name: string, ...args: string[]): RunResult {
    const env = hostScriptEnv();
    const r = run(`${root}/usr/local/sbin/${name}`, args, { env });
    if (process.env.PLONE_AWS_TEST_VERBOSE) console.log(`--- ${name} ${args.join(" ")} -> ${r.status}\n${r.stdout}${r.stderr}`);
    return r;
}

/** A host script running in the background, for tests that act while it runs. */
export interface RunningHostScript {
    /** Resolves once its stdout or stderr holds `text` (rejects if it exits without). */
    printed(text: string): Promise<void>;
    /** Resolves when it exits. */
    exited: Promise<RunResult>;
}

/** Starts one of the host scripts installed under `root` without waiting for it (stdin /dev/null, as runHostScript). */
export function startHostScript(root: string, name: string, ...args: string[]): RunningHostScript {
    const child = spawn(`${root}/usr/local/sbin/${name}`, args, { env: hostScriptEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const watchers: { text: string; resolve: () => void; reject: (e: Error) => void }[] = [];
    const notify = () => {
        for (const w of [...watchers]) {
            if (!(stdout + stderr).includes(w.text)) continue;
            watchers.splice(watchers.indexOf(w), 1);
            w.resolve();
        }
    };
    child.stdout.on("data", (d: Buffer) => ((stdout += d.toString()), notify()));
    child.stderr.on("data", (d: Buffer) => ((stderr += d.toString()), notify()));
    const exited = new Promise<RunResult>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code) => {
            for (const w of watchers.splice(0)) w.reject(new Error(`${name} exited (${code}) without printing '${w.text}':\n${stdout}${stderr}`));
            if (process.env.PLONE_AWS_TEST_VERBOSE) console.log(`--- ${name} ${args.join(" ")} -> ${code}\n${stdout}${stderr}`);
            resolve({ status: code ?? -1, stdout, stderr });
        });
    });
    const printed = (text: string) =>
        new Promise<void>((resolve, reject) => {
            watchers.push({ text, resolve, reject });
            notify();
        });
    return { printed, exited };
}

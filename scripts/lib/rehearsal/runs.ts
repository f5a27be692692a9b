// The runs of the rehearsal on this machine: their registry (<cacheDir>/active), what a run leaves
// (namespaces, processes, mounts, loop devices) and how it is torn down, also after a crash.
// Namespaces and processes are identified by namespace inodes, never by process name (PIDs wrap).
import * as fs from "fs";
import * as path from "path";
import { run, sleep } from "./processes";

/** Every name a run creates (namespaces, registry entries) starts with this and the run id. */
export const RUN_PREFIX = "parh-";

export const DEFAULT_CACHE_DIR = ".rehearsal";

export interface RunRecord {
    runId: string;
    runDir: string;
    runnerPid: number;
    /** The runner's start time (clock ticks since boot), so that a recycled PID is not taken for it. */
    runnerStarted: string;
    kept: boolean;
    netns: string[];
    /** Loop devices of the hosts' volumes, with their image files (detached at teardown). */
    loops?: { device: string; file: string }[];
}

export function processStartTime(pid: number): string | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
}

export function registryDir(cacheDir: string): string {
    return path.join(path.resolve(cacheDir), "active");
}

/**
 * Every run's record, whatever its cache directory: namespaces are machine-wide, so a rehearsal
 * with another cache (another checkout) must see that a run it did not start is still running.
 * On tmpfs, like the namespaces: both go at a reboot.
 */
export const MACHINE_RUNS_DIR = "/run/plone-aws-rehearsal";

/** Writes a run's record in its cache's registry and in the machine's. */
export function writeRunRecord(cacheDir: string, record: RunRecord): void {
    for (const dir of [registryDir(cacheDir), MACHINE_RUNS_DIR]) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `${record.runId}.json`), JSON.stringify(record, null, 2));
    }
}

/** The records of a directory of them, by run id (unreadable ones are skipped: their namespaces are still found by name). */
function readRunRecords(dir: string): Map<string, RunRecord> {
    const records = new Map<string, RunRecord>();
    if (!fs.existsSync(dir)) return records;
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
        try {
            const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as RunRecord;
            records.set(r.runId, r);
        } catch {
            // see above
        }
    }
    return records;
}

export function nsIdentity(file: string): string | undefined {
    try {
        const s = fs.statSync(file);
        return `${s.dev}:${s.ino}`;
    } catch {
        return undefined;
    }
}

export function netnsIdentity(name: string): string | undefined {
    return nsIdentity(`/run/netns/${name}`);
}

export function pids(): number[] {
    return fs
        .readdirSync("/proc")
        .filter((e) => /^\d+$/.test(e))
        .map(Number);
}

/** The PIDs of a process in each PID namespace it is in, outermost first (NSpid). */
export function nsPids(pid: number): number[] {
    try {
        const line = fs
            .readFileSync(`/proc/${pid}/status`, "utf8")
            .split("\n")
            .find((l) => l.startsWith("NSpid:"));
        return line ? line.slice("NSpid:".length).trim().split(/\s+/).map(Number) : [];
    } catch {
        return [];
    }
}

/** Live processes whose network namespace is one of `netns` (zombies have none and are skipped). */
export function processesInNetns(netns: Set<string>): number[] {
    return pids().filter((pid) => {
        const id = nsIdentity(`/proc/${pid}/ns/net`);
        return id !== undefined && netns.has(id);
    });
}

/**
 * Kills every process of the given network namespaces, and every process of the PID namespaces
 * they started (a test host's or the VPC services' PID 1 and all below it), then waits until
 * none is left. Only PID namespaces nested below this process's own are ever swept.
 */
async function killNamespaceProcesses(netnsNames: string[], timeoutMs = 15_000): Promise<number[]> {
    const netns = new Set(netnsNames.map(netnsIdentity).filter((x): x is string => x !== undefined));
    if (netns.size === 0) return [];
    const ownDepth = nsPids(process.pid).length;
    const ownPidNs = nsIdentity("/proc/self/ns/pid");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const victims = new Set(processesInNetns(netns));
        const childPidNs = new Set<string>();
        for (const pid of victims) {
            const pidNs = nsIdentity(`/proc/${pid}/ns/pid`);
            if (pidNs && pidNs !== ownPidNs && nsPids(pid).length > ownDepth) childPidNs.add(pidNs);
        }
        if (childPidNs.size) {
            for (const pid of pids()) {
                const pidNs = nsIdentity(`/proc/${pid}/ns/pid`);
                if (pidNs && childPidNs.has(pidNs)) victims.add(pid);
            }
        }
        victims.delete(process.pid);
        if (victims.size === 0) return [];
        if (Date.now() > deadline) return [...victims];
        for (const pid of victims) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // gone already
            }
        }
        await sleep(100);
    }
}

/**
 * Kills the PID 1 named by a pidfile if, and only if, it still is that PID 1: the PID 1 of a
 * nested PID namespace, with the run's marker in its environment (PIDs wrap quickly), and in the
 * expected network namespace when that still exists.
 */
export function killRecordedInit(pidfile: string, marker: string, netns?: string): void {
    if (!fs.existsSync(pidfile)) return;
    const pid = Number(fs.readFileSync(pidfile, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    const ns = nsPids(pid);
    if (ns.length < 2 || ns[ns.length - 1] !== 1) return;
    if (netns !== undefined && nsIdentity(`/proc/${pid}/ns/net`) !== netns) return;
    let environ: string[];
    try {
        environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    } catch {
        return;
    }
    if (!environ.includes(marker)) return;
    try {
        process.kill(pid, "SIGKILL");
    } catch {
        // gone already
    }
}

export function listNetns(): string[] {
    return fs.existsSync("/run/netns") ? fs.readdirSync("/run/netns") : [];
}

async function deleteNetns(names: string[]): Promise<string[]> {
    for (const name of names) {
        if (listNetns().includes(name)) run("ip", ["netns", "delete", name], { allowFailure: true });
    }
    // Deletion is asynchronous in the kernel; the /run/netns entry goes at once.
    const deadline = Date.now() + 5000;
    let left = names.filter((n) => listNetns().includes(n));
    while (left.length && Date.now() < deadline) {
        await sleep(100);
        left = names.filter((n) => listNetns().includes(n));
    }
    return left;
}

/** Mount points of this (the machine's) mount namespace under a directory or naming a run. */
function mountsMentioning(needles: string[]): string[] {
    const mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n");
    return mountinfo.filter((l) => needles.some((n) => l.includes(n))).map((l) => l.split(" ")[4]);
}

export function runLeftovers(runId: string, runDir?: string): { netns: string[]; links: string[]; mounts: string[]; processes: number[]; loops: string[] } {
    const netns = listNetns().filter((n) => n.startsWith(runId));
    const linksOut = run("ip", ["-o", "link", "show"], { allowFailure: true }).stdout;
    const links = linksOut
        .split("\n")
        .filter((l) => l.includes(runId))
        .map((l) => l.split(":")[1]?.trim() ?? l);
    const mounts = mountsMentioning([runId, ...(runDir ? [`${path.resolve(runDir)}/`] : [])]);
    const processes = pids().filter((pid) => {
        try {
            return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`PLONE_AWS_RUN=${runId}`);
        } catch {
            return false;
        }
    });
    const loops = runLoops({ runId, runDir }).map((l) => l.device);
    return { netns, links, mounts, processes, loops };
}

/**
 * Loop devices of a run: those recorded, and any whose image file is in the run's hosts/
 * directory (an image file of a run is never anything else's).
 */
function runLoops(rec: { runId: string; runDir?: string; loops?: { device: string; file: string }[] }): { device: string; file: string }[] {
    const r = run("losetup", ["--list", "--json", "--output", "NAME,BACK-FILE"], { allowFailure: true });
    let devices: { name: string; "back-file": string | null }[] = [];
    try {
        devices = r.status === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as { loopdevices: typeof devices }).loopdevices : [];
    } catch {
        devices = [];
    }
    const dirs = [...(rec.runDir ? [`${path.resolve(rec.runDir)}/hosts/`] : []), `/runs/${rec.runId}/hosts/`];
    const recorded = new Map((rec.loops ?? []).map((l) => [l.device, l.file]));
    return devices
        .map((d) => ({ device: d.name, file: (d["back-file"] ?? "").replace(/ \(deleted\)$/, "") }))
        .filter((d) => recorded.get(d.device) === d.file || (d.file.endsWith(".img") && dirs.some((dir) => d.file.includes(dir))));
}

/** Detaches the run's loop devices (busy ones are detached by the kernel once their last user is gone). */
async function detachLoops(rec: { runId: string; runDir?: string; loops?: { device: string; file: string }[] }, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let left = runLoops(rec);
    while (left.length) {
        for (const l of left) run("losetup", ["--detach", l.device], { allowFailure: true });
        await sleep(200);
        left = runLoops(rec);
        if (Date.now() > deadline) break;
    }
    return left.map((l) => `${l.device} (${l.file})`);
}

export async function teardownRun(
    rec: { runId: string; runDir?: string; netns: string[]; loops?: { device: string; file: string }[] },
    cacheDir: string,
): Promise<string[]> {
    const netns = [...new Set([...rec.netns, ...listNetns().filter((n) => n.startsWith(`${rec.runId}-`))])];
    if (rec.runDir) {
        // The recorded PID 1s first: one kill ends a whole host.
        const hostsDir = path.join(rec.runDir, "hosts");
        if (fs.existsSync(hostsDir)) {
            for (const name of fs.readdirSync(hostsDir)) {
                killRecordedInit(path.join(hostsDir, name, "init.pid"), `PLONE_AWS_RUN=${rec.runId}`, netnsIdentity(`${rec.runId}-h-${name}`));
            }
        }
        killRecordedInit(path.join(rec.runDir, "vpc", "init.pid"), `PLONE_AWS_RUN=${rec.runId}`);
    }
    const leftovers: string[] = [];
    const survivors = await killNamespaceProcesses(netns);
    if (survivors.length) leftovers.push(`processes that would not die: ${survivors.join(", ")}`);
    const stuck = await deleteNetns(netns);
    if (stuck.length) leftovers.push(`network namespaces: ${stuck.join(", ")}`);
    // The hosts' mounts of their volumes went with their mount namespaces.
    const loops = await detachLoops(rec);
    if (loops.length) leftovers.push(`loop devices still attached: ${loops.join(", ")}`);
    if (rec.runDir && fs.existsSync(rec.runDir)) {
        const mounted = mountsMentioning([`${path.resolve(rec.runDir)}/`]);
        if (mounted.length) {
            leftovers.push(`mounts under ${rec.runDir}: ${mounted.join(", ")} (the run directory is left in place)`);
        } else if (!survivors.length && !loops.length) {
            for (const d of RUN_WORK_DIRS) fs.rmSync(path.join(rec.runDir, d), { recursive: true, force: true });
        }
    }
    if (!leftovers.length) {
        for (const dir of [registryDir(cacheDir), MACHINE_RUNS_DIR]) fs.rmSync(path.join(dir, `${rec.runId}.json`), { force: true });
    }
    return leftovers;
}

/**
 * The directories of a run besides its logs: the hosts' roots, the VPC's state, the run's key, the
 * fixture repositories and the files served to the hosts. Teardown removes them; the logs stay.
 */
export const RUN_WORK_DIRS = ["ssh", "hosts", "vpc", "git", "files"] as const;

/** How many finished runs keep their logs under <cacheDir>/runs. */
const RUN_LOGS_KEPT = 10;

/** Removes the logs of all but the newest finished runs (registered runs are never touched). */
export function pruneOldRunLogs(cacheDir: string): void {
    const runsDir = path.join(cacheDir, "runs");
    if (!fs.existsSync(runsDir)) return;
    const active = new Set(fs.existsSync(registryDir(cacheDir)) ? fs.readdirSync(registryDir(cacheDir)).map((f) => f.replace(/\.json$/, "")) : []);
    const finished = fs
        .readdirSync(runsDir)
        .filter((d) => new RegExp(`^${RUN_PREFIX}[0-9a-f]{6}$`).test(d) && !active.has(d))
        .map((d) => ({ dir: path.join(runsDir, d), mtime: fs.statSync(path.join(runsDir, d)).mtimeMs }))
        .sort((a, b) => b.mtime - a.mtime);
    for (const old of finished.slice(RUN_LOGS_KEPT)) fs.rmSync(old.dir, { recursive: true, force: true });
}

export interface StaleReport {
    removed: string[];
    /** Runs left alone: their runner still runs, or they were kept (--keep). */
    skipped: { runId: string; reason: string }[];
    leftovers: string[];
}

/**
 * Cleans up after rehearsals that crashed: every network namespace named with the run prefix
 * whose runner is gone, the processes in it, and the run's overlay directories when the run is
 * registered in cacheDir. Runs still in progress (their runner is alive) are never touched; kept
 * runs only with `includeKept` or when named in `only`.
 */
export async function teardownStale(options: { cacheDir?: string; includeKept?: boolean; only?: string[] } = {}): Promise<StaleReport> {
    const cacheDir = path.resolve(options.cacheDir ?? DEFAULT_CACHE_DIR);
    // The cache's own records first; the machine's tell about runs of other caches (never tear down a live one).
    const records = new Map([...readRunRecords(MACHINE_RUNS_DIR), ...readRunRecords(registryDir(cacheDir))]);
    const runIds = new Set<string>([...records.keys()]);
    for (const n of listNetns()) {
        const m = new RegExp(`^(${RUN_PREFIX}[0-9a-f]{6})-`).exec(n);
        if (m) runIds.add(m[1]);
    }
    const report: StaleReport = { removed: [], skipped: [], leftovers: [] };
    for (const runId of runIds) {
        if (options.only && !options.only.includes(runId)) continue;
        const rec = records.get(runId);
        if (rec && rec.runnerStarted !== "" && processStartTime(rec.runnerPid) === rec.runnerStarted) {
            report.skipped.push({ runId, reason: `its rehearsal (pid ${rec.runnerPid}) is still running` });
            continue;
        }
        if (rec?.kept && !options.includeKept && !options.only) {
            report.skipped.push({ runId, reason: `kept (--keep); remove it with npm run rehearse -- --teardown ${runId}` });
            continue;
        }
        const leftovers = await teardownRun({ runId, runDir: rec?.runDir, netns: rec?.netns ?? [], loops: rec?.loops }, cacheDir);
        report.leftovers.push(...leftovers.map((l) => `${runId}: ${l}`));
        report.removed.push(runId);
    }
    return report;
}

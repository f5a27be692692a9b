// A second provisioning run on the same hosts must change nothing: no daemon restarted (same PID,
// same start time), no file installed, nothing built or activated. This module takes the daemons'
// snapshot on each test host and judges a second run from its output and the snapshots.
import type { RunnerResult } from "./runner";
import type { TestHostRun } from "./testHosts";

/** One long-running process of a host, by what it is. */
export interface DaemonProcess {
    /** What it is: "supervisord", "client1 (supervisor program)", "haproxy", "nginx worker", ... */
    label: string;
    pid: number;
    /** Its start time in clock ticks since boot: a new process has another, even with a reused PID. */
    started: string;
}

/** How a daemon's command line names it; processes matching none are not daemons of the stack. */
const DAEMONS: [RegExp, (m: RegExpExecArray) => string][] = [
    [/\bsupervisord\b/, () => "supervisord"],
    [/standin\/app\.py \d+ (\S+)/, (m) => `${m[1]} (supervisor program)`],
    [/plone-haproxy-agent/, () => "plone-haproxy-agent"],
    [/^\/usr\/sbin\/haproxy /, () => "haproxy"],
    [/^\/usr\/sbin\/varnishd /, () => "varnishd (manager)"],
    [/^varnishd /, () => "varnishd (cache)"],
    [/^nginx: master/, () => "nginx master"],
    [/^nginx: worker/, () => "nginx worker"],
    [/^\/usr\/sbin\/glusterd /, () => "glusterd"],
    [/^\/usr\/sbin\/glusterfsd .*--brick-name (\S+)/, (m) => `glusterfsd ${m[1]}`],
    [/^\/usr\/sbin\/glusterfs .*--volfile-id shd/, () => "glusterfs self-heal daemon"],
    [/^\/usr\/sbin\/glusterfs .*?(\/srv\/\S+)\s*$/, (m) => `glusterfs mount ${m[1]}`],
    [/^\/usr\/sbin\/rsyslogd/, () => "rsyslogd"],
    [/^\/usr\/sbin\/cron/, () => "cron"],
    [/^\/usr\/bin\/memcached/, () => "memcached"],
    [/^\/usr\/bin\/redis-server/, () => "redis-server"],
];

/** `<pid> <start time> <command line>` for every process of the host (run as root). */
const LIST_PROCESSES = `for d in /proc/[0-9]*; do
  pid=\${d#/proc/}
  cmd=$(tr '\\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
  [ -n "$cmd" ] || continue
  stat=$(cat "$d/stat" 2>/dev/null) || continue
  read -r -a fields <<<"\${stat##*) }"
  printf '%s %s %s\\n' "$pid" "\${fields[19]}" "$cmd"
done
`;

/** The daemons in a process listing (LIST_PROCESSES's output), sorted by label and PID. */
export function daemonsOf(listing: string): DaemonProcess[] {
    const daemons: DaemonProcess[] = [];
    for (const line of listing.split("\n")) {
        const m = /^(\d+) (\d+) (.*?)\s*$/.exec(line);
        if (!m) continue;
        for (const [re, label] of DAEMONS) {
            const hit = re.exec(m[3]);
            if (hit) {
                daemons.push({ label: label(hit), pid: Number(m[1]), started: m[2] });
                break;
            }
        }
    }
    return daemons.sort((a, b) => a.label.localeCompare(b.label) || a.pid - b.pid);
}

/** The daemons of every named test host. */
export async function snapshotDaemons(run: TestHostRun, hostNames: string[]): Promise<Record<string, DaemonProcess[]>> {
    const entries = await Promise.all(
        hostNames.map(async (name) => {
            const r = await run.ssh(name, "bash -s", { user: "root", input: LIST_PROCESSES, timeoutMs: 30_000 });
            if (r.status !== 0) throw new Error(`listing the processes of ${name} failed: ${r.stderr.trim()}`);
            return [name, daemonsOf(r.stdout)] as const;
        }),
    );
    return Object.fromEntries(entries);
}

/** What differs between two snapshots: daemons restarted (new PID or start time), started or stopped. */
export function daemonChanges(before: Record<string, DaemonProcess[]>, after: Record<string, DaemonProcess[]>): string[] {
    const changes: string[] = [];
    for (const host of Object.keys(before)) {
        const group = (list: DaemonProcess[]) => {
            const m = new Map<string, string[]>();
            for (const d of list) m.set(d.label, [...(m.get(d.label) ?? []), `${d.pid}@${d.started}`]);
            return m;
        };
        const b = group(before[host]);
        const a = group(after[host] ?? []);
        for (const label of [...new Set([...b.keys(), ...a.keys()])].sort()) {
            const was = b.get(label) ?? [];
            const now = a.get(label) ?? [];
            if (was.join(" ") === now.join(" ")) continue;
            const pids = (l: string[]) => l.map((x) => x.split("@")[0]).join(",") || "none";
            changes.push(`${host}: ${label} ${!was.length ? "started" : !now.length ? "stopped" : "restarted"} (PID ${pids(was)} -> ${pids(now)})`);
        }
    }
    return changes;
}

/** The release trees plone-deploy keeps on a host: the backend's (releases/) and Volto's (frontend/releases/). */
export type ReleaseTree = "backend" | "frontend";

/** What the configure step of a second run must say when it changed nothing. */
const CONFIGURE_UNCHANGED = /^plone-aws: configuration unchanged$/m;

/** What the build and activate steps of a second run must say, for each release tree of the host, when they changed nothing. */
export const UNCHANGED_SAYINGS: Record<"build" | "activate", Record<ReleaseTree, RegExp>> = {
    build: {
        backend: /plone-deploy: nothing to deploy: /m,
        frontend: /plone-deploy: nothing to build for Volto: /m,
    },
    activate: {
        backend: /plone-deploy: releases\/\d+ \(commit [0-9a-f]+\) is already active$/m,
        frontend: /plone-deploy: frontend\/releases\/\d+ \(commit [0-9a-f]+\) is already active$/m,
    },
};

/** The release trees of each host of a topology (its build hosts keep the backend's, its volto hosts Volto's). */
export function releaseTreesOf(roles: { buildHosts: string[]; voltoHosts: string[] }): (host: string) => ReleaseTree[] {
    return (host) => [...(roles.buildHosts.includes(host) ? (["backend"] as const) : []), ...(roles.voltoHosts.includes(host) ? (["frontend"] as const) : [])];
}

/**
 * Lines of the host scripts (plone-setup, plone-volumes, plone-blob-server, plone-blobs) that
 * report a change: every other line of theirs is "no change", a warning, or a note.
 */
const SETUP_CHANGE = /^(plone-setup|plone-volumes|plone-blob-server|plone-blobs): (?!no change$|WARNING: |peer ready; )/;

/**
 * What a second run did that it should not have: steps that failed or report a change.
 * `treesOf` names the release trees a host deploys (the backend's by default), each of which its
 * build and activate steps must say is unchanged.
 */
export function secondRunProblems(result: RunnerResult, treesOf: (host: string) => ReleaseTree[] = () => ["backend"]): string[] {
    const problems: string[] = [];
    for (const r of result.results) {
        const where = `${r.host}/${r.step}`;
        if (r.status !== "ok") {
            problems.push(`${where} ${r.status}`);
            continue;
        }
        const output = (r.output ?? []).join("\n");
        const sayings =
            r.step === "configure"
                ? [CONFIGURE_UNCHANGED]
                : r.step === "build" || r.step === "activate"
                  ? treesOf(r.host).map((t) => UNCHANGED_SAYINGS[r.step as "build" | "activate"][t])
                  : [];
        for (const saying of sayings) if (!saying.test(output)) problems.push(`${where} does not say ${saying.source.replace(/[\\^$]/g, "")}`);
        if (r.step === "setup") {
            for (const line of r.output ?? []) if (SETUP_CHANGE.test(line)) problems.push(`${where}: ${line}`);
        }
        if (r.step === "configure") {
            for (const line of r.output ?? []) if (/^plone-aws: (changed|reloading|restarting) /.test(line)) problems.push(`${where}: ${line}`);
        }
    }
    return problems;
}

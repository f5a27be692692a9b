// npm run bench:tests -- [--suite] [--jobs N[,N...]] [--no-tools] [SPEC...]
// Where the time of `npm test` goes: the CPU (user + system, the spec's daemons and scripts
// included) and wall time of each non-rehearsal spec file run alone, heaviest first, with the
// total; then tsc and `npm run check`. With --suite: the parallel pass `npm test` runs, once per
// job count (--jobs, 4 by default). The machine may be shared: CPU figures are the steady ones,
// wall times come with the load average. Run it niced (`nice -n 10 npm run bench:tests`).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exitWith, takeOption, usageError } from "./lib/cli";

const USAGE = "usage: npm run bench:tests -- [--suite] [--jobs N[,N...]] [--no-tools] [SPEC...]";
const ROOT = path.resolve(__dirname, "..");
const MOCHA = path.join(ROOT, "node_modules", ".bin", "mocha");

interface Timing {
    name: string;
    user: number;
    system: number;
    wall: number;
    status: number;
    summary: string;
}

/** `bash`'s `times` line for its children: "0m1.234s 0m0.056s". */
function seconds(field: string): number {
    const m = /^(\d+)m([\d.]+)s$/.exec(field);
    if (!m) throw new Error(`cannot read the time ${JSON.stringify(field)}`);
    return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * Runs a command under bash and reads the CPU its whole process tree used (every child it waited
 * for: mocha, its workers, the daemons and scripts the specs start) from bash's `times`.
 */
function timed(name: string, command: string[], log: string): Timing {
    const start = process.hrtime.bigint();
    const r = spawnSync("bash", ["-c", '"$@" >"$BENCH_LOG" 2>&1; status=$?; times; exit "$status"', "bench", ...command], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, BENCH_LOG: log, PATH: testPath() },
    });
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    const lines = r.stdout.trim().split("\n");
    const [user, system] = (lines[lines.length - 1] ?? "").split(/\s+/).map(seconds);
    const output = fs.readFileSync(log, "utf8");
    const summary = [/(\d+) passing/, /(\d+) pending/, /(\d+) failing/]
        .map((re) => re.exec(output))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => m[0])
        .join(", ");
    return { name, user, system, wall, status: r.status ?? -1, summary };
}

/** PATH as scripts/test.sh gives it: the daemons' checks live in sbin. */
function testPath(): string {
    const dirs = (process.env.PATH ?? "").split(":");
    for (const dir of ["/usr/local/sbin", "/usr/sbin", "/sbin"]) if (!dirs.includes(dir)) dirs.push(dir);
    return dirs.join(":");
}

/** Every spec `npm test` runs without the opt-in rehearsal. */
function nonRehearsalSpecs(): string[] {
    const out: string[] = [];
    for (const dir of fs.readdirSync(path.join(ROOT, "test")).sort()) {
        if (dir === "rehearsal" || !fs.statSync(path.join(ROOT, "test", dir)).isDirectory()) continue;
        for (const f of fs.readdirSync(path.join(ROOT, "test", dir)).sort()) if (f.endsWith(".spec.ts")) out.push(`test/${dir}/${f}`);
    }
    return out;
}

const row = (t: Timing) =>
    `${(t.user + t.system).toFixed(1).padStart(7)}  ${t.user.toFixed(1).padStart(7)}  ${t.system.toFixed(1).padStart(6)}  ${t.wall.toFixed(1).padStart(6)}  ${t.name}${t.status === 0 ? "" : `  FAILED (exit ${t.status})`}  ${t.summary}`;
const HEADER = "    cpu s   user s  sys s  wall s  what";
const load = () =>
    os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ");

async function main(): Promise<number> {
    const jobsOption = takeOption(process.argv.slice(2), "--jobs");
    const args = jobsOption.rest;
    const suite = args.includes("--suite");
    const tools = !args.includes("--no-tools");
    const jobs = (jobsOption.value ?? "4").split(",").map(Number);
    if (jobsOption.missing || jobs.some((j) => !Number.isInteger(j) || j < 1 || j > 64)) return usageError("--jobs takes whole numbers from 1 to 64", USAGE);
    const rest = args.filter((a) => a !== "--suite" && a !== "--no-tools");
    for (const a of rest) {
        if (a.startsWith("-")) return usageError(`unknown option ${a}`, USAGE);
        if (!fs.existsSync(path.join(ROOT, a))) return usageError(`no spec ${a}`, USAGE);
    }
    const logs = fs.mkdtempSync(path.join(os.tmpdir(), "plone-aws-bench-tests-"));
    const logOf = (name: string) => path.join(logs, `${name.replace(/[^A-Za-z0-9_.-]+/g, "_")}.log`);
    let failed = false;
    console.log(`${os.cpus().length} CPUs, load average ${load()} at the start; logs in ${logs}`);

    if (suite) {
        console.log("\nThe parallel pass of `npm test` (no rehearsal)");
        console.log(HEADER);
        // The spec files in the order npm test gives them (the slowest first).
        const specs = spawnSync("bash", [path.join(ROOT, "scripts", "test.sh"), "--list-specs"], { cwd: ROOT, encoding: "utf8" })
            .stdout.trim()
            .split("\n");
        for (const j of jobs) {
            const t = timed(`mocha --parallel --jobs ${j}`, [MOCHA, "--parallel", "--jobs", String(j), ...specs], logOf(`suite-jobs-${j}`));
            failed ||= t.status !== 0;
            console.log(`${row(t)}  (load average ${load()} after)`);
        }
    } else {
        const specs = rest.length ? rest : nonRehearsalSpecs();
        const timings: Timing[] = [];
        for (const spec of specs) {
            const t = timed(spec, [MOCHA, spec], logOf(spec));
            failed ||= t.status !== 0;
            timings.push(t);
            process.stderr.write(`${row(t)}\n`);
        }
        timings.sort((a, b) => b.user + b.system - (a.user + a.system));
        console.log(`\nEach spec file alone (mocha FILE), heaviest first; load average ${load()} at the end`);
        console.log(HEADER);
        for (const t of timings) console.log(row(t));
        const total = timings.reduce((s, t) => ({ cpu: s.cpu + t.user + t.system, wall: s.wall + t.wall }), { cpu: 0, wall: 0 });
        console.log(
            `${total.cpu.toFixed(1).padStart(7)}  ${"".padStart(7)}  ${"".padStart(6)}  ${total.wall.toFixed(1).padStart(6)}  total of ${timings.length} files`,
        );
    }

    if (tools) {
        console.log(`\nThe checks \`npm test\` runs before the specs`);
        console.log(HEADER);
        for (const [name, command] of [
            ["tsc --noEmit -p .", [path.join(ROOT, "node_modules", ".bin", "tsc"), "--noEmit", "-p", "."]],
            ["npm run check", ["npm", "run", "--silent", "check"]],
        ] as const) {
            const t = timed(name, [...command], logOf(name));
            failed ||= t.status !== 0;
            console.log(row(t));
        }
    }
    if (failed) console.error(`some runs failed: their logs are in ${logs}`);
    return failed ? 1 : 0;
}

exitWith(main());

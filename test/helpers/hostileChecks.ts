// The checks of the hostile-configuration property test (test/daemons/hostile-config*.spec.ts): a
// hostile value placed at a string key in every full stack is either refused by that key's path (one
// line per error, no trace), or every file of every host keeps its shape, the changed files pass their
// daemon's validator, and running every changed script with --help (and bash -n) creates no file.
// The keys are shared out over several spec files (HOSTILE_SHARDS) so that mocha's parallel mode runs
// them side by side.
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { StackSpec } from "../../components/config/spec";
import type { RenderContext, RenderedFile } from "../../components/render/context";
import { renderFrontendFiles } from "../../components/render/frontend";
import { buildoutPython } from "./buildout";
import { prepareDebianFiles, rootedLayout, writeFiles } from "./frontendDaemons";
import { FullStack, fullStacks, Raw, rawMayChange, renderEverything, RenderedStack, secretsOf, shapeOf, validate } from "./hostileConfig";
import { StringLeaf, stringLeaves, withLeaf } from "./schemaLeaves";
import { relocate } from "./standin";
import { describeAsRoot } from "./privileges";
import { BatchedResult, BatchedRun, requireBinaries, run, runAll, tempDir } from "./system";

/** A file the injected commands would create; it must never exist. */
export const SENTINEL = path.join(os.tmpdir(), `plone-aws-pwned-${process.pid}`);

/** The hostile values, each named for the report. */
export const PAYLOADS: [string, string][] = [
    ["a line break and a haproxy server", "/ok\n    server evil 203.0.113.66:80"],
    ["a line break and a supervisor program", `x\n[program:evil]\ncommand=/bin/sh -c 'touch ${SENTINEL}'`],
    ["a line break and a shell command", `x\ntouch ${SENTINEL}`],
    ["a carriage return", "x\r\nInjected: 1"],
    ["both quote kinds", `it's a "quoted" value`],
    ["a command substitution", `$(touch ${SENTINEL})`],
    ["backquotes", `\`touch ${SENTINEL}\``],
    ["a semicolon and a command", `x; touch ${SENTINEL}`],
    ["a NUL", "x\u0000y"],
    ["an option", "--output=/etc/cron.d/x"],
    ["a short option and a path", "-o /etc/cron.d/x"],
    ["substitutions", "%(here)s ${buildout:directory} $HOME"],
    ["dot-dot segments", "../../etc/passwd"],
    ["a closing brace and a new block", `x; }\nserver { listen 8080; location / { return 200; } }`],
    ["a VCL string break", `x" + req.http.Cookie + "`],
    ["100 kB", "a".repeat(100_000)],
];

export interface Outcome {
    refused: boolean;
    detail?: string;
}

/** The full stacks every hostile value is placed in (dev, prod, prod with an external database). */
export const stacks = fullStacks();
const baselines = new Map<string, { spec: StackSpec; rendered: RenderedStack }>();

function baseline(stack: FullStack): { spec: StackSpec; rendered: RenderedStack } {
    let b = baselines.get(stack.name);
    if (!b) {
        const r = validate(stack.raw, stack.name);
        if (!r.spec) throw new Error(`${stack.name}: ${JSON.stringify(r.errors)}`);
        b = { spec: r.spec, rendered: renderEverything(r.spec, secretsOf(stack.raw, r.spec)) };
        baselines.set(stack.name, b);
    }
    return b;
}

export function parsedSection(raw: Raw, section: string): unknown {
    const v = raw[`plone-aws:${section}`];
    if (v === undefined) return undefined;
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}

/** The key path as configuration errors name it: plone-aws:app.cacheArchives[0].user. */
function keyPathOf(section: string, parts: (string | number)[]): string {
    let out = `plone-aws:${section}`;
    for (const p of parts) out += typeof p === "number" ? `[${p}]` : `.${p}`;
    return out;
}

/** Puts `value` at the leaf in every full stack that has it; checks each outcome. */
export function tryValue(leaf: StringLeaf, value: string): Outcome[] {
    const outcomes: Outcome[] = [];
    for (const stack of stacks) {
        const section = parsedSection(stack.raw, leaf.section);
        const placed = withLeaf(section, leaf.steps, value);
        if (!placed) continue;
        const raw = { ...stack.raw, [`plone-aws:${leaf.section}`]: typeof placed.section === "string" ? placed.section : JSON.stringify(placed.section) };
        outcomes.push(checkOne(stack, raw, leaf.name, keyPathOf(leaf.section, placed.keyPath), value));
    }
    return outcomes;
}

export function checkOne(stack: FullStack, raw: Raw, leafName: string, keyPath: string, value: string): Outcome {
    let result;
    try {
        result = validate(raw, stack.name);
    } catch (e) {
        throw new Error(`${leafName} = ${JSON.stringify(value.slice(0, 60))} in ${stack.name}: validation threw ${(e as Error).stack}`);
    }
    if (!result.spec) {
        // Refused: by this key (or, for a record key, by the record's path), one line per error.
        const parent = keyPath.slice(0, keyPath.lastIndexOf(keyPath.endsWith("]") ? "[" : "."));
        const named = result.errors.filter(
            (e) =>
                e.path === keyPath ||
                e.path.startsWith(`${keyPath}.`) ||
                e.path.startsWith(`${keyPath}[`) ||
                (leafName.endsWith("{key}") && e.path.startsWith(parent)),
        );
        expect(
            named,
            `${leafName} = ${JSON.stringify(value.slice(0, 60))} in ${stack.name} was refused, but not by its key ${keyPath}: ${JSON.stringify(result.errors)}`,
        ).not.to.deep.equal([]);
        for (const e of result.errors) {
            expect(e.message, "an error is one line").not.to.match(/[\r\n]/);
            expect(e.message.length, "an error quotes at most the start of a value").to.be.below(2000);
        }
        return { refused: true };
    }
    checkRendered(stack, raw, result.spec, leafName, value);
    return { refused: false };
}

function checkRendered(stack: FullStack, raw: Raw, spec: StackSpec, leafName: string, value: string): void {
    const what = `${leafName} = ${JSON.stringify(value.slice(0, 60))} in ${stack.name}`;
    const base = baseline(stack);
    let rendered: RenderedStack;
    try {
        rendered = renderEverything(spec, secretsOf(raw, spec));
    } catch (e) {
        throw new Error(`${what}: accepted, but rendering threw ${(e as Error).stack}`);
    }
    expect([...rendered.files.keys()].sort(), `${what}: the same files`).to.deep.equal([...base.rendered.files.keys()].sort());
    const changed = [...rendered.files.entries()].filter(([k, f]) => base.rendered.files.get(k)!.content !== f.content);
    const raw_ = leafName.split(".").some((p) => p.startsWith("raw"));
    for (const [key, file] of changed) {
        if (raw_) {
            expect(rawMayChange(leafName, key), `${what}: a raw key changed ${key}`).to.equal(true);
        } else if (!key.includes(" step:")) {
            expect(shapeOf(file), `${what}: the shape of ${key}`).to.deep.equal(shapeOf(base.rendered.files.get(key)!));
        }
    }
    validateChanged(rendered.ctx, changed, what);
    expect(fs.existsSync(SENTINEL), `${what}: a rendered file ran the injected command`).to.equal(false);
}

/**
 * The checks of the running test that need other programs (the daemons' validators, bash, python),
 * run together when it ends: one bash and one python process for all its values instead of one
 * process per file and value. Each check keeps its assertion and message.
 */
interface PendingChecks {
    /** The test's scratch directory: a directory per accepted value, with its files. */
    dir: string;
    values: number;
    runs: { run: BatchedRun; then: (r: BatchedResult) => void }[];
    python: { job: PythonJob; then: (r: PythonResult) => void }[];
}

let pending: PendingChecks | undefined;

/**
 * Runs a test body that places hostile values (tryValue, checkOne), then the checks of every value
 * it accepted that other programs make.
 */
export function withChecks(body: () => void): void {
    if (pending) throw new Error("withChecks inside withChecks");
    const tmp = tempDir("hostile");
    // varnishd and nginx read their files as their own users.
    fs.chmodSync(tmp.dir, 0o755);
    pending = { dir: tmp.dir, values: 0, runs: [], python: [] };
    try {
        body();
        const { runs, python } = pending;
        runAll(
            runs.map((r) => r.run),
            tmp.dir,
            SENTINEL,
        ).forEach((r, i) => runs[i].then(r));
        pythonChecks(
            python.map((p) => p.job),
            tmp.dir,
        ).forEach((r, i) => python[i].then(r));
        expect(fs.existsSync(SENTINEL), "a check ran the injected command").to.equal(false);
    } finally {
        pending = undefined;
        tmp.cleanup();
    }
}

function checks(): PendingChecks {
    if (!pending) throw new Error("hostile values are placed inside withChecks(), which runs the validators when the test ends");
    return pending;
}

/** The changed files through their validators; changed scripts with bash -n and --help. */
function validateChanged(ctx: RenderContext, changed: [string, RenderedFile][], what: string): void {
    const batch = checks();
    const dir = path.join(batch.dir, String(batch.values++));
    fs.mkdirSync(dir, { mode: 0o755 });
    // Each front end's daemons check that front end's changed files only.
    const frontends = new Map<string, Set<"haproxy" | "varnish" | "nginx">>();
    for (const [key, file] of changed) {
        const daemon = (["haproxy", "varnish", "nginx"] as const).find((d) => file.path.includes(`/${d}/`) || file.path.includes(`/${d}.`));
        if (!daemon || key.includes(" step:")) continue;
        const host = key.split(" ")[0];
        frontends.set(host, new Set([...(frontends.get(host) ?? []), daemon]));
    }
    if (frontends.size > 0) checkFrontends(ctx, dir, what, frontends);
    changed.forEach(([key, file], i) => {
        const target = path.join(dir, key.replace(/[^A-Za-z0-9_.-]+/g, "_"));
        fs.writeFileSync(target, file.content, { mode: 0o700 });
        if (file.path.startsWith("/etc/supervisor/")) checkSupervisor(file, path.join(dir, `supervisor-${i}`), what);
        if (file.path.endsWith("/deploy.cfg")) {
            if (!leafIsRaw(what)) batch.python.push({ job: { kind: "buildout", text: file.content }, then: throwUnparsedBuildout });
        }
        if (file.path.endsWith(".ini")) {
            batch.python.push({ job: { kind: "ini", path: target }, then: (r) => expect(r.status, `${what}: ${file.path}: ${r.error}`).to.equal(0) });
        }
        if (file.path.endsWith(".json")) expect(() => JSON.parse(file.content), `${what}: ${file.path}`).not.to.throw();
        if (isScript(file)) checkScript(target, file.content, key, what, dir);
    });
}

const leafIsRaw = (what: string) =>
    what
        .split(" = ")[0]
        .split(".")
        .some((p) => p.startsWith("raw"));

function isScript(file: RenderedFile): boolean {
    return file.content.startsWith("#!") || file.path.startsWith("step:");
}

/** bash -n, then --help in an empty directory: a script's help creates no file. */
function checkScript(target: string, content: string, key: string, what: string, dir: string): void {
    if (!/^#!\/(usr\/bin\/env bash|bin\/bash)/.test(content) && !key.includes(" step:")) return;
    const batch = checks();
    batch.runs.push({
        run: { command: "bash", args: ["-n", target], cwd: dir },
        then: (syntax) => expect(syntax.status, `${what}: bash -n ${key}: ${syntax.output}`).to.equal(0),
    });
    // Only scripts that answer --help before doing anything are run (every host script and step does).
    expect(/-h \| --help|--help\)|-h\|--help/.test(content), `${what}: ${key} has no --help`).to.equal(true);
    const cwd = fs.mkdtempSync(path.join(dir, "help-"));
    batch.runs.push({
        run: { command: "bash", args: [target, "--help"], cwd, env: { PATH: process.env.PATH ?? "", HOME: cwd, PLONE_AWS_ROOT: cwd } },
        then: (r) => {
            expect(r.status, `${what}: ${key} --help: ${r.output.slice(0, 500)}`).to.be.oneOf([0, 2]);
            expect(fs.readdirSync(cwd), `${what}: ${key} --help created files`).to.deep.equal([]);
            expect(r.watched, `${what}: ${key} --help ran the injected command`).to.equal(false);
        },
    });
}

function checkSupervisor(file: RenderedFile, dir: string, what: string): void {
    fs.mkdirSync(path.join(dir, "var/log/supervisor"), { recursive: true });
    const conf = path.join(dir, "supervisor-programs.conf");
    fs.writeFileSync(conf, relocate(file.content, dir).replace(/^user=.*$/gm, "user=root"));
    const main = path.join(dir, "supervisord.conf");
    fs.writeFileSync(main, `[supervisord]\nlogfile=${dir}/supervisord.log\npidfile=${dir}/supervisord.pid\n[include]\nfiles = ${conf}\n`);
    checks().python.push({
        job: { kind: "supervisor", path: main },
        then: (r) => expect(r.status, `${what}: supervisord refuses ${file.path}: ${r.error.slice(-800)}`).to.equal(0),
    });
}

/** haproxy -c, varnishd -C and nginx -t on every front end's files, rendered under a temporary root. */
function checkFrontends(ctx: RenderContext, dir: string, what: string, daemons: Map<string, Set<"haproxy" | "varnish" | "nginx">>): void {
    const batch = checks();
    for (const fe of ctx.topology.hosts.filter((h) => daemons.has(h.name))) {
        const changed = daemons.get(fe.name)!;
        const root = fs.mkdtempSync(path.join(dir, `${fe.name}-`));
        fs.chmodSync(root, 0o755);
        const layout = rootedLayout(root);
        prepareDebianFiles(layout);
        writeFiles(root, renderFrontendFiles(ctx, fe, layout));
        if (changed.has("haproxy")) {
            batch.runs.push({
                run: { command: "haproxy", args: ["-c", "-f", layout.paths.haproxyConfig], cwd: dir },
                then: (haproxy) => expect(haproxy.status, `${what}: haproxy -c on ${fe.name}: ${haproxy.output}`).to.equal(0),
            });
        }
        if (changed.has("varnish")) {
            batch.runs.push({
                run: { command: "varnishd", args: ["-C", "-n", path.join(root, "varnish-n"), "-f", layout.paths.varnishVcl], cwd: dir },
                then: (varnish) => expect(varnish.status, `${what}: varnishd -C on ${fe.name}`).to.equal(0),
            });
        }
        if (changed.has("nginx")) {
            batch.runs.push({
                run: { command: "nginx", args: ["-t", "-c", `${layout.paths.nginxDir}/nginx.conf`], cwd: dir },
                // A raw nginx key may make nginx -t fail: the configure step then puts everything back (test/hostScripts/install.spec.ts).
                then: (nginx) => {
                    if (!leafIsRaw(what)) expect(nginx.status, `${what}: nginx -t on ${fe.name}: ${nginx.output}`).to.equal(0);
                },
            });
        }
    }
}

/** A check of python's: zc.buildout's parser on a deploy.cfg, supervisord's on its configuration, configparser on an .ini. */
type PythonJob = { kind: "buildout"; text: string } | { kind: "supervisor"; path: string } | { kind: "ini"; path: string };

interface PythonResult {
    status: number;
    error: string;
}

/** The parsers of the python jobs, in one process (importing supervisor alone costs python half a second). */
const PYTHON_CHECKS = `
import configparser, contextlib, io, json, sys, traceback
out = []
for job in json.load(sys.stdin):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            if job["kind"] == "buildout":
                import zc.buildout.configparser as p
                p.parse(io.StringIO(job["text"]), "deploy.cfg")
            elif job["kind"] == "supervisor":
                from supervisor.options import ServerOptions
                o = ServerOptions()
                o.realize(args=["-c", job["path"]])
                sorted(g.name for g in o.process_group_configs)
            else:
                c = configparser.ConfigParser()
                c.read(job["path"])
                [c.get(s, o) for s in c.sections() for o in c[s]]
        out.append({"status": 0, "error": ""})
    except SystemExit as e:
        out.append({"status": e.code if isinstance(e.code, int) else 1, "error": err.getvalue()})
    except BaseException:
        out.append({"status": 1, "error": err.getvalue() + traceback.format_exc()})
json.dump(out, sys.stdout)
`;

export function pythonChecks(jobs: PythonJob[], dir: string): PythonResult[] {
    if (jobs.length === 0) return [];
    // Debian's python3 has zc.buildout and supervisor (a pyenv python3 earlier on PATH may not).
    const python = buildoutPython();
    if (!python && jobs.some((j) => j.kind === "buildout")) throw new Error("no python3 with zc.buildout (apt-get install python3-zc.buildout)");
    const input = path.join(dir, "python-jobs.json");
    fs.writeFileSync(input, JSON.stringify(jobs));
    const r = run("bash", ["-c", `exec "$1" -c "$2" < "$3"`, "python-checks", python ?? "/usr/bin/python3", PYTHON_CHECKS, input], { maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`the python checks failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as PythonResult[];
}

function throwUnparsedBuildout(r: PythonResult): void {
    if (r.status !== 0) throw new Error(`zc.buildout could not parse the configuration:\n${r.error}`);
}

/** Which spec file tries a key's section: about the same time each (frontend files are validated by three daemons). */
const HOSTILE_SHARDS = { frontend: ["frontend"], app: ["app", "plone", "database"] } as const;
type Shard = keyof typeof HOSTILE_SHARDS | "rest";

/** The shard of a key: its section's, or "rest". */
function shardOf(leaf: StringLeaf): Shard {
    for (const [shard, sections] of Object.entries(HOSTILE_SHARDS)) if ((sections as readonly string[]).includes(leaf.section)) return shard as Shard;
    return "rest";
}

/**
 * The suite of one shard: one test per string key of the shard with every hostile value; `more`
 * adds the shard's other tests (it gets the counters the report line prints).
 */
export function describeHostileKeys(shard: Shard, more?: (counts: Counts) => void): void {
    describeAsRoot(
        `hostile configuration values: the string keys of the schema, ${shard === "rest" ? "the other sections" : `sections ${HOSTILE_SHARDS[shard].join(", ")}`} (property test)`,
        "varnishd -C and nginx -t check the files as the daemons' own users",
        function () {
            const leaves = stringLeaves().filter((l) => shardOf(l) === shard);
            const counts: Counts = { values: 0, refused: 0, accepted: 0 };

            before(function () {
                requireBinaries(this, "haproxy", "varnishd", "nginx", "python3", "supervisord");
                fs.rmSync(SENTINEL, { force: true });
            });
            after(() => {
                fs.rmSync(SENTINEL, { force: true });
                console.log(
                    `      ${leaves.length} string keys, ${PAYLOADS.length} hostile values each: ${counts.values} placements in the full stacks, ${counts.refused} refused by their key, ${counts.accepted} accepted with every file keeping its shape`,
                );
            });

            for (const leaf of leaves) {
                it(`${leaf.name} (${leaf.kind})`, () =>
                    withChecks(() => {
                        for (const [, value] of PAYLOADS) {
                            for (const o of tryValue(leaf, value)) {
                                counts.values++;
                                if (o.refused) counts.refused++;
                                else counts.accepted++;
                            }
                        }
                    }));
            }
            more?.(counts);
        },
    );
}

/** What a shard's values came to, for its report line. */
export interface Counts {
    values: number;
    refused: number;
    accepted: number;
}

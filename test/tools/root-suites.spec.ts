// Keeps the @root suites honest for a user who is not root (GitHub's runner, a developer):
// npm test elevates them through passwordless sudo and runs the rest as the user, and where it
// cannot elevate, every @root suite says why it does not run (a skip, or a failure in CI), with
// nothing failing for another reason and nothing of them passing unseen.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { describeAsRoot, ROOT_TAG } from "../helpers/privileges";
import { requireBinaries, run, RunResult, tempDir } from "../helpers/system";

const REPO = path.join(__dirname, "..", "..");
const TEST_SH = path.join(REPO, "scripts", "test.sh");

/**
 * The spec files of the scratch tree: one the script starts first, others in path order; of the
 * rehearsal, the teardown's spec (alone), one it starts first, another in path order.
 */
const SCRATCH_SPECS = [
    "test/daemons/a.spec.ts",
    "test/hostScripts/restart.spec.ts",
    "test/unit/b.spec.ts",
    "test/rehearsal/dev.spec.ts",
    "test/rehearsal/prod.spec.ts",
    "test/rehearsal/teardown.spec.ts",
];

/**
 * scripts/test.sh in a scratch tree, with stand-ins for id, sudo and npx that log their calls; with
 * the rehearsal asked for (PLONE_AWS_REHEARSAL=1, as CI runs it) unless `rehearsal` is false.
 */
function runTestSh(uid: number, sudoWorks: boolean, failingMocha = "", specs: string[] = [], rehearsal = true): { result: RunResult; calls: string[] } {
    const { dir, cleanup } = tempDir("test-sh");
    try {
        fs.mkdirSync(path.join(dir, "scripts"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.copyFileSync(TEST_SH, path.join(dir, "scripts", "test.sh"));
        fs.writeFileSync(path.join(dir, "scripts", "ensure-test-packages.sh"), "exit 0\n");
        for (const spec of SCRATCH_SPECS) {
            fs.mkdirSync(path.join(dir, path.dirname(spec)), { recursive: true });
            fs.writeFileSync(path.join(dir, spec), "");
        }
        const log = path.join(dir, "calls");
        const stub = (name: string, body: string) =>
            fs.writeFileSync(path.join(dir, "bin", name), `#!/bin/bash\necho "${name} $*" >> '${log}'\n${body}\n`, { mode: 0o755 });
        stub("id", `case $1 in -u) echo ${uid} ;; -un) echo ${uid === 0 ? "root" : "runner"} ;; esac`);
        // sudo -n true answers whether sudo needs a password; anything else runs as given.
        stub("sudo", `[ "$*" = "-n true" ] && exit ${sudoWorks ? 0 : 1}; while [[ $1 == -* ]]; do shift; done; exec "$@"`);
        const fails = `[[ "$*" == *'${failingMocha || "no such call"}'* ]] && exit 1; exit 0`;
        stub("npx", fails);
        stub("npm", "exit 0");
        fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
        fs.writeFileSync(path.join(dir, "node_modules", ".bin", "mocha"), `#!/bin/bash\necho "mocha $*" >> '${log}'\n${fails}\n`, { mode: 0o755 });
        // The job counts are the script's defaults, whatever the tester's environment sets.
        const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}/bin:/usr/bin:/bin` };
        delete env.PLONE_AWS_TEST_JOBS;
        delete env.PLONE_AWS_REHEARSAL_JOBS;
        if (rehearsal) env.PLONE_AWS_REHEARSAL = "1";
        else delete env.PLONE_AWS_REHEARSAL;
        const result = run("bash", [path.join(dir, "scripts", "test.sh"), ...specs], { env });
        const calls = fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .filter((c) => !c.startsWith("id "));
        return { result, calls };
    } finally {
        cleanup();
    }
}

describe("npm test and the @root suites", function () {
    // The type check and npm run check run side by side: both before any mocha, in either order.
    const CHECKS = ["npx --no-install tsc --noEmit -p .", "npm run --silent check"];
    const checksFirst = (calls: string[]) => {
        expect(calls.slice(0, 2)).to.have.members(CHECKS);
        return calls.slice(2);
    };
    // The slow restart spec first, then the rest in path order, the rehearsal apart: the teardown's
    // spec alone, then the others two at a time, prod's rehearsal (among the longest) first.
    const PARALLEL = "--parallel --jobs 4 test/hostScripts/restart.spec.ts test/daemons/a.spec.ts test/unit/b.spec.ts";
    const REHEARSAL = "test/rehearsal/teardown.spec.ts";
    const REHEARSAL_POOLED = "--parallel --jobs 2 test/rehearsal/prod.spec.ts test/rehearsal/dev.spec.ts";

    it("as root: the checks, then every suite in one pass of each kind (spec files in parallel, the rehearsal's teardown alone, the other rehearsals two at a time)", () => {
        const { result, calls } = runTestSh(0, true);
        expect(result.status).to.equal(0);
        expect(checksFirst(calls)).to.deep.equal([
            `npx --no-install mocha ${PARALLEL}`,
            `npx --no-install mocha ${REHEARSAL}`,
            `npx --no-install mocha ${REHEARSAL_POOLED}`,
        ]);
    });

    it("without the rehearsal (a newcomer's npm test): one pass, the rehearsal's specs at its end, where they say why they are skipped", () => {
        const { result, calls } = runTestSh(0, true, "", [], false);
        expect(result.status).to.equal(0);
        expect(checksFirst(calls)).to.deep.equal([`npx --no-install mocha ${PARALLEL} ${REHEARSAL} ${REHEARSAL_POOLED.replace("--parallel --jobs 2 ", "")}`]);
    });

    it("as a user with passwordless sudo (GitHub's runner): the rest as the user, then only the @root suites under sudo, with PATH and sbin kept", () => {
        const { result, calls } = runTestSh(1001, true);
        expect(result.status).to.equal(0);
        const sudoMocha = (specs: string) =>
            new RegExp(
                `^sudo -n -E -H env PATH=\\S*/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin node_modules/\\.bin/mocha --grep ${ROOT_TAG} ${specs.replace(/[*.]/g, "\\$&")}$`,
            );
        checksFirst(calls);
        for (const [i, specs] of [PARALLEL, REHEARSAL, REHEARSAL_POOLED].entries()) {
            const pass = calls.slice(2 + i * 4, 6 + i * 4);
            expect(pass[0]).to.equal("sudo -n true");
            expect(pass[1]).to.equal(`npx --no-install mocha --grep ${ROOT_TAG} --invert ${specs}`);
            expect(pass[2]).to.match(sudoMocha(specs));
            // What sudo ran.
            expect(pass[3]).to.equal(`mocha --grep ${ROOT_TAG} ${specs}`);
        }
        expect(calls).to.have.length(14);
        expect(result.stdout).to.include(`Running the ${ROOT_TAG} suites as root (sudo)`);
    });

    it("fails when any pass fails, after running all of them", () => {
        const first = runTestSh(1001, true, "--invert --parallel");
        expect(first.result.status).to.equal(1);
        expect(first.calls.filter((c) => /^(npx --no-install )?mocha /.test(c))).to.have.length(6);
        const second = runTestSh(1001, true, `--grep ${ROOT_TAG} test/rehearsal`);
        expect(second.result.status).to.equal(1);
        const asRoot = runTestSh(0, true, "--parallel");
        expect(asRoot.result.status).to.equal(1);
        expect(asRoot.calls.filter((c) => /^npx --no-install mocha /.test(c))).to.have.length(3);
    });

    it("stops before any test when the type check fails, saying so", () => {
        const { result, calls } = runTestSh(0, true, "tsc --noEmit");
        expect(result.status).to.equal(1);
        expect(calls).to.have.members(CHECKS);
        expect(calls).to.have.length(2);
        expect(result.stderr).to.include("npm test: the type check or npm run check failed (above); no test ran");
    });

    it("as a user without passwordless sudo: one pass of each kind, where the @root suites say why they do not run", () => {
        const { result, calls } = runTestSh(1001, false);
        expect(result.status).to.equal(0);
        expect(checksFirst(calls)).to.deep.equal([
            "sudo -n true",
            `npx --no-install mocha ${PARALLEL}`,
            "sudo -n true",
            `npx --no-install mocha ${REHEARSAL}`,
            "sudo -n true",
            `npx --no-install mocha ${REHEARSAL_POOLED}`,
        ]);
    });

    it("given spec files: runs just those, without the checks", () => {
        const { result, calls } = runTestSh(0, true, "", ["test/unit/layers.spec.ts"]);
        expect(result.status).to.equal(0);
        expect(calls).to.deep.equal(["npx --no-install tsc --noEmit -p .", "npx --no-install mocha test/unit/layers.spec.ts"]);
    });
});

describeAsRoot("the @root suites run by a user who is not root and has no sudo", "it runs them as another user", function () {
    // Every spec file with @root suites, and the reason each suite gives.
    const files = fs
        .readdirSync(path.join(REPO, "test"), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".spec.ts") && !f.endsWith("root-suites.spec.ts"))
        .map((f) => path.join(REPO, "test", f))
        .filter((f) => fs.readFileSync(f, "utf8").includes("describeAsRoot("));
    const reasons = files.flatMap((f) =>
        [...fs.readFileSync(f, "utf8").matchAll(/describeAsRoot\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => ({ suite: m[1], why: m[2] })),
    );
    let user: { uid: number; gid: number };
    let out: ReturnType<typeof tempDir>;

    before(function () {
        requireBinaries(this, "setpriv");
        // The user who called sudo (GitHub's runner, whose checkout is in its home), else nobody.
        const sudoUid = Number(process.env.SUDO_UID);
        user = sudoUid > 0 ? { uid: sudoUid, gid: Number(process.env.SUDO_GID) } : { uid: 65534, gid: 65534 };
        out = tempDir("root-suites");
        fs.chmodSync(out.dir, 0o777);
        const readable = run("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", "test", "-r", path.join(REPO, "package.json")]);
        if (readable.status !== 0) {
            console.log(`      (skipped: uid ${user.uid} cannot read ${REPO})`);
            this.skip();
        }
    });
    after(() => out?.cleanup());

    function runAsUser(ci: boolean): { report: MochaJson; stdout: string } {
        const json = path.join(out.dir, `report-${ci}.json`);
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: out.dir, LANG: "C.UTF-8" };
        if (ci) env.CI = "true";
        const mocha = path.join(REPO, "node_modules", "mocha", "bin", "mocha.js");
        const r = run(
            "setpriv",
            [
                `--reuid=${user.uid}`,
                `--regid=${user.gid}`,
                "--clear-groups",
                "--",
                process.execPath,
                mocha,
                "--grep",
                ROOT_TAG,
                "--reporter",
                "json",
                "--reporter-option",
                `output=${json}`,
                ...files,
            ],
            { cwd: REPO, env },
        );
        expect(fs.existsSync(json), `mocha wrote no report: ${r.stdout}${r.stderr}`).to.equal(true);
        return { report: JSON.parse(fs.readFileSync(json, "utf8")) as MochaJson, stdout: r.stdout };
    }

    it("finds the @root suites: storage, front-end daemons, supervisord, the host scripts", () => {
        expect(reasons.length).to.be.greaterThan(10);
        expect(files.map((f) => path.relative(REPO, f))).to.include.members([
            "test/daemons/storage.spec.ts",
            "test/hostScripts/deploy.spec.ts",
            "test/hostScripts/backup-restore.spec.ts",
            "test/hostScripts/ops-host-scripts.spec.ts",
        ]);
    });

    it("outside CI: every test of every @root suite is skipped, each suite saying why, none fails and none passes", () => {
        const { report, stdout } = runAsUser(false);
        expect(report.failures.map((f) => `${f.fullTitle}: ${f.err.message}`)).to.deep.equal([]);
        expect(report.stats.passes).to.equal(0);
        expect(report.stats.pending).to.be.at.least(reasons.length);
        for (const t of report.pending) expect(t.fullTitle).to.include(ROOT_TAG);
        for (const { why } of reasons) {
            expect(stdout).to.include(
                `(skipped: needs root (${why}). npm test runs these suites under sudo when sudo needs no password; otherwise run npm test as root)`,
            );
        }
    });

    it("in CI: every @root suite fails saying why, and nothing else runs", () => {
        const { report } = runAsUser(true);
        expect(report.stats.passes).to.equal(0);
        // One failure per suite, in its first hook.
        expect(report.failures.map((f) => f.fullTitle.replace(/ "before all" hook.*$/, "")).sort()).to.deep.equal(
            reasons.map((r) => `${r.suite} ${ROOT_TAG}`).sort(),
        );
        for (const f of report.failures) expect(f.err.message).to.match(/^this test needs root \(.+\)\. npm test runs these suites under sudo/);
    });
});

interface MochaJson {
    stats: { passes: number; pending: number; failures: number };
    pending: { fullTitle: string }[];
    failures: { fullTitle: string; err: { message: string } }[];
}

// Property test of input safety: every string key of the schema (walked from the zod schemas, so a
// new key is covered the day it is added) gets hostile values: a line break with a directive after
// it, both quote kinds, $(...), backquotes, NUL, an --option, 100 kB, substitutions. For each value
// either the configuration is refused by that key's path (one line per error, no trace), or every
// file of every host of dev and prod (with every optional key set) keeps its shape (lines, haproxy
// servers, supervisor programs, VCL backends, nginx servers), the changed files pass their daemon's
// validator, and running every changed script with --help (and bash -n) creates no file. Raw keys
// may change only the files their daemon validates before they go live (nginx, buildout).
//
// The keys are shared out over three files so that they run side by side (test/helpers/hostileChecks.ts):
// this one has the sections the other two do not, the coverage checks, and the secrets.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { SECRET_KEYS, SecretKey } from "../../components/config/schema";
import { checkOne, describeHostileKeys, PAYLOADS, parsedSection, pythonChecks, SENTINEL, stacks, tryValue, withChecks } from "../helpers/hostileChecks";
import { validate } from "../helpers/hostileConfig";
import { stringLeaves, withLeaf } from "../helpers/schemaLeaves";
import { runAll, tempDir } from "../helpers/system";

describeHostileKeys("rest", () => {
    const leaves = stringLeaves();

    // The values' checks run batched when a test ends (withChecks): the batches must tell each
    // program's verdict, or every value would pass.
    it("the batched checks report each validator's verdict, its output, and the injected command's file", () => {
        const { dir, cleanup } = tempDir("batched");
        try {
            const [ok, failed, touched, env] = runAll(
                [
                    { command: "true", args: [], cwd: dir },
                    { command: "bash", args: ["-c", "echo out; echo err >&2; exit 3"], cwd: dir },
                    { command: "touch", args: [SENTINEL], cwd: dir },
                    { command: "bash", args: ["-c", 'echo "$PWD $HOME ${USER-unset}"'], cwd: "/", env: { PATH: process.env.PATH ?? "", HOME: dir } },
                ],
                dir,
                SENTINEL,
            );
            expect(ok).to.deep.equal({ status: 0, output: "", watched: false });
            expect(failed).to.deep.equal({ status: 3, output: "out\nerr\n", watched: false });
            expect(touched.watched).to.equal(true);
            expect(env.output).to.equal(`/ ${dir} unset\n`);
            fs.writeFileSync(path.join(dir, "broken.ini"), "[a]\nx = 1\n[a]\n");
            fs.writeFileSync(path.join(dir, "supervisord.conf"), "[supervisord]\n[program:x]\nnumprocs = many\n");
            const verdicts = pythonChecks(
                [
                    { kind: "buildout", text: "[buildout]\nparts = a\n" },
                    { kind: "buildout", text: "[buildout\nparts = a\n" },
                    { kind: "ini", path: path.join(dir, "broken.ini") },
                    { kind: "supervisor", path: path.join(dir, "supervisord.conf") },
                ],
                dir,
            ).map((r) => r.status);
            expect(verdicts).to.deep.equal([0, 1, 1, 2]);
        } finally {
            fs.rmSync(SENTINEL, { force: true });
            cleanup();
        }
    });

    it("every string key of the schema has a declared kind", () => {
        expect(leaves.filter((l) => !l.kind).map((l) => l.name)).to.deep.equal([]);
        expect(leaves.length).to.be.at.least(90);
    });

    it("the full stacks are valid and set every string key, so each is tried", () => {
        for (const s of stacks) expect(validate(s.raw, s.name).errors, s.name).to.deep.equal([]);
        const uncovered = leaves.filter((l) => !stacks.some((s) => withLeaf(parsedSection(s.raw, l.section), l.steps, "x")));
        expect(uncovered.map((l) => l.name)).to.deep.equal([]);
    });

    it("single-line keys refuse every line break, whatever their kind", () =>
        withChecks(() => {
            for (const leaf of leaves.filter((l) => l.kind !== "raw")) {
                for (const o of tryValue(leaf, "x\ny")) expect(o.refused, leaf.name).to.equal(true);
            }
        }));

    it("the secrets: hostile values are refused by key, or reach no file unencoded", () =>
        withChecks(() => {
            const hostile = PAYLOADS.map(([, v]) => v);
            for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
                for (const value of hostile) {
                    for (const stack of stacks.slice(0, 2)) {
                        checkOne(stack, { ...stack.raw, [`plone-aws:${key}`]: value }, `secret ${key}`, `plone-aws:${key}`, value);
                    }
                }
            }
            for (const value of hostile.filter((v) => !v.includes("\u0000"))) {
                const stack = stacks[0];
                checkOne(
                    stack,
                    { ...stack.raw, "plone-aws:appSecrets": JSON.stringify({ SENTRY_DSN: value }) },
                    "secret appSecrets.SENTRY_DSN",
                    "plone-aws:appSecrets.SENTRY_DSN",
                    value,
                );
            }
        }));
});

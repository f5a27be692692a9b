// npm run snapshot -- --out DIR
// Captures what the program does for a set of stacks, so a refactoring can show it changed nothing:
// for dev, prod, the prod-like test stack and every stack the OpsWorks fixtures import to, the
// `npm run plan -- --json` output and every file and step script of `npm run render`, plus the
// import's stack file and report. Compare two snapshots with `diff -r BEFORE AFTER`.
//
// Paths of the checkout and of DIR are written as <repo> and <out>, so snapshots taken from two
// checkouts compare. The plan and render run as the commands a user runs (child processes).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { exitWith, takeOption, usageError } from "./lib/cli";
import { importOpsWorks, ImportOptions } from "./lib/opsworks/convert";

const USAGE = "usage: npm run snapshot -- --out DIR";
const REPO = path.resolve(__dirname, "..");
const FIXTURES = path.join(REPO, "test", "fixtures", "opsworks");
const NOW = new Date("2026-01-01T00:00:00Z");

/** Imports of the OpsWorks fixtures, with the options the import tests give them. */
function importCases(): { stack: string; json: unknown; options: Partial<ImportOptions> }[] {
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as unknown;
    const cases: { stack: string; json: unknown; options: Partial<ImportOptions> }[] = [];
    const skip = new Set(["production-instances.json", "example-custom-json.json", "production-relstorage.json"]);
    for (const file of fs.readdirSync(FIXTURES).sort()) {
        if (!file.endsWith(".json") || skip.has(file)) continue;
        cases.push({ stack: `ow-${file.replace(/\.json$/, "")}`, json: read(file), options: { jsonFile: file } });
    }
    // The cookbook's example with an app name (its placeholder name is refused), as the import test does.
    const example = fs.readFileSync(path.join(FIXTURES, "example-custom-json.json"), "utf8").replace(/\*\*\*\*\* YOUR APP NAME \*\*\*\*\*/g, "plone_instances");
    cases.push({
        stack: "ow-example-custom-json",
        json: JSON.parse(example),
        options: { jsonFile: "example-custom-json.json", repository: "https://github.com/example-org/site.git", domain: "www.example.org" },
    });
    cases.push({
        stack: "ow-production-relstorage",
        json: read("production-relstorage.json"),
        options: {
            jsonFile: "production-relstorage.json",
            instances: { json: read("production-instances.json"), file: "production-instances.json" },
            publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPSWORKSIMPORTTESTKEY00000000000000000000000 ops",
            adminCidrs: ["203.0.113.0/28"],
        },
    });
    return cases;
}

function runTool(script: string, args: string[]): { stdout: string; status: number } {
    try {
        const stdout = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(REPO, "scripts", script), ...args], {
            cwd: REPO,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            stdio: ["ignore", "pipe", "pipe"],
        });
        return { stdout, status: 0 };
    } catch (e) {
        const err = e as { stdout?: string; stderr?: string; status?: number };
        return { stdout: `${err.stdout ?? ""}\n--- stderr ---\n${err.stderr ?? ""}`, status: err.status ?? -1 };
    }
}

async function main(argv: string[]): Promise<number> {
    const { value, rest, missing } = takeOption(argv, "--out");
    if (missing || !value || rest.length) return usageError("--out DIR is required", USAGE);
    const out = path.resolve(value);
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(path.join(out, "stacks"), { recursive: true });
    const normalize = (text: string) => text.split(out).join("<out>").split(REPO).join("<repo>");

    const stacks: { name: string; file: string }[] = [
        { name: "dev", file: path.join(REPO, "Pulumi.dev.yaml") },
        { name: "prod", file: path.join(REPO, "Pulumi.prod.yaml") },
        { name: "prodlike", file: path.join(REPO, "test", "fixtures", "stacks", "Pulumi.prodlike.yaml") },
    ];
    for (const c of importCases()) {
        const r = importOpsWorks(c.json, { stack: c.stack, jsonFile: "custom.json", adminCidrs: [], now: NOW, ...c.options });
        const dir = path.join(out, c.stack);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(
            path.join(dir, "import.json"),
            `${JSON.stringify({ report: r.report, notes: r.notes, issues: r.issues, warnings: r.warnings, placeholders: r.placeholders, secrets: r.secrets }, null, 2)}\n`,
        );
        if (!r.text) continue;
        // A directory per stack: the quota check counts the Elastic IPs of the stack files beside it.
        const file = path.join(out, "stacks", c.stack, `Pulumi.${c.stack}.yaml`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, r.text);
        stacks.push({ name: c.stack, file });
    }

    for (const s of stacks) {
        const dir = path.join(out, s.name);
        fs.mkdirSync(dir, { recursive: true });
        const plan = runTool("plan.ts", [s.name, "--stack-file", s.file, "--json"]);
        fs.writeFileSync(path.join(dir, "plan.json"), normalize(plan.stdout));
        const render = runTool("render.ts", [s.name, "--stack-file", s.file, "--out", path.join(dir, "render")]);
        fs.writeFileSync(path.join(dir, "render.txt"), normalize(render.stdout));
        console.log(`${s.name}: plan exit ${plan.status}, render exit ${render.status}`);
    }
    console.log(`written to ${out}; compare with diff -r`);
    return 0;
}

exitWith(main(process.argv.slice(2)));

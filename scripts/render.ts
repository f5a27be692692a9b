// npm run render -- <stack> --out DIR [--stack-file FILE]
// Writes, per host, every file and script the provisioning commands would install or run, byte for
// byte, except that secret values are placeholders: a pull request can show the diff of what a
// change does on the hosts without leaking anything.
import * as fs from "fs";
import * as path from "path";
import { formatIssues } from "../components/config/load";
import type { StackSpec } from "../components/config/spec";
import type { RenderContext } from "../components/render/context";
import { hostFiles, hostStepNames, renderHostStep } from "../components/render/hostSteps";
import { exitWith, takeOption, usageError } from "./lib/cli";
import { mockId } from "./lib/offline/run";
import { loadStack, parseStackArgs } from "./lib/offline/loadStack";
import { offlineRenderContext } from "./lib/offline/renderContext";
import { StackFileError } from "./lib/offline/stackFile";

const USAGE = "usage: npm run render -- <stack> --out DIR [--stack-file FILE]";

/** The file that marks a directory as a render output, so a rerun may replace it. */
export const RENDER_MARKER = ".plone-aws-render";

export interface RenderedHost {
    host: string;
    files: { path: string; mode: string; owner: string; group: string; secret: boolean }[];
    steps: string[];
}

/** The volume ids the plan's mock provider gives each host's data volumes. */
export function mockVolumeIds(spec: StackSpec, ctx: RenderContext, host: string): Record<string, string> {
    const plan = ctx.topology.hosts.find((h) => h.name === host)!;
    return Object.fromEntries(plan.volumes.map((v) => [v.mountPoint, mockId("aws:ebs/volume:Volume", `${spec.resourcePrefix}-${host}-${v.kind}`)]));
}

/** Writes the render of every host under `out`; returns what was written. */
export function renderStack(spec: StackSpec, out: string): RenderedHost[] {
    const ctx = offlineRenderContext(spec);
    if (fs.existsSync(out) && fs.readdirSync(out).length > 0 && !fs.existsSync(path.join(out, RENDER_MARKER))) {
        throw new StackFileError(`${out} is not empty and holds no earlier render (${RENDER_MARKER}): choose an empty or new directory`);
    }
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    const rendered: RenderedHost[] = [];
    for (const host of ctx.topology.hosts) {
        const dir = path.join(out, host.name);
        const files = hostFiles(ctx, host);
        for (const f of files) {
            const target = path.join(dir, "files", f.path);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, f.content);
        }
        const steps: string[] = [];
        hostStepNames(host)
            .filter((s) => s !== "ready")
            .forEach((step, i) => {
                const name = `${String(i + 1).padStart(2, "0")}-${step}.sh`;
                fs.mkdirSync(path.join(dir, "steps"), { recursive: true });
                fs.writeFileSync(
                    path.join(dir, "steps", name),
                    renderHostStep(ctx, host, step as Exclude<typeof step, "ready">, mockVolumeIds(spec, ctx, host.name)),
                );
                steps.push(name);
            });
        const manifest = files
            .map((f) => [f.path, f.mode, `${f.owner}:${f.group}`, f.secret ? "secret" : ""].join("\t"))
            .sort()
            .join("\n");
        fs.writeFileSync(path.join(dir, "MANIFEST.tsv"), `path\tmode\towner\tsecret\n${manifest}\n`);
        rendered.push({
            host: host.name,
            files: files.map((f) => ({ path: f.path, mode: f.mode, owner: f.owner, group: f.group, secret: !!f.secret })),
            steps,
        });
    }
    fs.writeFileSync(
        path.join(out, RENDER_MARKER),
        `Rendered by npm run render for stack ${spec.stackName}: every file and step script per host.\nSecret values are placeholders such as <secret plone-aws:dbPassword>; addresses are the offline plan's.\n`,
    );
    return rendered;
}

async function main(argv: string[]): Promise<number> {
    const { value: out, rest, missing } = takeOption(argv, "--out");
    if (missing) return usageError("--out needs a directory", USAGE);
    const { selection, flags, rest: unknown } = parseStackArgs(rest, ["--help"]);
    if (flags.has("--help")) {
        console.log(USAGE);
        return 0;
    }
    if (unknown.length) return usageError(`unknown argument ${unknown[0]}`, USAGE);
    if (!out) return usageError("--out DIR is required", USAGE);
    const loaded = loadStack(selection);
    if (!loaded.spec) {
        console.error(formatIssues(loaded.errors, loaded.config.file));
        return 1;
    }
    const rendered = renderStack(loaded.spec, out);
    for (const h of rendered) {
        const secret = h.files.filter((f) => f.secret).length;
        console.log(`${h.host}: ${h.files.length} files${secret ? ` (${secret} holding secrets, shown as placeholders)` : ""}; steps ${h.steps.join(", ")}`);
    }
    console.log(`written to ${out}`);
    return 0;
}

if (require.main === module) exitWith(main(process.argv.slice(2)), [StackFileError]);

// npm run import-opsworks -- <custom.json> --stack <name> [--instances instances.json] [options]
// Converts an OpsWorks stack Custom JSON (and the stack's instances, when given) into
// Pulumi.<name>.yaml; prints what became of every key and the commands that set the secrets.
// Exit 0 when written; 1 on bad arguments, unreadable input, or configuration errors (then
// nothing is written, and every error is listed with its plone-aws key path).
import * as fs from "fs";
import * as path from "path";
import { formatIssues } from "../components/config/load";
import { TIERS, Tier } from "../components/config/schema";
import { ArgumentError, checkStackName, parseArgs, single, usageOnError } from "./lib/args";
import { CommandIo, commandStatus, exitWith, processIo } from "./lib/cli";
import { importOpsWorks, ImportResult, ReportKind } from "./lib/opsworks/convert";
import { formatSecrets } from "./lib/stacks/secretCommands";
import { stackFilePath, StackFileError } from "./lib/offline/stackFile";

const USAGE = `usage: npm run import-opsworks -- <custom.json> --stack <name> [--instances instances.json]
         [--region REGION] [--tier development|staging|production] [--repository URL] [--revision REV]
         [--domain NAME] [--certbot-email ADDRESS] [--certificate-arn ARN] [--public-key FILE|KEY]
         [--admin-cidr CIDR ...] [--dir DIR] [--force]`;

const HELP = `${USAGE}

Converts an OpsWorks stack Custom JSON into Pulumi.<name>.yaml. Every key is carried to a plone-aws
key, carried as a secret (never written: the commands to set them are printed), or reported with
the reason it is not. The instances file lists the OpsWorks instances and their layers:
  [{"hostname": "plone-app1", "instance_type": "c4.large", "layers": ["plone_instances", "lb"],
    "availability_zone": "us-east-1a", "volumes": [{"mount_point": "/srv/exports", "size": 200}]}]
Without it the import assumes one host per layer (one host for a single-host stack) and says so in
the file. Values the JSON cannot know (repository, domain, SSH key, admin networks) are written as
placeholders marked REPLACE unless given as options. See docs/migrating-from-opsworks.md.`;

const KIND_TITLES: Record<ReportKind, string> = {
    mapped: "Carried over",
    secret: "Secrets (not written; set them with the commands below)",
    dropped: "Not needed in plone-aws",
    ignored: "Ignored by the cookbook itself (known bugs)",
    unsupported: "Not supported (what to do instead)",
    refused: "Refused",
    unknown: "Unknown keys (not keys of the OpsWorks cookbooks)",
};

function readJson(file: string, what: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new StackFileError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    try {
        return JSON.parse(text);
    } catch (e) {
        throw new StackFileError(`${file} is not JSON: ${jsonErrorWithoutExcerpt((e as Error).message, text)}`);
    }
}

/**
 * JSON.parse's message without the excerpt of the text V8 quotes (the file holds secrets in clear),
 * with the line and column when the message gives a position.
 */
function jsonErrorWithoutExcerpt(message: string, text: string): string {
    const bare = message.replace(/, .*is not valid JSON$/s, "").replace(/ in JSON at position \d+.*$/s, "");
    const position = / at position (\d+)/.exec(message);
    if (!position) return `${bare} (no excerpt is shown, the file may hold secrets: jq . FILE says where)`;
    const before = text.slice(0, Number(position[1])).split("\n");
    return `${bare} at line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function report(result: ImportResult): string[] {
    const out: string[] = [];
    for (const kind of Object.keys(KIND_TITLES) as ReportKind[]) {
        const lines = result.report.filter((r) => r.kind === kind);
        if (lines.length === 0) continue;
        out.push(`${KIND_TITLES[kind]}:`, ...lines.map((r) => `  ${r.path}${r.message ? `: ${r.message}` : ""}`), "");
    }
    if (result.notes.length) out.push("Assumed or changed:", ...result.notes.map((n) => `  - ${n}`), "");
    return out;
}

async function main(argv: string[], io: CommandIo): Promise<number> {
    const args = parseArgs(argv, {
        flags: ["--force", "--help"],
        single: [
            "--stack",
            "--instances",
            "--region",
            "--tier",
            "--repository",
            "--revision",
            "--domain",
            "--certbot-email",
            "--certificate-arn",
            "--public-key",
            "--dir",
        ],
        repeated: ["--admin-cidr"],
    });
    if (args.flags.has("--help")) {
        io.out(HELP);
        return 0;
    }
    if (args.positionals.length !== 1) throw new ArgumentError(`name one Custom JSON file (got ${args.positionals.length})`);
    const stack = single(args, "--stack");
    if (!stack) throw new ArgumentError("--stack <name> is required: the stack the file is written for (Pulumi.<name>.yaml)");
    checkStackName(stack, "stack");
    const tier = single(args, "--tier");
    if (tier !== undefined && !TIERS.includes(tier as Tier)) throw new ArgumentError(`--tier must be one of ${TIERS.join(", ")}`);

    const jsonFile = args.positionals[0];
    const targetFile = stackFilePath(stack, single(args, "--dir") ?? io.cwd);
    const json = readJson(jsonFile, "the Custom JSON");
    const instancesFile = single(args, "--instances");
    const instances = instancesFile ? { json: readJson(instancesFile, "the instances file"), file: path.basename(instancesFile) } : undefined;
    if (fs.existsSync(targetFile) && !args.flags.has("--force")) {
        throw new StackFileError(`${targetFile} exists already: it was left unchanged (use --force to overwrite it)`);
    }
    let publicKey = single(args, "--public-key");
    if (publicKey && !/^(ssh-|ecdsa-)/.test(publicKey)) {
        try {
            publicKey = fs.readFileSync(publicKey, "utf8").trim();
        } catch {
            throw new ArgumentError(`--public-key ${publicKey}: neither an OpenSSH public key nor a readable file`);
        }
    }

    const result = importOpsWorks(json, {
        stack,
        jsonFile,
        instances,
        region: single(args, "--region"),
        tier: tier as Tier | undefined,
        repository: single(args, "--repository"),
        revision: single(args, "--revision"),
        domain: single(args, "--domain"),
        certbotEmail: single(args, "--certbot-email"),
        certificateArn: single(args, "--certificate-arn"),
        publicKey,
        adminCidrs: args.values.get("--admin-cidr") ?? [],
        now: new Date(),
    });
    io.out([`Import of ${jsonFile}${instances ? ` with ${instancesFile}` : ""} into the ${stack} stack:`, "", ...report(result)].join("\n"));
    if (!result.text) {
        io.err(
            formatIssues(result.issues, `The import of ${jsonFile}`).replace(
                "Nothing was created or changed.",
                `${path.basename(targetFile)} was not written.`,
            ),
        );
        return 1;
    }
    fs.writeFileSync(targetFile, result.text);
    const out = [`Wrote ${targetFile}.`];
    if (result.warnings.length) out.push("", "Check:", ...result.warnings.map((w) => `  - ${w.path}: ${w.message}`));
    if (result.placeholders.length)
        out.push("", "Replace the placeholders (marked REPLACE in the file) before pulumi up:", ...result.placeholders.map((p) => `  - ${p}`));
    out.push(
        "",
        `Secrets (never written to the file). Set each for ${stack}; pulumi prompts for a value that is not piped in:`,
        ...formatSecrets(result.secrets),
    );
    out.push("", `Next: npm run plan -- ${stack}   (then docs/migrating-from-opsworks.md)`);
    io.out(out.join("\n"));
    return 0;
}

/** npm run import-opsworks: its exit status, what it says through io (the process's own by default). */
export function importOpsWorksCommand(argv: string[], io: CommandIo = processIo()): Promise<number> {
    return commandStatus(usageOnError(main(argv, io), USAGE, io), [StackFileError], io);
}

if (require.main === module) exitWith(importOpsWorksCommand(process.argv.slice(2)));

// npm run clone-stack -- <from> <to> [options]
// Writes Pulumi.<to>.yaml as a staging copy of Pulumi.<from>.yaml (see scripts/lib/stacks/clone.ts for
// what changes and why), then prints the commands that set the new stack's secrets.
// Exit 0 when written; 1 on bad arguments, a missing or invalid source, or an existing target.
import * as fs from "fs";
import * as path from "path";
import { ArgumentError, checkStackName, parseArgs, single, usageOnError } from "./lib/args";
import { CloneError, cloneStack } from "./lib/stacks/clone";
import { CommandIo, commandStatus, exitWith, processIo } from "./lib/cli";
import { formatSecrets } from "./lib/stacks/secretCommands";
import { stackFilePath, StackFileError } from "./lib/offline/stackFile";
import { stagingTypesTable } from "./lib/stacks/stagingTypes";

const USAGE = `usage: npm run clone-stack -- <from> <to> [--keep-topology] [--domain NAME]
         [--instance-type TYPE | --instance-type HOST=TYPE ...] [--certbot-email ADDRESS]
         [--certificate-arn ARN] [--set KEY=value ...] [--snapshot-tag VALUE] [--mail-to ADDRESS] [--dir DIR] [--force]`;

const HELP = `${USAGE}

Writes Pulumi.<to>.yaml from Pulumi.<from>.yaml: the same app, layers and settings, tier staging,
every layer on one host (--keep-topology keeps the hosts), smaller instance types, RDS without
Multi-AZ and deletion protection, an Elastic IP instead of the load balancer, its own domain,
environment (--set) and snapshot tag. Comments and key order are kept.

  --keep-topology        keep the source's hosts (smaller types); several front ends keep the load balancer
  --domain NAME          the clone's domain (default: <to>.<source domain without www.>)
  --instance-type TYPE   every host's type; HOST=TYPE for one host (repeatable)
  --certbot-email ADDR   TLS by certbot on the Elastic IP host (ACM certificates need a load balancer)
  --certificate-arn ARN  with --keep-topology and a load balancer: the clone's ACM certificate
  --set KEY=value        an app.environment variable of the clone (repeatable)
  --snapshot-tag VALUE   the plone-aws:snapshot tag value of its volumes (default: <to>)
  --mail-to ADDRESS      send every mail of the clone to this sandbox address (default: the clone sends no mail)
  --dir DIR              where the stack files are (default: the current directory)
  --force                overwrite Pulumi.<to>.yaml

Staging instance types (scripts/lib/stacks/stagingTypes.ts; the one host of a collapsed clone is at least a large):
${stagingTypesTable()}`;

async function main(argv: string[], io: CommandIo): Promise<number> {
    const args = parseArgs(argv, {
        flags: ["--keep-topology", "--force", "--help"],
        single: ["--domain", "--certbot-email", "--certificate-arn", "--snapshot-tag", "--mail-to", "--dir"],
        repeated: ["--instance-type", "--set"],
    });
    if (args.flags.has("--help")) {
        io.out(HELP);
        return 0;
    }
    if (args.positionals.length !== 2) throw new ArgumentError(`name the source and the new stack (got ${args.positionals.length} names)`);
    const [from, to] = args.positionals.map((n, i) => checkStackName(n, i === 0 ? "source" : "target"));
    if (from === to) throw new ArgumentError("the source and the new stack are the same");
    const environment: Record<string, string> = {};
    for (const kv of args.values.get("--set") ?? []) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
        if (!m) throw new ArgumentError(`--set ${kv}: expected KEY=value with KEY a valid environment variable name`);
        environment[m[1]] = m[2];
    }

    const dir = single(args, "--dir") ?? io.cwd;
    const sourceFile = stackFilePath(from, dir);
    const targetFile = stackFilePath(to, dir);
    if (!fs.existsSync(sourceFile)) throw new StackFileError(`no stack file ${sourceFile}: nothing to clone`);
    if (fs.existsSync(targetFile) && !args.flags.has("--force")) {
        throw new StackFileError(`${targetFile} exists already: it was left unchanged (use --force to overwrite it)`);
    }

    const result = cloneStack(fs.readFileSync(sourceFile, "utf8"), {
        from,
        to,
        sourceFile: path.basename(sourceFile),
        keepTopology: args.flags.has("--keep-topology"),
        domain: single(args, "--domain"),
        instanceTypes: args.values.get("--instance-type") ?? [],
        certbotEmail: single(args, "--certbot-email"),
        certificateArn: single(args, "--certificate-arn"),
        environment,
        snapshotTag: single(args, "--snapshot-tag"),
        mailTo: single(args, "--mail-to"),
        now: new Date(),
    });
    fs.writeFileSync(targetFile, result.text);

    const out = [`Wrote ${targetFile}, cloned from ${path.basename(sourceFile)}:`, ...result.changes.map((c) => `  - ${c}`)];
    if (result.warnings.length > 0) out.push("", "Check:", ...result.warnings.map((w) => `  - ${w}`));
    out.push(
        "",
        `Secrets: secure values cannot be copied between stack files (each stack encrypts with its own key).`,
        `Set each one for ${to}; pulumi prompts for the value, or reads it from stdin (... < FILE):`,
        ...formatSecrets(result.secrets),
    );
    if (result.copyCommands.length > 0) {
        out.push(
            "",
            `Where the Pulumi CLI is installed and ${from}'s secrets can be decrypted, pulumi config cp copies a value`,
            `re-encrypted for ${to} (prefer new passwords: staging should not know ${from}'s):`,
            ...result.copyCommands.map((c) => `  ${c}`),
        );
    } else {
        out.push("", `(Where the Pulumi CLI is installed, \`pulumi config cp KEY --stack ${from} --dest ${to}\` copies a secret ${from} has set.)`);
    }
    out.push("", `Next: npm run plan -- ${to}`);
    io.out(out.join("\n"));
    return 0;
}

/** npm run clone-stack: its exit status, what it says through io (the process's own by default). */
export function cloneStackCommand(argv: string[], io: CommandIo = processIo()): Promise<number> {
    return commandStatus(usageOnError(main(argv, io), USAGE, io), [StackFileError, CloneError], io);
}

if (require.main === module) exitWith(cloneStackCommand(process.argv.slice(2)));

// npm run ops -- <stack> <command> [options]: the day-2 operations of a stack over SSH, host by host
// (the OpsWorks cookbook's helper recipes), rolling restarts in waves of hosts side by side. Each
// command runs a host script the configure step installed; the first host (or wave) that fails
// stops the command and is named (status reports every host).
import * as path from "path";
import { formatIssues } from "../components/config/load";
import { ArgumentError, parseArgs, single } from "./lib/args";
import { CommandIo, commandStatus, exitWith, processIo } from "./lib/cli";
import { OPS_COMMANDS, OpsCommand, OpsError, planOps } from "./lib/ops/commands";
import { parseAddresses, readOutputs, resolveConnection, runPlan } from "./lib/ops/run";
import { loadStack } from "./lib/offline/loadStack";
import { stackFilePath, StackFileError } from "./lib/offline/stackFile";
import { buildTopology } from "../components/topology";

const USAGE = `usage: npm run ops -- <stack> <command> [arguments] [options]
commands:
  status                        services, supervisor programs, release in use, disks (every host)
  restart [backend|volto] [--servers] [--max-unavailable N|N%|"N per host"]
                                rolling restart of the app's programs and the Volto processes (or only
                                those of the backend, or of Volto): hosts side by side in waves, at most
                                plone.maxUnavailable clients out of rotation (or the value given)
  start|stop SERVICE            nginx, varnish, haproxy, memcached, redis, ... or clients, client2, workers, app, volto, volto2, zeoserver, ...
  rebuild                       build again from the current release's commit, then activate (in waves)
  develop-up                    bin/develop up in the current release (no restart)
  rollback [backend|volto]      back to the previous release (in waves): the backend's and the Volto frontend's, or the one named
  varnish-purge [REGEX...]      ban cached URLs (default: frontend.varnish.purgeUrls)
  pack                          pack the database now (ZEO server or the db_packing host)
  backup                        back up now and copy to S3 (RelStorage: the database dump first)
  restore --from DATE [--target-stack STACK] [--database NAME] [--force]
                                restore <stack>'s backup of DATE (YYYY-MM-DD, YYYY-MM-DD-HH-MM-SS UTC, latest)
                                onto STACK (staging by default): clients stopped, repozo -R, blobs, clients started.
                                RelStorage: its database dump (or one named: DATE.dump) into STACK's database,
                                or into the database NAME on STACK's server (created; nothing stops)
options:
  --host NAME, --layer NAME     only these hosts (repeatable)
  --address HOST=ADDRESS        where a host is (repeatable); else the stack outputs
  --outputs FILE                the stack outputs (pulumi stack output --json > FILE); else pulumi is asked
  --identity FILE               SSH key (else the ssh agent's); --bastion ADDRESS overrides the bastion
  --stack-file FILE             the stack file (default Pulumi.<stack>.yaml); --target-stack-file for restore
  --dry-run                     print the SSH commands instead of running them`;

const SPEC = {
    flags: ["--servers", "--force", "--dry-run", "--help"],
    single: ["--max-unavailable", "--from", "--database", "--target-stack", "--target-stack-file", "--outputs", "--identity", "--bastion", "--stack-file"],
    repeated: ["--host", "--layer", "--address"],
} as const;

function list(values: string[] | undefined): string[] {
    return (values ?? []).flatMap((v) => v.split(",")).filter(Boolean);
}

/** A stack by name (Pulumi.<stack>.yaml in `dir`) or by file. */
function load(stack: string | undefined, file: string | undefined, dir: string) {
    const loaded = loadStack({ stack, stackFile: file ?? (stack ? stackFilePath(stack, dir) : undefined) });
    if (!loaded.spec) throw new OpsError(formatIssues(loaded.errors, loaded.config.file));
    return { spec: loaded.spec, file: loaded.config.file };
}

async function main(argv: string[], io: CommandIo): Promise<number> {
    let args;
    try {
        args = parseArgs(argv, SPEC);
    } catch (e) {
        if (e instanceof ArgumentError) {
            io.err(`${e.message}\n${USAGE}`);
            return 2;
        }
        throw e;
    }
    if (args.flags.has("--help")) {
        io.out(USAGE);
        return 0;
    }
    const stackFile = single(args, "--stack-file");
    // With --stack-file the stack name may be left out: <command> comes first.
    const named = !(stackFile && (OPS_COMMANDS as readonly string[]).includes(args.positionals[0] ?? ""));
    const [stack, command, ...rest] = named ? args.positionals : ["", ...args.positionals];
    if ((!stack && !stackFile) || !command) {
        io.err(USAGE);
        return 2;
    }
    if (!(OPS_COMMANDS as readonly string[]).includes(command)) {
        io.err(`unknown command ${command}\n${USAGE}`);
        return 2;
    }
    const source = load(stackFile ? undefined : stack || undefined, stackFile, io.cwd);
    // restore acts on the target stack (staging by default) with the source stack's backups.
    let target = source;
    if (command === "restore") {
        const targetFile = single(args, "--target-stack-file");
        const targetStack = single(args, "--target-stack") ?? (targetFile ? undefined : "staging");
        try {
            target = load(
                targetFile ? undefined : targetStack,
                targetFile ?? (targetStack ? path.resolve(io.cwd, `Pulumi.${targetStack}.yaml`) : undefined),
                io.cwd,
            );
        } catch (e) {
            if (e instanceof StackFileError)
                throw new OpsError(`the target stack: ${e.message} (restore goes onto staging unless --target-stack names another stack)`);
            throw e;
        }
    }
    const view = { spec: target.spec, topology: buildTopology(target.spec) };
    const plan = planOps(view, command as OpsCommand, {
        hosts: list(args.values.get("--host")),
        layers: list(args.values.get("--layer")),
        args: rest,
        servers: args.flags.has("--servers"),
        maxUnavailable: single(args, "--max-unavailable"),
        from: single(args, "--from"),
        force: args.flags.has("--force"),
        source: source.spec.stackName,
        database: single(args, "--database"),
    });
    const dryRun = args.flags.has("--dry-run");
    const outputs = dryRun && !single(args, "--outputs") ? undefined : readOutputs(target.spec.stackName, single(args, "--outputs"), io.env);
    const connection = resolveConnection(target.spec, outputs, {
        addresses: parseAddresses(args.values.get("--address") ?? []),
        identity: single(args, "--identity"),
        bastion: single(args, "--bastion") ?? (dryRun && target.spec.access.via === "bastion" && !outputs ? "<bastion>" : undefined),
        ssh: io.env.PLONE_AWS_SSH,
    });
    const where = command === "restore" && target !== source ? ` onto ${target.spec.stackName}` : "";
    io.out(
        `ops ${command}${rest.length ? ` ${rest.join(" ")}` : ""} on stack ${target.spec.stackName}${where} (${target.file}): ${plan.steps.length} step(s)` +
            (plan.maxUnavailable === undefined ? "" : `, at most ${plan.maxUnavailable} client(s) of the stack out of rotation at once`),
    );
    return runPlan(plan, connection, { dryRun, io });
}

/** npm run ops: its exit status, what it and the hosts say through io (the process's own by default). */
export function opsCommand(argv: string[], io: CommandIo = processIo()): Promise<number> {
    return commandStatus(main(argv, io), [OpsError, StackFileError], io);
}

if (require.main === module) exitWith(opsCommand(process.argv.slice(2)));

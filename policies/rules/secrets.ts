// Secrets in the state. The cookbook's snapshot script ran with IAM user keys on every host; a
// plone-aws stack has none (instance roles, Data Lifecycle Manager), and its SSH keys travel only
// where a remote command needs them: its connection, or its stdin with logging off.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forType, isUnknown, known, TYPES } from "./common";

/** The inputs of a `command:remote:Command` this pack reads (typed here: the pack does not depend on @pulumi/command). */
interface RemoteCommandProps {
    stdin?: string;
    logging?: string;
}

interface Finding {
    path: string;
    what: string;
    kind: "privateKey" | "awsKey";
}

const PRIVATE_KEY = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----/;
const AWS_ACCESS_KEY_ID = /\b(AKIA|ASIA)[A-Z0-9]{16}\b/;
const AWS_SECRET_ACCESS_KEY = /aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+]{40}\b/i;

/** Shows enough of a key id to find it (to rotate it), not the whole of it. */
function maskKeyId(id: string): string {
    return `${id.slice(0, 4)}…${id.slice(-4)}`;
}

function findingsIn(text: string, path: string): Finding[] {
    const found: Finding[] = [];
    const key = PRIVATE_KEY.exec(text);
    if (key) found.push({ path, kind: "privateKey", what: `a private key (-----BEGIN ${key[1]}PRIVATE KEY-----)` });
    const id = AWS_ACCESS_KEY_ID.exec(text);
    if (id) found.push({ path, kind: "awsKey", what: `an AWS access key id (${maskKeyId(id[0])})` });
    if (AWS_SECRET_ACCESS_KEY.test(text)) found.push({ path, kind: "awsKey", what: "an AWS secret access key" });
    return found;
}

/** Every string in the inputs, with its path; values unknown during preview are skipped. */
function scan(value: unknown, path: string, out: Finding[], depth = 0): void {
    if (depth > 32) return;
    if (typeof value === "string") {
        out.push(...findingsIn(value, path || "(the value)"));
    } else if (Array.isArray(value)) {
        value.forEach((_, i) =>
            scan(
                known(() => value[i]),
                `${path}[${i}]`,
                out,
                depth + 1,
            ),
        );
    } else if (value && typeof value === "object") {
        for (const key of Object.keys(value)) {
            scan(
                known(() => (value as Record<string, unknown>)[key]),
                path ? `${path}.${key}` : key,
                out,
                depth + 1,
            );
        }
    }
}

/** Where a private key is expected: the SSH connection of a remote command (and its bastion hop). */
const KEY_PATHS_OF_COMMANDS = ["connection.privateKey", "connection.proxy.privateKey"];

export const noCredentialsInInputs: ResourceValidationPolicy = {
    name: "no-credentials-in-inputs",
    description:
        'No resource input holds an AWS access key, and private keys appear only where a remote command needs them: its connection.privateKey, or its stdin with logging "none".',
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const findings: Finding[] = [];
        scan(args.props, "", findings);
        const command = args.type === TYPES.remoteCommand;
        const quietStdin = command && known(() => args.props.logging) === "none";
        for (const f of findings) {
            if (f.kind === "privateKey" && command && (KEY_PATHS_OF_COMMANDS.includes(f.path) || (f.path === "stdin" && quietStdin))) continue;
            reportViolation(
                f.kind === "awsKey"
                    ? `${args.name}: input ${f.path} holds ${f.what}. plone-aws hosts get AWS access from their instance role and snapshots are taken by Data Lifecycle Manager: remove the key, and rotate it, because it is already in the stack's state and history.`
                    : `${args.name}: input ${f.path} holds ${f.what}. Keys reach the hosts only as a remote command's connection.privateKey or on the stdin of a command with logging "none", from a secret config value (pulumi config set --secret).`,
            );
        }
    },
};

export const remoteCommandSecretLogging: ResourceValidationPolicy = {
    name: "remote-command-secret-logging",
    description: 'Remote commands that are given a stdin (how files and secrets reach the hosts) run with logging "none".',
    enforcementLevel: "mandatory",
    validateResource: forType<RemoteCommandProps>(TYPES.remoteCommand, (cmd, args, reportViolation) => {
        const stdin = known(() => cmd.stdin);
        const hasStdin = isUnknown(() => cmd.stdin) || (typeof stdin === "string" && stdin.length > 0);
        if (!hasStdin) return;
        const logging = known(() => cmd.logging);
        if (logging === "none") return;
        reportViolation(
            `${args.name} is given a stdin (files and secrets) but logs ${logging ? `"${logging}"` : "stdout and stderr (the default)"}: a script that echoes what it reads would put the secrets into the Pulumi logs and the update history. ` +
                `Set logging: "none" on the command.`,
        );
    }),
};

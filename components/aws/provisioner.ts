import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { COMPONENT_TYPES } from "./typeTokens";

/** One step of a host's provisioning chain. */
export interface ProvisionStep {
    /** ready, setup, configure, build, activate: the command is named <provisioner>-<name>. */
    name: string;
    /** Script run by bash as root on the host, sent on stdin; undefined for the wait-for-SSH step. */
    script?: pulumi.Input<string>;
    /** The script holds secret values: it becomes a Pulumi secret. */
    secret: boolean;
    /**
     * Hash of what the step installs, computed with secret values masked: any change replaces the
     * command, which runs the script again. Secret changes re-run it through the (secret) stdin.
     */
    trigger: pulumi.Input<string>;
    /** Steps on other hosts (storage servers, the previous host's activation) that must finish first. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** Longest time the step may take (pulumi customTimeouts syntax, e.g. "30m"). */
    timeout?: string;
}

export interface ProvisionerArgs {
    /** Host name, for messages. */
    hostName: string;
    /** How `pulumi up` reaches the host: its address, the SSH user and key, the bastion proxy. */
    connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
    /** The host's instance: the commands are deleted with it, never run against a dead host. */
    instance: pulumi.Resource;
    /** Its id: a replaced instance runs every step again, even where the scripts did not change. */
    instanceId: pulumi.Input<string>;
    /** The chain, in order; each step runs after the one before it. */
    steps: ProvisionStep[];
}

/** Runs the script on stdin as root, whether the SSH user is root or has sudo (the AMI's admin). */
export const RUN_AS_ROOT = 'if [ "$(id -u)" -eq 0 ]; then exec bash -s; else exec sudo -n bash -s; fi';

/** Waits until the host has finished booting (cloud-init), tolerating hosts without cloud-init. */
export const WAIT_FOR_BOOT = "if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null || true; fi; echo ready";

/**
 * The remote commands that provision one host, chained in order. Connection errors while the host
 * boots are retried (dialErrorLimit), so the first step doubles as "wait for SSH".
 */
export class Provisioner extends pulumi.ComponentResource {
    public readonly commands: Record<string, command.remote.Command> = {};
    /** The last step: what other hosts wait for. */
    public readonly last: command.remote.Command;

    constructor(name: string, args: ProvisionerArgs, opts?: pulumi.ComponentResourceOptions) {
        // Only names as the component's inputs: the connection and the scripts carry secrets.
        super(COMPONENT_TYPES.provisioner, name, { hostName: args.hostName, steps: args.steps.map((s) => s.name) }, opts);
        let previous: command.remote.Command | undefined;
        for (const step of args.steps) {
            const stdin = step.script === undefined ? undefined : step.secret ? pulumi.secret(step.script) : step.script;
            const cmd = new command.remote.Command(
                `${name}-${step.name}`,
                {
                    connection: args.connection,
                    create: step.script === undefined ? WAIT_FOR_BOOT : RUN_AS_ROOT,
                    stdin,
                    triggers: [args.instanceId, step.trigger],
                    // Nothing is streamed to Pulumi's log: a script's output never reaches the update
                    // history. pulumi-command still puts the output of a failing step into its error,
                    // and every step keeps its whole output on the host (render/hostSteps.ts).
                    logging: "none",
                    // Otherwise every update sends the previous output to the host again (as
                    // PULUMI_COMMAND_STDOUT over SSH), and the output may hold what a step printed.
                    addPreviousOutputInEnv: false,
                },
                {
                    parent: this,
                    // pulumi-command 1.2.1 marks as secret only outputs named like secret inputs: the
                    // output of a step is kept in the state encrypted, whatever it printed.
                    additionalSecretOutputs: ["stdout", "stderr"],
                    dependsOn: [...(previous ? [previous] : []), ...(step.dependsOn ?? [])],
                    deletedWith: args.instance,
                    customTimeouts: step.timeout ? { create: step.timeout, update: step.timeout } : undefined,
                },
            );
            this.commands[step.name] = cmd;
            previous = cmd;
        }
        if (!previous) throw new Error(`no provisioning steps for ${args.hostName}`);
        this.last = previous;
        this.registerOutputs({});
    }
}

// The rehearsal runs what prod runs: the remote commands it executed equal the plan's
// provisioning steps (same hosts, same steps), and they ran in the order the plan constrains:
// each host's steps one after the other, and each cross-host dependency (blob servers before
// their clients, the activations in turn) finished before the step that waits on it started.
import type { StackSpec } from "../../../components/config/spec";
import { crossHostDependencies, hostStepNames } from "../../../components/render/hostSteps";
import { buildTopology } from "../../../components/topology";
import type { StepResult } from "./runner";

/** A step of the plan: host, step, and the steps that must finish before it starts. */
export interface PlannedStep {
    host: string;
    step: string;
    after: string[];
}

const key = (host: string, step: string) => `${host}/${step}`;

/** The plan's provisioning steps for a stack, with their order constraints ("<host>/<step>"). */
export function plannedSteps(spec: StackSpec): PlannedStep[] {
    const topology = buildTopology(spec);
    const cross = crossHostDependencies({ spec, topology });
    return topology.hosts.flatMap((h) => {
        const names = hostStepNames(h);
        return names.map((step, i) => ({
            host: h.name,
            step,
            after: [...(i > 0 ? [key(h.name, names[i - 1])] : []), ...(cross.get(key(h.name, step)) ?? []).map((r) => key(r.host, r.step))],
        }));
    });
}

/**
 * How the executed commands differ from the plan, one line each (none: the rehearsal ran what prod
 * runs): a planned step that did not run, a command the plan does not have, a step that started
 * before one it must wait for had finished.
 */
export function planMismatches(planned: PlannedStep[], executed: Pick<StepResult, "host" | "step" | "status" | "startedAt" | "finishedAt">[]): string[] {
    const problems: string[] = [];
    const ran = new Map(executed.filter((r) => r.status === "ok").map((r) => [key(r.host, r.step), r]));
    const plannedKeys = new Set(planned.map((p) => key(p.host, p.step)));
    for (const p of planned) if (!ran.has(key(p.host, p.step))) problems.push(`${key(p.host, p.step)}: planned, but not run`);
    for (const r of executed) if (!plannedKeys.has(key(r.host, r.step))) problems.push(`${key(r.host, r.step)}: run, but not a step of the plan`);
    for (const p of planned) {
        const r = ran.get(key(p.host, p.step));
        if (!r?.startedAt) continue;
        for (const a of p.after) {
            const before = ran.get(a);
            if (before?.finishedAt !== undefined && before.finishedAt > r.startedAt) {
                problems.push(`${key(p.host, p.step)} started before ${a} had finished`);
            }
        }
    }
    return problems;
}

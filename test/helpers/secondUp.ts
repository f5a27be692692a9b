// Two offline runs of a stack, before and after a change of its configuration, and what a second
// `pulumi up` would do between them (scripts/lib/plan/secondUp.ts).
import * as path from "path";
import { addressPlan, OfflineRun, runOffline } from "../../scripts/lib/offline/run";
import { loadStack, validateStack } from "../../scripts/lib/offline/loadStack";
import type { StackConfig } from "../../scripts/lib/offline/stackFile";
import type { StackSpec } from "../../components/config/spec";
import { PlannedChange, secondUp, secondUpAddresses } from "../../scripts/lib/plan/secondUp";
import { REPO } from "./stacks";

export interface Planned {
    config: StackConfig;
    spec: StackSpec;
    run: OfflineRun;
}

/** A repository stack file, loaded and planned as `npm run plan` does. */
export async function planRepoStack(stack: string): Promise<Planned> {
    const loaded = loadStack({ stackFile: path.join(REPO, `Pulumi.${stack}.yaml`) });
    if (!loaded.spec) throw new Error(`Pulumi.${stack}.yaml: ${JSON.stringify(loaded.errors)}`);
    return { config: loaded.config, spec: loaded.spec, run: await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) }) };
}

/** Edits one structured key of a configuration (a copy). */
export type Edit = (section: (key: string, change: (value: any) => any) => void, raw: Record<string, string>) => void;

export function edited(config: StackConfig, edit: Edit): StackConfig {
    const raw = { ...config.raw };
    edit((key, change) => {
        const full = `plone-aws:${key}`;
        const value = raw[full] === undefined ? undefined : key === "tier" ? raw[full] : JSON.parse(raw[full]);
        const next = change(structuredClone(value));
        raw[full] = typeof next === "string" ? next : JSON.stringify(next);
    }, raw);
    return { ...config, raw };
}

/** The second run after an edit, and what `pulumi up` would change. */
export async function afterEdit(before: Planned, edit: Edit): Promise<Planned & { changes: PlannedChange[] }> {
    const config = edited(before.config, edit);
    const loaded = validateStack(config);
    if (!loaded.spec) throw new Error(`the edited stack is invalid: ${JSON.stringify(loaded.errors)}`);
    const run = await runOffline(loaded.config, { addresses: secondUpAddresses(before.spec, loaded.spec) });
    return { config: loaded.config, spec: loaded.spec, run, changes: secondUp(before.run, run) };
}

/** "kind name" of every change that is not "same", sorted: what a test compares. */
export function summary(changes: PlannedChange[], filter: (c: PlannedChange) => boolean = () => true): string[] {
    return changes
        .filter((c) => c.change !== "same" && filter(c))
        .map((c) => `${c.change}${c.blocked ? " (blocked: protected)" : ""}${c.retained ? " (retained)" : ""} ${c.name}`)
        .sort();
}

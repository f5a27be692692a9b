// What a second `pulumi up` would do, computed offline: the program's registrations under the old
// and the new configuration (two offline runs) are matched by URN (and by alias, as the engine
// resolves a rename), and each resource is classified the way the engine's step generator would:
// create, update, replace, delete, or nothing. What the mocks cannot know, the provider's diff,
// comes from REPLACE_ON_CHANGES; and as in a real preview, an input that takes an output of a
// created or replaced resource is unknown, so it counts as changed.
import { isDeepStrictEqual } from "util";
import type { StackSpec } from "../../../components/config/spec";
import { buildTopology } from "../../../components/topology";
import { intToIp, parseCidr, planSubnet } from "../../../components/topology/addressing";
import { AddressPlan, CapturedResource, OfflineRun, plannedHostAddresses, unwrapSecrets } from "../offline/run";
import { REPLACE_ON_CHANGES, STATEFUL_TYPES } from "./replaceOnChanges";

export type ChangeKind = "create" | "update" | "replace" | "delete" | "same";

export interface PlannedChange {
    /** The resource's URN after the change (before it, for a delete). */
    urn: string;
    type: string;
    name: string;
    change: ChangeKind;
    /** The inputs that changed (for a replace, those that force it first). */
    inputs: string[];
    /** A replace that deletes the old resource before creating the new one. */
    deleteFirst?: boolean;
    /** The engine refuses: the resource is protected (a replace or delete needs `pulumi state unprotect` first). */
    blocked?: boolean;
    /** A delete that leaves the cloud resource in place (retainOnDelete). */
    retained?: boolean;
    /** The URN it had before, when it was matched through an alias. */
    renamedFrom?: string;
}

/** urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>, as MockMonitor.newUrn builds it. */
function makeUrn(stackAndProject: string, parentUrn: string, type: string, name: string): string {
    const qualified = parentUrn ? `${parentUrn.split("::")[2].split("$").pop()}$${type}` : type;
    return `${stackAndProject}::${qualified}::${name}`;
}

function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/**
 * The URNs a resource may have had: its own aliases, and those inherited from its parent's (a
 * child named after its parent is renamed with it: the engine's inheritedChildAlias, as in
 * @pulumi/pulumi resource.ts).
 */
function aliasUrns(r: CapturedResource, byUrn: Map<string, CapturedResource>, memo: Map<string, string[]>): string[] {
    const cached = memo.get(r.urn);
    if (cached) return cached;
    const stackAndProject = r.urn.split("::").slice(0, 2).join("::");
    const urns: string[] = [];
    for (const a of r.options.aliases) {
        if (a.urn) urns.push(a.urn);
        else urns.push(makeUrn(stackAndProject, a.noParent ? "" : (a.parentUrn ?? r.parent), a.type ?? r.type, a.name ?? r.name));
    }
    const parent = byUrn.get(r.parent);
    if (parent) {
        for (const parentAlias of aliasUrns(parent, byUrn, memo)) {
            const childName = r.name.startsWith(parent.name) ? nameOfUrn(parentAlias) + r.name.slice(parent.name.length) : r.name;
            urns.push(makeUrn(stackAndProject, parentAlias, r.type, childName));
        }
    }
    const unique = [...new Set(urns)].filter((u) => u !== r.urn);
    memo.set(r.urn, unique);
    return unique;
}

/** Leaf paths where two input trees differ ("a.b[2].c"). */
function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
    if (isDeepStrictEqual(before, after)) return [];
    const isObject = (v: unknown) => v !== null && typeof v === "object";
    if (Array.isArray(before) && Array.isArray(after)) {
        const out: string[] = [];
        for (let i = 0; i < Math.max(before.length, after.length); i++) out.push(...changedPaths(before[i], after[i], `${prefix}[${i}]`));
        return out;
    }
    if (isObject(before) && isObject(after) && !Array.isArray(before) && !Array.isArray(after)) {
        const b = before as Record<string, unknown>;
        const a = after as Record<string, unknown>;
        const out: string[] = [];
        for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) out.push(...changedPaths(b[k], a[k], prefix ? `${prefix}.${k}` : k));
        return out;
    }
    return [prefix];
}

/** "a.b[2].c" -> "a.b.c": how the replace table and ignoreChanges name paths. */
function withoutIndices(path: string): string {
    return path.replace(/\[\d+\]/g, "").replace(/\[\*\]/g, "");
}

function covers(rulePath: string, changed: string): boolean {
    const rule = withoutIndices(rulePath);
    const c = withoutIndices(changed);
    return c === rule || c.startsWith(`${rule}.`);
}

/** Replaces every string that is an output of a renamed resource (its mock id, ARN, name) by the old one. */
function substitute(value: unknown, replacements: [string, string][]): unknown {
    if (typeof value === "string") {
        let v = value;
        for (const [from, to] of replacements) if (v.includes(from)) v = v.split(from).join(to);
        return v;
    }
    if (Array.isArray(value)) return value.map((x) => substitute(x, replacements));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, substitute(x, replacements)]));
    return value;
}

/**
 * Resources after the ones they depend on. Registrations reach the monitor in the order their
 * inputs resolve, which is not always the order of their dependencies.
 */
function dependencyOrder(resources: CapturedResource[]): CapturedResource[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const done = new Set<string>();
    const ordered: CapturedResource[] = [];
    const visit = (r: CapturedResource, path: Set<string>) => {
        if (done.has(r.urn) || path.has(r.urn)) return;
        path.add(r.urn);
        const deps = [...r.options.dependencies, ...Object.values(r.options.propertyDependencies).flat()];
        for (const d of deps) {
            const dep = byUrn.get(d);
            if (dep) visit(dep, path);
        }
        path.delete(r.urn);
        done.add(r.urn);
        ordered.push(r);
    };
    for (const r of resources) visit(r, new Set());
    return ordered;
}

/** The changes a second `pulumi up` would make, going from `before` to `after`. */
export function secondUp(before: OfflineRun, after: OfflineRun): PlannedChange[] {
    const beforeByUrn = new Map(before.resources.map((r) => [r.urn, r]));
    const afterByUrn = new Map(after.resources.map((r) => [r.urn, r]));
    const memo = new Map<string, string[]>();
    const matched = new Map<string, CapturedResource>();
    const used = new Set<string>();
    for (const r of after.resources) {
        const old = beforeByUrn.get(r.urn);
        if (old) {
            matched.set(r.urn, old);
            used.add(old.urn);
        }
    }
    for (const r of after.resources) {
        if (matched.has(r.urn)) continue;
        const alias = aliasUrns(r, afterByUrn, memo).find((u) => beforeByUrn.has(u) && !used.has(u));
        if (alias) {
            matched.set(r.urn, beforeByUrn.get(alias)!);
            used.add(alias);
        }
    }

    // Outputs of renamed resources are the old ones in the state: the mock derived them from the new name.
    const replacements: [string, string][] = [];
    for (const [urn, old] of matched) {
        const now = afterByUrn.get(urn)!;
        if (old.urn === urn) continue;
        if (now.id && old.id && now.id !== old.id) replacements.push([now.id, old.id]);
        for (const [key, value] of Object.entries(now.state)) {
            if (key in now.inputs) continue; // Only outputs the mock computed from the name (arn, address, ...).
            const previous = old.state[key];
            if (typeof value === "string" && value.length >= 8 && typeof previous === "string" && previous !== value) replacements.push([value, previous]);
        }
    }
    replacements.sort((a, b) => b[0].length - a[0].length);

    const fresh = new Set<string>();
    const changes: PlannedChange[] = [];
    for (const r of dependencyOrder(after.resources)) {
        const old = matched.get(r.urn);
        if (!old) {
            fresh.add(r.urn);
            changes.push({ urn: r.urn, type: r.type, name: r.name, change: "create", inputs: [] });
            continue;
        }
        const renamedFrom = old.urn === r.urn ? undefined : old.urn;
        if (!r.custom) {
            changes.push({ urn: r.urn, type: r.type, name: r.name, change: "same", inputs: [], renamedFrom });
            continue;
        }
        const oldInputs = unwrapSecrets(old.inputs) as Record<string, unknown>;
        const newInputs = substitute(unwrapSecrets(r.inputs), replacements) as Record<string, unknown>;
        let changed = changedPaths(oldInputs, newInputs);
        // Inputs that take an output of a resource being created or replaced are unknown in the preview.
        for (const [input, deps] of Object.entries(r.options.propertyDependencies)) {
            if (deps.some((d) => fresh.has(d)) && !changed.some((c) => covers(input, c))) changed.push(input);
        }
        const ignored = r.options.ignoreChanges;
        changed = changed.filter((c) => !ignored.some((i) => covers(i, c)));
        const rule = REPLACE_ON_CHANGES[r.type];
        const forcing = [...(rule?.inputs ?? []), ...r.options.replaceOnChanges];
        const providerReplaced = r.options.provider !== undefined && fresh.has(r.options.provider.split("::").slice(0, -1).join("::"));
        const replacing = changed.filter((c) => forcing.some((f) => covers(f, c)));
        if (replacing.length || providerReplaced) {
            fresh.add(r.urn);
            changes.push({
                urn: r.urn,
                type: r.type,
                name: r.name,
                change: "replace",
                inputs: providerReplaced ? ["(provider)", ...replacing] : replacing,
                deleteFirst: r.options.deleteBeforeReplace || rule?.deleteBeforeReplace === true,
                blocked: old.options.protect || undefined,
                renamedFrom,
            });
        } else {
            changes.push({ urn: r.urn, type: r.type, name: r.name, change: changed.length ? "update" : "same", inputs: changed, renamedFrom });
        }
    }
    for (const old of before.resources) {
        if (used.has(old.urn)) continue;
        changes.push({
            urn: old.urn,
            type: old.type,
            name: old.name,
            change: "delete",
            inputs: [],
            blocked: old.options.protect || undefined,
            retained: old.options.retainOnDelete || undefined,
        });
    }
    return changes;
}

/** The stateful resources (volumes, databases, buckets, file systems) a change replaces or deletes. */
export function statefulLosses(changes: PlannedChange[]): PlannedChange[] {
    return changes.filter((c) => (STATEFUL_TYPES as readonly string[]).includes(c.type) && (c.change === "replace" || c.change === "delete"));
}

/**
 * Addresses for the second run: the hosts that stay keep theirs (a running instance keeps its
 * private IP), new ones take the next free address of their subnet. Keyed like addressPlan.
 */
export function secondUpAddresses(before: StackSpec, after: StackSpec): AddressPlan {
    const old = plannedHostAddresses(before);
    const oldTopology = buildTopology(before);
    const topology = buildTopology(after);
    const used = new Set(Object.values(old));
    const plan: Record<string, string> = {};
    const formerName = (name: string) => [name, ...(after.hosts.find((h) => h.name === name)?.previousNames ?? [])].find((n) => old[n] !== undefined);
    const sameSubnet = (name: string, was: string) => {
        const a = topology.hosts.find((h) => h.name === name)!;
        const b = oldTopology.hosts.find((h) => h.name === was)!;
        return a.subnet === b.subnet && a.az === b.az;
    };
    const next = (tier: "public" | "private", az: number) => {
        const subnet = planSubnet(topology.vpcCidr, tier, az);
        const { base } = parseCidr(subnet.cidr);
        for (let n = 10; ; n++) {
            const ip = intToIp(base + n);
            if (!used.has(ip)) {
                used.add(ip);
                return ip;
            }
        }
    };
    for (const h of topology.hosts) {
        const was = formerName(h.name);
        plan[h.name] = was && sameSubnet(h.name, was) ? old[was] : next(h.subnet, h.az);
    }
    if (topology.bastion?.kind === "created") plan.bastion = old.bastion ?? next("public", 0);
    return new Map(Object.entries(plan).map(([host, ip]) => [`${after.resourcePrefix}-${host}-instance`, ip]));
}

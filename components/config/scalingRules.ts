// Rules of plone-aws:scaling that span several keys: what a scaled group may carry (the layer
// catalogue says which layers hold state or run once), the blobs it needs, its sizes and those of
// its schedules, its instance types and its load rules. crossFieldIssues (rules.ts) runs them.
import { whyNotScaled } from "../layers";
import { architectureOfInstanceType, instanceTypeInfo } from "../topology/instanceTypes";
import { ConfigIssue, keyPath } from "./issues";
import type { ParsedSections } from "./spec";

type Sizes = { min?: number; max?: number; desired?: number };

/** "min 3 > max 2"-style problems of one set of sizes, each with the key it names. */
function sizeProblems(sizes: Sizes): { key: keyof Sizes; message: string }[] {
    const { min, max, desired } = sizes;
    const out: { key: keyof Sizes; message: string }[] = [];
    if (min !== undefined && max !== undefined && min > max) out.push({ key: "min", message: `min (${min}) is above max (${max}): max >= desired >= min` });
    if (desired !== undefined && max !== undefined && desired > max)
        out.push({ key: "desired", message: `desired (${desired}) is above max (${max}): max >= desired >= min` });
    if (desired !== undefined && min !== undefined && desired < min)
        out.push({ key: "desired", message: `desired (${desired}) is below min (${min}): max >= desired >= min` });
    return out;
}

export function scalingIssues(s: Partial<ParsedSections>): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const err = (path: PropertyKey[], message: string) => errors.push({ path: keyPath(path), message });
    const warn = (path: PropertyKey[], message: string) => warnings.push({ path: keyPath(path), message });
    const { scaling, hosts, plone, monitoring } = s;
    if (!scaling) return { errors, warnings };

    const names = new Map<string, string>((hosts ?? []).map((h, i) => [h.name, `hosts[${i}]`]));
    scaling.groups.forEach((g, i) => {
        const at = (...rest: PropertyKey[]) => ["scaling", "groups", i, ...rest];
        const taken = names.get(g.name);
        if (taken) err(at("name"), `"${g.name}" is already the name of ${taken}: a scaled group needs a name of its own`);
        else names.set(g.name, `scaling.groups[${i}]`);

        for (const layer of g.layers) {
            const why = whyNotScaled(layer);
            if (why) err(at("layers"), `a scaled group cannot carry ${layer}: ${why}. Put ${layer} on a host in plone-aws:hosts`);
        }
        const clients = g.layers.includes("plone_instances");
        const volto = g.layers.includes("volto");
        if (!clients && !volto) err(at("layers"), "a scaled group runs Zope clients or Volto processes: its layers must include plone_instances or volto");
        // The fixed volto hosts serve while the group has no instance, and are what the front ends' Volto backend is made of.
        if (volto && !(hosts ?? []).some((h) => h.layers.includes("volto")))
            err(
                at("layers"),
                "a scaled group carries volto, and no host in plone-aws:hosts does: give a fixed host the volto layer too (it serves while the group has no instance)",
            );
        if (clients && plone?.blobs === "local") {
            err(
                at(),
                "plone.blobs is local, so the blobs live on one host's disk and a scaled instance cannot reach them: use zeo, nfs, gluster, efs or (with RelStorage) database",
            );
        }

        const desired = g.desired ?? g.min;
        for (const p of sizeProblems({ min: g.min, max: g.max, desired })) err(at(p.key === "desired" && g.desired === undefined ? "min" : p.key), p.message);
        if (g.max === 0) err(at("max"), "max is 0, so the group never runs an instance: raise max or remove the group");

        const seen = new Set<string>();
        g.schedules.forEach((sch, j) => {
            const path = (key?: string) => at("schedules", j, ...(key ? [key] : []));
            if (seen.has(sch.name)) err(path("name"), `"${sch.name}" is already the name of another schedule of this group`);
            seen.add(sch.name);
            if (sch.min === undefined && sch.max === undefined && sch.desired === undefined)
                err(path(), "a schedule changes nothing without min, max or desired: set at least one");
            for (const p of sizeProblems({ min: sch.min ?? g.min, max: sch.max ?? g.max, desired: sch.desired })) err(path(p.key), p.message);
        });

        // Every instance runs the same rendered files: the same client count and the same build.
        const vcpuCounts = g.instanceTypes.map((t) => g.vcpus ?? instanceTypeInfo(t)?.vcpus);
        // Counts derived from the vCPUs: the clients' (plone.clientCount unset), the Volto processes' (volto.processCount unset).
        const derivesClients = clients && plone?.clientCount === undefined;
        const derived = derivesClients
            ? { what: "client count", many: "clients", key: "plone.clientCount" }
            : volto && s.volto?.processCount === undefined
              ? { what: "Volto process count", many: "Volto processes", key: "volto.processCount" }
              : undefined;
        if (derived) {
            g.instanceTypes.forEach((t, j) => {
                if (vcpuCounts[j] === undefined)
                    err(
                        at("instanceTypes", j),
                        `the vCPU count of ${t} is not in plone-aws's table, so its ${derived.what} cannot be derived: set scaling.groups[${i}].vcpus or ${derived.key}`,
                    );
            });
            const known = new Set(vcpuCounts.filter((v) => v !== undefined));
            if (known.size > 1) {
                err(
                    at("instanceTypes"),
                    `${g.instanceTypes.join(", ")} have different vCPU counts, so their instances would run different numbers of ${derived.many} from one artifact: pick types of one size, or set ${derived.key}`,
                );
            }
        }
        const architectures = new Set(g.instanceTypes.map(architectureOfInstanceType));
        if (architectures.size > 1)
            err(
                at("instanceTypes"),
                `${g.instanceTypes.join(", ")} mix ${[...architectures].join(" and ")}: a group boots one image, so pick one architecture`,
            );

        g.steps.forEach((step, j) => {
            const path = (key?: string) => at("steps", j, ...(key ? [key] : []));
            if (step.scaleInBelow >= step.scaleOutAbove)
                err(path("scaleInBelow"), `scaleInBelow (${step.scaleInBelow}) must be below scaleOutAbove (${step.scaleOutAbove}), or the group flaps`);
            if (step.metric === "memory" && step.scaleOutAbove > 100) err(path("scaleOutAbove"), "memory is in percent: use 1-100");
            if (step.metric === "memory" && monitoring && !monitoring.cloudwatchAgent)
                err(path("metric"), "memory comes from the CloudWatch agent, and monitoring.cloudwatchAgent is false: turn it on or use targetCpu");
        });
        for (const metric of ["memory", "load"] as const) {
            if (g.steps.filter((st) => st.metric === metric).length > 1) err(at("steps"), `two step rules on ${metric}: keep one per metric`);
        }

        if (g.max > desired && !g.targetCpu && g.steps.length === 0 && g.schedules.length === 0)
            warn(at(), `max (${g.max}) is above desired (${desired}), but nothing ever grows the group: add targetCpu, steps or schedules`);
    });
    return { errors, warnings };
}

// OpsWorks' load-based and time-based instances -> plone-aws:scaling. The instances file marks them
// (auto_scaling_type "load" or "timer", OpsWorks' AutoScalingType) and may carry the output of
// `aws opsworks describe-load-based-auto-scaling` and `describe-time-based-auto-scaling`. Those
// instances become one Auto Scaling group of app hosts: its max is their number (OpsWorks created
// them all in advance and started them), the time-based schedules become scheduled sizes (in UTC,
// as OpsWorks ran them), the CPU thresholds a CPU target, the memory and load thresholds step rules.
// Every key of the two outputs gets a report line, as the Custom JSON's keys do.
import { z } from "zod";
import type { BlobMode } from "../../../components/config/schema";
import { whyNotScaled } from "../../../components/layers";
import { instanceTypeInfo } from "../../../components/topology/instanceTypes";
import { estimatedVcpus } from "../stacks/stagingTypes";
import { Conversion, displayPath, Json } from "./conversion";
import { AutoScalingInput, ImportedHost, jsonPath, uniqueHostName } from "./instances";

const thresholds = z
    .object({
        InstanceCount: z.number().int().min(1).optional(),
        ThresholdsWaitTime: z.number().int().min(1).max(100).optional(),
        IgnoreMetricsTime: z.number().int().min(1).max(100).optional(),
        CpuThreshold: z.number().optional(),
        MemoryThreshold: z.number().optional(),
        LoadThreshold: z.number().optional(),
        Alarms: z.array(z.string()).optional(),
    })
    .strict();
type Thresholds = z.output<typeof thresholds>;

const loadBasedSchema = z
    .object({
        LoadBasedAutoScalingConfigurations: z.array(
            z.object({ LayerId: z.string(), Enable: z.boolean().optional(), UpScaling: thresholds.optional(), DownScaling: thresholds.optional() }).strict(),
        ),
    })
    .strict();

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;
const hours = z.record(z.string().regex(/^([0-9]|1[0-9]|2[0-3])$/, "must be an hour 0-23 (UTC)"), z.enum(["on", "off"]));
const timeBasedSchema = z
    .object({
        TimeBasedAutoScalingConfigurations: z.array(
            z
                .object({
                    InstanceId: z.string(),
                    AutoScalingSchedule: z
                        .object(Object.fromEntries(DAYS.map((d) => [d, hours.optional()])) as Record<(typeof DAYS)[number], z.ZodOptional<typeof hours>>)
                        .strict(),
                })
                .strict(),
        ),
    })
    .strict();

/** The group the import writes (plone-aws:scaling.groups[0]). */
interface ImportedGroup {
    name: string;
    layers: string[];
    instanceTypes: string[];
    vcpus?: number;
    min: number;
    max: number;
    desired: number;
    schedules: { name: string; recurrence: string; timeZone: string; min: number; desired: number }[];
    targetCpu?: { averageCpu: number };
    steps: { metric: "memory" | "load"; scaleOutAbove: number; scaleInBelow: number; adjustment: number; evaluationMinutes: number }[];
    cooldowns?: { scaleOut?: number; scaleIn?: number };
}

const PREFIX = { load: "load_based_auto_scaling", time: "time_based_auto_scaling" } as const;

/**
 * Takes the load- and time-based instances out of `hosts` into plone-aws:scaling (set on the
 * conversion), and returns the fixed hosts. Instances that cannot be scaled stay fixed, with a note.
 */
export function splitScaledInstances(c: Conversion, input: AutoScalingInput | undefined, hosts: ImportedHost[], blobs: BlobMode): ImportedHost[] {
    if (!input) return hosts;
    const file = c.o.instances!.file;
    const load = parse(c, input.loadBased, loadBasedSchema, PREFIX.load, file);
    const time = parse(c, input.timeBased, timeBasedSchema, PREFIX.time, file);
    const marked = hosts.filter((h) => h.autoScaling);
    const typeLine = (h: ImportedHost) => displayPath([...input.instanceParts(h.index ?? 0), "auto_scaling_type"]);
    for (const h of marked) c.line([...input.instanceParts(h.index ?? 0), "auto_scaling_type"], "mapped", "OpsWorks' AutoScalingType", h.autoScaling);

    const stay = (h: ImportedHost, why: string) => {
        c.became(typeLine(h), `not scaled: ${h.name} stays a fixed host (${why})`);
        h.autoScaling = undefined;
    };
    if (blobs === "local") for (const h of marked) stay(h, "plone.blobs is local: the blobs live on one host's disk, which a scaled instance cannot reach");
    for (const h of marked.filter((x) => x.autoScaling)) {
        const refused = h.layers.map((l) => [l, whyNotScaled(l)] as const).find(([, why]) => why);
        if (refused) stay(h, `a scaled group cannot carry ${refused[0]}: ${refused[1]}`);
        else if (!h.layers.includes("plone_instances")) stay(h, "only app hosts (plone_instances) are scaled");
    }
    let scaled = hosts.filter((h) => h.autoScaling);
    // The release is built on a fixed app host and downloaded by the scaled ones: keep one fixed.
    if (scaled.length > 0 && !hosts.some((h) => !h.autoScaling && h.layers.includes("plone_instances"))) {
        stay(scaled[0], "a stack keeps one fixed app host, which builds the release the scaled instances download");
        scaled = scaled.slice(1);
    }
    if (scaled.length === 0) {
        reportUnused(c, load, time, "no instance of the file is scaled (none has auto_scaling_type load or timer that a group may carry)");
        return hosts;
    }

    const taken = new Set(hosts.map((h) => h.name));
    const first = scaled[0];
    const vcpusOf = (t: string) => instanceTypeInfo(t)?.vcpus ?? estimatedVcpus(t);
    const types: string[] = [];
    for (const h of scaled) {
        if (types.includes(h.instanceType)) continue;
        if (vcpusOf(h.instanceType) !== vcpusOf(first.instanceType)) {
            c.note(
                `${h.name}: its type ${h.instanceType} is left out of the scaled group's types: its vCPUs differ from ${first.instanceType}'s, and every instance of a group runs the same clients`,
            );
            continue;
        }
        types.push(h.instanceType);
    }
    const group: ImportedGroup = {
        name: uniqueHostName("app-auto", taken),
        layers: ["plone_instances"],
        instanceTypes: types,
        ...(!instanceTypeInfo(first.instanceType) && estimatedVcpus(first.instanceType) ? { vcpus: estimatedVcpus(first.instanceType) } : {}),
        min: 0,
        max: scaled.length,
        desired: 0,
        schedules: [],
        steps: [],
    };
    const groupKey = c.keyName("scaling.groups[0]");
    for (const h of scaled) c.became(typeLine(h), `one of the ${scaled.length} instances of ${groupKey} (${group.name}): max ${scaled.length}`);

    const timers = scaled.filter((h) => h.autoScaling === "timer");
    if (time) mapTimeBased(c, time, timers, group);
    else if (timers.length)
        c.note(
            `${timers.map((h) => h.name).join(", ")}: time-based, but the file has no ${PREFIX.time}: the group never starts them by time (add schedules to ${groupKey})`,
        );
    if (load) mapLoadBased(c, load, input.layerIds, group, groupKey);
    else if (scaled.some((h) => h.autoScaling === "load"))
        c.note(`the load-based instances have no ${PREFIX.load} in the file: the group never grows by load (add targetCpu or steps to ${groupKey})`);

    c.set("scaling.groups", [compact(group)], file);
    c.comments.set("scaling", `From ${file}: OpsWorks' load- and time-based instances, as an Auto Scaling group (schedules in UTC, as OpsWorks ran them).`);
    return hosts.filter((h) => !h.autoScaling);
}

function compact(g: ImportedGroup): Record<string, unknown> {
    const out: Record<string, unknown> = { ...g };
    if (g.schedules.length === 0) delete out.schedules;
    if (g.steps.length === 0) delete out.steps;
    return out;
}

function parse<T>(c: Conversion, value: unknown, schema: z.ZodType<T>, prefix: string, file: string): T | undefined {
    if (value === undefined) return undefined;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
        c.issue(
            `${file}.${prefix}${jsonPath(issue.path)}`,
            `${issue.message.replace(/^Invalid input: /, "")} (the output of aws opsworks describe-${prefix.replace(/_/g, "-")})`,
        );
    return undefined;
}

function reportUnused(c: Conversion, load: z.output<typeof loadBasedSchema> | undefined, time: z.output<typeof timeBasedSchema> | undefined, why: string) {
    if (load) c.line([PREFIX.load], "dropped", why, load as unknown as Json);
    if (time) c.line([PREFIX.time], "dropped", why, time as unknown as Json);
}

/** OpsWorks' weekly on/off hours per instance -> the group's size at each hour it changes, one schedule per hour and size. */
function mapTimeBased(c: Conversion, time: z.output<typeof timeBasedSchema>, timers: ImportedHost[], group: ImportedGroup): void {
    const running = Array.from({ length: 7 * 24 }, () => 0);
    time.TimeBasedAutoScalingConfigurations.forEach((conf, i) => {
        const at = displayPath([PREFIX.time, "TimeBasedAutoScalingConfigurations", i]);
        const host = timers.find((h) => h.instanceId === conf.InstanceId);
        c.line(
            [PREFIX.time, "TimeBasedAutoScalingConfigurations", i],
            host ? "mapped" : "dropped",
            host ? "" : "no time-based instance of the group has this instance_id",
            conf as unknown as Json,
        );
        if (!host) return;
        const on: string[] = [];
        DAYS.forEach((day, d) => {
            for (const [hour, state] of Object.entries(conf.AutoScalingSchedule[day] ?? {})) {
                if (state !== "on") continue;
                running[d * 24 + Number(hour)]++;
                on.push(`${day.slice(0, 3)} ${hour}h`);
            }
        });
        c.became(at, `${host.name} runs ${on.length} hours a week: counted into the schedules of ${c.keyName("scaling.groups")}[0]`);
    });
    for (const h of timers.filter((t) => !time.TimeBasedAutoScalingConfigurations.some((conf) => conf.InstanceId === t.instanceId)))
        c.note(
            `${h.name}: time-based, but no configuration of ${PREFIX.time} names its instance_id${h.instanceId ? ` (${h.instanceId})` : " (the file gives none)"}: the group never starts it by time`,
        );

    // Each hour the count changes starts a schedule; the same hour and size on several days is one schedule.
    const changes = new Map<string, { hour: number; size: number; days: number[] }>();
    for (let slot = 0; slot < running.length; slot++) {
        const before = running[(slot + running.length - 1) % running.length];
        if (running[slot] === before) continue;
        const hour = slot % 24;
        const key = `${hour}/${running[slot]}`;
        const entry = changes.get(key) ?? { hour, size: running[slot], days: [] };
        entry.days.push(Math.floor(slot / 24));
        changes.set(key, entry);
    }
    for (const { hour, size, days } of [...changes.values()].sort((a, b) => a.days[0] * 24 + a.hour - (b.days[0] * 24 + b.hour))) {
        group.schedules.push({
            name: `h${String(hour).padStart(2, "0")}-${days.map((d) => DAYS[d].slice(0, 3).toLowerCase()).join("-")}-to-${size}`.slice(0, 63),
            recurrence: `0 ${hour} * * ${days.join(",")}`,
            timeZone: "UTC",
            min: size,
            desired: size,
        });
    }
}

/** OpsWorks' load-based thresholds of the app layer -> a CPU target, step rules on memory and load, cooldowns. */
function mapLoadBased(
    c: Conversion,
    load: z.output<typeof loadBasedSchema>,
    layerIds: AutoScalingInput["layerIds"],
    group: ImportedGroup,
    groupKey: string,
): void {
    const confs = load.LoadBasedAutoScalingConfigurations;
    const isApp = (layerId: string) => (layerId in layerIds ? layerIds[layerId] === "plone_instances" : confs.length === 1);
    confs.forEach((conf, i) => {
        const base = [PREFIX.load, "LoadBasedAutoScalingConfigurations", i] as (string | number)[];
        if (!isApp(conf.LayerId)) {
            const why =
                conf.LayerId in layerIds
                    ? `layer ${conf.LayerId} is ${layerIds[conf.LayerId] ?? "no plone-aws layer"} in layer_ids: only app hosts are scaled`
                    : `several configurations and layer ${conf.LayerId} is not in the file's layer_ids: map it ({"layer_ids": {"${conf.LayerId}": "plone_instances"}})`;
            c.line(base, "dropped", why, conf as unknown as Json);
            return;
        }
        if (!(conf.LayerId in layerIds))
            c.note(`${displayPath(base)}: the only load-based configuration, taken as the app layer's (layer_ids does not name ${conf.LayerId})`);
        c.line([...base, "LayerId"], "mapped", "", conf.LayerId);
        c.became(displayPath([...base, "LayerId"]), `the app layer: ${groupKey}`);
        if (conf.Enable === false) {
            c.line([...base, "Enable"], "dropped", "load-based scaling was off in OpsWorks: no CPU target or step rule is written", false);
            for (const side of ["UpScaling", "DownScaling"] as const)
                if (conf[side]) c.line([...base, side], "dropped", "load-based scaling was off", conf[side] as unknown as Json);
            return;
        }
        if (conf.Enable !== undefined) {
            c.line([...base, "Enable"], "mapped", "", conf.Enable);
            c.became(displayPath([...base, "Enable"]), "the group's CPU target and step rules below");
        }
        const up: Thresholds = conf.UpScaling ?? {};
        const down: Thresholds = conf.DownScaling ?? {};
        const set = (v: number | undefined) => (v !== undefined && v >= 0 ? v : undefined);
        const reported = new Set<string>();
        const line = (side: "UpScaling" | "DownScaling", key: keyof Thresholds, outcome: string) => {
            const value = (side === "UpScaling" ? up : down)[key];
            if (value === undefined || (typeof value === "number" && value < 0)) return;
            const parts = [...base, side, key];
            reported.add(`${side}.${key}`);
            c.line(parts, "mapped", "", value as Json);
            c.became(displayPath(parts), outcome);
        };
        const [cpuUp, cpuDown] = [set(up.CpuThreshold), set(down.CpuThreshold)];
        if (cpuUp !== undefined || cpuDown !== undefined) {
            const mid = cpuUp !== undefined && cpuDown !== undefined ? (cpuUp + cpuDown) / 2 : (cpuUp ?? cpuDown)!;
            const target = Math.min(90, Math.max(10, Math.round(mid)));
            group.targetCpu = { averageCpu: target };
            const how = `${groupKey}.targetCpu.averageCpu ${target}: target tracking keeps the average CPU ${cpuUp !== undefined && cpuDown !== undefined ? "between the two thresholds" : "near it"}${target !== Math.round(mid) ? " (within 10-90)" : ""}`;
            line("UpScaling", "CpuThreshold", how);
            line("DownScaling", "CpuThreshold", how);
        }
        const adjustment = up.InstanceCount ?? down.InstanceCount ?? 1;
        const evaluationMinutes = Math.min(60, up.ThresholdsWaitTime ?? down.ThresholdsWaitTime ?? 5);
        for (const [metric, key, ceiling] of [
            ["memory", "MemoryThreshold", 100],
            ["load", "LoadThreshold", 1000],
        ] as const) {
            const [above, below] = [set(up[key]), set(down[key])];
            if (above === undefined && below === undefined) continue;
            const j = group.steps.length;
            group.steps.push({ metric, scaleOutAbove: above ?? ceiling, scaleInBelow: below ?? 0, adjustment, evaluationMinutes });
            line("UpScaling", key, `${groupKey}.steps[${j}].scaleOutAbove (${metric})`);
            line("DownScaling", key, `${groupKey}.steps[${j}].scaleInBelow (${metric})`);
        }
        const stepsNote = group.steps.length ? `${groupKey}.steps[].adjustment` : "no step rule (no memory or load threshold) uses it";
        line("UpScaling", "InstanceCount", stepsNote);
        line(
            "DownScaling",
            "InstanceCount",
            down.InstanceCount !== undefined && down.InstanceCount !== adjustment
                ? `not used: a step rule adds and removes ${adjustment} (UpScaling's)`
                : stepsNote,
        );
        const waitNote = group.steps.length
            ? `${groupKey}.steps[].evaluationMinutes ${evaluationMinutes}`
            : "target tracking waits on CloudWatch's own evaluation";
        line("UpScaling", "ThresholdsWaitTime", waitNote);
        line(
            "DownScaling",
            "ThresholdsWaitTime",
            down.ThresholdsWaitTime !== undefined && up.ThresholdsWaitTime !== undefined ? `not used: one evaluation time per rule (UpScaling's)` : waitNote,
        );
        if (up.IgnoreMetricsTime !== undefined || down.IgnoreMetricsTime !== undefined) {
            group.cooldowns = {
                ...(up.IgnoreMetricsTime !== undefined ? { scaleOut: up.IgnoreMetricsTime * 60 } : {}),
                ...(down.IgnoreMetricsTime !== undefined ? { scaleIn: down.IgnoreMetricsTime * 60 } : {}),
            };
            line("UpScaling", "IgnoreMetricsTime", `${groupKey}.cooldowns.scaleOut ${(up.IgnoreMetricsTime ?? 0) * 60} (seconds)`);
            line("DownScaling", "IgnoreMetricsTime", `${groupKey}.cooldowns.scaleIn ${(down.IgnoreMetricsTime ?? 0) * 60} (seconds)`);
        }
        for (const side of ["UpScaling", "DownScaling"] as const) {
            const values = side === "UpScaling" ? up : down;
            for (const [key, value] of Object.entries(values) as [keyof Thresholds, Json][]) {
                if (reported.has(`${side}.${key}`)) continue;
                const parts = [...base, side, key];
                if (key === "Alarms")
                    c.line(
                        parts,
                        "unsupported",
                        "custom CloudWatch alarms are not carried: use a step rule on memory or load, or targetCpu, in plone-aws:scaling",
                        value,
                    );
                else if (typeof value === "number" && value < 0) c.line(parts, "dropped", "the threshold was off in OpsWorks", value);
                else c.line(parts, "dropped", "no CPU target or step rule uses it", value);
            }
        }
    });
}

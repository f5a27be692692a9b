// Snapshots of the data volumes. The cookbook ran ec2-snapshot from cron with IAM user keys; a
// plone-aws stack has Data Lifecycle Manager select its volumes by the plone-aws:snapshot tag, so
// the tag on the volumes and the tag the DLM policy targets are the contract checked here.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { forType, isUnknown, known, SNAPSHOT_TAG, tagsOf, TYPES } from "./common";

type VolumeProps = Unwrap<aws.ebs.VolumeArgs>;
type DlmProps = Unwrap<aws.dlm.LifecyclePolicyArgs>;
type DlmSchedule = NonNullable<NonNullable<DlmProps["policyDetails"]>["schedules"]>[number];

export const ebsVolumeSnapshotTag: ResourceValidationPolicy = {
    name: "ebs-volume-snapshot-tag",
    description: `Every EBS data volume carries the ${SNAPSHOT_TAG} tag, by which Data Lifecycle Manager snapshots it.`,
    enforcementLevel: "mandatory",
    validateResource: forType<VolumeProps>(TYPES.volume, (volume, args, reportViolation) => {
        if (isUnknown(() => volume.tags)) return;
        const value = tagsOf(args.props)[SNAPSHOT_TAG];
        if (!value) {
            reportViolation(
                `${args.name} has no ${SNAPSHOT_TAG} tag, so no snapshot of it is ever taken. ` +
                    `Tag it with the stack's snapshot value (plone-aws:snapshots.tagValue, the stack name by default), as the Host component does for every data volume.`,
            );
        }
    }),
};

/** The snapshot tag values an enabled EBS snapshot policy targets. */
function targetedValues(policy: Record<string, unknown>): string[] | undefined {
    const details = known(() => policy.policyDetails) as DlmProps["policyDetails"] | undefined;
    if (!details) return undefined;
    if (known(() => policy.state) === "DISABLED") return undefined;
    const type = known(() => details.policyType) ?? "EBS_SNAPSHOT_MANAGEMENT";
    const resourceTypes = known(() => details.resourceTypes) ?? ["VOLUME"];
    if (type !== "EBS_SNAPSHOT_MANAGEMENT" || !resourceTypes.includes("VOLUME")) return undefined;
    const value = tagsOf({ tags: known(() => details.targetTags) })[SNAPSHOT_TAG];
    return value ? [value] : [];
}

export const dlmCoversSnapshotTags: StackValidationPolicy = {
    name: "dlm-covers-snapshot-tags",
    description: `Every ${SNAPSHOT_TAG} value the data volumes carry is targeted by an enabled Data Lifecycle Manager policy of the stack.`,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const volumesByValue = new Map<string, string[]>();
        const firstUrn = new Map<string, string>();
        for (const r of args.resources.filter((x) => x.type === TYPES.volume)) {
            const value = tagsOf(r.props)[SNAPSHOT_TAG];
            if (!value) continue; // ebs-volume-snapshot-tag reports untagged volumes
            volumesByValue.set(value, [...(volumesByValue.get(value) ?? []), r.name]);
            if (!firstUrn.has(value)) firstUrn.set(value, r.urn);
        }
        const policies = args.resources.filter((x) => x.type === TYPES.dlmPolicy);
        const targeted = new Set<string>();
        const described: string[] = [];
        for (const p of policies) {
            const values = targetedValues(p.props);
            if (values === undefined) described.push(`${p.name} is disabled or does not snapshot volumes`);
            else {
                values.forEach((v) => targeted.add(v));
                described.push(`${p.name} targets ${values.length ? values.map((v) => `${SNAPSHOT_TAG}=${v}`).join(", ") : `no ${SNAPSHOT_TAG} value`}`);
            }
        }
        for (const [value, volumes] of volumesByValue) {
            if (targeted.has(value)) continue;
            const what = policies.length ? described.join("; ") : "the stack has no Data Lifecycle Manager policy";
            reportViolation(
                `${volumes.join(", ")} carry ${SNAPSHOT_TAG}=${value}, but no enabled snapshot policy of the stack targets that value (${what}): ` +
                    `these volumes are never snapshotted. Make the volumes' tag and the policy's targetTags the same value (both come from plone-aws:snapshots.tagValue).`,
                firstUrn.get(value),
            );
        }
    },
};

const UNIT_HOURS: Record<string, number> = { HOURS: 1, DAYS: 24, WEEKS: 24 * 7, MONTHS: 24 * 30, YEARS: 24 * 365 };

/** Snapshots a schedule keeps per volume: its retain count, or its retain interval divided by how often it runs. */
export function snapshotsKept(schedule: DlmSchedule): number | undefined {
    const retain = known(() => schedule.retainRule);
    if (!retain) return undefined;
    const count = known(() => retain.count);
    if (typeof count === "number") return count;
    const interval = known(() => retain.interval);
    const unit = known(() => retain.intervalUnit);
    if (typeof interval !== "number" || typeof unit !== "string" || !UNIT_HOURS[unit]) return undefined;
    const create = known(() => schedule.createRule);
    const everyHours = (known(() => create?.interval) ?? 24) * (UNIT_HOURS[String(known(() => create?.intervalUnit) ?? "HOURS")] ?? 1);
    return Math.floor((interval * UNIT_HOURS[unit]) / everyHours);
}

function schedulesOf(props: DlmProps): DlmSchedule[] {
    const schedules = known(() => props.policyDetails?.schedules);
    return Array.isArray(schedules) ? schedules : [];
}

export const dlmRetention: ResourceValidationPolicy = {
    name: "dlm-retention",
    description: "Data Lifecycle Manager schedules keep at least the configured number of snapshots per volume (15 by default).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minRetain: { type: "integer", minimum: 1, default: 15, description: "The fewest snapshots a schedule may keep per volume." },
        },
    },
    validateResource: forType<DlmProps>(TYPES.dlmPolicy, (policy, args, reportViolation) => {
        const { minRetain } = args.getConfig<{ minRetain: number }>();
        for (const schedule of schedulesOf(policy)) {
            const kept = snapshotsKept(schedule);
            const name = known(() => schedule.name) ?? "(unnamed)";
            if (kept === undefined) {
                reportViolation(
                    `${args.name}: schedule "${name}" has no retain rule this policy can read, so how many snapshots it keeps is unknown: give it retainRule.count (plone-aws:snapshots.retain).`,
                );
            } else if (kept < minRetain) {
                reportViolation(
                    `${args.name}: schedule "${name}" keeps ${kept} snapshot${kept === 1 ? "" : "s"} per volume, fewer than the ${minRetain} this stack requires: ` +
                        `set plone-aws:snapshots.retain to ${minRetain} or more.`,
                );
            }
        }
    }),
};

export const dlmCrossRegionCopy: ResourceValidationPolicy = {
    name: "dlm-cross-region-copy",
    description: "Data Lifecycle Manager copies the snapshots, encrypted, to a second region, so a regional outage does not take every backup with it.",
    enforcementLevel: "mandatory",
    validateResource: forType<DlmProps>(TYPES.dlmPolicy, (policy, args, reportViolation) => {
        const copies = schedulesOf(policy).flatMap((s) => {
            const rules = known(() => s.crossRegionCopyRules);
            return Array.isArray(rules) ? rules : [];
        });
        const targets = copies.filter((c) => known(() => c.target ?? c.targetRegion));
        if (targets.length === 0) {
            reportViolation(
                `${args.name} copies no snapshot to another region: a regional outage would take every backup of the site with it. ` +
                    `Set plone-aws:snapshots.crossRegionCopy.region (e.g. eu-central-1 for a stack in eu-west-1).`,
            );
        }
        for (const copy of copies) {
            if (known(() => copy.encrypted) === false) {
                reportViolation(
                    `${args.name} copies snapshots to ${known(() => copy.target ?? copy.targetRegion) ?? "another region"} unencrypted: set encrypted: true on the copy rule.`,
                );
            }
        }
    }),
};

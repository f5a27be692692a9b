// Auto Scaling groups of app hosts (plone-aws:scaling): AWS starts and stops their instances, so
// they carry only layers that hold no state and run on more than one host, keep their blobs on
// shared storage, and have sizes AWS accepts (max >= desired >= min). Read from the group's tags
// (plone-aws:layer, plone-aws:blobs), as a hand-edited stack would register them.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { LAYERS, type Layer } from "../../components/config/schema";
import { whyNotScaled } from "../../components/layers";
import { BLOBS_TAG, forType, known, LAYER_TAG, TYPES } from "./common";

type GroupProps = Unwrap<aws.autoscaling.GroupArgs>;

/** The group's tags as a map (the group takes a list of key/value/propagateAtLaunch). */
function groupTags(group: GroupProps): Record<string, string> {
    const tags = known(() => group.tags);
    const out: Record<string, string> = {};
    if (!Array.isArray(tags)) return out;
    for (const tag of tags) {
        const key = known(() => tag.key);
        const value = known(() => tag.value);
        if (typeof key === "string" && typeof value === "string") out[key] = value;
    }
    return out;
}

const count = (read: () => unknown): number | undefined => {
    const value = known(read);
    return typeof value === "number" ? value : undefined;
};

export const scaledGroupsStateless: ResourceValidationPolicy = {
    name: "scaled-groups-stateless",
    description:
        "An Auto Scaling group carries only layers that hold no state and are not single-instance (the layer catalogue's facts), keeps blobs on shared storage (not local), and has max >= desired >= min.",
    enforcementLevel: "mandatory",
    validateResource: forType<GroupProps>(TYPES.autoscalingGroup, (group, args, reportViolation) => {
        const tags = groupTags(group);
        const layers = (tags[LAYER_TAG] ?? "").split(/\s+/).filter(Boolean);
        if (layers.length === 0) {
            reportViolation(
                `${args.name} has no ${LAYER_TAG} tag, so what it runs cannot be checked: tag it with its layers (the ScaledGroup component does).`,
            );
        }
        for (const layer of layers) {
            const why = (LAYERS as readonly string[]).includes(layer) ? whyNotScaled(layer as Layer) : `${layer} is not a plone-aws layer`;
            if (why)
                reportViolation(`${args.name} carries ${layer}: ${why}. Remove it from the group's layers in plone-aws:scaling and put it on a fixed host.`);
        }
        const blobs = tags[BLOBS_TAG];
        if (blobs === undefined || blobs === "local") {
            reportViolation(
                `${args.name} keeps blobs ${blobs === "local" ? "on a local disk" : "nowhere it says (no " + BLOBS_TAG + " tag)"}: an instance the group starts has no copy of them. ` +
                    `Use shared blobs (plone.blobs zeo, nfs, gluster, efs or database).`,
            );
        }
        const min = count(() => group.minSize);
        const max = count(() => group.maxSize);
        const desired = count(() => group.desiredCapacity);
        if (min !== undefined && max !== undefined && min > max)
            reportViolation(`${args.name}: minSize ${min} is above maxSize ${max}; max >= desired >= min.`);
        if (desired !== undefined && max !== undefined && desired > max)
            reportViolation(`${args.name}: desiredCapacity ${desired} is above maxSize ${max}; max >= desired >= min.`);
        if (desired !== undefined && min !== undefined && desired < min)
            reportViolation(`${args.name}: desiredCapacity ${desired} is below minSize ${min}; max >= desired >= min.`);
    }),
};

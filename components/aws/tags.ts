// The tags every taggable resource carries, so a stack's resources can be found, costed and
// checked by the policy pack.

export const STACK_TAG = "plone-aws:stack";
export const LAYER_TAG = "plone-aws:layer";
/** Data Lifecycle Manager snapshots every volume whose tag carries the stack's value. */
export const SNAPSHOT_TAG = "plone-aws:snapshot";
/**
 * The role of a security group (alb, frontend, bastion, zeoserver, ...). The policy pack reads it
 * to tell which group a rule opens: only the alb and frontend groups may face the internet.
 */
export const SECURITY_GROUP_TAG = "plone-aws:security-group";
/**
 * On shared_blobs hosts, how they serve the blobs: nfs (exactly one server) or gluster (1 to 3
 * peers). The policy pack sees instances, not the stack configuration, so the mode travels here.
 */
export const BLOBS_TAG = "plone-aws:blobs";

export type Tags = Record<string, string>;

/**
 * Tags of one resource: the stack tag, a Name, and the layer(s) it belongs to. A host carrying
 * several layers lists them separated by spaces.
 */
export function resourceTags(stackName: string, name: string, layers?: string | readonly string[]): Tags {
    const tags: Tags = { Name: name, [STACK_TAG]: stackName };
    const layer = typeof layers === "string" ? layers : layers?.join(" ");
    if (layer) tags[LAYER_TAG] = layer;
    return tags;
}

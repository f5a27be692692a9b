// Layers that run on one host only, and the GlusterFS peers. The OpsWorks cookbook let its clients
// take "the first online instance" of these layers, so a second one silently split the site; here
// the instances' plone-aws:layer tags are counted before anything is created.
import type { StackValidationPolicy } from "@pulumi/policy";
import { SINGLE_INSTANCE_LAYERS } from "../../components/topology";
import { availabilityZoneOf, BLOBS_TAG, HostView, hostsOf } from "./common";

/** Why each layer must stay on one host, in the words an operator needs. */
const WHY_ONE: Record<string, string> = {
    zeoserver: "the Zope clients connect to one ZEO server; a second one holds a diverging copy of the site's database",
    solr: "the clients index into and search one Solr core; a second one serves a stale index",
    redis: "the celery workers share one broker; a second one splits the task queue",
    celerybeat: "a second scheduler runs every periodic task twice",
    db_packing: "two packers would pack the same RelStorage database at the same time",
    shared_blobs: "the clients mount one NFS server; a second one holds blobs no client reads (GlusterFS allows replicas)",
};

/** shared_blobs hosts that are not tagged as GlusterFS peers count as NFS servers: the stricter reading. */
function isNfsServer(h: HostView): boolean {
    return h.layers.includes("shared_blobs") && h.blobs !== "gluster";
}

export const singleInstanceLayers: StackValidationPolicy = {
    name: "single-instance-layers",
    description:
        "zeoserver, solr, redis, celerybeat, db_packing and the NFS shared_blobs server run on at most one instance each (counted from the instances' plone-aws:layer tags).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        // By name, so the report does not depend on the order the engine registered the hosts in.
        const hosts = hostsOf(args.resources).sort((a, b) => a.name.localeCompare(b.name));
        for (const layer of [...SINGLE_INSTANCE_LAYERS, "shared_blobs"]) {
            const carriers = layer === "shared_blobs" ? hosts.filter(isNfsServer) : hosts.filter((h) => h.layers.includes(layer));
            for (const extra of carriers.slice(1)) {
                reportViolation(
                    `${extra.name} carries ${layer}${layer === "shared_blobs" ? " (NFS)" : ""}, which already runs on ${carriers[0].name}: ${WHY_ONE[layer]}. ` +
                        `Keep ${layer} on one host: remove it from this host's layers in plone-aws:hosts.`,
                    extra.resource.urn,
                );
            }
        }
    },
};

export const glusterfsPeers: StackValidationPolicy = {
    name: "glusterfs-peers",
    description:
        `With GlusterFS blobs (shared_blobs instances tagged ${BLOBS_TAG}=gluster), the volume has 1 to 3 peers, each in a different availability zone, so a replica survives the loss of an AZ.`,
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            maxPeers: { type: "integer", minimum: 1, default: 3, description: "The most GlusterFS peers (bricks of the replica volume) a stack may have." },
        },
    },
    validateStack: (args, reportViolation) => {
        const { maxPeers } = args.getConfig<{ maxPeers: number }>();
        const peers = hostsOf(args.resources).sort((a, b) => a.name.localeCompare(b.name)).filter((h) => h.layers.includes("shared_blobs") && h.blobs === "gluster");
        for (const extra of peers.slice(maxPeers)) {
            reportViolation(
                `${extra.name} would be GlusterFS peer number ${peers.indexOf(extra) + 1}; a plone-aws blob volume has 1 to ${maxPeers} replicas (${peers.map((p) => p.name).join(", ")}). ` +
                    `Remove shared_blobs from this host in plone-aws:hosts.`,
                extra.resource.urn,
            );
        }
        const byZone = new Map<string, HostView>();
        for (const peer of peers) {
            const zone = availabilityZoneOf(peer.resource);
            if (!zone) continue;
            const first = byZone.get(zone);
            if (first) {
                reportViolation(
                    `${peer.name} and ${first.name} are GlusterFS replicas in the same availability zone (${zone}): losing that AZ loses both copies of the blobs. ` +
                        `Give each shared_blobs host its own az in plone-aws:hosts (and network.azCount enough AZs).`,
                    peer.resource.urn,
                );
            } else {
                byZone.set(zone, peer);
            }
        }
    },
};

// Layers that run on one host only, and the GlusterFS peers. The OpsWorks cookbook let its clients
// take "the first online instance" of these layers, so a second one silently split the site; here
// the instances' plone-aws:layer tags are counted before anything is created.
import type { StackValidationPolicy } from "@pulumi/policy";
import { LAYERS } from "../../components/config/schema";
import { layerInfo } from "../../components/layers";
import { availabilityZoneOf, BLOBS_TAG, HostView, hostsOf } from "./common";

/** The layers one host at most carries (the catalogue's), and whether only NFS blob servers count: those last. */
const SINGLE: { layer: string; nfsOnly: boolean; why: string }[] = LAYERS.flatMap((layer) => {
    const { instances } = layerInfo(layer);
    return instances.count === "one" ? [{ layer, nfsOnly: instances.when === "nfs-blobs", why: instances.why }] : [];
}).sort((a, b) => Number(a.nfsOnly) - Number(b.nfsOnly));

/**
 * The hosts that count for a layer. Where only NFS servers are single (shared_blobs), hosts not
 * tagged as GlusterFS peers count as NFS servers: the stricter reading.
 */
function carriersOf(hosts: HostView[], layer: string, nfsOnly: boolean): HostView[] {
    return hosts.filter((h) => h.layers.includes(layer) && (!nfsOnly || h.blobs !== "gluster"));
}

const described = (s: { layer: string; nfsOnly: boolean }) => (s.nfsOnly ? `the NFS ${s.layer} server` : s.layer);

export const singleInstanceLayers: StackValidationPolicy = {
    name: "single-instance-layers",
    description: `${SINGLE.map(described)
        .join(", ")
        .replace(/, ([^,]*)$/, " and $1")} run on at most one instance each (counted from the instances' plone-aws:layer tags).`,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        // By name, so the report does not depend on the order the engine registered the hosts in.
        const hosts = hostsOf(args.resources).sort((a, b) => a.name.localeCompare(b.name));
        for (const { layer, nfsOnly, why } of SINGLE) {
            const carriers = carriersOf(hosts, layer, nfsOnly);
            for (const extra of carriers.slice(1)) {
                reportViolation(
                    `${extra.name} carries ${layer}${nfsOnly ? " (NFS)" : ""}, which already runs on ${carriers[0].name}: ${why}. ` +
                        `Keep ${layer} on one host: remove it from this host's layers in plone-aws:hosts.`,
                    extra.resource.urn,
                );
            }
        }
    },
};

export const glusterfsPeers: StackValidationPolicy = {
    name: "glusterfs-peers",
    description: `With GlusterFS blobs (shared_blobs instances tagged ${BLOBS_TAG}=gluster), the volume has 1 to 3 peers, each in a different availability zone, so a replica survives the loss of an AZ.`,
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            maxPeers: { type: "integer", minimum: 1, default: 3, description: "The most GlusterFS peers (bricks of the replica volume) a stack may have." },
        },
    },
    validateStack: (args, reportViolation) => {
        const { maxPeers } = args.getConfig<{ maxPeers: number }>();
        const peers = hostsOf(args.resources)
            .sort((a, b) => a.name.localeCompare(b.name))
            .filter((h) => h.layers.includes("shared_blobs") && h.blobs === "gluster");
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

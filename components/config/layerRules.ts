// What each layer needs from the rest of the configuration, and what makes it pointless: the rules
// that tie plone-aws:hosts[].layers to plone-aws:plone. A layer added to LAYERS must say here what
// it needs (or null: nothing beyond the catalogue's instance count and required flag).
import { instanceTypeInfo } from "../topology/instanceTypes";
import type { FrontendConfig, HostConfig, Layer, PloneConfig, VoltoConfig } from "./schema";

export interface LayerRuleContext {
    plone: PloneConfig;
    /** plone-aws:frontend and plone-aws:volto, when they parsed (a rule reading them skips otherwise). */
    frontend?: FrontendConfig;
    volto?: VoltoConfig;
    /** The hosts carrying a layer, with their index in plone-aws:hosts. */
    carriers(layer: Layer): { h: HostConfig; i: number }[];
    err(path: PropertyKey[], message: string): void;
    warn(path: PropertyKey[], message: string): void;
}

export type LayerRule = (ctx: LayerRuleContext) => void;

/** By layer; crossFieldIssues runs them in the order of LAYERS. */
export const LAYER_RULES = {
    // Every stack has front ends and app hosts (the catalogue's `required`).
    frontend: null,
    plone_instances: null,
    zeoserver: ({ plone, carriers, err }) => {
        const zeo = carriers("zeoserver");
        if (plone.storage === "zeo" && zeo.length === 0) err(["hosts"], "plone.storage is zeo but no host carries the zeoserver layer: add it to one host");
        if (plone.storage === "relstorage") {
            for (const { i } of zeo)
                err(["hosts", i, "layers"], "zeoserver is not used with plone.storage relstorage: remove the layer or set plone.storage to zeo");
        }
    },
    shared_blobs: ({ plone, carriers, err, warn }) => {
        const blobServers = carriers("shared_blobs");
        if (plone.blobs === "nfs" && blobServers.length === 0)
            err(["hosts"], "plone.blobs is nfs but no host carries the shared_blobs layer (the NFS server): add it to one host");
        if (plone.blobs === "gluster") {
            if (blobServers.length === 0)
                err(["hosts"], "plone.blobs is gluster but no host carries the shared_blobs layer: add it to one host, then replicas later");
            for (const { i } of blobServers.slice(3))
                err(["hosts", i, "layers"], "a GlusterFS volume here has 1 to 3 peers: this would be the 4th shared_blobs host");
            const azs = new Set(blobServers.map(({ h }) => h.az));
            if (blobServers.length > 1 && azs.size < blobServers.length) {
                warn(["hosts"], "GlusterFS peers share an availability zone: put each replica in a different AZ");
            }
        }
        if (plone.blobs !== "nfs" && plone.blobs !== "gluster") {
            for (const { i } of blobServers)
                err(
                    ["hosts", i, "layers"],
                    `shared_blobs serves NFS or GlusterFS blobs, but plone.blobs is ${plone.blobs}: remove the layer or change plone.blobs`,
                );
        }
        if (plone.blobs === "local") {
            const blobUsers = new Set([...carriers("plone_instances"), ...carriers("zeoserver")].map(({ h }) => h.name));
            if (blobUsers.size > 1) {
                err(
                    ["plone", "blobs"],
                    `local blobs live on one host's disk, but ${[...blobUsers].join(", ")} all need them: use zeo, nfs, gluster, efs or (with RelStorage) database`,
                );
            }
        }
    },
    memcached: ({ plone, carriers, err }) => {
        for (const { i } of carriers("memcached")) {
            if (plone.storage !== "relstorage") err(["hosts", i, "layers"], "memcached serves RelStorage's cache, and plone.storage is zeo: remove the layer");
        }
    },
    solr: ({ plone, carriers, err }) => {
        const solr = carriers("solr");
        if (plone.solr.enabled) {
            if (solr.length === 0 && !plone.solr.host)
                err(["plone", "solr"], "Solr is enabled but no host carries the solr layer and plone.solr.host is not set");
            if (solr.length > 0 && plone.solr.host)
                err(["plone", "solr", "host"], `both an external Solr and the solr layer (on ${solr[0].h.name}) are configured: keep one`);
        } else {
            for (const { i } of solr) err(["hosts", i, "layers"], "the solr layer needs plone.solr.enabled: true");
        }
    },
    redis: ({ plone, carriers, err }) => {
        const redis = carriers("redis");
        if (plone.celery.enabled) {
            if (redis.length === 0 && !plone.celery.brokerHost)
                err(["plone", "celery"], "celery needs a broker: add the redis layer to one host or set plone.celery.brokerHost");
            if (redis.length > 0 && plone.celery.brokerHost)
                err(["plone", "celery", "brokerHost"], `both an external broker and the redis layer (on ${redis[0].h.name}) are configured: keep one`);
        } else {
            for (const { i } of redis)
                err(["hosts", i, "layers"], "the redis layer is the celery broker, and plone.celery.enabled is false: remove the layer or enable celery");
        }
    },
    celerybeat: ({ plone, carriers, err, warn }) => {
        if (plone.celery.enabled) {
            if (carriers("celerybeat").length === 0) warn(["hosts"], "celery is enabled but no host carries celerybeat: scheduled tasks will not run");
        } else {
            for (const { i } of carriers("celerybeat"))
                err(["hosts", i, "layers"], "celerybeat needs celery: set plone.celery.enabled to true or remove the layer");
        }
    },
    db_packing: ({ plone, carriers, err }) => {
        const packers = carriers("db_packing");
        if (plone.storage !== "relstorage") {
            for (const { i } of packers)
                err(["hosts", i, "layers"], "db_packing runs zodbpack for RelStorage; with ZEO the zeoserver host packs: remove the layer");
        } else if (plone.pack.enabled && packers.length === 0) {
            err(["hosts"], "RelStorage packing is enabled (plone.pack.enabled) but no host carries db_packing: add it to exactly one plone_instances host");
        }
    },
    // Volto needs nothing of plone-aws:plone (it reaches the backend through the front ends' haproxy),
    // but a name browsers can call, the front end it reads the REST API from, and a process count.
    volto: ({ carriers, frontend, volto, err, warn }) => {
        const voltoHosts = carriers("volto");
        if (voltoHosts.length === 0) return;
        // The browser calls the REST API at https://<frontend.domain>/++api++ (RAZZLE_API_PATH).
        if (frontend?.domain.startsWith("*"))
            err(
                ["frontend", "domain"],
                `Volto's pages call the REST API at the site's own name (RAZZLE_API_PATH is https://<frontend.domain>), and ${frontend.domain} is a wildcard: set the site's name here and move the wildcard to frontend.aliases`,
            );
        const frontends = carriers("frontend");
        for (const { h, i } of voltoHosts) {
            // A front end's own Volto reads the API on loopback; others from a front end in their AZ (topology voltoApiFrontend).
            if (!h.layers.includes("frontend") && frontends.length > 0 && !frontends.some((f) => f.h.az === h.az)) {
                warn(
                    ["hosts", i, "az"],
                    `${h.name} has no front end in its AZ (${h.az}), so its Volto processes read the REST API from ${frontends[0].h.name} in AZ ${frontends[0].h.az}: traffic across AZs, and no page renders while that AZ is down. Add a front end in AZ ${h.az}, or put volto on the front ends`,
                );
            }
            if (volto && volto.processCount === undefined && h.vcpus === undefined && !instanceTypeInfo(h.instanceType)) {
                err(
                    ["hosts", i, "instanceType"],
                    `the vCPU count of ${h.instanceType} is not in plone-aws's table, so its Volto process count cannot be derived: set hosts[${i}].vcpus or volto.processCount`,
                );
            }
        }
    },
} satisfies Record<Layer, LayerRule | null>;

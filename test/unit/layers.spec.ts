// The layer catalogue (components/layers.ts) and what the rest of the code derives from it: the
// layers one host carries, the app-host layers, the hosts that run the build, the security groups
// and services of a host. A change to a record shows here and in the topology's tests.
import { expect } from "chai";
import { LAYERS, type Layer } from "../../components/config/schema";
import {
    APP_HOST_LAYERS,
    BUILD_LAYERS,
    isSingleInstance,
    LAYER_CATALOGUE,
    layerInfo,
    LISTENING_LAYERS,
    runsBuild,
    singleInstanceLayers,
} from "../../components/layers";
import { systemServices } from "../../components/render/operations/services";
import { buildTopology } from "../../components/topology";
import { allStacks } from "../helpers/appStacks";

describe("the layer catalogue", () => {
    it("has one record per layer, in the order of LAYERS", () => {
        expect(Object.keys(LAYER_CATALOGUE)).to.deep.equal([...LAYERS]);
    });

    it("says which layers one host at most carries, shared_blobs only with NFS blobs, each with its reason", () => {
        expect(singleInstanceLayers("nfs")).to.deep.equal(["zeoserver", "shared_blobs", "solr", "redis", "celerybeat", "db_packing"]);
        expect(singleInstanceLayers("gluster")).to.deep.equal(["zeoserver", "solr", "redis", "celerybeat", "db_packing"]);
        expect(isSingleInstance("shared_blobs", undefined)).to.equal(false);
        for (const layer of LAYERS) {
            const { instances } = layerInfo(layer);
            if (instances.count === "one") expect(instances.why, layer).to.match(/^[a-z].{20,}[^.]$/);
        }
    });

    it("rides celerybeat and db_packing on app hosts; the buildout runs on app, ZEO and Solr hosts", () => {
        expect(APP_HOST_LAYERS).to.deep.equal(["celerybeat", "db_packing"]);
        expect(BUILD_LAYERS).to.deep.equal(["plone_instances", "zeoserver", "solr"]);
        expect(runsBuild({ layers: ["frontend", "memcached"] })).to.equal(false);
        expect(runsBuild({ layers: ["solr"] })).to.equal(true);
    });

    const stacks = allStacks();

    it("gives a host the security group of each listening layer it carries, and only those", () => {
        expect(LISTENING_LAYERS).to.deep.equal(["frontend", "plone_instances", "zeoserver", "shared_blobs", "memcached", "solr", "redis", "volto"]);
        for (const [name, { ctx }] of stacks) {
            for (const host of ctx.topology.hosts) {
                expect(host.securityGroups, `${name}: ${host.name}`).to.deep.equal(["host", ...LISTENING_LAYERS.filter((l) => host.layers.includes(l))]);
            }
            // Every group a rule names is planned.
            const planned = new Set(ctx.topology.securityGroups.map((g) => g.role));
            for (const rule of ctx.topology.ingressRules) {
                expect(planned.has(rule.role), `${name}: ${rule.description}`).to.equal(true);
                if ("role" in rule.source) expect(planned.has(rule.source.role), `${name}: ${rule.description}`).to.equal(true);
            }
        }
    });

    it("lists each layer's system services in plone-service, and supervisor where the build or Volto runs", () => {
        for (const [name, { ctx }] of stacks) {
            for (const host of ctx.topology.hosts) {
                const names = systemServices(ctx, host).map((s) => s.name);
                for (const layer of host.layers as Layer[]) {
                    for (const s of layerInfo(layer).services(ctx.spec)) expect(names, `${name}: ${host.name}: ${layer}`).to.include(s.name);
                }
                expect(names.includes("supervisor"), `${name}: ${host.name}`).to.equal(runsBuild(host) || host.layers.includes("volto"));
            }
        }
    });

    it("names in the topology's roles the hosts the renderers and the ops plans work on", () => {
        for (const [name, { ctx }] of stacks) {
            const { roles } = buildTopology(ctx.spec);
            const carrying = (layer: Layer) => ctx.spec.hosts.filter((h) => h.layers.includes(layer)).map((h) => h.name);
            expect(roles.frontends, name).to.deep.equal(carrying("frontend"));
            expect(roles.appHosts, name).to.deep.equal(carrying("plone_instances"));
            // Servers (ZEO, Solr) before the app hosts: the order of activations and restarts.
            const servers = ctx.spec.hosts.filter((h) => runsBuild(h) && !h.layers.includes("plone_instances")).map((h) => h.name);
            expect(roles.buildHosts, name).to.deep.equal([...servers, ...carrying("plone_instances")]);
            expect(roles.blobUsers, name).to.deep.equal(
                ctx.spec.hosts.filter((h) => h.layers.includes("plone_instances") || h.layers.includes("zeoserver")).map((h) => h.name),
            );
        }
    });
});

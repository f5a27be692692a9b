// single-instance-layers and glusterfs-peers: counted from the instances' tags, as a broken
// program (or a hand-edited stack) would register them.
import { expect } from "chai";
import type { PolicyResource } from "@pulumi/policy";
import { glusterfsPeers, singleInstanceLayers } from "../../policies/rules/singleInstance";
import { BLOBS_TAG, LAYER_TAG, TYPES } from "../../policies/rules/common";
import { FakeStack, UNKNOWN } from "../helpers/policyArgs";

function host(stack: FakeStack, name: string, layers: string[], options: { blobs?: string; az?: string } = {}): PolicyResource {
    const subnet = stack.add(TYPES.subnet, `${name}-subnet`, { cidrBlock: "10.0.0.0/20", availabilityZone: options.az ?? "eu-west-1a" });
    const tags: Record<string, string> = { Name: name, "plone-aws:stack": "test", [LAYER_TAG]: layers.join(" ") };
    if (options.blobs) tags[BLOBS_TAG] = options.blobs;
    return stack.add(
        TYPES.instance,
        `${name}-instance`,
        { instanceType: "t3.large", subnetId: UNKNOWN, availabilityZone: UNKNOWN, tags },
        { parentType: "plone-aws:host:Host", dependsOn: { subnetId: [subnet] } },
    );
}

describe("policy single-instance-layers", () => {
    it("passes one host per single-instance layer, with other layers spread over several hosts", async () => {
        const stack = new FakeStack();
        host(stack, "app-1", ["plone_instances", "celerybeat", "db_packing"]);
        host(stack, "app-2", ["plone_instances"]);
        host(stack, "data-1", ["zeoserver", "solr", "redis"]);
        host(stack, "web-1", ["frontend"]);
        host(stack, "web-2", ["frontend"]);
        host(stack, "nfs-1", ["shared_blobs"], { blobs: "nfs" });
        expect(await stack.run(singleInstanceLayers)).to.deep.equal([]);
    });

    it("fires on a second ZEO server, naming both hosts and the fix", async () => {
        const stack = new FakeStack();
        host(stack, "zeo-1", ["zeoserver"]);
        const second = host(stack, "zeo-2", ["zeoserver", "plone_instances"]);
        const violations = await stack.run(singleInstanceLayers);
        expect(violations).to.have.length(1);
        expect(violations[0].urn).to.equal(second.urn);
        expect(violations[0].message).to.include("zeo-2-instance carries zeoserver, which already runs on zeo-1-instance");
        expect(violations[0].message).to.include("remove it from this host's layers in plone-aws:hosts");
    });

    it("fires on every layer that is doubled: celerybeat, db_packing, solr, redis", async () => {
        const stack = new FakeStack();
        host(stack, "app-1", ["plone_instances", "celerybeat", "db_packing", "solr", "redis"]);
        host(stack, "app-2", ["plone_instances", "celerybeat", "db_packing", "solr", "redis"]);
        const messages = (await stack.run(singleInstanceLayers)).map((v) => v.message);
        for (const layer of ["solr", "redis", "celerybeat", "db_packing"]) {
            expect(
                messages.some((m) => m.startsWith(`app-2-instance carries ${layer},`)),
                layer,
            ).to.equal(true);
        }
        expect(messages.find((m) => m.includes("celerybeat"))).to.include("runs every periodic task twice");
    });

    it("fires on two NFS servers, and counts an untagged shared_blobs host as NFS", async () => {
        const stack = new FakeStack();
        host(stack, "nfs-1", ["shared_blobs"], { blobs: "nfs" });
        host(stack, "nfs-2", ["shared_blobs"]);
        const violations = await stack.run(singleInstanceLayers);
        expect(violations).to.have.length(1);
        expect(violations[0].message).to.include("nfs-2-instance carries shared_blobs (NFS), which already runs on nfs-1-instance");
    });

    it("lets GlusterFS peers share the shared_blobs layer", async () => {
        const stack = new FakeStack();
        host(stack, "blobs-1", ["shared_blobs"], { blobs: "gluster" });
        host(stack, "blobs-2", ["shared_blobs"], { blobs: "gluster" });
        expect(await stack.run(singleInstanceLayers)).to.deep.equal([]);
    });
});

describe("policy glusterfs-peers", () => {
    it("passes 1 to 3 peers in different AZs (read from their subnets while the instances' AZ is unknown)", async () => {
        const stack = new FakeStack();
        host(stack, "blobs-1", ["shared_blobs"], { blobs: "gluster", az: "eu-west-1a" });
        host(stack, "blobs-2", ["shared_blobs"], { blobs: "gluster", az: "eu-west-1b" });
        host(stack, "blobs-3", ["shared_blobs"], { blobs: "gluster", az: "eu-west-1c" });
        expect(await stack.run(glusterfsPeers)).to.deep.equal([]);
    });

    it("fires on a fourth peer", async () => {
        const stack = new FakeStack();
        for (const [i, az] of ["a", "b", "c", "a"].entries()) host(stack, `blobs-${i + 1}`, ["shared_blobs"], { blobs: "gluster", az: `eu-west-1${az}` });
        const messages = (await stack.run(glusterfsPeers)).map((v) => v.message);
        expect(messages[0]).to.include("blobs-4-instance would be GlusterFS peer number 4; a plone-aws blob volume has 1 to 3 replicas");
        expect(messages[1]).to.include("blobs-4-instance and blobs-1-instance are GlusterFS replicas in the same availability zone (eu-west-1a)");
    });

    it("fires on two peers in one AZ, and follows its maxPeers setting", async () => {
        const stack = new FakeStack();
        host(stack, "blobs-1", ["shared_blobs"], { blobs: "gluster", az: "eu-west-1a" });
        host(stack, "blobs-2", ["shared_blobs"], { blobs: "gluster", az: "eu-west-1a" });
        const violations = await stack.run(glusterfsPeers, { maxPeers: 1 });
        expect(violations.map((v) => v.message)).to.have.length(2);
        expect(violations[0].message).to.include("1 to 1 replicas");
        expect(violations[1].message).to.include("Give each shared_blobs host its own az in plone-aws:hosts");
    });
});

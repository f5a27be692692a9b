// Tags: the stack tag on everything taggable, the layer tag on what belongs to a layer.
import { expect } from "chai";
import { requiredTags, TAGGABLE_TYPES } from "../../policies/rules/tagging";
import { BLOBS_TAG, LAYER_TAG, SECURITY_GROUP_TAG, STACK_TAG, TYPES } from "../../policies/rules/common";
import { runResourcePolicy, UNKNOWN } from "../helpers/policyArgs";

const HOST = "plone-aws:host:Host";

describe("policy required-tags", () => {
    it("passes tagged resources, and leaves untaggable types alone", async () => {
        expect(await runResourcePolicy(requiredTags, "aws:ec2/vpc:Vpc", { tags: { [STACK_TAG]: "prod" } })).to.deep.equal([]);
        const host = { tags: { [STACK_TAG]: "prod", [LAYER_TAG]: "plone_instances db_packing" } };
        expect(await runResourcePolicy(requiredTags, TYPES.instance, host, { parentType: HOST })).to.deep.equal([]);
        const group = { tags: { [STACK_TAG]: "prod", [LAYER_TAG]: "zeoserver", [SECURITY_GROUP_TAG]: "zeoserver" } };
        expect(await runResourcePolicy(requiredTags, TYPES.securityGroup, group)).to.deep.equal([]);
        const alb = { tags: { [STACK_TAG]: "prod", [LAYER_TAG]: "frontend" } };
        expect(await runResourcePolicy(requiredTags, TYPES.loadBalancer, alb, { parentType: "plone-aws:frontdoor:FrontDoor" })).to.deep.equal([]);
        for (const untaggable of [
            "aws:ec2/volumeAttachment:VolumeAttachment",
            "aws:ec2/routeTableAssociation:RouteTableAssociation",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            TYPES.remoteCommand,
        ]) {
            expect(TAGGABLE_TYPES).to.not.include(untaggable);
            expect(await runResourcePolicy(requiredTags, untaggable, {})).to.deep.equal([]);
        }
    });

    it("leaves tags alone that are not known yet during preview", async () => {
        expect(await runResourcePolicy(requiredTags, "aws:ec2/vpc:Vpc", { tags: UNKNOWN })).to.deep.equal([]);
    });

    it("fires on a taggable resource without the stack tag", async () => {
        const [v] = await runResourcePolicy(requiredTags, "aws:ec2/natGateway:NatGateway", { tags: { Name: "nat" } }, { name: "prod-network-nat-0" });
        expect(v.message).to.include(`prod-network-nat-0 has no ${STACK_TAG} tag`);
    });

    it("fires on a host's volume without a layer, and on unknown layer names", async () => {
        const [volume] = await runResourcePolicy(
            requiredTags,
            TYPES.volume,
            { tags: { [STACK_TAG]: "prod" } },
            { name: "prod-zeo-1-filestorage", parentType: HOST },
        );
        expect(volume.message).to.include(`prod-zeo-1-filestorage belongs to a host but has no ${LAYER_TAG} tag`);
        const [typo] = await runResourcePolicy(
            requiredTags,
            TYPES.instance,
            { tags: { [STACK_TAG]: "prod", [LAYER_TAG]: "frontend zeo" } },
            { name: "i", parentType: HOST },
        );
        expect(typo.message).to.include(`i: ${LAYER_TAG} names zeo, which is not a layer`);
    });

    it("fires on the front door and a layer's group tagged with another layer", async () => {
        const [alb] = await runResourcePolicy(
            requiredTags,
            TYPES.loadBalancer,
            { tags: { [STACK_TAG]: "prod" } },
            { name: "prod-front-door-alb", parentType: "plone-aws:frontdoor:FrontDoor" },
        );
        expect(alb.message).to.include(`prod-front-door-alb belongs to the frontend layer but its ${LAYER_TAG} tag is missing: tag it ${LAYER_TAG}=frontend`);
        const [group] = await runResourcePolicy(
            requiredTags,
            TYPES.securityGroup,
            { tags: { [STACK_TAG]: "prod", [LAYER_TAG]: "frontend", [SECURITY_GROUP_TAG]: "zeoserver" } },
            { name: "g" },
        );
        expect(group.message).to.include(`g belongs to the zeoserver layer but its ${LAYER_TAG} tag is "frontend"`);
    });

    it("fires on a security group without its role, and on a shared_blobs host without its blob mode", async () => {
        const [group] = await runResourcePolicy(requiredTags, TYPES.securityGroup, { tags: { [STACK_TAG]: "prod" } }, { name: "prod-network-alb" });
        expect(group.message).to.include(`prod-network-alb has no ${SECURITY_GROUP_TAG} tag`);
        const [blobs] = await runResourcePolicy(
            requiredTags,
            TYPES.instance,
            { tags: { [STACK_TAG]: "prod", [LAYER_TAG]: "shared_blobs" } },
            { name: "prod-blobs-1-instance", parentType: HOST },
        );
        expect(blobs.message).to.include(`prod-blobs-1-instance carries shared_blobs but its ${BLOBS_TAG} tag is missing: tag it nfs or gluster`);
    });
});

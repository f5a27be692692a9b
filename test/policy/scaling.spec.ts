// scaled-groups-stateless: an Auto Scaling group as a broken program (or a hand-edited stack) would
// register it: a layer that holds state or runs once, local blobs, sizes AWS refuses.
import { expect } from "chai";
import { scaledGroupsStateless } from "../../policies/rules/scaling";
import { BLOBS_TAG, LAYER_TAG, TYPES } from "../../policies/rules/common";
import { runResourcePolicy, UNKNOWN } from "../helpers/policyArgs";

function group(layers: string, blobs: string | undefined, sizes: { minSize?: unknown; maxSize?: unknown; desiredCapacity?: unknown } = {}) {
    const tags = [
        { key: "Name", value: "prod-app-auto", propagateAtLaunch: true },
        { key: LAYER_TAG, value: layers, propagateAtLaunch: true },
        ...(blobs ? [{ key: BLOBS_TAG, value: blobs, propagateAtLaunch: true }] : []),
    ];
    return { minSize: 1, maxSize: 4, desiredCapacity: 2, ...sizes, tags };
}

const run = (props: Record<string, unknown>) => runResourcePolicy(scaledGroupsStateless, TYPES.autoscalingGroup, props, { name: "prod-app-auto-group" });

describe("policy scaled-groups-stateless", () => {
    it("passes app hosts with shared blobs and consistent sizes, also while the sizes are unknown", async () => {
        expect(await run(group("plone_instances", "efs"))).to.deep.equal([]);
        expect(await run(group("plone_instances", "database", { desiredCapacity: UNKNOWN }))).to.deep.equal([]);
    });

    it("fires on a layer that holds state and on a single-instance layer, saying why and what to do", async () => {
        const messages = (await run(group("plone_instances zeoserver celerybeat", "nfs"))).map((v) => v.message);
        expect(messages).to.have.length(2);
        expect(messages[0]).to.equal(
            "prod-app-auto-group carries zeoserver: it holds state (the ZEO server keeps the site's database (Data.fs) on its volume), which goes when the group stops an instance. Remove it from the group's layers in plone-aws:scaling and put it on a fixed host.",
        );
        expect(messages[1]).to.include("carries celerybeat: it runs on one host only (a second scheduler runs every periodic task twice)");
    });

    it("fires on local blobs, on a missing blobs or layer tag, and on an unknown layer", async () => {
        expect((await run(group("plone_instances", "local")))[0].message).to.include("keeps blobs on a local disk");
        expect((await run(group("plone_instances", undefined)))[0].message).to.include(`no ${BLOBS_TAG} tag`);
        expect((await run(group("plone_instances varnish", "efs")))[0].message).to.include("varnish is not a plone-aws layer");
        const untagged = await run({ minSize: 1, maxSize: 2, tags: [{ key: BLOBS_TAG, value: "efs", propagateAtLaunch: true }] });
        expect(untagged[0].message).to.include(`has no ${LAYER_TAG} tag`);
    });

    it("fires when max >= desired >= min does not hold", async () => {
        const messages = (await run(group("plone_instances", "efs", { minSize: 3, maxSize: 2, desiredCapacity: 5 }))).map((v) => v.message);
        expect(messages).to.deep.equal([
            "prod-app-auto-group: minSize 3 is above maxSize 2; max >= desired >= min.",
            "prod-app-auto-group: desiredCapacity 5 is above maxSize 2; max >= desired >= min.",
        ]);
        expect((await run(group("plone_instances", "efs", { minSize: 2, desiredCapacity: 1 })))[0].message).to.include("desiredCapacity 1 is below minSize 2");
    });
});

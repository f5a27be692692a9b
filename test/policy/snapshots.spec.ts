// Snapshot tagging and Data Lifecycle Manager: the tag on the volumes and the tag the DLM policy
// targets are one contract, checked from both ends.
import { expect } from "chai";
import { dlmCoversSnapshotTags, dlmCrossRegionCopy, dlmRetention, ebsVolumeSnapshotTag, snapshotsKept } from "../../policies/rules/snapshots";
import { SNAPSHOT_TAG, TYPES } from "../../policies/rules/common";
import { FakeStack, runResourcePolicy } from "../helpers/policyArgs";

function dlmPolicy(target: string, schedule: Record<string, unknown> = {}, state = "ENABLED"): Record<string, unknown> {
    return {
        state,
        executionRoleArn: "arn:aws:iam::123456789012:role/dlm",
        policyDetails: {
            policyType: "EBS_SNAPSHOT_MANAGEMENT",
            resourceTypes: ["VOLUME"],
            targetTags: { [SNAPSHOT_TAG]: target },
            schedules: [
                {
                    name: "daily 03:00 UTC, keep 15",
                    createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
                    retainRule: { count: 15 },
                    crossRegionCopyRules: [{ target: "eu-central-1", encrypted: true, retainRule: { interval: 30, intervalUnit: "DAYS" } }],
                    ...schedule,
                },
            ],
        },
    };
}

function volume(stack: FakeStack, name: string, snapshot?: string) {
    const tags: Record<string, string> = { Name: name, "plone-aws:stack": "prod", "plone-aws:layer": "shared_blobs" };
    if (snapshot) tags[SNAPSHOT_TAG] = snapshot;
    return stack.add(TYPES.volume, name, { size: 500, type: "gp3", encrypted: true, tags }, { parentType: "plone-aws:host:Host" });
}

describe("policy ebs-volume-snapshot-tag", () => {
    it("passes a data volume carrying the snapshot tag", async () => {
        expect(await runResourcePolicy(ebsVolumeSnapshotTag, TYPES.volume, { size: 20, tags: { [SNAPSHOT_TAG]: "prod" } })).to.deep.equal([]);
    });

    it("fires on a volume without it, naming the volume and the setting", async () => {
        const [v] = await runResourcePolicy(
            ebsVolumeSnapshotTag,
            TYPES.volume,
            { size: 20, tags: { Name: "prod-zeo-1-filestorage" } },
            { name: "prod-zeo-1-filestorage" },
        );
        expect(v.message).to.include(`prod-zeo-1-filestorage has no ${SNAPSHOT_TAG} tag, so no snapshot of it is ever taken`);
        expect(v.message).to.include("plone-aws:snapshots.tagValue");
    });
});

describe("policy dlm-covers-snapshot-tags", () => {
    it("passes when an enabled policy targets the value the volumes carry", async () => {
        const stack = new FakeStack();
        volume(stack, "prod-blobs-1-bricks", "prod");
        volume(stack, "prod-blobs-2-bricks", "prod");
        stack.add(TYPES.dlmPolicy, "prod-snapshots-policy", dlmPolicy("prod"));
        expect(await stack.run(dlmCoversSnapshotTags)).to.deep.equal([]);
    });

    it("fires when the policy targets another value (a clone that kept prod's tag value)", async () => {
        const stack = new FakeStack();
        const first = volume(stack, "staging-blobs-1-bricks", "staging");
        volume(stack, "staging-blobs-2-bricks", "staging");
        stack.add(TYPES.dlmPolicy, "staging-snapshots-policy", dlmPolicy("prod"));
        const violations = await stack.run(dlmCoversSnapshotTags);
        expect(violations).to.have.length(1);
        expect(violations[0].urn).to.equal(first.urn);
        expect(violations[0].message).to.include(
            `staging-blobs-1-bricks, staging-blobs-2-bricks carry ${SNAPSHOT_TAG}=staging, but no enabled snapshot policy of the stack targets that value`,
        );
        expect(violations[0].message).to.include(`staging-snapshots-policy targets ${SNAPSHOT_TAG}=prod`);
    });

    it("fires when the only policy is disabled, or there is none", async () => {
        const disabled = new FakeStack();
        volume(disabled, "dev-dev-1-filestorage", "dev");
        disabled.add(TYPES.dlmPolicy, "dev-snapshots-policy", dlmPolicy("dev", {}, "DISABLED"));
        expect((await disabled.run(dlmCoversSnapshotTags))[0].message).to.include("dev-snapshots-policy is disabled or does not snapshot volumes");

        const none = new FakeStack();
        volume(none, "dev-dev-1-filestorage", "dev");
        expect((await none.run(dlmCoversSnapshotTags))[0].message).to.include("the stack has no Data Lifecycle Manager policy");
    });
});

describe("policy dlm-retention", () => {
    it("passes 15 snapshots (the default minimum), and a retain interval long enough", async () => {
        expect(await runResourcePolicy(dlmRetention, TYPES.dlmPolicy, dlmPolicy("prod"))).to.deep.equal([]);
        expect(await runResourcePolicy(dlmRetention, TYPES.dlmPolicy, dlmPolicy("prod", { retainRule: { interval: 3, intervalUnit: "WEEKS" } }))).to.deep.equal(
            [],
        );
    });

    it("fires below the configured minimum, naming the schedule and the setting", async () => {
        const [v] = await runResourcePolicy(dlmRetention, TYPES.dlmPolicy, dlmPolicy("prod", { name: "daily, keep 7", retainRule: { count: 7 } }), {
            name: "prod-snapshots-policy",
        });
        expect(v.message).to.equal(
            'prod-snapshots-policy: schedule "daily, keep 7" keeps 7 snapshots per volume, fewer than the 15 this stack requires: set plone-aws:snapshots.retain to 15 or more.',
        );
        expect(
            await runResourcePolicy(dlmRetention, TYPES.dlmPolicy, dlmPolicy("prod", { retainRule: { count: 7 } }), { config: { minRetain: 7 } }),
        ).to.deep.equal([]);
    });

    it("counts snapshots of interval rules by how often the schedule runs", () => {
        expect(snapshotsKept({ name: "x", createRule: { interval: 12, intervalUnit: "HOURS" }, retainRule: { interval: 2, intervalUnit: "DAYS" } })).to.equal(
            4,
        );
        expect(snapshotsKept({ name: "x", createRule: { cronExpression: "cron(0 3 ? * * *)" }, retainRule: { interval: 2, intervalUnit: "WEEKS" } })).to.equal(
            14,
        );
    });
});

describe("policy dlm-cross-region-copy", () => {
    it("passes an encrypted copy to a second region", async () => {
        expect(await runResourcePolicy(dlmCrossRegionCopy, TYPES.dlmPolicy, dlmPolicy("prod"))).to.deep.equal([]);
    });

    it("fires without a copy, and on an unencrypted one", async () => {
        const [none] = await runResourcePolicy(dlmCrossRegionCopy, TYPES.dlmPolicy, dlmPolicy("dev", { crossRegionCopyRules: undefined }), {
            name: "dev-snapshots-policy",
        });
        expect(none.message).to.include("dev-snapshots-policy copies no snapshot to another region");
        expect(none.message).to.include("Set plone-aws:snapshots.crossRegionCopy.region");
        const [plain] = await runResourcePolicy(
            dlmCrossRegionCopy,
            TYPES.dlmPolicy,
            dlmPolicy("prod", { crossRegionCopyRules: [{ targetRegion: "eu-central-1", encrypted: false }] }),
            { name: "p" },
        );
        expect(plain.message).to.equal("p copies snapshots to eu-central-1 unencrypted: set encrypted: true on the copy rule.");
    });
});

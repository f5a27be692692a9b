// A second `pulumi up` after the changes operators make: the program runs under mocks before and
// after the change, and scripts/lib/plan/secondUp.ts says what the engine would create, update, replace
// or delete (the provider's replace decisions from scripts/lib/plan/replaceOnChanges.ts). No volume,
// database, bucket or file system is replaced or deleted unless a documented step says how.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { CapturedResource, OfflineRun, runOffline, addressPlan } from "../../scripts/lib/offline/run";
import { PlannedChange, secondUp, statefulLosses } from "../../scripts/lib/plan/secondUp";
import { REPLACE_ON_CHANGES } from "../../scripts/lib/plan/replaceOnChanges";
import { loadStack, validateStack } from "../../scripts/lib/offline/loadStack";
import { afterEdit, edited, Planned, planRepoStack, summary } from "../helpers/secondUp";
import { ALL_SECRETS, REPO } from "../helpers/stacks";
import { STORAGE_VARIANT_CONFIGS } from "../helpers/storageVariants";
import { parseStackText } from "../../scripts/lib/offline/stackFile";

/** A second, valid ed25519 key (ssh-keygen). */
const NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvkQPoy6QUHsZJxs2nNZC9QlAlPnqV+dqx1XKwGfOAn ops@plone-prod-2027";
const NEW_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAnew\n-----END OPENSSH PRIVATE KEY-----";
const OPERATIONS = fs.readFileSync(path.join(REPO, "docs/operations.md"), "utf8");

function ofType(changes: PlannedChange[], type: string): PlannedChange[] {
    return changes.filter((c) => c.type === type);
}

function changeOf(changes: PlannedChange[], type: string, name: string): PlannedChange {
    const found = changes.find((c) => c.type === type && c.name === name);
    if (!found) throw new Error(`no ${type} ${name}`);
    return found;
}

/**
 * The stateful resources a change replaces or deletes must be exactly the documented ones, each
 * refused by the engine until the runbook's step (the resources are protected in production).
 */
function expectStateful(changes: PlannedChange[], documented: { name: string; change: "replace" | "delete"; runbook: string }[] = []): void {
    const losses = statefulLosses(changes).map((c) => ({ name: c.name, change: c.change, blocked: c.blocked === true }));
    expect(losses, "stateful resources replaced or deleted").to.deep.equal(documented.map((d) => ({ name: d.name, change: d.change, blocked: true })));
    for (const d of documented) expect(OPERATIONS, `docs/operations.md: ${d.runbook}`).to.include(`## ${d.runbook}`);
}

const INSTANCE = "aws:ec2/instance:Instance";
const VOLUME = "aws:ebs/volume:Volume";
const COMMAND = "command:remote:Command";

describe("a second pulumi up", function () {
    let prod: Planned;
    /** prod with the load balancer explicit, so that it stays with one front end. */
    let prodAlb: Planned;

    before(async () => {
        prod = await planRepoStack("prod");
        const config = edited(prod.config, (section) => section("frontend", (f) => ({ ...f, frontDoor: "alb" })));
        const loaded = validateStack(config);
        prodAlb = { config: loaded.config, spec: loaded.spec!, run: await runOffline(loaded.config, { addresses: addressPlan(loaded.spec!) }) };
    });

    describe("the replace table", () => {
        let runs: OfflineRun[];
        before(async () => {
            const dev = await planRepoStack("dev");
            const variants: OfflineRun[] = [];
            for (const [name, config] of Object.entries(STORAGE_VARIANT_CONFIGS)) {
                const text = `config:\n${Object.entries(config())
                    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
                    .join("\n")}\n`;
                const loaded = validateStack(parseStackText(text, `Pulumi.${name.toLowerCase()}.yaml`, name.toLowerCase()));
                variants.push(await runOffline(loaded.config, { addresses: addressPlan(loaded.spec!) }));
            }
            // A scaled group (plone-aws:scaling) registers types no other stack does.
            const scaled = loadStack({ stackFile: path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaled.yaml") });
            const scaledRun = await runOffline({ ...scaled.config, raw: { ...scaled.config.raw, ...ALL_SECRETS } }, { addresses: addressPlan(scaled.spec!) });
            runs = [dev.run, prod.run, ...variants, scaledRun];
        });

        it("has an entry for every resource type the program registers, and none it does not", () => {
            const registered = new Set(runs.flatMap((r) => r.resources.filter((x) => x.custom).map((x) => x.type)));
            expect(
                [...registered].filter((t) => !(t in REPLACE_ON_CHANGES)),
                "types without an entry",
            ).to.deep.equal([]);
            expect(
                Object.keys(REPLACE_ON_CHANGES).filter((t) => !registered.has(t)),
                "entries no stack registers",
            ).to.deep.equal([]);
        });

        it("agrees with the SDKs where they say it: @pulumi/command's replaceOnChanges, @pulumi/aws's security group docs", () => {
            const sdk = fs.readFileSync(require.resolve("@pulumi/command/remote/command.js"), "utf8");
            expect(/replaceOnChanges: \["triggers\[\*\]"\]/.test(sdk)).to.equal(true);
            const command = prod.run.resources.find((r) => r.type === COMMAND)!;
            expect(command.options.replaceOnChanges).to.deep.equal(["triggers[*]"]);
            expect(REPLACE_ON_CHANGES[COMMAND].inputs).to.deep.equal(["triggers"]);
            const docs = fs.readFileSync(require.resolve("@pulumi/aws/ec2/securityGroup.d.ts"), "utf8");
            for (const input of ["name", "description", "namePrefix", "vpcId"]) {
                expect(docs).to.match(new RegExp(`\`${input}\``));
                expect(REPLACE_ON_CHANGES["aws:ec2/securityGroup:SecurityGroup"].inputs).to.include(input);
            }
        });

        /** The prod run with one registration changed, and what the engine would do about it. */
        function after(change: (r: CapturedResource) => void, type: string, name: string): PlannedChange[] {
            const copy = structuredClone(prod.run);
            change(copy.resources.find((r) => r.type === type && r.name === name)!);
            return secondUp(prod.run, copy);
        }

        it("classifies known cases the way the provider does", () => {
            const notSame = (changes: PlannedChange[]) => summary(changes);
            // A new public key replaces the key pair (ForceNew); the hosts ignore keyName, the bastion does not.
            expect(notSame(after((r) => (r.inputs.publicKey = NEW_KEY), "aws:ec2/keyPair:KeyPair", "prod-key"))).to.deep.equal([
                "replace prod-bastion-instance",
                "replace prod-key",
                "update prod-bastion-eip",
            ]);
            // instance_type is updated in place (stop, modify, start).
            expect(notSame(after((r) => (r.inputs.instanceType = "c6i.2xlarge"), INSTANCE, "prod-app-1-instance"))).to.deep.equal([
                "update prod-app-1-instance",
            ]);
            // A volume's zone forces a new volume, which the engine refuses in production; its size does not.
            const moved = after((r) => (r.inputs.availabilityZone = "eu-west-1c"), VOLUME, "prod-blobs-1-bricks");
            expect(changeOf(moved, VOLUME, "prod-blobs-1-bricks")).to.include({ change: "replace", blocked: true });
            expect(changeOf(moved, "aws:ec2/volumeAttachment:VolumeAttachment", "prod-blobs-1-bricks")).to.include({ change: "replace", deleteFirst: true });
            expect(notSame(after((r) => (r.inputs.size = 600), VOLUME, "prod-blobs-1-bricks"))).to.deep.equal(["update prod-blobs-1-bricks"]);
            // A new engine version is an update; a new parameter group family replaces the group.
            expect(notSame(after((r) => (r.inputs.engineVersion = "17"), "aws:rds/instance:Instance", "prod-db-instance"))).to.deep.equal([
                "update prod-db-instance",
            ]);
            expect(notSame(after((r) => (r.inputs.family = "postgres17"), "aws:rds/parameterGroup:ParameterGroup", "prod-db-params"))).to.deep.equal([
                "replace prod-db-params",
                "update prod-db-instance",
            ]);
            // A target group attachment is replaced when its target changes.
            expect(
                notSame(after((r) => (r.inputs.targetId = "i-0other"), "aws:lb/targetGroupAttachment:TargetGroupAttachment", "prod-front-door-web-1")),
            ).to.deep.equal(["replace prod-front-door-web-1"]);
            // A remote command runs again: replaced when its triggers change, updated when its script does.
            expect(notSame(after((r) => ((r.inputs.triggers as string[])[1] = "changed"), COMMAND, "prod-app-1-provision-setup"))).to.deep.equal([
                "replace prod-app-1-provision-setup",
            ]);
            expect(notSame(after((r) => (r.inputs.stdin = "echo changed"), COMMAND, "prod-app-1-provision-setup"))).to.deep.equal([
                "update prod-app-1-provision-setup",
            ]);
        });

        it("sees what the volumes' zone used to be taken from: an output unknown while the instance is replaced", () => {
            // Until this change the volume's availabilityZone was the instance's output: replacing
            // the instance made it unknown, and an unknown ForceNew input plans a replacement.
            const copy = structuredClone(prod.run);
            const instance = copy.resources.find((r) => r.name === "prod-blobs-1-instance")!;
            instance.inputs.subnetId = "subnet-other";
            const volume = copy.resources.find((r) => r.type === VOLUME && r.name === "prod-blobs-1-bricks")!;
            const now = secondUp(prod.run, copy);
            expect(changeOf(now, VOLUME, "prod-blobs-1-bricks").change).to.equal("same");
            volume.options.propertyDependencies.availabilityZone = [instance.urn];
            const before = secondUp(prod.run, copy);
            expect(changeOf(before, VOLUME, "prod-blobs-1-bricks")).to.include({ change: "replace", blocked: true });
        });
    });

    describe("after the changes operators make", () => {
        it("rotate the SSH key: first authorize the new key, then switch to it; no host is replaced", async () => {
            const authorize = await afterEdit(prod, (section) => section("access", (a) => ({ ...a, additionalPublicKeys: [NEW_KEY] })));
            expect(summary(authorize.changes, (c) => c.type !== COMMAND)).to.deep.equal([]);
            // Every host's configure step writes the accepted keys (setup installs the same file on a new host).
            expect(summary(ofType(authorize.changes, COMMAND), (c) => c.name.endsWith("-configure"))).to.have.length(7);
            expectStateful(authorize.changes);

            const switched = await afterEdit(authorize, (section, raw) => {
                section("access", (a) => ({ ...a, publicKey: NEW_KEY, additionalPublicKeys: [] }));
                raw["plone-aws:sshPrivateKey"] = NEW_PRIVATE_KEY;
            });
            expect(summary(switched.changes, (c) => c.type !== COMMAND)).to.deep.equal([
                "replace prod-bastion-instance",
                "replace prod-key",
                "update prod-bastion-eip",
            ]);
            expect(
                ofType(switched.changes, INSTANCE)
                    .filter((c) => c.change !== "same")
                    .map((c) => c.name),
            ).to.deep.equal(["prod-bastion-instance"]);
            // The new connection re-runs every step (updates), each finding nothing to change but the keys.
            const commands = ofType(switched.changes, COMMAND);
            expect(commands.every((c) => c.change === "update" || c.change === "replace")).to.equal(true);
            expect(commands.filter((c) => c.change === "update").every((c) => c.inputs.every((i) => i.startsWith("connection.")))).to.equal(true);
            expectStateful(switched.changes);
        });

        it("add a host: its resources are created, the front ends reconfigured, nothing else replaced", async () => {
            const added = await afterEdit(prod, (section) =>
                section("hosts", (h) => [...h, { name: "app-3", instanceType: "c6i.xlarge", az: 1, layers: ["plone_instances"] }]),
            );
            expect(summary(added.changes, (c) => c.change !== "create")).to.deep.equal([
                "replace prod-web-1-provision-configure",
                "replace prod-web-1-provision-setup",
                "replace prod-web-2-provision-configure",
                "replace prod-web-2-provision-setup",
            ]);
            expect(
                ofType(added.changes, INSTANCE)
                    .filter((c) => c.change === "create")
                    .map((c) => c.name),
            ).to.deep.equal(["prod-app-3-instance"]);
            expectStateful(added.changes);
        });

        it("remove web-1: only web-1's resources go; web-2 stays registered with the load balancer", async () => {
            const removed = await afterEdit(prodAlb, (section) => section("hosts", (h) => h.filter((x: { name: string }) => x.name !== "web-1")));
            expect(summary(removed.changes)).to.deep.equal([
                "delete prod-front-door-web-1",
                "delete prod-monitoring-web-1-disk",
                "delete prod-monitoring-web-1-memory",
                "delete prod-monitoring-web-1-status-check",
                "delete prod-web-1",
                "delete prod-web-1-instance",
                "delete prod-web-1-provision",
                "delete prod-web-1-provision-configure",
                "delete prod-web-1-provision-ready",
                "delete prod-web-1-provision-setup",
                "delete prod-web-1-recovery",
            ]);
            expect(changeOf(removed.changes, "aws:lb/targetGroupAttachment:TargetGroupAttachment", "prod-front-door-web-2").change).to.equal("same");
            expectStateful(removed.changes);
        });

        it("remove a host with data volumes: its volumes are protected and retained; the runbook snapshots and unprotects them first", async () => {
            const removed = await afterEdit(prod, (section) => section("hosts", (h) => h.filter((x: { name: string }) => x.name !== "blobs-2")));
            const volume = changeOf(removed.changes, VOLUME, "prod-blobs-2-bricks");
            expect(volume).to.include({ change: "delete", blocked: true, retained: true });
            expectStateful(removed.changes, [{ name: "prod-blobs-2-bricks", change: "delete", runbook: "Remove a host" }]);
            // In every tier a deleted volume is snapshotted first (dev and staging do delete it).
            const bricks = prod.run.resources.find((r) => r.type === VOLUME && r.name === "prod-blobs-2-bricks")!;
            expect(bricks.inputs.finalSnapshot).to.equal(true);
        });

        it("rename a host (with previousNames): its instance and volumes are kept, its alarms renamed", async () => {
            const renamed = await afterEdit(prod, (section) =>
                section("hosts", (h) => h.map((x: { name: string }) => (x.name === "blobs-2" ? { ...x, name: "gluster-2", previousNames: ["blobs-2"] } : x))),
            );
            expect(changeOf(renamed.changes, INSTANCE, "prod-gluster-2-instance")).to.include({
                change: "update",
                renamedFrom: prod.run.resources.find((r) => r.name === "prod-blobs-2-instance")!.urn,
            });
            expect(changeOf(renamed.changes, INSTANCE, "prod-gluster-2-instance").inputs).to.deep.equal(["rootBlockDevice.tags.Name", "tags.Name"]);
            expect(changeOf(renamed.changes, VOLUME, "prod-gluster-2-bricks")).to.include({ change: "update" });
            expect(changeOf(renamed.changes, "aws:ec2/volumeAttachment:VolumeAttachment", "prod-gluster-2-bricks").change).to.equal("same");
            expect(summary(renamed.changes, (c) => c.change === "create" || c.change === "delete")).to.deep.equal([
                "create prod-monitoring-gluster-2-disk",
                "create prod-monitoring-gluster-2-memory",
                "create prod-monitoring-gluster-2-status-check",
                "delete prod-monitoring-blobs-2-disk",
                "delete prod-monitoring-blobs-2-memory",
                "delete prod-monitoring-blobs-2-status-check",
            ]);
            expectStateful(renamed.changes);
        });

        it("move a host to another AZ: a host without data is replaced; one with data volumes needs them moved through snapshots", async () => {
            const app = await afterEdit(prod, (section) => section("hosts", (h) => h.map((x: { name: string }) => (x.name === "app-2" ? { ...x, az: 0 } : x))));
            expect(
                ofType(app.changes, INSTANCE)
                    .filter((c) => c.change !== "same")
                    .map((c) => `${c.change} ${c.name}`),
            ).to.deep.equal(["replace prod-app-2-instance"]);
            expectStateful(app.changes);

            const blobs = await afterEdit(prod, (section) =>
                section("hosts", (h) =>
                    h.map((x: { name: string }) => (x.name === "blobs-2" ? { ...x, az: 0, volumeSnapshots: { bricks: "snap-0123456789abcdef0" } } : x)),
                ),
            );
            expect(changeOf(blobs.changes, VOLUME, "prod-blobs-2-bricks").inputs).to.deep.equal(["availabilityZone", "snapshotId"]);
            expectStateful(blobs.changes, [{ name: "prod-blobs-2-bricks", change: "replace", runbook: "Move a host to another AZ" }]);
        });

        it("change access.via: the hosts move to other subnets and are replaced, their volumes stay and are detached first", async () => {
            const via = await afterEdit(prod, (section) => section("access", (a) => ({ ...a, via: "publicIp" })));
            const hosts = ofType(via.changes, INSTANCE);
            expect(
                hosts
                    .filter((c) => c.change === "replace")
                    .map((c) => c.name)
                    .sort(),
            ).to.have.length(7);
            expect(changeOf(via.changes, INSTANCE, "prod-bastion-instance").change).to.equal("delete");
            for (const v of ofType(via.changes, VOLUME)) expect(v.change, v.name).to.equal("same");
            for (const a of ofType(via.changes, "aws:ec2/volumeAttachment:VolumeAttachment"))
                expect(a, a.name).to.include({ change: "replace", deleteFirst: true });
            expectStateful(via.changes);
        });

        it("upgrade PostgreSQL: the instance is modified in place with a parameter group of the new family", async () => {
            const upgraded = await afterEdit(prod, (section) =>
                section("database", (d) => ({ ...d, engineVersion: "17", allowMajorVersionUpgrade: true, applyImmediately: true })),
            );
            // The dump host (app-1) follows with postgresql-client-17: pg_dump refuses a server newer than itself.
            expect(summary(upgraded.changes)).to.deep.equal([
                "replace prod-app-1-provision-configure",
                "replace prod-app-1-provision-setup",
                "replace prod-db-params",
                "update prod-db-instance",
            ]);
            expect(changeOf(upgraded.changes, "aws:rds/instance:Instance", "prod-db-instance").inputs.sort()).to.deep.equal([
                "allowMajorVersionUpgrade",
                "applyImmediately",
                "engineVersion",
                "parameterGroupName",
            ]);
            const db = upgraded.run.resources.find((r) => r.name === "prod-db-instance")!;
            const params = upgraded.run.resources.find((r) => r.name === "prod-db-params")!;
            expect(db.inputs).to.include({ allowMajorVersionUpgrade: true, applyImmediately: true });
            expect(params.inputs.family).to.equal("postgres17");
            expectStateful(upgraded.changes);
            // The final snapshot keeps its name: no replacement reuses one.
            expect(db.inputs.finalSnapshotIdentifier).to.equal(prod.run.resources.find((r) => r.name === "prod-db-instance")!.inputs.finalSnapshotIdentifier);
        });

        it("pin the availability zones of a stack that had none: nothing changes when the pins are the zones in use", async () => {
            const unpinned = await afterEdit(prod, (section) => section("network", (n) => ({ ...n, availabilityZones: undefined })));
            const pinned = secondUp(unpinned.run, prod.run);
            expect(summary(pinned)).to.deep.equal([]);
        });
    });
});

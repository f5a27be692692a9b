// The elastic app layer rehearsed (PLONE_AWS_REHEARSAL=1, root), on two stacks:
// test/fixtures/stacks/Pulumi.scaledev.yaml (one fixed host: front end, Zope clients, ZEO server;
// the scaled group app-auto of Zope clients; a buildout) and Pulumi.scaledev6.yaml (the same with
// Plone 6: a pip-built backend, and Volto on the fixed host and in the group). Each fixed host is
// provisioned on a test host, then, under constant load through the front door, an instance of the
// group started as the group starts one (a fresh test host in the group's subnet whose first boot
// runs the launch template's user data) and ended as a scale-in ends one (the termination
// lifecycle hook). The front end must find the instance's Zope clients and Volto processes through
// Cloud Map's SRV records and send them requests without a haproxy reload, and the scale-in must
// drop no request and leave the instance deregistered and gone.
// bench:scale runs the same on Pulumi.scaled.yaml (prod's hosts) and prints the figures.
//
// Stand-ins, each for what only AWS provides (scripts/lib/rehearsal/scaledStandins.ts): the
// group's launch (a test host, cloud-init's run of the user data), the metadata service, S3, SSM,
// Cloud Map and its DNS, Auto Scaling's lifecycle hook, and the aws CLI that calls them. Plone
// cannot be built here (no PyPI): the clients are the rehearsal's stand-in app (a buildout, or a
// pip project installed from the stand-in index), the Volto processes its stand-in SSR server.
import { expect } from "chai";
import * as path from "path";
import { LoadResult, settle, underLoad } from "../../scripts/lib/rehearsal/benchDeploy";
import { Rehearsal } from "../../scripts/lib/rehearsal";
import { planMismatches, plannedSteps } from "../../scripts/lib/rehearsal/planMatch";
import { HaproxyProcess, isFilledBy, reloadedFrontends, ScaledGroupRehearsal, ScaleOut } from "../../scripts/lib/rehearsal/scale";
import { backendPath, frontDoorGet, PASS_COOKIE, servesVolto } from "../../scripts/lib/rehearsal/smokeChecks";
import { REPO } from "../helpers/stacks";
import { REHEARSAL_CACHE, requireRehearsal, tearDownLeavingNothing } from "../helpers/rehearsal";

/** A stack the elastic app layer is rehearsed on, the slots its front end has for the group, the build caches its fixed host publishes. */
interface ScaledStack {
    file: string;
    what: string;
    slots: string[];
    caches: string[];
}

const STACKS: ScaledStack[] = [
    {
        file: path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaledev.yaml"),
        what: "a buildout, Zope clients",
        slots: ["app-auto-client1-1", "app-auto-client1-2", "app-auto-client2-1", "app-auto-client2-2"],
        caches: ["build-cache/plone.tar.gz"],
    },
    {
        file: path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaledev6.yaml"),
        what: "Plone 6: pip, Zope clients and Volto",
        slots: ["app-auto-client1-1", "app-auto-client1-2", "app-auto-client2-1", "app-auto-client2-2", "app-auto-volto1-1", "app-auto-volto1-2"],
        // The backend's (pip's cache) and, the group carrying Volto, the frontend's: its release, built.
        caches: ["build-cache/plone.tar.gz", "build-cache/plone-frontend.tar.gz"],
    },
];

const describeLoad = (l: LoadResult) =>
    `${l.requests} requests, ${l.failed} failed, p50 ${l.p50Ms.toFixed(1)}ms, p99 ${l.p99Ms.toFixed(1)}ms over ${l.durationSeconds.toFixed(1)}s`;

for (const stack of STACKS)
    describe(`rehearsal of a scaled group (${path.basename(stack.file)}: ${stack.what}): scale-out and scale-in under load`, function () {
        let rehearsal: Rehearsal;
        let scaled: ScaledGroupRehearsal;
        let instance: ScaleOut;
        let haproxyBefore: Record<string, HaproxyProcess>;
        const lines: string[] = [];

        before(async function () {
            requireRehearsal(this);
            rehearsal = await Rehearsal.start({ stackFile: stack.file, cacheDir: REHEARSAL_CACHE, print: (l) => lines.push(l) });
            await rehearsal.startHosts();
            scaled = await ScaledGroupRehearsal.start(rehearsal);
        });

        after(async function () {
            if (!rehearsal) return;
            await scaled?.stop();
            await tearDownLeavingNothing(rehearsal.hosts);
        });

        afterEach(function () {
            if (this.currentTest?.state === "failed") console.log(lines.slice(-30).join("\n"));
        });

        it("provisions the fixed host with the plan's steps, every smoke check green, the group's slots empty", async () => {
            const first = await rehearsal.provision();
            expect(first.ok, lines.slice(-20).join("\n")).to.equal(true);
            expect(planMismatches(plannedSteps(rehearsal.spec), first.results)).to.deep.equal([]);
            const smoke = await rehearsal.smoke();
            expect(smoke.filter((s) => !s.ok)).to.deep.equal([]);
            const slots = await scaled.slots();
            expect(Object.keys(slots)).to.deep.equal(["dev-1"]);
            expect(slots["dev-1"].map((s) => s.slot)).to.deep.equal(stack.slots);
            expect(slots["dev-1"].every((s) => s.status.startsWith("MAINT") && s.address === "")).to.equal(true);
            // The fixed app host published its build caches to the S3 stand-in after its build.
            expect(
                scaled.aws
                    .calls()
                    .filter((c) => c.call === "s3 put-object" && c.from === rehearsal.addresses["dev-1"])
                    .map((c) => c.params.key),
            ).to.deep.equal(stack.caches);
            haproxyBefore = await scaled.haproxyProcesses();
        });

        it("starts an instance as the group does, which the front end finds and sends requests to without a haproxy reload, dropping no request", async () => {
            await settle(rehearsal);
            const { load, value } = await underLoad(rehearsal, () => scaled.scaleOut((l) => lines.push(l)));
            instance = value;
            const group = scaled.group;
            // Its boot ran the launch template's user data: the bundle version it names, every secret
            // file, the build cache, the same steps as a fixed host, one registration per client and
            // Volto process.
            const log = await scaled.bootLog(instance.host);
            expect(log).to.contain(`plone-aws boot: instance ${instance.instanceId} (${instance.address}) of group ${group.name}`);
            expect(log).to.contain("plone-aws boot: unpacking the build cache");
            if (stack.caches.includes("build-cache/plone-frontend.tar.gz")) {
                // Build once, deploy many, for the frontend too: the fixed volto host's release, unpacked, is the instance's.
                expect(log).to.contain("plone-aws boot: unpacking the frontend's build cache");
                expect(log).to.contain("nothing to build for Volto");
                expect(log).to.not.contain("installing Node.js");
            }
            // It booted the group's baked image (bakedImage, the default): its setup found every package.
            expect(scaled.group.image, "the group has a baked image").to.not.equal(undefined);
            expect(log).to.not.contain("plone-setup: installing");
            // Its supervisord, not running in the image, started every client and Volto process at once
            // on the new release; the activation only waited for them (none restarted a second time, one by one).
            expect(log).to.contain("starting supervisord");
            expect(log).to.not.match(/(client|volto)\d+: restarting/);
            expect(log).to.match(/plone-aws boot: serving: boot took \d+s/);
            const fromInstance = scaled.aws.calls().filter((c) => c.from === instance.address);
            expect(fromInstance.find((c) => c.call === "s3 get-object")?.params).to.deep.include({ key: "groups/app-auto/bundle.sh" });
            expect(fromInstance.filter((c) => c.call === "ssm get-parameter").length).to.equal(Object.keys(scaled.aws.scaling.parameters).length);
            const registered = fromInstance.filter((c) => c.call === "servicediscovery register-instance").map((c) => c.params["service-id"]);
            expect(registered).to.deep.equal(group.services.map((s) => s.id));
            // The front end's slots hold its clients and Volto processes, UP, and the front door serves
            // pages from it: the backend's answers (below /++api++ on a Volto stack) and Volto's pages.
            const slots = (await scaled.slots())["dev-1"].filter((s) => s.address.startsWith(`${instance.address}:`));
            expect(slots.map((s) => `${s.address} ${s.status}`).sort()).to.deep.equal(group.services.map((s) => `${instance.address}:${s.port} UP`).sort());
            const requests = await scaled.requestsTo(instance.address);
            expect(requests["dev-1"], "requests haproxy sent the instance under load").to.be.above(0);
            const hostname = rehearsal.hosts.host(instance.host).hostname;
            /** The hosts that answered requests for `page` (by the stand-in's header), until the instance did, or 20 requests. */
            const servedBy = async (page: string, header: "x-standin" | "x-volto") => {
                const served = new Set<string>();
                for (let i = 0; i < 20 && !served.has(hostname); i++) {
                    const a = await frontDoorGet(rehearsal.hosts, rehearsal.addresses["dev-1"], rehearsal.spec, `${page}?${i}`, { cookie: PASS_COOKIE });
                    expect(a.status, `${page}?${i}`).to.equal(200);
                    served.add((a.headers[header] ?? "").split(" ")[0]);
                }
                return [...served];
            };
            expect(await servedBy(backendPath(rehearsal.spec, "/scaled"), "x-standin")).to.include(hostname);
            if (servesVolto(rehearsal.spec)) expect(await servedBy("/scaled", "x-volto")).to.include(hostname);
            expect(reloadedFrontends(haproxyBefore, await scaled.haproxyProcesses())).to.deep.equal([]);
            expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
            console.log(
                `      scale-out: boot to serving ${instance.servingSeconds.toFixed(1)}s (${instance.phases.map((p) => `${p.name} ${p.seconds}s`).join(", ")}); ` +
                    `${requests["dev-1"]} requests to it; under load: ${describeLoad(load)}`,
            );
        });

        it("ends the instance as a scale-in does: drained, deregistered, the lifecycle action completed, gone, without a failed request or a reload", async () => {
            expect(instance, "the scale-out ran").to.not.equal(undefined);
            const { load, value } = await underLoad(rehearsal, () => scaled.scaleIn(instance, (l) => lines.push(l)));
            // The instance completed the action itself, after deregistering every client.
            expect(value.result).to.equal("CONTINUE");
            expect(value.completedSeconds, "the instance completed the lifecycle action").to.be.a("number");
            const fromInstance = scaled.aws.calls().filter((c) => c.from === instance.address);
            const deregistered = fromInstance.filter((c) => c.call === "servicediscovery deregister-instance").map((c) => c.params["service-id"]);
            expect(deregistered).to.deep.equal(scaled.group.services.map((s) => s.id));
            expect(fromInstance[fromInstance.length - 1].call).to.equal("autoscaling complete-lifecycle-action");
            expect(value.deregisteredSeconds!).to.be.below(value.completedSeconds!);
            expect(Object.values(scaled.aws.registrations()).every((r) => !(instance.instanceId in r))).to.equal(true);
            // The front end emptied its slots before the instance went; the instance is gone.
            expect(value.slotsEmptySeconds!).to.be.at.most(value.completedSeconds! + 1);
            expect((await scaled.slots())["dev-1"].filter((s) => isFilledBy(s, instance.address))).to.deep.equal([]);
            expect(rehearsal.hosts.hosts.has(instance.host)).to.equal(false);
            expect((await rehearsal.hosts.inVpc(["ping", "-c", "1", "-W", "1", instance.address])).status).to.not.equal(0);
            expect(reloadedFrontends(haproxyBefore, await scaled.haproxyProcesses())).to.deep.equal([]);
            expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
            console.log(
                `      scale-in: notice to gone ${value.goneSeconds.toFixed(1)}s (drain ${value.drainStartedSeconds?.toFixed(1)}s, deregistered ${value.deregisteredSeconds?.toFixed(1)}s, ` +
                    `completed ${value.completedSeconds?.toFixed(1)}s); under load: ${describeLoad(load)}; haproxy pid ${haproxyBefore["dev-1"].pid} throughout`,
            );
        });
    });

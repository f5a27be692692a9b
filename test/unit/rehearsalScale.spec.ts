// The elastic app layer's rehearsal without hosts: what the AWS stand-in plays comes from the
// resources the program registers (the launch template's user data, the bundle object, the SSM
// parameters, the Cloud Map services, the lifecycle hook), and what bench:scale reads from haproxy
// and from an instance's boot log.
import { expect } from "chai";
import * as crypto from "crypto";
import * as path from "path";
import { addressPlan, runOffline } from "../../scripts/lib/offline/run";
import { loadStack } from "../../scripts/lib/offline/loadStack";
import { scalingStandinOf } from "../../scripts/lib/rehearsal/scaledStandins";
import { bootPhases, parseHaproxyInfo, parseTemplateSlots, reloadedFrontends } from "../../scripts/lib/rehearsal/scale";
import { loadRepoStack, REPO } from "../helpers/stacks";

const SCALED = path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaled.yaml");

describe("the rehearsal of a scaled group, without hosts", function () {
    describe("the AWS stand-in's world, from the program's resources", function () {
        const loaded = loadStack({ stackFile: SCALED });

        it("plays the group's launch template, bundle, secret files, Cloud Map services and termination hook as the program registers them", async () => {
            const run = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec!) });
            const scaling = scalingStandinOf(run, loaded.spec!)!;
            expect(scaling.groups.map((g) => g.name)).to.deep.equal(["scaled-app-auto"]);
            const [group] = scaling.groups;
            // The user data is the boot script, naming the bundle's exact version and hash.
            const [bundle] = scaling.objects;
            expect(bundle.key).to.equal("groups/app-auto/bundle.sh");
            expect(group.userData).to.match(/^#!\/bin\/bash\n# plone-aws: the boot of an instance of the scaled group scaled-app-auto/);
            expect(group.userData).to.contain(`BUNDLE_VERSION=${bundle.versionId}\n`);
            expect(group.userData).to.contain(`BUNDLE_SHA256=${crypto.createHash("sha256").update(bundle.content).digest("hex")}\n`);
            expect(group.userData).to.contain(`BUCKET=${scaling.bucket}\n`);
            // One service per client of an instance, each with the id the boot script registers in.
            expect(group.services.map((s) => s.process)).to.deep.equal(group.plan.discovery.map((d) => d.process));
            for (const s of group.services) expect(group.userData).to.match(new RegExp(`[( ]${s.id}:${s.kind}:${s.process}:${s.port}[ )]`));
            expect(group.services[0]).to.include({ srvName: "_app-auto-client1._tcp.scaled.plone-aws.internal", ttl: 10, port: 8081 });
            expect(scaling.resolver).to.deep.equal({ address: "10.40.0.2", port: 53 });
            // The bundle lists the secret files' parameters; each has its value (the run's secrets).
            expect(bundle.content).to.contain('base64 -d >"$dir/secret-files.list"');
            expect(Object.keys(scaling.parameters)).to.have.length.above(0);
            for (const [name, value] of Object.entries(scaling.parameters)) {
                expect(name).to.match(/^\/plone-aws\/scaled\/app-auto\/files\/[0-9a-f]{16}\/\d+$/);
                expect(value).to.match(/^[A-Za-z0-9+/]+=*$/);
            }
            expect(group.lifecycleHook).to.deep.equal({ name: "app-auto-drain", heartbeatTimeout: 300 + 120, defaultResult: "CONTINUE" });
        });

        it("plays nothing for a stack without a scaled group", async () => {
            const dev = loadRepoStack("dev");
            const run = await runOffline(dev.config, { addresses: addressPlan(dev.spec) });
            expect(scalingStandinOf(run, dev.spec)).to.equal(undefined);
        });
    });

    describe("what bench:scale reads", function () {
        const header = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,addr";
        const row = (sv: string, stot: number, status: string, addr: string, px = "plone") =>
            `${px},${sv},0,0,0,0,2,${stot},0,0,,0,,0,0,0,0,${status},1,1,${addr}`;

        it("takes a group's slots from show stat by its columns: status, address, requests, in the Zope and the Volto backend", () => {
            const stat = [
                header,
                row("dev-1-client1", 40, "UP", "10.30.0.10:8081"),
                row("app-auto-client1-1", 12, "UP", "10.30.0.100:8081"),
                row("app-auto-client1-2", 0, "MAINT (resolution)", ""),
                "plone,BACKEND,0,0,0,0,200,52,0,0,0,0,,0,0,0,0,UP,1,1,",
                row("app-auto-volto1-1", 7, "UP", "10.30.0.100:3001", "volto"),
                // Another backend's server of the same name (varnish's chain) is not a slot.
                row("app-auto-volto1-2", 3, "UP", "10.30.0.101:3001", "api_chain"),
            ].join("\n");
            expect(parseTemplateSlots(stat, ["app-auto-client1-", "app-auto-volto1-"])).to.deep.equal([
                { slot: "app-auto-client1-1", status: "UP", address: "10.30.0.100:8081", requests: 12 },
                { slot: "app-auto-client1-2", status: "MAINT (resolution)", address: "", requests: 0 },
                { slot: "app-auto-volto1-1", status: "UP", address: "10.30.0.100:3001", requests: 7 },
            ]);
        });

        it("tells a reload by haproxy's pid and start time", () => {
            const info = (pid: number, start: number, uptime: number) => `Name: HAProxy\nPid: ${pid}\nUptime_sec: ${uptime}\nStart_time_sec: ${start}\n`;
            const before = { "web-1": parseHaproxyInfo(info(300, 1796211828, 40)), "web-2": parseHaproxyInfo(info(310, 1796211829, 39)) };
            expect(before["web-1"]).to.deep.equal({ pid: "300", startTime: 1796211828, uptimeSeconds: 40 });
            const same = { "web-1": parseHaproxyInfo(info(300, 1796211828, 140)), "web-2": parseHaproxyInfo(info(310, 1796211829, 139)) };
            expect(reloadedFrontends(before, same)).to.deep.equal([]);
            const reloaded = { ...same, "web-2": parseHaproxyInfo(info(911, 1796211900, 2)) };
            expect(reloadedFrontends(before, reloaded)).to.deep.equal(["web-2"]);
            expect(() => parseHaproxyInfo("Name: HAProxy\n")).to.throw(/no Pid or Start_time_sec/);
        });

        it("splits a boot log into its phases", () => {
            const log = [
                "== plone-aws boot 2026-12-02T11:00:00Z",
                "11:00:00 plone-aws boot: instance i-0123 (10.30.0.100) of group scaledev-app-auto",
                "11:00:02 plone-aws boot: setup",
                "Reading package lists...",
                "11:00:40 plone-aws boot: configure",
                "11:00:44 plone-aws boot: unpacking the build cache s3://b/build-cache/plone.tar.gz",
                "11:00:45 plone-aws boot: build",
                "11:00:51 plone-aws boot: activate",
                "11:00:58 plone-aws boot: registered 10.30.0.100:8081 in id-1",
                "11:00:59 plone-aws boot: registered 10.30.0.100:8082 in id-2",
                "11:00:59 plone-aws boot: serving: boot took 59s",
            ].join("\n");
            expect(bootPhases(log)).to.deep.equal([
                { name: "metadata, bundle, secrets", seconds: 2 },
                { name: "setup", seconds: 38 },
                { name: "configure", seconds: 4 },
                { name: "build cache", seconds: 1 },
                { name: "build", seconds: 6 },
                { name: "activate", seconds: 7 },
                { name: "register", seconds: 1 },
            ]);
        });
    });
});

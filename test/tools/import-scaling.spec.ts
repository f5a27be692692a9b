// import-opsworks: OpsWorks' load- and time-based instances (auto_scaling_type load/timer in the
// instances file, with the output of describe-load-based-auto-scaling and
// describe-time-based-auto-scaling) become plone-aws:scaling, every key reported.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { importOpsWorks, ImportResult, Json } from "../../scripts/lib/opsworks/convert";
import { displayPath } from "../../scripts/lib/opsworks/conversion";
import { REPO } from "../helpers/stacks";
import { configOf } from "../helpers/stackTools";

const FIXTURES = path.join(REPO, "test", "fixtures", "opsworks");
const read = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as Json;
const INSTANCES = "instances/scaling-instances.json";

function convert(instances: Json = read(INSTANCES)): ImportResult {
    return importOpsWorks(read("production-relstorage.json"), {
        stack: "prod",
        jsonFile: "production-relstorage.json",
        instances: { json: instances, file: "scaling-instances.json" },
        publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPSWORKSIMPORTTESTKEY00000000000000000000000 ops",
        adminCidrs: ["203.0.113.0/28"],
        now: new Date("2026-01-15T12:00:00Z"),
    });
}

const lineAt = (r: ImportResult, at: string) => r.report.find((l) => l.path === at);

describe("import-opsworks: load- and time-based instances", () => {
    const r = convert();
    const config = () => configOf(r.text!);

    it("writes the scaled instances as one Auto Scaling group, and the others as fixed hosts", () => {
        expect(r.issues).to.deep.equal([]);
        const hosts = (config()["plone-aws:hosts"] as { name: string }[]).map((h) => h.name);
        expect(hosts).to.deep.equal(["lb1", "plone-app1", "plone-app2", "memcached1", "redis1", "gluster1", "gluster2"]);
        const scaling = config()["plone-aws:scaling"] as { groups: Record<string, unknown>[] };
        expect(scaling.groups).to.have.length(1);
        expect(scaling.groups[0]).to.deep.include({
            name: "app-auto",
            layers: ["plone_instances"],
            instanceTypes: ["c6i.xlarge", "m6i.xlarge"],
            min: 0,
            max: 4,
            desired: 0,
            targetCpu: { averageCpu: 55 },
            steps: [{ metric: "memory", scaleOutAbove: 85, scaleInBelow: 40, adjustment: 1, evaluationMinutes: 5 }],
            cooldowns: { scaleOut: 600, scaleIn: 600 },
        });
    });

    it("turns the weekly on-hours of the time-based instances into schedules in UTC, one per hour and size", () => {
        const group = (config()["plone-aws:scaling"] as { groups: { schedules: unknown[] }[] }).groups[0];
        expect(group.schedules).to.deep.equal([
            { name: "h08-mon-tue-wed-thu-fri-to-1", recurrence: "0 8 * * 1,2,3,4,5", timeZone: "UTC", min: 1, desired: 1 },
            { name: "h12-mon-wed-to-2", recurrence: "0 12 * * 1,3", timeZone: "UTC", min: 2, desired: 2 },
            { name: "h14-mon-wed-to-1", recurrence: "0 14 * * 1,3", timeZone: "UTC", min: 1, desired: 1 },
            { name: "h18-mon-tue-wed-thu-fri-to-0", recurrence: "0 18 * * 1,2,3,4,5", timeZone: "UTC", min: 0, desired: 0 },
        ]);
    });

    it("reports every instance's auto_scaling_type and what became of it", () => {
        expect(lineAt(r, "instances[3].auto_scaling_type")).to.deep.equal({
            path: "instances[3].auto_scaling_type",
            kind: "mapped",
            message: '"load" -> one of the 4 instances of plone-aws:scaling.groups[0] (app-auto): max 4',
        });
        expect(lineAt(r, "instances[7].auto_scaling_type")!.message).to.equal(
            '"load" -> not scaled: memcached1 stays a fixed host (a scaled group cannot carry memcached: it holds state (the Zope clients list each memcached server by address in deploy.cfg, and its cache goes with the instance), which goes when the group stops an instance)',
        );
    });

    it("reports every key of the two describe outputs: carried, off (-1), or why not", () => {
        const json = read(INSTANCES) as Record<string, Json>;
        const reported = r.report.map((l) => l.path);
        const leaves: string[] = [];
        const visit = (v: Json, parts: (string | number)[]) => {
            if (v && typeof v === "object") {
                const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
                for (const [k, x] of entries) visit(x, [...parts, k]);
                return;
            }
            leaves.push(displayPath(parts));
        };
        visit(json.load_based_auto_scaling, ["load_based_auto_scaling"]);
        visit(json.time_based_auto_scaling, ["time_based_auto_scaling"]);
        const unreported = leaves.filter((p) => !reported.some((q) => p === q || p.startsWith(`${q}.`) || p.startsWith(`${q}[`)));
        expect(unreported).to.deep.equal([]);
        expect(leaves.length).to.equal(79);
        expect(lineAt(r, "load_based_auto_scaling.LoadBasedAutoScalingConfigurations[0].UpScaling.LoadThreshold")).to.deep.include({
            kind: "dropped",
            message: "-1: the threshold was off in OpsWorks",
        });
        expect(lineAt(r, "load_based_auto_scaling.LoadBasedAutoScalingConfigurations[1]")!.message).to.include(
            "is frontend in layer_ids: only app hosts are scaled",
        );
        expect(lineAt(r, "time_based_auto_scaling.TimeBasedAutoScalingConfigurations[2]")!.message).to.include(
            "no time-based instance of the group has this instance_id",
        );
    });

    it("keeps one fixed app host when every app instance was load- or time-based: it builds the release the group downloads", () => {
        const json = read(INSTANCES) as { instances: Record<string, Json>[] };
        for (const inst of json.instances) {
            if (!(inst.hostname as string).startsWith("plone-app")) continue;
            inst.auto_scaling_type = "load";
            inst.layers = ["plone_instances"];
        }
        const all = convert(json as unknown as Json);
        expect(all.issues).to.deep.equal([]);
        const hosts = (configOf(all.text!)["plone-aws:hosts"] as { name: string }[]).map((h) => h.name);
        expect(hosts).to.include("plone-app1");
        expect(lineAt(all, "instances[1].auto_scaling_type")!.message).to.include(
            "not scaled: plone-app1 stays a fixed host (a stack keeps one fixed app host, which builds the release the scaled instances download)",
        );
    });

    it("refuses a malformed describe output, naming the file and key", () => {
        const json = read(INSTANCES) as Record<string, Json>;
        json.time_based_auto_scaling = { TimeBasedAutoScalingConfigurations: [{ InstanceId: "x", AutoScalingSchedule: { Monday: { "25": "on" } } }] };
        const bad = convert(json);
        expect(bad.text).to.equal(undefined);
        expect(bad.issues.map((i) => i.path)).to.include(
            'scaling-instances.json.time_based_auto_scaling.TimeBasedAutoScalingConfigurations[0].AutoScalingSchedule.Monday["25"]',
        );
    });
});

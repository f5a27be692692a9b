// plone-aws:scaling: the Auto Scaling groups of app hosts. Defaults, what a group may carry (the
// layer catalogue's holdsState and single-instance facts), sizes, schedules, instance types, load
// rules; and hostile values, each refused with the key it names.
import { expect } from "chai";
import { whyNotScaled } from "../../components/layers";
import { LAYERS } from "../../components/config/schema";
import { ALL_SECRETS, parseObjects } from "../helpers/stacks";

function config(group: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        "plone-aws:hosts": [
            { name: "web-1", instanceType: "t3.large", layers: ["frontend"] },
            { name: "data-1", instanceType: "t3.large", layers: ["zeoserver", "shared_blobs"] },
            { name: "app-1", instanceType: "c6i.large", layers: ["plone_instances"] },
        ],
        "plone-aws:app": { repository: "https://example.org/buildout.git" },
        "plone-aws:plone": { storage: "zeo", blobs: "nfs" },
        "plone-aws:frontend": { domain: "www.example.org" },
        "plone-aws:network": { azCount: 2, adminCidrs: ["198.51.100.7/32"], availabilityZones: ["eu-west-1a", "eu-west-1b"] },
        "plone-aws:access": { via: "bastion", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test" },
        ...(group ? { "plone-aws:scaling": { groups: [group] } } : {}),
        ...ALL_SECRETS,
        ...extra,
    };
}

const base = { name: "app-auto", instanceTypes: ["c6i.large"], min: 1, max: 4 };

/** The errors of a config, as "path: message" lines. */
function errorsOf(raw: Record<string, unknown>): string[] {
    return parseObjects(raw).errors.map((e) => `${e.path}: ${e.message}`);
}

describe("config: plone-aws:scaling", () => {
    it("no groups by default; a group's defaults: plone_instances, desired = min, grace 600 s, cooldowns 300/600 s, drain 300 s, a baked image", () => {
        expect(parseObjects(config(undefined)).spec!.scaling).to.deep.equal({ groups: [] });
        const { spec, errors } = parseObjects(config({ ...base, targetCpu: { averageCpu: 60 } }));
        expect(errors).to.deep.equal([]);
        expect(spec!.scaling.groups[0]).to.deep.equal({
            name: "app-auto",
            layers: ["plone_instances"],
            instanceTypes: ["c6i.large"],
            rootVolumeSize: 20,
            min: 1,
            max: 4,
            healthCheckGracePeriod: 600,
            schedules: [],
            targetCpu: { averageCpu: 60, disableScaleIn: false },
            steps: [],
            cooldowns: { scaleOut: 300, scaleIn: 600, warmup: 300 },
            drainTimeout: 300,
            bakedImage: true,
        });
    });

    it("accepts schedules in a time zone and step rules on memory and load", () => {
        const { errors, warnings } = parseObjects(
            config({
                ...base,
                schedules: [
                    { name: "office-hours", recurrence: "0 8 * * 1-5", timeZone: "Europe/Berlin", min: 2, desired: 3 },
                    { name: "night", recurrence: "0 20 * * *", timeZone: "Europe/Berlin", min: 1, desired: 1 },
                ],
                steps: [
                    { metric: "memory", scaleOutAbove: 80, scaleInBelow: 30 },
                    { metric: "load", scaleOutAbove: 4, scaleInBelow: 1, adjustment: 2, evaluationMinutes: 10 },
                ],
            }),
        );
        expect(errors).to.deep.equal([]);
        expect(warnings).to.deep.equal([]);
    });

    it("the catalogue says which layers a group may carry: plone_instances and volto of today's layers", () => {
        expect(LAYERS.filter((l) => whyNotScaled(l) === undefined)).to.deep.equal(["plone_instances", "volto"]);
        expect(whyNotScaled("zeoserver")).to.include("holds state");
        expect(whyNotScaled("celerybeat")).to.include("runs on one host only");
    });

    it("refuses a layer that holds state or runs once, naming the layer, why and what to do", () => {
        const errors = errorsOf(config({ ...base, layers: ["plone_instances", "zeoserver", "celerybeat"] }));
        expect(errors).to.include(
            "plone-aws:scaling.groups[0].layers: a scaled group cannot carry zeoserver: it holds state (the ZEO server keeps the site's database (Data.fs) on its volume), which goes when the group stops an instance. Put zeoserver on a host in plone-aws:hosts",
        );
        expect(errors.find((e) => e.includes("cannot carry celerybeat"))).to.include("a second scheduler runs every periodic task twice");
        expect(errorsOf(config({ ...base, layers: ["memcached"] }))).to.include(
            "plone-aws:scaling.groups[0].layers: a scaled group runs Zope clients or Volto processes: its layers must include plone_instances or volto",
        );
        expect(errorsOf(config({ ...base, layers: ["plone_instances", "frontend"] })).join("\n")).to.include("front ends are fixed hosts");
    });

    it("carries Volto beside a fixed volto host: Zope clients and Volto processes, or Volto processes alone", () => {
        const withVoltoHost = {
            "plone-aws:hosts": [
                { name: "web-1", instanceType: "t3.large", layers: ["frontend", "volto"] },
                { name: "data-1", instanceType: "t3.large", layers: ["zeoserver", "shared_blobs"] },
                { name: "app-1", instanceType: "c6i.large", layers: ["plone_instances"] },
            ],
        };
        for (const layers of [["plone_instances", "volto"], ["volto"]]) {
            const { spec, errors } = parseObjects(config({ ...base, layers }, withVoltoHost));
            expect(errors, layers.join(",")).to.deep.equal([]);
            expect(spec!.scaling.groups[0].layers).to.deep.equal(layers);
        }
        // Without a fixed volto host, nothing serves the pages while the group has no instance.
        expect(errorsOf(config({ ...base, layers: ["plone_instances", "volto"] }))).to.deep.equal([
            "plone-aws:scaling.groups[0].layers: a scaled group carries volto, and no host in plone-aws:hosts does: give a fixed host the volto layer too (it serves while the group has no instance)",
        ]);
        // The Volto process count comes from the vCPUs too, unless volto.processCount is set.
        expect(errorsOf(config({ ...base, layers: ["volto"], instanceTypes: ["c6i.large", "c6i.xlarge"] }, withVoltoHost))).to.deep.equal([
            "plone-aws:scaling.groups[0].instanceTypes: c6i.large, c6i.xlarge have different vCPU counts, so their instances would run different numbers of Volto processes from one artifact: pick types of one size, or set volto.processCount",
        ]);
        expect(
            errorsOf(
                config(
                    { ...base, layers: ["volto"], instanceTypes: ["c6i.large", "c6i.xlarge"] },
                    { ...withVoltoHost, "plone-aws:volto": { processCount: 2 } },
                ),
            ),
        ).to.deep.equal([]);
    });

    it("needs shared blobs: local blobs are refused on the group", () => {
        const raw = config(base, {
            "plone-aws:hosts": [{ name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] }],
            "plone-aws:plone": { storage: "zeo", blobs: "local" },
        });
        expect(errorsOf(raw).join("\n")).to.include("plone-aws:scaling.groups[0]: plone.blobs is local");
    });

    it("max >= desired >= min, for the group and for each schedule", () => {
        expect(errorsOf(config({ ...base, min: 5, max: 2 }))).to.include("plone-aws:scaling.groups[0].min: min (5) is above max (2): max >= desired >= min");
        expect(errorsOf(config({ ...base, desired: 9 }))).to.include(
            "plone-aws:scaling.groups[0].desired: desired (9) is above max (4): max >= desired >= min",
        );
        expect(errorsOf(config({ ...base, min: 2, desired: 1 }))).to.include(
            "plone-aws:scaling.groups[0].desired: desired (1) is below min (2): max >= desired >= min",
        );
        expect(errorsOf(config({ ...base, min: 0, max: 0 }))).to.include(
            "plone-aws:scaling.groups[0].max: max is 0, so the group never runs an instance: raise max or remove the group",
        );
        const schedules = [
            { name: "peak", recurrence: "0 8 * * *", desired: 6 },
            { name: "peak", recurrence: "0 9 * * *" },
        ];
        const errors = errorsOf(config({ ...base, schedules }));
        expect(errors).to.include("plone-aws:scaling.groups[0].schedules[0].desired: desired (6) is above max (4): max >= desired >= min");
        expect(errors).to.include('plone-aws:scaling.groups[0].schedules[1].name: "peak" is already the name of another schedule of this group');
        expect(errors).to.include("plone-aws:scaling.groups[0].schedules[1]: a schedule changes nothing without min, max or desired: set at least one");
    });

    it("instance types of one size and architecture, with a known vCPU count", () => {
        expect(errorsOf(config({ ...base, instanceTypes: ["c6i.large", "c6i.xlarge"] })).join("\n")).to.include(
            "plone-aws:scaling.groups[0].instanceTypes: c6i.large, c6i.xlarge have different vCPU counts",
        );
        expect(errorsOf(config({ ...base, instanceTypes: ["c6i.large", "c7g.large"] })).join("\n")).to.include(
            "a group boots one image, so pick one architecture",
        );
        expect(errorsOf(config({ ...base, instanceTypes: ["zz9.large"] }))).to.include(
            "plone-aws:scaling.groups[0].instanceTypes[0]: the vCPU count of zz9.large is not in plone-aws's table, so its client count cannot be derived: set scaling.groups[0].vcpus or plone.clientCount",
        );
        expect(errorsOf(config({ ...base, instanceTypes: ["zz9.large"], vcpus: 2 }))).to.deep.equal([]);
        expect(errorsOf(config({ ...base, instanceTypes: ["c6i.large", "m6i.large"] }))).to.deep.equal([]);
    });

    it("step rules: below under above, memory in percent and from the CloudWatch agent, one rule per metric", () => {
        const errors = errorsOf(
            config(
                {
                    ...base,
                    steps: [
                        { metric: "memory", scaleOutAbove: 150, scaleInBelow: 20 },
                        { metric: "load", scaleOutAbove: 2, scaleInBelow: 2 },
                        { metric: "load", scaleOutAbove: 3, scaleInBelow: 1 },
                    ],
                },
                { "plone-aws:monitoring": { cloudwatchAgent: false } },
            ),
        );
        expect(errors).to.include("plone-aws:scaling.groups[0].steps[0].scaleOutAbove: memory is in percent: use 1-100");
        expect(errors).to.include(
            "plone-aws:scaling.groups[0].steps[0].metric: memory comes from the CloudWatch agent, and monitoring.cloudwatchAgent is false: turn it on or use targetCpu",
        );
        expect(errors).to.include("plone-aws:scaling.groups[0].steps[1].scaleInBelow: scaleInBelow (2) must be below scaleOutAbove (2), or the group flaps");
        expect(errors).to.include("plone-aws:scaling.groups[0].steps: two step rules on load: keep one per metric");
    });

    it("a group's name is its own; a group nothing grows is a warning", () => {
        expect(errorsOf(config({ ...base, name: "app-1", targetCpu: { averageCpu: 50 } }))).to.include(
            'plone-aws:scaling.groups[0].name: "app-1" is already the name of hosts[2]: a scaled group needs a name of its own',
        );
        expect(parseObjects(config(base)).warnings.map((w) => `${w.path}: ${w.message}`)).to.include(
            "plone-aws:scaling.groups[0]: max (4) is above desired (1), but nothing ever grows the group: add targetCpu, steps or schedules",
        );
    });

    const HOSTILE: [string, Record<string, unknown>, string][] = [
        ["a name with shell syntax", { name: "app;reboot" }, "plone-aws:scaling.groups[0].name"],
        ["an instance type with a newline", { instanceTypes: ["c6i.large\nrm -rf /"] }, "plone-aws:scaling.groups[0].instanceTypes[0]"],
        ["a negative min", { min: -1 }, "plone-aws:scaling.groups[0].min"],
        ["a fractional max", { max: 2.5 }, "plone-aws:scaling.groups[0].max"],
        ["a huge max", { max: 1e9 }, "plone-aws:scaling.groups[0].max"],
        ["min as a string", { min: "1" }, "plone-aws:scaling.groups[0].min"],
        ["an unknown key", { spot: true }, "plone-aws:scaling.groups[0].spot"],
        [
            "a recurrence with a command",
            { schedules: [{ name: "x", recurrence: "$(reboot) * * * *", min: 1 }] },
            "plone-aws:scaling.groups[0].schedules[0].recurrence",
        ],
        [
            "a recurrence of six fields",
            { schedules: [{ name: "x", recurrence: "0 0 8 * * *", min: 1 }] },
            "plone-aws:scaling.groups[0].schedules[0].recurrence",
        ],
        [
            "an unknown time zone",
            { schedules: [{ name: "x", recurrence: "0 8 * * *", timeZone: "Mars/Olympus", min: 1 }] },
            "plone-aws:scaling.groups[0].schedules[0].timeZone",
        ],
        [
            "a time zone with a path",
            { schedules: [{ name: "x", recurrence: "0 8 * * *", timeZone: "../../etc/passwd", min: 1 }] },
            "plone-aws:scaling.groups[0].schedules[0].timeZone",
        ],
        ["a CPU target of 100", { targetCpu: { averageCpu: 100 } }, "plone-aws:scaling.groups[0].targetCpu.averageCpu"],
        ["a step on cpu", { steps: [{ metric: "cpu", scaleOutAbove: 80, scaleInBelow: 20 }] }, "plone-aws:scaling.groups[0].steps[0].metric"],
        ["a NaN threshold", { steps: [{ metric: "load", scaleOutAbove: Number.NaN, scaleInBelow: 1 }] }, "plone-aws:scaling.groups[0].steps[0].scaleOutAbove"],
        ["a drain timeout of 0", { drainTimeout: 0 }, "plone-aws:scaling.groups[0].drainTimeout"],
        ["a layer that does not exist", { layers: ["plone_instances", "varnish"] }, "plone-aws:scaling.groups[0].layers[1]"],
    ];
    for (const [what, override, path] of HOSTILE) {
        it(`refuses ${what}, naming ${path}`, () => {
            const errors = parseObjects(config({ ...base, ...override })).errors;
            expect(errors.map((e) => e.path)).to.include(path);
        });
    }
});

// The provisioning commands the program registers: their order, connections, secrets and triggers.
import { expect } from "chai";
import YAML from "yaml";
import * as fs from "fs";
import * as path from "path";
import { addressPlan, CapturedResource, isSecretValue, OfflineRun, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import { parseStackText } from "../../scripts/lib/offline/stackFile";
import { validateStack } from "../../scripts/lib/offline/loadStack";
import { RUN_AS_ROOT } from "../../components/aws/provisioner";
import { ALL_SECRETS, REPO } from "../helpers/stacks";

const COMMAND = "command:remote:Command";

/** Runs a stack file's text with every secret set to a recognisable value. */
async function runWithSecrets(text: string, stackName: string): Promise<OfflineRun> {
    const loaded = validateStack(parseStackText(text, `Pulumi.${stackName}.yaml`, stackName));
    if (!loaded.spec) throw new Error(JSON.stringify(loaded.errors));
    const raw = { ...loaded.config.raw, ...ALL_SECRETS };
    return runOffline({ stackName, raw, secretKeys: Object.keys(ALL_SECRETS) }, { addresses: addressPlan(loaded.spec) });
}

function repoStack(name: string): string {
    return fs.readFileSync(path.join(REPO, `Pulumi.${name}.yaml`), "utf8");
}

function commands(run: OfflineRun): Map<string, CapturedResource> {
    return new Map(run.resources.filter((r) => r.type === COMMAND).map((r) => [r.name, r]));
}

/** The contents of the files an install script carries (base64 heredocs). */
function installedFiles(script: string): string[] {
    return [...script.matchAll(/<<'(PLONE_AWS_EOF_*)'\n([\s\S]*?)\n\1\n/g)].map((m) => Buffer.from(m[2], "base64").toString("utf8"));
}

function inputs(r: CapturedResource): Record<string, any> {
    return unwrapSecrets(r.inputs) as Record<string, any>;
}

describe("provisioning under mocks", function () {
    let prod: OfflineRun;
    let dev: OfflineRun;
    before(async () => {
        prod = await runWithSecrets(repoStack("prod"), "prod");
        dev = await runWithSecrets(repoStack("dev"), "dev");
    });

    it("registers each host's steps in order, each after the one before it", () => {
        const cmds = commands(prod);
        for (const [host, steps] of Object.entries({
            "web-1": ["ready", "setup", "configure"],
            "app-1": ["ready", "setup", "configure", "build", "activate"],
        })) {
            let previous: CapturedResource | undefined;
            for (const step of steps) {
                const cmd = cmds.get(`prod-${host}-provision-${step}`);
                expect(cmd, `${host} ${step}`).to.not.equal(undefined);
                if (previous) expect(cmd!.options.dependencies, `${host} ${step}`).to.include(previous.urn);
                expect(cmd!.options.deletedWith).to.equal(prod.resources.find((r) => r.name === `prod-${host}-instance`)!.urn);
                previous = cmd;
            }
        }
        expect([...cmds.keys()].filter((n) => n.startsWith("prod-cache-1-"))).to.deep.equal([
            "prod-cache-1-provision-ready",
            "prod-cache-1-provision-setup",
            "prod-cache-1-provision-configure",
        ]);
    });

    it("orders hosts where it matters: blob servers first, the activations in restart waves after every build", () => {
        const cmds = commands(prod);
        const urn = (n: string) => cmds.get(`prod-${n}`)!.urn;
        const deps = (n: string) => cmds.get(`prod-${n}`)!.options.dependencies;
        expect(deps("blobs-1-provision-setup")).to.include(urn("blobs-2-provision-setup"));
        expect(deps("app-1-provision-setup")).to.include(urn("blobs-1-provision-setup"));
        expect(deps("app-2-provision-setup")).to.include(urn("blobs-1-provision-setup"));
        expect(deps("web-1-provision-setup")).to.not.include(urn("blobs-1-provision-setup"));
        // maxUnavailable "1 per host": prod's two app hosts activate side by side, each after both builds.
        for (const h of ["app-1", "app-2"]) {
            expect(deps(`${h}-provision-activate`)).to.include.members([urn("app-1-provision-build"), urn("app-2-provision-build")]);
        }
        expect(deps("app-2-provision-activate")).to.not.include(urn("app-1-provision-activate"));
        expect(deps("app-1-provision-activate")).to.not.include(urn("app-2-provision-activate"));
    });

    it("the activate steps' dependencies form the restart waves: each wave after every host of the one before", async () => {
        const hosts = Array.from({ length: 5 }, (_, i) => ({ name: `app-${i + 1}`, instanceType: "c6i.large", az: i % 2, layers: ["plone_instances"] }));
        const waves = async (maxUnavailable: number | string) => {
            const config = YAML.parse(repoStack("prod"));
            config.config["plone-aws:hosts"] = [...config.config["plone-aws:hosts"].filter((h: { name: string }) => !h.name.startsWith("app-")), ...hosts];
            config.config["plone-aws:hosts"].push({ name: "pack-1", instanceType: "c6i.large", az: 0, layers: ["db_packing", "plone_instances"] });
            config.config["plone-aws:plone"] = { ...config.config["plone-aws:plone"], maxUnavailable };
            const cmds = commands(await runWithSecrets(YAML.stringify(config), "prod"));
            const byUrn = new Map([...cmds.values()].map((c) => [c.urn, c.name.replace(/^prod-/, "")]));
            const activates = [...cmds.keys()].filter((n) => n.endsWith("-provision-activate")).map((n) => n.replace(/^prod-/, ""));
            // Which activations each activation waits for: its wave is one more than theirs.
            const wave = new Map<string, number>();
            const level = (n: string): number => {
                if (!wave.has(n)) {
                    const before = cmds
                        .get(`prod-${n}`)!
                        .options.dependencies.map((u: string) => byUrn.get(u)!)
                        .filter((d: string) => activates.includes(d));
                    wave.set(n, before.length ? 1 + Math.max(...before.map(level)) : 0);
                    // A later wave waits for every host of the wave before it.
                    if (before.length) expect(before.map(level).every((l) => l === wave.get(n)! - 1)).to.equal(true);
                }
                return wave.get(n)!;
            };
            const grouped: string[][] = [];
            for (const n of activates) (grouped[level(n)] ??= []).push(n.replace("-provision-activate", ""));
            // The first wave waits for every build (the later ones through it).
            for (const n of activates.filter((a) => wave.get(a) === 0))
                expect(
                    cmds.get(`prod-${n}`)!.options.dependencies.filter((u: string) => byUrn.get(u)?.endsWith("-provision-build")),
                    n,
                ).to.have.length(activates.length);
            return grouped.map((w) => w.sort().join(" "));
        };
        // 6 app hosts of 4 clients (c6i.large: 2 vCPUs x 2): 2 at once is 2 hosts a wave...
        expect(await waves(2)).to.deep.equal(["app-1 app-2", "app-3 app-4", "app-5 pack-1"]);
        // ...one per host is all six together, and 25% of 24 clients is 6 as well.
        expect(await waves("1 per host")).to.deep.equal(["app-1 app-2 app-3 app-4 app-5 pack-1"]);
        expect(await waves("25%")).to.deep.equal(["app-1 app-2 app-3 app-4 app-5 pack-1"]);
        expect(await waves(1)).to.deep.equal(["app-1", "app-2", "app-3", "app-4", "app-5", "pack-1"]);
    });

    it("waits for the host's volumes before anything runs on it", () => {
        const ready = commands(dev).get("dev-dev-1-provision-ready")!;
        const attachments = dev.resources.filter((r) => r.type === "aws:ec2/volumeAttachment:VolumeAttachment").map((r) => r.urn);
        expect(attachments).to.have.length(3);
        expect(ready.options.dependencies).to.include.members(attachments);
    });

    it("runs the scripts as root from stdin, logs nothing, and re-runs every step on a new instance", () => {
        for (const run of [prod, dev]) {
            for (const cmd of commands(run).values()) {
                const i = inputs(cmd);
                expect(i.logging, cmd.name).to.equal("none");
                if (!cmd.name.endsWith("-ready")) {
                    expect(i.create, cmd.name).to.equal(RUN_AS_ROOT);
                    expect(i.stdin, cmd.name).to.match(/^#!\/bin\/bash\n/);
                }
                const instance = run.resources.find(
                    (r) => r.type === "aws:ec2/instance:Instance" && cmd.name.startsWith(r.name.replace(/-instance$/, "-provision")),
                )!;
                expect(i.triggers[0], cmd.name).to.equal(instance.id);
            }
        }
    });

    it("keeps the secret values in the configure step's stdin, a Pulumi secret, and nowhere else", () => {
        const secrets = ["db-secret", "stats-secret", "-----BEGIN OPENSSH PRIVATE KEY-----\ndeploy"];
        for (const cmd of commands(prod).values()) {
            const stdin = cmd.inputs.stdin;
            if (cmd.name.endsWith("-configure")) {
                expect(isSecretValue(stdin), cmd.name).to.equal(true);
            } else if (stdin !== undefined) {
                expect(isSecretValue(stdin), cmd.name).to.equal(false);
                for (const s of secrets) expect(String(stdin), cmd.name).to.not.contain(s);
            }
            // Triggers are hashes of the scripts rendered with placeholders, never of the secrets.
            for (const t of inputs(cmd).triggers) for (const s of secrets) expect(String(t)).to.not.contain(s);
        }
        const app1 = inputs(commands(prod).get("prod-app-1-provision-configure")!).stdin as string;
        expect(installedFiles(app1).join("\n")).to.contain("db-secret");
        const web1 = inputs(commands(prod).get("prod-web-1-provision-configure")!).stdin as string;
        expect(web1).to.contain("stats-secret");
    });

    it("connects through the bastion in prod and to the Elastic IP in dev", () => {
        const ips = prod.outputs.hostPrivateIps as Record<string, string>;
        const app1 = inputs(commands(prod).get("prod-app-1-provision-setup")!).connection;
        expect(app1).to.deep.include({ host: ips["app-1"], user: "admin" });
        expect(app1.proxy.host).to.equal(prod.outputs.bastionAddress);
        expect(app1.privateKey).to.equal(ALL_SECRETS["plone-aws:sshPrivateKey"]);
        expect(isSecretValue(commands(prod).get("prod-app-1-provision-setup")!.inputs.connection)).to.equal(true);
        const dev1 = inputs(commands(dev).get("dev-dev-1-provision-setup")!).connection;
        expect(dev1.host).to.equal(dev.outputs.frontDoorAddress);
        expect(dev1.proxy).to.equal(undefined);
    });

    it("re-renders only the hosts a new app host concerns", async () => {
        const config = YAML.parse(repoStack("prod"));
        config.config["plone-aws:hosts"].push({ name: "app-3", instanceType: "c6i.xlarge", az: 0, layers: ["plone_instances"] });
        const grown = await runWithSecrets(YAML.stringify(config), "prod");
        const trigger = (run: OfflineRun, name: string) => inputs(commands(run).get(`prod-${name}`)!).triggers[1];
        const changed = [...commands(prod).keys()]
            .filter((n) => !n.endsWith("-ready"))
            .map((n) => n.replace(/^prod-/, ""))
            .filter((n) => trigger(prod, n) !== trigger(grown, n))
            .sort();
        // haproxy's servers and the purge ACL on the front ends, and nothing else: not the existing
        // app hosts, their builds, memcached or the GlusterFS peers (the security groups decide who mounts).
        expect(changed).to.deep.equal(["web-1-provision-configure", "web-2-provision-configure"]);
        // One client per app host: app-3 activates beside the other two, after every build.
        expect(commands(grown).get("prod-app-3-provision-activate")!.options.dependencies).to.include(commands(grown).get("prod-app-1-provision-build")!.urn);
    });

    it("exports the NFS blobs to a new app host: only the NFS server and the front ends change", async () => {
        const nfs = (apps: number) =>
            YAML.stringify({
                config: {
                    "aws:region": "eu-west-1",
                    "plone-aws:hosts": [
                        { name: "web-1", instanceType: "t3.small", layers: ["frontend"] },
                        { name: "zeo-1", instanceType: "t3.large", layers: ["zeoserver", "shared_blobs"] },
                        ...Array.from({ length: apps }, (_, i) => ({ name: `app-${i + 1}`, instanceType: "t3.large", layers: ["plone_instances"] })),
                    ],
                    "plone-aws:app": { repository: "https://example.org/buildout.git" },
                    "plone-aws:plone": { storage: "zeo", blobs: "nfs" },
                    "plone-aws:frontend": { domain: "www.example.org" },
                    "plone-aws:network": { azCount: 2, adminCidrs: ["198.51.100.0/28"] },
                    "plone-aws:access": { via: "bastion", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test" },
                },
            });
        const one = await runWithSecrets(nfs(1), "nfs");
        const two = await runWithSecrets(nfs(2), "nfs");
        const trigger = (run: OfflineRun, name: string) => inputs(commands(run).get(`nfs-${name}`)!).triggers[1];
        const changed = [...commands(one).keys()]
            .filter((n) => !n.endsWith("-ready"))
            .map((n) => n.replace(/^nfs-/, ""))
            .filter((n) => trigger(one, n) !== trigger(two, n))
            .sort();
        // The NFS server's setup applies the new exports; its configure installs the same script.
        expect(changed).to.deep.equal(["web-1-provision-configure", "zeo-1-provision-configure", "zeo-1-provision-setup"]);
        const exports =
            installedFiles(inputs(commands(two).get("nfs-zeo-1-provision-setup")!).stdin).join("\n") +
            inputs(commands(two).get("nfs-zeo-1-provision-setup")!).stdin;
        const ips = two.outputs.hostPrivateIps as Record<string, string>;
        expect(exports).to.contain(`${ips["app-2"]}/32`);
    });
});

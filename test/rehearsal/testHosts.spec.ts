// Test hosts for real (PLONE_AWS_REHEARSAL=1, root): two hosts on different subnets of the prod
// plan, each with its own network, hostname, root and processes, reached over SSH with the run key.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { plannedHostAddresses } from "../../scripts/lib/offline/run";
import { TestHostRun } from "../../scripts/lib/rehearsal/testHosts";
import { PULUMI_COMMAND_DIAL_ERROR_LIMIT } from "../../scripts/lib/rehearsal/dial";
import { sleep } from "../../scripts/lib/rehearsal/processes";
import { spawnSync } from "child_process";
import { loadRepoStack } from "../helpers/stacks";
import { REHEARSAL_CACHE, requireRehearsal } from "../helpers/rehearsal";

describe("rehearsal test hosts", function () {
    // The first run builds the base root with debootstrap.
    let run: TestHostRun;
    const timings: Record<string, number> = {};
    const logLines: string[] = [];
    const prod = plannedHostAddresses(loadRepoStack("prod").spec);

    before(async function () {
        requireRehearsal(this);
        const started = Date.now();
        const created = await TestHostRun.create({ vpcCidr: "10.40.0.0/16", region: "eu-west-1", cacheDir: REHEARSAL_CACHE, log: (l) => logLines.push(l) });
        run = created.run;
        timings.base = created.base.seconds;
        timings.vpc = run.timings.vpcSeconds;
        const hostsStarted = Date.now();
        // app-1 and app-2 are in the private subnets of two AZs (10.40.128.0/20, 10.40.144.0/20).
        await run.startHosts([
            {
                name: "app-1",
                address: prod["app-1"],
                volumes: [
                    { volumeId: "vol-0a1b2c3d4e5f60718", sizeGiB: 2 },
                    { volumeId: "vol-00000000000000001", sizeGiB: 1 },
                ],
            },
            { name: "app-2", address: prod["app-2"] },
        ]);
        timings.hosts = (Date.now() - hostsStarted) / 1000;
        timings.create = (Date.now() - started) / 1000;
    });

    after(async () => {
        if (!run) return;
        const { leftovers } = await run.teardown();
        console.log(
            `      timings: base ${timings.base.toFixed(1)}s (0 = cached), VPC+proxy ${timings.vpc.toFixed(1)}s, 2 hosts ${timings.hosts.toFixed(1)}s, teardown ${run.timings.teardownSeconds.toFixed(1)}s`,
        );
        expect(leftovers).to.deep.equal([]);
    });

    it("puts hosts of different plan subnets at their planned addresses, reaching each other through the VPC router", async () => {
        expect(prod["app-1"]).to.match(/^10\.40\.128\./);
        expect(prod["app-2"]).to.match(/^10\.40\.144\./);
        const r = await run.ssh(
            "app-1",
            `ip -4 -o addr show ens5; ip route; ping -c1 -W2 ${prod["app-2"]} >/dev/null && echo PING-OK; ` +
                `timeout 3 bash -c 'exec 3<>/dev/tcp/${prod["app-2"]}/22 && head -c 7 <&3'`,
        );
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.contain(`inet ${prod["app-1"]}/20`);
        expect(r.stdout).to.contain("default via 10.40.128.1 dev ens5");
        expect(r.stdout).to.contain("PING-OK");
        expect(r.stdout).to.contain("SSH-2.0");
        // Nothing beyond the VPC: no route out, and no resolver but /etc/hosts.
        const out = await run.ssh("app-1", "curl -sS -m 5 http://deb.debian.org/ 2>&1; getent hosts github.com || echo NO-DNS");
        expect(out.stdout).to.match(/Could not resolve host|NO-DNS/);
    });

    it("gives each host its own hostname, /etc/hosts entries and processes", async () => {
        const a = await run.ssh("app-1", "hostname; hostname -f; ps -e -o pid=,comm= | head -3");
        const b = await run.ssh("app-2", "hostname");
        expect(a.stdout.split("\n")[0]).to.equal(`ip-${prod["app-1"].replace(/\./g, "-")}`);
        expect(a.stdout.split("\n")[1]).to.equal(`ip-${prod["app-1"].replace(/\./g, "-")}.eu-west-1.compute.internal`);
        expect(b.stdout.trim()).to.equal(`ip-${prod["app-2"].replace(/\./g, "-")}`);
        // Its own PID namespace: PID 1 is the host's init, no process of the machine is visible.
        expect(a.stdout).to.match(/^\s*1 python3$/m);
        expect(a.stdout).to.not.contain("node");
    });

    it("gives each host its own root: a file written on one is on neither the other nor the machine", async () => {
        const marker = `/root/written-on-app-1-${run.runId}`;
        const w = await run.ssh("app-1", `sudo touch ${marker} && sudo ls ${marker}`);
        expect(w.status, w.stderr).to.equal(0);
        const other = await run.ssh("app-2", `sudo ls ${marker}`);
        expect(other.status).to.not.equal(0);
        expect(fs.existsSync(marker)).to.equal(false);
        // It is in app-1's overlay upper layer, and the shared base root is untouched.
        expect(fs.existsSync(path.join(run.host("app-1").dir, "upper", marker))).to.equal(true);
        expect(fs.existsSync(path.join(REHEARSAL_CACHE, "base-bookworm", marker))).to.equal(false);
    });

    it("accepts the run key for admin with passwordless sudo, and for root", async () => {
        const admin = await run.ssh("app-2", "id -un; sudo -n id -un; sudo -n -l | grep -c NOPASSWD");
        expect(admin.status, admin.stderr).to.equal(0);
        expect(admin.stdout.split("\n").slice(0, 3)).to.deep.equal(["admin", "root", "1"]);
        const root = await run.ssh("app-2", "id -un", { user: "root" });
        expect(root.stdout.trim()).to.equal("root");
        // Another key is refused.
        const other = path.join(run.runDir, "ssh", "other");
        const keygen = await run.inVpc(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other]);
        expect(keygen.status).to.equal(0);
        const refused = await run.inVpc([
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            other,
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            `admin@${prod["app-2"]}`,
            "true",
        ]);
        expect(refused.status).to.equal(255);
        expect(refused.stderr).to.contain("Permission denied");
    });

    it("offers what the host scripts rely on: /dev/fuse, /run on tmpfs, no systemd, read-only kernel sysctls", async () => {
        const r = await run.ssh(
            "app-1",
            "test -c /dev/fuse && echo FUSE; findmnt -n -o FSTYPE /run; test -d /run/systemd/system || echo NO-SYSTEMD; " +
                "sudo sysctl -w vm.swappiness=1 >/dev/null 2>&1 || echo VM-RO; sudo sysctl -w net.core.somaxconn=1024 >/dev/null && echo NET-RW; cloud-init status --wait",
        );
        expect(r.stdout.trim().split("\n")).to.deep.equal(["FUSE", "tmpfs", "NO-SYSTEMD", "VM-RO", "NET-RW", "status: done"]);
    });

    it("shows each EBS volume as a Nitro instance does: /dev/nvme<N>n1 and its by-id link, blank, of its size", async () => {
        const r = await run.ssh(
            "app-1",
            "for v in vol0a1b2c3d4e5f60718 vol00000000000000001; do d=$(readlink -f /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$v); " +
                'echo "$d $(sudo blockdev --getsize64 $d) $(sudo blkid -p $d >/dev/null 2>&1; echo $?)"; done; ls /dev/nvme* | wc -l',
            { timeoutMs: 20_000 },
        );
        expect(r.stdout.trim().split("\n"), r.stderr).to.deep.equal([`/dev/nvme1n1 ${2 * 1024 ** 3} 2`, `/dev/nvme2n1 ${1024 ** 3} 2`, "2"]);
        // The other host has none, and the machine's loop devices are the run's own image files.
        expect((await run.ssh("app-2", "ls /dev/disk 2>&1 || true")).stdout).to.contain("No such file");
        for (const v of run.host("app-1").volumes) expect(fs.statSync(v.image).blocks).to.be.below(64);
    });

    it("dials a host again while it does not answer, as pulumi-command does, and then runs the command once", async () => {
        const host = run.host("app-2");
        // The host's link goes down: the VPC router's ARP for it fails, ssh says "No route to host".
        expect(spawnSync("ip", ["-n", host.netns, "link", "set", "ens5", "down"]).status).to.equal(0);
        let settled = false;
        const answered = run.ssh("app-2", "echo ran >> /tmp/dial-test; cat /tmp/dial-test").finally(() => (settled = true));
        // Up again once the first dial has failed (waiting on that, not on a clock), or ssh gave up.
        while (!settled && !logLines.some((l) => l.startsWith("[app-2] ssh to") && l.includes("Dial 1/"))) await sleep(100);
        expect(spawnSync("ip", ["-n", host.netns, "link", "set", "ens5", "up"]).status).to.equal(0);
        expect(spawnSync("ip", ["-n", host.netns, "route", "replace", "default", "via", host.gateway]).status).to.equal(0);
        const r = await answered;
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.equal("ran\n");
        expect(logLines.find((l) => l.includes("Dial 1/"))).to.equal(
            `[app-2] ssh to ${prod["app-2"]}: Dial 1/${PULUMI_COMMAND_DIAL_ERROR_LIMIT} failed: retrying`,
        );
    });

    it("installs a package with apt-get, through the run's apt proxy", async () => {
        const started = Date.now();
        const r = await run.ssh(
            "app-2",
            "sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hello >/dev/null && hello",
            { timeoutMs: 5 * 60_000 },
        );
        console.log(`      apt-get update + install hello: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout.trim()).to.equal("Hello, world!");
        const proxyLog = fs.readFileSync(path.join(run.logsDir, "apt-proxy.log"), "utf8");
        expect(proxyLog).to.match(/(HIT|MISS) +200 http:\/\/deb\.debian\.org\/debian\/pool\/main\/h\/hello\//);
    });
});

// Teardown for real (PLONE_AWS_REHEARSAL=1, root): nothing of a run is left on the machine (no
// namespace, link, mount, process or loop device), also for what the scripts start and mount
// inside the hosts, and
// teardownStale() cleans up after a rehearsal that crashed without touching one still running.
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TestHostRun } from "../../scripts/lib/rehearsal/testHosts";
import { teardownStale } from "../../scripts/lib/rehearsal/runs";
import { REPO } from "../helpers/stacks";
import { REHEARSAL_CACHE, requireRehearsal, traces } from "../helpers/rehearsal";

const NOTHING = { netns: [], links: [], mounts: [], processes: [], loops: [], pidfileProcesses: [] };

/** PIDs (on the machine) of the processes whose environment holds a marker. */
function processesWithMarker(marker: string): number[] {
    return fs
        .readdirSync("/proc")
        .filter((e) => /^\d+$/.test(e))
        .map(Number)
        .filter((pid) => {
            try {
                return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(marker);
            } catch {
                return false;
            }
        });
}

function pidfilePids(run: { runDir: string; hosts: Map<string, { pidfile: string }> }): number[] {
    return [path.join(run.runDir, "vpc", "init.pid"), ...[...run.hosts.values()].map((h) => h.pidfile)].map((f) => Number(fs.readFileSync(f, "utf8")));
}

describe("rehearsal teardown", function () {
    before(function () {
        requireRehearsal(this);
    });

    it("removes the namespaces, links, mounts and every process of the run, daemons and mounts made inside the hosts too", async () => {
        const { run } = await TestHostRun.create({ vpcCidr: "10.20.0.0/16", region: "eu-west-1", cacheDir: REHEARSAL_CACHE });
        await run.startHosts([
            { name: "dev-1", address: "10.20.0.10", volumes: [{ volumeId: "vol-0123456789abcdef0", sizeGiB: 1 }] },
            { name: "dev-2", address: "10.20.128.10" },
        ]);
        const marker = `PLONE_AWS_TEST_DAEMON=${run.runId}`;
        // A daemon the way init.d scripts start them (detached, reparented to the host's PID 1), a
        // mount, and a file system on the EBS volume (a loop device), mounted.
        const r = await run.ssh(
            "dev-1",
            `sudo env ${marker} setsid sleep 3600 </dev/null >/dev/null 2>&1 & sudo mount -t tmpfs scratch /mnt && findmnt -n /mnt >/dev/null && echo MOUNTED; ` +
                "sudo mkfs.ext4 -q /dev/nvme1n1 && sudo mkdir -p /data && sudo mount /dev/nvme1n1 /data && echo data | sudo tee /data/file >/dev/null && echo VOLUME-MOUNTED",
        );
        expect(r.stdout).to.contain("MOUNTED");
        expect(r.stdout).to.contain("VOLUME-MOUNTED");
        await new Promise((res) => setTimeout(res, 300));
        const daemon = processesWithMarker(marker);
        expect(daemon).to.have.length(1);
        const pids = pidfilePids(run);
        const before = traces(run.runId, run.runDir, pids);
        expect(before.netns).to.have.members([`${run.runId}-vpc`, `${run.runId}-h-dev-1`, `${run.runId}-h-dev-2`]);
        expect(before.pidfileProcesses).to.have.length(3);
        // The machine sees no link of the run at any time: the veths and bridges live in its namespaces.
        expect(before.links).to.deep.equal([]);
        expect(before.loops).to.deep.equal([run.host("dev-1").volumes[0].loop]);

        const { leftovers } = await run.teardown();
        expect(leftovers).to.deep.equal([]);
        expect(traces(run.runId, run.runDir, [...pids, ...daemon])).to.deep.equal(NOTHING);
        expect(processesWithMarker(marker)).to.deep.equal([]);
        // The overlays are gone, the logs stay.
        expect(fs.readdirSync(run.runDir)).to.deep.equal(["logs"]);
        console.log(`      teardown of 2 hosts: ${run.timings.teardownSeconds.toFixed(1)}s`);
    });

    it("cleans up after a rehearsal that crashed, and leaves a running one alone", async () => {
        // A rehearsal process that dies without tearing down (SIGKILL: no handler can run).
        const script = `
            const { TestHostRun } = require(${JSON.stringify(path.join(REPO, "scripts/lib/rehearsal/testHosts"))});
            TestHostRun.create({ vpcCidr: "10.20.0.0/16", region: "eu-west-1", cacheDir: ${JSON.stringify(REHEARSAL_CACHE)} })
                .then(async ({ run }) => { await run.startHosts([{ name: "dev-1", address: "10.20.0.10", volumes: [{ volumeId: "vol-0123456789abcdef0", sizeGiB: 1 }] }]); console.log(JSON.stringify({ runId: run.runId, runDir: run.runDir })); setInterval(() => {}, 1000); })
                .catch((e) => { console.error(e); process.exit(1); });`;
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
        const crashed = await new Promise<{ runId: string; runDir: string }>((resolve, reject) => {
            let out = "";
            child.stdout.on("data", (d: Buffer) => {
                out += d.toString();
                if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]) as { runId: string; runDir: string });
            });
            child.on("exit", (code) => reject(new Error(`the crashing rehearsal exited early (${code})`)));
        });
        const pids = [path.join(crashed.runDir, "vpc", "init.pid"), path.join(crashed.runDir, "hosts", "dev-1", "init.pid")].map((f) =>
            Number(fs.readFileSync(f, "utf8")),
        );
        child.kill("SIGKILL");
        await new Promise((res) => child.once("exit", res));
        const left = traces(crashed.runId, crashed.runDir, pids);
        expect(left.netns).to.have.length(2);
        expect(left.pidfileProcesses).to.have.length(2);
        expect(left.loops).to.have.length(1);

        // A run of this process is alive: teardownStale must not touch it.
        const { run: live } = await TestHostRun.create({ vpcCidr: "10.20.0.0/16", region: "eu-west-1", cacheDir: REHEARSAL_CACHE });
        try {
            await live.startHosts([{ name: "dev-1", address: "10.20.0.10" }]);
            const report = await teardownStale({ cacheDir: REHEARSAL_CACHE });
            expect(report.removed).to.include(crashed.runId);
            expect(report.removed).to.not.include(live.runId);
            expect(report.skipped).to.deep.include({ runId: live.runId, reason: `its rehearsal (pid ${process.pid}) is still running` });
            expect(report.leftovers).to.deep.equal([]);
            expect(traces(crashed.runId, crashed.runDir, pids)).to.deep.equal(NOTHING);
            expect((await live.ssh("dev-1", "hostname")).stdout.trim()).to.equal("ip-10-20-0-10");
        } finally {
            expect((await live.teardown()).leftovers).to.deep.equal([]);
        }
    });
});

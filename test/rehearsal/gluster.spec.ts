// What the Gluster smoke check will stand on (PLONE_AWS_REHEARSAL=1, root): a replicated GlusterFS
// volume between two test hosts of different AZ subnets, bricks on their overlay roots, mounted
// over FUSE on an app host; and teardown with that FUSE mount live still leaves nothing behind.
import { expect } from "chai";
import * as fs from "fs";
import { plannedHostAddresses } from "../../scripts/lib/offline/run";
import { TestHostRun } from "../../scripts/lib/rehearsal/testHosts";
import { loadRepoStack } from "../helpers/stacks";
import { shippedLogs } from "../../components/render/monitoring/cloudwatchAgent";
import { buildTopology } from "../../components/topology";
import { REHEARSAL_CACHE, requireRehearsal, traces } from "../helpers/rehearsal";

describe("GlusterFS between rehearsal test hosts", function () {
    const prod = plannedHostAddresses(loadRepoStack("prod").spec);

    before(function () {
        requireRehearsal(this);
    });

    it("replicates a file written through a FUSE mount on an app host into the bricks of both peers", async () => {
        const { run } = await TestHostRun.create({ vpcCidr: "10.40.0.0/16", region: "eu-west-1", cacheDir: REHEARSAL_CACHE });
        let pids: number[] = [];
        try {
            await run.startHosts(["blobs-1", "blobs-2", "app-1"].map((name) => ({ name, address: prod[name] })));
            pids = [...run.hosts.values()].map((h) => Number(fs.readFileSync(h.pidfile, "utf8")));
            const install = (host: string, pkg: string) =>
                run.ssh(host, `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkg} >/dev/null`, {
                    user: "root",
                    timeoutMs: 8 * 60_000,
                });
            const installed = await Promise.all([
                install("blobs-1", "glusterfs-server"),
                install("blobs-2", "glusterfs-server"),
                install("app-1", "glusterfs-client"),
            ]);
            for (const r of installed) expect(r.status, r.stderr).to.equal(0);
            const root = (host: string, script: string) => run.ssh(host, "bash -euo pipefail -s", { user: "root", input: script, timeoutMs: 120_000 });
            // Debian's glusterfs-server has a systemd unit only: without systemd, nothing starts glusterd.
            for (const host of ["blobs-1", "blobs-2"]) {
                const r = await root(host, "mkdir -p /srv/gluster-exports/brick\npgrep -x glusterd >/dev/null || glusterd -p /run/glusterd.pid\n");
                expect(r.status, r.stderr).to.equal(0);
            }
            const volume = await root(
                "blobs-1",
                [
                    `gluster peer probe ${prod["blobs-2"]}`,
                    `for _ in $(seq 50); do gluster peer status | grep -q 'Peer in Cluster (Connected)' && break; sleep 0.2; done`,
                    `gluster volume create blobs replica 2 ${prod["blobs-1"]}:/srv/gluster-exports/brick ${prod["blobs-2"]}:/srv/gluster-exports/brick force --mode=script`,
                    "gluster volume start blobs --mode=script",
                ].join("\n"),
            );
            expect(volume.status, volume.stdout + volume.stderr).to.equal(0);
            const write = await root(
                "app-1",
                `mkdir -p /srv/shared-blobs\nmount -t glusterfs ${prod["blobs-1"]}:/blobs /srv/shared-blobs\necho "written on app-1" > /srv/shared-blobs/blob.txt\nfindmnt -n -o FSTYPE /srv/shared-blobs\n`,
            );
            expect(write.stdout.trim(), write.stderr).to.equal("fuse.glusterfs");
            for (const host of ["blobs-1", "blobs-2"]) {
                const r = await root(host, "cat /srv/gluster-exports/brick/blob.txt");
                expect(r.stdout.trim(), `${host}: ${r.stderr}`).to.equal("written on app-1");
            }
            // The GlusterFS logs the CloudWatch agent ships are the files GlusterFS really writes.
            const { spec } = loadRepoStack("prod");
            const topology = buildTopology(spec);
            for (const host of ["blobs-1", "app-1"]) {
                const plan = topology.hosts.find((h) => h.name === host)!;
                const files = shippedLogs({ spec, topology }, plan)
                    .filter((l) => l.kind === "glusterfs")
                    .map((l) => l.path);
                expect(files, host).to.have.length.greaterThan(0);
                const r = await root(host, files.map((f) => `test -s ${f} || echo "missing ${f}"`).join("\n") + "\n");
                expect(r.stdout, `${host}: ${r.stderr}`).to.equal("");
            }
        } finally {
            const { leftovers } = await run.teardown();
            expect(leftovers).to.deep.equal([]);
            const left = traces(run.runId, run.runDir, pids);
            expect(left).to.deep.equal({ netns: [], links: [], mounts: [], processes: [], loops: [], pidfileProcesses: [] });
            console.log(`      teardown with a live GlusterFS mount: ${run.timings.teardownSeconds.toFixed(1)}s`);
        }
    });
});

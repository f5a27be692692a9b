// The rehearsal's judgements without hosts: the second run (daemons, the steps' sayings), the
// volumes the program attaches, the front door's answers, and bench:deploy's wrk results.
import { expect } from "chai";
import { formatBenchTable, parseWrkOutput, wrkScript } from "../../scripts/lib/rehearsal/benchDeploy";
import { daemonChanges, daemonsOf, releaseTreesOf, secondRunProblems } from "../../scripts/lib/rehearsal/idempotence";
import { addressPlan, plannedHostAddresses, runOffline } from "../../scripts/lib/offline/run";
import { plannedVolumes, RunnerResult, StepResult } from "../../scripts/lib/rehearsal/runner";
import { parseCurlOutput } from "../../scripts/lib/rehearsal/smokeChecks";
import { loadRepoStack } from "../helpers/stacks";
import { run } from "../helpers/system";

/** A test host's process listing: `<pid> <start time> <command line>`. */
const LISTING = [
    "1 100 /usr/bin/python3 -c import os, time ...",
    "61 120 /usr/sbin/sshd",
    "1844 2000 /usr/bin/python3 /usr/bin/supervisord -c /etc/supervisor/supervisord.conf",
    "2001 2100 nginx: master process /usr/sbin/nginx",
    "3419 3000 nginx: worker process",
    "3125 2900 /usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg -p /var/run/haproxy.pid -sf 2249 -D",
    "3160 2950 /usr/sbin/varnishd -P /run/varnishd.pid -j unix,user=vcache -a 127.0.0.1:6081",
    "3174 2960 varnishd -P /run/varnishd.pid -j unix,user=vcache -a 127.0.0.1:6081",
    "3697 3500 /srv/www/plone/shared/env/bin/python /srv/www/plone/releases/20261122044838/standin/app.py 8081 client1 /srv/www/plone/releases/20261122044838",
    "3709 3510 /usr/bin/python3 /usr/local/sbin/plone-haproxy-agent --port 8999",
    "4100 3600 /usr/sbin/glusterfs --process-name fuse --volfile-server=10.40.128.13 --volfile-id=/blobs /srv/shared-blobs",
    "4604 5000 sshd: root@notty",
    "4622 5001 ps aux",
].join("\n");

const result = (host: string, step: string, output: string[], status: StepResult["status"] = "ok"): StepResult => ({
    urn: `${host}/${step}`,
    host,
    step,
    status,
    output,
});

describe("the rehearsal's checks (no hosts)", () => {
    it("names the stack's daemons in a process listing and nothing else", () => {
        expect(daemonsOf(LISTING).map((d) => `${d.label} ${d.pid}`)).to.deep.equal([
            "client1 (supervisor program) 3697",
            "glusterfs mount /srv/shared-blobs 4100",
            "haproxy 3125",
            "nginx master 2001",
            "nginx worker 3419",
            "plone-haproxy-agent 3709",
            "supervisord 1844",
            "varnishd (cache) 3174",
            "varnishd (manager) 3160",
        ]);
    });

    it("reports a daemon restarted even when its PID was reused, started or stopped", () => {
        const before = { "web-1": daemonsOf(LISTING) };
        expect(daemonChanges(before, { "web-1": daemonsOf(LISTING) })).to.deep.equal([]);
        const after =
            LISTING.replace("3125 2900 /usr/sbin/haproxy", "3125 9999 /usr/sbin/haproxy")
                .replace(/^3697 .*$/m, "")
                .replace("3419 3000 nginx: worker", "5000 6000 nginx: worker") + "\n5100 7000 /usr/sbin/glusterd -p /run/glusterd.pid";
        expect(daemonChanges(before, { "web-1": daemonsOf(after) })).to.deep.equal([
            "web-1: client1 (supervisor program) stopped (PID 3697 -> none)",
            "web-1: glusterd started (PID none -> 5100)",
            "web-1: haproxy restarted (PID 3125 -> 3125)",
            "web-1: nginx worker restarted (PID 3419 -> 5000)",
        ]);
    });

    it("accepts a second run whose steps say they changed nothing, and names every step that did", () => {
        const quiet: RunnerResult = {
            ok: true,
            seconds: 3,
            notes: [],
            results: [
                result("app-1", "ready", ["ready"]),
                result("app-1", "setup", [
                    "== plone-aws setup",
                    "plone-setup: no change",
                    "plone-volumes: no change",
                    "plone-blob-server: WARNING: peer x is down",
                    "plone-blobs: no change",
                ]),
                result("app-1", "configure", ["plone-aws: configuration unchanged"]),
                result("app-1", "build", [
                    "04:48:48 plone-deploy: fetching git://10.20.0.1/buildout",
                    "04:48:48 plone-deploy: nothing to deploy: releases/20261122044838 (commit 547930bfbb53) already has main",
                ]),
                result("app-1", "activate", ["04:48:49 plone-deploy: releases/20261122044838 (commit 547930bfbb53) is already active"]),
            ],
        };
        expect(secondRunProblems(quiet)).to.deep.equal([]);
        const busy: RunnerResult = {
            ...quiet,
            results: [
                result("blobs-1", "setup", ["plone-blob-server: /srv/gluster-exports/brick: owner root:root, mode 0755 (was plone:plone 700)"]),
                result("web-1", "configure", ["plone-aws: changed /etc/haproxy/haproxy.cfg", "plone-aws: reloading haproxy", "plone-aws: 1 file(s) changed"]),
                result("app-1", "build", ["plone-deploy: built releases/20261122050000 (commit 1234567890ab)"]),
                result("app-2", "activate", [], "failed"),
            ],
        };
        expect(secondRunProblems(busy)).to.deep.equal([
            "blobs-1/setup: plone-blob-server: /srv/gluster-exports/brick: owner root:root, mode 0755 (was plone:plone 700)",
            "web-1/configure does not say plone-aws: configuration unchanged",
            "web-1/configure: plone-aws: changed /etc/haproxy/haproxy.cfg",
            "web-1/configure: plone-aws: reloading haproxy",
            "app-1/build does not say plone-deploy: nothing to deploy: ",
            "app-2/activate failed",
        ]);
    });

    it("asks a second run on a volto host to say that Volto's release is unchanged too, and a volto-only host only that", () => {
        const treesOf = releaseTreesOf({ buildHosts: ["app-1"], voltoHosts: ["app-1", "volto-1"] });
        expect(["app-1", "volto-1", "web-1"].map(treesOf)).to.deep.equal([["backend", "frontend"], ["frontend"], []]);
        const backendBuild = "04:48:48 plone-deploy: nothing to deploy: releases/20261122044838 (commit 547930bfbb53) already has main";
        const voltoBuild =
            "04:48:49 plone-deploy: nothing to build for Volto: frontend/releases/20261122044839 (commit 547930bfbb53) already has frontend of main";
        const backendActive = "04:48:50 plone-deploy: releases/20261122044838 (commit 547930bfbb53) is already active";
        const voltoActive = "04:48:50 plone-deploy: frontend/releases/20261122044839 (commit 547930bfbb53) is already active";
        const quiet: RunnerResult = {
            ok: true,
            seconds: 3,
            notes: [],
            results: [
                result("app-1", "build", [backendBuild, voltoBuild]),
                result("app-1", "activate", [backendActive, voltoActive]),
                result("volto-1", "build", [voltoBuild]),
                result("volto-1", "activate", [voltoActive]),
            ],
        };
        expect(secondRunProblems(quiet, treesOf)).to.deep.equal([]);
        const rebuilt: RunnerResult = {
            ...quiet,
            results: [
                result("app-1", "build", [backendBuild, "04:48:49 plone-deploy: built frontend/releases/20261122050000 (commit 1234567890ab)"]),
                result("volto-1", "activate", ["04:48:50 plone-deploy: deployed frontend/releases/20261122050000 (commit 1234567890ab)"]),
                // A backend's saying does not stand for Volto's.
                result("volto-1", "build", [backendBuild]),
            ],
        };
        expect(secondRunProblems(rebuilt, treesOf)).to.deep.equal([
            "app-1/build does not say plone-deploy: nothing to build for Volto: ",
            "volto-1/activate does not say plone-deploy: frontend/releases/d+ (commit [0-9a-f]+) is already active",
            "volto-1/build does not say plone-deploy: nothing to build for Volto: ",
        ]);
    });

    it("attaches each host's EBS volumes in attachment order, with their ids and sizes", async () => {
        const loaded = loadRepoStack("dev");
        const captured = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
        const volumes = plannedVolumes(captured, plannedHostAddresses(loaded.spec));
        expect(Object.keys(volumes)).to.deep.equal(["dev-1"]);
        expect(volumes["dev-1"].map((v) => `${v.deviceName} ${v.sizeGiB}`)).to.deep.equal(["/dev/sdf 20", "/dev/sdg 50", "/dev/sdh 50"]);
        for (const v of volumes["dev-1"]) expect(v.volumeId).to.match(/^vol-[0-9a-f]{17}$/);
        // The same ids the setup step passes to plone-volumes.
        const setup = captured.resources.find((r) => r.name === "dev-dev-1-provision-setup")!;
        for (const v of volumes["dev-1"]) expect(JSON.stringify(setup.inputs)).to.contain(`=${v.volumeId}`);
    });

    it("reads curl's answer: the last status line and headers after a 100 Continue, the body", () => {
        const a = parseCurlOutput(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Cache: HIT\r\nX-Standin: ip-10-40-128-11 client2 20261122050000\r\n\r\nclient2 body\n",
        );
        expect(a).to.deep.equal({ status: 200, headers: { "x-cache": "HIT", "x-standin": "ip-10-40-128-11 client2 20261122050000" }, body: "client2 body\n" });
    });

    it("reads wrk's result line and counts socket errors and non-2xx/3xx answers as failed", () => {
        const out =
            "Running 10s test @ http://10.40.128.10:80/bench\n" +
            'BENCH-JSON {"requests":18376,"duration_us":25700000,"connect":2,"read":3,"write":0,"status":6914,"timeout":1,"p50_us":23400,"p99_us":51900,"max_us":900000,"statuses":{"200":11462,"503":6912,"502":2}}\n';
        const r = parseWrkOutput(out);
        expect(r).to.deep.include({ requests: 18376, failed: 6920, statusErrors: 6914, p50Ms: 23.4, p99Ms: 51.9, durationSeconds: 25.7 });
        expect(r.socketErrors).to.deep.equal({ connect: 2, read: 3, write: 0, timeout: 1 });
        expect(() => parseWrkOutput("wrk: connection refused")).to.throw(/no result line/);
        const table = formatBenchTable([
            {
                name: "rolling restart",
                load: { ...r, failed: 0, statusErrors: 0, socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 } },
                actionSeconds: 65.6,
            },
            { name: "all at once", load: r, actionSeconds: 9.2 },
        ]);
        expect(table.split("\n")[0]).to.match(/^ +requests +failed +non-2xx\/3xx +socket errors +p50 +p99 +duration +restart took$/);
        expect(table).to.contain("6 (connect 2, read 3, write 0, timeout 1)");
        expect(table).to.contain("all at once: 200 x11462, 502 x2, 503 x6912");
    });

    it("gives wrk a script that spreads its threads over the front ends", function () {
        const script = wrkScript(["10.40.128.10", "10.40.144.10"], 80);
        expect(script).to.contain('local targets = { "10.40.128.10", "10.40.144.10" }');
        // LuaJIT parses it (luajit -bl compiles without running), when it is installed.
        if (run("bash", ["-c", "command -v luajit"]).status !== 0) return;
        const r = run("bash", ["-c", 'luajit -bl - >/dev/null <<<"$0"', script]);
        expect(r.status, r.stderr).to.equal(0);
    });
});

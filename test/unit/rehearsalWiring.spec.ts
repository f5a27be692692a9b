// The wiring checks without hosts: what the stand-in build reads from every rendered deploy.cfg
// (the services each client must use), how a client's status page is read, and how its failures
// are named (client, service, address, the host behind it).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderDeployCfg } from "../../components/render/app/deployCfg";
import { plannedHostAddresses } from "../../scripts/lib/offline/run";
import { StandinRepo } from "../../scripts/lib/rehearsal/standin";
import {
    blobSharingProblems,
    expectedServices,
    mailDeliveryProblems,
    parseWiringReport,
    WiringReport,
    WiringReportError,
    wiringMailSubject,
    wiringProblems,
} from "../../scripts/lib/rehearsal/wiring";
import { allStacks, repoStack } from "../helpers/appStacks";
import { loadRepoStack } from "../helpers/stacks";
import { run } from "../helpers/system";

/** Debian's python3, as on the test hosts (a pyenv shim takes a second to start). */
const PYTHON = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const report = (client: string, checks: WiringReport["checks"], blobs?: WiringReport["blobs"]): WiringReport => ({
    host: "ip-10-40-128-20",
    client,
    checks,
    blobs,
});

describe("the rehearsal's wiring checks", function () {
    describe("the stand-in build reads what deploy.cfg tells each client to use", function () {
        let dir: string;
        before(function () {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "plone-aws-wiring-"));
            new StandinRepo(path.join(dir, "repo"));
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        /** Runs standin/build.py on a host's rendered deploy.cfg; the wiring.json of each client. */
        function build(name: string, cfg: string): Record<string, Record<string, unknown>> {
            const release = path.join(dir, name);
            fs.cpSync(path.join(dir, "repo", "standin"), path.join(release, "standin"), { recursive: true });
            fs.writeFileSync(path.join(release, "deploy.cfg"), cfg);
            const r = run(PYTHON, ["standin/build.py", "-c", "deploy.cfg"], { cwd: release });
            expect(r.status, r.stderr).to.equal(0);
            const parts = path.join(release, "parts");
            return Object.fromEntries(
                fs
                    .readdirSync(parts)
                    .filter((p) => /^client\d+$/.test(p))
                    .map((p) => [p, JSON.parse(fs.readFileSync(path.join(parts, p, "wiring.json"), "utf8")) as Record<string, unknown>]),
            );
        }

        it("prod: each of app-1's 8 clients uses RDS with the rendered credentials, cache-1's memcached and the gluster blobs", function () {
            const { ctx, host } = repoStack("prod");
            const wiring = build("prod-app-1", renderDeployCfg(ctx, host("app-1")));
            const cacheAddress = plannedHostAddresses(loadRepoStack("prod").spec)["cache-1"];
            expect(Object.keys(wiring)).to.have.length(8);
            for (const w of Object.values(wiring)) {
                expect(w.memcached).to.deep.equal([`${cacheAddress}:11211`]);
                expect(w.blobs).to.deep.equal({ dir: "/srv/shared-blobs/blobstorage", shared: true });
                const dsn = (w.database as { dsn: string }).dsn;
                expect(dsn).to.include(`host='${ctx.database!.address}'`).and.include("port='5432'").and.include("user='plone'");
                expect(dsn).to.include(`password='${ctx.secrets.dbPassword}'`);
            }
        });

        for (const [name, { ctx }] of allStacks()) {
            it(`${name}: every client host's clients use exactly the services the plan gives them`, function () {
                const expected = expectedServices(ctx.topology, ctx.spec);
                const asBuilt = (services: string[]) => services.map((s) => (s === "broker" ? "redis" : s)).sort();
                for (const plan of ctx.topology.hosts.filter((h) => h.clients.length)) {
                    const wiring = build(`${name}-${plan.name}`, renderDeployCfg(ctx, plan));
                    expect(Object.keys(wiring).sort()).to.deep.equal(plan.clients.map((c) => c.name).sort());
                    for (const [client, w] of Object.entries(wiring)) {
                        expect(asBuilt(Object.keys(w)), `${plan.name} ${client}`).to.deep.equal([...expected].sort());
                    }
                }
            });
        }
    });

    describe("a client's status page", function () {
        it("is read into its checks", function () {
            const page = JSON.stringify({
                host: "ip-10-40-128-20",
                client: "client1",
                release: "20261202050000",
                checks: [{ service: "memcached", target: "10.40.128.12:11211", ok: false, detail: "connection refused" }],
            });
            expect(parseWiringReport(page).checks).to.deep.equal([
                { service: "memcached", target: "10.40.128.12:11211", ok: false, detail: "connection refused" },
            ]);
        });

        it("that is not a report says what it is instead", function () {
            expect(() => parseWiringReport("client1 20261202050000 /wiring\n")).to.throw(WiringReportError, "not JSON: client1 20261202050000 /wiring");
            expect(() => parseWiringReport('{"host": "h", "client": "client1"}')).to.throw(WiringReportError, "not a wiring report");
            expect(() => parseWiringReport('{"host": "h", "client": "client1", "checks": [{"service": "ftp", "target": "x", "ok": true}]}')).to.throw(
                WiringReportError,
                "a check that is not one",
            );
        });
    });

    describe("the problems of a report", function () {
        const hostByAddress = { "10.40.128.12": "cache-1", "10.40.128.30": "db (PostgreSQL stand-in for RDS)" };

        it("name the host, the client, the service, its address and the host behind it", function () {
            const r = report("client1", [
                { service: "database", target: "10.40.128.30:5432/plone as plone", ok: true, detail: "wrote a row and read it back" },
                { service: "memcached", target: "10.40.128.12:11211", ok: false, detail: "connection refused" },
                { service: "blobs", target: "/srv/shared-blobs/blobstorage", ok: true, detail: "wrote and read a file" },
            ]);
            expect(wiringProblems("app-1", r, ["database", "memcached", "blobs"], hostByAddress)).to.deep.equal([
                "app-1 client1: memcached 10.40.128.12:11211 (cache-1): connection refused",
            ]);
        });

        it("name an address no planned host has as it is (an RDS endpoint that does not resolve)", function () {
            const r = report("client2", [
                {
                    service: "database",
                    target: "prod-db-instance.x.eu-west-1.rds.amazonaws.com:5432/plone as plone",
                    ok: false,
                    detail: "cannot resolve the name",
                },
                { service: "blobs", target: "/srv/b", ok: false, detail: "[Errno 13] Permission denied: '/srv/b/.plone-aws-wiring'" },
            ]);
            expect(wiringProblems("app-2", r, ["database", "blobs"], hostByAddress)).to.deep.equal([
                "app-2 client2: database prod-db-instance.x.eu-west-1.rds.amazonaws.com:5432/plone as plone: cannot resolve the name",
                "app-2 client2: blobs /srv/b: [Errno 13] Permission denied: '/srv/b/.plone-aws-wiring'",
            ]);
        });

        it("include a service the plan has that the client never used", function () {
            const r = report("client1", [{ service: "zeo", target: "10.40.0.10:8100", ok: true, detail: "TCP connect" }]);
            expect(wiringProblems("app-1", r, ["zeo", "redis", "blobs"], {})).to.deep.equal([
                "app-1 client1: uses no redis, though the plan has one (its deploy.cfg does not name it)",
                "app-1 client1: uses no blobs, though the plan has one (its deploy.cfg does not name it)",
            ]);
        });

        it("are none when every check passed and every service was used", function () {
            const r = report("client1", [
                { service: "zeo", target: "10.40.0.10:8100", ok: true, detail: "TCP connect" },
                { service: "blobs", target: "/srv/b", ok: true, detail: "wrote and read a file" },
            ]);
            expect(wiringProblems("app-1", r, ["zeo", "blobs"], {})).to.deep.equal([]);
        });

        it("of a client without a status page is that", function () {
            const r = { host: "app-1", client: "client3", checks: [], error: "status page: curl exit 7: Connection refused" };
            expect(wiringProblems("app-1", r, ["zeo"], {})).to.deep.equal(["app-1 client3: status page: curl exit 7: Connection refused"]);
        });
    });

    describe("shared blobs", function () {
        const hostnames: Record<string, string> = { "app-1": "ip-10-40-128-20", "app-2": "ip-10-40-129-20" };
        const blobs = (seen: string[]) => ({ dir: "/srv/shared-blobs/blobstorage", shared: true, seen });

        it("are shared when every client sees the files of the clients on the other hosts", function () {
            const all = ["ip-10-40-128-20-client1", "ip-10-40-128-20-client2", "ip-10-40-129-20-client1"];
            const reports = [
                { host: "app-1", report: report("client1", [], blobs(all)) },
                { host: "app-1", report: report("client2", [], blobs(all)) },
                { host: "app-2", report: report("client1", [], blobs(all)) },
            ];
            expect(blobSharingProblems(reports, (h) => hostnames[h])).to.deep.equal([]);
        });

        it("are not when a host's directory holds only its own files (each host writes to its own disk)", function () {
            const app1 = ["ip-10-40-128-20-client1", "ip-10-40-128-20-client2"];
            const reports = [
                { host: "app-1", report: report("client1", [], blobs(app1)) },
                { host: "app-1", report: report("client2", [], blobs(app1)) },
                { host: "app-2", report: report("client1", [], blobs(["ip-10-40-129-20-client1"])) },
            ];
            expect(blobSharingProblems(reports, (h) => hostnames[h])).to.deep.equal([
                "app-1 client1: blobs /srv/shared-blobs/blobstorage: does not see the files written by app-2 client1",
                "app-1 client2: blobs /srv/shared-blobs/blobstorage: does not see the files written by app-2 client1",
                "app-2 client1: blobs /srv/shared-blobs/blobstorage: does not see the files written by app-1 client1, app-1 client2",
            ]);
        });
    });

    describe("the mail check's second half: what reached the SMTP stand-in for SES", function () {
        const sent = [
            { hostname: "ip-10-40-128-11", client: "client1" },
            { hostname: "ip-10-40-144-11", client: "client1" },
        ];
        const mail = (hostname: string, client: string, user: string | null, tls: boolean) => ({
            user,
            tls,
            data: `From: x\r\nSubject: ${wiringMailSubject("t0k3n", hostname, client)}\r\n\r\nbody`,
        });

        it("passes when every client's mail arrived over TLS as the stack's SMTP user", function () {
            const spool = [mail("ip-10-40-144-11", "client1", "smtp-user", true), mail("ip-10-40-128-11", "client1", "smtp-user", true)];
            expect(mailDeliveryProblems(sent, "t0k3n", spool, "smtp-user")).to.deep.equal([]);
        });

        it("names the client whose mail never arrived, or arrived without TLS or as another user", function () {
            expect(mailDeliveryProblems(sent, "t0k3n", [mail("ip-10-40-128-11", "client1", "smtp-user", true)], "smtp-user")).to.deep.equal([
                "ip-10-40-144-11 client1: its mail through localhost:25 never reached the SMTP stand-in for SES",
            ]);
            const spool = [mail("ip-10-40-128-11", "client1", "smtp-user", false), mail("ip-10-40-144-11", "client1", "someone", true)];
            expect(mailDeliveryProblems(sent, "t0k3n", spool, "smtp-user")).to.deep.equal([
                "ip-10-40-128-11 client1: its mail reached the SMTP stand-in without TLS or as smtp-user, not smtp-user",
                "ip-10-40-144-11 client1: its mail reached the SMTP stand-in without TLS or as someone, not smtp-user",
            ]);
        });

        it("does not take another run's mail (another token) for this one's", function () {
            const other = { user: "smtp-user", tls: true, data: `Subject: ${wiringMailSubject("other", "ip-10-40-128-11", "client1")}` };
            expect(mailDeliveryProblems(sent.slice(0, 1), "t0k3n", [other], "smtp-user")).to.have.length(1);
        });
    });
});

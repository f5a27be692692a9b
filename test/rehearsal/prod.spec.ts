// prod rehearsed as it runs (PLONE_AWS_REHEARSAL=1, root): the unchanged Pulumi.prod.yaml, every
// host a test host, what AWS provides played by stand-ins (RDS by a PostgreSQL test host, the
// application load balancer by haproxy on a test host with the target group's health check, SES's
// SMTP endpoint by an SMTP server on a test host), the commands through the bastion with ProxyJump.
// It must run exactly the plan's provisioning steps, end with every smoke check green (every Zope
// client using the database, cache-1's memcached and the shared blobs, and sending a mail that
// postfix relays to SES; the load balancer with every front end healthy), and a second run must change
// and restart nothing. Then, on the same hosts, what operators do next, each under load through
// the load balancer's stand-in, none of which may fail a request: a deploy of a new revision, a
// deploy whose build fails on one app host (activates nothing), a rollback, and (the control that
// the load reaches the clients) a restart of all clients at once, which does fail requests. (These ran on the reduced prod-like stack before prod could be rehearsed;
// prod covers them now, in one provisioning.)
//
// The Plone buildout cannot be built here (no PyPI): the fixture buildout's stand-in build makes
// the clients small python3 HTTP apps that use every service deploy.cfg names
// (scripts/lib/rehearsal/standin.ts). Everything else is real.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { LoadResult, runWaves, settle, underLoad } from "../../scripts/lib/rehearsal/benchDeploy";
import { planOps } from "../../scripts/lib/ops/commands";
import { stepGroups } from "../../scripts/lib/ops/run";
import { Rehearsal, secondRun } from "../../scripts/lib/rehearsal";
import { planMismatches, plannedSteps } from "../../scripts/lib/rehearsal/planMatch";
import type { RunnerResult } from "../../scripts/lib/rehearsal/runner";
import { frontDoorGet, PASS_COOKIE } from "../../scripts/lib/rehearsal/smokeChecks";
import { plannedHostAddresses } from "../../scripts/lib/offline/run";
import { buildTopology, DEPLOY_USER } from "../../components/topology";
import { loadRepoStack, REPO } from "../helpers/stacks";
import { currentRelease, greenSmoke, REHEARSAL_CACHE, requireRehearsal, tearDownLeavingNothing } from "../helpers/rehearsal";
import { awsStandinText } from "../helpers/backupStandins";
import { contentsOf, contentsSql, parseRelations, RELATIONS_SQL } from "../helpers/postgres";
import { OPS_SCRIPTS } from "../../components/render/operations/scripts";
import { pgdumpEnvPath } from "../../components/render/operations/database";
import { shellQuote } from "../../components/render/shell";

/** Host -> release of the answers to `n` passed requests through each front end. */
async function servedReleases(rehearsal: Rehearsal, n = 12): Promise<Map<string, Set<string>>> {
    const byHost = new Map<string, Set<string>>();
    const hostOf = new Map([...rehearsal.hosts.hosts.values()].map((h) => [h.hostname, h.name]));
    for (const fe of rehearsal.frontendHosts) {
        for (let i = 0; i < n; i++) {
            const a = await frontDoorGet(rehearsal.hosts, rehearsal.addresses[fe], rehearsal.spec, `/which-release?${i}`, { cookie: PASS_COOKIE });
            expect(a.status, `${fe}: ${a.body}`).to.equal(200);
            const [hostname, , release] = (a.headers["x-standin"] ?? "").split(" ");
            const host = hostOf.get(hostname) ?? hostname;
            byHost.set(host, new Set([...(byHost.get(host) ?? []), release]));
        }
    }
    return byHost;
}

/** `npm run ops` without options. */
const OPS_DEFAULTS = { hosts: [], layers: [], args: [], servers: false, force: false };

const describeLoad = (l: LoadResult) =>
    `${l.requests} requests, ${l.failed} failed, p50 ${l.p50Ms.toFixed(1)}ms, p99 ${l.p99Ms.toFixed(1)}ms over ${l.durationSeconds.toFixed(1)}s`;

describe("rehearsal of prod as it runs", function () {
    // The hang guard only (.mocharc.yml): prod's first provisioning of ten test hosts takes 10 to 15
    // minutes on 2 busy cores, its smoke checks a few more.
    this.timeout(45 * 60_000);
    const prod = loadRepoStack("prod");
    /** The hosts that build the app (the build step), in rolling order. */
    const buildHosts = buildTopology(prod.spec).roles.buildHosts;
    let rehearsal: Rehearsal;
    let first: RunnerResult;
    const lines: string[] = [];
    const commits: Record<string, string> = {};

    before(async function () {
        requireRehearsal(this);
        rehearsal = await Rehearsal.start({ stackFile: path.join(REPO, "Pulumi.prod.yaml"), cacheDir: REHEARSAL_CACHE, print: (l) => lines.push(l) });
        await rehearsal.startHosts();
        commits.v1 = rehearsal.repo.git("rev-parse", "HEAD");
    });

    after(async function () {
        if (!rehearsal) return;
        await tearDownLeavingNothing(rehearsal.hosts);
    });

    it("provisions every host through the bastion, runs the plan's steps, and every smoke check is green with the stand-ins named", async () => {
        first = await rehearsal.provision();
        const output = () => lines.join("\n");
        expect(first.ok, output()).to.equal(true);
        const bastion = plannedHostAddresses(prod.spec).bastion;
        expect(output()).to.contain(`connecting through the bastion admin@${bastion}`);
        expect(planMismatches(plannedSteps(rehearsal.spec), first.results)).to.deep.equal([]);
        expect(rehearsal.standins[0]).to.match(/^RDS endpoint prod-db-instance\..*\.rds\.amazonaws\.com:5432: PostgreSQL on test host rds-standin/);
        expect(rehearsal.standins[1]).to.match(
            /^application load balancer prod-front-door-alb-\d+\.eu-west-1\.elb\.amazonaws\.com: played by haproxy [\d.]+\S* on test host alb-standin \(10\.40\.0\.200\) \(stand-in\)$/,
        );
        expect(rehearsal.standins[2]).to.match(
            /^Amazon SES SMTP email-smtp\.eu-west-1\.amazonaws\.com:587: the SMTP stand-in \(aiosmtpd [\d.]+\) on test host smtp-standin \(10\.40\.0\.201\) \(stand-in\)$/,
        );

        const { results: smoke, wiring } = await greenSmoke(rehearsal, lines);
        expect(wiring).to.contain("memcached").and.contain("database").and.contain("blobs");
        // Plone's mail: each client hands one to the relay on its host (localhost:25), postfix relays it to SES.
        expect(wiring).to.contain("mail localhost:25").and.contain("every mail reached Amazon SES (played by smtp-standin) over TLS as rehearsal-smtp");
        const alb = smoke.find((s) => s.name === "the application load balancer has every front end healthy and serves the site through each");
        expect(alb?.detail).to.contain("web-1, web-2 healthy by GET /_health every 15s").and.contain("HTTP 80 redirects (301)");
        console.log(`      prod: first provisioning ${first.seconds.toFixed(1)}s; the load balancer: ${alb?.detail}`);
    });

    it("provisions the same hosts again changing nothing, restarting no daemon", async () => {
        const second = await secondRun(rehearsal);
        expect(second.result.ok).to.equal(true);
        expect(second.daemonChanges).to.deep.equal([]);
        expect(second.problems).to.deep.equal([]);
        console.log(
            `      prod: second provisioning ${second.result.seconds.toFixed(1)}s vs ${first.seconds.toFixed(1)}s the first time; ` +
                `${second.daemons} daemons watched, none restarted`,
        );
    });

    it("deploys a new revision under load through the load balancer, in restart waves, without failing a request", async () => {
        commits.v2 = rehearsal.repo.commit("v2: a new feature", (dir) => fs.writeFileSync(path.join(dir, "feature.txt"), "v2\n"));
        rehearsal.repo.tag("v2");
        await rehearsal.plan({ revision: "v2" });
        const { load, value: result } = await underLoad(rehearsal, () => rehearsal.provision());
        expect(result.ok, lines.slice(-30).join("\n")).to.equal(true);
        for (const host of buildHosts) expect((await currentRelease(rehearsal, host)).commit, host).to.equal(commits.v2);
        const served = await servedReleases(rehearsal);
        for (const host of rehearsal.appHosts) expect([...served.get(host)!]).to.deep.equal([(await currentRelease(rehearsal, host)).release]);
        expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
        console.log(`      deploy of v2 in ${result.seconds.toFixed(1)}s under load: ${describeLoad(load)}`);
    });

    it("a build that fails on one app host activates nothing anywhere: the site keeps serving the previous release", async () => {
        const app2 = rehearsal.hosts.host("app-2").hostname;
        const before = Object.fromEntries(await Promise.all(rehearsal.appHosts.map(async (h) => [h, await currentRelease(rehearsal, h)] as const)));
        commits.v3 = rehearsal.repo.commit("v3: builds everywhere but on app-2", (dir) => fs.writeFileSync(path.join(dir, "FAIL_BUILD_ON"), `${app2}\n`));
        rehearsal.repo.tag("v3");
        await rehearsal.plan({ revision: "v3" });
        const { load, value: result } = await underLoad(rehearsal, () => rehearsal.provision());
        expect(result.ok).to.equal(false);
        expect(result.failed).to.include({ host: "app-2", step: "build" });
        expect(result.failed!.tail!.join("\n")).to.contain(`stand-in build: FAIL_BUILD_ON names ${app2}, failing`);
        const status = Object.fromEntries(result.results.map((r) => [`${r.host}/${r.step}`, r.status]));
        expect(status["app-1/build"]).to.equal("ok");
        for (const host of buildHosts) expect(status[`${host}/activate`], host).to.equal("not-run");
        for (const host of rehearsal.appHosts) expect(await currentRelease(rehearsal, host), host).to.deep.equal(before[host]);
        const served = await servedReleases(rehearsal);
        for (const host of rehearsal.appHosts) expect([...served.get(host)!], host).to.deep.equal([before[host].release]);
        expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
        console.log(`      failed build of v3 on app-2 under load: ${describeLoad(load)}; current stays at v2 on every app host`);
    });

    it("a rollback as `npm run ops -- prod rollback` runs it (in restart waves) restores the previous release everywhere, without failing a request", async () => {
        const plan = planOps({ spec: rehearsal.spec, topology: buildTopology(rehearsal.spec) }, "rollback", OPS_DEFAULTS);
        const waves = stepGroups(plan.steps).map((group) => group.map((s) => ({ host: s.host, command: s.command.join(" ") })));
        const { load } = await underLoad(rehearsal, () => runWaves(waves, (host, command) => rehearsal.root(host, command, 600_000)));
        for (const host of rehearsal.appHosts) expect((await currentRelease(rehearsal, host)).commit, host).to.equal(commits.v1);
        const served = await servedReleases(rehearsal);
        for (const host of rehearsal.appHosts) expect([...served.get(host)!]).to.deep.equal([(await currentRelease(rehearsal, host)).release]);
        expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
        console.log(`      rollback of ${waves.map((w) => w.map((c) => c.host).join(" + ")).join(", then ")} to v1 under load: ${describeLoad(load)}`);
    });

    // The restart waves dropped nothing above (the deploy's activation, the rollback); bench:deploy
    // (npm run bench:deploy -- prod) measures them beside one at a time. The control: the load reaches
    // the clients, so restarting them all at once fails requests.
    it("restarting every client at once under the same load fails requests: the load reaches the clients", async () => {
        await settle(rehearsal);
        const { load } = await underLoad(rehearsal, () =>
            Promise.all(rehearsal.appHosts.map((host) => rehearsal.root(host, "plone-restart --all-at-once", 600_000))),
        );
        expect(load.failed, JSON.stringify(load.statuses)).to.be.above(0);
        await settle(rehearsal);
        console.log(`      all clients at once under load: ${describeLoad(load)}`);
    });

    // database.dump and `ops restore` for RelStorage (issue 15), on prod's own hosts and the RDS
    // stand-in. S3 is played by the aws stand-in of the backup tests (test/helpers/backupStandins.ts):
    // a directory on the dump host, writable only under the stack's prefix of the off-site bucket, as
    // the host role's policy allows.
    it("`ops backup` dumps the RelStorage database to S3, and `ops restore --database` brings it back into a new database, table for table", async function () {
        // After the deploys above on purpose: each plan of a new revision had given the stack a new
        // database password, and the hosts could no longer reach the database (the run keeps its secrets now).
        const view = { spec: rehearsal.spec, topology: buildTopology(rehearsal.spec) };
        const dump = planOps(view, "backup", OPS_DEFAULTS).steps.find((s) => s.command[0] === OPS_SCRIPTS.pgdump);
        expect(dump, "prod's backup has a database dump step").to.not.equal(undefined);
        const host = dump!.host;
        const [bucket, prefix] = (await rehearsal.root(host, `source ${pgdumpEnvPath(rehearsal)}; printf '%s\\n%s\\n' "$BUCKET" "$PREFIX"`)).trim().split("\n");
        const s3 = "/var/lib/plone-aws-s3-standin";
        await rehearsal.root(
            host,
            [
                `install -d -o ${DEPLOY_USER} ${s3}`,
                `cat > /usr/local/bin/aws <<'PLONE_AWS_EOF'\n${awsStandinText(s3, [`${bucket}/${prefix}/`])}PLONE_AWS_EOF`,
                "chmod 755 /usr/local/bin/aws",
            ].join("\n"),
        );
        const run = (command: string[]) => rehearsal.root(host, command.map(shellQuote).join(" "), 600_000);
        const dumped = await run(dump!.command);
        expect(dumped).to.match(new RegExp(`copied \\S+\\.dump .*to s3://${bucket}/${prefix}/pgdump/`));

        const restored = "plone_restored";
        const restore = planOps(view, "restore", { ...OPS_DEFAULTS, from: "latest", database: restored });
        // Into another database nothing stops: the check, then the restore, on the dump host.
        expect(restore.steps.map((s) => s.host)).to.deep.equal([host, host]);
        for (const step of restore.steps) await run(step.command);

        const rds = rehearsal.rds!;
        const psql = (database: string, sql: string) =>
            rehearsal.root(
                rds.host,
                `cd / && runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 -p ${rds.port} -d ${shellQuote(database)} <<'SQL'\n${sql}\nSQL`,
            );
        const contents = async (database: string) => {
            const relations = parseRelations(await psql(database, RELATIONS_SQL));
            return relations.length ? contentsOf(relations, await psql(database, contentsSql(relations))) : {};
        };
        const original = await contents(rds.dbName);
        // The stand-in clients wrote rows in the wiring checks: the dump holds something.
        expect(
            Object.values(original).some((v) => /^[1-9]\d* rows/.test(v)),
            JSON.stringify(original),
        ).to.equal(true);
        expect(await contents(restored)).to.deep.equal(original);
        console.log(
            `      database dump of ${rds.dbName} on ${host}, restored into ${restored}: ${Object.entries(original)
                .map(([t, v]) => `${t} ${v.split(",")[0]}`)
                .join(", ")}`,
        );
    });
});

// The rehearsal runs what prod runs, without hosts: the plan's provisioning steps against the
// commands a rehearsal executed, the RDS stand-in as the program's rds.Instance says, and the
// application load balancer's stand-in as the program's listeners and target group say.
import { expect } from "chai";
import { addressPlan, plannedHostAddresses, runOffline } from "../../scripts/lib/offline/run";
import {
    albStandinConfig,
    albStandinOf,
    parseSmtpSpool,
    rdsStandinOf,
    smtpRelayStandinOf,
    smtpRelayStandinScript,
    trustSmtpStandinScript,
} from "../../scripts/lib/rehearsal/awsStandins";
import { RehearsalError } from "../../scripts/lib/rehearsal/runner";
import { shellQuote } from "../../components/render/shell";
import { planMismatches, plannedSteps } from "../../scripts/lib/rehearsal/planMatch";
import { stepsFromRun } from "../../scripts/lib/rehearsal/runner";
import { loadRepoStack } from "../helpers/stacks";

describe("the rehearsal against the plan", function () {
    const prod = loadRepoStack("prod");
    const planned = plannedSteps(prod.spec);
    /** The plan executed in order, one step a second: what a correct rehearsal reports. */
    const inOrder = () => {
        const done = new Map<string, number>();
        const results: { host: string; step: string; status: "ok"; startedAt: number; finishedAt: number }[] = [];
        let clock = 0;
        while (done.size < planned.length) {
            const ready = planned.filter((p) => !done.has(`${p.host}/${p.step}`) && p.after.every((a) => done.has(a)));
            expect(ready.length, "the plan's constraints have a cycle").to.be.above(0);
            for (const p of ready) {
                results.push({ host: p.host, step: p.step, status: "ok", startedAt: clock, finishedAt: clock + 1 });
                done.set(`${p.host}/${p.step}`, clock + 1);
            }
            clock += 2;
        }
        return results;
    };

    it("prod's plan: every host's steps in turn, blob servers before their clients, the app hosts activating side by side once every build is done", function () {
        expect(planned.filter((p) => p.host === "app-1").map((p) => p.step)).to.deep.equal(["ready", "setup", "configure", "build", "activate"]);
        expect(planned.filter((p) => p.host === "cache-1").map((p) => p.step)).to.deep.equal(["ready", "setup", "configure"]);
        const app2Activate = planned.find((p) => p.host === "app-2" && p.step === "activate")!;
        // plone.maxUnavailable's default, one client per app host: prod's two app hosts are one restart wave.
        expect(app2Activate.after).to.include("app-2/build").and.include("app-1/build").and.not.include("app-1/activate");
    });

    it("the plan's commands of the program are the planned steps, host for host", async function () {
        const run = await runOffline(prod.config, { addresses: addressPlan(prod.spec) });
        const fromProgram = stepsFromRun(run).map((s) => `${s.host}/${s.step}`);
        expect(fromProgram.sort()).to.deep.equal(planned.map((p) => `${p.host}/${p.step}`).sort());
    });

    it("finds no difference when the rehearsal ran every step in an order the plan allows", function () {
        expect(planMismatches(planned, inOrder())).to.deep.equal([]);
    });

    it("names a planned step that did not run, a command the plan lacks, and a step started too early", function () {
        const results = inOrder().filter((r) => !(r.host === "cache-1" && r.step === "configure"));
        results.push({ host: "rds-standin", step: "setup", status: "ok", startedAt: 0, finishedAt: 1 });
        const app2 = results.find((r) => r.host === "app-2" && r.step === "activate")!;
        const app1Build = results.find((r) => r.host === "app-1" && r.step === "build")!;
        app2.startedAt = app1Build.finishedAt - 0.5;
        expect(planMismatches(planned, results)).to.deep.equal([
            "cache-1/configure: planned, but not run",
            "rds-standin/setup: run, but not a step of the plan",
            // Both builds of the wave end together here: app-2's activation is early for each.
            "app-2/activate started before app-2/build had finished",
            "app-2/activate started before app-1/build had finished",
        ]);
    });

    it("a failed step counts as not run", function () {
        const results = inOrder().map((r) => (r.host === "web-1" && r.step === "setup" ? { ...r, status: "failed" as const } : r));
        expect(planMismatches(planned, results)).to.deep.equal(["web-1/setup: planned, but not run"]);
    });

    it("plays prod's RDS with the endpoint, database, master user and password the program gives the rds.Instance", async function () {
        const run = await runOffline(prod.config, { addresses: addressPlan(prod.spec) });
        const rds = rdsStandinOf(run, prod.spec)!;
        const instance = run.resources.find((r) => r.type === "aws:rds/instance:Instance")!;
        expect(rds.endpoint).to.match(/^prod-db-instance\.c[0-9a-z]+\.eu-west-1\.rds\.amazonaws\.com$/);
        expect(rds).to.include({ port: 5432, dbName: "plone", username: "plone" });
        expect(JSON.stringify(instance.inputs)).to.include(rds.password);
        // In AZ 0's private subnet, where no planned instance is.
        expect(Object.values(plannedHostAddresses(prod.spec))).to.not.include(rds.address);
        expect(rds.address).to.match(/^10\.40\./);
    });

    it("plays no RDS on a ZEO stack", async function () {
        const dev = loadRepoStack("dev");
        const run = await runOffline(dev.config, { addresses: addressPlan(dev.spec) });
        expect(rdsStandinOf(run, dev.spec)).to.equal(undefined);
    });

    it("plays prod's load balancer with the listeners, target group, health check and targets the program registers", async function () {
        const run = await runOffline(prod.config, { addresses: addressPlan(prod.spec) });
        const addresses = plannedHostAddresses(prod.spec);
        const alb = albStandinOf(run, prod.spec, addresses)!;
        const group = run.resources.find((r) => r.type === "aws:lb/targetGroup:TargetGroup")!;
        const registered = (group.inputs as { healthCheck: Record<string, unknown> }).healthCheck;
        expect(alb.targetGroup.healthCheck).to.deep.equal({
            path: registered.path,
            port: "traffic-port",
            matcher: registered.matcher,
            intervalSeconds: registered.interval,
            timeoutSeconds: registered.timeout,
            healthyThreshold: registered.healthyThreshold,
            unhealthyThreshold: registered.unhealthyThreshold,
        });
        expect(alb.targetGroup.targets).to.deep.equal([
            { host: "web-1", address: addresses["web-1"], port: 80 },
            { host: "web-2", address: addresses["web-2"], port: 80 },
        ]);
        // prod's ACM certificate: HTTPS forwards, HTTP redirects to it.
        expect(alb.listeners).to.deep.include({ port: 443, protocol: "HTTPS", action: { kind: "forward" } });
        expect(alb.listeners).to.deep.include({ port: 80, protocol: "HTTP", action: { kind: "redirect", protocol: "HTTPS", port: 443, statusCode: 301 } });
        expect(alb.dnsName).to.match(/\.eu-west-1\.elb\.amazonaws\.com$/);
        // In AZ 0's public subnet, where no planned instance is.
        expect(Object.values(addresses)).to.not.include(alb.address);
        const config = albStandinConfig(alb, prod.spec.frontend.domain);
        expect(config).to.contain(`http-check send meth GET uri ${registered.path} ver HTTP/1.1`);
        expect(config).to.contain(`default-server inter ${registered.interval}s rise ${registered.healthyThreshold} fall ${registered.unhealthyThreshold}`);
        expect(config).to.contain(`server ${addresses["web-1"]}:80 ${addresses["web-1"]}:80 check`);
    });

    it("follows the target group the program registers: another health check there is another one in the stand-in", async function () {
        const run = await runOffline(prod.config, { addresses: addressPlan(prod.spec) });
        const group = run.resources.find((r) => r.type === "aws:lb/targetGroup:TargetGroup")!;
        const inputs = group.inputs as { healthCheck: Record<string, unknown> };
        inputs.healthCheck = { ...inputs.healthCheck, path: "/elsewhere", interval: 7, healthyThreshold: 4, matcher: "200-204" };
        const config = albStandinConfig(albStandinOf(run, prod.spec, plannedHostAddresses(prod.spec))!, prod.spec.frontend.domain);
        expect(config).to.contain("uri /elsewhere ver").and.contain("inter 7s rise 4 fall 3").and.contain("http-check expect status 200-204");
    });

    it("plays no load balancer where one front end has an Elastic IP", async function () {
        const dev = loadRepoStack("dev");
        const run = await runOffline(dev.config, { addresses: addressPlan(dev.spec) });
        expect(albStandinOf(run, dev.spec, plannedHostAddresses(dev.spec))).to.equal(undefined);
    });

    it("plays prod's SMTP relay, Amazon SES's endpoint of its region, with the user and password of plone-aws:smtpCredentials", function () {
        const smtp = smtpRelayStandinOf(prod.spec, "rehearsal-smtp:pass:word")!;
        expect(smtp).to.include({
            endpoint: "email-smtp.eu-west-1.amazonaws.com",
            port: 587,
            tls: "starttls",
            user: "rehearsal-smtp",
            password: "pass:word",
            plays: "Amazon SES",
        });
        // Outside the VPC's planned hosts and beside the ALB's stand-in, never on one of them.
        const alb = Object.values(plannedHostAddresses(prod.spec));
        expect(alb).to.not.include(smtp.address);
        expect(smtp.address).to.equal("10.40.0.201");
        const script = smtpRelayStandinScript(smtp);
        const start = script.split("\n").find((l) => l.startsWith("nohup python3"))!;
        expect(start).to.contain("--listen 10.40.0.201 --port 587").and.not.contain("--implicit-tls");
        expect(script).to.contain("subjectAltName=DNS:email-smtp.eu-west-1.amazonaws.com");
    });

    it("keeps a hostile SMTP password as data in the stand-in's root script, and refuses what it cannot play", function () {
        const hostile = `it's $(touch /tmp/pwned) \`id\` "x" ; rm -rf /`;
        const script = smtpRelayStandinScript(smtpRelayStandinOf(prod.spec, `u:${hostile}`)!);
        expect(script).to.contain(`printf '%s\\n' ${shellQuote(hostile)} >`);
        expect(() => smtpRelayStandinOf(prod.spec, undefined)).to.throw(RehearsalError, /smtpCredentials/);
        expect(() => smtpRelayStandinOf(prod.spec, "no-colon")).to.throw(RehearsalError, /USER:PASSWORD/);
        const byAddress = { ...prod.spec, mail: { ...prod.spec.mail!, relay: { ...prod.spec.mail!.relay, host: "10.1.2.3" } } };
        expect(() => smtpRelayStandinOf(byAddress, "u:p")).to.throw(RehearsalError, /reached by name/);
        expect(smtpRelayStandinOf({ ...prod.spec, mail: undefined }, "u:p")).to.equal(undefined);
    });

    it("makes the mail relays trust only a certificate: anything else in its place is refused, not run", function () {
        const pem = "-----BEGIN CERTIFICATE-----\nMIIB+zCC\nAbc=\n-----END CERTIFICATE-----\n";
        expect(trustSmtpStandinScript(pem)).to.contain("update-ca-certificates");
        expect(() => trustSmtpStandinScript(`${pem}PLONE_AWS_EOF\nrm -rf /\n`)).to.throw(RehearsalError, /no certificate/);
        expect(() => trustSmtpStandinScript("")).to.throw(RehearsalError, /no certificate/);
    });

    it("reads the SMTP stand-in's spool: one mail per line, its user and whether TLS was on", function () {
        const spool = [
            JSON.stringify({ mailFrom: "a@x", recipients: ["b@y"], user: "u", tls: true, data: "Subject: s\r\n\r\nbody" }),
            JSON.stringify({ mailFrom: "a@x", recipients: ["b@y"], user: null, tls: false, data: "Subject: t" }),
            "",
        ].join("\n");
        expect(parseSmtpSpool(spool)).to.deep.equal([
            { user: "u", tls: true, data: "Subject: s\r\n\r\nbody" },
            { user: null, tls: false, data: "Subject: t" },
        ]);
    });
});

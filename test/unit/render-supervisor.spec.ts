// The app's supervisor programs per host: which programs, their commands, users and logs.
import { expect } from "chai";
import { renderSupervisorPrograms, supervisorPrograms } from "../../components/render/app/supervisor";
import { contextOf, repoStack, VARIANTS, variantSpec } from "../helpers/appStacks";

/** [section] -> key -> value of a supervisor file. */
function parseIni(text: string): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    let current: Record<string, string> | undefined;
    for (const line of text.split("\n")) {
        const header = /^\[(.+)\]$/.exec(line);
        if (header) out[header[1]] = current = {};
        else if (current && /^[a-z_]+=/.test(line)) current[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
    return out;
}

describe("supervisor programs", function () {
    it("dev-1: the ZEO server, two clients and the haproxy agent, run from current as the deploy user", function () {
        const { ctx, host } = repoStack("dev");
        const conf = parseIni(renderSupervisorPrograms(ctx, host("dev-1")));
        expect(Object.keys(conf)).to.deep.equal(["program:plone-zeoserver", "program:plone-client1", "program:plone-client2", "program:plone-haproxy-agent"]);
        expect(conf["program:plone-zeoserver"]).to.include({
            command: "/usr/local/sbin/plone-app-env /srv/www/plone/current/bin/zeoserver fg",
            priority: "100",
        });
        const c1 = conf["program:plone-client1"];
        expect(c1).to.include({
            command: "/usr/local/sbin/plone-app-env /srv/www/plone/current/bin/client1 console",
            directory: "/srv/www/plone/current",
            user: "plone",
            // app.environment (PLONE_ENV) reaches the clients through plone-app-env, not supervisor.
            environment: 'PLONE_DEPLOY_ENV="/etc/plone-aws/plone/deploy.env"',
            autostart: "true",
            autorestart: "true",
            stopwaitsecs: "60",
            stdout_logfile: "/var/log/supervisor/plone-client1-stdout.log",
            stderr_logfile: "/var/log/supervisor/plone-client1-stderr.log",
            stdout_logfile_maxbytes: "50MB",
            stdout_logfile_backups: "10",
        });
        expect(conf["program:plone-haproxy-agent"]).to.include({
            // The private address the front ends' agent checks use, not every interface.
            command: `/usr/local/sbin/plone-haproxy-agent --bind ${ctx.addresses["dev-1"]}`,
            environment: 'PLONE_DEPLOY_ENV="/etc/plone-aws/plone/deploy.env"',
        });
    });

    it("prod: eight clients on each app host, no servers, nothing on the other hosts' files", function () {
        const { ctx, host } = repoStack("prod");
        for (const name of ["app-1", "app-2"]) {
            const programs = supervisorPrograms(ctx, host(name));
            expect(programs.filter((p) => p.role === "client").map((p) => p.client!.port)).to.deep.equal([8081, 8082, 8083, 8084, 8085, 8086, 8087, 8088]);
            expect(programs.filter((p) => p.role === "server")).to.deep.equal([]);
        }
        expect(supervisorPrograms(ctx, host("web-1"))).to.deep.equal([]);
    });

    it("celery: workers on both app hosts, beat on the celerybeat host only, the ZEO server alone on its host", function () {
        const { ctx, host } = contextOf(VARIANTS.celery());
        const names = (h: string) => supervisorPrograms(ctx, host(h)).map((p) => p.name);
        expect(names("app-1")).to.include.members(["plone-celery", "plone-celerybeat", "plone-haproxy-agent"]);
        expect(names("app-2")).to.include("plone-celery").and.not.include("plone-celerybeat");
        expect(names("zeo-1")).to.deep.equal(["plone-zeoserver"]);
        const conf = parseIni(renderSupervisorPrograms(ctx, host("app-1")));
        expect(conf["program:plone-celery"].command).to.equal(
            "/usr/local/sbin/plone-app-env /srv/www/plone/current/bin/celery worker -A collective.celery -c 2",
        );
        expect(conf["program:plone-celerybeat"].command).to.equal("/usr/local/sbin/plone-app-env /srv/www/plone/current/bin/celery beat -A collective.celery");
    });

    it("solr: bin/solr-instance fg on the solr host only", function () {
        const { ctx, host } = contextOf(VARIANTS.solr());
        expect(supervisorPrograms(ctx, host("solr-1")).map((p) => [p.name, p.command])).to.deep.equal([
            ["plone-solr", "/usr/local/sbin/plone-app-env /srv/www/plone/current/bin/solr-instance fg"],
        ]);
        expect(supervisorPrograms(ctx, host("app-1")).map((p) => p.name)).to.not.include("plone-solr");
    });

    it("initCommands: programs as the deploy user, event listeners as root with their events", function () {
        const spec = variantSpec(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "zeoserver"] },
            ],
            {
                app: {
                    initCommands: [
                        { name: "memmon", cmd: "bin/memmon", args: "-p plone-client1=800MB", eventListener: { events: ["TICK_60"] } },
                        { name: "worker", cmd: "bin/worker", args: "--queue 100%" },
                    ],
                    environment: { QUOTE: 'say "hi"', TZ: "Europe/Vienna" },
                },
                plone: { clientCount: 1 },
            },
        );
        const { ctx, host } = contextOf(spec);
        const conf = parseIni(renderSupervisorPrograms(ctx, host("app-1")));
        expect(conf["eventlistener:plone-memmon"]).to.include({ command: "/srv/www/plone/current/bin/memmon -p plone-client1=800MB", events: "TICK_60" });
        expect(conf["eventlistener:plone-memmon"].user).to.equal(undefined);
        expect(conf["eventlistener:plone-memmon"].stdout_logfile).to.equal(undefined);
        expect(conf["program:plone-worker"]).to.include({
            command: "/usr/local/sbin/plone-app-env /srv/www/plone/current/bin/worker --queue 100%%",
            user: "plone",
        });
        expect(conf["program:plone-client1"].environment).to.equal('PLONE_DEPLOY_ENV="/etc/plone-aws/plone/deploy.env"');
        expect(conf["program:plone-worker"].environment).to.equal('PLONE_DEPLOY_ENV="/etc/plone-aws/plone/deploy.env"');
    });

    it("never writes a value of app.environment into supervisor's configuration (it has no escapes): plone-app-env adds them", function () {
        const spec = variantSpec(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "zeoserver"] },
            ],
            {
                app: { environment: { BOTH: `it's "both", 100% #1`, TRAILING: `quote"` } },
            },
        );
        const { ctx, host } = contextOf(spec);
        const text = renderSupervisorPrograms(ctx, host("app-1"));
        expect(text).not.to.include("both");
        expect(text).not.to.include("TRAILING");
        for (const [name, section] of Object.entries(parseIni(text))) {
            if (name.startsWith("program:")) expect(section.environment, name).to.equal('PLONE_DEPLOY_ENV="/etc/plone-aws/plone/deploy.env"');
        }
    });
});

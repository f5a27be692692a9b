// What the operations and monitoring of a stack make of its Volto processes: the CloudWatch agent
// ships their supervisor logs to a group of their own, supervisor is a service of every volto host,
// plone-status lists their programs there, and the plan shows them per host.
import { expect } from "chai";
import { renderCloudwatchAgentConfig, shippedLogs, stackLogGroups } from "../../components/render/monitoring/cloudwatchAgent";
import { forwardedFiles } from "../../components/render/monitoring/remoteSyslog";
import { systemServices } from "../../components/render/operations/services";
import { renderStatusScript } from "../../components/render/operations/status";
import { hostSummaries } from "../../scripts/lib/plan/report";
import { contextOf, variantSpec } from "../helpers/appStacks";

const spec = () =>
    variantSpec(
        [
            { name: "web-1", layers: ["frontend", "volto"], instanceType: "c6i.large" },
            { name: "app-1", layers: ["plone_instances", "zeoserver"] },
            { name: "volto-1", layers: ["volto"], instanceType: "c6i.xlarge" },
        ],
        { plone: { storage: "zeo", blobs: "zeo" }, monitoring: { remoteSyslog: { host: "logs.example.org", port: 6514 } } },
    );

describe("operations and monitoring of the Volto processes", () => {
    const { ctx, host } = contextOf(spec());

    it("ships each Volto process's stdout and stderr to the volto log group, and supervisord's log, on every volto host", () => {
        const volto = shippedLogs(ctx, host("volto-1"));
        expect(volto.map((l) => `${l.kind} ${l.path} ${l.stream}`)).to.deep.equal([
            ...[1, 2, 3, 4].flatMap((n) =>
                ["stdout", "stderr"].map((s) => `volto /var/log/supervisor/plone-volto${n}-${s}.log volto-1/plone-volto${n}-${s}.log`),
            ),
            "supervisor /var/log/supervisor/supervisord.log volto-1/supervisord.log",
        ]);
        const web = shippedLogs(ctx, host("web-1")).map((l) => `${l.kind} ${l.path}`);
        expect(web).to.include.members(["volto /var/log/supervisor/plone-volto1-stdout.log", "volto /var/log/supervisor/plone-volto2-stderr.log"]);
        expect(web.filter((l) => l.startsWith("volto "))).to.have.length(4);
        // A file goes to one group only.
        for (const h of ctx.topology.hosts) {
            const paths = shippedLogs(ctx, h).map((l) => l.path);
            expect(new Set(paths).size, h.name).to.equal(paths.length);
        }
        expect(stackLogGroups(ctx.spec, ctx.topology).map((g) => g.name)).to.include("/plone-aws/variant/volto");
        const agent = JSON.parse(renderCloudwatchAgentConfig(ctx, host("volto-1"))) as {
            logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string }[] } } };
        };
        expect(agent.logs.logs_collected.files.collect_list[0]).to.deep.include({
            file_path: "/var/log/supervisor/plone-volto1-stdout.log",
            log_group_name: "/plone-aws/variant/volto",
        });
        expect(forwardedFiles(ctx, host("volto-1"))).to.include({ "/var/log/supervisor/plone-volto1-stderr.log": "plone-volto1-stderr" });
    });

    it("lists supervisor among the services of a volto host, and plone-status shows its programs", () => {
        expect(systemServices(ctx, host("volto-1")).map((s) => s.name)).to.include("supervisor");
        expect(systemServices(ctx, host("web-1")).map((s) => s.name)).to.include("supervisor");
        const status = renderStatusScript(ctx, host("volto-1"));
        expect(status).to.match(/^SUPERVISED=yes$/m);
        expect(status).to.match(/^RELEASE_ROOTS=\(\/srv\/www\/plone\/frontend\)$/m);
        const app = renderStatusScript(ctx, host("app-1"));
        expect(app).to.match(/^SUPERVISED=yes$/m);
        expect(app).to.match(/^RELEASE_ROOTS=\(\/srv\/www\/plone\)$/m);
    });

    it("the plan shows the Volto processes of each host: count, ports and supervisor programs", () => {
        const run = { outputs: {}, resources: [] } as unknown as Parameters<typeof hostSummaries>[1];
        const summaries = Object.fromEntries(hostSummaries(ctx.spec, run, ctx.topology).map((h) => [h.name, h.volto]));
        expect(summaries["volto-1"]).to.deep.equal({
            count: 4,
            ports: "3001-3004",
            programs: ["plone-volto1", "plone-volto2", "plone-volto3", "plone-volto4"],
        });
        expect(summaries["web-1"]).to.deep.include({ count: 2, ports: "3001-3002" });
        expect(summaries["app-1"]).to.deep.equal({ count: 0, ports: undefined, programs: [] });
    });
});

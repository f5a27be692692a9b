import { expect } from "chai";
import { renderHaproxyConfig } from "../../components/render/frontend/haproxy";
import { haproxyWord } from "../../components/render/encode";
import { haproxyAgentFile, renderHaproxyAgent } from "../../components/render/app/haproxyAgent";
import { hostFiles } from "../../components/render/hostSteps";
import { supervisorPrograms } from "../../components/render/app/supervisor";
import { PATHS, PORTS } from "../../components/topology";
import { repoStack } from "../helpers/appStacks";
import { albContext, firstFrontend, frontendsOf, linesMatching, repoContext, variantContext } from "../helpers/frontend";

const serverLines = (cfg: string) => linesMatching(cfg, /^\s+server /);
const section = (cfg: string, header: string) => {
    const lines = cfg.split("\n");
    const start = lines.indexOf(header);
    if (start < 0) throw new Error(`no section ${header}`);
    const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
    return lines.slice(start, end < 0 ? undefined : end).join("\n");
};

describe("renderHaproxyConfig", () => {
    describe("dev stack (one host with every layer)", () => {
        const ctx = repoContext("dev");
        const fe = firstFrontend(ctx);
        const cfg = renderHaproxyConfig(ctx, fe);
        const ip = ctx.addresses["dev-1"];

        it("has one server per Zope client, at the app host's private IP and the client's port", () => {
            const servers = serverLines(cfg);
            expect(servers).to.have.length(2);
            expect(servers[0]).to.match(new RegExp(`^    server dev-1-client1 ${ip}:${PORTS.clientBase + 1} maxconn 2 `));
            expect(servers[1]).to.match(new RegExp(`^    server dev-1-client2 ${ip}:${PORTS.clientBase + 2} maxconn 2 `));
        });

        it("asks each client's agent about that client (the rolling-restart contract)", () => {
            for (const [i, line] of serverLines(cfg).entries()) {
                expect(line).to.include(`agent-check agent-port ${PORTS.haproxyAgent} agent-inter 2s agent-send "client${i + 1}\\n"`);
            }
        });

        it("queues in haproxy: leastconn, timeout queue, redispatch, retries, abortonclose", () => {
            const backend = section(cfg, "backend plone");
            expect(backend).to.include("balance leastconn");
            expect(backend).to.include("option redispatch");
            expect(backend).to.include("retries 3");
            expect(backend).to.include("option abortonclose");
            expect(section(cfg, "defaults")).to.include("timeout queue 60s");
        });

        it("closes the server side after every response, without connection reuse", () => {
            const backend = section(cfg, "backend plone");
            expect(backend).to.include("option http-server-close");
            expect(backend).to.include("http-reuse never");
            expect(cfg).not.to.match(/http-reuse (safe|aggressive|always)/);
        });

        it("checks /ok at the Zope root, with a long interval and passive layer-7 observation", () => {
            const backend = section(cfg, "backend plone");
            expect(backend).to.include("option httpchk");
            expect(backend).to.match(/http-check send meth GET uri \/ok ver HTTP\/1.1/);
            expect(backend).to.include("http-check expect status 200");
            const defaults = linesMatching(backend, /default-server/)[0];
            for (const word of [
                "check",
                "inter 10s",
                "fastinter 1s",
                "downinter 5s",
                "rise 1",
                "fall 5",
                "slowstart 30s",
                "observe layer7",
                "error-limit 10",
                "on-error fastinter",
            ]) {
                expect(defaults).to.include(` ${word}`);
            }
        });

        it("binds the frontend to loopback only, and stats to the private IP only", () => {
            const binds = linesMatching(cfg, /^\s+bind /).map((l) => l.trim());
            expect(binds).to.deep.equal([`bind 127.0.0.1:${PORTS.haproxy}`, `bind ${ip}:${PORTS.haproxyStats}`]);
        });

        it("protects stats with the stats password and has an admin socket", () => {
            expect(cfg).to.include(`stats auth 'stats:${ctx.secrets.haproxyStatsPassword}'`);
            expect(cfg).to.match(/stats socket \/run\/haproxy\/admin\.sock mode 660 level admin/);
            expect(section(cfg, "listen stats")).not.to.include("stats admin");
        });

        it("answers the front-door health URL and fails it when no client is usable", () => {
            const frontend = section(cfg, "frontend plone");
            expect(frontend).to.include(`monitor-uri ${PATHS.frontDoorHealth}`);
            expect(frontend).to.include("monitor fail if { nbsrv(plone) lt 1 }");
        });

        it("logs to the local syslog socket and keeps server states over reloads", () => {
            expect(cfg).to.include("log /dev/log local0");
            expect(cfg).to.include("server-state-file /var/lib/haproxy/server-state");
            expect(cfg).to.include("load-server-state-from-file global");
        });

        it("has no sticky-session cookie unless asked", () => {
            expect(cfg).not.to.match(/^\s+cookie /m);
            expect(cfg).not.to.match(/ cookie /);
        });
    });

    describe("prod stack (2 front ends, 2 app hosts with 8 clients each)", () => {
        const ctx = repoContext("prod");
        const [web1, web2] = frontendsOf(ctx);
        const cfg = renderHaproxyConfig(ctx, web1);

        it("has 16 server lines with maxconn 2, eight per app host", () => {
            const servers = serverLines(cfg);
            expect(servers).to.have.length(16);
            for (const s of servers) expect(s).to.match(/ maxconn 2 /);
            expect(servers.filter((s) => s.includes(` ${ctx.addresses["app-1"]}:`))).to.have.length(8);
            expect(servers.filter((s) => s.includes(` ${ctx.addresses["app-2"]}:`))).to.have.length(8);
            const names = servers.map((s) => s.trim().split(/\s+/)[1]);
            expect(new Set(names).size).to.equal(16);
        });

        it("lists no host that does not run Zope clients", () => {
            for (const host of ["web-1", "web-2", "cache-1", "blobs-1", "blobs-2"]) {
                expect(serverLines(cfg).join("\n")).not.to.include(`${ctx.addresses[host]}:`);
            }
        });

        it("differs between the two front ends only in the stats address and the host name", () => {
            const other = renderHaproxyConfig(ctx, web2);
            const normalise = (text: string, host: string) => text.replace(ctx.addresses[host], "<ip>").replace(`host ${host}`, "host <fe>");
            expect(normalise(other, "web-2")).to.equal(normalise(cfg, "web-1"));
            expect(other).to.include(`bind ${ctx.addresses["web-2"]}:${PORTS.haproxyStats}`);
        });
    });

    describe("sticky sessions", () => {
        const ctx = albContext(2, { plone: { stickySessions: true, clientCount: 3 } });
        const cfg = renderHaproxyConfig(ctx, firstFrontend(ctx));

        it("inserts a SERVERID cookie on POST responses only (cacheable pages stay cookie-free)", () => {
            expect(section(cfg, "backend plone")).to.include("cookie SERVERID insert indirect postonly httponly");
        });

        it("gives every server a cookie value unique across hosts (the cookbook's p<n> collided)", () => {
            const values = serverLines(cfg).map((l) => / cookie (\S+)/.exec(l)?.[1]);
            expect(values).to.have.length(6);
            expect(values.every((v) => !!v)).to.equal(true);
            expect(new Set(values).size).to.equal(6);
            expect(values).to.include("app-1-client1").and.to.include("app-2-client1");
        });
    });

    describe("configuration", () => {
        it("takes balance, intervals, rise/fall, timeouts and threads from the stack", () => {
            const ctx = variantContext({
                plone: { zserverThreads: 4 },
                frontend: {
                    haproxy: { balance: "roundrobin", checkInterval: 20000, rise: 2, fall: 3, queueTimeout: "30s", serverTimeout: "600s", retries: 2 },
                },
            });
            const cfg = renderHaproxyConfig(ctx, firstFrontend(ctx));
            expect(cfg).to.include("balance roundrobin");
            expect(cfg).to.include("inter 20s fastinter 2s downinter 10s rise 2 fall 3");
            expect(cfg).to.include("timeout queue 30s");
            expect(cfg).to.include("timeout server 600s");
            expect(cfg).to.include("retries 2");
            for (const s of serverLines(cfg)) expect(s).to.include(" maxconn 4 ");
        });

        it("checks the configured health path", () => {
            const ctx = variantContext({ plone: { healthCheckPath: "/Plone/@@ok" } });
            expect(renderHaproxyConfig(ctx, firstFrontend(ctx))).to.include("uri /Plone/@@ok ver HTTP/1.1");
        });

        it("adds and removes servers with the app hosts", () => {
            const two = renderHaproxyConfig(albContext(2), firstFrontend(albContext(2)));
            const ctx3 = albContext(3);
            const three = renderHaproxyConfig(ctx3, firstFrontend(ctx3));
            expect(serverLines(two)).to.have.length(4);
            expect(serverLines(three)).to.have.length(6);
            expect(serverLines(three).slice(4).join("\n")).to.include(`${ctx3.addresses["app-3"]}:`);
        });

        it("refuses a host without the frontend layer", () => {
            const ctx = repoContext("prod");
            const app = ctx.topology.hosts.find((h) => h.name === "app-1")!;
            expect(() => renderHaproxyConfig(ctx, app)).to.throw(/frontend layer/);
        });
    });

    describe("haproxyWord", () => {
        it("single-quotes and escapes single quotes the way haproxy's parser reads them", () => {
            expect(haproxyWord("stats:plain")).to.equal("'stats:plain'");
            expect(haproxyWord(`a'b"c$d #e`)).to.equal(`'a'\\''b"c$d #e'`);
        });
        it("refuses a line break: haproxy.cfg is read line by line", () => {
            expect(() => haproxyWord("stats:pw\n    server evil 203.0.113.66:80")).to.throw(/line break/);
        });
    });
});

describe("renderHaproxyAgent", () => {
    const agent = renderHaproxyAgent();

    it("is a python3 program with the port and the rotation directory rendered in", () => {
        expect(agent.startsWith("#!/usr/bin/python3\n")).to.equal(true);
        expect(agent).to.include(`"PLONE_HAPROXY_AGENT_PORT", "${PORTS.haproxyAgent}"`);
        expect(agent).to.include(`"PLONE_ROTATION_DIR", "${PATHS.runtimeDir}/rotation"`);
        expect(agent).not.to.match(/^import (?!argparse|os|re|socketserver|sys)/m);
    });

    it("is what the app host's supervisor program runs, with its built-in port and rotation directory", () => {
        const { ctx, host } = repoStack("dev");
        const program = supervisorPrograms(ctx, host("dev-1")).find((p) => p.role === "agent")!;
        expect(program.command).to.equal(haproxyAgentFile().path);
        expect(hostFiles(ctx, host("dev-1")).find((f) => f.path === program.command)?.content).to.equal(agent);
    });
});

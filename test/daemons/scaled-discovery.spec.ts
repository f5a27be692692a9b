// Discovery without reloads: the front end's real haproxy, with the haproxy.cfg rendered for a
// stack that has a scaled group, fills its server-template slots from SRV records and empties them
// when a record goes, with no reload and no new file (same process, same start time).
//
// Stand-ins, each for what only AWS provides: the DNS that AWS Cloud Map answers through the VPC
// resolver is a tiny Python DNS server (scripts/lib/rehearsal/cloud/dns_standin.py, the rehearsal's
// too) serving SRV and A records from a file the test rewrites; the scaled instances' Zope clients
// are small Python HTTP apps (Plone cannot be installed here) answering /ok like Plone's ok view.
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import type { RenderContext } from "../../components/render/context";
import { renderFrontendFiles } from "../../components/render/frontend";
import type { FrontendLayout } from "../../components/render/frontend/layout";
import { firstFrontend, variantContext } from "../helpers/frontend";
import { freePorts } from "../helpers/ports";
import { haproxyCommand, prepareDebianFiles, Processes, rootedLayout, writeFiles } from "../helpers/frontendDaemons";
import { describeAsRoot } from "../helpers/privileges";
import { REPO } from "../helpers/stacks";
import { requireBinaries, tempDir } from "../helpers/system";

const CLIENT = `
import http.server, sys
name, port = sys.argv[1], int(sys.argv[2])
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"OK" if self.path == "/ok" else ("served-by=%s" % name).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Client", name)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass
Server(("127.0.0.1", port), Handler).serve_forever()
`;

function get(port: number): Promise<{ status: number; client: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: "/page", agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, client: String(res.headers["x-client"] ?? "") }));
        });
        req.on("error", reject);
        req.end();
    });
}

describeAsRoot("scaled app hosts: haproxy server-template slots from SRV records, without a reload", "haproxy chroots and drops to its user", function () {
    let tmp: { dir: string; cleanup: () => void };
    let procs: Processes;
    let layout: FrontendLayout;
    let ctx: RenderContext;
    let records: string;
    let srvName: string;
    let clientPorts: number[];

    /** The slots of the scaled group: name -> "<status> <address>:<port>". */
    async function slots(): Promise<Record<string, { status: string; address: string }>> {
        const csv = await haproxyCommand(layout.paths.haproxySocket, "show stat");
        const rows = csv.split("\n").map((l) => l.split(","));
        const status = rows[0].indexOf("status");
        const state = await haproxyCommand(layout.paths.haproxySocket, "show servers state plone");
        const addresses = Object.fromEntries(
            state
                .split("\n")
                .filter((l) => /^\d/.test(l))
                .map((l) => l.split(" "))
                // be_id be_name srv_id srv_name srv_addr ... srv_port is the 19th field.
                .map((f) => [f[3], `${f[4]}:${f[18]}`]),
        );
        return Object.fromEntries(
            rows.filter((r) => r[0] === "plone" && r[1]?.startsWith("auto-client1-")).map((r) => [r[1], { status: r[status], address: addresses[r[1]] }]),
        );
    }

    async function processInfo(): Promise<{ pid: string; started: string }> {
        const info = await haproxyCommand(layout.paths.haproxySocket, "show info");
        const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(info)?.[1] ?? "";
        return { pid: field("Pid"), started: field("Start_time_sec") };
    }

    function register(instances: { name: string; port: number }[]): void {
        const entries = instances.map((i) => ({ target: `${i.name}.auto.variant.plone-aws.internal`, address: "127.0.0.1", port: i.port }));
        fs.writeFileSync(`${records}.new`, JSON.stringify({ [srvName]: entries }));
        fs.renameSync(`${records}.new`, records);
    }

    before(async function () {
        requireBinaries(this, "haproxy", "python3");
        tmp = tempDir("scaled-discovery");
        fs.chmodSync(tmp.dir, 0o755);
        procs = new Processes(tmp.dir);
        const [haproxy, haproxyStats, haproxyAgent, dns, a, b] = await freePorts(6);
        clientPorts = [a, b];
        layout = { ...rootedLayout(tmp.dir, { haproxy, haproxyStats, haproxyAgent }, "127.0.0.1"), dnsResolver: { address: "127.0.0.1", port: dns } };
        const base = variantContext({
            hosts: [{ name: "fixed-1", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] }],
            plone: { clientCount: 1, blobs: "zeo" },
            frontend: { haproxy: { checkInterval: 1000, fall: 2, rise: 1, slowstart: "1s" } },
            scaling: { groups: [{ name: "auto", instanceTypes: ["t3.large"], min: 0, max: 3, targetCpu: { averageCpu: 50 } }] },
        });
        ctx = { ...base, addresses: { "fixed-1": "127.0.0.1" } };
        srvName = ctx.topology.scaledGroups[0].plan.discovery[0].srvName;
        records = path.join(tmp.dir, "records.json");
        fs.writeFileSync(records, JSON.stringify({ [srvName]: [] }));

        prepareDebianFiles(layout);
        writeFiles(tmp.dir, renderFrontendFiles(ctx, firstFrontend(ctx), layout));
        fs.writeFileSync(layout.paths.haproxyStateFile, "1\n");
        fs.writeFileSync(path.join(tmp.dir, "client.py"), CLIENT);
        procs.start("dns", "python3", [path.join(REPO, "scripts", "lib", "rehearsal", "cloud", "dns_standin.py"), String(dns), records]);
        procs.start("instance-a", "python3", [path.join(tmp.dir, "client.py"), "instance-a", String(a)]);
        procs.start("instance-b", "python3", [path.join(tmp.dir, "client.py"), "instance-b", String(b)]);
        procs.start("haproxy", "haproxy", ["-db", "-f", layout.paths.haproxyConfig]);
        await procs.until("haproxy's runtime API", async () => ((await processInfo()).pid ? true : undefined));
    });

    afterEach(function () {
        if (this.currentTest?.state === "failed")
            for (const n of ["haproxy", "dns"]) console.log(`--- ${n} ---\n${procs.log(n).split("\n").slice(-20).join("\n")}`);
    });

    after(async () => {
        await procs?.stopAll();
        tmp?.cleanup();
    });

    it("renders three slots for the group's max, resolved from the SRV name through the resolvers section", () => {
        const cfg = fs.readFileSync(layout.paths.haproxyConfig, "utf8");
        expect(cfg).to.include(`nameserver vpc 127.0.0.1:${layout.dnsResolver!.port}`);
        expect(cfg).to.match(new RegExp(`server-template auto-client1- 3 ${srvName.replace(/\./g, "\\.")} resolvers vpc `));
    });

    it("fills a slot when an instance registers, serves from it, and empties it when the instance leaves; haproxy is never reloaded", async () => {
        const before = await processInfo();
        const empty = await slots();
        expect(Object.keys(empty)).to.deep.equal(["auto-client1-1", "auto-client1-2", "auto-client1-3"]);
        expect(Object.values(empty).every((s) => s.status.startsWith("MAINT"))).to.equal(true);

        register([{ name: "i-a", port: clientPorts[0] }]);
        const live = await procs.until("a slot of instance a to be UP", async () => {
            const s = Object.values(await slots()).find((x) => x.address === `127.0.0.1:${clientPorts[0]}` && x.status === "UP");
            return s;
        });
        expect(live.status).to.equal("UP");
        const served = await get(layout.ports.haproxy);
        expect(served).to.deep.equal({ status: 200, client: "instance-a" });

        register([
            { name: "i-a", port: clientPorts[0] },
            { name: "i-b", port: clientPorts[1] },
        ]);
        await procs.until("both instances in slots, UP", async () => {
            const up = Object.values(await slots())
                .filter((x) => x.status === "UP")
                .map((x) => x.address);
            return up.includes(`127.0.0.1:${clientPorts[1]}`) && up.includes(`127.0.0.1:${clientPorts[0]}`) ? true : undefined;
        });
        const seen = new Set<string>();
        for (let i = 0; i < 10; i++) seen.add((await get(layout.ports.haproxy)).client);
        expect([...seen].sort()).to.deep.equal(["instance-a", "instance-b"]);

        // Instance a leaves (its drain deregistered it): its slot empties, b serves everything.
        register([{ name: "i-b", port: clientPorts[1] }]);
        await procs.until("instance a's slot to be emptied", async () =>
            Object.values(await slots()).some((x) => x.address === `127.0.0.1:${clientPorts[0]}` && x.status === "UP") ? undefined : true,
        );
        for (let i = 0; i < 5; i++) expect(await get(layout.ports.haproxy)).to.deep.equal({ status: 200, client: "instance-b" });

        const after = await processInfo();
        expect(after, "the same haproxy process, started once").to.deep.equal(before);
        expect(procs.log("haproxy")).not.to.match(/[Rr]eload|re-exec/);
    });
});

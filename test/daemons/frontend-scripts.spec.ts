// The programs the front end's files install, run for real: the haproxy agent against bad input,
// and plone-tls-enable with a stand-in certbot (no network here) and a recording stand-in for
// plone-frontend-service (so the machine's own nginx is never touched).
import { expect } from "chai";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { renderFrontendFiles } from "../../components/render/frontend";
import { haproxyAgentFile } from "../../components/render/app/haproxyAgent";
import { rotationDir } from "../../components/render/frontend/layout";
import { frontendServiceScriptPath } from "../../components/render/frontend/service";
import { tlsEnableScriptPath } from "../../components/render/frontend/certbot";
import { NGINX_TLS_SERVERS, NGINX_TLS_SWITCH, nginxPloneDir, nginxTlsEnabledDir } from "../../components/render/frontend/nginx";
import { firstFrontend, variantContext } from "../helpers/frontend";
import { freePorts } from "../helpers/ports";
import { prepareDebianFiles, Processes, rootedLayout, writeFiles } from "../helpers/frontendDaemons";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

/** Sends `payload` to the agent and returns everything it answers before closing. */
function ask(port: number, payload: Buffer | string, opts: { halfClose?: boolean } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        let out = "";
        const c = net.connect(port, "127.0.0.1", () => {
            c.write(payload);
            if (opts.halfClose !== false) c.end();
        });
        c.setEncoding("utf8");
        c.setTimeout(7000, () => c.destroy(new Error("agent did not close the connection")));
        c.on("data", (d) => (out += d));
        c.on("close", () => resolve(out));
        c.on("error", reject);
    });
}

describe("plone-haproxy-agent", function () {
    let tmp: { dir: string; cleanup: () => void };
    let procs: Processes;
    let port: number;
    let state: string;

    before(async function () {
        requireBinaries(this, "python3");
        tmp = tempDir("agent");
        procs = new Processes(tmp.dir);
        [port] = await freePorts(1);
        const layout = rootedLayout(tmp.dir, { haproxyAgent: port });
        state = rotationDir(layout);
        fs.mkdirSync(state, { recursive: true });
        const [file] = Object.values(writeFiles(tmp.dir, [haproxyAgentFile(layout)]));
        procs.start("agent", "python3", [file, "--bind", "127.0.0.1"]);
        await procs.until("the agent to answer", async () => (await ask(port, "client1\n")) || undefined);
    });
    after(async () => {
        await procs?.stopAll();
        tmp?.cleanup();
    });

    it("answers ready without a rotation file, and the file's drain or maint", async () => {
        expect(await ask(port, "client1\n")).to.equal("ready\n");
        fs.writeFileSync(path.join(state, "client1"), "drain\n");
        expect(await ask(port, "client1\n")).to.equal("drain\n");
        fs.writeFileSync(path.join(state, "client1"), "MAINT");
        expect(await ask(port, "client1\n")).to.equal("maint\n");
        fs.writeFileSync(path.join(state, "client1"), "something else");
        expect(await ask(port, "client1\n"), "a file means out of rotation").to.equal("drain\n");
        fs.unlinkSync(path.join(state, "client1"));
        expect(await ask(port, "client1\n")).to.equal("ready\n");
    });

    it("answers nothing to names that are not client names (no path traversal)", async () => {
        fs.writeFileSync(path.join(tmp.dir, "secret"), "maint");
        for (const name of ["../secret", "../../etc/passwd", "/etc/passwd", ".hidden", "client1/..", ""]) {
            expect(await ask(port, `${name}\n`), name).to.equal("");
        }
    });

    it("answers nothing when the rotation entry cannot be read, instead of guessing", async () => {
        fs.mkdirSync(path.join(state, "client7"));
        expect(await ask(port, "client7\n")).to.equal("");
    });

    it("survives garbage, long lines and clients that hang up, and keeps answering", async () => {
        await ask(port, Buffer.from([0xff, 0xfe, 0x00, 0x0a]));
        await ask(port, "x".repeat(100_000));
        await ask(port, "");
        const hangUp = net.connect(port, "127.0.0.1", () => hangUp.destroy());
        await new Promise((r) => setTimeout(r, 200));
        expect(await ask(port, "client2\n")).to.equal("ready\n");
        expect(procs.log("agent")).not.to.include("Traceback");
    });
});

describeAsRoot("plone-tls-enable (with a stand-in certbot)", "the script's nginx -t binds port 80", function () {
    let tmp: { dir: string; cleanup: () => void };
    let env: NodeJS.ProcessEnv;
    let script: string;
    let calls: string;
    let enabled: string;
    let layout: ReturnType<typeof rootedLayout>;

    const ctx = variantContext({
        frontend: { domain: "www.example.org", aliases: ["example.org"], tls: { mode: "certbot", email: "ops@example.org" } },
    });

    beforeEach(function () {
        requireBinaries(this, "bash", "nginx", "openssl");
        tmp = tempDir("tls-enable");
        fs.chmodSync(tmp.dir, 0o755);
        layout = rootedLayout(tmp.dir);
        prepareDebianFiles(layout);
        const written = writeFiles(tmp.dir, renderFrontendFiles(ctx, firstFrontend(ctx), layout));
        script = written[tlsEnableScriptPath(layout)];
        enabled = nginxTlsEnabledDir(layout);
        calls = path.join(tmp.dir, "calls.log");
        // Stand-ins: certbot writes a self-signed certificate where the real one would go (or
        // fails when CERTBOT_FAIL is set); the service script runs nginx -t on the rendered config.
        const bin = path.join(tmp.dir, "fake-bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(
            path.join(bin, "certbot"),
            `#!/bin/bash
echo "certbot $*" >>"${calls}"
[ -z "\${CERTBOT_FAIL:-}" ] || exit 1
name=""
while [ $# -gt 0 ]; do [ "$1" = --cert-name ] && name=$2; shift; done
mkdir -p "${layout.paths.letsencryptLive}/$name"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$name" -keyout "${layout.paths.letsencryptLive}/$name/privkey.pem" -out "${layout.paths.letsencryptLive}/$name/fullchain.pem" 2>/dev/null
`,
            { mode: 0o755 },
        );
        fs.writeFileSync(
            written[frontendServiceScriptPath(layout)],
            `#!/bin/bash
echo "service $*" >>"${calls}"
[ -z "\${SERVICE_FAIL:-}" ] || exit 1
nginx -t -q -c "${layout.paths.nginxDir}/nginx.conf"
`,
            { mode: 0o755 },
        );
        env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    });
    afterEach(() => tmp?.cleanup());

    const callLog = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8") : "");
    const links = () => (fs.existsSync(enabled) ? fs.readdirSync(enabled).sort() : []);

    it("leaves the site on HTTP and exits 0 while there is no certificate (DNS not there yet)", () => {
        const r = run("bash", [script], { env: { ...env, CERTBOT_FAIL: "1" } });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stderr).to.include("the site stays on HTTP");
        expect(links()).to.deep.equal([]);
        expect(callLog()).not.to.include("service");
    });

    it("gets the certificate for every name, switches HTTPS on, and is a no-op the next time", () => {
        const r = run("bash", [script], { env });
        expect(r.status, r.stderr).to.equal(0);
        expect(callLog()).to.include(
            `certbot certonly --webroot --webroot-path ${layout.paths.acmeWebroot} --cert-name www.example.org -d www.example.org -d example.org --email ops@example.org --agree-tos --non-interactive --keep-until-expiring --expand`,
        );
        expect(callLog()).to.include("service reload nginx");
        expect(links()).to.deep.equal([NGINX_TLS_SERVERS, NGINX_TLS_SWITCH]);
        expect(fs.readlinkSync(path.join(enabled, NGINX_TLS_SERVERS))).to.equal(`../${NGINX_TLS_SERVERS}`);
        // nginx accepts the configuration with HTTPS on (the stand-in service ran nginx -t).
        expect(run("nginx", ["-T", "-c", `${layout.paths.nginxDir}/nginx.conf`]).stdout).to.include("set $plone_https_redirect 1;");

        fs.writeFileSync(calls, "");
        const again = run("bash", [script], { env });
        expect(again.status).to.equal(0);
        expect(callLog(), "nothing to do").to.equal("");

        // A name added to the stack: certbot again (expanding the certificate), then a reload.
        fs.writeFileSync(path.join(nginxPloneDir(layout), "certificate-names"), "www.example.org\n");
        expect(run("bash", [script], { env }).status).to.equal(0);
        expect(callLog()).to.match(/certbot certonly .*--expand/);
        expect(callLog()).to.include("service reload nginx");
    });

    it("switches HTTPS off again when nginx refuses it", () => {
        const r = run("bash", [script], { env: { ...env, SERVICE_FAIL: "1" } });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.include("HTTPS stays off");
        expect(links()).to.deep.equal([]);
    });
});

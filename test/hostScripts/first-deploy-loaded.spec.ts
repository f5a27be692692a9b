// A first deploy on a host whose supervisord already loaded the app's programs (at boot, or
// because the configure step ran `supervisorctl update`): with no release yet they failed to start
// (FATAL). plone-deploy starts them on the new release. Same stand-in setup as deploy.spec.ts.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePortRange, freePorts } from "../helpers/ports";
import { FixtureRepo, httpGet, installTestHost, runHostScript, STANDIN_COMMANDS } from "../helpers/standin";
import { TempSupervisord } from "../helpers/supervisord";
import { requireBinaries, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

describeAsRoot("plone-deploy: first deploy with the programs already loaded (FATAL) by supervisord", "plone-deploy runs as root", function () {
    let tmp: { dir: string; cleanup: () => void };
    let supervisord: TempSupervisord | undefined;

    before(function () {
        requireBinaries(this, "git", "supervisord", "supervisorctl", "python3", "curl", "ss", "flock");
        tmp = tempDir("firstdeploy");
    });
    after(function () {
        supervisord?.stop();
        tmp?.cleanup();
    });

    it("starts the ZEO server and the client on the new release", async function () {
        const root = path.join(tmp.dir, "host");
        const repo = new FixtureRepo(path.join(tmp.dir, "repo"));
        const base = await freePortRange(1);
        const [zeo] = await freePorts(1);
        const ports = { 8080: base, 8081: base + 1, 8001: zeo };
        const spec = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver"] }], {
            app: { repository: repo.url, ...STANDIN_COMMANDS },
            plone: { clientCount: 1, startTimeout: 8 },
        });
        const { ctx, host } = contextOf(spec);
        supervisord = new TempSupervisord(path.join(root, "supervisord"), `${root}/etc/supervisor/conf.d/*.conf`);
        installTestHost(ctx, host("app-1"), root, ports, { SUPERVISOR_CONF: supervisord.conf });
        fs.mkdirSync(`${root}/var/log/supervisor`, { recursive: true });
        fs.writeFileSync(`${root}/usr/local/sbin/plone-haproxy-agent`, "#!/bin/sh\nexec sleep 3600\n", { mode: 0o755 });
        supervisord.start();
        expect(supervisord.settled("plone-client1", "plone-zeoserver")).to.include({ "plone-client1": "FATAL", "plone-zeoserver": "FATAL" });

        const r = runHostScript(root, "plone-deploy");
        expect(r.status, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.include("restarting plone-zeoserver (no record of the build it runs)");
        expect(r.stdout).to.include("client1: restarting plone-client1");
        expect(httpGet(base + 1, "/ok").body).to.match(/^client1 \d{14} \/ok/);
        expect(httpGet(zeo, "/").status).to.equal(200);
    });
});

// The rendered program file, loaded by a real supervisord (temp config and socket), starts the
// programs from a fake release through `current`. The clients are the stand-in HTTP app (Plone
// cannot be built here); user=plone becomes user=root, since this machine has no plone user.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { appLayout } from "../../components/render/app/layout";
import { renderSupervisorPrograms } from "../../components/render/app/supervisor";
import { renderAppFiles } from "../../components/render/app";
import { renderDeployEnv } from "../../components/render/app/deployEnv";
import { renderAppEnvScript } from "../../components/render/hostScripts/appEnv";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePorts } from "../helpers/ports";
import { TempSupervisord } from "../helpers/supervisord";
import { httpGet, relocate, remapPorts, STANDIN_APP } from "../helpers/standin";
import { requireBinaries, sleepMs, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

describeAsRoot("supervisord runs the rendered programs", "supervisord switches the programs to their user", function () {
    let tmp: { dir: string; cleanup: () => void };
    let supervisord: TempSupervisord | undefined;

    before(function () {
        requireBinaries(this, "supervisord", "supervisorctl", "python3", "curl");
        tmp = tempDir("supervisord");
    });
    after(function () {
        supervisord?.stop();
        tmp?.cleanup();
    });

    it("starts the clients, the ZEO server, a worker and an event listener from current", async function () {
        const spec = variantSpec(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "zeoserver"] },
            ],
            {
                app: {
                    // Both quote kinds, % and #: supervisor's environment= could not hold this; plone-app-env does.
                    environment: { PLONE_ENV: `it's "staging" 100% #1`, TZ: "UTC" },
                    initCommands: [
                        { name: "listener", cmd: "bin/listener", eventListener: { events: ["TICK_5"] } },
                        { name: "worker", cmd: "bin/worker", args: "--flag" },
                    ],
                },
                plone: { clientCount: 2 },
            },
        );
        const { ctx, host } = contextOf(spec);
        const root = tmp.dir;
        const [p1, p2, pz] = await freePorts(3);
        const ports: Record<number, number> = { 8081: p1, 8082: p2, 8001: pz };

        // A release as plone-deploy leaves it: releases/<ts>/bin/... and current -> it.
        const layout = appLayout(spec);
        const release = `${root}${layout.deployTo}/releases/20250101000000`;
        fs.mkdirSync(`${release}/bin`, { recursive: true });
        fs.mkdirSync(`${release}/standin`);
        fs.writeFileSync(`${release}/standin/app.py`, STANDIN_APP);
        const script = (name: string, body: string) => fs.writeFileSync(`${release}/bin/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        for (const [name, port] of [
            ["client1", p1],
            ["client2", p2],
            ["zeoserver", pz],
        ] as const) {
            script(name, `exec python3 ${release}/standin/app.py ${port} ${name} ${release}`);
        }
        script("worker", `echo "worker $*"; exec sleep 600`);
        // A minimal event listener: READY, read one event, OK, repeat.
        script("listener", `while true; do printf 'READY\\n'; read -r header; len=\${header##*len:}; head -c "$len" >/dev/null; printf 'RESULT 2\\nOK'; done`);
        fs.symlinkSync(release, `${root}${layout.current}`);
        fs.mkdirSync(`${root}/usr/local/sbin`, { recursive: true });
        fs.writeFileSync(`${root}/usr/local/sbin/plone-haproxy-agent`, "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
        fs.writeFileSync(`${root}/usr/local/sbin/plone-app-env`, renderAppEnvScript(), { mode: 0o755 });
        // deploy.env and app-secrets.env (plone-aws:appSecrets) where plone-app-env reads them.
        const secretCtx = { ...ctx, secrets: { ...ctx.secrets, appSecrets: { SENTRY_DSN: `https://k3y@sentry.example.org/1 'quoted' "too" $HOME` } } };
        fs.mkdirSync(`${root}${layout.configDir}`, { recursive: true });
        fs.writeFileSync(`${root}${layout.deployEnv}`, relocate(renderDeployEnv(ctx, host("app-1")), root));
        const secretsFile = renderAppFiles(secretCtx, host("app-1")).find((f) => f.path === layout.appSecrets)!;
        expect(secretsFile).to.include({ mode: "0640", secret: true });
        fs.writeFileSync(`${root}${layout.appSecrets}`, secretsFile.content, { mode: 0o640 });
        fs.mkdirSync(`${root}/var/log/supervisor`, { recursive: true });

        const rendered = renderSupervisorPrograms(ctx, host("app-1"));
        const confDir = path.join(root, "etc/supervisor/conf.d");
        fs.mkdirSync(confDir, { recursive: true });
        fs.writeFileSync(path.join(confDir, "plone.conf"), remapPorts(relocate(rendered, root), ports).replace(/^user=plone$/gm, "user=root"));

        supervisord = new TempSupervisord(path.join(root, "supervisord"), `${confDir}/*.conf`);
        supervisord.start();
        expect(supervisord.settled(), supervisord.log()).to.deep.equal({
            "plone-client1": "RUNNING",
            "plone-client2": "RUNNING",
            "plone-haproxy-agent": "RUNNING",
            "plone-listener": "RUNNING",
            "plone-worker": "RUNNING",
            "plone-zeoserver": "RUNNING",
        });

        // The client answers on its port, from the release current points at, with the app's environment.
        let answer = { status: 0, body: "" };
        for (let i = 0; i < 40 && answer.status !== 200; i++) {
            answer = httpGet(p1, "/ok");
            if (answer.status !== 200) sleepMs(250);
        }
        expect(answer.status).to.equal(200);
        expect(answer.body).to.equal(`client1 20250101000000 /ok it's "staging" 100% #1\n`);
        expect(httpGet(p2, "/").body).to.match(/^client2 20250101000000/);

        // supervisor started it in current and logs where the file says.
        const pid = supervisord.pidOf("plone-client1");
        expect(fs.readlinkSync(`/proc/${pid}/cwd`)).to.equal(release);
        expect(fs.readFileSync(`${root}/var/log/supervisor/plone-worker-stdout.log`, "utf8")).to.equal("worker --flag\n");
        const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
        expect(environ).to.include.members([`PLONE_ENV=it's "staging" 100% #1`, "TZ=UTC", `SENTRY_DSN=https://k3y@sentry.example.org/1 'quoted' "too" $HOME`]);
        // The secret is in no file supervisor or anyone else reads, nor on the command line ps shows.
        expect(fs.readFileSync(path.join(confDir, "plone.conf"), "utf8")).not.to.include("k3y");
        expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.to.include("k3y");
    });
});

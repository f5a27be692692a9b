// The scripts of a scaled instance (components/render/scaling): shellcheck-clean (the drain with
// common.sh and the group host's deploy.env, as on the instance), the bundle unpacks into exactly
// its files, and the boot script, run with stand-ins for what only AWS provides, fetches the
// bundle version it names, refuses a bundle that does not match its hash, and fetches every
// secret file's SSM parameters in order.
//
// Stand-ins, each said: the metadata service (IMDSv2) is a Python HTTP server that hands out a
// token and answers only requests that carry it; the AWS CLI is a bash script that serves S3
// objects and SSM parameters from a directory and records each call. The steps themselves (setup,
// configure, build, activate) are replaced by scripts that record their environment: a fixed
// host runs the same ones, tested in test/hostScripts and the rehearsal.
import { imageComponentScript, renderImageBuildUserData, renderImageComponent, renderImageScript } from "../../components/render/scaling/image";
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { renderAppFiles } from "../../components/render/app";
import { renderScaledBundle, scaledContext } from "../../components/render/scaling/bundle";
import {
    renderBootScript,
    renderBundle,
    renderDrainScript,
    renderWatchScript,
    SECRET_FILES_VAR,
    type BootSettings,
} from "../../components/render/scaling/instance";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import { loadStack } from "../../scripts/lib/offline/loadStack";
import { freePorts } from "../helpers/ports";
import { Processes } from "../helpers/frontendDaemons";
import { REPO } from "../helpers/stacks";
import { requireBinaries, run, tempDir } from "../helpers/system";

const SCALED = path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaled.yaml");

const IMDS = `
import http.server, sys
TOKEN = "t0ken"
class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
    def do_PUT(self):
        ok = self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self.reply(200 if ok else 400, TOKEN if ok else "")
    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401, "")
        values = {"/latest/meta-data/instance-id": "i-0123456789abcdef0", "/latest/meta-data/local-ipv4": "10.40.128.77"}
        self.reply(200 if self.path in values else 404, values.get(self.path, ""))
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
`;

/** The AWS CLI stand-in: S3 objects and SSM parameters from $AWS_STANDIN (files), every call logged. */
const AWS_CLI = `#!/bin/bash
set -euo pipefail
printf '%s\\n' "$*" >>"$AWS_STANDIN/calls"
args=("$@")
arg() { local i; for ((i = 0; i < \${#args[@]}; i++)); do [[ \${args[i]} == "$1" ]] && { printf '%s' "\${args[i + 1]}"; return; }; done; }
case "$3 $4" in
"s3api get-object") cp "$AWS_STANDIN/s3/$(arg --key)@$(arg --version-id)" "\${args[-1]}" ;;
"s3api head-object") exit 1 ;;
"ssm get-parameter") cat "$AWS_STANDIN/ssm$(arg --name)"; echo ;;
*) echo "aws stand-in: not here: $*" >&2; exit 2 ;;
esac
`;

describe("the scripts of a scaled instance", function () {
    const loaded = loadStack({ stackFile: SCALED });
    const ctx = offlineRenderContext(loaded.spec!);
    const group = ctx.topology.scaledGroups[0];

    before(function () {
        requireBinaries(this, "shellcheck", "python3");
    });

    it("are shellcheck-clean: boot, watch, the drain with common.sh and the group host's deploy.env, the image's build and its build instance's user data", () => {
        const { dir, cleanup } = tempDir("scaled-shellcheck");
        try {
            const app = renderAppFiles(scaledContext(ctx, group), group.host).filter((f) => /\/(common\.sh|deploy\.env)$/.test(f.path));
            for (const f of app) fs.writeFileSync(path.join(dir, path.basename(f.path)), f.content);
            const boot = renderBootScript(
                settings("sha", [
                    { id: "srv-1", kind: "client", process: "client1", port: 8081 },
                    { id: "srv-2", kind: "volto", process: "volto1", port: 3001 },
                ]),
            );
            const files = {
                boot: boot,
                watch: renderWatchScript(),
                drain: renderDrainScript(),
                image: imageComponentScript(renderImageComponent(renderImageScript(scaledContext(ctx, group), group.host, group.plan.name), group.plan.name)),
                "image-user-data": renderImageBuildUserData(loaded.spec!.region),
            };
            for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
            const r = run("shellcheck", ["-s", "bash", "-x", "-P", dir, "-f", "gcc", ...Object.keys(files).map((n) => path.join(dir, n))]);
            expect(r.stdout + r.stderr).to.equal("");
            expect(r.status).to.equal(0);
        } finally {
            cleanup();
        }
    });

    it("the bundle unpacks into the host's steps, the drain, the watch and the list of secret files", () => {
        const { dir, cleanup } = tempDir("scaled-bundle");
        try {
            const bundle = renderScaledBundle(ctx, group);
            fs.writeFileSync(path.join(dir, "bundle.sh"), bundle.content);
            const r = run("bash", [path.join(dir, "bundle.sh"), path.join(dir, "out")]);
            expect(r.status, r.stderr).to.equal(0);
            expect(fs.readdirSync(path.join(dir, "out")).sort()).to.deep.equal([
                "activate.sh",
                "build.sh",
                "configure.sh",
                "drain.sh",
                "secret-files.list",
                "setup.sh",
                "watch.sh",
            ]);
            expect(fs.readFileSync(path.join(dir, "out", "drain.sh"), "utf8")).to.equal(renderDrainScript());
            expect(crypto.createHash("sha256").update(bundle.content).digest("hex")).to.equal(bundle.sha256);
            const list = fs
                .readFileSync(path.join(dir, "out", "secret-files.list"), "utf8")
                .trim()
                .split("\n");
            expect(list.map((l) => l.split(" ").length)).to.deep.equal([2, 2, 2]);
        } finally {
            cleanup();
        }
    });

    function settings(sha256: string, services: BootSettings["services"]): BootSettings {
        return {
            stackName: "scaled",
            group: "scaled-app-auto",
            region: "eu-west-1",
            bucket: "bundles",
            bundleKey: "groups/app-auto/bundle.sh",
            bundleVersion: "v2",
            bundleSha256: sha256,
            buildCacheKey: "build-cache/plone.tar.gz",
            frontendCacheKey: "build-cache/plone-frontend.tar.gz",
            lifecycleHook: "app-auto-drain",
            services,
            healthPath: "/ok",
            voltoHealthPath: "/health",
            bootTimeout: 30,
        };
    }

    describe("the boot script with stand-ins for the metadata service and the AWS CLI", function () {
        let tmp: { dir: string; cleanup: () => void };
        let procs: Processes;
        let imdsPort: number;
        let stage: string;
        let bundleContent: string;

        before(async () => {
            tmp = tempDir("scaled-boot");
            procs = new Processes(tmp.dir);
            [imdsPort] = await freePorts(1);
            fs.writeFileSync(path.join(tmp.dir, "imds.py"), IMDS);
            fs.writeFileSync(path.join(tmp.dir, "aws"), AWS_CLI, { mode: 0o755 });
            procs.start("imds", "python3", [path.join(tmp.dir, "imds.py"), String(imdsPort)]);
            await procs.until("the metadata stand-in", async () =>
                run("curl", ["-fsS", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 1", `http://127.0.0.1:${imdsPort}/latest/api/token`]).status ===
                0
                    ? true
                    : undefined,
            );
            // A bundle whose steps record what they were given; the setup step stops the boot after them.
            stage = path.join(tmp.dir, "stage");
            fs.mkdirSync(stage);
            const record = (name: string) => `#!/bin/bash\nprintf '%s\\n' "${name} ${"$"}{${SECRET_FILES_VAR}:-} $(umask)" >>${stage}/steps\n`;
            bundleContent = renderBundle({
                "setup.sh": record("setup"),
                "configure.sh": `${record("configure")}cp -r "$${SECRET_FILES_VAR}" ${stage}/secrets\nexit 7\n`,
                "build.sh": record("build"),
                "activate.sh": record("activate"),
                "drain.sh": "#!/bin/bash\n",
                "watch.sh": "#!/bin/bash\n",
                "secret-files.list":
                    "aaaa /plone-aws/scaled/app-auto/files/aaaa/0 /plone-aws/scaled/app-auto/files/aaaa/1\nbbbb /plone-aws/scaled/app-auto/files/bbbb/0\n",
            });
            const s3 = path.join(tmp.dir, "standin", "s3", "groups", "app-auto");
            fs.mkdirSync(s3, { recursive: true });
            fs.writeFileSync(path.join(s3, "bundle.sh@v2"), bundleContent);
            fs.writeFileSync(path.join(s3, "bundle.sh@v1"), "#!/bin/bash\necho an older bundle\n");
            const ssm = path.join(tmp.dir, "standin", "ssm", "plone-aws", "scaled", "app-auto", "files");
            for (const [p, v] of [
                ["aaaa/0", "Zmlyc3Qg"],
                ["aaaa/1", "aGFsZgo="],
                ["bbbb/0", "c2Vjb25kCg=="],
            ]) {
                fs.mkdirSync(path.dirname(path.join(ssm, p)), { recursive: true });
                fs.writeFileSync(path.join(ssm, p), v);
            }
        });

        after(async () => {
            await procs?.stopAll();
            tmp?.cleanup();
        });

        /** Runs the boot script as user data would, with its paths moved under the test's directory. */
        function boot(sha256: string): { status: number; log: string; calls: string } {
            const root = path.join(tmp.dir, `root-${sha256.slice(0, 6)}`);
            const script = renderBootScript(settings(sha256, [{ id: "srv-1", kind: "client", process: "client1", port: 8081 }]))
                .split("/var/log/plone-aws")
                .join(`${root}/log`)
                .split("/var/lib/plone-aws")
                .join(`${root}/lib`)
                .split("/run/plone-aws")
                .join(`${root}/run`)
                .split("/etc/plone-aws")
                .join(`${root}/etc`)
                .split("/usr/local/sbin")
                .join(`${root}/sbin`);
            // /usr/local/sbin is on every Debian; /etc/plone-aws is not (the boot makes it).
            fs.mkdirSync(path.join(root, "sbin"), { recursive: true });
            fs.writeFileSync(path.join(root, "boot.sh"), script);
            fs.rmSync(path.join(tmp.dir, "standin", "calls"), { force: true });
            const r = run("bash", [path.join(root, "boot.sh")], {
                env: {
                    ...process.env,
                    PLONE_AWS_IMDS: `http://127.0.0.1:${imdsPort}`,
                    PLONE_AWS_CLI: path.join(tmp.dir, "aws"),
                    AWS_STANDIN: path.join(tmp.dir, "standin"),
                },
            });
            const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
            return { status: r.status, log: read(path.join(root, "log", "boot.log")), calls: read(path.join(tmp.dir, "standin", "calls")) };
        }

        it("refuses a bundle that does not match the hash in its user data, running nothing of it", () => {
            const r = boot("0".repeat(64));
            expect(r.status).to.equal(1);
            expect(r.log).to.include("instance i-0123456789abcdef0 (10.40.128.77) of group scaled-app-auto");
            expect(r.log).to.include("the bundle does not match its hash: not running it");
            expect(fs.existsSync(path.join(stage, "steps"))).to.equal(false);
        });

        it("fetches the version its template names, each secret file's parameters in order, then runs setup and configure with them", () => {
            const sha = crypto.createHash("sha256").update(bundleContent).digest("hex");
            const r = boot(sha);
            expect(r.status, r.log).to.equal(7); // the stand-in configure step stops the boot here
            expect(r.calls.split("\n")[0]).to.equal(
                "--region eu-west-1 s3api get-object --bucket bundles --key groups/app-auto/bundle.sh --version-id v2 " +
                    r.calls.split("\n")[0].split(" ").pop(),
            );
            expect(r.calls).to.include(
                "ssm get-parameter --with-decryption --name /plone-aws/scaled/app-auto/files/aaaa/0 --query Parameter.Value --output text",
            );
            const steps = fs.readFileSync(path.join(stage, "steps"), "utf8").trim().split("\n");
            expect(steps.map((s) => s.split(" ")[0])).to.deep.equal(["setup", "configure"]);
            // The setup step does not see the secret files; the steps run with a fixed host's umask
            // (the boot's own, 077, would keep the haproxy agent from reading the rotation files).
            expect(steps[0]).to.equal("setup  0022");
            expect(steps[1]).to.match(/^configure \S+ 0022$/);
            const decode = (id: string) => Buffer.from(fs.readFileSync(path.join(stage, "secrets", id), "utf8"), "base64").toString("utf8");
            expect(decode("aaaa")).to.equal("first half\n");
            expect(decode("bbbb")).to.equal("second\n");
            expect(r.log).not.to.include("first half");
        });
    });
});

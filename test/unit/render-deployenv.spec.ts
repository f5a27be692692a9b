// deploy.env is read back by bash exactly as rendered: every value quoted, nothing executed.
import { expect } from "chai";
import { renderAppFiles } from "../../components/render/app";
import { renderDeployEnv } from "../../components/render/app/deployEnv";
import { contextOf, repoStack, VARIANTS, variantSpec } from "../helpers/appStacks";
import * as fs from "fs";
import * as path from "path";
import { run, tempDir } from "../helpers/system";

/** Sources the file in bash and returns each variable it sets (arrays as string[]). */
function source(text: string): Record<string, string | string[]> {
    const { dir, cleanup } = tempDir("deployenv");
    try {
        const file = path.join(dir, "deploy.env");
        fs.writeFileSync(file, text);
        const names = text
            .split("\n")
            .filter((l) => /^[A-Z_]+=/.test(l))
            .map((l) => l.slice(0, l.indexOf("=")));
        // NUL-separated: s name value | a name count values...
        const dump = `set -euo pipefail; source "$1"; shift
dump() { local -n ref=$1; if [[ $(declare -p "$1") == "declare -a"* ]]; then printf 'a\\0%s\\0%d\\0' "$1" "\${#ref[@]}"; if (( \${#ref[@]} )); then printf '%s\\0' "\${ref[@]}"; fi; else printf 's\\0%s\\0%s\\0' "$1" "$ref"; fi; }
for v in "$@"; do dump "$v"; done`;
        const r = run("bash", ["-c", dump, "dump", file, ...names]);
        if (r.status !== 0) throw new Error(r.stderr);
        const parts = r.stdout.split("\0");
        const out: Record<string, string | string[]> = {};
        for (let i = 0; i < parts.length - 1;) {
            const kind = parts[i++];
            const name = parts[i++];
            if (kind === "s") out[name] = parts[i++];
            else {
                const n = Number(parts[i++]);
                out[name] = parts.slice(i, i + n);
                i += n;
            }
        }
        return out;
    } finally {
        cleanup();
    }
}

describe("deploy.env", function () {
    it("dev-1: the app, its clients, the ZEO server to watch and the release layout", function () {
        const { ctx, host } = repoStack("dev");
        const env = source(renderDeployEnv(ctx, host("dev-1")));
        expect(env).to.deep.include({
            APP: "plone",
            HOST: "dev-1",
            DEPLOY_TO: "/srv/www/plone",
            CONFIG_DIR: "/etc/plone-aws/plone",
            RUNTIME_DIR: "/run/plone-aws",
            REPOSITORY: "https://github.com/plone/plone-aws-example-buildout.git",
            REVISION: "main",
            KEEP_RELEASES: "5",
            DEPLOY_USER: "plone",
            PYTHON: "python3",
            BUILD_COMMAND: "bin/buildout -c deploy.cfg",
            ALWAYS_BUILD: "false",
            CLIENTS: ["client1:8081", "client2:8082"],
            HEALTH_PATH: "/ok",
            WARMUP_PATHS: ["/"],
            SITE_ID: "Plone",
            RESTART_DELAY: "0",
            SERVER_PROGRAMS: ["plone-zeoserver"],
            SERVER_FINGERPRINTS: ["bin/zeoserver parts/zeoserver/etc"],
            SERVER_PORTS: ["8001"],
            WORKER_PROGRAMS: [],
            AGENT_PROGRAM: "plone-haproxy-agent",
            SYMLINK_FROM: ["eggs", "downloads", "extends", "var"],
            SYMLINK_TO: ["eggs", "downloads", "extends", "var"],
            DATA_DIRS: ["/srv/data/blobstorage", "/srv/data/filestorage", "/srv/data/backups"],
            BLOB_MOUNT: "",
            APP_ENVIRONMENT: ["PLONE_ENV=development"],
        });
        expect(env.BOOTSTRAP_COMMAND).to.equal('"$VENV/bin/pip" install -r requirements.txt && "$VENV/bin/buildout" -c deploy.cfg bootstrap');
    });

    it("prod app-1: eight clients, the gluster mount required, the restart delay", function () {
        const { ctx, host } = repoStack("prod");
        const env = source(renderDeployEnv(ctx, host("app-1")));
        expect(env.CLIENTS).to.have.length(8);
        expect(env).to.deep.include({
            BLOB_MOUNT: "/srv/shared-blobs",
            DATA_DIRS: ["/srv/shared-blobs/blobstorage"],
            RESTART_DELAY: "10",
            REVISION: "v1.0.0",
            SERVER_PROGRAMS: [],
        });
    });

    it("waits between clients until the front ends have taken the last one back: an agent check, then rise checks at downinter", function () {
        const { ctx, host } = repoStack("dev");
        // agent-inter 2 s + rise 1 x downinter 5 s (checkInterval 10 s) + 1 s; draining after one agent check + 2 s.
        expect(source(renderDeployEnv(ctx, host("dev-1")))).to.deep.include({ DRAIN_GRACE: "4", READY_GRACE: "8" });
        const slow = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver"] }], {
            frontend: { domain: "www.example.org", haproxy: { checkInterval: 20000, rise: 2 } },
        });
        const s = contextOf(slow);
        expect(source(renderDeployEnv(s.ctx, s.host("app-1"))).READY_GRACE).to.equal("23");
    });

    it("celery app-1: the worker and beat are restarted after the clients", function () {
        const { ctx, host } = contextOf(VARIANTS.celery());
        const app = source(renderDeployEnv(ctx, host("app-1")));
        expect(app.WORKER_PROGRAMS).to.deep.equal(["plone-celery", "plone-celerybeat"]);
        expect(app.WORKER_DELAYS).to.deep.equal(["0", "0"]);
        const zeo = source(renderDeployEnv(ctx, host("zeo-1")));
        expect(zeo).to.deep.include({
            CLIENTS: [],
            SERVER_PROGRAMS: ["plone-zeoserver"],
            AGENT_PROGRAM: "",
            DATA_DIRS: ["/srv/data/filestorage", "/srv/data/blobstorage", "/srv/data/backups"],
        });
    });

    it("keeps hostile values as data: quotes, $(...), backquotes and blanks", function () {
        // Validation refuses these values (test/daemons/hostile-config.spec.ts); the encoder of
        // deploy.env must keep them as data all the same, so they are put into a valid spec directly.
        const spec = variantSpec(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "zeoserver"] },
            ],
            {
                app: {
                    buildoutFlags: "-N -o",
                    environment: { A: "one two" },
                    symlinkBeforeMigrate: { src: "src" },
                    purgeBeforeSymlink: ["src"],
                    cacheArchives: [{ url: "https://cache.example.org/eggs.tgz", path: "shared/eggs", user: "bot" }],
                },
            },
        );
        spec.app.repository = "https://git.example.org/it's$(id)`id`;x.git";
        spec.app.revision = "feature/x'; rm -rf /";
        spec.app.environment = { A: "one two", B: `x'y"z$HOME` };
        spec.app.symlinkBeforeMigrate = { "src dir": "src" };
        spec.plone.warmupPaths = ["/", "/news items"];
        const { ctx, host } = contextOf(spec);
        const env = source(renderDeployEnv(ctx, host("app-1")));
        expect(env.REPOSITORY).to.equal("https://git.example.org/it's$(id)`id`;x.git");
        expect(env.REVISION).to.equal("feature/x'; rm -rf /");
        expect(env.APP_ENVIRONMENT).to.deep.equal(["A=one two", `B=x'y"z$HOME`]);
        expect(env.SYMLINK_FROM).to.deep.equal(["eggs", "downloads", "extends", "var", "src dir"]);
        expect(env.SYMLINK_TO).to.deep.equal(["eggs", "downloads", "extends", "var", "src"]);
        expect(env.PURGE_BEFORE_SYMLINK).to.deep.equal(["eggs", "downloads", "extends", "var", "src"]);
        expect(env.WARMUP_PATHS).to.deep.equal(["/", "/news items"]);
        expect(env).to.deep.include({
            CACHE_ARCHIVE_URLS: ["https://cache.example.org/eggs.tgz"],
            CACHE_ARCHIVE_PATHS: ["shared/eggs"],
            CACHE_ARCHIVE_USERS: ["bot"],
            CACHE_ARCHIVE_PURGE: ["false"],
        });
    });
});

describe("the app files of a host", function () {
    it("dev-1 gets deploy.cfg, deploy.env, the deploy key, its programs and the scripts, with their modes", function () {
        const { ctx, host } = repoStack("dev");
        const files = renderAppFiles({ ...ctx, secrets: { ...ctx.secrets, deployKey: "-----BEGIN KEY-----\nabc\n-----END KEY-----" } }, host("dev-1"));
        const summary = files.map((f) => [f.path, f.mode, f.owner, f.group, f.secret ?? false]);
        expect(summary).to.deep.equal([
            ["/etc/plone-aws/plone/deploy.cfg", "0600", "plone", "plone", true],
            ["/etc/plone-aws/plone/deploy.env", "0640", "root", "plone", false],
            ["/etc/supervisor/conf.d/plone.conf", "0644", "root", "root", false],
            ["/usr/local/lib/plone-aws/common.sh", "0644", "root", "root", false],
            ["/usr/local/sbin/plone-deploy", "0755", "root", "root", false],
            ["/usr/local/sbin/plone-rollback", "0755", "root", "root", false],
            ["/usr/local/sbin/plone-restart", "0755", "root", "root", false],
            ["/usr/local/sbin/plone-app-env", "0755", "root", "root", false],
            ["/usr/local/sbin/plone-git-askpass", "0755", "root", "root", false],
            ["/etc/plone-aws/plone/deploy_key", "0600", "plone", "plone", true],
        ]);
        expect(files.at(-1)!.content).to.equal("-----BEGIN KEY-----\nabc\n-----END KEY-----\n");
    });

    it("no deploy key without the secret; the archive password only when an archive names a user", function () {
        const spec = variantSpec(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "zeoserver"] },
            ],
            {
                app: { cacheArchives: [{ url: "https://cache.example.org/eggs.tgz", path: "shared/eggs", user: "bot" }] },
            },
        );
        const { ctx, host } = contextOf(spec);
        const files = renderAppFiles({ ...ctx, secrets: { ...ctx.secrets, deployKey: undefined, cacheArchivePassword: "pw" } }, host("app-1"));
        expect(files.map((f) => f.path)).to.not.include("/etc/plone-aws/plone/deploy_key");
        expect(files.find((f) => f.path.endsWith("cache_archive_password"))).to.include({ mode: "0600", owner: "root", secret: true, content: "pw" });
    });

    it("front ends, memcached and blob servers get none", function () {
        const { ctx, host } = repoStack("prod");
        for (const name of ["web-1", "cache-1", "blobs-1"]) expect(renderAppFiles(ctx, host(name))).to.deep.equal([]);
        expect(renderAppFiles(ctx, host("app-2")).length).to.be.greaterThan(5);
    });
});

describe("deploy.env: the celery broker", function () {
    it("gives the app's programs CELERY_BROKER_URL: the redis host's private address, as deploy.cfg's [celery-broker]", function () {
        const { ctx, host } = contextOf(VARIANTS.celery());
        for (const name of ["app-1", "app-2"]) {
            const env = source(renderDeployEnv(ctx, host(name)));
            expect(env.APP_ENVIRONMENT, name).to.include(`CELERY_BROKER_URL=redis://${ctx.addresses["zeo-1"]}:6379/0`);
        }
        // The broker host itself runs no celery program.
        expect(source(renderDeployEnv(ctx, host("zeo-1"))).APP_ENVIRONMENT).to.deep.equal([]);
    });

    it("an external broker (plone.celery.brokerHost) is the one the programs are given", function () {
        const spec = VARIANTS.celery();
        spec.hosts = spec.hosts.map((h) => ({ ...h, layers: h.layers.filter((l) => l !== "redis") }));
        spec.plone.celery.brokerHost = "broker.example.internal";
        spec.plone.celery.brokerPort = 6380;
        const { ctx, host } = contextOf(spec);
        expect(source(renderDeployEnv(ctx, host("app-1"))).APP_ENVIRONMENT).to.include("CELERY_BROKER_URL=redis://broker.example.internal:6380/0");
    });
});

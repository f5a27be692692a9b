// The setup script and the system files of a host: packages, deploy user, time zone, /tmp,
// unattended upgrades, directories, logrotate, and the order of the storage steps.
import { expect } from "chai";
import { renderStorageFiles } from "../../components/render/storage/blobs";
import { renderLogrotateFiles } from "../../components/render/host/logrotate";
import { AUTO_UPGRADES, renderSetupScript, renderSystemFiles, setupPackages } from "../../components/render/host/system";
import { PATHS } from "../../components/topology";
import { contextOf, host, VARIANTS, variantConfig } from "../helpers/storageVariants";
import { voltoHostsContext } from "../helpers/voltoStack";

function scriptVar(script: string, name: string): string {
    const m = new RegExp(`^${name}=(.*)$`, "m").exec(script);
    if (!m) throw new Error(`no ${name}= in the script`);
    return m[1];
}

describe("render: setup script", () => {
    it("installs the host's packages without questions, keeping existing config files", () => {
        const ctx = VARIANTS.prod();
        const app1 = host(ctx, "app-1");
        const packages = setupPackages(ctx, app1);
        expect(packages).to.include.members([...app1.packages, "poppler-utils", "wv", "cron", "tzdata"]);
        const script = renderSetupScript(ctx, app1);
        expect(scriptVar(script, "PACKAGES")).to.equal(`(${packages.join(" ")})`);
        expect(script).to.include("DEBIAN_FRONTEND=noninteractive").and.include("--force-confold").and.include("DPkg::Lock::Timeout");
        // A second run skips apt: it only runs for packages dpkg does not list as installed.
        expect(script).to.match(/if \[ "\$\{#missing\[@\]\}" -gt 0 \]; then\n\s+say "installing/);
        expect(setupPackages(ctx, host(ctx, "blobs-1"))).to.include.members(["glusterfs-server", "xfsprogs", "nvme-cli"]);
    });

    it("creates the deploy user with the same UID and GID on every host", () => {
        for (const ctx of [VARIANTS.prod(), VARIANTS.nfsZeo()]) {
            for (const h of ctx.topology.hosts) {
                const script = renderSetupScript(ctx, h);
                expect(scriptVar(script, "DEPLOY_USER")).to.equal("plone");
                expect(scriptVar(script, "DEPLOY_UID")).to.equal(String(ctx.spec.app.deployUserUid));
            }
        }
        const custom = contextOf(
            variantConfig(
                [{ name: "all-1", layers: ["frontend", "plone_instances", "zeoserver"] }],
                { storage: "zeo" },
                {
                    "plone-aws:app": { repository: "https://github.com/example-org/site-buildout.git", deployUserUid: 4321 },
                },
            ),
        );
        expect(scriptVar(renderSetupScript(custom, host(custom, "all-1")), "DEPLOY_UID")).to.equal("4321");
        expect(renderSetupScript(custom, host(custom, "all-1"))).to.include('useradd -u "$DEPLOY_UID" -g "$DEPLOY_USER"');
    });

    it("sets the time zone and puts /tmp on a tmpfs only on app hosts when plone.tmpfsSize is set", () => {
        const one = VARIANTS.nfsOneHost();
        const script = renderSetupScript(one, host(one, "all-1"));
        expect(scriptVar(script, "TIMEZONE")).to.equal("Europe/Berlin");
        expect(scriptVar(script, "TMPFS_SIZE")).to.equal("1G");
        expect(script).to.include('"tmpfs /tmp tmpfs rw,nodev,nosuid,noatime,mode=1777,size=$TMPFS_SIZE 0 0"');
        const prod = VARIANTS.prod();
        for (const h of prod.topology.hosts) expect(scriptVar(renderSetupScript(prod, h), "TMPFS_SIZE")).to.equal("''");
        expect(scriptVar(renderSetupScript(prod, host(prod, "web-1")), "TIMEZONE")).to.equal("Etc/UTC");
    });

    it("enables unattended security upgrades", () => {
        const ctx = VARIANTS.dev();
        const files = Object.fromEntries(renderSystemFiles(ctx, host(ctx, "dev-1")).map((f) => [f.path, f.content]));
        expect(files["/etc/apt/apt.conf.d/20auto-upgrades"]).to.equal(AUTO_UPGRADES);
        expect(AUTO_UPGRADES).to.include('APT::Periodic::Unattended-Upgrade "1";').and.include('APT::Periodic::Update-Package-Lists "1";');
        expect(setupPackages(ctx, host(ctx, "dev-1"))).to.include("unattended-upgrades");
        expect(files["/etc/tmpfiles.d/plone-aws.conf"]).to.include(`d ${PATHS.runtimeDir} 0775 root plone -`);
    });

    it("creates the config, log, runtime and deploy directories", () => {
        const ctx = VARIANTS.prod();
        const app = renderSetupScript(ctx, host(ctx, "app-1"));
        expect(app).to.include(`ensure_dir ${PATHS.configDir}/plone root:plone 0750`);
        expect(app).to.include(`ensure_dir ${PATHS.logDir} root:plone 2775`);
        expect(app).to.include("systemd-tmpfiles --create /etc/tmpfiles.d/plone-aws.conf");
        expect(app).to.include(`ensure_dir ${PATHS.runtimeDir} root:plone 0775`);
        expect(app).to.include(`ensure_dir ${PATHS.deployRoot}/plone plone:plone 0755`);
        expect(renderSetupScript(ctx, host(ctx, "web-1"))).not.to.include(`ensure_dir ${PATHS.deployRoot}`);
    });

    it("installs the storage scripts and runs volumes, then the blob server, then the blob mount", () => {
        const ctx = VARIANTS.nfsOneHost();
        const h = host(ctx, "all-1");
        const script = renderSetupScript(ctx, h);
        for (const f of renderStorageFiles(ctx, h)) expect(script).to.include(f.content);
        const steps = script.slice(script.lastIndexOf("# Storage, in order")).split("\n").slice(1).filter(Boolean);
        expect(steps).to.deep.equal([`${PATHS.sbinDir}/plone-volumes "$@"`, `${PATHS.sbinDir}/plone-blob-server`, `${PATHS.sbinDir}/plone-blobs`]);
        const prod = VARIANTS.prod();
        const web = renderSetupScript(prod, host(prod, "web-1"));
        expect(web.slice(web.lastIndexOf("# Storage, in order")).split("\n").slice(1).filter(Boolean)).to.deep.equal([`${PATHS.sbinDir}/plone-volumes "$@"`]);
    });

    it("carries no secret: the RelStorage pack configuration comes with the configure step", () => {
        const ctx = VARIANTS.prod();
        const app1 = host(ctx, "app-1");
        const secretFiles = renderSystemFiles(ctx, app1).filter((f) => f.secret);
        expect(secretFiles.map((f) => f.path)).to.deep.equal([`${PATHS.configDir}/plone/zodbpack.conf`]);
        const script = renderSetupScript(ctx, app1);
        expect(script).not.to.include(ctx.secrets.dbPassword as string);
        expect(script).not.to.include("zodbpack.conf 0640");
    });
});

describe("render: logrotate", () => {
    it("rotates supervisor logs daily (7), app logs daily (30, copytruncate) and the plone-aws logs", () => {
        const ctx = VARIANTS.dev();
        const files = Object.fromEntries(renderLogrotateFiles(ctx, host(ctx, "dev-1")).map((f) => [f.path, f.content]));
        expect(files["/etc/logrotate.d/supervisor"]).to.match(/\/var\/log\/supervisor\/\*\.log \{[^}]*daily[^}]*rotate 7[^}]*\}/);
        expect(files["/etc/logrotate.d/plone-aws-plone"]).to.match(
            new RegExp(`${PATHS.deployRoot}/plone/shared/var/log/\\*\\.log \\{[^}]*daily[^}]*rotate 30[^}]*copytruncate[^}]*su plone plone`),
        );
        expect(files["/etc/logrotate.d/plone-aws"]).to.include(`${PATHS.logDir}/*.log {`).and.include("su root plone");
        const prod = VARIANTS.prod();
        expect(renderLogrotateFiles(prod, host(prod, "web-1")).map((f) => f.path)).to.deep.equal(["/etc/logrotate.d/plone-aws", "/etc/logrotate.d/nginx"]);
        expect(renderLogrotateFiles(prod, host(prod, "app-1")).map((f) => f.path)).to.not.include("/etc/logrotate.d/nginx");
    });

    it("rotates the supervisor logs of the Volto processes on a volto host, which has no app logs of its own", () => {
        const ctx = voltoHostsContext();
        expect(renderLogrotateFiles(ctx, host(ctx, "volto-1")).map((f) => f.path)).to.deep.equal(["/etc/logrotate.d/plone-aws", "/etc/logrotate.d/supervisor"]);
    });

    it("keeps frontend.nginx.logRetentionDays of nginx's daily logs (the cookbook's log_retention_days)", () => {
        const prod = VARIANTS.prod();
        const nginx = (p: typeof prod) => renderLogrotateFiles(p, host(p, "web-1")).find((f) => f.path === "/etc/logrotate.d/nginx")!.content;
        expect(nginx(prod)).to.match(/\/var\/log\/nginx\/\*\.log \{[^}]*daily[^}]*rotate 14\n/);
        const longer = { ...prod, spec: { ...prod.spec, frontend: { ...prod.spec.frontend, nginx: { ...prod.spec.frontend.nginx, logRetentionDays: 90 } } } };
        expect(nginx(longer)).to.match(/rotate 90\n/);
    });
});

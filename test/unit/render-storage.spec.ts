// The storage renderers: NFS exports and daemon ports, the GlusterFS script and mounts, EFS, the
// volume script, and which host gets which storage script.
import { expect } from "chai";
import { addressOf } from "../../components/render/context";
import { blobStorageDir } from "../../components/topology";
import * as path from "path";
import { BLOBS_SCRIPT, renderBlobsScript, renderBlobServerScript, renderStorageFiles } from "../../components/render/storage/blobs";
import { renderSetupScript } from "../../components/render/host/system";
import { shippedLogs } from "../../components/render/monitoring/cloudwatchAgent";
import { loadStack } from "../../scripts/lib/offline/loadStack";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import { REPO } from "../helpers/stacks";
import { efsFstabLine } from "../../components/render/storage/efs";
import { glusterFstabLine, renderGlusterdVol, renderGlusterScript } from "../../components/render/storage/gluster";
import {
    nfsClientHosts,
    nfsFstabLine,
    renderExports,
    renderNfsCommonDefaults,
    renderNfsConf,
    renderNfsKernelServerDefaults,
} from "../../components/render/storage/nfs";
import { renderVolumeScript } from "../../components/render/storage/volumes";
import { PATHS, PORTS, type HostPlan } from "../../components/topology";
import { host, VARIANTS } from "../helpers/storageVariants";

/** key=value pairs by [section] of an nfs.conf file. */
function iniSections(text: string): Record<string, Record<string, string>> {
    const sections: Record<string, Record<string, string>> = {};
    let current = "";
    for (const line of text.split("\n").map((l) => l.trim())) {
        if (!line || line.startsWith("#")) continue;
        const header = /^\[(.+)\]$/.exec(line);
        if (header) sections[(current = header[1])] ??= {};
        else {
            const [key, value] = line.split("=").map((p) => p.trim());
            sections[current][key] = value;
        }
    }
    return sections;
}

/** The value of NAME=... in a rendered script. */
function scriptVar(script: string, name: string): string {
    const m = new RegExp(`^${name}=(.*)$`, "m").exec(script);
    if (!m) throw new Error(`no ${name}= in the script`);
    return m[1];
}

describe("render: NFS blobs", () => {
    const ctx = VARIANTS.nfsZeo();
    const ip = (h: string) => addressOf(h, ctx.addresses);

    it("exports the blob directory to exactly the app hosts and the ZEO server, one /32 each", () => {
        const exports = renderExports(ctx);
        const entries = exports
            .split("\n")
            .filter((l) => !l.startsWith("#"))
            .join(" ")
            .replace(/\\/g, " ")
            .trim()
            .split(/\s+/);
        expect(entries[0]).to.equal(PATHS.nfsExport);
        expect(entries.slice(1)).to.deep.equal(["app-1", "app-2", "zeo-1"].map((h) => `${ip(h)}/32(rw,sync,no_subtree_check,root_squash)`));
        expect(exports).not.to.include(ip("web-1"));
        expect(exports).not.to.include(`${ip("nfs-1")}/`);
        expect(exports).not.to.match(/\/8\b/);
        expect(
            exports
                .split("\n")
                .filter((l) => !l.startsWith("#"))
                .join("\n"),
        ).not.to.include("no_root_squash");
        expect(exports).to.match(/^# .*root_squash, not the cookbook's no_root_squash.*UID and GID/m);
    });

    it("pins statd, mountd and lockd to the ports the security groups name", () => {
        const conf = iniSections(renderNfsConf());
        expect(conf.statd).to.deep.equal({ port: String(PORTS.statd), "outgoing-port": String(PORTS.statdOutgoing) });
        expect(conf.mountd.port).to.equal(String(PORTS.mountd));
        expect(conf.lockd).to.deep.equal({ port: String(PORTS.lockd), "udp-port": String(PORTS.lockd) });
        expect(renderNfsCommonDefaults()).to.include(`--port ${PORTS.statd} --outgoing-port ${PORTS.statdOutgoing}`).and.include("NEED_STATD=yes");
        expect(renderNfsKernelServerDefaults()).to.include(`--port ${PORTS.mountd}`);
    });

    it("mounts over NFSv4 with nofail, _netdev and noatime on the shared blob mount", () => {
        const line = nfsFstabLine(ctx, host(ctx, "app-1")).split(" ");
        expect(line[0]).to.equal(`${ip("nfs-1")}:${PATHS.nfsExport}`);
        expect(line[1]).to.equal(PATHS.sharedBlobsMount);
        expect(line[2]).to.equal("nfs4");
        expect(line[3].split(",")).to.include.members(["nofail", "_netdev", "noatime", "hard"]);
    });

    it("has the NFS server bind-mount its own export instead of mounting itself over NFS", () => {
        const one = VARIANTS.nfsOneHost();
        expect(nfsClientHosts(one)).to.deep.equal([]);
        expect(
            renderExports(one)
                .split("\n")
                .filter((l) => l && !l.startsWith("#")),
        ).to.deep.equal([]);
        expect(nfsFstabLine(one, host(one, "all-1"))).to.equal(
            `${PATHS.nfsExport} ${PATHS.sharedBlobsMount} none bind,nofail,x-systemd.requires-mounts-for=${PATHS.nfsExport} 0 0`,
        );
    });

    it("gives the server the blob server script and the clients the mount script", () => {
        const names = (h: string) => renderStorageFiles(ctx, host(ctx, h)).map((f) => f.path);
        expect(names("nfs-1")).to.deep.equal([`${PATHS.sbinDir}/plone-volumes`, `${PATHS.sbinDir}/plone-blob-server`]);
        for (const h of ["app-1", "app-2", "zeo-1"]) expect(names(h)).to.deep.equal([`${PATHS.sbinDir}/plone-volumes`, `${PATHS.sbinDir}/plone-blobs`]);
        expect(names("web-1")).to.deep.equal([`${PATHS.sbinDir}/plone-volumes`]);
        for (const f of renderStorageFiles(ctx, host(ctx, "nfs-1"))) expect([f.mode, f.owner, f.group]).to.deep.equal(["0755", "root", "root"]);
        const server = renderBlobServerScript(ctx, host(ctx, "nfs-1")) as string;
        expect(server).to.include(renderExports(ctx)).and.include(renderNfsConf());
        expect(scriptVar(server, "BLOB_DIR")).to.equal(`${PATHS.nfsExport}/blobstorage`);
    });
});

describe("render: GlusterFS blobs", () => {
    it("creates prod's volume under its configured name from both peers, primary first", () => {
        const ctx = VARIANTS.prod();
        const primary = renderGlusterScript(ctx, host(ctx, "blobs-1"));
        expect(scriptVar(primary, "VOLUME")).to.equal(ctx.spec.plone.glusterVolume);
        expect(scriptVar(primary, "PEERS")).to.equal(`(${addressOf("blobs-1", ctx.addresses)} ${addressOf("blobs-2", ctx.addresses)})`);
        expect(scriptVar(primary, "SELF")).to.equal(scriptVar(primary, "PRIMARY"));
        expect(scriptVar(primary, "BRICK")).to.equal(`${PATHS.glusterExport}/brick`);
        expect(scriptVar(primary, "CACHE_SIZE")).to.equal("256MB");
        expect(primary).to.include('volume create "$VOLUME" "${replica[@]}" "${bricks[@]}"');
        expect(primary).to.include('volume add-brick "$VOLUME" replica "$replicas"');
        const replica = renderGlusterScript(ctx, host(ctx, "blobs-2"));
        expect(scriptVar(replica, "SELF")).to.equal(addressOf("blobs-2", ctx.addresses));
        expect(scriptVar(replica, "PRIMARY")).to.equal(addressOf("blobs-1", ctx.addresses));
    });

    it("never falls back to the cookbook's hard-coded volume name", () => {
        const ctx = VARIANTS.glusterNamed();
        const script = renderGlusterScript(ctx, host(ctx, "gfs-1"));
        expect(scriptVar(script, "VOLUME")).to.equal("site-blobs");
        expect(scriptVar(script, "CACHE_SIZE")).to.equal("512MB");
        expect(script).not.to.match(/\bvolume \w+ blobs\b/);
        expect(glusterFstabLine(ctx)).to.match(/^\S+:\/site-blobs /);
    });

    it("mounts the volume from the primary with the replicas as backup volfile servers", () => {
        const ctx = VARIANTS.prod();
        const [source, mountPoint, type, options] = glusterFstabLine(ctx).split(" ");
        expect(source).to.equal(`${addressOf("blobs-1", ctx.addresses)}:/blobs`);
        expect(mountPoint).to.equal(PATHS.sharedBlobsMount);
        expect(type).to.equal("glusterfs");
        expect(options.split(",")).to.include.members(["_netdev", "nofail", `backup-volfile-servers=${addressOf("blobs-2", ctx.addresses)}`]);
        const three = VARIANTS.glusterNamed();
        expect(glusterFstabLine(three)).to.include(`backup-volfile-servers=${addressOf("gfs-2", three.addresses)}:${addressOf("gfs-3", three.addresses)}`);
        expect(renderBlobsScript(ctx, host(ctx, "app-1"))).to.include(glusterFstabLine(ctx));
    });

    it("limits brick ports to the security groups' range", () => {
        const vol = renderGlusterdVol();
        expect(vol).to.include(`option base-port ${PORTS.glusterBricksFirst}`).and.include(`option max-port ${PORTS.glusterBricksLast}`);
        expect(vol).to.include(`option transport.socket.listen-port ${PORTS.glusterdFirst}`);
    });

    it("gives blob server scripts to the peers only and mounts on the app hosts", () => {
        const ctx = VARIANTS.prod();
        for (const h of ["blobs-1", "blobs-2"]) expect(renderBlobServerScript(ctx, host(ctx, h))).to.be.a("string");
        for (const h of ["web-1", "app-1", "cache-1"]) expect(renderBlobServerScript(ctx, host(ctx, h))).to.equal(undefined);
        for (const h of ["app-1", "app-2"]) expect(renderBlobsScript(ctx, host(ctx, h))).to.be.a("string");
        for (const h of ["web-1", "blobs-1", "cache-1"]) expect(renderBlobsScript(ctx, host(ctx, h))).to.equal(undefined);
    });
});

describe("render: the blobs of a scaled group's host", () => {
    it("mounts the shared blobs at setup as a fixed app host does, and ships the GlusterFS client's log", () => {
        const ctx = offlineRenderContext(loadStack({ stackFile: path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaled.yaml") }).spec!);
        const scaled = ctx.topology.scaledGroups[0].host;
        expect(renderBlobsScript(ctx, scaled)).to.include(glusterFstabLine(ctx));
        expect(renderSetupScript(ctx, scaled)).to.match(new RegExp(`^${BLOBS_SCRIPT}$`, "m"));
        const glusterLogs = (h: HostPlan) =>
            shippedLogs(ctx, h)
                .filter((l) => l.kind === "glusterfs")
                .map((l) => l.path);
        expect(glusterLogs(scaled))
            .to.deep.equal(glusterLogs(host(ctx, "app-1")))
            .and.to.have.length(1);
    });
});

describe("render: EFS blobs and blob directories", () => {
    it("mounts EFS with the options AWS recommends", () => {
        const ctx = VARIANTS.efsRelstorage();
        expect(efsFstabLine(ctx)).to.equal(
            `${ctx.efsDnsName}:/ ${PATHS.sharedBlobsMount} nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev,nofail 0 0`,
        );
        expect(renderBlobsScript(ctx, host(ctx, "app-2"))).to.include(efsFstabLine(ctx));
    });

    it("keeps blobs in blobstorage on shared mounts and in the volume itself on one host", () => {
        expect(blobStorageDir(VARIANTS.prod().topology.endpoints.blobs)).to.equal(`${PATHS.sharedBlobsMount}/blobstorage`);
        expect(blobStorageDir(VARIANTS.dev().topology.endpoints.blobs)).to.equal(PATHS.localBlobs);
        expect(blobStorageDir(VARIANTS.zeoBlobs().topology.endpoints.blobs)).to.equal(PATHS.localBlobs);
        expect(blobStorageDir({ mode: "database" })).to.equal(undefined);
    });

    it("has no /8 (or any network wider than one host) in any storage file", () => {
        for (const [name, make] of Object.entries(VARIANTS)) {
            const ctx = make();
            for (const h of ctx.topology.hosts) {
                for (const f of renderStorageFiles(ctx, h)) expect(f.content, `${name} ${h.name} ${f.path}`).not.to.match(/\d+\.\d+\.\d+\.\d+\/(?!32\b)\d+/);
            }
        }
    });
});

describe("render: plone-volumes", () => {
    it("bakes in each data volume with its attachment name and the owner its layer needs", () => {
        const ctx = VARIANTS.nfsZeo();
        const script = renderVolumeScript(host(ctx, "zeo-1"));
        expect(scriptVar(script, "VOLUMES")).to.equal(
            `('${PATHS.filestorage}|/dev/sdf|filestorage|plone:plone|0750' '${PATHS.backups}|/dev/sdg|backups|plone:plone|0750')`,
        );
        expect(scriptVar(renderVolumeScript(host(ctx, "nfs-1")), "VOLUMES")).to.equal(`('${PATHS.nfsExport}|/dev/sdf|exports|plone:plone|0755')`);
        expect(scriptVar(renderVolumeScript(host(ctx, "web-1")), "VOLUMES")).to.equal("()");
        const prod = VARIANTS.prod();
        expect(scriptVar(renderVolumeScript(host(prod, "blobs-2")), "VOLUMES")).to.equal(`('${PATHS.glusterExport}|/dev/sdf|bricks|root:root|0755')`);
    });

    it("mounts by UUID with nofail and a device timeout, and formats only blank devices", () => {
        const script = renderVolumeScript(host(VARIANTS.dev(), "dev-1"));
        expect(scriptVar(script, "MOUNT_OPTIONS")).to.equal("defaults,noatime,nofail,x-systemd.device-timeout=30s");
        expect(script).to.include('fstab_set "$mount_point" "UUID=$UUID $mount_point $TYPE $MOUNT_OPTIONS 0 2"');
        expect(script).to.match(/if \[ -z "\$TYPE" \]; then\n\s+"\$MKFS" -q -L "\$kind" "\$device"/);
    });
});

// The storage and system files against the real programs: shellcheck on every rendered script,
// exportfs and nfsconf on the NFS server's files, logrotate on the rotation files, plone-volumes
// against fake device trees (real mkfs.xfs, blkid and mounts, in a private mount namespace), and
// the GlusterFS script against real glusterd in network namespaces: one peer, then a second one
// added, then a client mounting the volume with plone-blobs.
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderBlobsScript, renderBlobServerScript, renderStorageFiles } from "../../components/render/storage/blobs";
import type { RenderContext } from "../../components/render/context";
import { renderCronFiles } from "../../components/render/operations/cron";
import { renderLogrotateFiles } from "../../components/render/host/logrotate";
import { renderExports, renderNfsConf } from "../../components/render/storage/nfs";
import { renderSetupScript, setupPackages } from "../../components/render/host/system";
import { renderVolumeScript } from "../../components/render/storage/volumes";
import { DEPLOY_USER, PATHS, PORTS } from "../../components/topology";
import { passwdWithDeployUser, ScratchHost, TestBridge } from "../helpers/namespaces";
import { contextOf, host, VARIANTS, variantConfig } from "../helpers/storageVariants";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

const UID = 4000;

/** Every script plone-aws renders for a host's storage and system. */
function scriptsOf(ctx: RenderContext, hostName: string): { name: string; content: string }[] {
    const h = host(ctx, hostName);
    const files = [...renderStorageFiles(ctx, h), ...renderCronFiles(ctx, h)].filter((f) => f.mode === "0755");
    return [{ name: "plone-setup", content: renderSetupScript(ctx, h) }, ...files.map((f) => ({ name: path.basename(f.path), content: f.content }))];
}

describe("daemons: storage and system scripts", function () {
    it("passes shellcheck: every rendered script of dev, prod and the variants", async function () {
        requireBinaries(this, "shellcheck");
        const { dir, cleanup } = tempDir("shellcheck");
        try {
            const written = new Map<string, string>();
            for (const [variant, make] of Object.entries(VARIANTS)) {
                const ctx = make();
                for (const h of ctx.topology.hosts) {
                    for (const s of scriptsOf(ctx, h.name)) {
                        if (written.has(s.content)) continue;
                        const file = path.join(dir, `${variant}--${h.name}--${s.name}`);
                        fs.writeFileSync(file, s.content);
                        written.set(s.content, file);
                    }
                }
            }
            const files = [...written.values()];
            expect(files.length).to.be.greaterThan(50);
            // One shellcheck per CPU: the setup scripts are long.
            const workers = Math.max(1, os.cpus().length);
            const results = await Promise.all(
                Array.from({ length: workers }, (_, w) => {
                    const chunk = files.filter((_, i) => i % workers === w);
                    return new Promise<string>((resolve) =>
                        execFile("shellcheck", ["-s", "bash", "-f", "gcc", ...chunk], { maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
                            resolve(`${stdout}${stderr}${error && !stdout && !stderr ? String(error) : ""}`),
                        ),
                    );
                }),
            );
            expect(results.join(""), "shellcheck findings").to.equal("");
        } finally {
            cleanup();
        }
    });
});

describeAsRoot("daemons: NFS server files", "exportfs runs in a private mount namespace", function () {
    let scratch: ScratchHost | undefined;
    let temp: ReturnType<typeof tempDir> | undefined;
    afterEach(() => {
        scratch?.cleanup();
        temp?.cleanup();
        scratch = temp = undefined;
    });

    for (const variant of ["nfsZeo", "nfsOneHost"]) {
        it(`exportfs -ra accepts the rendered /etc/exports (${variant})`, function () {
            requireBinaries(this, "exportfs", "unshare", "nsenter");
            const ctx = VARIANTS[variant]();
            temp = tempDir("exports");
            const exportsFile = path.join(temp.dir, "exports");
            fs.writeFileSync(exportsFile, renderExports(ctx));
            fs.mkdirSync(path.join(temp.dir, "nfs"));
            scratch = ScratchHost.mountOnly();
            // exportfs writes its tables to /var/lib/nfs: a scratch copy, never the real one.
            scratch.must(
                `mount --bind ${exportsFile} /etc/exports && cp -a /var/lib/nfs/. ${temp.dir}/nfs/ && mount --bind ${temp.dir}/nfs /var/lib/nfs && ` +
                    `mount -t tmpfs tmpfs /srv && mkdir -p ${PATHS.nfsExport}`,
                "preparing the scratch host",
            );
            const r = scratch.sh("exportfs -ra && exportfs -v");
            expect(r.stderr, "exportfs warnings").to.equal("");
            expect(r.status).to.equal(0);
            const clients = r.stdout.replace(/\s+/g, " ");
            const expected = variant === "nfsZeo" ? ["app-1", "app-2", "zeo-1"].map((h) => ctx.addresses[h]) : [];
            for (const ip of expected) expect(clients).to.match(new RegExp(`${PATHS.nfsExport} ${ip.replace(/\./g, "\\.")}(/32)?\\(.*root_squash`));
            expect((clients.match(new RegExp(PATHS.nfsExport, "g")) ?? []).length).to.equal(expected.length);
            expect(clients).not.to.include("no_root_squash");
        });
    }

    it("nfsconf reads the pinned ports from the rendered nfs.conf.d file", function () {
        requireBinaries(this, "nfsconf");
        temp = tempDir("nfsconf");
        const file = path.join(temp.dir, "plone-aws.conf");
        fs.writeFileSync(file, renderNfsConf());
        const get = (section: string, key: string) => run("nfsconf", ["--file", file, "--get", section, key]).stdout.trim();
        expect(get("statd", "port")).to.equal(String(PORTS.statd));
        expect(get("statd", "outgoing-port")).to.equal(String(PORTS.statdOutgoing));
        expect(get("mountd", "port")).to.equal(String(PORTS.mountd));
        expect(get("lockd", "port")).to.equal(String(PORTS.lockd));
        expect(get("lockd", "udp-port")).to.equal(String(PORTS.lockd));
    });
});

describeAsRoot("daemons: logrotate files", "logrotate runs in a private mount namespace with the deploy user", function () {
    it("logrotate accepts the rotation files of an app host and a front end", function () {
        requireBinaries(this, "logrotate", "unshare", "nsenter");
        const ctx = VARIANTS.prod();
        const temp = tempDir("logrotate");
        const scratch = ScratchHost.mountOnly();
        try {
            const { passwd, group } = passwdWithDeployUser(temp.dir, DEPLOY_USER, UID);
            scratch.must(`mount --bind ${passwd} /etc/passwd && mount --bind ${group} /etc/group`);
            for (const h of ["app-1", "web-1"]) {
                const files = renderLogrotateFiles(ctx, host(ctx, h)).map((f, i) => {
                    const file = path.join(temp.dir, `${h}-${i}.conf`);
                    fs.writeFileSync(file, f.content);
                    return file;
                });
                const r = scratch.sh(`logrotate -d -s ${temp.dir}/state ${files.join(" ")}`);
                expect(r.stderr + r.stdout, h).not.to.match(/^error:/m);
                expect(r.status, r.stderr).to.equal(0);
            }
        } finally {
            scratch.cleanup();
            temp.cleanup();
        }
    });
});

/** A sparse file that stands for a disk. */
function fakeDisk(file: string, mib = 512): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.closeSync(fs.openSync(file, "w"));
    fs.truncateSync(file, mib * 1024 * 1024);
}

/** A fake NVMe controller in a sysfs tree. */
function fakeController(sys: string, name: string, model: string, serial: string): void {
    const dir = path.join(sys, "class", "nvme", name);
    fs.mkdirSync(path.join(dir, `${name}n1`), { recursive: true });
    fs.writeFileSync(path.join(dir, "model"), `${model.padEnd(40)}\n`);
    fs.writeFileSync(path.join(dir, "serial"), `${serial.padEnd(20)}\n`);
}

function blkid(file: string, tag: string): string {
    return run("blkid", ["-p", "-o", "value", "-s", tag, file]).stdout.trim();
}

describeAsRoot("daemons: plone-volumes against fake device trees", "mkfs.xfs and mounts in a private mount namespace", function () {
    let scratch: ScratchHost | undefined;
    let temp: ReturnType<typeof tempDir> | undefined;

    /** A scratch host with /srv on a tmpfs and the deploy user; the script and fstab in the temp dir. */
    function prepare(this: Mocha.Context, hostName: string, variant = "dev"): { script: string; fstab: string; dir: string } {
        requireBinaries(this, "mkfs.xfs", "blkid", "unshare", "nsenter", "findmnt");
        const ctx = VARIANTS[variant]();
        temp = tempDir("volumes");
        const dir = temp.dir;
        const script = path.join(dir, "plone-volumes");
        fs.writeFileSync(script, renderVolumeScript(host(ctx, hostName)));
        const fstab = path.join(dir, "fstab");
        fs.writeFileSync(fstab, "# /etc/fstab: static file system information.\nUUID=0f0e0d0c-root / ext4 rw,discard,errors=remount-ro 0 1\n");
        const { passwd, group } = passwdWithDeployUser(dir, DEPLOY_USER, UID);
        scratch = ScratchHost.mountOnly();
        scratch.must(`mount --bind ${passwd} /etc/passwd && mount --bind ${group} /etc/group && mount -t tmpfs tmpfs /srv`, "preparing the scratch host");
        return { script, fstab, dir };
    }

    function volumes(args: string[], env: Record<string, string>, script: string) {
        return scratch!.sh(`bash ${script} ${args.join(" ")}`, { PLONE_VOLUME_WAIT: "0", ...env });
    }

    afterEach(() => {
        scratch?.cleanup();
        temp?.cleanup();
        scratch = temp = undefined;
    });

    it("formats only blank devices, mounts all by UUID, and changes nothing on a second run (Nitro, by volume id)", function () {
        const { script, fstab, dir } = prepare.call(this, "dev-1");
        const dev = path.join(dir, "dev");
        const sys = path.join(dir, "sys");
        for (const n of [1, 2, 3]) fakeDisk(path.join(dev, `nvme${n}n1`));
        fs.mkdirSync(path.join(dev, "disk", "by-id"), { recursive: true });
        // filestorage and blobs are found by their udev by-id links, backups by the controller serial only
        fs.symlinkSync("../../nvme1n1", path.join(dev, "disk", "by-id", "nvme-Amazon_Elastic_Block_Store_vol0aaaaaaaaaaaaaaa1"));
        fs.symlinkSync("../../nvme3n1", path.join(dev, "disk", "by-id", "nvme-Amazon_Elastic_Block_Store_vol0aaaaaaaaaaaaaaa3"));
        fakeController(sys, "nvme0", "Amazon EC2 NVMe Instance Storage", "AWS1234567890");
        for (const n of [1, 2, 3]) fakeController(sys, `nvme${n}`, "Amazon Elastic Block Store", `vol0aaaaaaaaaaaaaaa${n}`);
        // backups already holds a file system (a volume restored from a snapshot)
        expect(run("mkfs.xfs", ["-q", "-L", "restored", path.join(dev, "nvme2n1")]).status).to.equal(0);
        const restoredUuid = blkid(path.join(dev, "nvme2n1"), "UUID");
        const env = { PLONE_DEV_DIR: dev, PLONE_SYS_DIR: sys, PLONE_FSTAB: fstab };
        const args = [`${PATHS.filestorage}=vol-0aaaaaaaaaaaaaaa1`, `${PATHS.backups}=vol-0aaaaaaaaaaaaaaa2`, `${PATHS.localBlobs}=vol-0aaaaaaaaaaaaaaa3`];

        const first = volumes(args, env, script);
        expect(first.status, first.stderr).to.equal(0);
        expect(first.stdout).to.include(`made an XFS file system on the blank device ${dev}/nvme1n1 for ${PATHS.filestorage}`);
        expect(first.stdout).to.include(`made an XFS file system on the blank device ${dev}/nvme3n1 for ${PATHS.localBlobs}`);
        expect(first.stdout).not.to.include(`on the blank device ${dev}/nvme2n1`);
        expect(blkid(path.join(dev, "nvme2n1"), "UUID")).to.equal(restoredUuid);
        expect(blkid(path.join(dev, "nvme2n1"), "LABEL")).to.equal("restored");
        expect(blkid(path.join(dev, "nvme1n1"), "LABEL")).to.equal("filestorage");

        const table = fs.readFileSync(fstab, "utf8");
        expect(table.split("\n").slice(0, 2).join("\n")).to.equal(
            "# /etc/fstab: static file system information.\nUUID=0f0e0d0c-root / ext4 rw,discard,errors=remount-ro 0 1",
        );
        const options = "xfs defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2";
        expect(table).to.include(`UUID=${blkid(path.join(dev, "nvme1n1"), "UUID")} ${PATHS.filestorage} ${options}\n`);
        expect(table).to.include(`UUID=${restoredUuid} ${PATHS.backups} ${options}\n`);
        expect(table).to.include(`UUID=${blkid(path.join(dev, "nvme3n1"), "UUID")} ${PATHS.localBlobs} ${options}\n`);

        for (const mp of [PATHS.filestorage, PATHS.backups, PATHS.localBlobs]) {
            const r = scratch!.must(`findmnt -rn -o FSTYPE --mountpoint ${mp} && stat -c '%U:%G %a' ${mp}`);
            expect(r.stdout.trim().split("\n"), mp).to.deep.equal(["xfs", `${DEPLOY_USER}:${DEPLOY_USER} 750`]);
        }

        const second = volumes(args, env, script);
        expect(second.status, second.stderr).to.equal(0);
        expect(second.stdout).to.equal("plone-volumes: no change\n");
        expect(fs.readFileSync(fstab, "utf8")).to.equal(table);
    });

    it("fails naming the mount point when a volume is absent or an argument is wrong, and touches nothing", function () {
        const { script, fstab, dir } = prepare.call(this, "dev-1");
        const dev = path.join(dir, "dev");
        const sys = path.join(dir, "sys");
        fakeDisk(path.join(dev, "nvme1n1"));
        fakeController(sys, "nvme1", "Amazon Elastic Block Store", "vol0aaaaaaaaaaaaaaa1");
        const env = { PLONE_DEV_DIR: dev, PLONE_SYS_DIR: sys, PLONE_FSTAB: fstab };
        const before = fs.readFileSync(fstab, "utf8");

        const absent = volumes([`${PATHS.filestorage}=vol-0bbbbbbbbbbbbbbb9`], env, script);
        expect(absent.status).not.to.equal(0);
        expect(absent.stderr).to.include(`no device for ${PATHS.filestorage} (filestorage volume vol-0bbbbbbbbbbbbbbb9, attached as /dev/sdf)`);
        expect(absent.stderr).to.include("Is the volume attached to this instance?");

        const unknown = volumes(["/srv/elsewhere=vol-0aaaaaaaaaaaaaaa1"], env, script);
        expect(unknown.status).not.to.equal(0);
        expect(unknown.stderr).to.include("/srv/elsewhere is not a data volume of this host");

        const malformed = volumes([`${PATHS.filestorage}=sdf`], env, script);
        expect(malformed.status).not.to.equal(0);
        expect(malformed.stderr).to.include(`bad volume id 'sdf' for ${PATHS.filestorage}`);

        expect(fs.readFileSync(fstab, "utf8")).to.equal(before);
        expect(blkid(path.join(dev, "nvme1n1"), "TYPE")).to.equal("");
        expect(scratch!.sh(`findmnt -rn --mountpoint ${PATHS.filestorage}`).stdout).to.equal("");
    });

    it("finds the device by attachment name without volume ids (Xen name) and refuses a partitioned disk", function () {
        const { script, fstab, dir } = prepare.call(this, "nfs-1", "nfsZeo");
        const dev = path.join(dir, "dev");
        const disk = path.join(dev, "xvdf");
        fakeDisk(disk);
        // An MBR with one partition: data plone-aws must not format.
        const mbr = Buffer.alloc(512);
        mbr.writeUInt8(0x83, 446 + 4);
        mbr.writeUInt32LE(2048, 446 + 8);
        mbr.writeUInt32LE(100_000, 446 + 12);
        mbr.writeUInt16LE(0xaa55, 510);
        const fd = fs.openSync(disk, "r+");
        fs.writeSync(fd, mbr, 0, 512, 0);
        fs.closeSync(fd);
        const env = { PLONE_DEV_DIR: dev, PLONE_SYS_DIR: path.join(dir, "sys"), PLONE_FSTAB: fstab };

        const refused = volumes([], env, script);
        expect(refused.status).not.to.equal(0);
        expect(refused.stderr).to.include(`${disk} (for ${PATHS.nfsExport}) has a dos partition table: plone-aws never formats a device that holds data`);

        fakeDisk(disk);
        const formatted = volumes([], env, script);
        expect(formatted.status, formatted.stderr).to.equal(0);
        expect(formatted.stdout).to.include(`made an XFS file system on the blank device ${disk} for ${PATHS.nfsExport}`);
        expect(scratch!.must(`stat -c '%U:%G %a' ${PATHS.nfsExport}`).stdout.trim()).to.equal(`${DEPLOY_USER}:${DEPLOY_USER} 755`);
        expect(volumes([], env, script).stdout).to.equal("plone-volumes: no change\n");
    });

    it("finds an NVMe volume by the attachment name in the controller's vendor data", function () {
        const { script, fstab, dir } = prepare.call(this, "nfs-1", "nfsZeo");
        const dev = path.join(dir, "dev");
        const sys = path.join(dir, "sys");
        fakeDisk(path.join(dev, "nvme1n1"));
        fakeDisk(path.join(dev, "nvme2n1"));
        fakeController(sys, "nvme1", "Amazon Elastic Block Store", "vol0ccccccccccccccc1");
        fakeController(sys, "nvme2", "Amazon Elastic Block Store", "vol0ccccccccccccccc2");
        // nvme id-ctrl --raw-binary: 4096 bytes, the attachment name at offset 3072 (ebsnvme-id's layout)
        const nvme = path.join(dir, "nvme");
        fs.writeFileSync(
            nvme,
            `#!/bin/bash\nname=sdg; [ "$3" = "${dev}/nvme2n1" ] && name=/dev/sdf\npython3 -c 'import sys; b = bytearray(4096); n = sys.argv[1].encode(); b[3072:3072 + len(n)] = n; sys.stdout.buffer.write(b)' "$name"\n`,
            { mode: 0o755 },
        );
        const r = volumes([], { PLONE_DEV_DIR: dev, PLONE_SYS_DIR: sys, PLONE_FSTAB: fstab, PLONE_NVME: nvme }, script);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.include(`made an XFS file system on the blank device ${dev}/nvme2n1 for ${PATHS.nfsExport}`);
        expect(blkid(path.join(dev, "nvme1n1"), "TYPE")).to.equal("");
    });
});

/** A GlusterFS peer: a scratch host in its own network namespace with private glusterd state. */
function glusterPeer(bridge: TestBridge, n: number, dir: string): ScratchHost {
    const { netns, address } = bridge.addNamespace(n);
    const state = path.join(dir, `peer${n}`);
    for (const d of ["lib", "log", "etc"]) fs.mkdirSync(path.join(state, d), { recursive: true });
    fs.cpSync("/var/lib/glusterd", path.join(state, "lib"), { recursive: true });
    fs.cpSync("/etc/glusterfs", path.join(state, "etc"), { recursive: true });
    const { passwd, group } = passwdWithDeployUser(state, DEPLOY_USER, UID);
    const peer = ScratchHost.inNetns(netns, address);
    // The bricks volume is a tmpfs mounted on PATHS.glusterExport, as the EBS volume would be.
    peer.must(
        [
            `hostname gfs-${n}`,
            "mount -t tmpfs tmpfs /run",
            `mount --bind ${state}/lib /var/lib/glusterd`,
            `mount --bind ${state}/log /var/log/glusterfs`,
            `mount --bind ${state}/etc /etc/glusterfs`,
            `mount --bind ${passwd} /etc/passwd`,
            `mount --bind ${group} /etc/group`,
            "mount -t tmpfs tmpfs /srv",
            `mkdir -p ${PATHS.glusterExport}`,
            `mount -t tmpfs tmpfs ${PATHS.glusterExport}`,
        ].join(" && "),
        `preparing GlusterFS peer ${n}`,
    );
    return peer;
}

describeAsRoot("daemons: GlusterFS blob volume with real glusterd", "glusterd peers in network namespaces", function () {
    const VOLUME = "site-blobs";
    let bridge: TestBridge | undefined;
    const peers: ScratchHost[] = [];
    let temp: ReturnType<typeof tempDir> | undefined;

    before(function () {
        requireBinaries(this, "glusterd", "gluster", "ip", "unshare", "nsenter");
        temp = tempDir("gluster");
        bridge = new TestBridge();
        peers.push(glusterPeer(bridge, 1, temp.dir), glusterPeer(bridge, 2, temp.dir));
    });

    after(() => {
        for (const p of peers) p.cleanup();
        bridge?.cleanup();
        temp?.cleanup();
    });

    /** The stack with GlusterFS peers gfs-1 (primary) [.. gfs-n], addresses those of the namespaces. */
    function stack(peerCount: number): RenderContext {
        const ctx = contextOf(
            variantConfig(
                [
                    { name: "web-1", layers: ["frontend"] },
                    { name: "app-1", layers: ["plone_instances", "db_packing"] },
                    ...Array.from({ length: peerCount }, (_, i) => ({ name: `gfs-${i + 1}`, az: i % 2, layers: ["shared_blobs"] })),
                ],
                { storage: "relstorage", blobs: "gluster", glusterVolume: VOLUME },
                { "plone-aws:database": {} },
            ),
        );
        peers.slice(0, peerCount).forEach((p, i) => (ctx.addresses[`gfs-${i + 1}`] = p.address as string));
        // The client (app-1) mounts from inside the primary's namespace.
        ctx.addresses["app-1"] = peers[0].address as string;
        return ctx;
    }

    function runScript(peer: ScratchHost, name: string, content: string, env: Record<string, string> = {}) {
        const file = path.join(temp!.dir, `${name}-${Date.now()}`);
        fs.writeFileSync(file, content, { mode: 0o755 });
        const prefix = Object.entries(env)
            .map(([k, v]) => `${k}=${v} `)
            .join("");
        return peer.sh(`${prefix}bash ${file}`, {}, 180_000);
    }

    const gluster = (peer: ScratchHost, args: string) => peer.must(`gluster --mode=script ${args}`).stdout;

    it("creates and starts the volume on a single peer; a second run changes nothing", function () {
        const ctx = stack(1);
        const script = renderBlobServerScript(ctx, host(ctx, "gfs-1")) as string;
        const first = runScript(peers[0], "gfs-1", script);
        expect(first.status, first.stderr + first.stdout).to.equal(0);
        expect(first.stdout).to.include("started glusterd");
        expect(first.stdout).to.include(`created volume ${VOLUME} from ${peers[0].address}:${PATHS.glusterExport}/brick`);
        expect(first.stdout).to.include(`started volume ${VOLUME}`);
        expect(first.stdout).to.include(`set performance.cache-size of ${VOLUME} to 256MB`);
        const info = gluster(peers[0], `volume info ${VOLUME}`);
        expect(info)
            .to.match(/^Status: Started$/m)
            .and.match(/^Number of Bricks: 1$/m);
        // The brick listens inside the range the security groups open.
        const status = gluster(peers[0], `volume status ${VOLUME} detail`);
        const port = Number(/^TCP Port\s*:\s*(\d+)/m.exec(status)?.[1]);
        expect(port).to.be.within(PORTS.glusterBricksFirst, PORTS.glusterBricksLast);
        expect(gluster(peers[0], `volume get ${VOLUME} performance.cache-size`)).to.match(/performance\.cache-size\s+256MB/);

        const second = runScript(peers[0], "gfs-1", script);
        expect(second.status, second.stderr).to.equal(0);
        expect(second.stdout).to.equal("plone-blob-server: no change\n");
    });

    it("adds a second peer's brick as a replica (add-brick replica 2, heal); a second run changes nothing", function () {
        const ctx = stack(2);
        const replica = runScript(peers[1], "gfs-2", renderBlobServerScript(ctx, host(ctx, "gfs-2")) as string);
        expect(replica.status, replica.stderr + replica.stdout).to.equal(0);
        expect(replica.stdout).to.include(`peer ready; the primary ${peers[0].address} adds the brick`);

        const script = renderBlobServerScript(ctx, host(ctx, "gfs-1")) as string;
        const grown = runScript(peers[0], "gfs-1", script);
        expect(grown.status, grown.stderr + grown.stdout).to.equal(0);
        expect(grown.stdout).to.include(`probed peer ${peers[1].address}`);
        expect(grown.stdout).to.include(`added ${peers[1].address}:${PATHS.glusterExport}/brick to ${VOLUME} (replica 2)`);
        const info = gluster(peers[0], `volume info ${VOLUME}`);
        expect(info)
            .to.match(/^Type: Replicate$/m)
            .and.match(/^Number of Bricks: 1 x 2 = 2$/m);
        expect(info)
            .to.include(`Brick1: ${peers[0].address}:${PATHS.glusterExport}/brick`)
            .and.include(`Brick2: ${peers[1].address}:${PATHS.glusterExport}/brick`);

        const again = runScript(peers[0], "gfs-1", script);
        expect(again.status, again.stderr).to.equal(0);
        expect(again.stdout).to.equal("plone-blob-server: no change\n");
        const replicaAgain = runScript(peers[1], "gfs-2", renderBlobServerScript(ctx, host(ctx, "gfs-2")) as string);
        expect(replicaAgain.stdout).to.match(/no change\n$/);
    });

    it("mounts the volume with plone-blobs (backup volfile server), owned by the deploy user, twice without change", function () {
        if (!fs.existsSync("/dev/fuse")) this.skip();
        const ctx = stack(2);
        const fstab = path.join(temp!.dir, "client-fstab");
        fs.writeFileSync(fstab, "# client fstab\n");
        const script = renderBlobsScript(ctx, host(ctx, "app-1")) as string;
        const env = { PLONE_FSTAB: fstab, PLONE_MOUNT_WAIT: "20" };
        const first = runScript(peers[0], "plone-blobs", script, env);
        expect(first.status, first.stderr + first.stdout).to.equal(0);
        expect(fs.readFileSync(fstab, "utf8")).to.include(
            `${peers[0].address}:/${VOLUME} ${PATHS.sharedBlobsMount} glusterfs defaults,_netdev,nofail,backup-volfile-servers=${peers[1].address} 0 0`,
        );
        const blobDir = `${PATHS.sharedBlobsMount}/blobstorage`;
        expect(
            peers[0].must(`findmnt -rn -o FSTYPE --mountpoint ${PATHS.sharedBlobsMount}; stat -c '%U:%G %a' ${blobDir}`).stdout.trim().split("\n"),
        ).to.deep.equal(["fuse.glusterfs", `${DEPLOY_USER}:${DEPLOY_USER} 750`]);
        // A blob written through the mount lands in both bricks.
        peers[0].must(`runuser -u ${DEPLOY_USER} -- sh -c 'echo blob > ${blobDir}/probe.blob'`);
        for (const peer of peers) expect(peer.must(`cat ${PATHS.glusterExport}/brick/blobstorage/probe.blob`).stdout).to.equal("blob\n");

        const second = runScript(peers[0], "plone-blobs", script, env);
        expect(second.status, second.stderr).to.equal(0);
        expect(second.stdout).to.equal("plone-blobs: no change\n");
        peers[0].sh(`umount ${PATHS.sharedBlobsMount}`);
    });

    it("keeps going with a warning while a replica whose brick is in the volume is down", function () {
        const ctx = stack(2);
        // Stop the replica's glusterd (its pid file is in its own /run).
        peers[1].must("kill $(cat /run/glusterd.pid)");
        const r = runScript(peers[0], "gfs-1", renderBlobServerScript(ctx, host(ctx, "gfs-1")) as string);
        expect(r.status, r.stderr + r.stdout).to.equal(0);
        expect(r.stderr).to.include(`peer ${peers[1].address} is 'Peer in Cluster (Disconnected)': its brick is offline until it is back`);
        expect(r.stdout).to.equal("plone-blob-server: no change\n");
    });
});

/** Stand-ins for what a scratch host must not do for real: apt, init scripts, the RPC port map. */
function writeStubs(dir: string, installed: string[]): { stubs: string; calls: string } {
    const stubs = path.join(dir, "stubs");
    const calls = path.join(dir, "calls");
    fs.mkdirSync(stubs);
    fs.writeFileSync(path.join(dir, "installed"), installed.map((p) => `${p}\n`).join(""));
    fs.writeFileSync(calls, "");
    const stub = (name: string, body: string) =>
        fs.writeFileSync(path.join(stubs, name), `#!/bin/bash\necho "${name} $*" >>${calls}\n${body}\n`, { mode: 0o755 });
    // dpkg-query -W -f=FORMAT NAME: "ii <version>" for installed packages, as the real one prints.
    stub("dpkg-query", `grep -qxF -- "\${@: -1}" ${dir}/installed || exit 1\nprintf 'ii 1.0'`);
    stub(
        "apt-get",
        `seen=0\nfor a in "$@"; do\n  if [ "$seen" = 1 ] && [[ $a != -* ]]; then echo "$a" >>${dir}/installed; fi\n  [ "$a" = install ] && seen=1\ndone\nexit 0`,
    );
    stub("service", `state=${dir}/service-$1\ncase $2 in status) [ -e "$state" ] ;; start|restart) touch "$state" ;; esac`);
    stub(
        "rpcinfo",
        [
            `echo "    100005    3   tcp  ${PORTS.mountd}  mountd"`,
            `echo "    100024    1   tcp  ${PORTS.statd}  status"`,
            `echo "    100021    4   tcp  ${PORTS.lockd}  nlockmgr"`,
        ].join("\n"),
    );
    return { stubs, calls };
}

describeAsRoot("daemons: plone-setup end to end on a scratch host", "plone-setup runs as root on a scratch host", function () {
    let scratch: ScratchHost | undefined;
    let dir: string | undefined;
    after(() => {
        scratch?.cleanup();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("sets up a one-host NFS stack (user, zone, /tmp, files, volumes, export, bind mount); a second run changes nothing", function () {
        requireBinaries(this, "mkfs.xfs", "blkid", "unshare", "nsenter", "exportfs", "useradd");
        const ctx = VARIANTS.nfsOneHost();
        const h = host(ctx, "all-1");
        // Not under /tmp: the script mounts a tmpfs there.
        dir = fs.mkdtempSync("/var/tmp/plone-aws-setup-");
        const packages = setupPackages(ctx, h);
        const notYet = ["cron", "nvme-cli"];
        const { stubs, calls } = writeStubs(
            dir,
            packages.filter((p) => !notYet.includes(p)),
        );
        const dev = path.join(dir, "dev");
        fs.mkdirSync(path.join(dev, "disk", "by-id"), { recursive: true });
        const ids = ["vol-0ddddddddddddddd1", "vol-0ddddddddddddddd2", "vol-0ddddddddddddddd3"];
        ids.forEach((id, i) => {
            fakeDisk(path.join(dev, `nvme${i + 1}n1`));
            fs.symlinkSync(`../../nvme${i + 1}n1`, path.join(dev, "disk", "by-id", `nvme-Amazon_Elastic_Block_Store_${id.replace("-", "")}`));
        });
        const script = path.join(dir, "plone-setup");
        fs.writeFileSync(script, renderSetupScript(ctx, h));
        // Everything the script writes lands in overlays and tmpfs mounts of the scratch host.
        const overlays = ["/etc", "/usr/local", "/var/log", "/var/lib/nfs", "/home"];
        scratch = ScratchHost.mountOnly();
        scratch.must(
            [
                ...overlays.flatMap((o, i) => [
                    `mkdir -p ${dir}/upper${i} ${dir}/work${i}`,
                    `mount -t overlay overlay -o lowerdir=${o},upperdir=${dir}/upper${i},workdir=${dir}/work${i} ${o}`,
                ]),
                "mount -t tmpfs tmpfs /run",
                "mount -t tmpfs tmpfs /srv",
            ].join(" && "),
            "preparing the scratch host",
        );
        const args = [`${PATHS.filestorage}=${ids[0]}`, `${PATHS.backups}=${ids[1]}`, `${PATHS.nfsExport}=${ids[2]}`];
        const setup = () =>
            scratch!.sh(`PATH=${stubs}:$PATH PLONE_DEV_DIR=${dev} PLONE_SYS_DIR=${dir}/sys PLONE_VOLUME_WAIT=0 bash ${script} ${args.join(" ")}`);

        const first = setup();
        if (process.env.PLONE_AWS_SHOW_SETUP) console.log(first.stdout, first.stderr);
        expect(first.status, first.stderr + first.stdout).to.equal(0);
        const apt = fs
            .readFileSync(calls, "utf8")
            .split("\n")
            .filter((l) => l.startsWith("apt-get"));
        expect(apt).to.have.length(2);
        expect(apt[0]).to.match(/ update$/);
        expect(apt[1])
            .to.include("--force-confold")
            .and.match(/ install cron nvme-cli$/);
        expect(first.stdout).to.include("plone-setup: created user plone (UID 4000)").and.include("plone-setup: time zone Europe/Berlin");
        expect(first.stdout).to.include("plone-setup: mounted a 1G tmpfs on /tmp");
        expect(first.stdout).to.include(`made an XFS file system on the blank device ${dev}/nvme3n1 for ${PATHS.nfsExport}`);
        expect(first.stdout).to.include(`plone-blobs: mounted ${PATHS.nfsExport} on ${PATHS.sharedBlobsMount}`);

        const check = scratch.must(
            [
                "id plone",
                "readlink /etc/localtime",
                "findmnt -rn -o FSTYPE,OPTIONS --mountpoint /tmp",
                `stat -c '%U:%G %a' ${PATHS.logDir} ${PATHS.runtimeDir} ${PATHS.configDir}/plone ${PATHS.deployRoot}/plone`,
                `stat -c '%U:%G %a' ${PATHS.sharedBlobsMount}/blobstorage ${PATHS.nfsExport}/blobstorage`,
                "cat /etc/apt/apt.conf.d/20auto-upgrades /etc/cron.d/plone-aws-plone",
                "exportfs -v",
                `test -x ${PATHS.sbinDir}/plone-cron-job`,
            ].join(" && "),
        ).stdout;
        expect(check).to.include("uid=4000(plone) gid=4000(plone)");
        expect(check).to.include("/usr/share/zoneinfo/Europe/Berlin");
        expect(check).to.match(/^tmpfs .*size=1048576k/m);
        expect(check).to.include(`root:plone 2775\nroot:plone 775\nroot:plone 750\nplone:plone 755\n`);
        expect(check).to.include("plone:plone 750\nplone:plone 750\n");
        expect(check).to.include('APT::Periodic::Unattended-Upgrade "1";').and.include("bin/backup -q");
        // The NFS server is its only client here: nothing is exported to other hosts.
        expect(check).not.to.include(`${PATHS.nfsExport} `);
        // Nothing reached the real system.
        expect(fs.existsSync(`${PATHS.sbinDir}/plone-setup`) || fs.existsSync(`${PATHS.sbinDir}/plone-volumes`)).to.equal(false);
        expect(run("id", ["plone"]).status).not.to.equal(0);

        const second = setup();
        expect(second.status, second.stderr).to.equal(0);
        expect(second.stdout).to.equal(
            [
                "plone-setup: no change",
                // The scratch host is no EC2 instance: the agent's installer says so and installs nothing, both runs.
                "plone-cloudwatch-agent: not an EC2 instance (no instance metadata): the CloudWatch agent is not installed",
                "plone-cloudwatch-agent: no change",
                "plone-volumes: no change",
                "plone-blob-server: no change",
                "plone-blobs: no change",
                "",
            ].join("\n"),
        );
        expect(
            fs
                .readFileSync(calls, "utf8")
                .split("\n")
                .filter((l) => l.startsWith("apt-get")),
        ).to.have.length(2);
    });
});

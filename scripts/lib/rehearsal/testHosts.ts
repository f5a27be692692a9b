// Rehearsal test hosts: local stand-ins for a stack's EC2 instances, so that the scripts
// `pulumi up` sends over SSH can run for real before they run in AWS.
//
// A test host is a Debian 12 root (an overlay over one cached debootstrap base), with its own
// network, UTS, IPC, mount and PID namespaces, the private IP the plan gave its instance, and
// sshd accepting the run's key for `admin` (passwordless sudo, as on Debian's AMIs) and root.
//
// Network design: the run's VPC lives in a namespace of its own (`<run>-vpc`), never on the
// machine. It holds one bridge per subnet with the subnet's .1 (AWS's VPC router address) and
// routes between them, as the VPC router does; each host's `ens5` (the Nitro name) is a veth into
// that bridge. The machine gets no address, route, bridge, veth or firewall rule, so the stack's
// CIDR can never collide with the machine's routes, and two runs with the same CIDR (dev and a
// copy of it) can run side by side. Whatever talks to the hosts (ssh, smoke checks) runs inside
// the VPC namespace (`ip netns exec`). The hosts have no way out except apt: a caching proxy on
// the machine (aptProxy.ts) reached through a socat in the VPC namespace at their gateway.
//
// EBS volumes: each data volume the program attaches to an instance is a sparse file on a loop
// device, shown inside its host as a Nitro host shows an EBS volume: /dev/nvme<N>n1 and the link
// /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<id> udev makes for it. The host's scripts
// find, format and mount it for real. The loop devices are detached at teardown.
//
// The buildout repository: a run may serve a directory of git repositories with `git daemon` in
// its VPC namespace (git://<any subnet gateway>/<name>), the way hosts reach GitHub in AWS.
//
// Cleanup never matches processes by name: every process of a host lives in its PID namespace,
// whose PID 1 is recorded in a pidfile and verified (its namespaces, the run's marker in its
// environment) before it is killed; killing it ends the whole host, and its mounts vanish with its
// mount namespace. What a crash leaves is found by namespace inode, never by process name.
import { shellQuote } from "../../../components/render/shell";
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { intToIp, ipToInt, parseCidr, SUBNET_BITS } from "../../../components/topology/addressing";
import { DEFAULT_MIRROR_HOSTS } from "./aptProxy";
import {
    DEFAULT_CACHE_DIR,
    killRecordedInit,
    netnsIdentity,
    nsIdentity,
    nsPids,
    pids,
    processesInNetns,
    processStartTime,
    pruneOldRunLogs,
    writeRunRecord,
    RUN_PREFIX,
    RUN_WORK_DIRS,
    RunRecord,
    teardownRun,
} from "./runs";
import { CommandResult, run, runAsync, sleep, tail, TestHostError } from "./processes";
import { dialWithRetry } from "./dial";
import { machineProblems } from "./machine";
import { BaseRoot, ensureBaseRoot, HOST_SCRIPTS } from "./baseRoot";

/** The port the hosts' apt proxy listens on, at their gateway (apt-cacher-ng's port). */
export const APT_PROXY_PORT = 3142;
/** The default user of Debian's AMIs; cloud-init gives it passwordless sudo. */
export const IMAGE_USER = "admin";

export interface TestHostSpec {
    /** The plone-aws host name, or "bastion". */
    name: string;
    /** The private IP the plan gave its instance. */
    address: string;
    /** EBS data volumes attached to the instance, emulated by loop devices. */
    volumes?: TestVolume[];
    /** More names the VPC's resolver answers with its address (an AWS stand-in's endpoint: RDS's). */
    dnsNames?: string[];
    /**
     * An image layer over the base root (a directory: the disk of a host that made it, as an AMI
     * is made from an instance's): the host boots from that image instead of the bare base.
     */
    image?: string;
}

export interface TestVolume {
    /** The EBS volume id (vol-...): the host sees /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol... */
    volumeId: string;
    /** Its size: the sparse file behind the loop device has this size (it takes only what is written). */
    sizeGiB: number;
}

/** A volume as attached to a test host. */
export interface AttachedVolume extends TestVolume {
    /** The sparse image file. */
    image: string;
    /** The machine's loop device (/dev/loopN). */
    loop: string;
    /** Its name inside the host: nvme1n1, nvme2n1, ... (nvme0n1 is the root disk on Nitro). */
    device: string;
}

/** The by-id name udev gives an EBS volume on a Nitro instance (what plone-volumes looks for first). */
export function ebsByIdName(volumeId: string): string {
    return `nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;
}

export interface TestHost extends TestHostSpec {
    /** The hostname EC2 would give the instance (ip-10-20-0-10). */
    hostname: string;
    /** The instance's private DNS name, as the VPC resolver answers it (in every host's /etc/hosts). */
    privateDns: string;
    netns: string;
    subnet: string;
    gateway: string;
    /** The host's directory: upper/ and work/ of its overlay, root/ where it is mounted inside the host. */
    dir: string;
    pidfile: string;
    /** Seconds from creating its namespace to sshd accepting the run key. */
    startSeconds: number;
    volumes: AttachedVolume[];
}

export interface TestHostRunOptions {
    /** The stack's network.cidr. */
    vpcCidr: string;
    /** The stack's region, for the instances' private DNS names. */
    region: string;
    /** Cache of the base root and of apt downloads (default .rehearsal). */
    cacheDir?: string;
    /** Where this run keeps its hosts and logs (default <cacheDir>/runs/<run id>). */
    runDir?: string;
    /** Debian mirror hosts the apt proxy may reach. */
    mirrors?: string[];
    /**
     * Serve the git repositories under <runDir>/git with `git daemon` in the VPC namespace, at
     * git://<any subnet gateway>/<repository>, read-only (gitRepositoryUrl).
     */
    serveGit?: boolean;
    /**
     * Serve the files under <runDir>/files over HTTP in the VPC namespace, at
     * http://<any subnet gateway>:FILES_PORT/<path> (filesUrl): the package stand-ins (a pip index,
     * a Node.js mirror, an npm registry) that PyPI, nodejs.org and registry.npmjs.org are on EC2.
     */
    serveFiles?: boolean;
    log?: (line: string) => void;
}

function privateDnsName(address: string, region: string): string {
    const domain = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
    return `ip-${address.replace(/\./g, "-")}.${domain}`;
}

/** The SSH client options of the rehearsal: the run key only, no machine config, no known_hosts. */
export function sshClientOptions(keyFile: string): string[] {
    return [
        "-F",
        "/dev/null",
        "-i",
        keyFile,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "BatchMode=yes",
        // pulumi-command does not check host keys unless connection.hostKey is set.
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=15",
        "-o",
        "ServerAliveInterval=15",
    ];
}

/** git daemon's port. */
export const GIT_DAEMON_PORT = 9418;
/** The port of the package stand-ins' HTTP server in the VPC namespace (serveFiles). */
export const FILES_PORT = 8000;

/**
 * One rehearsal's test hosts: its VPC namespace, apt proxy, key pair and hosts.
 * create() -> startHosts() -> ssh()/inVpc() -> teardown() (or keep()).
 */
export class TestHostRun {
    readonly runId: string;
    readonly runDir: string;
    readonly cacheDir: string;
    readonly vpcCidr: string;
    readonly region: string;
    readonly vpcNetns: string;
    readonly hosts = new Map<string, TestHost>();
    /** The run's ed25519 key pair: its private half is the stack's sshPrivateKey in the rehearsal. */
    readonly keyFile: string;
    readonly timings: { vpcSeconds: number; hostsSeconds: number; teardownSeconds: number } = { vpcSeconds: 0, hostsSeconds: 0, teardownSeconds: 0 };
    private readonly log: (line: string) => void;
    private readonly children: ChildProcess[] = [];
    private readonly subnetPrefix: number;
    private readonly bridges = new Map<string, string>();
    private baseDir = "";
    private serveGit = false;
    private serveFiles = false;
    /** Veth names are h0, h1, ...: never reused, since a stopped host's veth goes only some time after its namespace. */
    private vethCount = 0;
    private tearingDown?: Promise<{ leftovers: string[] }>;

    private constructor(opts: TestHostRunOptions, runId: string) {
        this.runId = runId;
        this.cacheDir = path.resolve(opts.cacheDir ?? DEFAULT_CACHE_DIR);
        this.runDir = path.resolve(opts.runDir ?? path.join(this.cacheDir, "runs", runId));
        this.vpcCidr = opts.vpcCidr;
        this.region = opts.region;
        this.vpcNetns = `${runId}-vpc`;
        this.keyFile = path.join(this.runDir, "ssh", "id_ed25519");
        this.log = opts.log ?? (() => undefined);
        this.subnetPrefix = parseCidr(opts.vpcCidr).prefix + SUBNET_BITS;
    }

    get logsDir(): string {
        return path.join(this.runDir, "logs");
    }

    /** Where the repositories git daemon serves live (serveGit). */
    get gitRoot(): string {
        return path.join(this.runDir, "git");
    }

    /**
     * The git:// URL of a repository under gitRoot, as the hosts reach it: at the gateway of the
     * subnet of `address` (every gateway is an address of the VPC namespace, where git daemon
     * listens on all of them).
     */
    gitRepositoryUrl(repository: string, address: string): string {
        if (!this.serveGit) throw new TestHostError("this run serves no git repositories (serveGit)");
        return `git://${this.subnetOf(address).gateway}/${repository}`;
    }

    /** Where the files the run serves over HTTP live (serveFiles). */
    get filesRoot(): string {
        return path.join(this.runDir, "files");
    }

    /** The http:// URL of a path under filesRoot, as the hosts reach it (at the gateway of the subnet of `address`). */
    filesUrl(urlPath: string, address: string): string {
        if (!this.serveFiles) throw new TestHostError("this run serves no files (serveFiles)");
        return `http://${this.subnetOf(address).gateway}:${FILES_PORT}/${urlPath.replace(/^\/+/, "")}`;
    }

    /** The paths the hosts asked the files server for (its log), with the HTTP status of each. */
    filesRequests(): { path: string; status: number }[] {
        const log = path.join(this.logsDir, "files.log");
        if (!fs.existsSync(log)) return [];
        return [...fs.readFileSync(log, "utf8").matchAll(/"GET (\S+) HTTP\/[\d.]+" (\d{3})/g)].map((m) => ({ path: m[1], status: Number(m[2]) }));
    }

    get privateKey(): string {
        return fs.readFileSync(this.keyFile, "utf8");
    }

    get publicKey(): string {
        return fs.readFileSync(`${this.keyFile}.pub`, "utf8").trim();
    }

    /** Makes the run: base root (built or reused), key pair, VPC namespace, apt proxy. */
    static async create(opts: TestHostRunOptions): Promise<{ run: TestHostRun; base: BaseRoot }> {
        const problems = machineProblems();
        if (problems.length) throw new TestHostError(`this machine cannot run test hosts:\n  ${problems.join("\n  ")}`);
        if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(opts.vpcCidr) || parseCidr(opts.vpcCidr).prefix > 28) throw new TestHostError(`not a VPC CIDR: ${opts.vpcCidr}`);
        const run = new TestHostRun(opts, `${RUN_PREFIX}${crypto.randomBytes(3).toString("hex")}`);
        run.serveGit = !!opts.serveGit;
        run.serveFiles = !!opts.serveFiles;
        pruneOldRunLogs(run.cacheDir);
        const base = await ensureBaseRoot(run.cacheDir, run.log);
        run.baseDir = base.dir;
        try {
            await run.createVpc(opts.mirrors ?? DEFAULT_MIRROR_HOSTS);
        } catch (e) {
            await run.teardown();
            throw e;
        }
        return { run, base };
    }

    private record(kept = false): void {
        const record: RunRecord = {
            runId: this.runId,
            runDir: this.runDir,
            runnerPid: process.pid,
            runnerStarted: processStartTime(process.pid) ?? "",
            kept,
            netns: [this.vpcNetns, ...[...this.hosts.values()].map((h) => h.netns)],
            loops: [...this.hosts.values()].flatMap((h) => h.volumes.map((v) => ({ device: v.loop, file: v.image }))),
        };
        writeRunRecord(this.cacheDir, record);
    }

    private async createVpc(mirrors: string[]): Promise<void> {
        const started = Date.now();
        for (const d of ["logs", ...RUN_WORK_DIRS]) fs.mkdirSync(path.join(this.runDir, d), { recursive: true });
        this.record();
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `plone-aws-rehearsal-${this.runId}`, "-f", this.keyFile]);

        run("ip", ["netns", "add", this.vpcNetns]);
        this.ipIn(this.vpcNetns, ["link", "set", "lo", "up"]);
        // Routing between the subnets, as the VPC router does; this sysctl belongs to the namespace.
        run("ip", ["netns", "exec", this.vpcNetns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);

        const vpcDir = path.join(this.runDir, "vpc");
        const ready = path.join(vpcDir, "ready");
        const proxyLog = path.join(this.logsDir, "apt-proxy.log");
        const env = {
            PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
            VPC_NETNS: this.vpcNetns,
            APT_PROXY_SOCKET: path.join(vpcDir, "apt-proxy.sock"),
            APT_PROXY_PORT: String(APT_PROXY_PORT),
            APT_CACHE_DIR: path.join(this.cacheDir, "apt-cache"),
            APT_MIRRORS: mirrors.join(","),
            APT_PROXY_LOG: proxyLog,
            VPC_READY: ready,
            PROXY_COMMAND: [process.execPath, "-r", "ts-node/register/transpile-only", path.join(__dirname, "aptProxy.ts")].join("\n"),
            PLONE_AWS_RUN: this.runId,
            ...(this.serveGit
                ? { GIT_ROOT: this.gitRoot, GIT_DAEMON_PORT: String(GIT_DAEMON_PORT), GIT_DAEMON_LOG: path.join(this.logsDir, "git-daemon.log") }
                : {}),
            ...(this.serveFiles ? { FILES_ROOT: this.filesRoot, FILES_PORT: String(FILES_PORT), FILES_LOG: path.join(this.logsDir, "files.log") } : {}),
        };
        const out = fs.openSync(path.join(this.logsDir, "vpc.log"), "a");
        const child = spawn("unshare", ["--pid", "--fork", "bash", path.join(HOST_SCRIPTS, "vpc-init.sh")], {
            detached: true,
            stdio: ["ignore", out, out],
            env,
            cwd: path.resolve(__dirname, "..", "..", ".."),
        });
        fs.closeSync(out);
        this.children.push(child);
        await this.waitReady(child, ready, path.join(this.logsDir, "vpc.log"), "the VPC services (apt proxy)");
        this.writeInitPidfile(path.join(vpcDir, "init.pid"), this.vpcNetns, true);
        this.timings.vpcSeconds = (Date.now() - started) / 1000;
    }

    private ipIn(netns: string, args: string[]): void {
        run("ip", ["-n", netns, ...args]);
    }

    private async waitReady(child: ChildProcess, readyFile: string, logFile: string, what: string, timeoutMs = 30_000): Promise<void> {
        let exited: number | null | undefined;
        child.on("exit", (code) => (exited = code));
        const deadline = Date.now() + timeoutMs;
        while (!fs.existsSync(readyFile)) {
            if (exited !== undefined || Date.now() > deadline) {
                const why = exited !== undefined ? `exited (status ${exited})` : `was not ready after ${timeoutMs / 1000}s`;
                const text = fs.existsSync(logFile) ? tail(fs.readFileSync(logFile, "utf8"), 20) : "(no log)";
                throw new TestHostError(`${what} ${why}; the end of ${logFile}:\n${text}`);
            }
            await sleep(25);
        }
    }

    /**
     * Finds the PID 1 started for a namespace: for a host the process in its network namespace
     * that is PID 1 of a nested PID namespace; for the VPC services the PID 1 of the PID namespace
     * of the relay running in the VPC namespace. Records it in the pidfile.
     */
    private writeInitPidfile(pidfile: string, netns: string, viaChild: boolean): void {
        const id = netnsIdentity(netns);
        const inNetns = processesInNetns(new Set(id ? [id] : []));
        let init: number | undefined;
        if (!viaChild) {
            init = inNetns.find((pid) => {
                const ns = nsPids(pid);
                return ns.length > 1 && ns[ns.length - 1] === 1;
            });
        } else {
            const member = inNetns.find((pid) => nsPids(pid).length > 1);
            const pidNs = member !== undefined ? nsIdentity(`/proc/${member}/ns/pid`) : undefined;
            init = pids().find((pid) => {
                const ns = nsPids(pid);
                return ns[ns.length - 1] === 1 && ns.length > 1 && nsIdentity(`/proc/${pid}/ns/pid`) === pidNs;
            });
        }
        if (init === undefined) throw new TestHostError(`cannot find the PID 1 of ${netns}`);
        fs.writeFileSync(pidfile, `${init}\n`);
    }

    private subnetOf(address: string): { cidr: string; gateway: string; index: number } {
        const vpc = parseCidr(this.vpcCidr);
        const n = ipToInt(address);
        if (n < vpc.base || n >= vpc.base + vpc.size) throw new TestHostError(`${address} is outside the VPC ${this.vpcCidr}`);
        const size = 2 ** (32 - this.subnetPrefix);
        const index = Math.floor((n - vpc.base) / size);
        const base = vpc.base + index * size;
        if (n - base < 4 || n === base + size - 1) throw new TestHostError(`${address} is an address AWS reserves in ${intToIp(base)}/${this.subnetPrefix}`);
        return { cidr: `${intToIp(base)}/${this.subnetPrefix}`, gateway: intToIp(base + 1), index };
    }

    private bridgeFor(subnet: { cidr: string; gateway: string; index: number }): string {
        const existing = this.bridges.get(subnet.cidr);
        if (existing) return existing;
        const name = `br${subnet.index}`;
        this.ipIn(this.vpcNetns, ["link", "add", name, "type", "bridge"]);
        this.ipIn(this.vpcNetns, ["addr", "add", `${subnet.gateway}/${this.subnetPrefix}`, "dev", name]);
        this.ipIn(this.vpcNetns, ["link", "set", name, "up"]);
        this.bridges.set(subnet.cidr, name);
        return name;
    }

    /** Starts test hosts (in parallel) and waits until each accepts the run key over SSH. */
    async startHosts(specs: TestHostSpec[]): Promise<TestHost[]> {
        const started = Date.now();
        const names = new Set<string>();
        const addresses = new Set([...this.hosts.values()].map((h) => h.address));
        for (const s of specs) {
            if (!/^[a-z][a-z0-9-]*$/.test(s.name) || s.name.length > 40) throw new TestHostError(`not a host name: ${s.name}`);
            if (names.has(s.name) || this.hosts.has(s.name)) throw new TestHostError(`two test hosts named ${s.name}`);
            if (addresses.has(s.address)) throw new TestHostError(`two test hosts with the address ${s.address}`);
            names.add(s.name);
            addresses.add(s.address);
        }
        const all = [...this.hosts.values(), ...specs];
        const hostsFile = [
            "127.0.0.1\tlocalhost",
            "::1\t\tlocalhost ip6-localhost ip6-loopback",
            "ff02::1\t\tip6-allnodes",
            "ff02::2\t\tip6-allrouters",
            "",
            "# The run's instances, as the VPC's resolver answers their private DNS names.",
            ...all.map(
                (h) =>
                    `${h.address}\t${[privateDnsName(h.address, this.region), privateDnsName(h.address, this.region).split(".")[0], ...(h.dnsNames ?? [])].join(" ")}`,
            ),
            "",
        ].join("\n");
        // Namespaces and links first, one after the other (ip is quick), then the hosts boot together.
        const prepared = specs.map((spec) => this.prepareHost(spec, this.vethCount++, hostsFile));
        this.record();
        const hosts = await Promise.all(prepared.map((p) => this.bootHost(p)));
        for (const h of hosts) this.hosts.set(h.name, h);
        this.record();
        this.timings.hostsSeconds += (Date.now() - started) / 1000;
        return hosts;
    }

    private prepareHost(spec: TestHostSpec, index: number, hostsFile: string): TestHost {
        const subnet = this.subnetOf(spec.address);
        const bridge = this.bridgeFor(subnet);
        const netns = `${this.runId}-h-${spec.name}`;
        const dir = path.join(this.runDir, "hosts", spec.name);
        const identity = path.join(dir, "identity");
        for (const d of ["upper", "work", "root", "identity"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
        const hostname = privateDnsName(spec.address, this.region).split(".")[0];

        run("ip", ["netns", "add", netns]);
        this.hosts.set(spec.name, {
            ...spec,
            hostname,
            privateDns: privateDnsName(spec.address, this.region),
            netns,
            subnet: subnet.cidr,
            gateway: subnet.gateway,
            dir,
            pidfile: path.join(dir, "init.pid"),
            startSeconds: 0,
            volumes: [],
        });
        const veth = `h${index}`;
        run("ip", ["link", "add", veth, "netns", this.vpcNetns, "type", "veth", "peer", "name", "ens5", "netns", netns]);
        this.ipIn(this.vpcNetns, ["link", "set", veth, "master", bridge, "up"]);
        this.ipIn(netns, ["link", "set", "lo", "up"]);
        this.ipIn(netns, ["addr", "add", `${spec.address}/${this.subnetPrefix}`, "dev", "ens5"]);
        this.ipIn(netns, ["link", "set", "ens5", "up"]);
        this.ipIn(netns, ["route", "add", "default", "via", subnet.gateway]);

        const volumes = this.attachVolumes(spec, dir);
        this.hosts.get(spec.name)!.volumes = volumes;
        fs.writeFileSync(path.join(identity, "volumes"), volumes.map((v) => `${v.device} ${v.loop} ${v.volumeId}\n`).join(""));
        fs.writeFileSync(path.join(identity, "hosts"), hostsFile);
        // No resolver answers inside the run: a lookup fails at once (loopback refuses) instead of
        // timing out; the run's own names are in /etc/hosts, apt goes through the proxy.
        fs.writeFileSync(
            path.join(identity, "resolv.conf"),
            `# plone-aws rehearsal: no DNS beyond /etc/hosts\nsearch ${privateDnsName(spec.address, this.region).split(".").slice(1).join(".")}\nnameserver 127.0.0.1\n`,
        );
        fs.writeFileSync(path.join(identity, "authorized_keys"), `${this.publicKey}\n`);
        fs.writeFileSync(
            path.join(identity, "apt-proxy.conf"),
            `// plone-aws rehearsal: the way out to the Debian mirror\nAcquire::http::Proxy "http://${subnet.gateway}:${APT_PROXY_PORT}";\n`,
        );
        return this.hosts.get(spec.name)!;
    }

    /**
     * A sparse image file and a loop device for each volume, recorded at once (teardown detaches
     * them even when the host never booted).
     */
    private attachVolumes(spec: TestHostSpec, dir: string): AttachedVolume[] {
        const attached: AttachedVolume[] = [];
        const seen = new Set<string>();
        (spec.volumes ?? []).forEach((v, i) => {
            if (!/^vol-[0-9a-f]{8,17}$/.test(v.volumeId)) throw new TestHostError(`${spec.name}: not an EBS volume id: ${v.volumeId}`);
            if (seen.has(v.volumeId)) throw new TestHostError(`${spec.name}: volume ${v.volumeId} is attached twice`);
            if (!(v.sizeGiB > 0)) throw new TestHostError(`${spec.name}: volume ${v.volumeId} has no size`);
            seen.add(v.volumeId);
            const image = path.join(dir, "volumes", `${v.volumeId}.img`);
            fs.mkdirSync(path.dirname(image), { recursive: true });
            const fd = fs.openSync(image, "w");
            try {
                fs.ftruncateSync(fd, v.sizeGiB * 1024 ** 3);
            } finally {
                fs.closeSync(fd);
            }
            const loop = run("losetup", ["--find", "--show", image], { allowFailure: true });
            if (loop.status !== 0) {
                throw new TestHostError(
                    `${spec.name}: no loop device for volume ${v.volumeId} (losetup --find: ${loop.stderr.trim()}); ` +
                        `the rehearsal emulates each EBS volume with one: free some (losetup -l) or add /dev/loop* nodes`,
                );
            }
            attached.push({ ...v, image, loop: loop.stdout.trim(), device: `nvme${i + 1}n1` });
            this.hosts.get(spec.name)!.volumes = [...attached];
            this.record();
        });
        return attached;
    }

    private async bootHost(host: TestHost): Promise<TestHost> {
        const started = Date.now();
        const ready = path.join(host.dir, "ready");
        fs.rmSync(ready, { force: true });
        const logFile = path.join(this.logsDir, `${host.name}.boot.log`);
        const out = fs.openSync(logFile, "a");
        const child = spawn(
            "ip",
            [
                "netns",
                "exec",
                host.netns,
                "unshare",
                "--uts",
                "--ipc",
                "--mount",
                "--pid",
                "--fork",
                "--propagation",
                "private",
                "bash",
                path.join(HOST_SCRIPTS, "host-init.sh"),
            ],
            {
                detached: true,
                stdio: ["ignore", out, out],
                env: {
                    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    // overlayfs' lower layers, the uppermost first.
                    PLONE_AWS_BASE: host.image ? `${host.image}:${this.baseDir}` : this.baseDir,
                    HOST_DIR: host.dir,
                    HOST_HOSTNAME: host.hostname,
                    HOST_READY: ready,
                    PLONE_AWS_RUN: this.runId,
                },
            },
        );
        fs.closeSync(out);
        this.children.push(child);
        await this.waitReady(child, ready, logFile, `test host ${host.name}`);
        this.writeInitPidfile(host.pidfile, host.netns, false);
        // sshd listens before `ready`; the first connection proves the key and the account.
        const probe = await this.ssh(host.name, "true", { timeoutMs: 20_000 });
        if (probe.status !== 0) throw new TestHostError(`test host ${host.name} (${host.address}) does not accept the run key: ${probe.stderr.trim()}`);
        host.startSeconds = (Date.now() - started) / 1000;
        return host;
    }

    /**
     * Stops one test host as EC2 terminates an instance (a scale-in): its PID 1 goes, and with it
     * every process and mount of the host, then its network namespace. Its directory (the
     * overlay's upper layer: its disk) goes with the run's at teardown; the other hosts keep running.
     */
    async stopHost(name: string, timeoutMs = 15_000): Promise<void> {
        const host = this.host(name);
        const netns = netnsIdentity(host.netns);
        killRecordedInit(host.pidfile, `PLONE_AWS_RUN=${this.runId}`, netns);
        const deadline = Date.now() + timeoutMs;
        while (netns !== undefined && processesInNetns(new Set([netns])).length > 0) {
            if (Date.now() > deadline) throw new TestHostError(`test host ${name} did not stop within ${timeoutMs / 1000}s`);
            await sleep(50);
        }
        run("ip", ["netns", "delete", host.netns]);
        // The VPC's router would otherwise keep the gone host's MAC for its address for half a
        // minute or more, and a host started on the same address (a new instance) is unreachable meanwhile.
        this.ipIn(this.vpcNetns, ["neigh", "flush", "to", host.address]);
        for (const v of host.volumes) run("losetup", ["--detach", v.loop], { allowFailure: true });
        this.hosts.delete(name);
        this.record();
    }

    host(name: string): TestHost {
        const h = this.hosts.get(name);
        if (!h) throw new TestHostError(`no test host ${name} in run ${this.runId} (hosts: ${[...this.hosts.keys()].join(", ")})`);
        return h;
    }

    /** The argv that runs `ssh` from inside the VPC namespace to an address. */
    sshArgv(address: string, user: string, remoteCommand: string, extraOptions: string[] = [], proxy?: { address: string; user: string }): string[] {
        // ProxyJump as a ProxyCommand: the jump's own ssh takes the run's key and options (a
        // ProxyJump would read ~/.ssh/config instead), and -W opens a direct-tcpip channel to the
        // host, which is what pulumi-command's connection.proxy does.
        const jump = proxy
            ? ["-o", `ProxyCommand=${["ssh", ...sshClientOptions(this.keyFile), "-W", "%h:%p", `${proxy.user}@${proxy.address}`].map(shellQuote).join(" ")}`]
            : [];
        return [
            "ip",
            "netns",
            "exec",
            this.vpcNetns,
            "ssh",
            ...sshClientOptions(this.keyFile),
            ...jump,
            ...extraOptions,
            `${user}@${address}`,
            "--",
            remoteCommand,
        ];
    }

    /**
     * Runs a command on a test host over SSH, as `admin` unless `user` says otherwise. A connection
     * that does not open is dialed again as pulumi-command does (dialWithRetry); `timeoutMs` bounds
     * each dial's command, and a dial that fails ends within ssh's ConnectTimeout.
     */
    ssh(hostName: string, command: string, options: { user?: string; input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
        const address = this.host(hostName).address;
        const [cmd, ...args] = this.sshArgv(address, options.user ?? IMAGE_USER, command);
        return dialWithRetry(() => runAsync(cmd, args, { input: options.input, timeoutMs: options.timeoutMs ?? 120_000 }), {
            onRetry: (line) => this.log(`[${hostName}] ssh to ${address}: ${line}`),
        });
    }

    /** Runs a program inside the run's VPC namespace (where the hosts' addresses are reachable). */
    inVpc(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
        return runAsync("ip", ["netns", "exec", this.vpcNetns, ...argv], { input: options.input, timeoutMs: options.timeoutMs ?? 120_000 });
    }

    /** Leaves the hosts running after this process ends; returns how to reach and remove them. */
    keep(): string[] {
        this.record(true);
        for (const c of this.children) c.unref();
        const first = [...this.hosts.values()][0];
        return [
            `kept run ${this.runId} in ${this.runDir}`,
            ...(first
                ? [
                      `  reach a host:  ip netns exec ${this.vpcNetns} ssh -i ${this.keyFile} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ${IMAGE_USER}@${first.address}`,
                  ]
                : []),
            `  remove it:     npm run rehearse -- --teardown ${this.runId}`,
        ];
    }

    /**
     * Removes everything of the run: its processes (through the pidfiles, then anything left in
     * its namespaces), namespaces (and with them the links and bridges), and the hosts' overlay
     * directories. The logs stay in <runDir>/logs. Safe to call twice.
     */
    teardown(): Promise<{ leftovers: string[] }> {
        // One teardown, whoever asks first (a signal, or the end of the run): later calls wait for it.
        this.tearingDown ??= (async () => {
            const started = Date.now();
            const leftovers = await teardownRun(
                {
                    runId: this.runId,
                    runDir: this.runDir,
                    netns: [this.vpcNetns, ...[...this.hosts.values()].map((h) => h.netns)],
                    loops: [...this.hosts.values()].flatMap((h) => h.volumes.map((v) => ({ device: v.loop, file: v.image }))),
                },
                this.cacheDir,
            );
            this.timings.teardownSeconds = (Date.now() - started) / 1000;
            return { leftovers };
        })();
        return this.tearingDown;
    }
}

/** What is left of a run on the machine, by kind; empty lists when it is all gone. */

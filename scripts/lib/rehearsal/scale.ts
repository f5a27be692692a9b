// The elastic app layer (plone-aws:scaling) rehearsed: on a rehearsal whose stack has a scaled
// group, an instance starts the way the group starts one (a fresh test host in the group's subnet
// whose first boot runs the launch template's user data), the front ends find it through Cloud
// Map's SRV records without a haproxy reload, and it goes the way a scale-in ends one (the
// termination lifecycle hook: the metadata service says Terminated, the instance's watch drains
// it, deregisters it and completes the action, then the instance is gone). What only AWS provides
// is played by the stand-ins of scaledStandins.ts. bench:scale (scripts/bench-scale.ts) and
// test/rehearsal/scale.spec.ts run it under load through the front door.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Rehearsal } from ".";
import { DEFAULT_FRONTEND_LAYOUT, HAPROXY_BACKEND, HAPROXY_VOLTO, serverTemplates } from "../../../components/render/frontend/layout";
import { SCALED_PATHS } from "../../../components/render/scaling/instance";
import { imageComponentScript } from "../../../components/render/scaling/image";
import { buildTopology } from "../../../components/topology";
import { intToIp, parseCidr } from "../../../components/topology/addressing";
import { BenchRow, formatBenchTable } from "./benchDeploy";
import { RehearsalError } from "./runner";
import { sleep } from "./processes";
import {
    AwsStandin,
    BOOT_FINISHED,
    CLOUD_INIT_STANDIN,
    CLOUDWATCH_AGENT_STANDIN,
    ScaledGroupStandin,
    scalingStandinOf,
    USER_DATA_STATUS,
} from "./scaledStandins";

/** The issue's target for boot to serving (the base image cached). */
export const BOOT_TO_SERVING_TARGET_SECONDS = 90;

/** haproxy's process on a front end (its runtime API's `show info`): a reload makes a new one. */
export interface HaproxyProcess {
    pid: string;
    /** Start_time_sec: when the process started (seconds since the epoch). */
    startTime: number;
    uptimeSeconds: number;
}

/** A server-template slot of a scaled group in a front end's haproxy (show stat). */
export interface TemplateSlot {
    slot: string;
    status: string;
    /** address:port, or "" while the slot is empty. */
    address: string;
    /** Requests haproxy sent it (stot). */
    requests: number;
}

/** A group's image as the rehearsal keeps it: a layer over the base root. */
export interface BakedImage {
    dir: string;
    /** Made by this call (false: the cached one). */
    built: boolean;
    seconds: number;
}

/** What makes an instance itself, removed from an image's disk (cloud-init's clean; host-init.sh makes them anew). */
const IMAGE_IDENTITY_FILES = [
    "etc/hostname",
    "etc/hosts",
    "etc/resolv.conf",
    "etc/machine-id",
    "etc/ssh/ssh_host_ed25519_key",
    "etc/ssh/ssh_host_ed25519_key.pub",
    "etc/ssh/ssh_host_ecdsa_key",
    "etc/ssh/ssh_host_ecdsa_key.pub",
    "etc/apt/apt.conf.d/00plone-aws-rehearsal-proxy",
    "root/.ssh",
    "home/admin/.ssh",
];

/** The phases of an instance's boot, from its boot log (seconds, 1 s resolution). */
export interface BootPhase {
    name: string;
    seconds: number;
}

export interface ScaleOut {
    instanceId: string;
    host: string;
    address: string;
    /** From the launch to the test host answering (EC2's part: the instance runs). */
    hostSeconds: number;
    /** From the launch to the user data's registration of every Zope client and Volto process in Cloud Map. */
    registeredSeconds: number;
    /** From the launch to the first front end with one of the instance's slots UP. */
    firstUpSeconds: number;
    /** From the launch to every front end with every slot of the instance UP: boot to serving. */
    servingSeconds: number;
    phases: BootPhase[];
    /** Whether the boot found the build cache the fixed app host published. */
    buildCache: boolean;
}

export interface ScaleIn {
    /** From the termination notice to the instance's watch starting the drain. */
    drainStartedSeconds?: number;
    /** ... to the last of its Cloud Map registrations gone. */
    deregisteredSeconds?: number;
    /** ... to every front end's slots of it empty. */
    slotsEmptySeconds?: number;
    /** ... to the lifecycle action completed by the instance (undefined: the hook timed out). */
    completedSeconds?: number;
    result: string;
    heartbeats: number;
    /** ... to the instance gone (the test host stopped). */
    goneSeconds: number;
}

const seconds = (from: number) => (Date.now() - from) / 1000;

/** The slots of the scaled groups in a front end's haproxy (the Zope and Volto backends), from `show stat` (columns by its header). */
export function parseTemplateSlots(showStat: string, prefixes: string[]): TemplateSlot[] {
    const lines = showStat.split("\n").filter(Boolean);
    const header = (lines[0] ?? "").replace(/^# /, "").split(",");
    const col = (name: string) => {
        const i = header.indexOf(name);
        if (i < 0) throw new RehearsalError(`haproxy's show stat has no ${name} column`);
        return i;
    };
    const [px, sv, status, addr, stot] = ["pxname", "svname", "status", "addr", "stot"].map(col);
    return lines
        .slice(1)
        .map((l) => l.split(","))
        .filter((f) => (f[px] === HAPROXY_BACKEND || f[px] === HAPROXY_VOLTO) && prefixes.some((p) => f[sv].startsWith(p)))
        .map((f) => ({ slot: f[sv], status: f[status], address: f[addr] ?? "", requests: Number(f[stot] ?? 0) }));
}

/** Whether a slot holds a client of the host at `address` (filled, not emptied by its record's removal). */
export function isFilledBy(slot: TemplateSlot, address: string): boolean {
    return slot.address.split(":")[0] === address && !slot.status.startsWith("MAINT");
}

/** haproxy's process from `show info`. */
export function parseHaproxyInfo(showInfo: string): HaproxyProcess {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, "m").exec(showInfo)?.[1]?.trim() ?? "";
    const process = { pid: field("Pid"), startTime: Number(field("Start_time_sec")), uptimeSeconds: Number(field("Uptime_sec")) };
    if (!process.pid || !process.startTime) throw new RehearsalError(`haproxy's show info has no Pid or Start_time_sec:\n${showInfo.slice(0, 400)}`);
    return process;
}

/** The front ends whose haproxy is not the same process as before (reloaded or restarted). */
export function reloadedFrontends(before: Record<string, HaproxyProcess>, after: Record<string, HaproxyProcess>): string[] {
    return Object.keys(before).filter((fe) => !after[fe] || after[fe].pid !== before[fe].pid || after[fe].startTime !== before[fe].startTime);
}

/** The phases of a boot from its log's `HH:MM:SS plone-aws boot: <what>` lines (render/scaling/instance.ts). */
export function bootPhases(bootLog: string): BootPhase[] {
    const marks = bootLog
        .split("\n")
        .map((l) => /^(\d\d):(\d\d):(\d\d) plone-aws boot: (.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ at: Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), what: m[4] }));
    const name = (what: string) =>
        /^(setup|configure|build|activate)$/.test(what)
            ? what
            : what.startsWith("unpacking the build cache") || what.startsWith("no build cache")
              ? "build cache"
              : what.startsWith("registered")
                ? "register"
                : what.startsWith("instance ")
                  ? "metadata, bundle, secrets"
                  : undefined;
    const phases: BootPhase[] = [];
    for (let i = 0; i < marks.length - 1; i++) {
        const n = name(marks[i].what);
        if (!n) continue;
        const last = phases[phases.length - 1];
        const secs = (marks[i + 1].at - marks[i].at + 86400) % 86400;
        if (last?.name === n) last.seconds += secs;
        else phases.push({ name: n, seconds: secs });
    }
    return phases;
}

/** A scaled group of a rehearsal, with the AWS stand-in that plays what AWS does for it. */
export class ScaledGroupRehearsal {
    private launched = 0;

    private constructor(
        readonly rehearsal: Rehearsal,
        readonly aws: AwsStandin,
        readonly group: ScaledGroupStandin,
    ) {}

    /**
     * Starts the AWS stand-in for the stack's first scaled group and gives the fixed app host that
     * publishes the build cache the aws CLI stand-in. After startHosts(), before provision().
     */
    static async start(rehearsal: Rehearsal): Promise<ScaledGroupRehearsal> {
        const scaling = scalingStandinOf(rehearsal.program, rehearsal.spec);
        if (!scaling) throw new RehearsalError(`${rehearsal.stackName} has no scaled group (plone-aws:scaling)`);
        const aws = await AwsStandin.start(rehearsal.hosts, scaling);
        try {
            // The first fixed app host publishes the build cache after each build (render/scaling/instance.ts).
            const publisher = buildTopology(rehearsal.spec).roles.appHosts[0];
            if (publisher) await aws.installCli(publisher);
        } catch (e) {
            await aws.stop();
            throw e;
        }
        return new ScaledGroupRehearsal(rehearsal, aws, scaling.groups[0]);
    }

    get frontends(): string[] {
        return this.rehearsal.frontendHosts;
    }

    /** The AWS parts played by stand-ins, one line each. */
    get standins(): string[] {
        return [
            `the group's launch of an instance: a test host in the group's subnet (${this.group.plan.subnets[0].cidr}), its first boot running the launch template's user data ` +
                `(${this.group.userData.length} bytes from the metadata service, as root) through a cloud-init stand-in; what Debian's AMI and EC2 give it that a test host lacks: ` +
                "cloud-init (its stand-in: run-user-data, status --wait), the CloudWatch agent (a stand-in package: Amazon's is in their S3 buckets, out of reach)",
            ...(this.group.image
                ? [
                      `EC2 Image Builder's image of the group (component ${this.group.image.version}): its build script run as root on a test host from the base root (Debian's AMI), ` +
                          "that host's disk, less its identity, kept as the layer the instances boot from (cached under .rehearsal/images, as the AMI stays in the account)",
                  ]
                : []),
            ...this.aws.describe(),
            `the termination lifecycle hook ${this.group.lifecycleHook.name}: the stand-in sets the instance Terminating:Wait and its target-lifecycle-state Terminated, waits for complete-lifecycle-action (or ${this.group.lifecycleHook.heartbeatTimeout}s without a heartbeat, then ${this.group.lifecycleHook.defaultResult}), then stops the test host`,
        ];
    }

    private async onFrontend(frontend: string, command: string): Promise<string> {
        return this.rehearsal.root(
            frontend,
            `echo ${JSON.stringify(command)} | socat -t 5 stdio unix-connect:${DEFAULT_FRONTEND_LAYOUT.paths.haproxySocket}`,
            30_000,
        );
    }

    /** haproxy's process on every front end. */
    async haproxyProcesses(): Promise<Record<string, HaproxyProcess>> {
        return Object.fromEntries(await Promise.all(this.frontends.map(async (fe) => [fe, parseHaproxyInfo(await this.onFrontend(fe, "show info"))] as const)));
    }

    /** The group's slots on every front end (Zope clients and Volto processes). */
    async slots(): Promise<Record<string, TemplateSlot[]>> {
        const prefixes = serverTemplates({ topology: buildTopology(this.rehearsal.spec) })
            .filter((t) => this.group.services.some((s) => s.srvName === t.srvName))
            .map((t) => t.prefix);
        return Object.fromEntries(
            await Promise.all(this.frontends.map(async (fe) => [fe, parseTemplateSlots(await this.onFrontend(fe, "show stat"), prefixes)] as const)),
        );
    }

    /** Requests each front end's haproxy sent to an instance (the stot of its slots). */
    async requestsTo(address: string): Promise<Record<string, number>> {
        const slots = await this.slotsOf(address);
        return Object.fromEntries(Object.entries(slots).map(([fe, s]) => [fe, s.reduce((n, x) => n + x.requests, 0)]));
    }

    /**
     * The slots holding a client of this host, by front end. A slot whose record went keeps the
     * last address in show stat, in MAINT (resolution): that slot is empty.
     */
    private async slotsOf(address: string): Promise<Record<string, TemplateSlot[]>> {
        const all = await this.slots();
        return Object.fromEntries(Object.entries(all).map(([fe, slots]) => [fe, slots.filter((s) => isFilledBy(s, address))]));
    }

    /** A free address in the group's first subnet, as EC2 would assign one. */
    private freeAddress(from = 100, to = 200): string {
        const taken = new Set([...this.rehearsal.hosts.hosts.values()].map((h) => h.address));
        const base = parseCidr(this.group.plan.subnets[0].cidr).base;
        for (let n = from; n < to; n++) if (!taken.has(intToIp(base + n))) return intToIp(base + n);
        throw new RehearsalError(`no free address in ${this.group.plan.subnets[0].cidr}`);
    }

    /**
     * The group's baked image (scaling.groups[].bakedImage), as EC2 Image Builder makes it at
     * `pulumi up`: a fresh test host from the base root (Debian's AMI) runs the build script of the
     * image component the program wrote, as root; then its disk, less the instance's identity (what
     * cloud-init's clean removes before an AMI is taken), is the layer the instances boot from.
     * Cached per component version under <cacheDir>/images, as an AMI stays in the account: only
     * the first run pays the build. Undefined for a group on Debian's own AMI.
     */
    async bakedImage(print: (line: string) => void = () => undefined): Promise<BakedImage | undefined> {
        const image = this.group.image;
        if (!image) return undefined;
        const hosts = this.rehearsal.hosts;
        const dir = path.join(hosts.cacheDir, "images", `${this.group.plan.name}-${image.version}`);
        const done = `${dir}.done`;
        if (fs.existsSync(done) && fs.existsSync(dir)) return { dir, built: false, seconds: 0 };
        const started = Date.now();
        const name = `${this.group.plan.name}-image`;
        // Image Builder's build instance: an address the group's instances do not take first.
        await hosts.startHosts([{ name, address: this.freeAddress(200, 250) }]);
        print(`[${name}] making the group's image: the image component's build script (${image.version}) on Debian's base`);
        const upper = path.join(hosts.host(name).dir, "upper");
        try {
            await this.rehearsal.root(name, imageComponentScript(image.document), 1_800_000);
        } catch (e) {
            throw new RehearsalError(
                `the image of ${this.group.plan.name} failed (EC2 Image Builder would fail the image): ${(e as Error).message.split("\n").slice(-20).join("\n")}`,
            );
        } finally {
            await hosts.stopHost(name);
        }
        for (const identity of IMAGE_IDENTITY_FILES) fs.rmSync(path.join(upper, identity), { force: true, recursive: true });
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(upper, dir);
        fs.writeFileSync(done, `${image.version}\n`);
        return { dir, built: true, seconds: seconds(started) };
    }

    /**
     * Scale-out: the group launches an instance. A test host starts in the group's subnet; what
     * the AMI brings that the test hosts lack is installed (cloud-init: its stand-in; the aws CLI:
     * its stand-in, which the boot script would otherwise install from Debian; the CloudWatch
     * agent: its stand-in, which the setup would otherwise download from Amazon); its first boot
     * runs the user data. Returns when every front end has every process of it (its Zope clients, its
     * Volto processes) UP: boot to serving.
     */
    async scaleOut(print: (line: string) => void = () => undefined): Promise<ScaleOut> {
        const hosts = this.rehearsal.hosts;
        const instanceId = `i-${crypto.randomBytes(9).toString("hex").slice(0, 17)}`;
        const address = this.freeAddress();
        const host = `${this.group.plan.name}-${++this.launched}`;
        const processes = this.group.services.length;
        const image = await this.bakedImage(print);
        if (image) print(`[${host}] from the group's image ${image.built ? `(made in ${image.seconds.toFixed(1)}s)` : "(cached)"}`);
        const launchedAt = Date.now();
        this.aws.launch(this.group, instanceId, address);
        await hosts.startHosts([{ name: host, address, image: image?.dir }]);
        const hostSeconds = seconds(launchedAt);
        print(
            `[${host}] instance ${instanceId} (${address}) launched: test host up in ${hostSeconds.toFixed(1)}s; first boot: the launch template's user data`,
        );
        await this.rehearsal.root(
            host,
            `set -e\ninstall -m 0755 /dev/stdin /usr/bin/cloud-init <<'PLONE_AWS_CLOUD_INIT'\n${CLOUD_INIT_STANDIN}PLONE_AWS_CLOUD_INIT\n${CLOUDWATCH_AGENT_STANDIN}`,
        );
        await this.aws.installCli(host);
        await this.rehearsal.root(host, "cloud-init run-user-data");

        const bound = this.group.plan.healthCheckGracePeriod + 60;
        let registeredSeconds: number | undefined;
        let firstUpSeconds: number | undefined;
        for (;;) {
            const [slots, boot] = await Promise.all([
                this.slotsOf(address),
                hosts.ssh(host, `cat ${USER_DATA_STATUS} 2>/dev/null; test -e ${BOOT_FINISHED} && echo finished || true`, { user: "root", timeoutMs: 30_000 }),
            ]);
            const finished = boot.stdout.includes("finished");
            if (finished && boot.stdout.trim().split("\n")[0] !== "0") {
                throw new RehearsalError(
                    `the boot of ${host} failed (exit ${boot.stdout.trim().split("\n")[0]}); the end of its boot log:\n${await this.bootLog(host, 30)}`,
                );
            }
            const registered = Object.values(this.aws.registrations()).filter((r) => instanceId in r).length;
            if (registeredSeconds === undefined && registered === processes) registeredSeconds = seconds(launchedAt);
            const up = Object.values(slots).map((s) => s.filter((x) => x.status === "UP").length);
            if (firstUpSeconds === undefined && up.some((n) => n > 0)) firstUpSeconds = seconds(launchedAt);
            if (up.every((n) => n === processes) && registeredSeconds !== undefined) break;
            if (seconds(launchedAt) > bound) {
                throw new RehearsalError(
                    `${host} is not serving ${bound}s after its launch (the group's grace period and a minute): ${registered}/${processes} processes registered; ` +
                        `${Object.entries(slots)
                            .map(([fe, s]) => `${fe}: ${s.map((x) => `${x.slot} ${x.status}`).join(", ") || "no slot"}`)
                            .join("; ")}; the end of its boot log:\n${await this.bootLog(host, 30)}`,
                );
            }
            await sleep(500);
        }
        const servingSeconds = seconds(launchedAt);
        const log = await this.bootLog(host);
        print(`[${host}] serving: every front end has its ${processes} process(es) UP ${servingSeconds.toFixed(1)}s after the launch`);
        return {
            instanceId,
            host,
            address,
            hostSeconds,
            registeredSeconds: registeredSeconds!,
            firstUpSeconds: firstUpSeconds ?? servingSeconds,
            servingSeconds,
            phases: bootPhases(log),
            buildCache: log.includes("plone-aws boot: unpacking the build cache"),
        };
    }

    /** The instance's boot log (the user data's output), or its last lines. */
    async bootLog(host: string, lines?: number): Promise<string> {
        const r = await this.rehearsal.hosts.ssh(host, lines ? `tail -n ${lines} ${SCALED_PATHS.bootLog}` : `cat ${SCALED_PATHS.bootLog}`, { user: "root" });
        return r.stdout;
    }

    /**
     * Scale-in: the group ends the instance. Its termination hook holds it (Terminating:Wait) and
     * the metadata service says Terminated; the instance's watch drains it, deregisters it and
     * completes the lifecycle action; then the group terminates it (the test host stops). A hook
     * without a heartbeat for its timeout ends with its default result, as AWS does.
     */
    async scaleIn(instance: Pick<ScaleOut, "instanceId" | "host" | "address">, print: (line: string) => void = () => undefined): Promise<ScaleIn> {
        const { instanceId, host, address } = instance;
        const hook = this.group.lifecycleHook;
        const noticeAt = Date.now();
        this.aws.terminate(instanceId);
        print(`[${host}] termination notice: ${instanceId} is Terminating:Wait (hook ${hook.name}); the metadata service says Terminated`);
        const result: Omit<ScaleIn, "goneSeconds"> = { result: hook.defaultResult, heartbeats: 0 };
        let lastBeat = noticeAt;
        for (;;) {
            const mine = this.aws.lifecycleActions().filter((a) => a.instanceId === instanceId);
            result.heartbeats = mine.filter((a) => a.action === "heartbeat").length;
            if (result.heartbeats) lastBeat = Math.max(lastBeat, ...mine.filter((a) => a.action === "heartbeat").map((a) => a.time * 1000));
            if (result.drainStartedSeconds === undefined) {
                const watch = await this.rehearsal.hosts.ssh(host, `grep -c 'draining it' ${SCALED_PATHS.watchLog} 2>/dev/null || true`, { user: "root" });
                if (Number(watch.stdout.trim()) > 0) result.drainStartedSeconds = seconds(noticeAt);
            }
            if (result.deregisteredSeconds === undefined && Object.values(this.aws.registrations()).every((r) => !(instanceId in r))) {
                result.deregisteredSeconds = seconds(noticeAt);
            }
            if (result.slotsEmptySeconds === undefined && Object.values(await this.slotsOf(address)).every((s) => s.length === 0)) {
                result.slotsEmptySeconds = seconds(noticeAt);
            }
            const completed = mine.find((a) => a.action === "complete");
            if (completed) {
                result.completedSeconds = completed.time - noticeAt / 1000;
                result.result = completed.result ?? hook.defaultResult;
                break;
            }
            if ((Date.now() - lastBeat) / 1000 > hook.heartbeatTimeout) {
                print(`[${host}] no lifecycle action for ${hook.heartbeatTimeout}s: the hook ends with its default result ${hook.defaultResult}`);
                break;
            }
            await sleep(500);
        }
        this.aws.terminated(instanceId);
        await this.rehearsal.hosts.stopHost(host);
        const goneSeconds = seconds(noticeAt);
        print(`[${host}] gone ${goneSeconds.toFixed(1)}s after the termination notice (lifecycle action ${result.result})`);
        return { ...result, goneSeconds };
    }

    async stop(): Promise<void> {
        await this.aws.stop();
    }
}

const s = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(1)}s`);

/** The figures bench:scale prints: load during each phase, boot to serving, notice to gone, haproxy before and after. */
export function formatScaleFigures(figures: {
    scaleOut: { row: BenchRow; result: ScaleOut };
    scaleIn: { row: BenchRow; result: ScaleIn };
    haproxy: { before: Record<string, HaproxyProcess>; after: Record<string, HaproxyProcess> };
    requestsToInstance: Record<string, number>;
    bootTarget: number;
}): string {
    const { scaleOut, scaleIn, haproxy } = figures;
    const out = scaleOut.result;
    const inn = scaleIn.result;
    const reloaded = reloadedFrontends(haproxy.before, haproxy.after);
    const time = (t: number) => new Date(t * 1000).toISOString().replace(".000Z", "Z");
    return [
        formatBenchTable([scaleOut.row, scaleIn.row], "action took"),
        "",
        `boot to serving   ${s(out.servingSeconds)} (target under ${figures.bootTarget}s: ${out.servingSeconds < figures.bootTarget ? "met" : "NOT met"}): test host up ${s(out.hostSeconds)}, ` +
            `clients registered in Cloud Map ${s(out.registeredSeconds)}, first slot UP ${s(out.firstUpSeconds)}, every front end ${s(out.servingSeconds)}`,
        `  boot phases     ${out.phases.map((p) => `${p.name} ${p.seconds}s`).join(", ")}; build cache ${out.buildCache ? "found (built once on the fixed app host)" : "not found"}`,
        `  requests to it  ${Object.entries(figures.requestsToInstance)
            .map(([fe, n]) => `${fe} ${n}`)
            .join(", ")} (haproxy's stot of its slots, end of the scale-out)`,
        `notice to gone    ${s(inn.goneSeconds)}: drain started ${s(inn.drainStartedSeconds)}, deregistered ${s(inn.deregisteredSeconds)}, slots empty on every front end ${s(inn.slotsEmptySeconds)}, ` +
            `lifecycle action ${inn.completedSeconds === undefined ? `timed out (${inn.result})` : `${inn.result} ${s(inn.completedSeconds)}`} (${inn.heartbeats} heartbeat(s))`,
        `haproxy reloads   ${reloaded.length ? `RELOADED on ${reloaded.join(", ")}` : "none"}:`,
        ...Object.keys(haproxy.before).map(
            (fe) =>
                `  ${fe}: pid ${haproxy.before[fe].pid} started ${time(haproxy.before[fe].startTime)} (uptime ${haproxy.before[fe].uptimeSeconds}s) before; ` +
                `pid ${haproxy.after[fe]?.pid ?? "-"} started ${haproxy.after[fe] ? time(haproxy.after[fe].startTime) : "-"} (uptime ${haproxy.after[fe]?.uptimeSeconds ?? "-"}s) after`,
        ),
    ].join("\n");
}

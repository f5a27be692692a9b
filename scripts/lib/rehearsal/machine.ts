// What the machine must offer to run test hosts, and the routes of its own that a stack's CIDR
// would overlap.
import * as fs from "fs";
import { parseCidr } from "../../../components/topology/addressing";
import { run } from "./processes";

/**
 * What the machine lacks to run test hosts, as messages (empty when it can). Root on Linux, the
 * programs the recipes use, overlayfs, /dev/fuse (GlusterFS clients inside the hosts).
 */
export function machineProblems(): string[] {
    if (process.platform !== "linux") return [`test hosts need Linux (network namespaces, overlayfs); this is ${process.platform}`];
    const problems: string[] = [];
    if (process.getuid?.() !== 0) problems.push("test hosts need root (network namespaces, mounts, chroot): run as root, e.g. in CI or with sudo");
    const programs: Record<string, string> = {
        debootstrap: "debootstrap",
        ip: "iproute2",
        unshare: "util-linux",
        flock: "util-linux",
        losetup: "mount",
        chroot: "coreutils",
        ssh: "openssh-client",
        "ssh-keygen": "openssh-client",
        socat: "socat",
        python3: "python3",
    };
    const missing = Object.entries(programs).filter(([p]) => run("sh", ["-c", `command -v ${p}`], { allowFailure: true }).status !== 0);
    if (missing.length)
        problems.push(`missing programs: ${missing.map(([p]) => p).join(", ")} (apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(" ")})`);
    const filesystems = fs.existsSync("/proc/filesystems") ? fs.readFileSync("/proc/filesystems", "utf8") : "";
    if (!/\boverlay\b/.test(filesystems)) problems.push("the kernel has no overlayfs (each test host is an overlay over the base root)");
    if (!fs.existsSync("/dev/fuse")) problems.push("/dev/fuse is missing (GlusterFS clients inside the test hosts need it)");
    return problems;
}

interface RouteEntry {
    dst: string;
    dev?: string;
    gateway?: string;
}

/**
 * The machine's IPv4 routes that overlap a CIDR. The design puts the VPC in namespaces of its own,
 * so an overlap changes nothing for the rehearsal; it is reported so that an operator reading
 * addresses from both sides knows which side they are on.
 */
export function machineRoutesOverlapping(cidr: string): RouteEntry[] {
    const r = run("ip", ["-j", "-4", "route", "show", "table", "all"], { allowFailure: true });
    if (r.status !== 0) return [];
    const { base, size } = parseCidr(cidr);
    const routes = JSON.parse(r.stdout || "[]") as { dst: string; dev?: string; gateway?: string; type?: string }[];
    return routes
        .filter((route) => {
            if (route.dst === "default" || route.type === "broadcast") return false;
            const dst = route.dst.includes("/") ? route.dst : `${route.dst}/32`;
            const other = parseCidr(dst);
            return other.base < base + size && base < other.base + other.size;
        })
        .map(({ dst, dev, gateway }) => ({ dst, dev, gateway }));
}

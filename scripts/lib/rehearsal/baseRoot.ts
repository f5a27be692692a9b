// The base root of the test hosts: one debootstrap of Debian 12 with what a fresh AMI has, built
// once (scripts/lib/rehearsal/hosts/build-base.sh) and cached, that every host overlays.
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AddressInfo } from "net";
import { DEFAULT_MIRROR_HOSTS, startAptProxy } from "./aptProxy";
import { TestHostError, tail } from "./processes";

export const HOST_SCRIPTS = path.join(__dirname, "hosts");
const BUILD_BASE = path.join(HOST_SCRIPTS, "build-base.sh");

/**
 * The packages of the base root, on top of debootstrap's minbase: what the host scripts may expect
 * of a fresh Debian 12 AMI (sshd, sudo, python3, curl, cron, logrotate, gnupg, tzdata, ...).
 * Debian's AMIs have systemd as init; the test hosts have none, like the machine, and the host
 * scripts fall back to `service`/supervisor (they test `[ -d /run/systemd/system ]`).
 */
export const BASE_PACKAGES = [
    "openssh-server",
    "python3",
    // The stand-in clients reach RelStorage's database with it (the buildout would install psycopg2 as an egg).
    "python3-psycopg2",
    "ca-certificates",
    "iproute2",
    "procps",
    "curl",
    "wget",
    "sudo",
    "cron",
    "logrotate",
    "less",
    "netbase",
    "iputils-ping",
    "gnupg",
    "tzdata",
    "apt-utils",
    "xz-utils",
];

export interface BaseRoot {
    dir: string;
    /** Built by this call (false: the cached one was complete and current). */
    built: boolean;
    seconds: number;
}

/** Identifies what the base is built from: a change to the recipe or the packages rebuilds it. */
export function baseRecipeId(): string {
    const hash = crypto.createHash("sha256").update(fs.readFileSync(BUILD_BASE)).update(BASE_PACKAGES.join(",")).digest("hex");
    return `bookworm-${hash.slice(0, 12)}`;
}

export function baseRootDir(cacheDir: string): string {
    return path.join(path.resolve(cacheDir), "base-bookworm");
}

function baseIsCurrent(dir: string): boolean {
    const stamp = path.join(dir, ".plone-aws-base");
    return fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8").split("\n")[0] === baseRecipeId();
}

/**
 * The cached base root, built once with debootstrap (80-260 s measured, mostly the mirror's
 * speed) when missing or out of date.
 * The build log goes to `<cacheDir>/base-bookworm.log`. Concurrent runs build it once (flock).
 */
export async function ensureBaseRoot(cacheDir: string, log: (line: string) => void = () => undefined): Promise<BaseRoot> {
    const dir = baseRootDir(cacheDir);
    if (baseIsCurrent(dir)) return { dir, built: false, seconds: 0 };
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const logFile = `${dir}.log`;
    log(`building the Debian 12 base root in ${dir} (debootstrap: 1.5 to 4 minutes, depending on the mirror; log: ${logFile})`);
    const started = Date.now();
    const out = fs.openSync(logFile, "w");
    // debootstrap and apt fetch through the apt proxy (on loopback), so the packages land in the
    // cache the test hosts use too, and a rebuild after a recipe change downloads nothing twice.
    const proxy = await startAptProxy({
        listen: 0,
        host: "127.0.0.1",
        cacheDir: path.join(path.resolve(cacheDir), "apt-cache"),
        allowedHosts: DEFAULT_MIRROR_HOSTS,
    });
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
        const status = await new Promise<number>((resolve, reject) => {
            const child = spawn("bash", [BUILD_BASE, dir, baseRecipeId(), BASE_PACKAGES.join(",")], {
                stdio: ["ignore", out, out],
                env: { ...process.env, http_proxy: proxyUrl, HTTP_PROXY: proxyUrl },
            });
            child.on("error", reject);
            child.on("close", (code) => resolve(code ?? -1));
        });
        if (status !== 0) {
            throw new TestHostError(`building the base root failed (exit ${status}); the end of ${logFile}:\n${tail(fs.readFileSync(logFile, "utf8"), 20)}`);
        }
    } finally {
        fs.closeSync(out);
        proxy.close();
        proxy.closeAllConnections();
    }
    const seconds = (Date.now() - started) / 1000;
    return { dir, built: true, seconds };
}

// Free TCP ports for the daemons a test starts. The spec files run in parallel (mocha --parallel),
// so a port found free must stay the finder's: each port is claimed with a file created O_EXCL in
// one directory every worker shares, and taken below Linux's ephemeral range (32768-60999 by
// default), where no outgoing connection of another test can land on it meanwhile.
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const CLAIMS = path.join(os.tmpdir(), "plone-aws-test-ports");
const FIRST = 20000;
const LAST = 32767;
const claimed: string[] = [];

process.on("exit", () => {
    for (const f of claimed) fs.rmSync(f, { force: true });
});

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Claims `port` for this process, taking over the claim of a process that is gone. */
function claim(port: number): boolean {
    fs.mkdirSync(CLAIMS, { recursive: true, mode: 0o1777 });
    const file = path.join(CLAIMS, String(port));
    for (let i = 0; i < 2; i++) {
        try {
            fs.writeFileSync(file, String(process.pid), { flag: "wx" });
            claimed.push(file);
            return true;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
            const owner = Number(fs.readFileSync(file, "utf8"));
            if (owner === process.pid || !owner || alive(owner)) return false;
            fs.rmSync(file, { force: true });
        }
    }
    return false;
}

function bindable(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.createServer();
        s.once("error", () => resolve(false));
        s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
}

/** A claimed base port such that base .. base+n are all free (clientN listens on base + N). */
export async function freePortRange(n: number): Promise<number> {
    for (let attempt = 0; attempt < 500; attempt++) {
        const base = FIRST + Math.floor(Math.random() * (LAST - FIRST - n));
        const ports = Array.from({ length: n + 1 }, (_, i) => base + i);
        const mine: number[] = [];
        for (const p of ports) {
            if (!claim(p)) break;
            mine.push(p);
        }
        if (mine.length === ports.length && (await Promise.all(ports.map(bindable))).every(Boolean)) return base;
        // Claims of a failed attempt stay held until exit: the port is taken or just tested busy.
    }
    throw new Error(`no ${n + 1} consecutive free ports between ${FIRST} and ${LAST}`);
}

/** `n` claimed free ports. */
export async function freePorts(n: number): Promise<number[]> {
    const ports: number[] = [];
    while (ports.length < n) ports.push(await freePortRange(0));
    return ports;
}

// Dialing a test host as pulumi-command does: what OpenSSH really prints when a connection does
// not open (real ssh against local sockets: refused, closed before the banner, no banner in time,
// through a jump host), the redial loop, and the runner's transport redialing a step without
// running its command twice.
import { expect } from "chai";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { dialWithRetry, isDialFailure, PULUMI_COMMAND_DIAL_ERROR_LIMIT } from "../../scripts/lib/rehearsal/dial";
import { CommandResult, runAsync } from "../../scripts/lib/rehearsal/processes";
import { RehearsalStep, runSteps, sshTransport } from "../../scripts/lib/rehearsal/runner";
import { sshClientOptions } from "../../scripts/lib/rehearsal/testHosts";
import { shellQuote } from "../../components/render/shell";
import { requireBinaries, run, tempDir } from "../helpers/system";

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

/** A local server that takes connections and does what `onConnection` says (never an SSH banner). */
async function listener(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => undefined);
        onConnection(s);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: async () => {
            for (const s of sockets) s.destroy();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}

describe("dialing a test host as pulumi-command does", function () {
    let dir: string;
    let cleanup: () => void;
    let key: string;
    before(function () {
        requireBinaries(this, "ssh", "ssh-keygen");
        ({ dir, cleanup } = tempDir("dial"));
        key = path.join(dir, "id_ed25519");
        expect(run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]).status).to.equal(0);
    });
    after(() => cleanup?.());

    /** The rehearsal's own ssh (its options), to 127.0.0.1:port; ConnectTimeout 1 s comes first, so it wins. */
    const ssh = (port: number, extra: string[] = []): Promise<CommandResult> =>
        runAsync("ssh", ["-o", "ConnectTimeout=1", ...sshClientOptions(key), ...extra, "-p", String(port), "admin@127.0.0.1", "--", "echo ran"]);

    it("counts what OpenSSH prints for a connection that never opened as a dial failure", async () => {
        const refused = await ssh(await closedPort());
        expect(refused.stderr).to.match(/connect to host 127\.0\.0\.1 port \d+: Connection refused/);

        const closer = await listener((s) => s.destroy());
        const closed = await ssh(closer.port);
        await closer.close();
        expect(closed.stderr).to.match(/Connection closed by remote host|Connection reset/);

        const silent = await listener(() => undefined);
        const noBanner = await ssh(silent.port);
        await silent.close();
        expect(noBanner.stderr).to.match(/timed out/i);

        // Through a jump host (ProxyCommand, as the runner goes through the bastion) that refuses.
        const jump = ["ssh", ...sshClientOptions(key), "-p", String(await closedPort()), "-W", "%h:%p", "admin@127.0.0.1"].map(shellQuote).join(" ");
        const viaJump = await ssh(22, ["-o", `ProxyCommand=${jump}`]);
        expect(viaJump.stderr).to.match(/Connection refused/);

        for (const [name, r] of Object.entries({ refused, closed, noBanner, viaJump })) {
            expect(r.status, name).to.equal(255);
            expect(isDialFailure(r), `${name}: ${r.stderr}`).to.equal(true);
        }
    });

    it("does not count a command that ran, or a refused key, as a dial failure", async () => {
        // The command itself exits 255 after printing: it ran.
        expect(isDialFailure({ status: 255, stdout: "ran\n", stderr: "" })).to.equal(false);
        // A dial failure's words from a command that exits otherwise.
        expect(isDialFailure({ status: 1, stdout: "", stderr: "ssh: connect to host 10.0.0.1 port 22: Connection refused\n" })).to.equal(false);
        // The session opened and the key was refused (OpenSSH's message): it fails the same way each time.
        expect(isDialFailure({ status: 255, stdout: "", stderr: "admin@10.0.0.1: Permission denied (publickey).\n" })).to.equal(false);
        // A dial failure followed by something else.
        expect(isDialFailure({ status: 255, stdout: "", stderr: "ssh: connect to host 10.0.0.1 port 22: Connection refused\nrm: cannot remove\n" })).to.equal(
            false,
        );
        expect(isDialFailure({ status: 255, stdout: "", stderr: "" })).to.equal(false);
    });

    it("dials again until the connection opens, up to the dial limit, saying so as pulumi-command does", async () => {
        const refused = await ssh(await closedPort());
        const ok: CommandResult = { status: 0, stdout: "ran\n", stderr: "" };
        const lines: string[] = [];
        let dials = 0;
        const r = await dialWithRetry(async () => (++dials < 3 ? refused : ok), { onRetry: (l) => lines.push(l), delayMs: 10 });
        expect(r).to.deep.equal(ok);
        expect(dials).to.equal(3);
        expect(lines).to.deep.equal([
            `Dial 1/${PULUMI_COMMAND_DIAL_ERROR_LIMIT} failed: retrying`,
            `Dial 2/${PULUMI_COMMAND_DIAL_ERROR_LIMIT} failed: retrying`,
        ]);

        // The limit: the last failure comes back after that many dials.
        dials = 0;
        expect(await dialWithRetry(async () => (dials++, refused), { dialErrorLimit: 4, delayMs: 1 })).to.deep.equal(refused);
        expect(dials).to.equal(4);

        // A command that ran and failed is not run again.
        dials = 0;
        const failed: CommandResult = { status: 2, stdout: "", stderr: "boom\n" };
        expect(await dialWithRetry(async () => (dials++, failed), { delayMs: 1 })).to.deep.equal(failed);
        expect(dials).to.equal(1);

        // No new dial once the caller ended it (a step past its timeout).
        dials = 0;
        await dialWithRetry(async () => (dials++, refused), { delayMs: 1, shouldRetry: () => dials < 2 });
        expect(dials).to.equal(2);
    });

    it("the runner redials a step whose connection did not open, and runs its command once", async () => {
        const port = await closedPort();
        const dialsFile = path.join(dir, "dials");
        const ranFile = path.join(dir, "ran");
        // Each ssh of the transport: the first `fail` dials are real ssh connections refused; then the command runs.
        let fail = 0;
        const hosts = {
            sshArgv: (_address: string, _user: string, command: string): string[] => {
                const refuse = ["ssh", "-o", "ConnectTimeout=1", ...sshClientOptions(key), "-p", String(port), "admin@127.0.0.1", "true"]
                    .map(shellQuote)
                    .join(" ");
                const script = `n=$(( $(cat ${dialsFile} 2>/dev/null || echo 0) + 1 )); echo $n > ${dialsFile}; [ $n -gt ${fail} ] || exec ${refuse}; ${command}`;
                return ["bash", "-c", script];
            },
        };
        const step = (dialErrorLimit?: number): RehearsalStep => ({
            urn: "urn:app-1:setup",
            host: "app-1",
            step: "setup",
            address: "10.0.0.11",
            user: "admin",
            create: `echo ran >> ${ranFile}; echo set up`,
            dependsOn: [],
            dialErrorLimit,
        });
        const runWith = async (failing: number, dialErrorLimit?: number) => {
            fs.rmSync(dialsFile, { force: true });
            fs.rmSync(ranFile, { force: true });
            fail = failing;
            const logs = path.join(dir, `logs-${failing}`);
            return { result: await runSteps([step(dialErrorLimit)], sshTransport(hosts), { logsDir: logs, print: () => undefined }), logs };
        };

        const { result, logs } = await runWith(2);
        expect(result.ok).to.equal(true);
        expect(fs.readFileSync(dialsFile, "utf8").trim()).to.equal("3");
        expect(fs.readFileSync(ranFile, "utf8")).to.equal("ran\n");
        const log = fs.readFileSync(path.join(logs, "app-1.log"), "utf8");
        expect(log).to.match(/Connection refused/);
        expect(log).to.contain(`Dial 2/${PULUMI_COMMAND_DIAL_ERROR_LIMIT} failed: retrying`);
        expect(log).to.contain("set up");

        // connection.dialErrorLimit 2, a host that never answers: the step fails with ssh's words, its command never ran.
        const never = await runWith(99, 2);
        expect(never.result.ok).to.equal(false);
        expect(never.result.failed).to.include({ step: "setup", exitCode: 255 });
        expect(never.result.failed!.tail!.join("\n")).to.match(/Connection refused/);
        expect(fs.readFileSync(dialsFile, "utf8").trim()).to.equal("2");
        expect(fs.existsSync(ranFile)).to.equal(false);
    });
});

// The mail relay for real: Debian's postfix with the main.cf and password map plone-aws renders,
// relaying to a local SMTP server that stands in for Amazon SES (scripts/lib/rehearsal/standin/
// smtp.py: aiosmtpd with STARTTLS and AUTH, the mails it accepts in a spool). It is a stand-in, not
// SES: SES cannot be reached here. The stand-in Zope client's wiring check (standin/app.py) sends
// one mail to the relay as Plone's MailHost would, and it must arrive at the stand-in over TLS with
// the stack's SMTP credentials. The configure step's validator accepts the files and refuses a
// broken one. Only what a scratch instance needs differs from a host's files, each said below.
import { expect } from "chai";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { variantSpec, contextOf } from "../helpers/appStacks";
import { describeAsRoot } from "../helpers/privileges";
import { Processes } from "../helpers/frontendDaemons";
import { freePorts } from "../helpers/ports";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { REPO } from "../helpers/stacks";
import { mailRelayServices, POSTFIX_MAIN_CF, POSTFIX_SASL_PASSWORDS, renderMailRelayFiles } from "../../components/render/mail/relay";
import { ploneMailSettings } from "../../components/render/app/mail";

const PYTHON = "/usr/bin/python3";
const STANDIN_DIR = path.join(REPO, "scripts/lib/rehearsal/standin");
const USER = "AKIAEXAMPLESMTP0";
const PASSWORD = "BEx4mple pass:word'\"$(x)";

function accepts(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ port, host: "127.0.0.1" }, () => {
            s.destroy();
            resolve(true);
        });
        s.on("error", () => resolve(false));
    });
}

describeAsRoot("mail relay: postfix relays to an SMTP stand-in for SES over STARTTLS with AUTH", "postfix runs its services as the postfix user", function () {
    let scratch: { dir: string; cleanup: () => void };
    let processes: Processes;
    let relayPort: number;
    let standinPort: number;
    let appPort: number;
    let etc: string;
    let validate: string;

    before(async function () {
        requireBinaries(this, "postfix", "postconf", "postmap", "openssl");
        if (run(PYTHON, ["-c", "import aiosmtpd"]).status !== 0) {
            if (process.env.CI) throw new Error("python3-aiosmtpd is missing");
            return this.skip();
        }
        scratch = tempDir("plone-mail-");
        fs.chmodSync(scratch.dir, 0o755);
        processes = new Processes(scratch.dir);
        [relayPort, standinPort, appPort] = await freePorts(3);

        // The stand-in's certificate for "localhost", trusted through a CA file of the test's own.
        const cert = path.join(scratch.dir, "standin.pem");
        const key = path.join(scratch.dir, "standin.key");
        const ssl = run(
            "openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"].concat([
                "-addext",
                "subjectAltName=DNS:localhost",
                "-keyout",
                key,
                "-out",
                cert,
            ]),
        );
        expect(ssl.status, ssl.stderr).to.equal(0);

        // The stack: a relay host of its own (localhost, the stand-in's port), STARTTLS, the credentials as a secret.
        const spec = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver"] }], {
            mail: { senderAddress: "noreply@example.org", senderName: `O'Brien "Site"`, ses: false, relay: { host: "localhost", port: standinPort } },
        });
        const { ctx } = contextOf(spec);
        ctx.secrets.smtpCredentials = `${USER}:${PASSWORD}`;
        etc = path.join(scratch.dir, "etc/postfix");
        fs.mkdirSync(etc, { recursive: true });
        for (const f of renderMailRelayFiles(ctx, "app-1")) {
            fs.writeFileSync(path.join(scratch.dir, f.path), f.content, { mode: parseInt(f.mode, 8) });
        }
        expect(fs.statSync(path.join(scratch.dir, POSTFIX_SASL_PASSWORDS)).mode & 0o777).to.equal(0o600);
        // What differs from a host: the queue and data directories, the password map and CA file
        // in the scratch root, the log on stdout; master.cf is Debian's with smtpd on a scratch
        // port and no chroot (the scratch queue holds no copy of /etc).
        const set = run("postconf", [
            "-c",
            etc,
            "-e",
            `queue_directory=${scratch.dir}/spool`,
            `data_directory=${scratch.dir}/data`,
            `smtp_sasl_password_maps=texthash:${scratch.dir}${POSTFIX_SASL_PASSWORDS}`,
            `smtp_tls_CAfile=${cert}`,
            "maillog_file=/dev/stdout",
        ]);
        expect(set.status, set.stderr).to.equal(0);
        fs.mkdirSync(path.join(scratch.dir, "data"));
        fs.mkdirSync(path.join(scratch.dir, "spool"));
        run("chown", ["postfix", path.join(scratch.dir, "data")]);
        const master = fs
            .readFileSync("/etc/postfix/master.cf", "utf8")
            .replace(/^smtp(\s+)inet/m, `127.0.0.1:${relayPort} inet`)
            .replace(/^([a-z0-9:.-]+\s+(?:inet|unix|unix-dgram|fifo|pass)\s+[-yn]\s+[-yn]\s+)y(\s)/gm, "$1n$2");
        fs.writeFileSync(path.join(etc, "master.cf"), master);
        validate = mailRelayServices(ctx, "app-1")[0].validate!;

        fs.writeFileSync(path.join(scratch.dir, "password"), `${PASSWORD}\n`, { mode: 0o600 });
        processes.start("smtp-standin", PYTHON, [
            path.join(STANDIN_DIR, "smtp.py"),
            "--port",
            String(standinPort),
            "--cert",
            cert,
            "--key",
            key,
            "--user",
            USER,
            "--password-file",
            path.join(scratch.dir, "password"),
            "--spool",
            path.join(scratch.dir, "spool.jsonl"),
        ]);

        // The stand-in Zope client with the wiring its build makes from deploy.cfg's [plone-mail],
        // pointed at the scratch relay's port instead of 25.
        const mail = ploneMailSettings(spec)!;
        const release = path.join(scratch.dir, "release");
        fs.mkdirSync(path.join(release, "parts/client1"), { recursive: true });
        fs.writeFileSync(
            path.join(release, "parts/client1/wiring.json"),
            JSON.stringify({ mail: { smtp: `127.0.0.1:${relayPort}`, from: mail.emailFromAddress, fromName: mail.emailFromName } }),
        );
        processes.start("standin-client1", PYTHON, [path.join(STANDIN_DIR, "app.py"), String(appPort), "client1", release]);
    });

    after(async () => {
        if (etc) run("postfix", ["-c", etc, "stop"]);
        await processes?.stopAll();
        scratch?.cleanup();
    });

    it("the configure step's check accepts the rendered files and refuses a parameter postfix does not know", () => {
        const ok = run("bash", ["-c", validate], { env: { ...process.env, root: scratch.dir } });
        expect(ok.status, `${ok.stdout}${ok.stderr}`).to.equal(0);
        const main = path.join(scratch.dir, POSTFIX_MAIN_CF);
        const good = fs.readFileSync(main, "utf8");
        fs.writeFileSync(main, `${good}smtp_tls_securty_level = secure\n`);
        const bad = run("bash", ["-c", validate], { env: { ...process.env, root: scratch.dir } });
        fs.writeFileSync(main, good);
        expect(bad.status).to.not.equal(0);
        expect(`${bad.stdout}${bad.stderr}`).to.include("smtp_tls_securty_level");
        expect(`${bad.stdout}${bad.stderr}`).to.not.include(PASSWORD);
    });

    it("a mail the stand-in app sends to the relay reaches the SMTP stand-in over TLS, with the stack's SMTP user", async () => {
        processes.start("postfix", "postfix", ["-c", etc, "start-fg"]);
        await processes.until("postfix's smtpd", async () => ((await accepts(relayPort)) ? true : undefined));
        await processes.until("the stand-in client", async () => ((await accepts(appPort)) ? true : undefined));
        const response = await fetch(`http://127.0.0.1:${appPort}/wiring?token=t0k3n`);
        const report = (await response.json()) as { checks: { service: string; ok: boolean; detail: string; target: string }[] };
        const check = report.checks.find((c) => c.service === "mail")!;
        expect(check, JSON.stringify(report)).to.deep.include({ ok: true, target: `127.0.0.1:${relayPort}` });
        const spool = path.join(scratch.dir, "spool.jsonl");
        const received = await processes.until("the mail at the SMTP stand-in", async () => {
            if (!fs.existsSync(spool)) return undefined;
            const mails = fs
                .readFileSync(spool, "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l) as { mailFrom: string; recipients: string[]; user: string; tls: boolean; data: string });
            return mails.find((m) => m.data.includes("plone-aws wiring t0k3n"));
        });
        expect(received).to.deep.include({ mailFrom: "noreply@example.org", recipients: ["wiring-check@rehearsal.invalid"], user: USER, tls: true });
        expect(received.data).to.match(/^From: "O'Brien \\"Site\\"" <noreply@example.org>\r?$/m);
        expect(processes.log("postfix")).to.match(/Verified TLS connection established to localhost\[127\.0\.0\.1\]/);
    });
});

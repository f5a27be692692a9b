// The mail relay (plone-aws:mail): postfix's main.cf and password map, the configure step's check
// and reload, Plone's settings in deploy.cfg, and what hostile values do (the schema refuses them,
// and the encoders would refuse them again). The real postfix runs these files in
// test/daemons/mail-relay.spec.ts.
import { expect } from "chai";
import { parseObjects } from "../helpers/stacks";
import { contextOf, variantConfig } from "../helpers/appStacks";
import { buildoutPython, option, parseBuildout } from "../helpers/buildout";
import { renderDeployCfg } from "../../components/render/app/deployCfg";
import { ploneMailSettings } from "../../components/render/app/mail";
import { hostFiles, renderHostStep } from "../../components/render/hostSteps";
import { POSTFIX_MAIN_CF, POSTFIX_SASL_PASSWORDS, mailRelayServices, renderPostfixMainCf, renderSaslPasswords } from "../../components/render/mail/relay";
import { postfixTableLine, postfixValue, UnencodableValueError } from "../../components/render/encode";
import type { StackSpec } from "../../components/config/spec";

const HOSTS = [
    { name: "web", layers: ["frontend"] },
    { name: "app-1", layers: ["plone_instances", "zeoserver"] },
    { name: "app-2", layers: ["plone_instances"] },
];
const MAIL = { senderAddress: "noreply@example.org", senderName: "Example site" };

function load(mail: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) {
    const config = variantConfig(HOSTS, { plone: { blobs: "nfs" } });
    const hosts = config["plone-aws:hosts"] as { name: string; layers: string[] }[];
    hosts.push({ name: "nfs", layers: ["shared_blobs"], instanceType: "t3.large", az: 0 } as never);
    return parseObjects({ ...config, ...(mail ? { "plone-aws:mail": mail } : {}), ...extra });
}

function specOf(mail: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): StackSpec {
    const result = load(mail, extra);
    if (!result.spec) throw new Error(JSON.stringify(result.errors));
    return result.spec;
}

/** The errors of a configuration, as "path: message". */
function errorsOf(mail: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
    return load(mail, extra).errors.map((e) => `${e.path}: ${e.message}`);
}

const settings = (text: string) =>
    Object.fromEntries(
        text
            .split("\n")
            .filter((l) => /^[a-z_A-Z]+ =/.test(l))
            .map((l) => [l.slice(0, l.indexOf(" =")), l.slice(l.indexOf(" =") + 2).trim()]),
    );

describe("mail relay: postfix as a null client", () => {
    it("listens on loopback only, delivers nothing locally, relays to SES's endpoint of the region over verified STARTTLS", () => {
        const spec = specOf(MAIL);
        const cf = settings(renderPostfixMainCf(spec.mail!));
        expect(cf).to.deep.include({
            inet_interfaces: "loopback-only",
            mynetworks: "127.0.0.0/8",
            mydestination: "",
            relayhost: "[email-smtp.eu-west-1.amazonaws.com]:587",
            myorigin: "example.org",
            smtp_sasl_auth_enable: "yes",
            smtp_sasl_password_maps: "texthash:/etc/postfix/sasl_passwd",
            smtp_tls_security_level: "secure",
            smtp_tls_CAfile: "/etc/ssl/certs/ca-certificates.crt",
        });
        expect(cf).to.not.have.property("smtp_tls_wrappermode");
        expect(cf).to.not.have.property("recipient_canonical_maps");
    });

    it("takes TLS from the first byte on 465, a relay host of its own, and a sandbox redirect", () => {
        const spec = specOf({ ...MAIL, ses: false, relay: { host: "smtp.example.net", port: 465 }, redirectTo: "qa@example.org" });
        const cf = settings(renderPostfixMainCf(spec.mail!));
        expect(cf).to.deep.include({
            relayhost: "[smtp.example.net]:465",
            smtp_tls_wrappermode: "yes",
            smtp_tls_security_level: "secure",
            recipient_canonical_classes: "envelope_recipient",
            recipient_canonical_maps: "static:qa@example.org",
        });
    });

    it("writes the credentials on one line after the next hop, in a 0600 root file marked secret, only on the app hosts", () => {
        const { ctx, host } = contextOf(specOf(MAIL));
        ctx.secrets.smtpCredentials = "AKIAEXAMPLE:pass word:with colon";
        const files = (name: string) => hostFiles(ctx, host(name));
        const map = files("app-1").find((f) => f.path === POSTFIX_SASL_PASSWORDS)!;
        expect(map).to.deep.include({ mode: "0600", owner: "root", group: "root", secret: true });
        expect(map.content.split("\n").filter((l) => l && !l.startsWith("#"))).to.deep.equal([
            "[email-smtp.eu-west-1.amazonaws.com]:587 AKIAEXAMPLE:pass word:with colon",
        ]);
        expect(files("app-2").map((f) => f.path)).to.include.members([POSTFIX_MAIN_CF, POSTFIX_SASL_PASSWORDS]);
        expect(files("web").map((f) => f.path)).to.not.include(POSTFIX_MAIN_CF);
        expect(files("nfs").map((f) => f.path)).to.not.include(POSTFIX_MAIN_CF);
        expect(ctx.topology.hosts.find((h) => h.name === "app-2")!.packages).to.include.members(["postfix", "libsasl2-modules"]);
        expect(ctx.topology.hosts.find((h) => h.name === "web")!.packages).to.not.include("postfix");
    });

    it("checks the staged files with postconf, postfix check and the password map before postfix restarts (main.cf) or reloads (the passwords)", () => {
        const { ctx, host } = contextOf(specOf(MAIL));
        const [service] = mailRelayServices(ctx, "app-1");
        // A reload keeps the sockets the package's postfix opened on every address: main.cf takes a restart.
        expect(service.restartPaths).to.deep.equal([POSTFIX_MAIN_CF]);
        expect(service.paths).to.deep.equal([POSTFIX_SASL_PASSWORDS]);
        expect(service.restart).to.match(
            /systemctl restart postfix; elif postfix status .*; then postfix stop && service postfix start; else service postfix start; fi$/,
        );
        expect(service.validate).to.include('postconf -c "$root"/etc/postfix -n');
        expect(service.validate).to.include('postfix -c "$root"/etc/postfix check');
        expect(service.validate).to.include("postmap -c \"$root\"/etc/postfix -q '[email-smtp.eu-west-1.amazonaws.com]:587' texthash:");
        expect(mailRelayServices(ctx, "web")).to.deep.equal([]);
        const configure = renderHostStep(ctx, host("app-1"), "configure", {});
        expect(configure).to.include("plone-aws: restarting postfix (the mail relay)");
        expect(configure).to.include("plone-aws: reloading postfix (the mail relay)");
    });

    it("gives Plone localhost:25 and the sender in deploy.cfg's [plone-mail] on the app hosts, nothing without mail", function () {
        const { ctx, host } = contextOf(specOf({ ...MAIL, senderName: `O'Brien & "Sons" <$HOME> ; rm -rf /` }));
        expect(ploneMailSettings(ctx.spec)).to.deep.equal({
            smtpHost: "localhost",
            smtpPort: 25,
            emailFromAddress: "noreply@example.org",
            emailFromName: `O'Brien & "Sons" <$HOME> ; rm -rf /`,
        });
        const cfg = renderDeployCfg(ctx, host("app-2"));
        expect(cfg).to.include(`email-from-name = O'Brien & "Sons" <$HOME> ; rm -rf /`);
        const none = contextOf(specOf(undefined));
        expect(renderDeployCfg(none.ctx, none.host("app-2"))).to.not.include("[plone-mail]");
        if (!buildoutPython()) return this.skip();
        const sections = parseBuildout(cfg);
        expect(option(sections, "plone-mail", "email-from-name")).to.equal(`O'Brien & "Sons" <$HOME> ; rm -rf /`);
        expect(option(sections, "plone-mail", "smtp-host")).to.equal("localhost");
        expect(option(sections, "plone-mail", "smtp-port")).to.equal("25");
    });
});

describe("mail configuration: hostile values and rules", () => {
    it("refuses line breaks, shell and postfix syntax in the sender, the relay host and the redirect, naming the key", () => {
        const cases: [Record<string, unknown>, string][] = [
            [{ ...MAIL, senderName: "Site\nrelayhost = evil" }, "plone-aws:mail.senderName"],
            [{ ...MAIL, senderName: "Site ${buildout:directory}" }, "plone-aws:mail.senderName"],
            [{ ...MAIL, senderName: " Site" }, "plone-aws:mail.senderName"],
            [{ ...MAIL, senderAddress: "noreply@example.org\nBcc: x@evil.example" }, "plone-aws:mail.senderAddress"],
            [{ ...MAIL, senderAddress: "$(reboot)@example.org" }, "plone-aws:mail.senderAddress"],
            [{ ...MAIL, senderAddress: 'no"reply@example.org' }, "plone-aws:mail.senderAddress"],
            [{ ...MAIL, ses: false, relay: { host: "smtp.example.net\nrelayhost = evil" } }, "plone-aws:mail.relay.host"],
            [{ ...MAIL, ses: false, relay: { host: "smtp.example.net;reboot" } }, "plone-aws:mail.relay.host"],
            [{ ...MAIL, ses: false, relay: { host: "$mydomain" } }, "plone-aws:mail.relay.host"],
            [{ ...MAIL, redirectTo: "qa@example.org, root" }, "plone-aws:mail.redirectTo"],
            [{ ...MAIL, relay: { user: "AKIA" } }, "plone-aws:mail.relay"],
        ];
        for (const [mail, key] of cases) {
            const errors = errorsOf(mail);
            expect(
                errors.some((e) => e.startsWith(`${key}`)),
                `${JSON.stringify(mail)}: ${errors.join("; ")}`,
            ).to.equal(true);
        }
    });

    it("refuses SMTP credentials that are not USER:PASSWORD on one line, without quoting them", () => {
        for (const bad of ["no-colon", "user name:pw", "user:pw\nrelayhost = evil", "user: pw", "user:pw ", ":pw"]) {
            const errors = errorsOf(MAIL, { "plone-aws:smtpCredentials": bad });
            expect(errors).to.have.length(1);
            expect(errors[0]).to.match(/^plone-aws:smtpCredentials: must be USER:PASSWORD on one line/);
            expect(errors[0]).to.not.include(bad);
        }
        expect(errorsOf(MAIL, { "plone-aws:smtpCredentials": "AKIA0123:p@ss w'o\"rd$(x);`y`" })).to.deep.equal([]);
    });

    it("needs the credentials, a sender in the domain, TLS to SES, and TLS and no redirect in production", () => {
        expect(errorsOf(MAIL, { "plone-aws:smtpCredentials": undefined })[0]).to.match(
            /^plone-aws:smtpCredentials: mail relays through Amazon SES, which needs the SMTP user and password as USER:PASSWORD: pulumi config set --secret plone-aws:smtpCredentials/,
        );
        expect(errorsOf({ ...MAIL, domain: "example.net" })).to.deep.equal([
            "plone-aws:mail.senderAddress: must be an address of example.net (mail.domain) or of one of its subdomains: SES sends only as a verified domain",
        ]);
        expect(errorsOf({ ...MAIL, senderAddress: "noreply@mail.example.org", domain: "example.org" })).to.deep.equal([]);
        expect(errorsOf({ ...MAIL, relay: { tls: "none" } })[0]).to.match(/^plone-aws:mail\.relay\.tls: Amazon SES takes mail only over TLS/);
        const own = { ...MAIL, ses: false, relay: { host: "relay.internal", port: 25, tls: "none" } };
        expect(errorsOf(own)).to.deep.equal([]);
        expect(load(own).warnings.map((w) => w.path)).to.include("plone-aws:mail.relay.tls");
        expect(errorsOf(own, { "plone-aws:tier": "production" })).to.include(
            "plone-aws:mail.relay.tls: a production stack relays mail over TLS only: set starttls or implicit (the SMTP password would cross the network in clear)",
        );
        expect(errorsOf({ ...MAIL, redirectTo: "qa@example.org" }, { "plone-aws:tier": "production" })[0]).to.match(
            /^plone-aws:mail\.redirectTo: a production stack/,
        );
    });

    it("resolves the defaults: the domain from the sender, MAIL FROM under it, TLS by port, TLS delivery in production", () => {
        const staging = specOf({ senderAddress: "NoReply@Example.org" }).mail!;
        expect(staging).to.deep.include({
            domain: "example.org",
            mailFromDomain: "bounce.example.org",
            senderName: "Plone site",
            ses: true,
            requireTlsDelivery: false,
        });
        expect(staging.relay).to.deep.equal({ host: "email-smtp.eu-west-1.amazonaws.com", port: 587, tls: "starttls" });
        expect(specOf({ ...MAIL, relay: { port: 2465 } }).mail!.relay.tls).to.equal("implicit");
        expect(specOf(MAIL, { "plone-aws:tier": "production" }).mail!.requireTlsDelivery).to.equal(true);
    });

    it("the encoders refuse what the kinds refuse (a bug if they ever see it), and never print the secret", () => {
        expect(() => postfixValue("a b")).to.throw(UnencodableValueError);
        expect(() => postfixValue("$mydomain")).to.throw(UnencodableValueError);
        expect(() => postfixValue("host\nx = y")).to.throw(UnencodableValueError);
        expect(() => postfixValue("{x}")).to.throw(UnencodableValueError);
        expect(postfixValue("[email-smtp.eu-west-1.amazonaws.com]:587")).to.equal("[email-smtp.eu-west-1.amazonaws.com]:587");
        expect(() => postfixTableLine("[h]:587", "user:top\nsecret")).to.throw(UnencodableValueError, /^plone-aws:smtpCredentials|a value/);
        try {
            postfixTableLine("[h]:587", "user:top-secret ", "plone-aws:smtpCredentials");
            expect.fail("a value with a trailing blank was written");
        } catch (e) {
            expect(String(e)).to.not.include("top-secret");
        }
        expect(() => postfixTableLine("[h] x", "user:pw")).to.throw(UnencodableValueError);
        const spec = specOf(MAIL);
        expect(renderSaslPasswords(spec.mail!, "u:p")).to.include("[email-smtp.eu-west-1.amazonaws.com]:587 u:p\n");
    });
});

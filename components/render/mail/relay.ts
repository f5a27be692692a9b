// The mail relay of the hosts that run Zope clients (plone-aws:mail): postfix as a null client.
// Plone's MailHost sends to localhost:25; postfix takes the mail there and relays it to Amazon
// SES's SMTP endpoint (or mail.relay.host) over TLS, authenticated with the SMTP password.
//
// Why postfix: Plone's MailHost sends synchronously, so the relay must queue. postfix accepts a
// mail at once, keeps it on disk and retries for days when SES throttles or is unreachable, and
// it has a real configuration check (`postfix check`, `postconf`) for the configure step. msmtpd
// (msmtp's SMTP server) hands each mail to msmtp while Plone waits and queues nothing, so an SES
// hiccup is a failed password reset; nullmailer queues but listens on no port (sendmail only),
// and MailHost speaks SMTP. postfix as a null client (Debian's standard: "Satellite system") is a
// few lines of main.cf and delivers nothing locally.
import type { MailSpec } from "../../config/spec";
import { PORTS } from "../../topology/ports";
import type { RenderContext, RenderedFile } from "../context";
import { postfixTableLine, postfixValue } from "../encode";
import type { ServiceReload } from "../host/install";
import { rootFile } from "../scriptKit";

export const POSTFIX_DIR = "/etc/postfix";
export const POSTFIX_MAIN_CF = `${POSTFIX_DIR}/main.cf`;
/** The SMTP client's password map: root only (0600), read by postfix as texthash: (no postmap step). */
export const POSTFIX_SASL_PASSWORDS = `${POSTFIX_DIR}/sasl_passwd`;
/** Debian's bundle of the system's trusted CAs (ca-certificates): SES's certificate chains to one. */
export const SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt";

/** postfix's next hop: [host]:port (the brackets: no MX lookup, the host itself). */
export function relayNextHop(mail: Pick<MailSpec, "relay">): string {
    return `[${mail.relay.host}]:${mail.relay.port}`;
}

export interface MainCfOptions {
    /** The trusted CAs the relay's certificate must chain to (tests point it at their own CA). */
    caFile?: string;
}

/** /etc/postfix/main.cf: a null client that listens on loopback only and relays everything. */
export function renderPostfixMainCf(mail: MailSpec, options: MainCfOptions = {}): string {
    const { relay } = mail;
    const tls = relay.tls;
    const lines = [
        "# postfix as a null client: the mail relay of plone-aws (plone-aws:mail). Written on every",
        "# `pulumi up`; change plone-aws:mail in the stack configuration instead of this file.",
        "compatibility_level = 3.6",
        "",
        "# Plone's MailHost sends to localhost:25; nothing else may relay through this host.",
        "inet_interfaces = loopback-only",
        "inet_protocols = ipv4",
        "mynetworks = 127.0.0.0/8",
        "smtpd_relay_restrictions = permit_mynetworks, reject",
        "smtpd_recipient_restrictions = permit_mynetworks, reject",
        "",
        "# Nothing is delivered on this host: every mail goes to the relay host.",
        `myorigin = ${postfixValue(mail.domain, "mail.domain")}`,
        "mydestination =",
        "local_transport = error:local delivery is disabled on a plone-aws mail relay",
        "alias_maps =",
        "alias_database =",
        "biff = no",
        "append_dot_mydomain = no",
        "",
        `relayhost = ${postfixValue(relayNextHop(mail), "mail.relay.host and port")}`,
        "# The relay host is found as every program on the host finds a name (nsswitch: /etc/hosts, then",
        '# the VPC\'s resolver). No MX lookup: the relay is bracketed. ("dns, native" would not fall back',
        "# to /etc/hosts when the resolver fails rather than answers.)",
        "smtp_host_lookup = native",
        "",
        "# AUTH with the SMTP user and password (plone-aws:smtpCredentials), never without TLS but where",
        "# mail.relay.tls says none.",
        "smtp_sasl_auth_enable = yes",
        `smtp_sasl_password_maps = texthash:${POSTFIX_SASL_PASSWORDS}`,
        "smtp_sasl_security_options = noanonymous",
        "smtp_sasl_tls_security_options = noanonymous",
        "",
    ];
    if (tls === "none") {
        lines.push("# mail.relay.tls none: a relay on the host's own network; mail and password travel in clear.", "smtp_tls_security_level = none");
    } else {
        lines.push(
            tls === "implicit"
                ? "# TLS from the first byte (SMTPS, port 465/2465), the relay's certificate verified against its name."
                : "# STARTTLS required before AUTH and every mail, the relay's certificate verified against its name.",
            ...(tls === "implicit" ? ["smtp_tls_wrappermode = yes"] : []),
            "smtp_tls_security_level = secure",
            "smtp_tls_secure_cert_match = nexthop",
            `smtp_tls_CAfile = ${postfixValue(options.caFile ?? SYSTEM_CA_FILE, "the CA file")}`,
            "smtp_tls_mandatory_protocols = >=TLSv1.2",
            "smtp_tls_protocols = >=TLSv1.2",
            "smtp_tls_loglevel = 1",
        );
    }
    if (mail.redirectTo) {
        lines.push(
            "",
            "# mail.redirectTo (a staging sandbox): every envelope recipient becomes this address; the",
            "# headers keep the original To: for the reader.",
            "recipient_canonical_classes = envelope_recipient",
            `recipient_canonical_maps = static:${postfixValue(mail.redirectTo, "mail.redirectTo")}`,
        );
    }
    lines.push("");
    return lines.join("\n");
}

/** /etc/postfix/sasl_passwd: the relay's next hop and USER:PASSWORD (plone-aws:smtpCredentials), one line. */
export function renderSaslPasswords(mail: MailSpec, credentials: string): string {
    return [
        "# The SMTP credentials of the mail relay (plone-aws:smtpCredentials, USER:PASSWORD).",
        postfixTableLine(relayNextHop(mail), credentials, "plone-aws:smtpCredentials"),
        "",
    ].join("\n");
}

/** Whether a host runs the mail relay: the hosts of the topology's mailRelays role. */
export function runsMailRelay(ctx: Pick<RenderContext, "spec" | "topology">, hostName: string): boolean {
    return ctx.spec.mail !== undefined && ctx.topology.roles.mailRelays.includes(hostName);
}

/** The relay's files on a host that runs it. */
export function renderMailRelayFiles(ctx: RenderContext, hostName: string): RenderedFile[] {
    const mail = ctx.spec.mail;
    if (!mail || !runsMailRelay(ctx, hostName)) return [];
    const credentials = ctx.secrets.smtpCredentials;
    if (credentials === undefined) throw new Error("plone-aws:mail needs the SMTP credentials (RenderContext.secrets.smtpCredentials)");
    return [
        rootFile(POSTFIX_MAIN_CF, renderPostfixMainCf(mail)),
        { ...rootFile(POSTFIX_SASL_PASSWORDS, renderSaslPasswords(mail, credentials), "0600"), secret: true },
    ];
}

/**
 * The check of a new relay configuration in `dir` (the live /etc/postfix once staged): postconf
 * prints a warning for every parameter it does not know or cannot parse (an error here), postfix
 * check verifies the rest, and the password map must answer for the relay host (its value is
 * never printed).
 */
export function postfixCheckCommand(mail: MailSpec, dir: string): string {
    return [
        `warnings=$(postconf -c ${dir} -n 2>&1 >/dev/null)`,
        'if [ -n "$warnings" ]; then printf "%s\\n" "$warnings"; exit 1; fi',
        `postfix -c ${dir} check`,
        `postmap -c ${dir} -q '${postfixValue(relayNextHop(mail))}' texthash:${dir}/sasl_passwd >/dev/null || { echo "${POSTFIX_SASL_PASSWORDS} has no entry for the relay host"; exit 1; }`,
    ].join("\n");
}

/**
 * postfix reads the password map at a reload (texthash: maps are read when a process starts, and
 * a reload restarts them). Started when it is not running, by systemd or, without it, by Debian's
 * init script: both first copy what the chrooted daemons need (/etc/hosts, resolv.conf, services)
 * into /var/spool/postfix; a bare `postfix start` would not.
 */
export const POSTFIX_RELOAD =
    "if postfix status >/dev/null 2>&1; then postfix reload; elif [ -d /run/systemd/system ]; then systemctl restart postfix; else service postfix start; fi";

/**
 * main.cf takes a restart: a reload keeps the listening sockets, and the package starts postfix on
 * every address (IPv6 too) with Debian's main.cf before this one is written. Kept, those sockets
 * would leave port 25 open beyond loopback, and smtpd, now IPv4 only, would drop every connection
 * to ::1, where "localhost" goes first. The queue survives a restart.
 */
export const POSTFIX_RESTART =
    "if [ -d /run/systemd/system ]; then systemctl restart postfix; elif postfix status >/dev/null 2>&1; then postfix stop && service postfix start; else service postfix start; fi";

/** How the configure step checks and applies a changed relay configuration. */
export function mailRelayServices(ctx: Pick<RenderContext, "spec" | "topology">, hostName: string): ServiceReload[] {
    const mail = ctx.spec.mail;
    if (!mail || !runsMailRelay(ctx, hostName)) return [];
    return [
        {
            name: "postfix (the mail relay)",
            paths: [POSTFIX_SASL_PASSWORDS],
            restartPaths: [POSTFIX_MAIN_CF],
            validate: postfixCheckCommand(mail, `"$root"${POSTFIX_DIR}`),
            reload: POSTFIX_RELOAD,
            restart: POSTFIX_RESTART,
        },
    ];
}

/** Where Plone's MailHost sends: the relay on the host itself. */
export const LOCAL_RELAY = { host: "localhost", port: PORTS.smtp } as const;

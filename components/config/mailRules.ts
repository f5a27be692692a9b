// Rules of plone-aws:mail that span several keys: the SMTP password must be set, the sender must be
// in the domain SES signs for, SES takes TLS only, a production stack never relays in clear, and the
// domains SES gets (the identity, its DKIM records, the MAIL FROM domain) are DNS names that fit.
// crossFieldIssues (rules.ts) runs them with the others.
import { mailDomainOf, mailFromDomainOf, type ParsedSections } from "./spec";
import type { SecretKey } from "./schema";
import { ConfigIssue, keyPath, setSecretCommand } from "./issues";
import { dnsName } from "./kinds";

/** A DNS name has at most 253 characters (RFC 1035 2.3.4, without the final dot). */
const DNS_NAME_MAX = 253;
/** Easy DKIM's records are <32-character token>._domainkey.<domain> (components/aws/mail.ts mailDnsRecords). */
const DKIM_RECORD_PREFIX = "0123456789abcdef0123456789abcdef._domainkey.".length;
const DOMAIN_NAME = dnsName();

/**
 * Why SES cannot verify `domain` as the stack's identity, with `mailFromSubdomain` as its MAIL FROM
 * domain: a name that is no DNS name, or records longer than DNS allows; each on the mail key to change.
 */
function sesDomainIssues(mail: NonNullable<ParsedSections["mail"]>): { key: string; message: string }[] {
    const domain = mailDomainOf(mail);
    const domainKey = mail.domain ? "domain" : "senderAddress";
    if (!mail.domain && !DOMAIN_NAME.safeParse(domain).success) {
        return [
            {
                key: "senderAddress",
                message: `its domain ${domain} is the identity SES verifies (mail.domain is unset) and is not a DNS name (labels of letters, digits and '-', not at either end, at most 63 characters each): correct the address or set mail.domain`,
            },
        ];
    }
    if (DKIM_RECORD_PREFIX + domain.length > DNS_NAME_MAX) {
        return [
            {
                key: domainKey,
                message: `SES's DKIM records <token>._domainkey.${domain} would be ${DKIM_RECORD_PREFIX + domain.length} characters, and a DNS name has at most ${DNS_NAME_MAX}: the domain SES signs for may have at most ${DNS_NAME_MAX - DKIM_RECORD_PREFIX} (it has ${domain.length})`,
            },
        ];
    }
    // With a domain that fits DKIM's records, only a long subdomain makes the MAIL FROM domain too long.
    const mailFrom = mailFromDomainOf(mail, domain);
    if (mailFrom.length > DNS_NAME_MAX) {
        return [
            {
                key: "mailFromSubdomain",
                message: `the MAIL FROM domain ${mailFrom} would be ${mailFrom.length} characters, and a DNS name has at most ${DNS_NAME_MAX}: use a shorter mailFromSubdomain or domain`,
            },
        ];
    }
    return [];
}

/** True when `address`'s domain is `domain` or one of its subdomains (SES: a verified domain covers its subdomains). */
export function addressInDomain(address: string, domain: string): boolean {
    const own = address.split("@")[1]?.toLowerCase() ?? "";
    return own === domain || own.endsWith(`.${domain}`);
}

export function mailIssues(s: Partial<ParsedSections>, ctx: { secrets: Record<SecretKey, boolean> }): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const mail = s.mail;
    if (!mail) return { errors, warnings };
    const err = (path: PropertyKey[], message: string) => errors.push({ path: keyPath(["mail", ...path]), message });

    if (!ctx.secrets.smtpCredentials) {
        errors.push({
            path: "plone-aws:smtpCredentials",
            message: `mail relays through ${mail.relay.host ?? "Amazon SES"}, which needs the SMTP user and password as USER:PASSWORD: ${setSecretCommand("smtpCredentials")} (docs/operations.md, "Outbound mail", says how SES derives them)`,
        });
    }
    if (mail.ses) for (const { key, message } of sesDomainIssues(mail)) err([key], message);
    if (mail.domain && !addressInDomain(mail.senderAddress, mail.domain)) {
        err(["senderAddress"], `must be an address of ${mail.domain} (mail.domain) or of one of its subdomains: SES sends only as a verified domain`);
    }
    if (mail.ses && mail.relay.tls === "none") {
        err(
            ["relay", "tls"],
            "Amazon SES takes mail only over TLS: use starttls (port 587) or implicit (port 465), or set mail.ses to false with a relay host of your own",
        );
    }
    if (mail.ses && mail.relay.host) {
        warnings.push({
            path: keyPath(["mail", "relay", "host"]),
            message: "the stack sets up SES (mail.ses) but the hosts relay to another server: the SES identity only signs what reaches SES",
        });
    }
    if (mail.relay.tls === "none") {
        if (s.tier === "production")
            err(
                ["relay", "tls"],
                "a production stack relays mail over TLS only: set starttls or implicit (the SMTP password would cross the network in clear)",
            );
        else
            warnings.push({
                path: keyPath(["mail", "relay", "tls"]),
                message: "the SMTP password and every mail cross the network in clear: use TLS unless the relay is on the host's own network",
            });
    }
    if (mail.redirectTo && s.tier === "production") {
        err(["redirectTo"], "a production stack sends mail to its recipients: redirectTo is for staging clones (remove it)");
    }
    return { errors, warnings };
}

// What only a real deployment refuses: the example values of the stack files (key, certificate,
// documentation address ranges) and secret values RDS rejects. What AWS refuses of the topology
// (load balancer AZs, security groups per interface, pinned AZs) is in topology/checks.ts. And the
// names the stack gives AWS resources after its own name, where a long stack name would make them
// longer than AWS allows: the configuration refuses the stack rather than shorten them.
import { resourcePrefixOf, type ParsedSections, type StackSpec } from "./spec";
import { ConfigIssue, keyPath } from "./issues";
import { publicKeyProblem } from "./sshKeys";
import { parseCidr } from "../topology/addressing";

/** A zone id (euw1-az1) rather than a zone name (eu-west-1a). */
export function isZoneId(zone: string): boolean {
    return /^[a-z]{2,5}\d-az\d{1,2}$/.test(zone);
}

/** RFC 5737 documentation ranges: examples, nobody connects from them. */
const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];
/** The account id of AWS's documentation examples. */
const EXAMPLE_ACCOUNT = "123456789012";

/**
 * The example values of the stack files, which AWS refuses (the key) or which make a deployed
 * stack useless (nobody can reach SSH from a documentation range; there is no such certificate).
 * The offline tools list them as "before pulumi up"; the program refuses to deploy with them.
 */
export function deploymentIssues(spec: StackSpec): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const add = (path: PropertyKey[], message: string) => issues.push({ path: keyPath(path), message });
    const keyIssue = publicKeyProblem(spec.access.publicKey);
    if (keyIssue) add(["access", "publicKey"], keyIssue);
    spec.access.additionalPublicKeys.forEach((k, i) => {
        const problem = publicKeyProblem(k);
        if (problem) add(["access", "additionalPublicKeys", i], problem);
    });
    const tls = spec.frontend.tls;
    if (tls.mode === "acm") {
        const account = tls.certificateArn.split(":")[4];
        if (account === EXAMPLE_ACCOUNT || /\/0{8}-0{4}-/.test(tls.certificateArn)) {
            add(
                ["frontend", "tls", "certificateArn"],
                "is the example ARN of the stack file: put the ARN of your ACM certificate for the domain and aliases (same region)",
            );
        }
    }
    spec.network.adminCidrs.forEach((c, i) => {
        const { base, size } = parseCidr(c);
        const documentation = DOCUMENTATION_RANGES.find((r) => {
            const range = parseCidr(r);
            return base >= range.base && base + size <= range.base + range.size;
        });
        if (documentation)
            add(
                ["network", "adminCidrs", i],
                `${c} is in the documentation range ${documentation} (RFC 5737), an example: put the addresses operators and \`pulumi up\` connect from`,
            );
    });
    return issues;
}

/** Characters RDS refuses in a master password (RDS CreateDBInstance MasterUserPassword). */
const RDS_PASSWORD_FORBIDDEN = ["/", '"', "@", " "];

/**
 * Why RDS would refuse a master password (PostgreSQL: 8 to 128 printable ASCII characters without
 * / " @ or space), or undefined. config/secrets.ts checks the dbPassword of a database the stack
 * creates with it, wherever its value is known (`pulumi up`, a stack file's plain value).
 */
export function rdsMasterPasswordProblem(password: string): string | undefined {
    const bad = RDS_PASSWORD_FORBIDDEN.filter((c) => password.includes(c));
    const printable = /^[\x20-\x7e]*$/.test(password);
    if (password.length >= 8 && password.length <= 128 && !bad.length && printable) return undefined;
    return [
        password.length < 8 || password.length > 128 ? `${password.length} characters (8 to 128 are allowed)` : "",
        bad.length ? `contains ${bad.map((c) => (c === " " ? "a space" : c)).join(" ")}` : "",
        printable ? "" : "contains characters outside printable ASCII",
    ]
        .filter(Boolean)
        .join("; ");
}

/** The names of a stack's SES resources (components/aws/mail.ts registers them; both are fixed names, not auto-names). */
export function sesResourceNames(resourcePrefix: string): { configurationSet: string; smtpUser: string } {
    const base = `plone-aws-${resourcePrefix}`;
    return { configurationSet: base, smtpUser: `${base}-ses-smtp` };
}

/**
 * Longest names AWS takes (the offline check's api-constraints.json and providerRules.ts hold the
 * same limits; test/unit/config-aws-rules.spec.ts compares them): IAM CreateUser UserName, and SES
 * CreateConfigurationSet ConfigurationSetName (the SES API reference; the model gives no limit).
 */
export const AWS_NAME_LIMITS = { iamUserName: 64, sesConfigurationSetName: 64 } as const;

/**
 * Names the stack derives from its own name that would be longer than AWS allows, reported on the
 * key that creates the resource. Pulumi's stack name is no key: the way out is a shorter stack name.
 */
export function stackNameIssues(s: Partial<ParsedSections>, ctx: { stackName: string }): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const prefix = resourcePrefixOf(ctx.stackName);
    const tooLong = (key: PropertyKey[], what: string, name: string, max: number, api: string) => {
        if (name.length <= max) return;
        issues.push({
            path: keyPath(key),
            message: `${what} is named ${name} after the stack ${ctx.stackName}: ${name.length} characters, and ${api} allows ${max}. Use a stack name whose resource prefix ("${prefix}": lower case, '-' for other characters) has at most ${prefix.length - (name.length - max)} characters`,
        });
    };
    if (s.mail?.ses) {
        const names = sesResourceNames(prefix);
        tooLong(["mail"], "the SES configuration set", names.configurationSet, AWS_NAME_LIMITS.sesConfigurationSetName, "SES (CreateConfigurationSet)");
        tooLong(["mail"], "the SES SMTP user", names.smtpUser, AWS_NAME_LIMITS.iamUserName, "IAM (CreateUser)");
    }
    return issues;
}

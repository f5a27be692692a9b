// What AWS refuses, checked with the configuration: load balancer AZs, security groups per network
// interface, pinned AZs, the certificate's region, host renames and volume snapshots; and what a
// real deployment refuses (deploymentIssues) and the RDS master password (rdsMasterPasswordProblem);
// the SES and IAM names a long stack name would make too long, and domains SES cannot verify.
import { expect } from "chai";
import { AWS_NAME_LIMITS, deploymentIssues, rdsMasterPasswordProblem, sesResourceNames } from "../../components/config/awsRules";
import { API_CONSTRAINTS } from "../../scripts/lib/awsCheck";
import { FIELD_RULES } from "../../scripts/lib/awsCheck/providerRules";
import { ALL_SECRETS, parseObjects } from "../helpers/stacks";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvkQPoy6QUHsZJxs2nNZC9QlAlPnqV+dqx1XKwGfOAn ops@example.org";

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        "plone-aws:tier": "production",
        "plone-aws:hosts": [
            { name: "web-1", instanceType: "t3.large", az: 0, layers: ["frontend"] },
            { name: "web-2", instanceType: "t3.large", az: 1, layers: ["frontend"] },
            { name: "app-1", instanceType: "t3.large", az: 0, layers: ["plone_instances", "zeoserver"] },
        ],
        "plone-aws:app": { repository: "https://example.org/buildout.git" },
        "plone-aws:frontend": {
            domain: "www.example.org",
            tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:210987654321:certificate/7c1c2a0e-5e0a-4f3b-9c1e-2f4b5d6e7f80" },
        },
        "plone-aws:network": { azCount: 2, natGateways: "single", adminCidrs: ["192.168.17.0/28"], availabilityZones: ["eu-west-1a", "eu-west-1b"] },
        "plone-aws:access": { publicKey: KEY },
        ...ALL_SECRETS,
        ...extra,
    };
}

const parse = (extra: Record<string, unknown>) => parseObjects(config(extra)).errors;
const errors = (extra: Record<string, unknown>) => parseObjects(config(extra)).errors.map((e) => `${e.path}: ${e.message}`);
const network = (n: Record<string, unknown>) => ({ "plone-aws:network": { azCount: 2, natGateways: "single", adminCidrs: ["192.168.17.0/28"], ...n } });

describe("config: what AWS refuses", () => {
    it("accepts the base stack, with no warning", () => {
        const r = parseObjects(config());
        expect(r.errors).to.deep.equal([]);
        expect(r.warnings).to.deep.equal([]);
    });

    it("a load balancer needs two AZs", () => {
        const allInAz0 = {
            "plone-aws:hosts": [
                { name: "web-1", instanceType: "t3.large", az: 0, layers: ["frontend"] },
                { name: "web-2", instanceType: "t3.large", az: 0, layers: ["frontend"] },
                { name: "app-1", instanceType: "t3.large", az: 0, layers: ["plone_instances", "zeoserver"] },
            ],
        };
        expect(errors({ ...allInAz0, ...network({ azCount: 1, availabilityZones: ["eu-west-1a"] }) })).to.deep.equal([
            "plone-aws:network.azCount: the load balancer in front of web-1, web-2 needs subnets in at least two AZs (AWS refuses one): set network.azCount to 2 or more",
        ]);
        const oneAz = parseObjects(config(allInAz0));
        expect(oneAz.errors).to.deep.equal([]);
        expect(oneAz.warnings.map((w) => w.message)).to.deep.equal([
            "every front end is in AZ 0: the load balancer spans two AZs, but the site goes down with that one; put a front end in another AZ",
        ]);
    });

    it("at most 5 security groups per host, unless the quota says more", () => {
        const crowded = {
            "plone-aws:hosts": [
                { name: "all-1", instanceType: "t3.large", az: 0, layers: ["frontend", "plone_instances", "zeoserver", "solr", "redis", "celerybeat"] },
            ],
            "plone-aws:plone": { solr: { enabled: true }, celery: { enabled: true } },
            "plone-aws:frontend": { domain: "www.example.org" },
        };
        expect(errors(crowded)).to.deep.equal([
            "plone-aws:hosts[0].layers: all-1 would get 6 security groups (host, frontend, plone_instances, zeoserver, solr, redis), and EC2 allows 5 per network interface: move a layer to another host, or raise plone-aws:quotas.securityGroupsPerInterface once AWS raised the quota",
        ]);
        expect(errors({ ...crowded, "plone-aws:quotas": { securityGroupsPerInterface: 6 } })).to.deep.equal([]);
    });

    it("pinned zones: one per AZ, in the region, names or ids; unpinned is a warning", () => {
        expect(errors(network({ availabilityZones: ["eu-west-1a"] }))).to.deep.equal([
            "plone-aws:network.availabilityZones: lists 1 AZs, and the stack uses 2 (network.azCount): list one per AZ index",
        ]);
        expect(errors(network({ availabilityZones: ["eu-west-1a", "eu-west-1a"] }))).to.deep.equal([
            "plone-aws:network.availabilityZones[1]: eu-west-1a is listed twice: each AZ index needs its own zone",
        ]);
        expect(errors(network({ availabilityZones: ["eu-west-1a", "eu-central-1b"] }))).to.deep.equal([
            "plone-aws:network.availabilityZones[1]: eu-central-1b is not in the stack's region eu-west-1",
        ]);
        expect(errors(network({ availabilityZones: ["eu-west-1a", "euw1-az2"] }))).to.deep.equal([
            "plone-aws:network.availabilityZones: mixes zone names and zone ids: use one or the other",
        ]);
        expect(errors(network({ availabilityZones: ["euw1-az1", "euw1-az3"] }))).to.deep.equal([]);
        expect(errors(network({ availabilityZones: ["eu-west-1 a", "b"] }))[0]).to.match(/must be an AZ name such as eu-west-1a or a zone id such as euw1-az1/);
        expect(parseObjects(config(network({}))).warnings.map((w) => w.path)).to.deep.equal(["plone-aws:network.availabilityZones"]);
    });

    it("an ACM certificate of another region", () => {
        expect(
            errors({
                "plone-aws:frontend": {
                    domain: "www.example.org",
                    tls: { mode: "acm", certificateArn: "arn:aws:acm:us-east-1:210987654321:certificate/7c1c2a0e" },
                },
            }),
        ).to.deep.equal([
            "plone-aws:frontend.tls.certificateArn: the certificate is in us-east-1, and the load balancer in eu-west-1: request or import it in eu-west-1",
        ]);
    });

    it("previous names must be free; volume snapshots only for the host's volumes", () => {
        const hosts = (h: Record<string, unknown>[]) => ({ "plone-aws:hosts": h });
        expect(
            errors(
                hosts([
                    { name: "web-1", instanceType: "t3.large", az: 0, layers: ["frontend"], previousNames: ["web-2"] },
                    { name: "web-2", instanceType: "t3.large", az: 1, layers: ["frontend"], previousNames: ["old"] },
                    {
                        name: "app-1",
                        instanceType: "t3.large",
                        az: 0,
                        layers: ["plone_instances", "zeoserver"],
                        previousNames: ["old"],
                        volumeSnapshots: { bricks: "snap-0123456789abcdef0" },
                    },
                ]),
            ),
        ).to.deep.equal([
            "plone-aws:hosts[0].previousNames[0]: web-2 is the name of a host of the stack: a previous name must be free",
            "plone-aws:hosts[2].previousNames[0]: old is already a previous name of web-2",
            "plone-aws:hosts[2].volumeSnapshots.bricks: app-1 has no bricks volume (its layers give it filestorage, backups, blobs)",
        ]);
        expect(
            errors(
                hosts([
                    {
                        name: "app-1",
                        instanceType: "t3.large",
                        layers: ["frontend", "plone_instances", "zeoserver"],
                        volumeSnapshots: { filestorage: "vol-1" },
                    },
                ]),
            )[0],
        ).to.match(/volumeSnapshots.filestorage: must be an EBS snapshot id/);
    });
});

describe("config: what a real deployment refuses", () => {
    const spec = (extra: Record<string, unknown> = {}) => {
        const r = parseObjects(config(extra));
        if (!r.spec) throw new Error(JSON.stringify(r.errors));
        return r.spec;
    };

    it("nothing in a stack with its own key, certificate and addresses", () => {
        expect(deploymentIssues(spec())).to.deep.equal([]);
    });

    it("the example key, the example certificate, documentation address ranges", () => {
        const issues = deploymentIssues(
            spec({
                "plone-aws:access": {
                    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMPLACEHOLDERKEYREPLACEWITHYOURS0000000000 plone-prod",
                    additionalPublicKeys: ["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC= short"],
                },
                "plone-aws:frontend": {
                    domain: "www.example.org",
                    tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000000" },
                },
                ...network({ adminCidrs: ["198.51.100.0/28", "192.168.17.0/28", "203.0.113.7/32"], availabilityZones: ["eu-west-1a", "eu-west-1b"] }),
            }),
        );
        expect(issues.map((i) => i.path)).to.deep.equal([
            "plone-aws:access.publicKey",
            "plone-aws:access.additionalPublicKeys[0]",
            "plone-aws:frontend.tls.certificateArn",
            "plone-aws:network.adminCidrs[0]",
            "plone-aws:network.adminCidrs[2]",
        ]);
        expect(issues[3].message).to.equal(
            "198.51.100.0/28 is in the documentation range 198.51.100.0/24 (RFC 5737), an example: put the addresses operators and `pulumi up` connect from",
        );
    });

    it("an RDS master password RDS refuses, only for a database the stack creates", () => {
        expect(rdsMasterPasswordProblem("0a1b2c3d4e5f60718293a4b5")).to.equal(undefined);
        expect(rdsMasterPasswordProblem("abc/def@ghi jkl")).to.equal("contains / @ a space");
        expect(rdsMasterPasswordProblem("short")).to.equal("5 characters (8 to 128 are allowed)");
        expect(rdsMasterPasswordProblem("pässwörd-long-enough")).to.equal("contains characters outside printable ASCII");
        const base = { "plone-aws:plone": { storage: "relstorage", blobs: "database", pack: { enabled: false } } };
        const hosts = [
            { name: "web-1", instanceType: "t3.large", az: 0, layers: ["frontend"] },
            { name: "web-2", instanceType: "t3.large", az: 1, layers: ["frontend"] },
            { name: "app-1", instanceType: "t3.large", az: 0, layers: ["plone_instances"] },
        ];
        const rdsErrors = parse({ ...base, "plone-aws:database": {}, "plone-aws:hosts": hosts, "plone-aws:dbPassword": "abc/def@ghi jkl" });
        expect(rdsErrors.map((e) => e.message.split(":")[0])).to.include("RDS refuses this master password (contains / @ a space)");
        const external = parse({ ...base, "plone-aws:database": { host: "pg.example.net" }, "plone-aws:hosts": hosts, "plone-aws:dbPassword": "any/thing" });
        expect(external.filter((e) => e.path === "plone-aws:dbPassword")).to.deep.equal([]);
    });
});

describe("config: the names and domains of the SES resources (plone-aws:mail)", () => {
    const mail = (m: Record<string, unknown> = {}) => ({ "plone-aws:mail": { senderAddress: "noreply@example.org", ...m } });
    const errorsOf = (extra: Record<string, unknown>, stackName = "test") =>
        parseObjects(config(extra), stackName).errors.map((e) => `${e.path}: ${e.message}`);
    /** A stack name whose resource prefix has `n` characters. */
    const stackOf = (n: number) => `production-${"x".repeat(n - 11)}`;
    /** A DNS name of `n` characters: labels of 49 characters (and the rest), and .org. */
    const domainOf = (n: number) => {
        const labels: string[] = [];
        let left = n - ".org".length;
        for (; left > 50; left -= 50) labels.push("d".repeat(49));
        labels.push("d".repeat(left));
        return `${labels.join(".")}.org`;
    };

    it("the limits the configuration checks are AWS's, as the offline check holds them", () => {
        const userName = API_CONSTRAINTS.constraints.find((c) => c.api === "iam CreateUser:UserName")!;
        expect(AWS_NAME_LIMITS.iamUserName).to.equal(userName.max);
        const setName = FIELD_RULES.find((r) => r.type === "aws:sesv2/configurationSet:ConfigurationSet" && r.input === "configurationSetName")!;
        const limit = AWS_NAME_LIMITS.sesConfigurationSetName;
        expect([setName.check("a".repeat(limit), {}), setName.check("a".repeat(limit + 1), {})]).to.deep.equal([
            undefined,
            `is ${limit + 1} characters, at most ${limit} are allowed`,
        ]);
        expect(sesResourceNames("prod")).to.deep.equal({ configurationSet: "plone-aws-prod", smtpUser: "plone-aws-prod-ses-smtp" });
    });

    it("refuses a stack name that makes the SMTP user's or the configuration set's name too long, naming plone-aws:mail", () => {
        expect(stackOf(45)).to.have.length(45);
        expect(errorsOf(mail(), stackOf(45))).to.deep.equal([]);
        expect(errorsOf(mail(), stackOf(46))).to.deep.equal([
            `plone-aws:mail: the SES SMTP user is named plone-aws-${stackOf(46)}-ses-smtp after the stack ${stackOf(46)}: 65 characters, and IAM (CreateUser) allows 64. Use a stack name whose resource prefix ("${stackOf(46)}": lower case, '-' for other characters) has at most 45 characters`,
        ]);
        // Longer still: the configuration set's name too, both at once.
        expect(errorsOf(mail(), stackOf(55)).map((e) => e.split(" is named")[0])).to.deep.equal([
            "plone-aws:mail: the SES configuration set",
            "plone-aws:mail: the SES SMTP user",
        ]);
        // The prefix is what counts: upper case and dots become lower case and '-'.
        const dotted = `Production.EU.${"X".repeat(40)}`;
        expect(errorsOf(mail(), dotted)[0]).to.include(`plone-aws-production-eu-${"x".repeat(40)}-ses-smtp after the stack ${dotted}: 73 characters`);
        // Without SES the stack creates neither, and nothing is refused.
        expect(errorsOf(mail({ ses: false, relay: { host: "smtp.example.net" } }), stackOf(60))).to.deep.equal([]);
        expect(errorsOf({}, stackOf(60))).to.deep.equal([]);
    });

    it("refuses a sender domain that is no DNS name when SES verifies it (mail.domain unset)", () => {
        for (const address of ["noreply@-plone-.example.org", `noreply@${"l".repeat(64)}.example.org`, "noreply@plone.example.o-g.org.-x.org"]) {
            const domain = address.split("@")[1];
            expect(errorsOf(mail({ senderAddress: address })), address).to.deep.equal([
                `plone-aws:mail.senderAddress: its domain ${domain} is the identity SES verifies (mail.domain is unset) and is not a DNS name (labels of letters, digits and '-', not at either end, at most 63 characters each): correct the address or set mail.domain`,
            ]);
        }
        // Upper case is the same domain to SES: the stack verifies it in lower case.
        expect(errorsOf(mail({ senderAddress: "NoReply@Plone.Example.ORG" }))).to.deep.equal([]);
        // A relay of one's own verifies nothing with SES.
        expect(errorsOf(mail({ senderAddress: "noreply@-plone-.example.org", ses: false, relay: { host: "smtp.example.net" } }))).to.deep.equal([]);
    });

    it("refuses a domain whose DKIM records or MAIL FROM domain would be longer than DNS allows", () => {
        expect(domainOf(209)).to.have.length(209);
        expect(errorsOf(mail({ domain: domainOf(209), senderAddress: `noreply@${domainOf(209)}` }))).to.deep.equal([]);
        expect(errorsOf(mail({ domain: domainOf(210), senderAddress: `noreply@${domainOf(210)}` }))).to.deep.equal([
            `plone-aws:mail.domain: SES's DKIM records <token>._domainkey.${domainOf(210)} would be 254 characters, and a DNS name has at most 253: the domain SES signs for may have at most 209 (it has 210)`,
        ]);
        // The MAIL FROM domain: <mailFromSubdomain>.<domain>.
        const sub = "b".repeat(63);
        expect(errorsOf(mail({ domain: domainOf(189), senderAddress: `noreply@${domainOf(189)}`, mailFromSubdomain: sub }))).to.deep.equal([]);
        expect(errorsOf(mail({ domain: domainOf(190), senderAddress: `noreply@${domainOf(190)}`, mailFromSubdomain: sub }))).to.deep.equal([
            `plone-aws:mail.mailFromSubdomain: the MAIL FROM domain ${sub}.${domainOf(190)} would be 254 characters, and a DNS name has at most 253: use a shorter mailFromSubdomain or domain`,
        ]);
    });
});

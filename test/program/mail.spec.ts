// plone-aws:mail under mocks: the SES domain identity with DKIM, its MAIL FROM domain, the
// configuration set, the send-only SMTP user, the bounce and complaint alarms, and the outputs.
import { expect } from "chai";
import { addressPlan, CapturedResource, MOCK_ACCOUNT_ID, OfflineRun, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import { loadRepoStack } from "../helpers/stacks";
import { COMPONENT_TYPES } from "../../components/aws/typeTokens";

async function runRepoStack(stack: string, edit?: (raw: Record<string, string>) => void): Promise<OfflineRun> {
    const loaded = loadRepoStack(stack);
    const config = { ...loaded.config, raw: { ...loaded.config.raw } };
    edit?.(config.raw);
    return runOffline(config, { addresses: addressPlan(loaded.spec) });
}

const ofType = (run: OfflineRun, type: string): CapturedResource[] => run.resources.filter((r) => r.type === type);
const inputsOf = (r: CapturedResource) => unwrapSecrets(r.inputs) as Record<string, any>;

describe("mail under mocks", function () {
    let prod: OfflineRun;
    before(async () => {
        prod = await runRepoStack("prod");
    });

    it("registers a Mail component whose children are named after it", () => {
        const [mail] = ofType(prod, COMPONENT_TYPES.mail);
        expect(mail.name).to.equal("prod-mail");
        const children = prod.resources.filter((r) => r.parent === mail.urn).map((r) => `${r.type} ${r.name}`);
        expect(children).to.have.members([
            "aws:sesv2/configurationSet:ConfigurationSet prod-mail-configuration-set",
            "aws:sesv2/emailIdentity:EmailIdentity prod-mail-identity",
            "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes prod-mail-mail-from",
            "aws:iam/user:User prod-mail-smtp-user",
            "aws:iam/userPolicy:UserPolicy prod-mail-smtp-send",
            "aws:cloudwatch/metricAlarm:MetricAlarm prod-mail-mail-bounce-rate",
            "aws:cloudwatch/metricAlarm:MetricAlarm prod-mail-mail-complaint-rate",
        ]);
    });

    it("verifies the sender's domain with 2048-bit Easy DKIM, its MAIL FROM subdomain, and a TLS-only configuration set in production", () => {
        const identity = inputsOf(ofType(prod, "aws:sesv2/emailIdentity:EmailIdentity")[0]);
        expect(identity).to.deep.include({ emailIdentity: "plone.example.org", configurationSetName: "plone-aws-prod" });
        expect(identity.dkimSigningAttributes).to.deep.equal({ nextSigningKeyLength: "RSA_2048_BIT" });
        expect(identity.tags).to.deep.include({ "plone-aws:stack": "prod" });
        expect(inputsOf(ofType(prod, "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes")[0])).to.deep.equal({
            emailIdentity: "plone.example.org",
            mailFromDomain: "bounce.plone.example.org",
            behaviorOnMxFailure: "USE_DEFAULT_VALUE",
        });
        const set = inputsOf(ofType(prod, "aws:sesv2/configurationSet:ConfigurationSet")[0]);
        expect(set).to.deep.include({
            configurationSetName: "plone-aws-prod",
            deliveryOptions: { tlsPolicy: "REQUIRE" },
            reputationOptions: { reputationMetricsEnabled: true },
            suppressionOptions: { suppressedReasons: ["BOUNCE", "COMPLAINT"] },
        });
    });

    it("lets the SMTP user send only raw mail from the domain, in the stack's region, and creates no access key", () => {
        expect(inputsOf(ofType(prod, "aws:iam/user:User")[0])).to.deep.include({ name: "plone-aws-prod-ses-smtp", path: "/plone-aws/" });
        const policy = JSON.parse(inputsOf(ofType(prod, "aws:iam/userPolicy:UserPolicy")[0]).policy);
        expect(policy.Statement).to.deep.equal([
            {
                Sid: "SendAsTheStacksDomainOnly",
                Effect: "Allow",
                Action: "ses:SendRawEmail",
                Resource: [`arn:aws:ses:eu-west-1:${MOCK_ACCOUNT_ID}:identity/*`, `arn:aws:ses:eu-west-1:${MOCK_ACCOUNT_ID}:configuration-set/plone-aws-prod`],
                Condition: { StringLike: { "ses:FromAddress": ["*@plone.example.org", "*@*.plone.example.org"] } },
            },
        ]);
        expect(ofType(prod, "aws:iam/accessKey:AccessKey")).to.deep.equal([]);
    });

    it("alarms on SES's account bounce and complaint rates to the stack's topic", () => {
        const alarms = ofType(prod, "aws:cloudwatch/metricAlarm:MetricAlarm")
            .map(inputsOf)
            .filter((a) => a.namespace === "AWS/SES");
        expect(alarms.map((a) => [a.name, a.metricName, a.threshold, a.comparisonOperator, a.treatMissingData])).to.deep.equal([
            ["plone-aws-prod-mail-bounce-rate", "Reputation.BounceRate", 0.05, "GreaterThanOrEqualToThreshold", "notBreaching"],
            ["plone-aws-prod-mail-complaint-rate", "Reputation.ComplaintRate", 0.001, "GreaterThanOrEqualToThreshold", "notBreaching"],
        ]);
        for (const a of alarms) expect(a.alarmActions).to.deep.equal([`arn:aws:sns:eu-west-1:${MOCK_ACCOUNT_ID}:prod-monitoring-alarms`]);
    });

    it("outputs the DNS records to create (three DKIM CNAMEs, the MAIL FROM MX and SPF, DMARC), the relay and the SMTP user", () => {
        const records = prod.outputs.mailDnsRecords as { name: string; type: string; value: string }[];
        const cnames = records.filter((r) => r.type === "CNAME");
        expect(cnames).to.have.length(3);
        for (const r of cnames) expect(r.value).to.equal(`${r.name.split(".")[0]}.dkim.amazonses.com`);
        for (const r of cnames) expect(r.name).to.match(/^[0-9a-f]{32}\._domainkey\.plone\.example\.org$/);
        expect(records.filter((r) => r.type !== "CNAME").map((r) => [r.name, r.type, r.value])).to.deep.equal([
            ["bounce.plone.example.org", "MX", "10 feedback-smtp.eu-west-1.amazonses.com"],
            ["bounce.plone.example.org", "TXT", '"v=spf1 include:amazonses.com ~all"'],
            ["_dmarc.plone.example.org", "TXT", '"v=DMARC1; p=none;"'],
        ]);
        expect(prod.outputs.mailRelay).to.equal("email-smtp.eu-west-1.amazonaws.com:587");
        expect(prod.outputs.mailSmtpIamUser).to.equal("plone-aws-prod-ses-smtp");
    });

    it("creates no SES resources without mail, or with a relay of its own; delivery TLS follows requireTlsDelivery", async () => {
        const dev = await runRepoStack("dev");
        expect(ofType(dev, COMPONENT_TYPES.mail)).to.deep.equal([]);
        expect(dev.outputs.mailDnsRecords).to.equal(undefined);
        const own = await runRepoStack("prod", (raw) => {
            raw["plone-aws:mail"] = JSON.stringify({ senderAddress: "noreply@plone.example.org", ses: false, relay: { host: "smtp.example.net", port: 465 } });
        });
        expect(ofType(own, COMPONENT_TYPES.mail)).to.deep.equal([]);
        expect(own.outputs.mailRelay).to.equal("smtp.example.net:465");
        const optional = await runRepoStack("prod", (raw) => {
            raw["plone-aws:mail"] = JSON.stringify({ senderAddress: "noreply@plone.example.org", requireTlsDelivery: false });
        });
        expect(inputsOf(ofType(optional, "aws:sesv2/configurationSet:ConfigurationSet")[0]).deliveryOptions).to.deep.equal({ tlsPolicy: "OPTIONAL" });
    });
});

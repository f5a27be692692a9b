import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { MailSpec } from "../config/spec";
import { sesResourceNames } from "../config/awsRules";
import { resourceTags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

/** A DNS record the operator creates at the domain's DNS provider (the stack does not own the zone). */
export interface MailDnsRecord {
    name: string;
    type: "CNAME" | "MX" | "TXT";
    value: string;
    /** Why it is there. */
    purpose: string;
}

/** The CloudWatch namespace and metrics of SES's account reputation (account-wide, no dimensions). */
export const SES_REPUTATION_METRICS = { namespace: "AWS/SES", bounceRate: "Reputation.BounceRate", complaintRate: "Reputation.ComplaintRate" } as const;

export interface MailArgs {
    /** Stack name, for the plone-aws:stack tag and the alarm names. */
    stackName: string;
    /** The stack's resource name prefix (StackSpec.resourcePrefix): SES configuration set names allow letters, digits, '_' and '-'. */
    stackPrefix: string;
    /** The stack's region: SES's SMTP endpoint and the MAIL FROM domain's MX target are regional. */
    region: string;
    /** The AWS account id: the sending user's policy names its SES resources. */
    accountId: pulumi.Input<string>;
    /** plone-aws:mail with its defaults resolved. */
    settings: MailSpec;
    /** The SNS topic the bounce and complaint alarms notify (Monitoring's). */
    alarmTopicArn: pulumi.Input<string>;
}

/** The DNS records of a domain identity: Easy DKIM's three CNAMEs, the MAIL FROM MX and SPF, a DMARC policy to start with. */
export function mailDnsRecords(settings: Pick<MailSpec, "domain" | "mailFromDomain">, region: string, dkimTokens: string[]): MailDnsRecord[] {
    return [
        ...dkimTokens.map((token): MailDnsRecord => ({
            name: `${token}._domainkey.${settings.domain}`,
            type: "CNAME",
            value: `${token}.dkim.amazonses.com`,
            purpose: "DKIM: SES signs the domain's mail with this key",
        })),
        {
            name: settings.mailFromDomain,
            type: "MX",
            value: `10 feedback-smtp.${region}.amazonses.com`,
            purpose: "MAIL FROM: bounces and complaints return to SES",
        },
        {
            name: settings.mailFromDomain,
            type: "TXT",
            value: '"v=spf1 include:amazonses.com ~all"',
            purpose: "SPF of the MAIL FROM domain: SES may send for it",
        },
        {
            name: `_dmarc.${settings.domain}`,
            type: "TXT",
            value: '"v=DMARC1; p=none;"',
            purpose: "DMARC (unless the domain has one): DKIM and SPF align on the domain; tighten p= once reports are clean",
        },
    ];
}

/**
 * Amazon SES for the stack's outbound mail (plone-aws:mail): the sender domain as an SES domain
 * identity with Easy DKIM (2048-bit keys SES rotates), its MAIL FROM domain (bounces return to SES
 * on the stack's own subdomain, so SPF aligns), a configuration set (the identity's default: its
 * reputation metrics, and TLS-only delivery where mail.requireTlsDelivery says so), the IAM user
 * whose access key the relay's SMTP credentials are derived from (send-only, as the domain), and
 * alarms on the account's bounce and complaint rates. The stack does not own the domain's DNS
 * zone: `records` are what the operator creates (the stack output mailDnsRecords).
 */
export class Mail extends pulumi.ComponentResource {
    public readonly identity: aws.sesv2.EmailIdentity;
    public readonly mailFrom: aws.sesv2.EmailIdentityMailFromAttributes;
    public readonly configurationSet: aws.sesv2.ConfigurationSet;
    /** The IAM user of the SMTP credentials: create its access key, derive the SMTP password from it (docs/operations.md). */
    public readonly smtpUser: aws.iam.User;
    public readonly alarms: aws.cloudwatch.MetricAlarm[];
    /** The DNS records to create at the domain's DNS provider. */
    public readonly records: pulumi.Output<MailDnsRecord[]>;

    constructor(name: string, args: MailArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.mail, name, args, opts);
        const s = args.settings;
        const tags = resourceTags(args.stackName, name, "plone_instances");
        const child = { parent: this };
        // Fixed names: the configuration refuses a stack name that makes them too long (config/awsRules.ts).
        const names = sesResourceNames(args.stackPrefix);

        this.configurationSet = new aws.sesv2.ConfigurationSet(
            `${name}-configuration-set`,
            {
                configurationSetName: names.configurationSet,
                deliveryOptions: { tlsPolicy: s.requireTlsDelivery ? "REQUIRE" : "OPTIONAL" },
                reputationOptions: { reputationMetricsEnabled: true },
                sendingOptions: { sendingEnabled: true },
                // Addresses that bounced or complained are not sent to again (SES's suppression list).
                suppressionOptions: { suppressedReasons: ["BOUNCE", "COMPLAINT"] },
                tags,
            },
            child,
        );
        this.identity = new aws.sesv2.EmailIdentity(
            `${name}-identity`,
            {
                emailIdentity: s.domain,
                configurationSetName: this.configurationSet.configurationSetName,
                dkimSigningAttributes: { nextSigningKeyLength: "RSA_2048_BIT" },
                tags,
            },
            child,
        );
        this.mailFrom = new aws.sesv2.EmailIdentityMailFromAttributes(
            `${name}-mail-from`,
            // Until the MX record exists SES falls back to amazonses.com rather than refusing mail.
            { emailIdentity: this.identity.emailIdentity, mailFromDomain: s.mailFromDomain, behaviorOnMxFailure: "USE_DEFAULT_VALUE" },
            child,
        );

        this.smtpUser = new aws.iam.User(`${name}-smtp-user`, { name: names.smtpUser, path: "/plone-aws/", tags }, child);
        const sesArn = (resource: pulumi.Input<string>) => pulumi.interpolate`arn:aws:ses:${args.region}:${args.accountId}:${resource}`;
        new aws.iam.UserPolicy(
            `${name}-smtp-send`,
            {
                user: this.smtpUser.name,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "SendAsTheStacksDomainOnly",
                            Effect: "Allow",
                            Action: "ses:SendRawEmail",
                            // The identities (sender, and verified sandbox recipients) and the configuration set of this region.
                            Resource: [sesArn("identity/*"), sesArn(pulumi.interpolate`configuration-set/${this.configurationSet.configurationSetName}`)],
                            Condition: { StringLike: { "ses:FromAddress": [`*@${s.domain}`, `*@*.${s.domain}`] } },
                        },
                    ],
                }),
            },
            child,
        );

        const alarm = (id: string, metricName: string, threshold: number, what: string) =>
            new aws.cloudwatch.MetricAlarm(
                `${name}-${id}`,
                {
                    name: `plone-aws-${args.stackName}-${id}`,
                    alarmDescription: what,
                    namespace: SES_REPUTATION_METRICS.namespace,
                    metricName,
                    statistic: "Maximum",
                    period: 3600,
                    evaluationPeriods: 1,
                    threshold,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    // SES publishes the rates only once the account has sent mail.
                    treatMissingData: "notBreaching",
                    alarmActions: [args.alarmTopicArn],
                    okActions: [args.alarmTopicArn],
                    tags: { ...tags, Name: `${name}-${id}` },
                },
                child,
            );
        this.alarms = [
            alarm(
                "mail-bounce-rate",
                SES_REPUTATION_METRICS.bounceRate,
                s.bounceRateAlarm,
                `SES's bounce rate reached ${s.bounceRateAlarm * 100} %: SES reviews the account at 5 % and may pause sending at 10 %`,
            ),
            alarm(
                "mail-complaint-rate",
                SES_REPUTATION_METRICS.complaintRate,
                s.complaintRateAlarm,
                `SES's complaint rate reached ${s.complaintRateAlarm * 100} %: SES reviews the account at 0.1 % and may pause sending at 0.5 %`,
            ),
        ];

        this.records = this.identity.dkimSigningAttributes.apply((dkim) => mailDnsRecords(s, args.region, dkim?.tokens ?? []));
        this.registerOutputs({ identityArn: this.identity.arn, records: this.records, smtpUserName: this.smtpUser.name });
    }
}

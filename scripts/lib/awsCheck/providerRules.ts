// What the provider checks before it calls AWS, and what AWS documents without putting it in its
// models: read in the sources named on each rule (terraform-provider-aws under internal/service,
// pulumi-aws provider/resources.go and autonaming.go, pulumi-terraform-bridge
// pkg/tfbridge/names.go). Mirrored here so `npm run plan` sees what `pulumi up` would refuse.

export interface FieldRule {
    type: string;
    /** Input path (see apiFields.ts); "tags{key}" etc. for maps. */
    input: string;
    source: string;
    /** Why the value is refused, or undefined. */
    check: (value: string | number, inputs: Record<string, unknown>) => string | undefined;
}

/** Pulumi's auto-name of an input the program leaves unset. */
export interface AutoNameRule {
    type: string;
    input: string;
    /** Longest name the bridge generates; it refuses a longer one ("could not make instance of"). */
    maxLength: number;
    /** Between the logical name and the 7 random hex characters. */
    separator: string;
    source: string;
}

/** Random characters Pulumi appends to an auto-name (pulumi-terraform-bridge names.go: Randlen 7, hex). */
export const AUTONAME_RANDOM_LENGTH = 7;

const TF = "terraform-provider-aws";
const BRIDGE_DEFAULT = 'pulumi-aws provider/autonaming.go (every input named "name": at most 255)';

export const AUTONAME_RULES: AutoNameRule[] = [
    { type: "aws:lb/loadBalancer:LoadBalancer", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    {
        type: "aws:lb/targetGroup:TargetGroup",
        input: "name",
        maxLength: 32,
        separator: "-",
        source: 'pulumi-aws provider/resources.go (aws_lb_target_group: AutoName("name", 32, "-"))',
    },
    { type: "aws:ec2/securityGroup:SecurityGroup", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    {
        type: "aws:ec2/keyPair:KeyPair",
        input: "keyName",
        maxLength: 255,
        separator: "-",
        source: 'pulumi-aws provider/resources.go (aws_key_pair: AutoName("keyName", 255, "-"))',
    },
    {
        type: "aws:iam/role:Role",
        input: "name",
        maxLength: 64,
        separator: "-",
        source: 'pulumi-aws provider/resources.go (aws_iam_role: AutoName("name", 64, "-"))',
    },
    { type: "aws:iam/instanceProfile:InstanceProfile", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    { type: "aws:iam/rolePolicy:RolePolicy", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    { type: "aws:iam/userPolicy:UserPolicy", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    { type: "aws:rds/subnetGroup:SubnetGroup", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    { type: "aws:rds/parameterGroup:ParameterGroup", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    {
        type: "aws:rds/instance:Instance",
        input: "identifier",
        maxLength: 255,
        separator: "",
        source: "pulumi-aws provider/resources.go (aws_db_instance identifier: resource.NewUniqueHex(name, 7, 255))",
    },
    { type: "aws:sns/topic:Topic", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    { type: "aws:cloudwatch/metricAlarm:MetricAlarm", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    {
        type: "aws:ec2/launchTemplate:LaunchTemplate",
        input: "name",
        maxLength: 128,
        separator: "-",
        source: "EC2 API CreateLaunchTemplate: LaunchTemplateName is 3-128 characters (the scaled groups' launch templates are auto-named)",
    },
    { type: "aws:autoscaling/policy:Policy", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    { type: "aws:cloudwatch/logGroup:LogGroup", input: "name", maxLength: 255, separator: "-", source: BRIDGE_DEFAULT },
    {
        type: "aws:efs/fileSystem:FileSystem",
        input: "creationToken",
        maxLength: 255,
        separator: "-",
        source: 'pulumi-aws provider/resources.go (aws_efs_file_system: AutoName("creationToken", 255, "-"))',
    },
];

function length(v: string | number, min: number, max: number, what = "characters"): string | undefined {
    const n = String(v).length;
    if (n < min) return `is ${n} ${what}, at least ${min} are needed`;
    if (n > max) return `is ${n} ${what}, at most ${max} are allowed`;
    return undefined;
}

function all(...checks: ((v: string) => string | undefined)[]): (v: string | number) => string | undefined {
    return (v) => {
        for (const c of checks) {
            const problem = c(String(v));
            if (problem) return problem;
        }
        return undefined;
    };
}

const maxLen = (max: number) => (v: string) => length(v, 0, max);
const lenBetween = (min: number, max: number) => (v: string) => length(v, min, max);
const matches = (re: RegExp, what: string) => (v: string) => (re.test(v) ? undefined : `may only contain ${what}`);
const notMatching = (re: RegExp, what: string) => (v: string) => (re.test(v) ? what : undefined);
const oneOf = (values: readonly (string | number)[]) => (v: string | number) => (values.includes(v) ? undefined : `must be one of ${values.join(", ")}`);
const between = (min: number, max: number) => (v: string | number) => (Number(v) < min || Number(v) > max ? `must be between ${min} and ${max}` : undefined);

/** ELB names: internal/service/elbv2/validate.go validName and validTargetGroupName. */
const elbName = (loadBalancer: boolean) =>
    all(
        maxLen(32),
        matches(/^[0-9A-Za-z-]+$/, "letters, digits and hyphens"),
        notMatching(/^-|-$/, "cannot begin or end with a hyphen"),
        ...(loadBalancer ? [notMatching(/^internal-/, 'cannot begin with "internal-"')] : []),
    );

/** RDS identifiers: internal/service/rds/validate.go validIdentifier, validParamGroupName. */
const rdsIdentifier = (max: number) =>
    all(
        lenBetween(1, max),
        matches(/^[0-9a-z-]+$/, "lower-case letters, digits and hyphens"),
        notMatching(/^[^a-z]/, "must begin with a letter"),
        notMatching(/--/, "cannot contain two hyphens in a row"),
        notMatching(/-$/, "cannot end with a hyphen"),
    );

/** EC2 security group and rule descriptions (EC2 API CreateSecurityGroup GroupDescription, IpRange Description). */
const EC2_DESCRIPTION = all(maxLen(255), matches(/^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/, "a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*"));
const EC2_DESCRIPTION_SOURCE =
    "EC2 API reference (CreateSecurityGroup GroupDescription, IpRange Description) and terraform-provider-aws internal/service/ec2/vpc_security_group.go (StringLenBetween(0, 255))";

/** Volume size limits per type, GiB (EC2 API reference, CreateVolume Size). */
const VOLUME_SIZES: Record<string, [number, number]> = {
    gp2: [1, 16384],
    gp3: [1, 16384],
    io1: [4, 16384],
    io2: [4, 65536],
    st1: [125, 16384],
    sc1: [125, 16384],
    standard: [1, 1024],
};

/** CloudWatch Logs retention values (terraform-provider-aws internal/service/logs/group.go). */
const LOG_RETENTION = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * Why a value is no DNS name SES takes as a domain: at most 253 characters, at least two labels of
 * 1 to 63 letters, digits and '-' (not at either end). SES API v2 reference, CreateEmailIdentity
 * EmailIdentity ("the email address or domain") and "Creating a domain identity"; RFC 1035 2.3.
 */
export function domainNameProblem(v: string): string | undefined {
    if (v.length > 253) return `is ${v.length} characters, and a domain name has at most 253`;
    const labels = v.split(".");
    if (labels.length < 2) return "is not a domain name (one label)";
    const bad = labels.find((l) => !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
    if (bad !== undefined) return `has the label "${bad}": labels are 1 to 63 letters, digits and '-', not at either end`;
    return undefined;
}

const SES = "Amazon SES API v2 reference";

const SG_RULES = ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"];

export const FIELD_RULES: FieldRule[] = [
    {
        type: "aws:dlm/lifecyclePolicy:LifecyclePolicy",
        input: "description",
        source: `${TF} internal/service/dlm/lifecycle_policy.go (description: StringMatch ^[0-9A-Za-z _-]+$)`,
        check: all(matches(/^[0-9A-Za-z _-]+$/, "letters, digits, spaces, '_' and '-'")),
    },
    { type: "aws:lb/loadBalancer:LoadBalancer", input: "name", source: `${TF} internal/service/elbv2/validate.go (validName)`, check: elbName(true) },
    { type: "aws:lb/targetGroup:TargetGroup", input: "name", source: `${TF} internal/service/elbv2/validate.go (validTargetGroupName)`, check: elbName(false) },
    {
        type: "aws:lb/loadBalancer:LoadBalancer",
        input: "idleTimeout",
        source: `${TF} internal/service/elbv2/load_balancer.go (idle_timeout: IntBetween(1, 4000))`,
        check: between(1, 4000),
    },
    {
        type: "aws:lb/targetGroup:TargetGroup",
        input: "deregistrationDelay",
        source: `${TF} internal/service/elbv2/target_group.go (deregistration_delay: IntBetween(0, 3600))`,
        check: between(0, 3600),
    },
    { type: "aws:ec2/securityGroup:SecurityGroup", input: "description", source: EC2_DESCRIPTION_SOURCE, check: EC2_DESCRIPTION },
    {
        type: "aws:ec2/securityGroup:SecurityGroup",
        input: "name",
        source: `${TF} internal/service/ec2/vpc_security_group.go (name: at most 255, not sg-*)`,
        check: all(maxLen(255), notMatching(/^sg-/, 'cannot begin with "sg-"')),
    },
    ...SG_RULES.map((type) => ({ type, input: "description", source: EC2_DESCRIPTION_SOURCE, check: EC2_DESCRIPTION })),
    {
        type: "aws:ec2/keyPair:KeyPair",
        input: "keyName",
        source: "EC2 API reference (ImportKeyPair KeyName: up to 255 ASCII characters)",
        check: all(maxLen(255), matches(/^[\x20-\x7e]+$/, "ASCII characters")),
    },
    {
        type: "aws:ec2/instance:Instance",
        input: "metadataOptions.httpPutResponseHopLimit",
        source: `${TF} internal/service/ec2/ec2_instance.go (http_put_response_hop_limit: IntBetween(1, 64))`,
        check: between(1, 64),
    },
    {
        type: "aws:ebs/volume:Volume",
        input: "size",
        source: "EC2 API reference (CreateVolume Size, per volume type)",
        check: (v, inputs) => {
            const range = VOLUME_SIZES[String(inputs.type ?? "gp2")];
            return range ? between(range[0], range[1])(v) : undefined;
        },
    },
    {
        type: "aws:ebs/volume:Volume",
        input: "throughput",
        source: `${TF} internal/service/ec2/ebs_volume.go (throughput: IntBetween(125, 1000))`,
        check: between(125, 1000),
    },
    {
        type: "aws:rds/instance:Instance",
        input: "identifier",
        source: `${TF} internal/service/rds/validate.go (validIdentifier); RDS API reference (DBInstanceIdentifier: 1 to 63 characters)`,
        check: rdsIdentifier(63),
    },
    {
        type: "aws:rds/instance:Instance",
        input: "finalSnapshotIdentifier",
        source: `${TF} internal/service/rds/instance.go (final_snapshot_identifier); RDS API reference (DeleteDBInstance FinalDBSnapshotIdentifier: 1 to 255, a letter first)`,
        check: all(
            lenBetween(1, 255),
            matches(/^[0-9A-Za-z-]+$/, "letters, digits and hyphens"),
            notMatching(/^[^A-Za-z]/, "must begin with a letter"),
            notMatching(/--/, "cannot contain two hyphens in a row"),
            notMatching(/-$/, "cannot end with a hyphen"),
        ),
    },
    {
        type: "aws:rds/instance:Instance",
        input: "backupWindow",
        source: `${TF} internal/verify/validate.go (ValidOnceADayWindowFormat)`,
        check: all(matches(/^([0-1][0-9]|2[0-3]):[0-5][0-9]-([0-1][0-9]|2[0-3]):[0-5][0-9]$/, "hh24:mi-hh24:mi")),
    },
    {
        type: "aws:rds/instance:Instance",
        input: "maintenanceWindow",
        source: `${TF} internal/verify/validate.go (ValidOnceAWeekWindowFormat)`,
        check: all(
            matches(
                /^(mon|tue|wed|thu|fri|sat|sun):([0-1][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([0-1][0-9]|2[0-3]):[0-5][0-9]$/,
                "ddd:hh24:mi-ddd:hh24:mi",
            ),
        ),
    },
    {
        type: "aws:rds/instance:Instance",
        input: "backupRetentionPeriod",
        source: `${TF} internal/service/rds/instance.go (backup_retention_period: IntBetween(0, 35))`,
        check: between(0, 35),
    },
    {
        type: "aws:rds/instance:Instance",
        input: "dbName",
        source: "RDS API reference (CreateDBInstance DBName, PostgreSQL: 1 to 63 letters, digits or underscores, a letter first)",
        check: all(lenBetween(1, 63), matches(/^[A-Za-z][A-Za-z0-9_]*$/, "letters, digits and underscores, a letter first")),
    },
    {
        type: "aws:rds/instance:Instance",
        input: "username",
        source: "RDS API reference (CreateDBInstance MasterUsername, PostgreSQL: 1 to 63 letters or digits, a letter first)",
        check: all(lenBetween(1, 63), matches(/^[A-Za-z][A-Za-z0-9_]*$/, "letters, digits and underscores, a letter first")),
    },
    {
        type: "aws:rds/parameterGroup:ParameterGroup",
        input: "name",
        source: `${TF} internal/service/rds/validate.go (validParamGroupName)`,
        check: rdsIdentifier(255),
    },
    {
        type: "aws:rds/subnetGroup:SubnetGroup",
        input: "name",
        source: `${TF} internal/service/rds/validate.go (validSubnetGroupName)`,
        check: all(
            maxLen(255),
            matches(/^[ .0-9a-z_-]+$/, "lower-case letters, digits, spaces, '.', '_' and '-'"),
            notMatching(/^default$/i, '"default" is reserved'),
        ),
    },
    {
        type: "aws:cloudwatch/metricAlarm:MetricAlarm",
        input: "treatMissingData",
        source: `${TF} internal/service/cloudwatch/metric_alarm.go (treat_missing_data: missing, ignore, breaching, notBreaching)`,
        check: oneOf(["missing", "ignore", "breaching", "notBreaching"]),
    },
    {
        type: "aws:cloudwatch/metricAlarm:MetricAlarm",
        input: "metricQueries[].id",
        source: "CloudWatch API reference (MetricDataQuery Id: letters, digits and underscores, a lower-case letter first)",
        check: all(matches(/^[a-z][A-Za-z0-9_]*$/, "letters, digits and underscores, a lower-case letter first")),
    },
    {
        type: "aws:cloudwatch/logGroup:LogGroup",
        input: "retentionInDays",
        source: `${TF} internal/service/logs/group.go (retention_in_days: IntInSlice)`,
        check: oneOf(LOG_RETENTION),
    },
    {
        type: "aws:sns/topicSubscription:TopicSubscription",
        input: "protocol",
        source: `${TF} internal/service/sns/topic_subscription.go (protocol: StringInSlice)`,
        check: oneOf(["application", "email", "email-json", "firehose", "http", "https", "lambda", "sms", "sqs"]),
    },
    {
        type: "aws:sns/topic:Topic",
        input: "name",
        source: "SNS API reference (CreateTopic Name: 1 to 256 letters, digits, '_' and '-')",
        check: all(lenBetween(1, 256), matches(/^[A-Za-z0-9_-]+$/, "letters, digits, '_' and '-'")),
    },
    {
        type: "aws:sesv2/configurationSet:ConfigurationSet",
        input: "configurationSetName",
        source: `${SES} (CreateConfigurationSet ConfigurationSetName: up to 64 letters, digits, '_' and '-'); ${TF} internal/service/sesv2/configuration_set.go (StringLenBetween(1, 64))`,
        check: all(lenBetween(1, 64), matches(/^[A-Za-z0-9_-]+$/, "letters, digits, '_' and '-'")),
    },
    {
        type: "aws:sesv2/emailIdentity:EmailIdentity",
        input: "emailIdentity",
        source: `${SES} (CreateEmailIdentity EmailIdentity: an email address or a domain)`,
        check: (v) => {
            const value = String(v);
            const at = value.lastIndexOf("@");
            if (at < 0) return domainNameProblem(value);
            if (at === 0) return "is an address without a local part";
            const problem = domainNameProblem(value.slice(at + 1));
            return problem && `is an address whose domain ${problem}`;
        },
    },
    {
        type: "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes",
        input: "mailFromDomain",
        source: `${SES} (PutEmailIdentityMailFromAttributes MailFromDomain: a subdomain of the verified identity, not the identity itself)`,
        check: (v, inputs) => {
            const value = String(v).toLowerCase();
            const problem = domainNameProblem(value);
            if (problem) return problem;
            const identity = String(inputs.emailIdentity ?? "").toLowerCase();
            const domain = identity.slice(identity.lastIndexOf("@") + 1);
            if (!domain) return undefined; // The identity is an output not known offline.
            if (value === domain) return `is the identity ${domain} itself: the MAIL FROM domain must be one of its subdomains (bounce.${domain})`;
            if (!value.endsWith(`.${domain}`)) return `is not a subdomain of the identity ${domain}`;
            return undefined;
        },
    },
    {
        type: "aws:s3/bucket:Bucket",
        input: "bucket",
        source: `${TF} internal/service/s3/bucket.go (validBucketName); S3 bucket naming rules`,
        check: all(
            lenBetween(3, 63),
            matches(/^[0-9a-z.-]+$/, "lower-case letters, digits, '.' and '-'"),
            notMatching(/^[^0-9a-z]|[^0-9a-z]$/, "must begin and end with a letter or digit"),
            notMatching(/\.\./, "cannot contain two periods in a row"),
            notMatching(/^\d+\.\d+\.\d+\.\d+$/, "cannot look like an IP address"),
            notMatching(/^xn--|-s3alias$|--ol-s3$/, "uses a prefix or suffix S3 reserves"),
        ),
    },
];

/** Tags on every resource (AWS Tagging user guide, "Tag naming limits and requirements"). */
export const TAG_RULES: { input: string; source: string; check: (v: string | number) => string | undefined }[] = [
    {
        input: "tags{key}",
        source: "AWS tag limits (keys: 1 to 128 characters, not aws:*)",
        check: all(lenBetween(1, 128), notMatching(/^aws:/i, 'cannot begin with "aws:" (reserved for AWS)')),
    },
    { input: "tags{value}", source: "AWS tag limits (values: at most 256 characters)", check: all(maxLen(256)) },
];

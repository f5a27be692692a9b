// Which AWS API member each input the program sets becomes: the table the generator
// (scripts/gen-aws-constraints.ts) resolves in AWS's own service models (botocore's JSON) to the
// member's length, pattern, enum and range, written to api-constraints.json for the check.
//
// Paths: "a.b" nests, "a[]" is every element of a list, "a{key}" / "a{value}" every key / value
// of a map (Pulumi's tags and dimensions are maps; the APIs take lists of Key/Value pairs).
// The API side is "<Operation>:<Member path>" in the operation's input.
//
// Only inputs set from literals or the stack configuration are listed: references to other
// resources (ids, ARNs) are mock values offline. Left out on purpose: ec2 InstanceType (the model's
// enum lags new families; components/topology/instanceTypes.ts knows the types), inputs whose
// model has no constraint (RDS, EC2 descriptions: providerRules.ts has the documented ones).

export interface ApiField {
    /** Pulumi resource type token. */
    type: string;
    /** The input path in the resource's inputs. */
    input: string;
    /** botocore service name. */
    service: string;
    /** "<Operation>:<member path>" in that service's model. */
    api: string;
}

const tagFields = (type: string, service: string, api: string, key = "Key", value = "Value"): ApiField[] => [
    { type, input: "tags{key}", service, api: `${api}.${key}` },
    { type, input: "tags{value}", service, api: `${api}.${value}` },
];

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const LISTENER = "aws:lb/listener:Listener";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const DLM = "aws:dlm/lifecyclePolicy:LifecyclePolicy";
const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const WEB_ACL = "aws:wafv2/webAcl:WebAcl";
const IP_SET = "aws:wafv2/ipSet:IpSet";
const REGEX_SET = "aws:wafv2/regexPatternSet:RegexPatternSet";
const ASG = "aws:autoscaling/group:Group";
const SCHEDULE = "aws:autoscaling/schedule:Schedule";
const HOOK = "aws:autoscaling/lifecycleHook:LifecycleHook";
const SCALING_POLICY = "aws:autoscaling/policy:Policy";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const DISCOVERY_SERVICE = "aws:servicediscovery/service:Service";
const NAMESPACE = "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace";
const IMAGE_COMPONENT = "aws:imagebuilder/component:Component";
const IMAGE_RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe";
const IMAGE_INFRASTRUCTURE = "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration";
const PARAMETER = "aws:ssm/parameter:Parameter";
const SES_IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity";
const SES_MAIL_FROM = "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes";
const SES_CONFIGURATION_SET = "aws:sesv2/configurationSet:ConfigurationSet";
const IAM_USER = "aws:iam/user:User";
const IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy";

export const API_FIELDS: ApiField[] = [
    // EC2
    { type: "aws:ec2/instance:Instance", input: "metadataOptions.httpTokens", service: "ec2", api: "RunInstances:MetadataOptions.HttpTokens" },
    { type: "aws:ec2/instance:Instance", input: "metadataOptions.httpEndpoint", service: "ec2", api: "RunInstances:MetadataOptions.HttpEndpoint" },
    { type: "aws:ec2/instance:Instance", input: "rootBlockDevice.volumeType", service: "ec2", api: "RunInstances:BlockDeviceMappings[].Ebs.VolumeType" },
    { type: "aws:ec2/instance:Instance", input: "maintenanceOptions.autoRecovery", service: "ec2", api: "RunInstances:MaintenanceOptions.AutoRecovery" },
    { type: "aws:ebs/volume:Volume", input: "type", service: "ec2", api: "CreateVolume:VolumeType" },
    { type: "aws:ec2/eip:Eip", input: "domain", service: "ec2", api: "AllocateAddress:Domain" },

    // Elastic Load Balancing v2
    { type: "aws:lb/loadBalancer:LoadBalancer", input: "loadBalancerType", service: "elbv2", api: "CreateLoadBalancer:Type" },
    ...tagFields("aws:lb/loadBalancer:LoadBalancer", "elbv2", "CreateLoadBalancer:Tags[]"),
    { type: TARGET_GROUP, input: "port", service: "elbv2", api: "CreateTargetGroup:Port" },
    { type: TARGET_GROUP, input: "protocol", service: "elbv2", api: "CreateTargetGroup:Protocol" },
    { type: TARGET_GROUP, input: "targetType", service: "elbv2", api: "CreateTargetGroup:TargetType" },
    { type: TARGET_GROUP, input: "healthCheck.path", service: "elbv2", api: "CreateTargetGroup:HealthCheckPath" },
    { type: TARGET_GROUP, input: "healthCheck.protocol", service: "elbv2", api: "CreateTargetGroup:HealthCheckProtocol" },
    { type: TARGET_GROUP, input: "healthCheck.interval", service: "elbv2", api: "CreateTargetGroup:HealthCheckIntervalSeconds" },
    { type: TARGET_GROUP, input: "healthCheck.timeout", service: "elbv2", api: "CreateTargetGroup:HealthCheckTimeoutSeconds" },
    { type: TARGET_GROUP, input: "healthCheck.healthyThreshold", service: "elbv2", api: "CreateTargetGroup:HealthyThresholdCount" },
    { type: TARGET_GROUP, input: "healthCheck.unhealthyThreshold", service: "elbv2", api: "CreateTargetGroup:UnhealthyThresholdCount" },
    ...tagFields(TARGET_GROUP, "elbv2", "CreateTargetGroup:Tags[]"),
    { type: "aws:lb/targetGroupAttachment:TargetGroupAttachment", input: "port", service: "elbv2", api: "RegisterTargets:Targets[].Port" },
    { type: LISTENER, input: "port", service: "elbv2", api: "CreateListener:Port" },
    { type: LISTENER, input: "protocol", service: "elbv2", api: "CreateListener:Protocol" },
    { type: LISTENER, input: "defaultActions[].type", service: "elbv2", api: "CreateListener:DefaultActions[].Type" },
    { type: LISTENER, input: "defaultActions[].redirect.protocol", service: "elbv2", api: "CreateListener:DefaultActions[].RedirectConfig.Protocol" },
    { type: LISTENER, input: "defaultActions[].redirect.statusCode", service: "elbv2", api: "CreateListener:DefaultActions[].RedirectConfig.StatusCode" },
    ...tagFields(LISTENER, "elbv2", "CreateListener:Tags[]"),

    // RDS (the model constrains little; providerRules.ts has the provider's name checks)
    {
        type: "aws:rds/parameterGroup:ParameterGroup",
        input: "parameters[].applyMethod",
        service: "rds",
        api: "ModifyDBParameterGroup:Parameters[].ApplyMethod",
    },

    // Data Lifecycle Manager
    { type: DLM, input: "description", service: "dlm", api: "CreateLifecyclePolicy:Description" },
    { type: DLM, input: "state", service: "dlm", api: "CreateLifecyclePolicy:State" },
    { type: DLM, input: "policyDetails.policyType", service: "dlm", api: "CreateLifecyclePolicy:PolicyDetails.PolicyType" },
    { type: DLM, input: "policyDetails.resourceTypes[]", service: "dlm", api: "CreateLifecyclePolicy:PolicyDetails.ResourceTypes[]" },
    { type: DLM, input: "policyDetails.targetTags{key}", service: "dlm", api: "CreateLifecyclePolicy:PolicyDetails.TargetTags[].Key" },
    { type: DLM, input: "policyDetails.targetTags{value}", service: "dlm", api: "CreateLifecyclePolicy:PolicyDetails.TargetTags[].Value" },
    { type: DLM, input: "policyDetails.schedules[].name", service: "dlm", api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].Name" },
    { type: DLM, input: "policyDetails.schedules[].tagsToAdd{key}", service: "dlm", api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].TagsToAdd[].Key" },
    {
        type: DLM,
        input: "policyDetails.schedules[].tagsToAdd{value}",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].TagsToAdd[].Value",
    },
    {
        type: DLM,
        input: "policyDetails.schedules[].createRule.interval",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].CreateRule.Interval",
    },
    {
        type: DLM,
        input: "policyDetails.schedules[].createRule.intervalUnit",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].CreateRule.IntervalUnit",
    },
    {
        type: DLM,
        input: "policyDetails.schedules[].createRule.times",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].CreateRule.Times[]",
    },
    { type: DLM, input: "policyDetails.schedules[].retainRule.count", service: "dlm", api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].RetainRule.Count" },
    {
        type: DLM,
        input: "policyDetails.schedules[].crossRegionCopyRules[].target",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].CrossRegionCopyRules[].Target",
    },
    {
        type: DLM,
        input: "policyDetails.schedules[].crossRegionCopyRules[].cmkArn",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].CrossRegionCopyRules[].CmkArn",
    },
    {
        type: DLM,
        input: "policyDetails.schedules[].crossRegionCopyRules[].retainRule.interval",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].CrossRegionCopyRules[].RetainRule.Interval",
    },
    {
        type: DLM,
        input: "policyDetails.schedules[].crossRegionCopyRules[].retainRule.intervalUnit",
        service: "dlm",
        api: "CreateLifecyclePolicy:PolicyDetails.Schedules[].CrossRegionCopyRules[].RetainRule.IntervalUnit",
    },
    { type: DLM, input: "tags{key}", service: "dlm", api: "CreateLifecyclePolicy:Tags{key}" },
    { type: DLM, input: "tags{value}", service: "dlm", api: "CreateLifecyclePolicy:Tags{value}" },

    // CloudWatch alarms and logs
    { type: ALARM, input: "name", service: "cloudwatch", api: "PutMetricAlarm:AlarmName" },
    { type: ALARM, input: "alarmDescription", service: "cloudwatch", api: "PutMetricAlarm:AlarmDescription" },
    { type: ALARM, input: "namespace", service: "cloudwatch", api: "PutMetricAlarm:Namespace" },
    { type: ALARM, input: "metricName", service: "cloudwatch", api: "PutMetricAlarm:MetricName" },
    { type: ALARM, input: "statistic", service: "cloudwatch", api: "PutMetricAlarm:Statistic" },
    { type: ALARM, input: "period", service: "cloudwatch", api: "PutMetricAlarm:Period" },
    { type: ALARM, input: "evaluationPeriods", service: "cloudwatch", api: "PutMetricAlarm:EvaluationPeriods" },
    { type: ALARM, input: "comparisonOperator", service: "cloudwatch", api: "PutMetricAlarm:ComparisonOperator" },
    { type: ALARM, input: "treatMissingData", service: "cloudwatch", api: "PutMetricAlarm:TreatMissingData" },
    { type: ALARM, input: "dimensions{key}", service: "cloudwatch", api: "PutMetricAlarm:Dimensions[].Name" },
    { type: ALARM, input: "alarmActions[]", service: "cloudwatch", api: "PutMetricAlarm:AlarmActions[]" },
    { type: ALARM, input: "okActions[]", service: "cloudwatch", api: "PutMetricAlarm:OKActions[]" },
    { type: ALARM, input: "metricQueries[].id", service: "cloudwatch", api: "PutMetricAlarm:Metrics[].Id" },
    { type: ALARM, input: "metricQueries[].expression", service: "cloudwatch", api: "PutMetricAlarm:Metrics[].Expression" },
    { type: ALARM, input: "metricQueries[].period", service: "cloudwatch", api: "PutMetricAlarm:Metrics[].Period" },
    { type: ALARM, input: "metricQueries[].metric.namespace", service: "cloudwatch", api: "PutMetricAlarm:Metrics[].MetricStat.Metric.Namespace" },
    { type: ALARM, input: "metricQueries[].metric.metricName", service: "cloudwatch", api: "PutMetricAlarm:Metrics[].MetricStat.Metric.MetricName" },
    {
        type: ALARM,
        input: "metricQueries[].metric.dimensions{key}",
        service: "cloudwatch",
        api: "PutMetricAlarm:Metrics[].MetricStat.Metric.Dimensions[].Name",
    },
    { type: ALARM, input: "metricQueries[].metric.period", service: "cloudwatch", api: "PutMetricAlarm:Metrics[].MetricStat.Period" },
    ...tagFields(ALARM, "cloudwatch", "PutMetricAlarm:Tags[]"),
    { type: "aws:cloudwatch/logGroup:LogGroup", input: "name", service: "logs", api: "CreateLogGroup:logGroupName" },
    { type: "aws:cloudwatch/logGroup:LogGroup", input: "tags{key}", service: "logs", api: "CreateLogGroup:tags{key}" },
    { type: "aws:cloudwatch/logGroup:LogGroup", input: "tags{value}", service: "logs", api: "CreateLogGroup:tags{value}" },

    // WAF (wafv2): names, descriptions and metric names have patterns of their own ([\w-] names).
    // Left out: RateBasedStatement.EvaluationWindowSec, which Debian's botocore model predates.
    { type: WEB_ACL, input: "name", service: "wafv2", api: "CreateWebACL:Name" },
    { type: WEB_ACL, input: "description", service: "wafv2", api: "CreateWebACL:Description" },
    { type: WEB_ACL, input: "scope", service: "wafv2", api: "CreateWebACL:Scope" },
    { type: WEB_ACL, input: "visibilityConfig.metricName", service: "wafv2", api: "CreateWebACL:VisibilityConfig.MetricName" },
    { type: WEB_ACL, input: "rules[].name", service: "wafv2", api: "CreateWebACL:Rules[].Name" },
    { type: WEB_ACL, input: "rules[].priority", service: "wafv2", api: "CreateWebACL:Rules[].Priority" },
    { type: WEB_ACL, input: "rules[].visibilityConfig.metricName", service: "wafv2", api: "CreateWebACL:Rules[].VisibilityConfig.MetricName" },
    { type: WEB_ACL, input: "rules[].statement.rateBasedStatement.limit", service: "wafv2", api: "CreateWebACL:Rules[].Statement.RateBasedStatement.Limit" },
    {
        type: WEB_ACL,
        input: "rules[].statement.managedRuleGroupStatement.name",
        service: "wafv2",
        api: "CreateWebACL:Rules[].Statement.ManagedRuleGroupStatement.Name",
    },
    ...tagFields(WEB_ACL, "wafv2", "CreateWebACL:Tags[]"),
    { type: IP_SET, input: "name", service: "wafv2", api: "CreateIPSet:Name" },
    { type: IP_SET, input: "description", service: "wafv2", api: "CreateIPSet:Description" },
    { type: IP_SET, input: "ipAddressVersion", service: "wafv2", api: "CreateIPSet:IPAddressVersion" },
    { type: IP_SET, input: "addresses[]", service: "wafv2", api: "CreateIPSet:Addresses[]" },
    ...tagFields(IP_SET, "wafv2", "CreateIPSet:Tags[]"),
    { type: REGEX_SET, input: "name", service: "wafv2", api: "CreateRegexPatternSet:Name" },
    { type: REGEX_SET, input: "description", service: "wafv2", api: "CreateRegexPatternSet:Description" },
    { type: REGEX_SET, input: "regularExpressions[].regexString", service: "wafv2", api: "CreateRegexPatternSet:RegularExpressionList[].RegexString" },
    ...tagFields(REGEX_SET, "wafv2", "CreateRegexPatternSet:Tags[]"),

    // SNS
    ...tagFields("aws:sns/topic:Topic", "sns", "CreateTopic:Tags[]"),

    // IAM
    { type: "aws:iam/role:Role", input: "name", service: "iam", api: "CreateRole:RoleName" },
    { type: "aws:iam/role:Role", input: "description", service: "iam", api: "CreateRole:Description" },
    { type: "aws:iam/role:Role", input: "assumeRolePolicy", service: "iam", api: "CreateRole:AssumeRolePolicyDocument" },
    ...tagFields("aws:iam/role:Role", "iam", "CreateRole:Tags[]"),
    { type: "aws:iam/rolePolicy:RolePolicy", input: "name", service: "iam", api: "PutRolePolicy:PolicyName" },
    { type: "aws:iam/rolePolicy:RolePolicy", input: "policy", service: "iam", api: "PutRolePolicy:PolicyDocument" },
    { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", input: "policyArn", service: "iam", api: "AttachRolePolicy:PolicyArn" },
    { type: "aws:iam/instanceProfile:InstanceProfile", input: "name", service: "iam", api: "CreateInstanceProfile:InstanceProfileName" },
    ...tagFields("aws:iam/instanceProfile:InstanceProfile", "iam", "CreateInstanceProfile:Tags[]"),
    { type: IAM_USER, input: "name", service: "iam", api: "CreateUser:UserName" },
    { type: IAM_USER, input: "path", service: "iam", api: "CreateUser:Path" },
    ...tagFields(IAM_USER, "iam", "CreateUser:Tags[]"),
    { type: IAM_USER_POLICY, input: "name", service: "iam", api: "PutUserPolicy:PolicyName" },
    { type: IAM_USER_POLICY, input: "user", service: "iam", api: "PutUserPolicy:UserName" },
    { type: IAM_USER_POLICY, input: "policy", service: "iam", api: "PutUserPolicy:PolicyDocument" },

    // SES (v2): the model constrains the enums and little else; providerRules.ts has the names and domains.
    { type: SES_IDENTITY, input: "emailIdentity", service: "sesv2", api: "CreateEmailIdentity:EmailIdentity" },
    {
        type: SES_IDENTITY,
        input: "dkimSigningAttributes.nextSigningKeyLength",
        service: "sesv2",
        api: "CreateEmailIdentity:DkimSigningAttributes.NextSigningKeyLength",
    },
    { type: SES_MAIL_FROM, input: "emailIdentity", service: "sesv2", api: "PutEmailIdentityMailFromAttributes:EmailIdentity" },
    { type: SES_MAIL_FROM, input: "behaviorOnMxFailure", service: "sesv2", api: "PutEmailIdentityMailFromAttributes:BehaviorOnMxFailure" },
    { type: SES_CONFIGURATION_SET, input: "deliveryOptions.tlsPolicy", service: "sesv2", api: "CreateConfigurationSet:DeliveryOptions.TlsPolicy" },
    {
        type: SES_CONFIGURATION_SET,
        input: "suppressionOptions.suppressedReasons[]",
        service: "sesv2",
        api: "CreateConfigurationSet:SuppressionOptions.SuppressedReasons[]",
    },

    // EFS
    { type: "aws:efs/fileSystem:FileSystem", input: "creationToken", service: "efs", api: "CreateFileSystem:CreationToken" },
    { type: "aws:efs/fileSystem:FileSystem", input: "performanceMode", service: "efs", api: "CreateFileSystem:PerformanceMode" },
    { type: "aws:efs/fileSystem:FileSystem", input: "throughputMode", service: "efs", api: "CreateFileSystem:ThroughputMode" },
    {
        type: "aws:efs/fileSystem:FileSystem",
        input: "lifecyclePolicies[].transitionToIa",
        service: "efs",
        api: "PutLifecycleConfiguration:LifecyclePolicies[].TransitionToIA",
    },
    ...tagFields("aws:efs/fileSystem:FileSystem", "efs", "CreateFileSystem:Tags[]"),
    { type: "aws:efs/backupPolicy:BackupPolicy", input: "backupPolicy.status", service: "efs", api: "PutBackupPolicy:BackupPolicy.Status" },

    // S3
    { type: "aws:s3/bucket:Bucket", input: "tags{key}", service: "s3", api: "PutBucketTagging:Tagging.TagSet[].Key" },
    {
        type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        input: "rule.objectOwnership",
        service: "s3",
        api: "PutBucketOwnershipControls:OwnershipControls.Rules[].ObjectOwnership",
    },
    {
        type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        input: "rules[].applyServerSideEncryptionByDefault.sseAlgorithm",
        service: "s3",
        api: "PutBucketEncryption:ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.SSEAlgorithm",
    },
    {
        type: "aws:s3/bucketVersioning:BucketVersioning",
        input: "versioningConfiguration.status",
        service: "s3",
        api: "PutBucketVersioning:VersioningConfiguration.Status",
    },
    { type: LIFECYCLE, input: "rules[].status", service: "s3", api: "PutBucketLifecycleConfiguration:LifecycleConfiguration.Rules[].Status" },
    {
        type: LIFECYCLE,
        input: "rules[].transitions[].storageClass",
        service: "s3",
        api: "PutBucketLifecycleConfiguration:LifecycleConfiguration.Rules[].Transitions[].StorageClass",
    },
    {
        type: LIFECYCLE,
        input: "rules[].noncurrentVersionTransitions[].storageClass",
        service: "s3",
        api: "PutBucketLifecycleConfiguration:LifecycleConfiguration.Rules[].NoncurrentVersionTransitions[].StorageClass",
    },
    { type: REPLICATION, input: "rules[].status", service: "s3", api: "PutBucketReplication:ReplicationConfiguration.Rules[].Status" },
    {
        type: REPLICATION,
        input: "rules[].destination.storageClass",
        service: "s3",
        api: "PutBucketReplication:ReplicationConfiguration.Rules[].Destination.StorageClass",
    },
    {
        type: REPLICATION,
        input: "rules[].deleteMarkerReplication.status",
        service: "s3",
        api: "PutBucketReplication:ReplicationConfiguration.Rules[].DeleteMarkerReplication.Status",
    },

    // The elastic app layer (plone-aws:scaling): the names the group, its schedules and hook,
    // the launch template, the discovery services and the secret files' parameters get.
    { type: ASG, input: "name", service: "autoscaling", api: "CreateAutoScalingGroup:AutoScalingGroupName" },
    { type: ASG, input: "healthCheckType", service: "autoscaling", api: "CreateAutoScalingGroup:HealthCheckType" },
    { type: ASG, input: "tags[].key", service: "autoscaling", api: "CreateAutoScalingGroup:Tags[].Key" },
    { type: ASG, input: "tags[].value", service: "autoscaling", api: "CreateAutoScalingGroup:Tags[].Value" },
    { type: SCHEDULE, input: "scheduledActionName", service: "autoscaling", api: "PutScheduledUpdateGroupAction:ScheduledActionName" },
    { type: SCHEDULE, input: "recurrence", service: "autoscaling", api: "PutScheduledUpdateGroupAction:Recurrence" },
    { type: SCHEDULE, input: "timeZone", service: "autoscaling", api: "PutScheduledUpdateGroupAction:TimeZone" },
    { type: HOOK, input: "name", service: "autoscaling", api: "PutLifecycleHook:LifecycleHookName" },
    { type: SCALING_POLICY, input: "policyType", service: "autoscaling", api: "PutScalingPolicy:PolicyType" },
    { type: SCALING_POLICY, input: "adjustmentType", service: "autoscaling", api: "PutScalingPolicy:AdjustmentType" },
    { type: LAUNCH_TEMPLATE, input: "metadataOptions.httpTokens", service: "ec2", api: "CreateLaunchTemplate:LaunchTemplateData.MetadataOptions.HttpTokens" },
    { type: LAUNCH_TEMPLATE, input: "description", service: "ec2", api: "CreateLaunchTemplate:VersionDescription" },
    { type: DISCOVERY_SERVICE, input: "name", service: "servicediscovery", api: "CreateService:Name" },
    { type: DISCOVERY_SERVICE, input: "description", service: "servicediscovery", api: "CreateService:Description" },
    { type: DISCOVERY_SERVICE, input: "dnsConfig.routingPolicy", service: "servicediscovery", api: "CreateService:DnsConfig.RoutingPolicy" },
    { type: DISCOVERY_SERVICE, input: "dnsConfig.dnsRecords[].type", service: "servicediscovery", api: "CreateService:DnsConfig.DnsRecords[].Type" },
    { type: NAMESPACE, input: "name", service: "servicediscovery", api: "CreatePrivateDnsNamespace:Name" },
    { type: NAMESPACE, input: "description", service: "servicediscovery", api: "CreatePrivateDnsNamespace:Description" },
    { type: PARAMETER, input: "name", service: "ssm", api: "PutParameter:Name" },
    { type: PARAMETER, input: "type", service: "ssm", api: "PutParameter:Type" },
    { type: PARAMETER, input: "tier", service: "ssm", api: "PutParameter:Tier" },
    { type: PARAMETER, input: "description", service: "ssm", api: "PutParameter:Description" },
    { type: "aws:s3/bucketObjectv2:BucketObjectv2", input: "key", service: "s3", api: "PutObject:Key" },
    // A scaled group's baked image (EC2 Image Builder).
    { type: IMAGE_COMPONENT, input: "name", service: "imagebuilder", api: "CreateComponent:name" },
    { type: IMAGE_COMPONENT, input: "version", service: "imagebuilder", api: "CreateComponent:semanticVersion" },
    { type: IMAGE_COMPONENT, input: "description", service: "imagebuilder", api: "CreateComponent:description" },
    { type: IMAGE_COMPONENT, input: "platform", service: "imagebuilder", api: "CreateComponent:platform" },
    { type: IMAGE_COMPONENT, input: "data", service: "imagebuilder", api: "CreateComponent:data" },
    { type: IMAGE_RECIPE, input: "name", service: "imagebuilder", api: "CreateImageRecipe:name" },
    { type: IMAGE_RECIPE, input: "version", service: "imagebuilder", api: "CreateImageRecipe:semanticVersion" },
    { type: IMAGE_RECIPE, input: "description", service: "imagebuilder", api: "CreateImageRecipe:description" },
    { type: IMAGE_INFRASTRUCTURE, input: "name", service: "imagebuilder", api: "CreateInfrastructureConfiguration:name" },
    { type: IMAGE_INFRASTRUCTURE, input: "description", service: "imagebuilder", api: "CreateInfrastructureConfiguration:description" },
];

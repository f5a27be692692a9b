// The inputs whose change makes Pulumi replace a resource rather than update it, for every
// resource type the program registers. Mocks know nothing of this: the provider decides it in its
// Diff, from the schema's ForceNew (terraform-provider-aws) and the bridge's own settings
// (pulumi-aws provider/resources.go: DeleteBeforeReplace, autonaming). Read in the sources named on
// each entry (paths under internal/service in terraform-provider-aws unless said otherwise). Only
// inputs of the Pulumi resource are listed, by their Pulumi names; nested ones as a.b.

export interface ReplaceRule {
    /** Inputs (or nested paths) whose change replaces the resource. */
    inputs: string[];
    /** The provider deletes the old resource before it creates the new one. */
    deleteBeforeReplace?: boolean;
    source: string;
}

const S3_CHILD: ReplaceRule = { inputs: ["bucket", "expectedBucketOwner"], source: "s3/bucket_*.go (bucket, expected_bucket_owner: ForceNew)" };

export const REPLACE_ON_CHANGES: Record<string, ReplaceRule> = {
    "aws:cloudwatch/logGroup:LogGroup": { inputs: ["name", "namePrefix", "logGroupClass"], source: "logs/group.go" },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { inputs: ["name"], source: "cloudwatch/metric_alarm.go (alarm_name: ForceNew)" },
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": {
        inputs: ["policyDetails.schedules.copyTags"],
        source: "dlm/lifecycle_policy.go (schedule.copy_tags: ForceNew)",
    },
    "aws:ebs/volume:Volume": {
        inputs: ["availabilityZone", "encrypted", "kmsKeyId", "multiAttachEnabled", "outpostArn", "snapshotId"],
        source: "ec2/ebs_volume.go",
    },
    "aws:ec2/eip:Eip": {
        inputs: ["address", "customerOwnedIpv4Pool", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"],
        source: "ec2/ec2_eip.go",
    },
    "aws:ec2/eipAssociation:EipAssociation": {
        inputs: ["allocationId", "allowReassociation", "instanceId", "networkInterfaceId", "privateIpAddress", "publicIp"],
        source: "ec2/ec2_eip_association.go (every argument ForceNew)",
    },
    "aws:ec2/instance:Instance": {
        inputs: [
            "ami",
            "associatePublicIpAddress",
            "availabilityZone",
            "cpuCoreCount",
            "cpuThreadsPerCore",
            "cpuOptions",
            "ebsBlockDevices",
            "ebsOptimized",
            "enclaveOptions",
            "ephemeralBlockDevices",
            "hibernation",
            "hostId",
            "ipv6AddressCount",
            "ipv6Addresses",
            "keyName",
            "launchTemplate",
            "networkInterfaces",
            "placementGroup",
            "placementPartitionNumber",
            "privateDnsNameOptions",
            "privateIp",
            "rootBlockDevice.encrypted",
            "rootBlockDevice.kmsKeyId",
            "securityGroups",
            "subnetId",
            "tenancy",
        ],
        source: "ec2/ec2_instance.go (user_data only with user_data_replace_on_change)",
    },
    "aws:ec2/internetGateway:InternetGateway": { inputs: [], source: "ec2/vpc_internet_gateway.go (vpc_id: attach/detach in place)" },
    "aws:ec2/keyPair:KeyPair": { inputs: ["keyName", "keyNamePrefix", "publicKey"], source: "ec2/ec2_key_pair.go" },
    "aws:ec2/natGateway:NatGateway": { inputs: ["allocationId", "connectivityType", "privateIp", "subnetId"], source: "ec2/vpc_nat_gateway.go" },
    "aws:ec2/routeTable:RouteTable": { inputs: ["vpcId"], source: "ec2/vpc_route_table.go" },
    "aws:ec2/routeTableAssociation:RouteTableAssociation": { inputs: ["subnetId", "gatewayId"], source: "ec2/vpc_route_table_association.go" },
    "aws:ec2/securityGroup:SecurityGroup": {
        inputs: ["name", "namePrefix", "description", "vpcId"],
        source: 'ec2/vpc_security_group.go; also @pulumi/aws ec2/securityGroup.d.ts ("name, description, namePrefix, vpcId cannot be changed")',
    },
    "aws:ec2/subnet:Subnet": { inputs: ["availabilityZone", "availabilityZoneId", "cidrBlock", "outpostArn", "vpcId"], source: "ec2/vpc_subnet.go" },
    "aws:ec2/volumeAttachment:VolumeAttachment": { inputs: ["deviceName", "instanceId", "volumeId"], source: "ec2/ec2_volume_attachment.go" },
    "aws:ec2/vpc:Vpc": { inputs: ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"], source: "ec2/vpc_.go" },
    "aws:efs/backupPolicy:BackupPolicy": { inputs: ["fileSystemId"], source: "efs/backup_policy.go" },
    "aws:efs/fileSystem:FileSystem": {
        inputs: ["availabilityZoneName", "creationToken", "encrypted", "kmsKeyId", "performanceMode"],
        source: "efs/file_system.go",
    },
    "aws:efs/mountTarget:MountTarget": {
        inputs: ["fileSystemId", "ipAddress", "subnetId"],
        deleteBeforeReplace: true,
        source: "efs/mount_target.go; pulumi-aws provider/resources.go (aws_efs_mount_target: DeleteBeforeReplace, one mount target per AZ)",
    },
    // The elastic app layer (plone-aws:scaling).
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": {
        inputs: ["name", "vpc"],
        source: "servicediscovery/private_dns_namespace.go (description: UpdatePrivateDnsNamespace)",
    },
    "aws:servicediscovery/service:Service": {
        inputs: [
            "dnsConfig.dnsRecords.type",
            "dnsConfig.namespaceId",
            "dnsConfig.routingPolicy",
            "healthCheckConfig.type",
            "healthCheckCustomConfig",
            "name",
            "namespaceId",
            "type",
        ],
        source: "servicediscovery/service.go (description, the records' ttl and the rest of healthCheckConfig: UpdateService)",
    },
    "aws:s3/bucketObjectv2:BucketObjectv2": {
        inputs: ["bucket", "key"],
        source: "s3/object.go (aws_s3_object; a new content is uploaded in place: a new versionId, no replacement)",
    },
    "aws:ssm/parameter:Parameter": {
        inputs: ["dataType", "name"],
        source: "ssm/parameter.go (the rest PutParameter with Overwrite; CustomizeDiff replaces on tier Advanced -> Standard only)",
    },
    "aws:ec2/launchTemplate:LaunchTemplate": {
        inputs: ["name", "namePrefix"],
        source: "ec2/ec2_launch_template.go (any other change is a new version of the same template)",
    },
    "aws:autoscaling/group:Group": {
        inputs: ["initialLifecycleHook", "name", "namePrefix"],
        source: "autoscaling/group.go (the rest UpdateAutoScalingGroup)",
    },
    "aws:autoscaling/lifecycleHook:LifecycleHook": { inputs: ["name"], source: "autoscaling/lifecycle_hook.go (the rest PutLifecycleHook)" },
    "aws:autoscaling/notification:Notification": { inputs: ["topicArn"], source: "autoscaling/notification.go (groupNames, notifications: in place)" },
    "aws:autoscaling/policy:Policy": { inputs: ["autoscalingGroupName", "name"], source: "autoscaling/policy.go (the rest PutScalingPolicy)" },
    "aws:autoscaling/schedule:Schedule": {
        inputs: ["autoscalingGroupName", "scheduledActionName"],
        source: "autoscaling/schedule.go (the rest PutScheduledUpdateGroupAction)",
    },
    // EC2 Image Builder's components, recipes and images are immutable: only their tags update.
    "aws:imagebuilder/component:Component": {
        inputs: ["changeDescription", "data", "description", "kmsKeyId", "name", "platform", "supportedOsVersions", "uri", "version"],
        source: "imagebuilder/component.go (every argument but tags and skip_destroy: ForceNew)",
    },
    "aws:imagebuilder/imageRecipe:ImageRecipe": {
        inputs: [
            "blockDeviceMappings",
            "components",
            "description",
            "name",
            "parentImage",
            "systemsManagerAgent",
            "userDataBase64",
            "version",
            "workingDirectory",
        ],
        source: "imagebuilder/image_recipe.go (every argument but tags: ForceNew)",
    },
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": {
        inputs: ["name"],
        source: "imagebuilder/infrastructure_configuration.go (name: ForceNew; the rest UpdateInfrastructureConfiguration)",
    },
    "aws:imagebuilder/image:Image": {
        inputs: [
            "containerRecipeArn",
            "distributionConfigurationArn",
            "enhancedImageMetadataEnabled",
            "executionRole",
            "imageRecipeArn",
            "imageScanningConfiguration",
            "imageTestsConfiguration",
            "infrastructureConfigurationArn",
            "workflows",
        ],
        source: "imagebuilder/image.go (every argument but tags: ForceNew)",
    },
    "aws:iam/instanceProfile:InstanceProfile": { inputs: ["name", "namePrefix", "path"], source: "iam/instance_profile.go" },
    "aws:iam/role:Role": { inputs: ["name", "namePrefix", "path"], source: "iam/role.go" },
    "aws:iam/user:User": { inputs: [], source: "iam/user.go (name and path: UpdateUser in place)" },
    "aws:iam/userPolicy:UserPolicy": { inputs: ["name", "namePrefix", "user"], source: "iam/user_policy.go" },
    "aws:iam/rolePolicy:RolePolicy": { inputs: ["name", "namePrefix", "role"], source: "iam/role_policy.go" },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        inputs: ["policyArn", "role"],
        deleteBeforeReplace: true,
        source: "iam/role_policy_attachment.go; pulumi-aws provider/resources.go (aws_iam_role_policy_attachment: DeleteBeforeReplace)",
    },
    "aws:lb/listener:Listener": { inputs: ["loadBalancerArn"], source: "elbv2/listener.go" },
    "aws:lb/loadBalancer:LoadBalancer": {
        inputs: ["customerOwnedIpv4Pool", "internal", "loadBalancerType", "name", "namePrefix"],
        source: "elbv2/load_balancer.go",
    },
    "aws:lb/targetGroup:TargetGroup": {
        inputs: ["ipAddressType", "name", "namePrefix", "port", "protocol", "protocolVersion", "targetType", "vpcId"],
        source: "elbv2/target_group.go",
    },
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": {
        inputs: ["availabilityZone", "port", "targetGroupArn", "targetId"],
        source: "elbv2/target_group_attachment.go (every argument ForceNew)",
    },
    "aws:rds/instance:Instance": {
        inputs: [
            "availabilityZone",
            "characterSetName",
            "customIamInstanceProfile",
            "dbName",
            "engine",
            "identifier",
            "identifierPrefix",
            "kmsKeyId",
            "ncharCharacterSetName",
            "restoreToPointInTime",
            "s3Import",
            "snapshotIdentifier",
            "storageEncrypted",
            "timezone",
            "username",
        ],
        source: "rds/instance.go (engine_version, instance_class, parameter_group_name, db_subnet_group_name: in place)",
    },
    "aws:rds/parameterGroup:ParameterGroup": { inputs: ["description", "family", "name", "namePrefix"], source: "rds/parameter_group.go" },
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": {
        inputs: ["kmsKeyId", "preSignedUrl", "retentionPeriod", "sourceDbInstanceArn"],
        source: "rds/instance_automated_backups_replication.go (every argument ForceNew)",
    },
    "aws:rds/subnetGroup:SubnetGroup": { inputs: ["name", "namePrefix"], source: "rds/subnet_group.go" },
    "aws:s3/bucket:Bucket": { inputs: ["bucket", "bucketPrefix", "objectLockEnabled"], source: "s3/bucket.go" },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": S3_CHILD,
    "aws:s3/bucketLogging:BucketLogging": S3_CHILD,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": { inputs: ["bucket"], source: "s3/bucket_ownership_controls.go" },
    "aws:s3/bucketPolicy:BucketPolicy": { inputs: ["bucket"], source: "s3/bucket_policy.go" },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": { inputs: ["bucket"], source: "s3/bucket_public_access_block.go" },
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": { inputs: ["bucket"], source: "s3/bucket_replication_configuration.go" },
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": S3_CHILD,
    "aws:s3/bucketVersioning:BucketVersioning": { inputs: ["bucket", "expectedBucketOwner", "mfa"], source: "s3/bucket_versioning.go" },
    "aws:wafv2/ipSet:IpSet": { inputs: ["ipAddressVersion", "name", "namePrefix", "scope"], source: "wafv2/ip_set.go" },
    "aws:wafv2/regexPatternSet:RegexPatternSet": { inputs: ["name", "namePrefix", "scope"], source: "wafv2/regex_pattern_set.go" },
    "aws:wafv2/webAcl:WebAcl": { inputs: ["name", "namePrefix", "scope"], source: "wafv2/web_acl.go" },
    "aws:wafv2/webAclAssociation:WebAclAssociation": { inputs: ["resourceArn", "webAclArn"], source: "wafv2/web_acl_association.go" },
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": { inputs: ["resourceArn"], source: "wafv2/web_acl_logging_configuration.go" },
    "aws:sesv2/configurationSet:ConfigurationSet": { inputs: ["configurationSetName"], source: "sesv2/configuration_set.go" },
    "aws:sesv2/emailIdentity:EmailIdentity": { inputs: ["emailIdentity"], source: "sesv2/email_identity.go" },
    "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes": {
        inputs: ["emailIdentity"],
        source: "sesv2/email_identity_mail_from_attributes.go",
    },
    "aws:sns/topic:Topic": { inputs: ["fifoTopic", "name", "namePrefix"], source: "sns/topic.go" },
    "aws:sns/topicSubscription:TopicSubscription": { inputs: ["endpoint", "protocol", "topic"], source: "sns/topic_subscription.go" },
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
        inputs: ["securityGroupId"],
        source: "vpc/security_group_egress_rule.go (security_group_id: RequiresReplace)",
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
        inputs: ["securityGroupId"],
        source: "vpc/security_group_ingress_rule.go (security_group_id: RequiresReplace)",
    },
    // The SDK registers it with replaceOnChanges: ["triggers[*]"] (node_modules/@pulumi/command/remote/command.js);
    // any other change is an update, which runs the command again (its update command is unset).
    "command:remote:Command": { inputs: ["triggers"], source: "pulumi-command schema (triggers: replaceOnChanges)" },
    // A provider whose region changes is replaced, and every resource it manages with it.
    "pulumi:providers:aws": { inputs: ["region"], source: "pulumi-aws provider/resources.go (config region: ForcesProviderReplace)" },
};

/** The resources whose replacement or deletion loses data unless a documented step comes first. */
export const STATEFUL_TYPES = ["aws:ebs/volume:Volume", "aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:efs/fileSystem:FileSystem"] as const;

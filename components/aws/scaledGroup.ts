// The elastic app layer (plone-aws:scaling): a stack's scaled groups of app hosts. ScaledGroups
// holds what the groups share (the bucket their bundles live in, the Cloud Map namespace the front
// ends resolve them in); ScaledGroup is one Auto Scaling group with its launch template, bundle,
// secret files, discovery services, schedules, scaling policies and termination hook. What runs on
// an instance is rendered in components/render/scaling.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { BlobMode } from "../config/schema";
import type { StackSpec } from "../config/spec";
import { PORTS, type HostPlan, type ScaledGroupPlan, type SecurityGroupRole, type Topology } from "../topology";
import type { SubnetTier } from "../topology/addressing";
import type { Architecture } from "../topology/instanceTypes";
import type { OffsiteTarget } from "../topology/offsite";
import { LOAD_METRIC, MEMORY_METRIC } from "../topology/scaling";
import { maskedSecrets, type RenderContext, type RenderSecrets } from "../render/context";
import { renderScaledBundle, scaledSecretParameters } from "../render/scaling/bundle";
import { buildCacheKey, frontendCacheKey, groupRunsVolto, renderBootScript, type SecretFileParameters } from "../render/scaling/instance";
import { imageVersion, renderImageBuildUserData, renderImageComponent, renderImageScript } from "../render/scaling/image";
import { GroupImage, ROOT_DEVICE } from "./groupImage";
import type { Host } from "./host";
import type { HostRole } from "./hostRole";
import { databaseEndpointOf, renderSecretsOf } from "./provisionHosts";
import type { StackSecrets } from "./stackSecrets";
import { closeBucket, tlsOnlyStatement } from "./privateBucket";
import { BLOBS_TAG, LAYER_TAG, resourceTags, STACK_TAG } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

export interface ScaledGroupsArgs {
    /** Stack name, for the plone-aws:stack tag and the SSM parameter names. */
    stackName: string;
    /** The VPC the private DNS namespace answers in. */
    vpcId: pulumi.Input<string>;
    /** The namespace's name (topology.discovery.namespace). */
    namespace: string;
    /** Production: the bundle bucket is kept when the stack is destroyed by mistake. */
    protect: boolean;
}

/**
 * What every scaled group of a stack shares: a private, versioned, encrypted bucket for the
 * bundles and the build cache, and the private DNS namespace (AWS Cloud Map) of their services.
 */
export class ScaledGroups extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    public readonly namespace: aws.servicediscovery.PrivateDnsNamespace;

    constructor(name: string, args: ScaledGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.scaledGroups, name, args, opts);
        const parent = { parent: this };
        this.bucket = new aws.s3.Bucket(`${name}-bundles`, { forceDestroy: !args.protect, tags: resourceTags(args.stackName, `${name}-bundles`) }, parent);
        closeBucket(`${name}-bundles`, this.bucket, parent);
        // Versioned: a launch template names the exact version of its bundle, so an instance that
        // boots during a `pulumi up` runs the bundle its template was made with.
        new aws.s3.BucketVersioning(`${name}-bundles-versioning`, { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-bundles-lifecycle`,
            {
                bucket: this.bucket.id,
                rules: [{ id: "old-bundles", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: 30, newerNoncurrentVersions: 5 } }],
            },
            parent,
        );
        new aws.s3.BucketPolicy(
            `${name}-bundles-policy`,
            { bucket: this.bucket.id, policy: this.bucket.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [tlsOnlyStatement(arn)] })) },
            parent,
        );
        this.namespace = new aws.servicediscovery.PrivateDnsNamespace(
            `${name}-discovery`,
            {
                name: args.namespace,
                vpc: args.vpcId,
                description: `plone-aws ${args.stackName}: the scaled app hosts' Zope clients (SRV records haproxy reads)`,
                tags: resourceTags(args.stackName, `${name}-discovery`),
            },
            parent,
        );
        this.registerOutputs({ bucket: this.bucket.bucket, namespaceId: this.namespace.id });
    }
}

export interface ScaledGroupArgs {
    stackName: string;
    /** The group as the topology planned it: sizes, schedules, rules, discovery services. */
    plan: ScaledGroupPlan;
    /** The host every instance is (layers, clients, root volume, security groups). */
    host: HostPlan;
    /** The subnets of plan.subnet, one per AZ. */
    subnetIds: pulumi.Input<string>[];
    /** The host's security groups, in the order of host.securityGroups. */
    securityGroupIds: pulumi.Input<string>[];
    /** The Debian 12 AMI for the host's architecture (what the group's baked image is built on). */
    amiId: pulumi.Input<string>;
    /** The group's baked image (plan.bakedImage): the Image Builder component document that installs its packages. */
    imageComponent?: string;
    keyName: pulumi.Input<string>;
    instanceProfileArn: pulumi.Input<string>;
    /** The host role: the group adds what its instances do (bundle, secret files, Cloud Map, the lifecycle action). */
    hostRoleName: pulumi.Input<string>;
    region: string;
    blobMode: BlobMode;
    /** The shared bucket and namespace (ScaledGroups). */
    bucket: aws.s3.Bucket;
    namespaceId: pulumi.Input<string>;
    /** The bundle (render/scaling/bundle.ts): the host's steps with the secrets masked, and its hash. */
    bundle: pulumi.Input<{ content: string; sha256: string }>;
    /** The host's secret files as SSM parameters (names known before any value: the secret names are in the spec). */
    secretFiles: pulumi.Output<SecretFileParameters[]>;
    /** Every name secretFiles will have: parameters are resources, so their names must be known when the program runs. */
    secretParameterNames: string[];
    /** Plone's health check path (plone.healthCheckPath). */
    healthPath: string;
    /** Volto's health check path (volto.healthPath), for a group with the volto layer. */
    voltoHealthPath: string;
    /** The S3 key of the build cache the fixed app hosts publish. */
    buildCacheKey: string;
    /** The S3 key of the frontend's build cache the first fixed volto host publishes. */
    frontendCacheKey: string;
    /** The SNS topic of the stack's alarms (the step rules' alarms notify it too). */
    alarmTopicArn?: pulumi.Input<string>;
    /** The group's name in AWS (<stack prefix>-<group>): the boot script, the drain and the alarms name it. */
    groupName: string;
}

/**
 * An Auto Scaling group of app hosts. Its instances boot from a launch template (IMDSv2 only,
 * encrypted root volume, the host role) whose user data fetches the bundle and the secret files,
 * runs the same setup/configure/build/activate as a fixed host, and registers the clients in Cloud
 * Map. Scale-in and replacements run the termination hook: the instance drains, deregisters and
 * completes it. A new bundle makes a new launch template version, which an instance refresh rolls
 * out (new instances first, at least 100% healthy throughout, each old one drained).
 */
export class ScaledGroup extends pulumi.ComponentResource {
    public readonly group: aws.autoscaling.Group;
    public readonly launchTemplate: aws.ec2.LaunchTemplate;
    public readonly bundle: aws.s3.BucketObjectv2;
    public readonly services: aws.servicediscovery.Service[];
    public readonly lifecycleHook: aws.autoscaling.LifecycleHook;

    constructor(name: string, args: ScaledGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.scaledGroup, name, { stackName: args.stackName, plan: args.plan, host: args.host }, opts);
        const { plan, host } = args;
        const parent = { parent: this };
        const tags = resourceTags(args.stackName, name, host.layers);
        const bundleKey = `groups/${plan.name}/bundle.sh`;
        const imageId = args.imageComponent
            ? new GroupImage(
                  `${name}-image`,
                  {
                      imageName: args.groupName,
                      componentDocument: args.imageComponent,
                      version: imageVersion(`${args.imageComponent}\0${host.rootVolumeSize}`),
                      parentImage: args.amiId,
                      buildUserData: renderImageBuildUserData(args.region),
                      rootVolumeSize: host.rootVolumeSize,
                      instanceType: plan.instanceTypes[0],
                      subnetId: args.subnetIds[0],
                      securityGroupIds: args.securityGroupIds,
                      tags,
                  },
                  parent,
              ).amiId
            : args.amiId;
        const hookName = `${plan.name}-drain`;

        this.bundle = new aws.s3.BucketObjectv2(
            `${name}-bundle`,
            {
                bucket: args.bucket.id,
                key: bundleKey,
                content: pulumi.output(args.bundle).apply((b) => b.content),
                contentType: "text/x-shellscript",
                serverSideEncryption: "aws:kms",
                tags,
            },
            parent,
        );

        // The secret files: SecureString parameters, never in user data or the bundle.
        const values = args.secretFiles.apply((files) => {
            for (const f of files) {
                const extra = f.parameters.find((p) => !args.secretParameterNames.includes(p.name));
                if (extra) {
                    throw new Error(
                        `${plan.name}: the secret file ${f.path} is larger than one SSM parameter holds (8 KB of base64): shorten what it carries (app.rawBuildoutConfig, plone-aws:appSecrets)`,
                    );
                }
            }
            return new Map(files.flatMap((f) => f.parameters.map((p) => [p.name, p.value] as const)));
        });
        const parameters = args.secretParameterNames.map(
            (parameterName) =>
                new aws.ssm.Parameter(
                    `${name}-secret-${parameterName.split("/").slice(-2).join("-")}`,
                    {
                        name: parameterName,
                        type: "SecureString",
                        // Standard up to 4 KB, advanced up to 8 KB: SSM picks by size.
                        tier: "Intelligent-Tiering",
                        value: pulumi.secret(
                            values.apply((v) => {
                                const value = v.get(parameterName);
                                if (value === undefined) throw new Error(`${parameterName}: no secret file renders to this parameter`);
                                return value;
                            }),
                        ),
                        description: `plone-aws ${args.stackName}: a secret file of the scaled group ${plan.name} (base64)`,
                        tags,
                    },
                    parent,
                ),
        );

        this.services = plan.discovery.map(
            (d) =>
                new aws.servicediscovery.Service(
                    `${name}-${d.process}`,
                    {
                        name: d.serviceName,
                        description: `${d.process} of every instance of ${plan.name} (port ${d.port})`,
                        dnsConfig: { namespaceId: args.namespaceId, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "SRV", ttl: 10 }] },
                        // Deleting the service also removes registrations the drain did not (a stack destroyed).
                        forceDestroy: true,
                        tags,
                    },
                    parent,
                ),
        );

        const groupArn = pulumi.interpolate`arn:aws:autoscaling:${args.region}:*:autoScalingGroup:*:autoScalingGroupName/${args.groupName}`;
        new aws.iam.RolePolicy(
            `${name}-instances`,
            {
                role: args.hostRoleName,
                policy: pulumi
                    .all([args.bucket.arn, groupArn, ...this.services.map((s) => s.arn), ...parameters.map((p) => p.arn)])
                    .apply(([bucketArn, asgArn, ...arns]) => {
                        const serviceArns = arns.slice(0, this.services.length);
                        const parameterArns = arns.slice(this.services.length);
                        return JSON.stringify({
                            Version: "2012-10-17",
                            Statement: [
                                {
                                    Sid: "Bundle",
                                    Effect: "Allow",
                                    Action: ["s3:GetObject", "s3:GetObjectVersion"],
                                    Resource: `${bucketArn}/groups/${plan.name}/*`,
                                },
                                // The fixed app hosts publish the build caches (the backend's, the frontend's); every host reads them.
                                {
                                    Sid: "BuildCache",
                                    Effect: "Allow",
                                    Action: ["s3:GetObject", "s3:PutObject"],
                                    Resource: [`${bucketArn}/${args.buildCacheKey}`, `${bucketArn}/${args.frontendCacheKey}`],
                                },
                                ...(parameterArns.length
                                    ? [{ Sid: "SecretFiles", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: parameterArns }]
                                    : []),
                                {
                                    Sid: "Discovery",
                                    Effect: "Allow",
                                    Action: ["servicediscovery:RegisterInstance", "servicediscovery:DeregisterInstance", "servicediscovery:ListInstances"],
                                    Resource: serviceArns,
                                },
                                // RegisterInstance writes the namespace's records as the caller.
                                {
                                    Sid: "DiscoveryRecords",
                                    Effect: "Allow",
                                    Action: [
                                        "route53:ChangeResourceRecordSets",
                                        "route53:GetHostedZone",
                                        "route53:GetHealthCheck",
                                        "route53:CreateHealthCheck",
                                        "route53:UpdateHealthCheck",
                                        "route53:DeleteHealthCheck",
                                        "ec2:DescribeInstances",
                                    ],
                                    Resource: "*",
                                },
                                {
                                    Sid: "Lifecycle",
                                    Effect: "Allow",
                                    Action: [
                                        "autoscaling:CompleteLifecycleAction",
                                        "autoscaling:RecordLifecycleActionHeartbeat",
                                        "autoscaling:SetInstanceHealth",
                                    ],
                                    Resource: asgArn,
                                },
                                { Sid: "Describe", Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingGroups"], Resource: "*" },
                                {
                                    Sid: "LoadMetric",
                                    Effect: "Allow",
                                    Action: ["cloudwatch:PutMetricData"],
                                    Resource: "*",
                                    Condition: { StringEquals: { "cloudwatch:namespace": LOAD_METRIC.namespace } },
                                },
                            ],
                        });
                    }),
            },
            parent,
        );

        const bundleSha256 = pulumi.output(args.bundle).apply((b) => b.sha256);
        const userData = pulumi
            .all([args.bucket.bucket, this.bundle.versionId, bundleSha256, ...this.services.map((s) => s.id)])
            .apply(([bucket, version, sha256, ...ids]) =>
                Buffer.from(
                    renderBootScript({
                        stackName: args.stackName,
                        group: args.groupName,
                        region: args.region,
                        bucket,
                        bundleKey,
                        bundleVersion: version,
                        bundleSha256: sha256,
                        buildCacheKey: args.buildCacheKey,
                        frontendCacheKey: groupRunsVolto({ host }) ? args.frontendCacheKey : "",
                        lifecycleHook: hookName,
                        services: plan.discovery.map((d, i) => ({ id: ids[i], kind: d.kind, process: d.process, port: d.port })),
                        healthPath: args.healthPath,
                        voltoHealthPath: args.voltoHealthPath,
                        bootTimeout: plan.healthCheckGracePeriod,
                    }),
                    "utf8",
                ).toString("base64"),
            );

        this.launchTemplate = new aws.ec2.LaunchTemplate(
            `${name}-template`,
            {
                description: `plone-aws ${args.stackName}: an instance of ${plan.name} (${host.layers.join(", ")})`,
                imageId,
                keyName: args.keyName,
                iamInstanceProfile: { arn: args.instanceProfileArn },
                metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
                blockDeviceMappings: [
                    { deviceName: ROOT_DEVICE, ebs: { volumeType: "gp3", volumeSize: host.rootVolumeSize, encrypted: "true", deleteOnTermination: "true" } },
                ],
                networkInterfaces: [
                    { deviceIndex: 0, associatePublicIpAddress: String(host.publicIp), securityGroups: args.securityGroupIds, deleteOnTermination: "true" },
                ],
                monitoring: { enabled: true },
                userData,
                updateDefaultVersion: true,
                tagSpecifications: [
                    { resourceType: "instance", tags },
                    { resourceType: "volume", tags: resourceTags(args.stackName, `${name}-root`, host.layers) },
                ],
                tags,
            },
            parent,
        );

        this.group = new aws.autoscaling.Group(
            `${name}-group`,
            {
                name: args.groupName,
                minSize: plan.min,
                maxSize: plan.max,
                desiredCapacity: plan.desired,
                vpcZoneIdentifiers: args.subnetIds,
                mixedInstancesPolicy: {
                    launchTemplate: {
                        launchTemplateSpecification: { launchTemplateId: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
                        overrides: plan.instanceTypes.map((instanceType) => ({ instanceType })),
                    },
                    // On-demand, the first type preferred: the others only when EC2 has none of it.
                    instancesDistribution: { onDemandAllocationStrategy: "prioritized", onDemandPercentageAboveBaseCapacity: 100 },
                },
                // EC2 status checks here; the instance's watch reports a host whose clients stopped
                // answering (SetInstanceHealth), and the group replaces it.
                healthCheckType: "EC2",
                healthCheckGracePeriod: plan.healthCheckGracePeriod,
                defaultInstanceWarmup: plan.cooldowns.warmup,
                capacityRebalance: false,
                enabledMetrics: [
                    "GroupMinSize",
                    "GroupMaxSize",
                    "GroupDesiredCapacity",
                    "GroupInServiceInstances",
                    "GroupPendingInstances",
                    "GroupTerminatingInstances",
                ],
                metricsGranularity: "1Minute",
                // A new launch template version (a new bundle) rolls through: new instances first,
                // the old ones drained by the termination hook.
                instanceRefresh: {
                    strategy: "Rolling",
                    preferences: {
                        minHealthyPercentage: 100,
                        maxHealthyPercentage: 200,
                        instanceWarmup: String(plan.healthCheckGracePeriod),
                        skipMatching: true,
                    },
                },
                tags: [
                    ...Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
                    { key: BLOBS_TAG, value: args.blobMode, propagateAtLaunch: false },
                ],
            },
            // Schedules and policies change the desired size between runs: `pulumi up` keeps theirs.
            { parent: this, ignoreChanges: ["desiredCapacity"] },
        );

        this.lifecycleHook = new aws.autoscaling.LifecycleHook(
            `${name}-drain`,
            {
                name: hookName,
                autoscalingGroupName: this.group.name,
                lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
                // The drain's time, the Cloud Map TTL and haproxy's hold, and a margin; it sends heartbeats too.
                heartbeatTimeout: plan.drainTimeout + 120,
                // An instance that cannot drain (it is gone) is terminated anyway.
                defaultResult: "CONTINUE",
            },
            parent,
        );

        for (const s of plan.schedules) {
            new aws.autoscaling.Schedule(
                `${name}-${s.name}`,
                {
                    scheduledActionName: `${plan.name}-${s.name}`,
                    autoscalingGroupName: this.group.name,
                    recurrence: s.recurrence,
                    timeZone: s.timeZone,
                    // -1: this size stays as it is at that time.
                    minSize: s.min ?? -1,
                    maxSize: s.max ?? -1,
                    desiredCapacity: s.desired ?? -1,
                },
                parent,
            );
        }

        if (plan.targetCpu) {
            new aws.autoscaling.Policy(
                `${name}-cpu`,
                {
                    autoscalingGroupName: this.group.name,
                    policyType: "TargetTrackingScaling",
                    estimatedInstanceWarmup: plan.cooldowns.warmup,
                    targetTrackingConfiguration: {
                        predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
                        targetValue: plan.targetCpu.averageCpu,
                        disableScaleIn: plan.targetCpu.disableScaleIn,
                    },
                },
                parent,
            );
        }

        // Step rules: a simple-scaling policy each way (OpsWorks added or removed InstanceCount, then
        // ignored the metrics for a while: the cooldown), each started by its CloudWatch alarm.
        for (const step of plan.steps) {
            const metric = step.metric === "memory" ? MEMORY_METRIC : LOAD_METRIC;
            for (const direction of ["out", "in"] as const) {
                const policy = new aws.autoscaling.Policy(
                    `${name}-${step.metric}-${direction}`,
                    {
                        autoscalingGroupName: this.group.name,
                        policyType: "SimpleScaling",
                        adjustmentType: "ChangeInCapacity",
                        scalingAdjustment: direction === "out" ? step.adjustment : -step.adjustment,
                        cooldown: direction === "out" ? plan.cooldowns.scaleOut : plan.cooldowns.scaleIn,
                    },
                    parent,
                );
                new aws.cloudwatch.MetricAlarm(
                    `${name}-${step.metric}-${direction}`,
                    {
                        alarmDescription:
                            direction === "out"
                                ? `${plan.name}: the instances' average ${step.metric} is above ${step.scaleOutAbove} for ${step.evaluationMinutes} minutes: add ${step.adjustment}`
                                : `${plan.name}: the instances' average ${step.metric} is below ${step.scaleInBelow} for ${step.evaluationMinutes} minutes: remove ${step.adjustment}`,
                        namespace: metric.namespace,
                        metricName: metric.name,
                        dimensions: { AutoScalingGroupName: this.group.name },
                        statistic: "Average",
                        period: 60,
                        evaluationPeriods: step.evaluationMinutes,
                        threshold: direction === "out" ? step.scaleOutAbove : step.scaleInBelow,
                        comparisonOperator: direction === "out" ? "GreaterThanThreshold" : "LessThanThreshold",
                        // No data (no instance running): neither grow nor shrink.
                        treatMissingData: "notBreaching",
                        alarmActions: [policy.arn],
                        tags,
                    },
                    parent,
                );
            }
        }

        // Healing, visibly: a replacement or a failed launch mails the operators.
        if (args.alarmTopicArn) {
            new aws.autoscaling.Notification(
                `${name}-notifications`,
                {
                    groupNames: [this.group.name],
                    notifications: ["autoscaling:EC2_INSTANCE_LAUNCH_ERROR", "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"],
                    topicArn: args.alarmTopicArn,
                },
                parent,
            );
        }

        this.registerOutputs({
            groupName: this.group.name,
            launchTemplateId: this.launchTemplate.id,
            bundleVersion: this.bundle.versionId,
            services: this.services.map((s) => s.id),
            [STACK_TAG]: args.stackName,
            [LAYER_TAG]: host.layers.join(" "),
        });
    }
}

export interface ScaleGroupsArgs {
    /** The bucket and namespace the groups share (created before the fixed hosts' provisioning, which publishes the build cache). */
    shared: ScaledGroups;
    spec: StackSpec;
    topology: Topology;
    /** The fixed hosts: a scaled host's files name the servers it uses by their private addresses. */
    hosts: Record<string, Host>;
    secrets: StackSecrets;
    subnets: (tier: SubnetTier, az: number) => aws.ec2.Subnet;
    securityGroupIds: (roles: SecurityGroupRole[]) => pulumi.Output<string>[];
    amiFor: (architecture: Architecture) => pulumi.Output<string>;
    keyName: pulumi.Input<string>;
    role: HostRole;
    database?: pulumi.Output<{ address: string; port: number }>;
    efsDnsName?: pulumi.Output<string>;
    offsite?: pulumi.Output<OffsiteTarget | undefined>;
    alarmTopicArn?: pulumi.Input<string>;
}

/** The scaled groups of a stack, in the bucket and namespace they share. */
export function scaleGroups(parent: pulumi.ComponentResource, name: string, args: ScaleGroupsArgs): Record<string, ScaledGroup> {
    const { spec, topology, shared } = args;
    const masked = maskedSecrets(spec);
    const addresses = pulumi.all(Object.fromEntries(topology.hosts.map((h) => [h.name, args.hosts[h.name].instance.privateIp])));
    const database = databaseEndpointOf(topology, args.database);
    const context = (secrets: pulumi.Output<RenderSecrets>): pulumi.Output<RenderContext> =>
        pulumi
            .all([addresses, database, args.efsDnsName ?? pulumi.output(undefined), args.offsite ?? pulumi.output(undefined), secrets])
            .apply(([a, db, efsDnsName, offsite, s]) => ({ spec, topology, addresses: a, database: db, efsDnsName, offsite, secrets: s }) as RenderContext);
    const maskedContext = context(pulumi.output(masked));
    const realContext = context(renderSecretsOf(spec, args.secrets));
    // The parameter names only depend on the paths of the secret files: rendered once with stand-in addresses.
    const names: RenderContext = {
        spec,
        topology,
        addresses: Object.fromEntries(topology.hosts.map((h) => [h.name, "192.0.2.1"])),
        database: topology.endpoints.database ? { address: "db.invalid", port: PORTS.postgres } : undefined,
        efsDnsName: topology.efs ? "fs.invalid" : undefined,
        offsite: args.offsite ? { bucket: "bucket.invalid", sourceBuckets: {} } : undefined,
        secrets: masked,
    };

    const groups: Record<string, ScaledGroup> = {};
    for (const group of topology.scaledGroups) {
        const { plan, host } = group;
        groups[plan.name] = new ScaledGroup(
            `${name}-${plan.name}`,
            {
                stackName: spec.stackName,
                plan,
                host,
                subnetIds: plan.subnets.map((s) => args.subnets(plan.subnet, s.az).id),
                securityGroupIds: args.securityGroupIds(host.securityGroups),
                amiId: args.amiFor(host.architecture),
                imageComponent: plan.bakedImage ? renderImageComponent(renderImageScript(names, host, plan.name), plan.name) : undefined,
                keyName: args.keyName,
                instanceProfileArn: args.role.instanceProfile.arn,
                hostRoleName: args.role.role.name,
                region: spec.region,
                blobMode: spec.plone.blobs,
                bucket: shared.bucket,
                namespaceId: shared.namespace.id,
                bundle: maskedContext.apply((ctx) => renderScaledBundle(ctx, group)),
                secretFiles: realContext.apply((ctx) => scaledSecretParameters(ctx, group)),
                secretParameterNames: scaledSecretParameters(names, group).flatMap((f) => f.parameters.map((p) => p.name)),
                healthPath: spec.plone.healthCheckPath,
                voltoHealthPath: spec.volto.healthPath,
                buildCacheKey: buildCacheKey(spec),
                frontendCacheKey: frontendCacheKey(spec),
                alarmTopicArn: args.alarmTopicArn,
                groupName: `${spec.resourcePrefix}-${plan.name}`,
            },
            { parent },
        );
    }
    return groups;
}

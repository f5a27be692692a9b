import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../topology";
import type { BlobMode } from "../config/schema";
import { BLOBS_TAG, resourceTags, SNAPSHOT_TAG, Tags } from "./tags";

export interface HostArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** The host as the topology planned it: type, layers, volumes, subnet tier. */
    plan: HostPlan;
    /** The subnet to launch into (public or private, in the host's AZ). */
    subnetId: pulumi.Input<string>;
    /** The host's security groups, in the order of plan.securityGroups. */
    securityGroupIds: pulumi.Input<string>[];
    /** The Debian 12 AMI for the host's architecture. */
    amiId: pulumi.Input<string>;
    /** Key pair holding access.publicKey. */
    keyName: pulumi.Input<string>;
    /** Instance profile of the host role. */
    instanceProfileName: pulumi.Input<string>;
    /** Value of the plone-aws:snapshot tag on the data volumes (Data Lifecycle Manager targets it). */
    snapshotTagValue: string;
    /** Production: data volumes are protected, retained on delete and snapshotted before deletion. */
    protectData: boolean;
    /** Region, for the EC2 recover action of the auto-recovery alarm. */
    region: string;
    /** How the stack serves blobs; a shared_blobs host carries it as its plone-aws:blobs tag. */
    blobMode?: BlobMode;
}

/** One data volume of a host and its attachment. */
export interface HostVolume {
    kind: string;
    mountPoint: string;
    deviceName: string;
    volume: aws.ebs.Volume;
}

/**
 * An EC2 host: Debian 12, IMDSv2 only, encrypted gp3 root, one encrypted EBS data volume per mount
 * point of its layers (attached, never deleted with the instance), and an auto-recovery alarm
 * when it carries a single-instance layer.
 */
export class Host extends pulumi.ComponentResource {
    public readonly instance: aws.ec2.Instance;
    public readonly volumes: HostVolume[];
    public readonly attachments: aws.ec2.VolumeAttachment[];

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plone-aws:host:Host", name, args, opts);
        const { plan } = args;
        const tags: Tags = resourceTags(args.stackName, name, plan.layers);
        if (args.blobMode && plan.layers.includes("shared_blobs")) tags[BLOBS_TAG] = args.blobMode;

        this.instance = new aws.ec2.Instance(`${name}-instance`, {
            ami: args.amiId,
            instanceType: plan.instanceType,
            subnetId: args.subnetId,
            vpcSecurityGroupIds: args.securityGroupIds,
            associatePublicIpAddress: plan.publicIp,
            keyName: args.keyName,
            iamInstanceProfile: args.instanceProfileName,
            // t2 does not support the flag; every current family is EBS-optimized by default anyway.
            ebsOptimized: plan.instanceType.startsWith("t2.") ? undefined : true,
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
            rootBlockDevice: {
                volumeType: "gp3",
                volumeSize: plan.rootVolumeSize,
                encrypted: true,
                deleteOnTermination: true,
                tags: resourceTags(args.stackName, `${name}-root`, plan.layers),
            },
            maintenanceOptions: { autoRecovery: "default" },
            disableApiTermination: args.protectData,
            tags,
        }, {
            parent: this,
            // A newer Debian AMI must not replace a running host; new hosts get the newest one.
            ignoreChanges: ["ami"],
        });

        this.volumes = plan.volumes.map((v) => ({
            kind: v.kind,
            mountPoint: v.mountPoint,
            deviceName: v.deviceName,
            volume: new aws.ebs.Volume(`${name}-${v.kind}`, {
                availabilityZone: this.instance.availabilityZone,
                size: v.sizeGiB,
                type: "gp3",
                encrypted: true,
                finalSnapshot: args.protectData,
                tags: { ...resourceTags(args.stackName, `${name}-${v.kind}`, v.layer), [SNAPSHOT_TAG]: args.snapshotTagValue },
            }, { parent: this, protect: args.protectData, retainOnDelete: args.protectData }),
        }));
        this.attachments = this.volumes.map((v) => new aws.ec2.VolumeAttachment(`${name}-${v.kind}`, {
            deviceName: v.deviceName,
            volumeId: v.volume.id,
            instanceId: this.instance.id,
            // Stop the host before detaching so the file system is unmounted cleanly.
            stopInstanceBeforeDetaching: true,
        }, { parent: this }));

        if (plan.autoRecovery) {
            new aws.cloudwatch.MetricAlarm(`${name}-recovery`, {
                alarmDescription: `Recover ${name} (it carries ${plan.layers.join(", ")}, which run on one host only) when its hardware fails`,
                namespace: "AWS/EC2",
                metricName: "StatusCheckFailed_System",
                dimensions: { InstanceId: this.instance.id },
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: 2,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                alarmActions: [`arn:aws:automate:${args.region}:ec2:recover`],
                tags,
            }, { parent: this });
        }

        this.registerOutputs({
            instanceId: this.instance.id,
            privateIp: this.instance.privateIp,
            volumeIds: this.volumes.map((v) => v.volume.id),
        });
    }
}

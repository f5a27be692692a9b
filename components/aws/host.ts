import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../topology";
import type { BlobMode, VolumesConfig } from "../config/schema";
import { BLOBS_TAG, resourceTags, SNAPSHOT_TAG, Tags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";
import { isSingleInstance } from "../layers";

export interface HostArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** The host as the topology planned it: type, layers, volumes, subnet tier. */
    plan: HostPlan;
    /** The subnet to launch into (public or private, in the host's AZ). */
    subnetId: pulumi.Input<string>;
    /** The zone of that subnet, for the data volumes (never the instance's own output: see Network.zoneName). */
    availabilityZone: pulumi.Input<string>;
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
    /** Production: data volumes are protected and retained on delete (every tier snapshots a volume before deleting it). */
    protectData: boolean;
    /** EBS type, provisioned IOPS and throughput of the data volumes (plone-aws:volumes). */
    dataVolumes: Pick<VolumesConfig, "type" | "iops" | "throughput">;
    /** EBS snapshots to create data volumes from, by kind (hosts[].volumeSnapshots). */
    volumeSnapshots?: Partial<Record<string, string>>;
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
 *
 * What a second `pulumi up` may change without losing data: the instance can be replaced (its
 * volumes stay: their zone is the subnet's, and the attachments are detached before new ones are
 * made); the key pair can be rotated (the launch key is ignored, the provisioning manages
 * authorized_keys); a renamed host keeps everything through aliases (hosts[].previousNames).
 */
export class Host extends pulumi.ComponentResource {
    public readonly instance: aws.ec2.Instance;
    public readonly volumes: HostVolume[];
    public readonly attachments: aws.ec2.VolumeAttachment[];

    constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.host, name, args, opts);
        const { plan } = args;
        const tags: Tags = resourceTags(args.stackName, name, plan.layers);
        if (args.blobMode && plan.layers.includes("shared_blobs")) tags[BLOBS_TAG] = args.blobMode;

        this.instance = new aws.ec2.Instance(
            `${name}-instance`,
            {
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
            },
            {
                parent: this,
                // A newer Debian AMI must not replace a running host; new hosts get the newest one.
                // The key pair only matters at launch: a rotated key replaces nothing, the configure
                // step writes the accepted keys (access.publicKey, additionalPublicKeys) on every host.
                ignoreChanges: ["ami", "keyName"],
            },
        );

        this.volumes = plan.volumes.map((v) => ({
            kind: v.kind,
            mountPoint: v.mountPoint,
            deviceName: v.deviceName,
            volume: new aws.ebs.Volume(
                `${name}-${v.kind}`,
                {
                    availabilityZone: args.availabilityZone,
                    size: v.sizeGiB,
                    type: args.dataVolumes.type,
                    iops: args.dataVolumes.iops,
                    throughput: args.dataVolumes.throughput,
                    encrypted: true,
                    snapshotId: args.volumeSnapshots?.[v.kind],
                    // Every tier: a volume that Pulumi deletes (a removed host, a replaced volume) is snapshotted first.
                    finalSnapshot: true,
                    tags: { ...resourceTags(args.stackName, `${name}-${v.kind}`, v.layer), [SNAPSHOT_TAG]: args.snapshotTagValue },
                },
                { parent: this, protect: args.protectData, retainOnDelete: args.protectData },
            ),
        }));
        this.attachments = this.volumes.map(
            (v) =>
                new aws.ec2.VolumeAttachment(
                    `${name}-${v.kind}`,
                    {
                        deviceName: v.deviceName,
                        volumeId: v.volume.id,
                        instanceId: this.instance.id,
                        // Stop the host before detaching so the file system is unmounted cleanly.
                        stopInstanceBeforeDetaching: true,
                        // A volume attaches to one instance at a time: the old attachment goes first (VolumeInUse otherwise).
                    },
                    { parent: this, deleteBeforeReplace: true },
                ),
        );

        if (plan.autoRecovery) {
            new aws.cloudwatch.MetricAlarm(
                `${name}-recovery`,
                {
                    alarmDescription: plan.layers.some((l) => isSingleInstance(l, args.blobMode))
                        ? `Recover ${name} (it carries ${plan.layers.join(", ")}, which run on one host only) when its hardware fails`
                        : `Recover ${name} (${plan.layers.join(", ")}) onto healthy hardware when its system status check fails: same instance, addresses and volumes`,
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
                },
                { parent: this },
            );
        }

        this.registerOutputs({
            instanceId: this.instance.id,
            privateIp: this.instance.privateIp,
            volumeIds: this.volumes.map((v) => v.volume.id),
        });
    }
}

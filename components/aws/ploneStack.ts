import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../config/spec";
import { buildTopology, PATHS, Topology } from "../topology";
import type { Architecture } from "../topology/instanceTypes";
import { Bastion } from "./bastion";
import { BlobFileSystem } from "./blobFileSystem";
import { Database } from "./database";
import { FrontDoor } from "./frontDoor";
import { Host } from "./host";
import { HostRole } from "./hostRole";
import { Network } from "./network";
import { Snapshots } from "./snapshots";
import { Monitoring } from "./monitoring";
import { OffsiteBackups } from "./offsiteBackups";
import { logBucketName, offsiteTarget } from "../topology/offsite";
import { AccessLogBucket, albLogPrefix } from "./accessLogBucket";
import { WebFirewall } from "./webFirewall";
import { Mail, type MailDnsRecord } from "./mail";
import { stackLogGroups } from "../render/monitoring/cloudwatchAgent";
import type { Provisioner } from "./provisioner";
import { provisionHosts, sshAddressOf } from "./provisionHosts";
import { scaleGroups, ScaledGroups, type ScaledGroup } from "./scaledGroup";
import { resourceTags } from "./tags";
import type { StackSecrets } from "./stackSecrets";
import { loadBalancerIdleTimeoutSeconds } from "../render/frontend/layout";
import { COMPONENT_TYPES } from "./typeTokens";

export interface PloneStackArgs {
    /** The validated stack configuration. */
    spec: StackSpec;
    /** Secret configuration values; they never enter the spec. */
    secrets: StackSecrets;
}

/** The stack's outputs: what `pulumi stack output` shows and `npm run ops` reads. */
export interface StackOutputs {
    /** The site's public URL. */
    siteUrl: string;
    /** What DNS points at: the load balancer's name or the Elastic IP. */
    frontDoorAddress: pulumi.Output<string>;
    /** Private IP of every host, by host name. */
    hostPrivateIps: pulumi.Output<Record<string, string>>;
    /** host:port of the RDS instance, when the stack has one. */
    databaseEndpoint?: pulumi.Output<string>;
    /** Public address of the bastion created by the stack. */
    bastionAddress?: pulumi.Output<string>;
    /** The address `npm run ops` connects to, by host name: its public IP (or Elastic IP), or its private IP behind the bastion. */
    sshAddresses: pulumi.Output<Record<string, string>>;
    /** The S3 bucket the hosts copy the backups to. */
    backupBucket?: pulumi.Output<string>;
    /** The SNS topic every alarm notifies. */
    alarmTopicArn: pulumi.Output<string>;
    /** The bucket of the load balancer's and the backup buckets' access logs. */
    accessLogBucket?: pulumi.Output<string>;
    /** The CloudWatch log group of the web ACL's log. */
    wafLogGroup?: pulumi.Output<string>;
    /** plone-aws:mail with SES: the DNS records to create for the sender domain (DKIM, MAIL FROM, DMARC). */
    mailDnsRecords?: pulumi.Output<MailDnsRecord[]>;
    /** The SMTP relay the hosts send to, host:port (SES's endpoint or mail.relay.host). */
    mailRelay?: string;
    /** plone-aws:mail with SES: the IAM user whose access key the SMTP password is derived from. */
    mailSmtpIamUser?: pulumi.Output<string>;
}

/** Debian publishes its cloud images from this account. */
export const DEBIAN_AMI_OWNER = "136693071363";

/** The newest Debian 12 AMI for an architecture. */
export function debianAmi(architecture: Architecture, opts: pulumi.InvokeOptions): pulumi.Output<string> {
    const arch = architecture === "arm64" ? "arm64" : "amd64";
    return aws.ec2.getAmiOutput(
        {
            owners: [DEBIAN_AMI_OWNER],
            mostRecent: true,
            filters: [
                { name: "name", values: [`debian-12-${arch}-*`] },
                { name: "architecture", values: [architecture] },
                { name: "virtualization-type", values: ["hvm"] },
            ],
        },
        opts,
    ).id;
}

/**
 * A whole Plone stack: network, hosts with their data volumes, database, blob file system,
 * front door and snapshots, wired from the topology of the spec.
 */
export class PloneStack extends pulumi.ComponentResource {
    public readonly topology: Topology;
    public readonly network: Network;
    public readonly hosts: Record<string, Host>;
    public readonly frontDoor: FrontDoor;
    public readonly database?: Database;
    public readonly blobFileSystem?: BlobFileSystem;
    public readonly bastion?: Bastion;
    public readonly snapshots: Snapshots;
    /** The off-site backup bucket and the hosts' access to it (offsiteBackups). */
    public readonly offsiteBackups?: OffsiteBackups;
    /** The stack's access log bucket (monitoring.accessLogs): the load balancer's logs and the backup buckets' S3 access logs. */
    public readonly accessLogs?: AccessLogBucket;
    /** The web ACL on the load balancer (frontend.waf). */
    public readonly webFirewall?: WebFirewall;
    /** Alarms, their topic and the hosts' log groups. */
    public readonly monitoring: Monitoring;
    /** SES for the outbound mail (plone-aws:mail with ses). */
    public readonly mail?: Mail;
    /** The remote commands that provision each host, by host name. */
    public readonly provisioners: Record<string, Provisioner>;
    /** The Auto Scaling groups of app hosts (plone-aws:scaling), by group name. */
    public readonly scaledGroups: Record<string, ScaledGroup>;

    /** What the program exports as the stack's outputs (registered as this component's outputs too). */
    public readonly outputs: StackOutputs;

    constructor(name: string, args: PloneStackArgs, opts?: pulumi.ComponentResourceOptions) {
        // Only the spec is recorded as the component's inputs: the secrets stay where they are used
        // (the policy pack allows keys only in a remote command's connection or quiet stdin).
        super(COMPONENT_TYPES.stack, name, { spec: args.spec }, opts);
        const { spec } = args;
        const production = spec.tier === "production";
        const topology = buildTopology(spec);
        this.topology = topology;
        const parent = { parent: this };

        this.network = new Network(
            `${name}-network`,
            {
                stackName: spec.stackName,
                cidr: topology.vpcCidr,
                subnets: topology.subnets,
                natGateways: topology.natGateways,
                availabilityZones: spec.network.availabilityZones,
                securityGroups: topology.securityGroups,
                ingressRules: topology.ingressRules,
            },
            parent,
        );

        const role = new HostRole(`${name}-host-role`, { stackName: spec.stackName }, parent);
        const keyPair = new aws.ec2.KeyPair(
            `${name}-key`,
            {
                publicKey: spec.access.publicKey,
                tags: resourceTags(spec.stackName, `${name}-key`),
            },
            parent,
        );

        const amis = new Map<Architecture, pulumi.Output<string>>();
        const amiFor = (arch: Architecture) => {
            if (!amis.has(arch)) amis.set(arch, debianAmi(arch, parent));
            return amis.get(arch)!;
        };

        this.hosts = {};
        const previousNames = (host: string) => spec.hosts.find((h) => h.name === host)?.previousNames ?? [];
        topology.hosts.forEach((plan, i) => {
            this.hosts[plan.name] = new Host(
                `${name}-${plan.name}`,
                {
                    stackName: spec.stackName,
                    plan,
                    subnetId: this.network.subnet(plan.subnet, plan.az).id,
                    availabilityZone: this.network.zoneName(plan.subnet, plan.az),
                    volumeSnapshots: spec.hosts[i].volumeSnapshots,
                    dataVolumes: spec.volumes,
                    securityGroupIds: this.network.securityGroupIds(plan.securityGroups),
                    amiId: amiFor(plan.architecture),
                    keyName: keyPair.keyName,
                    instanceProfileName: role.instanceProfile.name,
                    snapshotTagValue: spec.snapshots.tagValue,
                    protectData: production,
                    region: spec.region,
                    blobMode: spec.plone.blobs,
                    // A renamed host keeps its resources: its children are named after it, so they
                    // inherit the alias (pulumi sdk resource.ts, inheritedChildAlias).
                },
                { parent: this, aliases: previousNames(plan.name).map((old) => ({ name: `${name}-${old}` })) },
            );
        });

        if (topology.bastion?.kind === "created") {
            this.bastion = new Bastion(
                `${name}-bastion`,
                {
                    stackName: spec.stackName,
                    instanceType: topology.bastion.instanceType,
                    subnetId: this.network.publicSubnets[0].id,
                    securityGroupId: this.network.securityGroupIds(["bastion"])[0],
                    amiId: amiFor("x86_64"),
                    keyName: keyPair.keyName,
                },
                parent,
            );
        }

        const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
        const offsite = accountId.apply((id) => offsiteTarget(spec, id));
        const logs = spec.monitoring.accessLogs;
        // The backup bucket the stack creates logs its S3 access here (one named in offsiteBackups.bucket is not the stack's).
        const createsBackupBucket = spec.offsiteBackups.enabled && !spec.offsiteBackups.bucket;
        if (logs.enabled) {
            this.accessLogs = new AccessLogBucket(
                `${name}-access-logs`,
                {
                    stackName: spec.stackName,
                    bucketName: accountId.apply((id) => logBucketName(spec.stackName, id)),
                    region: spec.region,
                    accountId,
                    expireDays: logs.expireDays,
                    loadBalancerLogs: topology.frontDoor.kind === "alb",
                    s3LogSources: createsBackupBucket ? [offsite.bucket] : [],
                    protect: production,
                },
                parent,
            );
        }

        const tls = spec.frontend.tls;
        this.frontDoor = new FrontDoor(
            `${name}-front-door`,
            {
                stackName: spec.stackName,
                stackPrefix: spec.resourcePrefix,
                kind: topology.frontDoor.kind,
                frontends: topology.frontDoor.hosts.map((h) => ({ host: h, instanceId: this.hosts[h].instance.id, previousNames: previousNames(h) })),
                vpcId: this.network.vpc.id,
                publicSubnetIds: this.network.publicSubnets.map((s) => s.id),
                securityGroupId: topology.frontDoor.kind === "alb" ? this.network.securityGroupIds(["alb"])[0] : undefined,
                tls: tls.mode === "acm" ? { certificateArn: tls.certificateArn, sslPolicy: tls.sslPolicy } : undefined,
                healthCheckPath: PATHS.frontDoorHealth,
                idleTimeout: loadBalancerIdleTimeoutSeconds(spec),
                protect: production,
                accessLogs: this.accessLogs && { bucket: this.accessLogs.deliveryBucketName, prefix: albLogPrefix(spec.stackName) },
            },
            parent,
        );
        if (spec.frontend.waf && this.frontDoor.loadBalancer) {
            this.webFirewall = new WebFirewall(
                `${name}-waf`,
                {
                    stackName: spec.stackName,
                    stackPrefix: spec.resourcePrefix,
                    settings: spec.frontend.waf,
                    adminCidrs: spec.network.adminCidrs,
                    loadBalancerArn: this.frontDoor.loadBalancer.arn,
                },
                parent,
            );
        }

        const blobSubnets = (topology.hosts.some((h) => h.subnet === "private") ? this.network.privateSubnets : this.network.publicSubnets).map((s) => s.id);
        if (topology.endpoints.database?.kind === "rds" && spec.database) {
            const password = args.secrets.dbPassword;
            if (!password) throw new Error("plone-aws:dbPassword is required with an RDS database");
            this.database = new Database(
                `${name}-db`,
                {
                    stackName: spec.stackName,
                    settings: spec.database,
                    subnetIds: this.network.privateSubnets.map((s) => s.id),
                    securityGroupId: this.network.securityGroupIds(["database"])[0],
                    password,
                    protect: production,
                    backupReplication:
                        spec.database.backupReplication.enabled && spec.snapshots.crossRegionCopy
                            ? {
                                  region: spec.snapshots.crossRegionCopy.region,
                                  retentionDays: spec.database.backupReplication.retentionDays,
                                  kmsKeyArn: spec.database.backupReplication.kmsKeyArn,
                              }
                            : undefined,
                },
                parent,
            );
        }
        if (topology.efs) {
            this.blobFileSystem = new BlobFileSystem(
                `${name}-blobs`,
                {
                    stackName: spec.stackName,
                    subnetIds: blobSubnets,
                    securityGroupId: this.network.securityGroupIds(["efs"])[0],
                    protect: production,
                },
                parent,
            );
        }

        this.snapshots = new Snapshots(
            `${name}-snapshots`,
            {
                stackName: spec.stackName,
                tagValue: spec.snapshots.tagValue,
                time: spec.snapshots.time,
                retain: spec.snapshots.retain,
                crossRegionCopy: spec.snapshots.crossRegionCopy,
            },
            parent,
        );

        if (spec.offsiteBackups.enabled || spec.offsiteBackups.restoreFrom.length > 0) {
            this.offsiteBackups = new OffsiteBackups(
                `${name}-backups`,
                {
                    stackName: spec.stackName,
                    settings: spec.offsiteBackups,
                    bucketName: offsite.bucket,
                    sourceBuckets: offsite.sourceBuckets,
                    hostRoleName: role.role.name,
                    protect: production,
                    accessLogs: this.accessLogs && {
                        bucketName: this.accessLogs.deliveryBucketName,
                        accountId,
                        expireDays: logs.expireDays,
                    },
                },
                parent,
            );
        }

        this.monitoring = new Monitoring(
            `${name}-monitoring`,
            {
                stackName: spec.stackName,
                settings: spec.monitoring,
                hosts: topology.hosts.map((h) => ({ name: h.name, layers: h.layers, instanceId: this.hosts[h.name].instance.id })),
                logGroups: spec.monitoring.cloudwatchAgent ? stackLogGroups(spec, topology).map((g) => g.name) : [],
                hostRoleName: role.role.name,
                loadBalancer:
                    this.frontDoor.loadBalancer && this.frontDoor.targetGroup
                        ? { arnSuffix: this.frontDoor.loadBalancer.arnSuffix, targetGroupArnSuffix: this.frontDoor.targetGroup.arnSuffix }
                        : undefined,
                database: this.database ? { identifier: this.database.instance.identifier } : undefined,
                snapshots: { policyId: this.snapshots.policy.id, crossRegionCopy: spec.snapshots.crossRegionCopy !== undefined },
            },
            parent,
        );

        if (spec.mail?.ses) {
            this.mail = new Mail(
                `${name}-mail`,
                {
                    stackName: spec.stackName,
                    stackPrefix: spec.resourcePrefix,
                    region: spec.region,
                    accountId,
                    settings: spec.mail,
                    alarmTopicArn: this.monitoring.topic.arn,
                },
                parent,
            );
        }
        // What the scaled groups share (plone-aws:scaling): before the provisioning, whose first app host publishes the build cache there.
        const scaling =
            topology.discovery &&
            new ScaledGroups(
                `${name}-scaling`,
                { stackName: spec.stackName, vpcId: this.network.vpc.id, namespace: topology.discovery.namespace, protect: production },
                parent,
            );

        this.provisioners = provisionHosts(this, name, {
            spec,
            topology,
            hosts: this.hosts,
            secrets: args.secrets,
            database:
                this.database && pulumi.all([this.database.instance.address, this.database.instance.port]).apply(([address, port]) => ({ address, port })),
            efsDnsName: this.blobFileSystem?.fileSystem.dnsName,
            frontendElasticIp: this.frontDoor.elasticIp?.publicIp,
            bastionAddress: this.bastion?.address ?? spec.access.bastion.host,
            // The single front end is reached on its Elastic IP; private hosts through the bastion;
            // EFS mount targets must exist before the hosts mount the blobs.
            waitFor: [
                ...(topology.frontDoor.kind === "eip" ? [this.frontDoor] : []),
                ...(this.bastion ? [this.bastion] : []),
                ...(this.blobFileSystem ? [this.blobFileSystem] : []),
            ],
            // Setup runs apt and git: a private host waits for its NAT route, a public one for its internet route.
            egress: Object.fromEntries(topology.hosts.map((h) => [h.name, this.network.egressOf(h.subnet, h.az)])),
            offsite,
            scalingBucket: scaling?.bucket.bucket,
        });

        this.scaledGroups = !scaling
            ? {}
            : scaleGroups(this, name, {
                  shared: scaling,
                  spec,
                  topology,
                  hosts: this.hosts,
                  secrets: args.secrets,
                  subnets: (tier, az) => this.network.subnet(tier, az),
                  securityGroupIds: (roles) => this.network.securityGroupIds(roles),
                  amiFor,
                  keyName: keyPair.keyName,
                  role,
                  database:
                      this.database &&
                      pulumi.all([this.database.instance.address, this.database.instance.port]).apply(([address, port]) => ({ address, port })),
                  efsDnsName: this.blobFileSystem?.fileSystem.dnsName,
                  offsite,
                  alarmTopicArn: this.monitoring.topic.arn,
              });

        const frontendEip = this.frontDoor.elasticIp?.publicIp;
        this.outputs = {
            siteUrl: `${topology.frontDoor.https ? "https" : "http"}://${spec.frontend.domain}/`,
            frontDoorAddress: this.frontDoor.address,
            hostPrivateIps: pulumi.all(Object.fromEntries(Object.entries(this.hosts).map(([n, h]) => [n, h.instance.privateIp]))),
            databaseEndpoint: this.database && pulumi.interpolate`${this.database.instance.address}:${this.database.instance.port}`,
            bastionAddress: this.bastion?.address,
            sshAddresses: pulumi.all(Object.fromEntries(topology.hosts.map((h) => [h.name, sshAddressOf(spec, h, this.hosts[h.name], frontendEip)]))),
            backupBucket: spec.offsiteBackups.enabled ? this.offsiteBackups?.bucketName : undefined,
            alarmTopicArn: this.monitoring.topic.arn,
            accessLogBucket: this.accessLogs?.bucket.bucket,
            wafLogGroup: this.webFirewall?.logGroup.name,
            mailDnsRecords: this.mail?.records,
            mailRelay: spec.mail && `${spec.mail.relay.host}:${spec.mail.relay.port}`,
            mailSmtpIamUser: this.mail?.smtpUser.name,
        };
        this.registerOutputs(this.outputs);
    }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../config/schema";
import type { Layer } from "../config/schema";
import { CLOUDWATCH_AGENT_NAMESPACE } from "../render/monitoring/cloudwatchAgent";
import { resourceTags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

/** A host the alarms watch. */
export interface MonitoredHost {
    name: string;
    layers: Layer[];
    instanceId: pulumi.Input<string>;
}

export interface MonitoringArgs {
    /** Stack name, for the plone-aws:stack tag and the alarm names. */
    stackName: string;
    /** monitoring from the stack configuration: the email, the thresholds, whether the CloudWatch agent runs. */
    settings: MonitoringConfig;
    /** Every host: an instance status check alarm each, and disk and memory alarms with the CloudWatch agent. */
    hosts: MonitoredHost[];
    /** The log groups the hosts' CloudWatch agents write to, created here with the retention. */
    logGroups: string[];
    /** The hosts' role: with the CloudWatch agent, it may put metrics and write to these log groups (nothing else). */
    hostRoleName?: pulumi.Input<string>;
    /** The load balancer and its target group (ALB front door): 5xx answers and unhealthy front ends. */
    loadBalancer?: { arnSuffix: pulumi.Input<string>; targetGroupArnSuffix: pulumi.Input<string> };
    /** The RDS instance of RelStorage: CPU, free storage, replica lag. */
    database?: { identifier: pulumi.Input<string> };
    /** The Data Lifecycle Manager policy: snapshots (and their copies to the second region) that failed. */
    snapshots?: { policyId: pulumi.Input<string>; crossRegionCopy: boolean };
}

/** The alarms' evaluation: 5-minute periods. */
const PERIOD = 300;

/**
 * Alarms and logs of a stack: an SNS topic (mailed to monitoring.alarmEmail) that every alarm
 * notifies when it fires and when it clears, the CloudWatch Logs groups of the hosts with a
 * retention, and alarms on the hosts (status checks, the fullest disk, memory), the load balancer
 * (5xx answers, unhealthy front ends), the RDS database (CPU, free storage, replica lag) and Data
 * Lifecycle Manager (failed snapshots and copies).
 */
export class Monitoring extends pulumi.ComponentResource {
    public readonly topic: aws.sns.Topic;
    public readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    public readonly logGroups: aws.cloudwatch.LogGroup[];

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.monitoring, name, args, opts);
        const s = args.settings;
        const t = s.thresholds;
        const tags = resourceTags(args.stackName, name);
        const parent = { parent: this };

        this.topic = new aws.sns.Topic(`${name}-alarms`, { displayName: `plone-aws ${args.stackName} alarms`, tags }, parent);
        if (s.alarmEmail) {
            new aws.sns.TopicSubscription(`${name}-alarm-email`, { topic: this.topic.arn, protocol: "email", endpoint: s.alarmEmail }, parent);
        }

        this.logGroups = args.logGroups.map((group) => {
            const suffix = group.split("/").pop();
            return new aws.cloudwatch.LogGroup(
                `${name}-log-${suffix}`,
                { name: group, retentionInDays: s.logRetentionDays, tags: { ...tags, Name: group } },
                parent,
            );
        });

        if (s.cloudwatchAgent && args.hostRoleName) {
            const groupArns = this.logGroups.map((g) => g.arn);
            new aws.iam.RolePolicy(
                `${name}-agent-access`,
                {
                    role: args.hostRoleName,
                    policy: pulumi.all(groupArns).apply((arns) => cloudwatchAgentPolicy(arns)),
                },
                parent,
            );
        }

        const alarm = (
            id: string,
            description: string,
            alarmArgs: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions" | "tags" | "alarmDescription" | "name">,
        ) => {
            const a = new aws.cloudwatch.MetricAlarm(
                `${name}-${id}`,
                {
                    name: `plone-aws-${args.stackName}-${id}`,
                    alarmDescription: description,
                    alarmActions: [this.topic.arn],
                    okActions: [this.topic.arn],
                    tags: { ...tags, Name: `${name}-${id}` },
                    ...alarmArgs,
                },
                parent,
            );
            this.alarms.push(a);
            return a;
        };

        for (const host of args.hosts) {
            const layers = host.layers.join(", ");
            alarm(`${host.name}-status-check`, `${host.name} (${layers}) fails its EC2 status checks: the instance or its hardware does not respond`, {
                namespace: "AWS/EC2",
                metricName: "StatusCheckFailed",
                dimensions: { InstanceId: host.instanceId },
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: 3,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                // A stopped instance reports no status checks: that is not a failure.
                treatMissingData: "notBreaching",
            });
            if (!s.cloudwatchAgent) continue;
            // Every file system of the host the agent reports (root and data volumes), the fullest one.
            alarm(`${host.name}-disk`, `a file system of ${host.name} (${layers}) is more than ${t.diskUsedPercent}% full (plone-status shows which)`, {
                metricQueries: [
                    {
                        id: "disk",
                        label: `fullest file system of ${host.name} (%)`,
                        expression: pulumi.interpolate`SELECT MAX(disk_used_percent) FROM ${CLOUDWATCH_AGENT_NAMESPACE} WHERE InstanceId = '${host.instanceId}'`,
                        period: PERIOD,
                        returnData: true,
                    },
                ],
                evaluationPeriods: 2,
                threshold: t.diskUsedPercent,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "missing",
            });
            alarm(`${host.name}-memory`, `${host.name} (${layers}) uses more than ${t.memoryUsedPercent}% of its memory`, {
                namespace: CLOUDWATCH_AGENT_NAMESPACE,
                metricName: "mem_used_percent",
                dimensions: { InstanceId: host.instanceId },
                statistic: "Average",
                period: PERIOD,
                evaluationPeriods: 3,
                threshold: t.memoryUsedPercent,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "missing",
            });
        }

        const lb = args.loadBalancer;
        if (lb) {
            const count = (id: string, metricName: string) => ({
                id,
                metric: { namespace: "AWS/ApplicationELB", metricName, dimensions: { LoadBalancer: lb.arnSuffix }, stat: "Sum", period: PERIOD },
                returnData: false,
            });
            alarm("http-5xx", `the site answered more than ${t.http5xxPer5Minutes} 5xx errors in 5 minutes (the load balancer's own and the front ends')`, {
                metricQueries: [
                    count("elb", "HTTPCode_ELB_5XX_Count"),
                    count("targets", "HTTPCode_Target_5XX_Count"),
                    { id: "total", expression: "FILL(elb, 0) + FILL(targets, 0)", label: "5xx answers", returnData: true },
                ],
                evaluationPeriods: 1,
                threshold: t.http5xxPer5Minutes,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
            });
            // With Volto, /_health also fails when haproxy has no live Volto process (render/frontend/haproxy.ts, its monitor).
            const volto = args.hosts.some((h) => h.layers.includes("volto"));
            alarm(
                "unhealthy-frontends",
                `a front end fails the load balancer's health check (/_health: haproxy has no live Zope client${volto ? " or no live Volto process" : ""}, or nginx/varnish/haproxy is down)`,
                {
                    namespace: "AWS/ApplicationELB",
                    metricName: "UnHealthyHostCount",
                    dimensions: { LoadBalancer: lb.arnSuffix, TargetGroup: lb.targetGroupArnSuffix },
                    statistic: "Maximum",
                    period: 60,
                    evaluationPeriods: 3,
                    threshold: 0,
                    comparisonOperator: "GreaterThanThreshold",
                    treatMissingData: "notBreaching",
                },
            );
        }

        const db = args.database;
        if (db) {
            const rds = { namespace: "AWS/RDS", dimensions: { DBInstanceIdentifier: db.identifier } };
            alarm("database-cpu", `the RelStorage database uses more than ${t.rdsCpuPercent}% CPU for 15 minutes`, {
                ...rds,
                metricName: "CPUUtilization",
                statistic: "Average",
                period: PERIOD,
                evaluationPeriods: 3,
                threshold: t.rdsCpuPercent,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "missing",
            });
            alarm(
                "database-storage",
                `the RelStorage database has less than ${t.rdsFreeStorageGiB} GiB free (storage autoscaling stops at database.maxAllocatedStorage)`,
                {
                    ...rds,
                    metricName: "FreeStorageSpace",
                    statistic: "Minimum",
                    period: PERIOD,
                    evaluationPeriods: 1,
                    threshold: t.rdsFreeStorageGiB * 1024 ** 3,
                    comparisonOperator: "LessThanThreshold",
                    treatMissingData: "missing",
                },
            );
            // Reported by read replicas; a Multi-AZ standby is synchronous and reports none (the alarm then stays OK).
            alarm("database-replica-lag", `a replica of the RelStorage database lags more than ${t.rdsReplicaLagSeconds} s behind`, {
                ...rds,
                metricName: "ReplicaLag",
                statistic: "Maximum",
                period: PERIOD,
                evaluationPeriods: 2,
                threshold: t.rdsReplicaLagSeconds,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
            });
        }

        const snapshots = args.snapshots;
        if (snapshots) {
            // Data Lifecycle Manager publishes its metrics in the AWS/EBS namespace, by DLMPolicyId.
            const dlm = {
                namespace: "AWS/EBS",
                dimensions: { DLMPolicyId: snapshots.policyId },
                statistic: "Sum",
                period: 3600,
                evaluationPeriods: 1,
                threshold: 0,
            };
            alarm("snapshots-failed", "Data Lifecycle Manager failed to snapshot a data volume", {
                ...dlm,
                metricName: "SnapshotsCreateFailed",
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
            });
            if (snapshots.crossRegionCopy) {
                alarm("snapshot-copies-failed", "Data Lifecycle Manager failed to copy a snapshot to the second region", {
                    ...dlm,
                    metricName: "SnapshotsCopiedRegionFailed",
                    comparisonOperator: "GreaterThanThreshold",
                    treatMissingData: "notBreaching",
                });
            }
        }

        this.registerOutputs({ topicArn: this.topic.arn, alarmNames: this.alarms.map((a) => a.name), logGroups: args.logGroups });
    }
}

/**
 * What the CloudWatch agent on a host needs: its metrics in its own namespace, and streams in the
 * stack's log groups. Not logs:CreateLogGroup: the stack creates the groups (with their retention),
 * and an agent that could create them would bring them back while the stack is destroyed.
 */
export function cloudwatchAgentPolicy(logGroupArns: string[]): string {
    const statements: Record<string, unknown>[] = [
        {
            Sid: "Metrics",
            Effect: "Allow",
            Action: "cloudwatch:PutMetricData",
            Resource: "*",
            Condition: { StringEquals: { "cloudwatch:namespace": CLOUDWATCH_AGENT_NAMESPACE } },
        },
        { Sid: "Describe", Effect: "Allow", Action: ["ec2:DescribeTags", "ec2:DescribeVolumes"], Resource: "*" },
    ];
    if (logGroupArns.length) {
        statements.push({
            Sid: "Logs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: logGroupArns.flatMap((arn) => [arn, `${arn}:*`]),
        });
    }
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

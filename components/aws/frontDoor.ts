import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { resourceTags } from "./tags";
import { fittedName } from "./names";
import { COMPONENT_TYPES } from "./typeTokens";

/** Longest load balancer and target group name (ELBv2 CreateLoadBalancer, CreateTargetGroup). */
export const ELB_NAME_MAX = 32;

export interface FrontDoorArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** The stack's resource name prefix (StackSpec.resourcePrefix), for names AWS limits to 32 characters. */
    stackPrefix: string;
    /** alb: an application load balancer over the front ends; eip: one front end on an Elastic IP. */
    kind: "alb" | "eip";
    /** The frontend hosts (one for eip): name and instance id. */
    frontends: { host: string; instanceId: pulumi.Input<string>; previousNames?: string[] }[];
    /** VPC of the target group. */
    vpcId: pulumi.Input<string>;
    /** Public subnets the load balancer spans (one per AZ). */
    publicSubnetIds: pulumi.Input<string>[];
    /** Security group of the load balancer. */
    securityGroupId?: pulumi.Input<string>;
    /** HTTPS on the load balancer with this ACM certificate; HTTP then only redirects. */
    tls?: { certificateArn: string; sslPolicy: string };
    /** Path on the front ends that answers 200 while haproxy has a live client. */
    healthCheckPath: string;
    /** Seconds the load balancer waits for a slow response (above nginx's proxy timeouts). */
    idleTimeout: number;
    /** Production: deletion protection on the load balancer. */
    protect: boolean;
    /** The load balancer's access logs: the log bucket (an output that depends on its policy: ALB checks it may write) and the key prefix. */
    accessLogs?: { bucket: pulumi.Input<string>; prefix: string };
}

/** The public entry point: an ALB across the AZs, or the Elastic IP of a single front end. */
export class FrontDoor extends pulumi.ComponentResource {
    /** DNS name of the load balancer or the Elastic IP address: what the site's DNS points at. */
    public readonly address: pulumi.Output<string>;
    public readonly loadBalancer?: aws.lb.LoadBalancer;
    /** The front ends' target group (ALB front door). */
    public readonly targetGroup?: aws.lb.TargetGroup;
    public readonly elasticIp?: aws.ec2.Eip;

    constructor(name: string, args: FrontDoorArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.frontDoor, name, args, opts);
        const tags = resourceTags(args.stackName, name, "frontend");

        if (args.kind === "eip") {
            const eip = new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", tags }, { parent: this, protect: args.protect });
            new aws.ec2.EipAssociation(`${name}-eip`, { allocationId: eip.id, instanceId: args.frontends[0].instanceId }, { parent: this });
            this.elasticIp = eip;
            this.address = eip.publicIp;
        } else {
            const lb = new aws.lb.LoadBalancer(
                `${name}-alb`,
                {
                    name: fittedName(`${name}-alb`, ELB_NAME_MAX, args.stackPrefix, "alb", ["application", "false"]),
                    loadBalancerType: "application",
                    internal: false,
                    securityGroups: args.securityGroupId ? [args.securityGroupId] : [],
                    subnets: args.publicSubnetIds,
                    idleTimeout: args.idleTimeout,
                    dropInvalidHeaderFields: true,
                    enableDeletionProtection: args.protect,
                    accessLogs: args.accessLogs && { bucket: args.accessLogs.bucket, prefix: args.accessLogs.prefix, enabled: true },
                    tags,
                },
                { parent: this },
            );
            const targets = new aws.lb.TargetGroup(
                `${name}-frontends`,
                {
                    name: fittedName(`${name}-frontends`, ELB_NAME_MAX, args.stackPrefix, "web", [args.vpcId, 80, "HTTP", "instance"]),
                    vpcId: args.vpcId,
                    port: 80,
                    protocol: "HTTP",
                    targetType: "instance",
                    deregistrationDelay: 60,
                    healthCheck: {
                        path: args.healthCheckPath,
                        protocol: "HTTP",
                        matcher: "200",
                        interval: 15,
                        timeout: 5,
                        healthyThreshold: 2,
                        unhealthyThreshold: 3,
                    },
                    tags,
                },
                { parent: this },
            );
            // Keyed by host: removing web-1 leaves web-2 registered.
            for (const f of args.frontends) {
                new aws.lb.TargetGroupAttachment(
                    `${name}-${f.host}`,
                    { targetGroupArn: targets.arn, targetId: f.instanceId, port: 80 },
                    {
                        parent: this,
                        aliases: (f.previousNames ?? []).map((old) => ({ name: `${name}-${old}` })),
                    },
                );
            }
            if (args.tls) {
                new aws.lb.Listener(
                    `${name}-https`,
                    {
                        loadBalancerArn: lb.arn,
                        port: 443,
                        protocol: "HTTPS",
                        sslPolicy: args.tls.sslPolicy,
                        certificateArn: args.tls.certificateArn,
                        defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
                        tags,
                    },
                    { parent: this },
                );
                new aws.lb.Listener(
                    `${name}-http`,
                    {
                        loadBalancerArn: lb.arn,
                        port: 80,
                        protocol: "HTTP",
                        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                        tags,
                    },
                    { parent: this },
                );
            } else {
                new aws.lb.Listener(
                    `${name}-http`,
                    {
                        loadBalancerArn: lb.arn,
                        port: 80,
                        protocol: "HTTP",
                        defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
                        tags,
                    },
                    { parent: this },
                );
            }
            this.loadBalancer = lb;
            this.targetGroup = targets;
            this.address = lb.dnsName;
        }
        this.registerOutputs({ address: this.address });
    }
}

// The edge of a production stack: what the load balancer answers must be on record (its access
// logs: TLS failures, its own 5xx and requests it drops never reach nginx), so must every read or
// deletion of the backups (S3 server access logs of the backup buckets), and a web firewall should
// stand in front of the load balancer.
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { COMPONENT_TYPES } from "../../components/aws/typeTokens";
import { forType, isSet, known, parentTypeOf, TYPES } from "./common";
import { S3_TYPES } from "./backups";

type LoadBalancerProps = Unwrap<aws.lb.LoadBalancerArgs>;
type BucketProps = Unwrap<aws.s3.BucketArgs>;
type BucketLoggingProps = Unwrap<aws.s3.BucketLoggingArgs>;

export const EDGE_TYPES = {
    bucketLogging: ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"],
    webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
} as const;

function isApplicationLoadBalancer(props: LoadBalancerProps): boolean {
    const type = known(() => props.loadBalancerType);
    return type === undefined || type === "application";
}

export const albAccessLogs: ResourceValidationPolicy = {
    name: "alb-access-logs",
    description:
        "The application load balancer writes access logs to S3: requests it answers itself (TLS failures, its own 5xx, dropped invalid headers) never reach nginx's log.",
    enforcementLevel: "mandatory",
    validateResource: forType<LoadBalancerProps>(TYPES.loadBalancer, (props, args, reportViolation) => {
        if (!isApplicationLoadBalancer(props)) return;
        const enabled = known(() => props.accessLogs?.enabled);
        const bucketSet = isSet(() => props.accessLogs?.bucket);
        if (enabled === true && bucketSet) return;
        // Unknown during preview: judged at the update.
        if (enabled === undefined && isSet(() => props.accessLogs?.enabled)) return;
        reportViolation(
            `${args.name} writes no access logs${bucketSet ? " (accessLogs.enabled is not true)" : ""}: requests the load balancer answers itself would leave no trace. ` +
                "Keep plone-aws:monitoring.accessLogs.enabled (the default): the stack's log bucket receives them under <stack>/alb.",
        );
    }),
};

/** The S3 buckets the OffsiteBackups component creates itself (the backups and their replica). */
function backupBuckets(resources: PolicyResource[]): PolicyResource[] {
    return resources.filter((r) => (r.type === S3_TYPES.bucket || r.type === S3_TYPES.bucketV2) && parentTypeOf(r.urn) === COMPONENT_TYPES.offsiteBackups);
}

function logsTo(resources: PolicyResource[], bucket: PolicyResource): boolean {
    const inline = known(() => (bucket.props as BucketProps).logging?.targetBucket);
    if (inline !== undefined) return true;
    return resources.some(
        (r) =>
            (EDGE_TYPES.bucketLogging as readonly string[]).includes(r.type) &&
            (r.propertyDependencies.bucket ?? []).some((d) => d.urn === bucket.urn) &&
            isSet(() => (r.props as BucketLoggingProps).targetBucket),
    );
}

export const backupBucketAccessLogging: StackValidationPolicy = {
    name: "backup-bucket-access-logging",
    description:
        "Every off-site backup bucket (and its replica) has S3 server access logging into a log bucket, so a read or a deletion of the site's backups can be traced.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const bucket of backupBuckets(args.resources)) {
            if (logsTo(args.resources, bucket)) continue;
            reportViolation(
                `${bucket.name} holds the site's backups, but has no S3 server access logging (aws.s3.BucketLogging): nobody could tell who read or deleted them. ` +
                    "Keep plone-aws:monitoring.accessLogs.enabled (the default): the stack's log bucket in each region receives them under <stack>/s3/.",
                bucket.urn,
            );
        }
    },
};

export const loadBalancerWaf: StackValidationPolicy = {
    name: "load-balancer-waf",
    description:
        "An application load balancer has an AWS WAF web ACL associated (managed rule groups, a rate limit on Plone's login forms), so common exploits and password guessing are filtered before Plone.",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const associations = args.resources.filter((r) => r.type === EDGE_TYPES.webAclAssociation);
        for (const lb of args.resources.filter((r) => r.type === TYPES.loadBalancer)) {
            if (!isApplicationLoadBalancer(lb.props as LoadBalancerProps)) continue;
            if (associations.some((a) => (a.propertyDependencies.resourceArn ?? []).some((d) => d.urn === lb.urn))) continue;
            reportViolation(
                `${lb.name} has no web application firewall: login forms can be hammered and common exploits reach Plone unfiltered. ` +
                    "Set plone-aws:frontend.waf (start with mode: count, then block once its log is clean: docs/operations.md).",
                lb.urn,
            );
        }
    },
};

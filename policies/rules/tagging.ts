// Tags: how a stack's resources are found, costed, snapshotted and checked. The stack tag goes on
// everything AWS can tag; resources of a layer (a host and its volumes, the front door, the blob
// file system, a layer's security group) also name their layer.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { LAYERS } from "../../components/config/schema";
import { BLOBS_TAG, isUnknown, LAYER_OF_COMPONENT, LAYER_TAG, layersOf, parentTypeOf, SECURITY_GROUP_TAG, STACK_TAG, tagsOf, TYPES } from "./common";

/**
 * The AWS types a plone-aws stack uses (or may soon) that take a `tags` map. Attachments,
 * associations, routes, mount targets, role policy attachments, target group attachments and
 * remote commands have no tags in AWS and are left out on purpose; autoscaling groups take a list
 * of tag objects instead and are not used.
 */
export const TAGGABLE_TYPES: readonly string[] = [
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:ec2/instance:Instance",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/keyPair:KeyPair",
    "aws:ebs/volume:Volume",
    "aws:iam/role:Role",
    "aws:iam/instanceProfile:InstanceProfile",
    "aws:iam/policy:Policy",
    "aws:rds/instance:Instance",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listener:Listener",
    "aws:lb/listenerRule:ListenerRule",
    "aws:efs/fileSystem:FileSystem",
    "aws:efs/accessPoint:AccessPoint",
    "aws:dlm/lifecyclePolicy:LifecyclePolicy",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:wafv2/webAcl:WebAcl",
    "aws:wafv2/ipSet:IpSet",
    "aws:wafv2/regexPatternSet:RegexPatternSet",
    "aws:sesv2/emailIdentity:EmailIdentity",
    "aws:sesv2/configurationSet:ConfigurationSet",
    "aws:iam/user:User",
    "aws:kms/key:Key",
    "aws:sns/topic:Topic",
    "aws:ssm/parameter:Parameter",
    "aws:acm/certificate:Certificate",
    "aws:elasticache/cluster:Cluster",
    "aws:backup/vault:Vault",
    "aws:backup/plan:Plan",
];

const KNOWN_LAYERS: readonly string[] = LAYERS;
const BLOB_SERVER_MODES = ["nfs", "gluster"];

export const requiredTags: ResourceValidationPolicy = {
    name: "required-tags",
    description: `Every taggable resource carries ${STACK_TAG}; resources of a layer (hosts, their volumes, the front door, the blob file system, layer security groups) carry ${LAYER_TAG} naming known layers.`,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        // Tags computed from values a preview does not know yet are judged at the update.
        if (!TAGGABLE_TYPES.includes(args.type) || isUnknown(() => args.props.tags)) return;
        const tags = tagsOf(args.props);
        const layers = layersOf(args.props);
        if (!tags[STACK_TAG]) {
            reportViolation(
                `${args.name} has no ${STACK_TAG} tag: every resource of a plone-aws stack carries it (resourceTags in components/aws/tags.ts), so the stack's costs, resources and snapshots can be found by tag.`,
            );
        }
        const unknownLayers = layers.filter((l) => !KNOWN_LAYERS.includes(l));
        if (unknownLayers.length) {
            reportViolation(
                `${args.name}: ${LAYER_TAG} names ${unknownLayers.join(", ")}, which ${unknownLayers.length === 1 ? "is not a layer" : "are not layers"} (layers: ${KNOWN_LAYERS.join(", ")}).`,
            );
        }

        // Which layer the resource belongs to: its component's, or its security group role's.
        const component = parentTypeOf(args.urn);
        const componentLayer = component ? LAYER_OF_COMPONENT[component] : undefined;
        const role = args.type === TYPES.securityGroup ? tags[SECURITY_GROUP_TAG] : undefined;
        const expected = componentLayer === "host" ? undefined : (componentLayer ?? (role && KNOWN_LAYERS.includes(role) ? role : undefined));
        if (componentLayer === "host" && layers.length === 0) {
            reportViolation(
                `${args.name} belongs to a host but has no ${LAYER_TAG} tag: tag it with the host's layers (the Host component does), so the resources of a layer can be found.`,
            );
        } else if (expected && !layers.includes(expected)) {
            reportViolation(
                `${args.name} belongs to the ${expected} layer but its ${LAYER_TAG} tag is ${layers.length ? `"${layers.join(" ")}"` : "missing"}: tag it ${LAYER_TAG}=${expected}.`,
            );
        }
        if (args.type === TYPES.securityGroup && !role) {
            reportViolation(
                `${args.name} has no ${SECURITY_GROUP_TAG} tag: the exposure policies read it to tell the load balancer's and front ends' groups from the rest, so an untagged group may not face the internet. Tag it with its role (the Network component does).`,
            );
        }
        if (args.type === TYPES.instance && layers.includes("shared_blobs") && !BLOB_SERVER_MODES.includes(tags[BLOBS_TAG] ?? "")) {
            reportViolation(
                `${args.name} carries shared_blobs but its ${BLOBS_TAG} tag is ${tags[BLOBS_TAG] ? `"${tags[BLOBS_TAG]}"` : "missing"}: tag it nfs or gluster (plone-aws:plone.blobs), so the single-instance and GlusterFS checks know how it serves the blobs.`,
            );
        }
    },
};

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { FrontendConfig } from "../config/schema";
import { LOGIN_PATH_PATTERNS } from "../topology/ports";
import { resourceTags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

/** AWS's managed rule groups the web ACL runs, in priority order after the admin allow-list. */
export const MANAGED_RULE_GROUPS = ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"] as const;

/**
 * Rules of the common rule set that count instead of block whatever the mode: Plone's edit forms,
 * uploads and the REST API post bodies larger than the rule's 8 KB.
 */
export const COMMON_RULE_SET_COUNTED = ["SizeRestrictions_BODY"] as const;

/** AWS WAF requires a CloudWatch Logs destination's name to start with this. */
export const WAF_LOG_GROUP_PREFIX = "aws-waf-logs-";

/** The window of the login rate limit, in seconds. */
export const LOGIN_RATE_WINDOW_SECONDS = 300;

export interface WebFirewallArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** The stack's resource name prefix (StackSpec.resourcePrefix): WAF names allow letters, digits, '_' and '-' only. */
    stackPrefix: string;
    /** frontend.waf from the stack configuration. */
    settings: NonNullable<FrontendConfig["waf"]>;
    /** network.adminCidrs: allowed past every rule when settings.allowAdminCidrs. */
    adminCidrs: string[];
    /** The ARN of the load balancer the web ACL protects. */
    loadBalancerArn: pulumi.Input<string>;
}

/** The visibility config of a rule or the ACL: CloudWatch metrics and sampled requests under `metric`. */
function visibility(metric: string): aws.types.input.wafv2.WebAclVisibilityConfig {
    return { cloudwatchMetricsEnabled: true, metricName: metric, sampledRequestsEnabled: true };
}

/**
 * An AWS WAF web ACL (REGIONAL) on the load balancer: the admin CIDRs allowed first, AWS's IP
 * reputation list, common rule set and known bad inputs, and a per-address rate limit on Plone's
 * login paths. In count mode every rule only counts (and logs) what it matches; in block mode it
 * blocks it. Its log goes to a CloudWatch log group, with cookies and Authorization headers redacted
 * (Plone's __ac cookie is a session credential).
 */
export class WebFirewall extends pulumi.ComponentResource {
    public readonly webAcl: aws.wafv2.WebAcl;
    public readonly logGroup: aws.cloudwatch.LogGroup;

    constructor(name: string, args: WebFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.webFirewall, name, args, opts);
        const s = args.settings;
        const tags = resourceTags(args.stackName, name, "frontend");
        const child = { parent: this };
        const block = s.mode === "block";
        const base = `plone-aws-${args.stackPrefix}`;

        const loginPaths = new aws.wafv2.RegexPatternSet(
            `${name}-login-paths`,
            {
                name: `${base}-login-paths`,
                description: "Plone login forms and the REST @login endpoint",
                scope: "REGIONAL",
                regularExpressions: LOGIN_PATH_PATTERNS.map((regexString) => ({ regexString })),
                tags,
            },
            child,
        );

        const rules: aws.types.input.wafv2.WebAclRule[] = [];
        const admins = s.allowAdminCidrs ? args.adminCidrs : [];
        if (admins.length > 0) {
            const adminSet = new aws.wafv2.IpSet(
                `${name}-admin-cidrs`,
                { name: `${base}-admin-cidrs`, description: "network.adminCidrs", scope: "REGIONAL", ipAddressVersion: "IPV4", addresses: admins, tags },
                child,
            );
            rules.push({
                name: "admin-cidrs",
                priority: 0,
                action: { allow: {} },
                statement: { ipSetReferenceStatement: { arn: adminSet.arn } },
                visibilityConfig: visibility("admin-cidrs"),
            });
        }
        MANAGED_RULE_GROUPS.forEach((group, i) => {
            rules.push({
                name: group,
                priority: 10 + i,
                overrideAction: block ? { none: {} } : { count: {} },
                statement: {
                    managedRuleGroupStatement: {
                        vendorName: "AWS",
                        name: group,
                        ruleActionOverrides:
                            group === "AWSManagedRulesCommonRuleSet"
                                ? COMMON_RULE_SET_COUNTED.map((rule) => ({ name: rule, actionToUse: { count: {} } }))
                                : undefined,
                    },
                },
                visibilityConfig: visibility(group),
            });
        });
        rules.push({
            name: "login-rate-limit",
            priority: 20,
            action: block ? { block: {} } : { count: {} },
            statement: {
                rateBasedStatement: {
                    aggregateKeyType: "IP",
                    limit: s.loginRateLimit,
                    evaluationWindowSec: LOGIN_RATE_WINDOW_SECONDS,
                    scopeDownStatement: {
                        regexPatternSetReferenceStatement: {
                            arn: loginPaths.arn,
                            fieldToMatch: { uriPath: {} },
                            // %40%40login is @@login too.
                            textTransformations: [{ priority: 0, type: "URL_DECODE" }],
                        },
                    },
                },
            },
            visibilityConfig: visibility("login-rate-limit"),
        });

        this.webAcl = new aws.wafv2.WebAcl(
            `${name}-acl`,
            {
                name: `${base}-web-acl`,
                description: `plone-aws ${args.stackName}: ${s.mode} mode`,
                scope: "REGIONAL",
                defaultAction: { allow: {} },
                rules,
                visibilityConfig: visibility(`${base}-web-acl`),
                tags,
            },
            child,
        );
        new aws.wafv2.WebAclAssociation(`${name}-association`, { resourceArn: args.loadBalancerArn, webAclArn: this.webAcl.arn }, child);

        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-log`,
            { name: `${WAF_LOG_GROUP_PREFIX}${base}`, retentionInDays: s.logRetentionDays, tags },
            child,
        );
        new aws.wafv2.WebAclLoggingConfiguration(
            `${name}-logging`,
            {
                resourceArn: this.webAcl.arn,
                logDestinationConfigs: [this.logGroup.arn],
                redactedFields: [{ singleHeader: { name: "cookie" } }, { singleHeader: { name: "authorization" } }],
            },
            child,
        );
        this.registerOutputs({ webAclArn: this.webAcl.arn, logGroupName: this.logGroup.name });
    }
}

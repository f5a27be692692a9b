// What the internet and the admins can reach. Only the load balancer and the front ends face the
// world (HTTP, HTTPS); SSH and the haproxy statistics come from the admin sources; every service
// behind them (ZEO, Zope clients, NFS, GlusterFS, memcached, Redis, Solr, PostgreSQL) only from
// the security group of the layer that uses it.
//
// The admin sources are not retyped here: the stack file's network.adminCidrs stays their one
// source of truth. The pack checks their shape instead: a narrow CIDR (prefix at least
// minAdminPrefix) or the bastion's security group.
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { PORTS } from "../../components/topology/ports";
import {
    describePorts,
    forType,
    IngressPermission,
    ingressPermissions,
    isIpv6,
    isWorld,
    known,
    matchesPattern,
    onlyPorts,
    covers,
    prefixOf,
    TYPES,
} from "./common";

type RdsProps = Unwrap<aws.rds.InstanceArgs>;
type InstanceProps = Unwrap<aws.ec2.InstanceArgs>;
type LaunchTemplateProps = Unwrap<aws.ec2.LaunchTemplateArgs>;
type ListenerProps = Unwrap<aws.lb.ListenerArgs>;

/** Security group roles that may face the internet. */
const WEB_ROLES: readonly string[] = ["alb", "frontend"];
const ADMIN_PORTS = [PORTS.ssh, PORTS.haproxyStats];
const WEB_PORTS = [PORTS.http, PORTS.https];

function where(p: IngressPermission): string {
    return p.groupRole ? `${p.groupLabel} (the ${p.groupRole} group)` : p.groupLabel;
}

function isTcp(p: IngressPermission): boolean {
    return p.protocol === "tcp" || p.protocol === "6";
}

export const ingressWorldWebOnly: StackValidationPolicy = {
    name: "ingress-world-web-only",
    description: "Only HTTP and HTTPS (80, 443) are open to the internet (0.0.0.0/0, ::/0), and only on the load balancer's or the front ends' security group.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const p of ingressPermissions(args.resources)) {
            if (p.source.kind !== "cidr" || !isWorld(p.source.cidr)) continue;
            // SSH and statistics open to the world are ssh-from-admin-sources' to report.
            if (isTcp(p) && onlyPorts(p, ...ADMIN_PORTS)) continue;
            const web = isTcp(p) && onlyPorts(p, ...WEB_PORTS);
            if (web && p.groupRole !== undefined && WEB_ROLES.includes(p.groupRole)) continue;
            reportViolation(
                web
                    ? `${p.label} opens ${describePorts(p.fromPort, p.toPort)} to the internet (${p.source.cidr}) on ${where(p)}: only the load balancer's and the front ends' groups face the internet. Let the site's traffic in through them.`
                    : `${p.label} opens ${describePorts(p.fromPort, p.toPort)}${isTcp(p) ? "" : ` (${p.protocol})`} on ${where(p)} to the internet (${p.source.cidr}): only HTTP and HTTPS may be open to the world. ` +
                          `Allow the service from the security group of the layer that uses it instead (referencedSecurityGroupId).`,
                p.resource.urn,
            );
        }
    },
};

interface AdminConfig {
    minAdminPrefix: number;
    minAdminPrefixIpv6: number;
    adminSecurityGroupRoles: string[];
}

export const sshFromAdminSources: StackValidationPolicy = {
    name: "ssh-from-admin-sources",
    description:
        "SSH (22) and the haproxy statistics (1936) are reachable only from the admin sources: a narrow CIDR from plone-aws:network.adminCidrs, or the bastion's security group. Never from the whole internet.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minAdminPrefix: {
                type: "integer",
                minimum: 8,
                maximum: 32,
                default: 24,
                description: "The widest IPv4 admin CIDR allowed, as a prefix length (24 allows a /24 office network).",
            },
            minAdminPrefixIpv6: {
                type: "integer",
                minimum: 16,
                maximum: 128,
                default: 56,
                description: "The widest IPv6 admin CIDR allowed, as a prefix length.",
            },
            adminSecurityGroupRoles: {
                type: "array",
                items: { type: "string" },
                default: ["bastion"],
                description: "Security groups (by their plone-aws:security-group tag) whose members may open SSH and the statistics.",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const { minAdminPrefix, minAdminPrefixIpv6, adminSecurityGroupRoles } = args.getConfig<AdminConfig>();
        for (const p of ingressPermissions(args.resources)) {
            if (!(isTcp(p) || p.protocol === "-1") || !covers(p, ...ADMIN_PORTS)) continue;
            const what = `${p.label} opens ${describePorts(p.fromPort, p.toPort)} on ${where(p)}`;
            const s = p.source;
            if (s.kind === "cidr") {
                const min = isIpv6(s.cidr) ? minAdminPrefixIpv6 : minAdminPrefix;
                if (isWorld(s.cidr)) {
                    reportViolation(
                        `${what} to the whole internet (${s.cidr}): it must be reachable from the admin sources only. ` +
                            `List the addresses operators and \`pulumi up\` connect from in plone-aws:network.adminCidrs (e.g. 203.0.113.7/32)` +
                            (p.groupRole === "bastion" ? "." : ", or reach the hosts through the bastion (plone-aws:access.via bastion)."),
                        p.resource.urn,
                    );
                } else if (prefixOf(s.cidr) < min) {
                    reportViolation(
                        `${what} to ${s.cidr}, wider than a /${min}: admin sources are single addresses or small office networks. ` +
                            `Narrow plone-aws:network.adminCidrs (or, after review, lower ${sshFromAdminSources.name}.${isIpv6(s.cidr) ? "minAdminPrefixIpv6" : "minAdminPrefix"} in the stack's policy config).`,
                        p.resource.urn,
                    );
                }
            } else if (s.kind === "group") {
                if (!s.role || !adminSecurityGroupRoles.includes(s.role)) {
                    reportViolation(
                        `${what} to the members of ${s.label}${s.role ? ` (the ${s.role} group)` : ""}: only the bastion's group (${adminSecurityGroupRoles.join(", ")}) may reach it. ` +
                            `Remove the rule, or reach the hosts through the bastion.`,
                        p.resource.urn,
                    );
                }
            } else if (s.kind === "self") {
                reportViolation(`${what} to the other members of the same group: only the admin sources may reach it. Remove the rule.`, p.resource.urn);
            }
        }
    },
};

export const internalPortsFromGroups: StackValidationPolicy = {
    name: "internal-ports-from-groups",
    description:
        "ZEO, Zope client, Volto, NFS, GlusterFS, memcached, Redis, Solr, PostgreSQL, Varnish and haproxy agent ports are reachable only from security groups, never from an address range.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const p of ingressPermissions(args.resources)) {
            const s = p.source;
            if (s.kind !== "cidr" && s.kind !== "prefixList") continue;
            // The internet is ingress-world-web-only's to report; admin ports are ssh-from-admin-sources'.
            if (s.kind === "cidr" && isWorld(s.cidr)) continue;
            if (isTcp(p) && onlyPorts(p, ...ADMIN_PORTS)) continue;
            if (isTcp(p) && onlyPorts(p, ...WEB_PORTS) && p.groupRole !== undefined && WEB_ROLES.includes(p.groupRole)) continue;
            const from = s.kind === "cidr" ? s.cidr : `the prefix list ${s.id}`;
            reportViolation(
                `${p.label} lets ${from} reach ${describePorts(p.fromPort, p.toPort)} on ${where(p)}: services behind the front ends are reachable only from the security group of the layer that uses them, ` +
                    `never from an address range (any host in it, or spoofing it, would reach the ZODB, the blobs or the caches). Reference the client layer's group (referencedSecurityGroupId) instead.`,
                p.resource.urn,
            );
        }
    },
};

export const rdsNotPublic: ResourceValidationPolicy = {
    name: "rds-not-public",
    description: "The RelStorage database is not publicly accessible.",
    enforcementLevel: "mandatory",
    validateResource: forType<RdsProps>(TYPES.rdsInstance, (db, args, reportViolation) => {
        if (known(() => db.publiclyAccessible) === true) {
            reportViolation(
                `${args.name} is publicly accessible: the database of the site gets a public address. Set publiclyAccessible to false; the Zope clients reach it inside the VPC.`,
            );
        }
    }),
};

function checkImds(tokens: unknown, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (tokens === "required") return;
    reportViolation(
        `${args.name} allows IMDSv1 (metadataOptions.httpTokens is ${tokens === undefined ? "unset" : `"${String(tokens)}"`}): a request forgery in any program on the host could read the instance role's credentials. ` +
            `Set metadataOptions.httpTokens to "required" (the Host and Bastion components do).`,
    );
}

export const imdsv2Required: ResourceValidationPolicy = {
    name: "imdsv2-required",
    description: 'Every instance (and launch template) requires IMDSv2 session tokens: metadataOptions.httpTokens is "required".',
    enforcementLevel: "mandatory",
    validateResource: [
        forType<InstanceProps>(TYPES.instance, (instance, args, reportViolation) =>
            checkImds(
                known(() => instance.metadataOptions?.httpTokens),
                args,
                reportViolation,
            ),
        ),
        forType<LaunchTemplateProps>(TYPES.launchTemplate, (template, args, reportViolation) =>
            checkImds(
                known(() => template.metadataOptions?.httpTokens),
                args,
                reportViolation,
            ),
        ),
    ],
};

/** TLS 1.2 and 1.3 policies of the application load balancer (ELBSecurityPolicy-TLS13-1-0/1-1, FS-1-1, TLS-1-1 and 2016-08 allow older TLS). */
export const DEFAULT_SSL_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-*",
    "ELBSecurityPolicy-TLS13-1-3-*",
    "ELBSecurityPolicy-FS-1-2-*",
    "ELBSecurityPolicy-TLS-1-2-*",
];

function checkListenerTls(listener: ListenerProps, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    const protocol = known(() => listener.protocol);
    if (protocol !== "HTTPS" && protocol !== "TLS") return;
    const { allowedSslPolicies } = args.getConfig<{ allowedSslPolicies: string[] }>();
    const policy = known(() => listener.sslPolicy);
    if (typeof policy === "string" && matchesPattern(policy, allowedSslPolicies)) return;
    reportViolation(
        `${args.name} serves ${protocol} with ${typeof policy === "string" ? policy : "no sslPolicy (AWS then uses ELBSecurityPolicy-2016-08, which allows TLS 1.0)"}, not a TLS 1.2+ policy of this stack's list (${allowedSslPolicies.join(", ")}): ` +
            `set plone-aws:frontend.tls.sslPolicy to ELBSecurityPolicy-TLS13-1-2-2021-06 or another allowed policy.`,
    );
}

export const albTlsPolicy: ResourceValidationPolicy = {
    name: "alb-tls-policy",
    description: "HTTPS listeners of the load balancer use a TLS 1.2+ security policy from the allow-list.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowedSslPolicies: {
                type: "array",
                items: { type: "string" },
                minItems: 1,
                default: DEFAULT_SSL_POLICIES,
                description: "ELB security policy names, * matching any text.",
            },
        },
    },
    validateResource: [forType<ListenerProps>(TYPES.listener, checkListenerTls), forType<ListenerProps>(TYPES.albListener, checkListenerTls)],
};

function isRedirectToHttps(actions: unknown): boolean {
    if (!Array.isArray(actions) || actions.length === 0) return false;
    return actions.every((_, i) => {
        const action = known(() => actions[i]) as { type?: string; redirect?: { protocol?: string } } | undefined;
        return known(() => action?.type) === "redirect" && known(() => action?.redirect?.protocol) === "HTTPS";
    });
}

export const albHttpRedirectsToHttps: StackValidationPolicy = {
    name: "alb-http-redirects-to-https",
    description: "When a load balancer serves HTTPS, its HTTP listeners only redirect to HTTPS.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const listeners = args.resources.filter((r) => r.type === TYPES.listener || r.type === TYPES.albListener);
        const byLoadBalancer = new Map<string, typeof listeners>();
        for (const l of listeners) {
            const lb = (l.propertyDependencies.loadBalancerArn ?? [])[0]?.urn ?? "(the stack)";
            byLoadBalancer.set(lb, [...(byLoadBalancer.get(lb) ?? []), l]);
        }
        for (const group of byLoadBalancer.values()) {
            if (!group.some((l) => known(() => l.props.protocol) === "HTTPS")) continue;
            for (const l of group.filter((x) => known(() => x.props.protocol) === "HTTP")) {
                if (isRedirectToHttps(known(() => l.props.defaultActions))) continue;
                reportViolation(
                    `${l.name} (HTTP, port ${known(() => l.props.port) ?? "?"}) serves the site although the load balancer has HTTPS: visitors and their login cookies would travel unencrypted. ` +
                        `Make its default action a redirect to HTTPS (statusCode HTTP_301), as the FrontDoor component does with plone-aws:frontend.tls acm.`,
                    l.urn,
                );
            }
        }
    },
};

/** The PloneStack component records the stack's spec as its inputs: the tier and the TLS choice. */
interface StackComponentProps {
    spec?: { tier?: string; frontend?: { domain?: string; tls?: { mode?: string; plainHttpIntended?: boolean } } };
}

export const siteServedOverTls: StackValidationPolicy = {
    name: "site-served-over-tls",
    description:
        "A production stack serves its site over HTTPS (frontend.tls acm or certbot), unless frontend.tls.plainHttpIntended says TLS ends in front of it.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const stack of args.resources.filter((r) => r.type === TYPES.ploneStack)) {
            const spec = known(() => (stack.props as StackComponentProps).spec);
            const tls = spec?.frontend?.tls;
            if (spec?.tier !== "production" || tls?.mode !== "none" || tls.plainHttpIntended) continue;
            reportViolation(
                `${stack.name} is a production stack that serves ${spec.frontend?.domain ?? "its site"} over plain HTTP: visitors' passwords and login cookies would travel unencrypted. ` +
                    "Set plone-aws:frontend.tls to { mode: acm, certificateArn: ... } (a load balancer) or { mode: certbot, email: ... } (one front end), " +
                    "or, when TLS ends in front of the stack (a CDN or a proxy of your own), set frontend.tls.plainHttpIntended: true.",
                stack.urn,
            );
        }
    },
};

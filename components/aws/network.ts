import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { IngressRule, SecurityGroupPlan, SecurityGroupRole, Topology } from "../topology";
import { resourceTags, SECURITY_GROUP_TAG } from "./tags";
import { isZoneId } from "../config/awsRules";
import { COMPONENT_TYPES } from "./typeTokens";

export interface NetworkArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** The VPC's CIDR block. */
    cidr: string;
    /** Public and private subnets per availability zone, from the topology. */
    subnets: Topology["subnets"];
    /** NAT gateways for the private subnets: 0, 1 (shared) or one per AZ. */
    natGateways: number;
    /**
     * The zone of each AZ index, by name or zone id (network.availabilityZones). Unset, index i is
     * the i-th available zone AWS lists at each `pulumi up`.
     */
    availabilityZones?: string[];
    /** One security group per role (layer, load balancer, bastion, database, EFS). */
    securityGroups: SecurityGroupPlan[];
    /** The least-privilege ingress rules between the groups. */
    ingressRules: IngressRule[];
}

/**
 * The VPC of a stack: public and private subnets in each AZ, an internet gateway, NAT as
 * configured, and the security groups with their rules.
 */
export class Network extends pulumi.ComponentResource {
    public readonly vpc: aws.ec2.Vpc;
    public readonly publicSubnets: aws.ec2.Subnet[];
    public readonly privateSubnets: aws.ec2.Subnet[];
    public readonly securityGroups: Partial<Record<SecurityGroupRole, aws.ec2.SecurityGroup>>;
    /** Per subnet ("public:0", "private:1"): the route table and association that give it its way out. */
    private readonly egress = new Map<string, pulumi.Resource[]>();
    private readonly zoneNames: (az: number, subnet: aws.ec2.Subnet) => pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.network, name, args, opts);
        const parent = { parent: this };
        const tags = (suffix: string, layer?: string) => resourceTags(args.stackName, `${name}-${suffix}`, layer);

        this.vpc = new aws.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: args.cidr,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags: tags("vpc"),
            },
            parent,
        );
        // Pinned zones are used as they are; otherwise the zones AWS lists now (without opt-in
        // Local and Wavelength zones, which would shift the indices of the regular ones).
        const pinned = args.availabilityZones;
        const listed = pinned
            ? undefined
            : aws.getAvailabilityZonesOutput({ state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] }, parent);
        const zoneOf = (i: number): { availabilityZone?: pulumi.Input<string>; availabilityZoneId?: string } => {
            if (pinned) return isZoneId(pinned[i]) ? { availabilityZoneId: pinned[i] } : { availabilityZone: pinned[i] };
            return {
                availabilityZone: listed!.names.apply((names) => {
                    if (names.length <= i) throw new Error(`the region has ${names.length} availability zones; network.azCount asks for ${i + 1}`);
                    return names[i];
                }),
            };
        };
        // A zone name is known before the subnet exists; a zone id becomes a name once it does.
        this.zoneNames = (az, subnet) => (pinned && !isZoneId(pinned[az]) ? pulumi.output(pinned[az]) : subnet.availabilityZone);

        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: this.vpc.id, tags: tags("igw") }, parent);
        const publicRoutes = new aws.ec2.RouteTable(
            `${name}-public`,
            {
                vpcId: this.vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
                tags: tags("public"),
            },
            parent,
        );

        this.publicSubnets = args.subnets.public.map((s) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-public-${s.az}`,
                {
                    vpcId: this.vpc.id,
                    cidrBlock: s.cidr,
                    ...zoneOf(s.az),
                    mapPublicIpOnLaunch: false,
                    tags: tags(`public-${s.az}`),
                },
                parent,
            );
            const association = new aws.ec2.RouteTableAssociation(`${name}-public-${s.az}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, parent);
            this.egress.set(`public:${s.az}`, [publicRoutes, association]);
            return subnet;
        });

        const nats = Array.from({ length: args.natGateways }, (_, az) => {
            const eip = new aws.ec2.Eip(`${name}-nat-${az}`, { domain: "vpc", tags: tags(`nat-${az}`) }, parent);
            return new aws.ec2.NatGateway(
                `${name}-nat-${az}`,
                {
                    allocationId: eip.id,
                    subnetId: this.publicSubnets[az].id,
                    tags: tags(`nat-${az}`),
                },
                { parent: this, dependsOn: [igw] },
            );
        });

        this.privateSubnets = args.subnets.private.map((s) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-private-${s.az}`,
                {
                    vpcId: this.vpc.id,
                    cidrBlock: s.cidr,
                    ...zoneOf(s.az),
                    tags: tags(`private-${s.az}`),
                },
                parent,
            );
            const nat = nats.length === 0 ? undefined : nats[Math.min(s.az, nats.length - 1)];
            const routes = new aws.ec2.RouteTable(
                `${name}-private-${s.az}`,
                {
                    vpcId: this.vpc.id,
                    routes: nat ? [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] : [],
                    tags: tags(`private-${s.az}`),
                },
                parent,
            );
            const association = new aws.ec2.RouteTableAssociation(`${name}-private-${s.az}`, { subnetId: subnet.id, routeTableId: routes.id }, parent);
            // The route to the NAT gateway exists once the table does, and the table waits for the gateway.
            this.egress.set(`private:${s.az}`, [routes, association, ...(nat ? [nat] : [])]);
            return subnet;
        });

        // Rules are separate resources: groups refer to each other (front ends reach the clients,
        // clients send PURGE to the front ends), which inline rules cannot express without a cycle.
        this.securityGroups = {};
        for (const g of args.securityGroups) {
            this.securityGroups[g.role] = new aws.ec2.SecurityGroup(
                `${name}-${g.role}`,
                {
                    vpcId: this.vpc.id,
                    description: `plone-aws ${args.stackName}: ${g.description}`,
                    tags: { ...tags(g.role, g.layer), [SECURITY_GROUP_TAG]: g.role },
                },
                parent,
            );
        }
        const group = (role: SecurityGroupRole) => {
            const g = this.securityGroups[role];
            if (!g) throw new Error(`security group ${role} is referenced by a rule but not planned`);
            return g;
        };
        const layerOf = (role: SecurityGroupRole) => args.securityGroups.find((g) => g.role === role)?.layer;

        for (const rule of args.ingressRules) {
            const source = "role" in rule.source ? rule.source.role : rule.source.cidr.replace(/[./]/g, "-");
            const ports = rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
            const ruleName = `${name}-${rule.role}-${rule.protocol}-${ports}-from-${source}`;
            new aws.vpc.SecurityGroupIngressRule(
                ruleName,
                {
                    securityGroupId: group(rule.role).id,
                    ipProtocol: rule.protocol,
                    fromPort: rule.fromPort,
                    toPort: rule.toPort,
                    ...("role" in rule.source ? { referencedSecurityGroupId: group(rule.source.role).id } : { cidrIpv4: rule.source.cidr }),
                    description: rule.description,
                    tags: tags(`${rule.role}-in`, layerOf(rule.role)),
                },
                parent,
            );
        }
        for (const g of args.securityGroups) {
            if (g.egress === "none") continue;
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-${g.role}-out`,
                {
                    securityGroupId: group(g.role).id,
                    ...(g.egress === "all"
                        ? { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "packages, code and AWS APIs" }
                        : {
                              ipProtocol: "tcp",
                              fromPort: g.egress.port,
                              toPort: g.egress.port,
                              referencedSecurityGroupId: group(g.egress.role).id,
                              description: `to ${g.egress.role}`,
                          }),
                    tags: tags(`${g.role}-out`, g.layer),
                },
                parent,
            );
        }

        this.registerOutputs({
            vpcId: this.vpc.id,
            publicSubnetIds: this.publicSubnets.map((s) => s.id),
            privateSubnetIds: this.privateSubnets.map((s) => s.id),
        });
    }

    /** The subnet a host of the given tier and AZ goes into. */
    public subnet(tier: "public" | "private", az: number): aws.ec2.Subnet {
        return (tier === "public" ? this.publicSubnets : this.privateSubnets)[az];
    }

    /**
     * The zone name of a subnet: the pinned name, or the subnet's own zone. Never an instance's
     * output, which is unknown while the instance is replaced (and would replace its volumes).
     */
    public zoneName(tier: "public" | "private", az: number): pulumi.Output<string> {
        return this.zoneNames(az, this.subnet(tier, az));
    }

    /** What a host of the subnet needs before it can reach the internet (apt, git): its route table, the association, the NAT gateway. */
    public egressOf(tier: "public" | "private", az: number): pulumi.Resource[] {
        return this.egress.get(`${tier}:${az}`) ?? [];
    }

    public securityGroupIds(roles: readonly SecurityGroupRole[]): pulumi.Output<string>[] {
        return roles.map((r) => {
            const g = this.securityGroups[r];
            if (!g) throw new Error(`no security group planned for ${r}`);
            return g.id;
        });
    }
}

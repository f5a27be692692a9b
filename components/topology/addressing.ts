// Subnet layout of the VPC. Host addresses are assigned by AWS and reach the renderers as resolved
// values; only the subnets are planned here.

export function ipToInt(ip: string): number {
    return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function parseCidr(cidr: string): { base: number; prefix: number; size: number } {
    const [ip, prefix] = cidr.split("/");
    const p = Number(prefix);
    return { base: ipToInt(ip), prefix: p, size: 2 ** (32 - p) };
}

/** The n-th block of `newPrefix` inside `cidr`. */
export function subnetOf(cidr: string, newPrefix: number, index: number): string {
    const { base, prefix } = parseCidr(cidr);
    if (newPrefix < prefix) throw new Error(`/${newPrefix} does not fit in ${cidr}`);
    const count = 2 ** (newPrefix - prefix);
    if (index >= count) throw new Error(`${cidr} has only ${count} blocks of /${newPrefix}`);
    return `${intToIp(base + index * 2 ** (32 - newPrefix))}/${newPrefix}`;
}

/** True when `ip` is inside `cidr`. */
export function cidrContains(cidr: string, ip: string): boolean {
    const { base, size } = parseCidr(cidr);
    const n = ipToInt(ip);
    return n >= base && n < base + size;
}

/** The VPC is cut into 16 equal subnets: public ones from slot 0, private ones from slot 8. */
export const SUBNET_BITS = 4;
const PRIVATE_SLOT = 8;
/** Smallest VPC: a /24 gives /28 subnets (11 usable addresses each). */
export const MAX_VPC_PREFIX = 24;
/** Addresses AWS keeps in every subnet (network, router, DNS, future, broadcast). */
const AWS_RESERVED_ADDRESSES = 5;

export type SubnetTier = "public" | "private";

export interface SubnetPlan {
    tier: SubnetTier;
    /** Index of the availability zone. */
    az: number;
    cidr: string;
    /** Usable addresses. */
    capacity: number;
}

export function planSubnet(vpcCidr: string, tier: SubnetTier, az: number): SubnetPlan {
    const { prefix } = parseCidr(vpcCidr);
    const cidr = subnetOf(vpcCidr, prefix + SUBNET_BITS, (tier === "public" ? 0 : PRIVATE_SLOT) + az);
    return { tier, az, cidr, capacity: parseCidr(cidr).size - AWS_RESERVED_ADDRESSES };
}

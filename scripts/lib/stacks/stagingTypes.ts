// The instance types a staging clone gets in place of production's: burstable types of the same CPU
// architecture (so the same AMI family and the same wheels), about half the vCPUs. Staging carries
// test traffic, not the site's load; `--instance-type` overrides any of these.
import { architectureOfInstanceType, instanceTypeInfo } from "../../../components/topology/instanceTypes";

export interface StagingTypeRow {
    /** Highest vCPU count of the production type this row covers. */
    maxVcpus: number;
    x86_64: string;
    arm64: string;
}

/** Production type by vCPUs -> staging type, for x86 (Intel/AMD) and Graviton. */
export const STAGING_INSTANCE_TYPES: readonly StagingTypeRow[] = [
    { maxVcpus: 2, x86_64: "t3.medium", arm64: "t4g.medium" },
    { maxVcpus: 4, x86_64: "t3.large", arm64: "t4g.large" },
    { maxVcpus: 8, x86_64: "t3.xlarge", arm64: "t4g.xlarge" },
    { maxVcpus: Infinity, x86_64: "t3.2xlarge", arm64: "t4g.2xlarge" },
];

/**
 * The smallest type for a host that carries every layer: Zope clients, the ZEO server, nginx,
 * Varnish and haproxy need the 8 GiB of a large; the clients are counted from its 2 vCPUs.
 */
export const COLLAPSED_MINIMUM = { x86_64: "t3.large", arm64: "t4g.large" } as const;

/** RDS classes by the production class's vCPUs (all Graviton: RDS picks no AMI). */
export const STAGING_DB_CLASSES: readonly { maxVcpus: number; instanceClass: string }[] = [
    { maxVcpus: 2, instanceClass: "db.t4g.medium" },
    { maxVcpus: 4, instanceClass: "db.t4g.large" },
    { maxVcpus: Infinity, instanceClass: "db.t4g.xlarge" },
];

/** vCPUs by size name, for older generations the instance table does not list (c4.large, m3.xlarge). */
const VCPUS_BY_SIZE: Record<string, number> = {
    nano: 1,
    micro: 1,
    small: 1,
    medium: 1,
    large: 2,
    xlarge: 4,
    "2xlarge": 8,
    "3xlarge": 12,
    "4xlarge": 16,
    "6xlarge": 24,
    "8xlarge": 32,
    "9xlarge": 36,
    "10xlarge": 40,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
    "32xlarge": 128,
    "48xlarge": 192,
};

/** vCPUs of an EC2 type or an RDS class (db.m6g.large), from the table or the size name. */
export function estimatedVcpus(type: string, override?: number): number | undefined {
    if (override) return override;
    const plain = type.replace(/^db\./, "");
    return instanceTypeInfo(plain)?.vcpus ?? VCPUS_BY_SIZE[plain.split(".")[1] ?? ""];
}

/** The staging type for a production EC2 type, or undefined when its size is unknown (metal). */
export function stagingInstanceType(type: string, vcpus?: number): string | undefined {
    const n = estimatedVcpus(type, vcpus);
    if (n === undefined) return undefined;
    const row = STAGING_INSTANCE_TYPES.find((r) => n <= r.maxVcpus)!;
    return row[architectureOfInstanceType(type)];
}

/** The staging type for the one host that carries every layer: the mapped type, at least a large. */
export function collapsedInstanceType(type: string, vcpus?: number): string {
    const minimum = COLLAPSED_MINIMUM[architectureOfInstanceType(type)];
    const mapped = stagingInstanceType(type, vcpus);
    return mapped && rankOf(mapped) >= rankOf(minimum) ? mapped : minimum;
}

function rankOf(type: string): number {
    return STAGING_INSTANCE_TYPES.findIndex((r) => r.x86_64 === type || r.arm64 === type);
}

/** The staging class for a production RDS class. */
export function stagingDbClass(instanceClass: string): string {
    const n = estimatedVcpus(instanceClass) ?? 2;
    return STAGING_DB_CLASSES.find((r) => n <= r.maxVcpus)!.instanceClass;
}

/** The mapping as a Markdown table, for the docs and `--help`. */
export function stagingTypesTable(): string {
    const rows = STAGING_INSTANCE_TYPES.map((r, i) => {
        const from =
            i === 0
                ? "up to 2"
                : r.maxVcpus === Infinity
                  ? `more than ${STAGING_INSTANCE_TYPES[i - 1].maxVcpus}`
                  : `${STAGING_INSTANCE_TYPES[i - 1].maxVcpus + 1}-${r.maxVcpus}`;
        return `| ${from} | ${r.x86_64} | ${r.arm64} |`;
    });
    return ["| production vCPUs | staging (x86) | staging (Graviton) |", "|---|---|---|", ...rows].join("\n");
}

// vCPUs and CPU architecture of EC2 instance types, for the client count (clientsPerCpu x vCPUs)
// and for picking the Debian AMI. A host whose type is not covered here sets `vcpus` itself.

export type Architecture = "x86_64" | "arm64";

export interface InstanceTypeInfo {
    vcpus: number;
    architecture: Architecture;
}

/** vCPUs by size for the families whose sizes follow the usual doubling. */
const STANDARD_SIZES: Record<string, number> = {
    large: 2,
    xlarge: 4,
    "2xlarge": 8,
    "3xlarge": 12,
    "4xlarge": 16,
    "8xlarge": 32,
    "9xlarge": 36,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
    "32xlarge": 128,
    "48xlarge": 192,
    metal: 0, // metal sizes differ per family: hosts set vcpus
};

/** Burstable families: small sizes have 2 vCPUs (t2: 1 below medium). */
const BURSTABLE_SIZES: Record<string, number> = {
    nano: 2,
    micro: 2,
    small: 2,
    medium: 2,
    large: 2,
    xlarge: 4,
    "2xlarge": 8,
};

const BURSTABLE_FAMILIES = ["t3", "t3a", "t4g", "t2"];

const STANDARD_FAMILIES = [
    "m5",
    "m5a",
    "m5n",
    "m5zn",
    "m6i",
    "m6a",
    "m6in",
    "m6g",
    "m6gd",
    "m7i",
    "m7i-flex",
    "m7a",
    "m7g",
    "m7gd",
    "m8g",
    "c5",
    "c5a",
    "c5n",
    "c6i",
    "c6a",
    "c6in",
    "c6g",
    "c6gd",
    "c6gn",
    "c7i",
    "c7i-flex",
    "c7a",
    "c7g",
    "c7gd",
    "c7gn",
    "c8g",
    "r5",
    "r5a",
    "r5n",
    "r6i",
    "r6a",
    "r6g",
    "r6gd",
    "r7i",
    "r7a",
    "r7g",
    "r7gd",
    "r8g",
    "i4i",
    "i4g",
    "x2gd",
];

/** Graviton families carry a "g" after the generation digit (m6g, c7gn, t4g). */
function architectureOf(family: string): Architecture {
    return /^[a-z]+\d+g/.test(family) ? "arm64" : "x86_64";
}

/** vCPUs and architecture of an instance type, or undefined when the table does not know it. */
export function instanceTypeInfo(instanceType: string): InstanceTypeInfo | undefined {
    const [family, size] = instanceType.split(".");
    if (!family || !size) return undefined;
    let vcpus: number | undefined;
    if (BURSTABLE_FAMILIES.includes(family)) {
        vcpus = BURSTABLE_SIZES[size];
        if (family === "t2" && ["nano", "micro", "small"].includes(size)) vcpus = 1;
    } else if (STANDARD_FAMILIES.includes(family)) {
        vcpus = STANDARD_SIZES[size] || undefined;
    }
    return vcpus === undefined ? undefined : { vcpus, architecture: architectureOf(family) };
}

/** Architecture of any instance type name (known to the table or not). */
export function architectureOfInstanceType(instanceType: string): Architecture {
    return architectureOf(instanceType.split(".")[0] ?? "");
}

/** Instance classes whose types carry instance store or accelerators: EC2 cannot recover them onto other hardware. */
const NOT_RECOVERABLE_CLASSES = new Set(["i", "im", "is", "d", "h", "mac", "f", "p", "g", "inf", "trn", "dl", "vt", "u", "hpc"]);

/**
 * Whether EC2 can recover an instance of this type onto healthy hardware (the CloudWatch recover
 * action): EBS-only types. Not metal sizes, not types with instance store (a "d" among the family's
 * attributes: c5d, m6id, r5dn, z1d; the storage classes i, d, h), not Mac or accelerated types.
 */
export function supportsRecovery(instanceType: string): boolean {
    const [family, size] = instanceType.split(".");
    if (!family || !size || size.includes("metal")) return false;
    const m = /^([a-z]+?)(\d+)([a-z-]*)$/.exec(family);
    if (!m) return false;
    const [, cls, , attributes] = m;
    if (NOT_RECOVERABLE_CLASSES.has(cls)) return false;
    return !attributes.replace(/-flex$/, "").includes("d");
}

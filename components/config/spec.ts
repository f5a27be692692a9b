// StackSpec: the validated, defaulted description of one stack. Everything downstream (topology,
// renderers, components) takes a StackSpec and nothing else from the configuration.
import type {
    AccessConfig,
    AppConfig,
    DatabaseConfig,
    FrontendConfig,
    HostConfig,
    MonitoringConfig,
    NetworkConfig,
    OffsiteBackupsConfig,
    PloneConfig,
    QuotasConfig,
    ScalingConfig,
    SecretKey,
    SnapshotsConfig,
    Tier,
    VolumesConfig,
} from "./schema";

/** The Pulumi project name, and so the configuration namespace. */
export const PROJECT = "plone-aws";

/** Database settings once the tier-dependent defaults are applied. */
export interface DatabaseSpec extends Omit<DatabaseConfig, "deletionProtection" | "finalSnapshot" | "backupReplication"> {
    deletionProtection: boolean;
    finalSnapshot: boolean;
    /** enabled resolved: on when the EBS snapshots are copied to another region and RDS keeps backups. */
    backupReplication: DatabaseConfig["backupReplication"] & { enabled: boolean };
}

export interface StackSpec {
    /** The Pulumi stack name (dev, prod, ...). */
    stackName: string;
    /** Lower-case, DNS-safe form of the stack name, used as the prefix of resource names. */
    resourcePrefix: string;
    region: string;
    tier: Tier;
    hosts: HostConfig[];
    app: AppConfig;
    plone: PloneConfig;
    frontend: FrontendConfig;
    database?: DatabaseSpec;
    snapshots: SnapshotsConfig & { tagValue: string };
    network: NetworkConfig;
    access: AccessConfig;
    volumes: VolumesConfig;
    monitoring: MonitoringConfig;
    offsiteBackups: OffsiteBackupsConfig;
    quotas: QuotasConfig;
    /** Auto Scaling groups of app hosts (plone-aws:scaling). */
    scaling: ScalingConfig;
    /** Which secrets are set; the values themselves never enter the spec. */
    secrets: Record<SecretKey, boolean>;
    /** Names of the app's secret environment variables (plone-aws:appSecrets); their values never enter the spec. */
    appSecretNames: string[];
}

/** The sections as parsed by their schemas. */
export interface ParsedSections {
    tier: Tier;
    hosts: HostConfig[];
    app: AppConfig;
    plone: PloneConfig;
    frontend: FrontendConfig;
    database?: DatabaseConfig;
    snapshots: SnapshotsConfig;
    network: NetworkConfig;
    access: AccessConfig;
    volumes: VolumesConfig;
    monitoring: MonitoringConfig;
    offsiteBackups: OffsiteBackupsConfig;
    quotas: QuotasConfig;
    scaling: ScalingConfig;
}

/** Lower-case, DNS-safe form of a stack name. */
export function resourcePrefixOf(stackName: string): string {
    const cleaned = stackName
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "");
    return /^[a-z]/.test(cleaned) ? cleaned : `s-${cleaned}`;
}

/** Applies the defaults that depend on the stack itself (its name and tier). */
export function toStackSpec(
    sections: ParsedSections,
    ctx: { stackName: string; region: string; secrets: Record<SecretKey, boolean>; appSecretNames?: string[] },
): StackSpec {
    const production = sections.tier === "production";
    const database = sections.database && {
        ...sections.database,
        deletionProtection: sections.database.deletionProtection ?? production,
        finalSnapshot: sections.database.finalSnapshot ?? production,
        backupReplication: {
            ...sections.database.backupReplication,
            enabled:
                sections.database.backupReplication.enabled ??
                (sections.snapshots.crossRegionCopy !== undefined && sections.database.backupRetentionDays > 0 && !sections.database.host),
        },
    };
    return {
        stackName: ctx.stackName,
        resourcePrefix: resourcePrefixOf(ctx.stackName),
        region: ctx.region,
        ...sections,
        database,
        snapshots: { ...sections.snapshots, tagValue: sections.snapshots.tagValue ?? ctx.stackName },
        secrets: ctx.secrets,
        appSecretNames: ctx.appSecretNames ?? [],
    };
}

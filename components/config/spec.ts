// StackSpec: the validated, defaulted description of one stack. Everything downstream (topology,
// renderers, components) takes a StackSpec and nothing else from the configuration.
import {
    type AccessConfig,
    type AppConfig,
    type DatabaseConfig,
    type FrontendConfig,
    type HostConfig,
    IMPLICIT_TLS_PORTS,
    type MailConfig,
    type MonitoringConfig,
    type NetworkConfig,
    type OffsiteBackupsConfig,
    type PloneConfig,
    type QuotasConfig,
    type ScalingConfig,
    type SecretKey,
    type SnapshotsConfig,
    type Tier,
    type VolumesConfig,
    type VoltoConfig,
} from "./schema";

/** The Pulumi project name, and so the configuration namespace. */
export const PROJECT = "plone-aws";

/** Database settings once the tier-dependent defaults are applied. */
export interface DatabaseSpec extends Omit<DatabaseConfig, "deletionProtection" | "finalSnapshot" | "backupReplication" | "dump"> {
    deletionProtection: boolean;
    finalSnapshot: boolean;
    /** enabled resolved: on when the EBS snapshots are copied to another region and RDS keeps backups. */
    backupReplication: DatabaseConfig["backupReplication"] & { enabled: boolean };
    /** enabled resolved: on when the stack copies its backups off-site (offsiteBackups.enabled). */
    dump: DatabaseConfig["dump"] & { enabled: boolean };
}

/** The SMTP endpoint of Amazon SES in a region (STARTTLS on 587/2587/25, TLS on 465/2465). */
export function sesSmtpEndpoint(region: string): string {
    return `email-smtp.${region}.amazonaws.com`;
}

/** Outbound mail once the defaults that depend on the region and tier are applied. */
export interface MailSpec extends Omit<MailConfig, "domain" | "relay" | "requireTlsDelivery"> {
    /** The domain SES verifies and signs for (mail.domain, or the sender address's domain). */
    domain: string;
    /** The MAIL FROM (bounce) domain: <mailFromSubdomain>.<domain>. */
    mailFromDomain: string;
    relay: {
        /** mail.relay.host, or SES's SMTP endpoint of the stack's region. */
        host: string;
        port: number;
        tls: "starttls" | "implicit" | "none";
    };
    requireTlsDelivery: boolean;
}

/** The domain SES verifies and signs for: mail.domain, or the sender address's domain. */
export function mailDomainOf(mail: Pick<MailConfig, "domain" | "senderAddress">): string {
    return mail.domain ?? mail.senderAddress.split("@")[1].toLowerCase();
}

/** The MAIL FROM (bounce) domain: <mailFromSubdomain>.<domain>. */
export function mailFromDomainOf(mail: Pick<MailConfig, "mailFromSubdomain">, domain: string): string {
    return `${mail.mailFromSubdomain}.${domain}`;
}

/** mail with its defaults resolved. */
export function toMailSpec(mail: MailConfig, ctx: { region: string; tier: Tier }): MailSpec {
    const domain = mailDomainOf(mail);
    const tls = mail.relay.tls ?? (IMPLICIT_TLS_PORTS.includes(mail.relay.port) ? "implicit" : "starttls");
    return {
        ...mail,
        domain,
        mailFromDomain: mailFromDomainOf(mail, domain),
        relay: { ...mail.relay, host: mail.relay.host ?? sesSmtpEndpoint(ctx.region), tls },
        requireTlsDelivery: mail.requireTlsDelivery ?? ctx.tier === "production",
    };
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
    /** Outbound mail (plone-aws:mail); unset, no host relays mail. */
    mail?: MailSpec;
    /** Auto Scaling groups of app hosts (plone-aws:scaling). */
    scaling: ScalingConfig;
    /** The Volto frontend of the hosts carrying the volto layer (plone-aws:volto). */
    volto: VoltoConfig;
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
    mail?: MailConfig;
    scaling: ScalingConfig;
    volto: VoltoConfig;
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
        dump: { ...sections.database.dump, enabled: sections.database.dump.enabled ?? sections.offsiteBackups.enabled },
    };
    return {
        stackName: ctx.stackName,
        resourcePrefix: resourcePrefixOf(ctx.stackName),
        region: ctx.region,
        ...sections,
        database,
        snapshots: { ...sections.snapshots, tagValue: sections.snapshots.tagValue ?? ctx.stackName },
        mail: sections.mail && toMailSpec(sections.mail, { region: ctx.region, tier: sections.tier }),
        secrets: ctx.secrets,
        appSecretNames: ctx.appSecretNames ?? [],
    };
}

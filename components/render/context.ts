// What every renderer gets: the spec, the topology, and the values only known once the cloud
// resources exist (host addresses, the database endpoint, secrets). Renderers are pure functions
// of this context; the offline tools fill it with mock addresses and secret placeholders.
import type { StackSpec } from "../config/spec";
import type { Endpoint, HostPlan, Topology } from "../topology";
import type { OffsiteTarget } from "../topology/offsite";

export interface RenderContext {
    spec: StackSpec;
    topology: Topology;
    /** Private IP of every host of the stack, by host name. */
    addresses: Record<string, string>;
    /** The RDS endpoint (or the external database) when storage is relstorage. */
    database?: { address: string; port: number };
    /** DNS name of the EFS file system when blobs are efs. */
    efsDnsName?: string;
    /** Secret values, or placeholders when rendering for review. */
    secrets: RenderSecrets;
    /** The S3 buckets of the offsite backups (offsiteBackups.enabled), once the account is known. */
    offsite?: OffsiteTarget;
    /** The bucket of the scaled groups' bundles and build cache (plone-aws:scaling), when the stack has a group. */
    scalingBucket?: string;
}

export interface RenderSecrets {
    haproxyStatsPassword: string;
    dbPassword?: string;
    /** SSH key with read access to the buildout repository (plone-aws:deployKey). */
    deployKey?: string;
    /** HTTP basic-auth password of app.cacheArchives entries that name a user. */
    cacheArchivePassword?: string;
    /** The New Relic license key (monitoring.newRelic). */
    newRelicLicenseKey?: string;
    /** The password or token of an https app.repository (plone-aws:repositoryToken). */
    repositoryToken?: string;
    /** The app's secret environment (plone-aws:appSecrets), by variable name. */
    appSecrets: Record<string, string>;
    /** The mail relay's SMTP password (plone-aws:mail). */
    smtpCredentials?: string;
}

/** The value that stands for a secret the tools cannot (or must not) read: offline, in triggers, in review renders. */
export function secretPlaceholder(key: string): string {
    return `<secret ${key}>`;
}

/** Placeholders for every secret the stack uses, in place of their values. */
export function maskedSecrets(spec: StackSpec): RenderSecrets {
    return {
        haproxyStatsPassword: secretPlaceholder("plone-aws:haproxyStatsPassword"),
        dbPassword: spec.plone.storage === "relstorage" ? secretPlaceholder("plone-aws:dbPassword") : undefined,
        deployKey: spec.secrets.deployKey ? secretPlaceholder("plone-aws:deployKey") : undefined,
        cacheArchivePassword: spec.secrets.cacheArchivePassword ? secretPlaceholder("plone-aws:cacheArchivePassword") : undefined,
        newRelicLicenseKey: spec.secrets.newRelicLicenseKey ? secretPlaceholder("plone-aws:newRelicLicenseKey") : undefined,
        repositoryToken: spec.secrets.repositoryToken ? secretPlaceholder("plone-aws:repositoryToken") : undefined,
        appSecrets: Object.fromEntries(spec.appSecretNames.map((name) => [name, secretPlaceholder(`plone-aws:appSecrets.${name}`)])),
        smtpCredentials: spec.mail ? secretPlaceholder("plone-aws:smtpCredentials") : undefined,
    };
}

/** A file a provisioning step installs on a host. */
export interface RenderedFile {
    path: string;
    content: string;
    /** Octal mode, e.g. "0644"; files holding secrets are "0600" or "0640". */
    mode: string;
    owner: string;
    group: string;
    /** Holds a secret value: delivered on stdin only and masked when rendered for review. */
    secret?: boolean;
}

/** host:port of an endpoint, with stack hosts resolved to their private IPs. */
export function resolveEndpoint(endpoint: Endpoint, addresses: Record<string, string>): { address: string; port: number } {
    if ("address" in endpoint) return endpoint;
    return { address: addressOf(endpoint.host, addresses), port: endpoint.port };
}

export function addressOf(host: string, addresses: Record<string, string>): string {
    const ip = addresses[host];
    if (!ip) throw new Error(`no address known for host ${host}`);
    return ip;
}

export function hostPlan(topology: Topology, name: string): HostPlan {
    const plan = topology.hosts.find((h) => h.name === name);
    if (!plan) throw new Error(`no host named ${name} in the topology`);
    return plan;
}

// Wires the provisioning of every host: a Provisioner per host, fed with the scripts of
// render/hostSteps.ts, connected directly or through the bastion, ordered across hosts where
// the order is real (render/hostSteps.ts: crossHostDependencies).
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../config/spec";
import { PORTS, type HostPlan, type Topology } from "../topology";
import { maskedSecrets, RenderContext, RenderSecrets } from "../render/context";
import type { OffsiteTarget } from "../topology/offsite";
import { addressesUsedBy, crossHostDependencies, hostStepNames, hostStepTrigger, renderHostStep, stepCarriesSecrets, StepName } from "../render/hostSteps";
import type { Host } from "./host";
import { ProvisionStep, Provisioner } from "./provisioner";
import type { StackSecrets } from "./stackSecrets";

export interface ProvisioningArgs {
    spec: StackSpec;
    topology: Topology;
    hosts: Record<string, Host>;
    secrets: StackSecrets;
    /** The RDS endpoint, when the stack creates one. */
    database?: pulumi.Output<{ address: string; port: number }>;
    efsDnsName?: pulumi.Output<string>;
    /** The Elastic IP of the single front end (publicIp access connects to it). */
    frontendElasticIp?: pulumi.Output<string>;
    /** The bastion's address, when hosts are reached through it. */
    bastionAddress?: pulumi.Input<string>;
    /** Resources the first step of every host waits for (the Elastic IP association, the bastion, EFS). */
    waitFor: pulumi.Resource[];
    /** Per host: what its subnet needs to reach the internet (route table, association, NAT gateway). */
    egress?: Record<string, pulumi.Resource[]>;
    /** The S3 buckets of the off-site backups (known once the account id is). */
    offsite?: pulumi.Output<OffsiteTarget | undefined>;
    /** The scaled groups' bucket (plone-aws:scaling): the first app host publishes its build cache there. */
    scalingBucket?: pulumi.Output<string>;
}

/**
 * The address SSH reaches a host at (provisioning, and `npm run ops` through the sshAddresses
 * output): its private IP behind the bastion; else the front end's Elastic IP, or its public IP.
 */
export function sshAddressOf(spec: StackSpec, plan: HostPlan, host: Host, frontendElasticIp?: pulumi.Output<string>): pulumi.Output<string> {
    if (spec.access.via === "bastion") return host.instance.privateIp;
    return plan.elasticIp && frontendElasticIp ? frontendElasticIp : host.instance.publicIp;
}

/** Connection retries while a host boots: about 10 minutes. */
const DIAL = { dialErrorLimit: 40, perDialTimeout: 15 };

/** Step time limits: a first build of a Plone buildout takes a while. */
const STEP_TIMEOUTS: Partial<Record<StepName, string>> = { ready: "15m", setup: "30m", configure: "10m", build: "60m", activate: "30m" };

type Deferred = { promise: Promise<pulumi.Resource>; resolve: (r: pulumi.Resource) => void };

export function provisionHosts(parent: pulumi.ComponentResource, name: string, args: ProvisioningArgs): Record<string, Provisioner> {
    const { spec, topology } = args;
    const privateKey = args.secrets.sshPrivateKey;
    if (!privateKey) throw new Error("plone-aws:sshPrivateKey is required to provision the hosts");

    const database = databaseEndpointOf(topology, args.database);
    // The render contexts are kept out of the Outputs: Pulumi copies every value an Output carries,
    // and a context holds the whole spec and topology. The Outputs carry only "ready" tokens;
    // secretness follows the secrets' token into the configure scripts.
    const contexts: Record<string, RenderContext> = {};
    let secrets: RenderSecrets | undefined;
    const secretsReady: pulumi.Output<boolean> = renderSecretsOf(spec, args.secrets).apply((s) => {
        secrets = s;
        return true;
    });
    const offsite = args.offsite ?? pulumi.output(undefined);
    const skeleton = { spec, topology, database: undefined, efsDnsName: undefined, secrets: maskedSecrets(spec) };
    /** A host's masked context: resolved once the addresses it reads (and the database, EFS) are known. */
    const contextReady = (plan: HostPlan): pulumi.Output<boolean> => {
        const used = addressesUsedBy(
            {
                ...skeleton,
                database: topology.endpoints.database ? { address: "db.invalid", port: PORTS.postgres } : undefined,
                efsDnsName: topology.efs ? "fs.invalid" : undefined,
                offsite: args.offsite ? { bucket: "bucket.invalid", sourceBuckets: {} } : undefined,
                scalingBucket: args.scalingBucket ? "bucket.invalid" : undefined,
            },
            plan,
        );
        const addresses = pulumi.all(Object.fromEntries(used.map((n) => [n, args.hosts[n].instance.privateIp])));
        const scalingBucket = args.scalingBucket ?? pulumi.output(undefined);
        return pulumi.all([addresses, database, args.efsDnsName ?? pulumi.output(undefined), offsite, scalingBucket]).apply(([a, db, efsDnsName, o, sb]) => {
            contexts[plan.name] = { ...skeleton, addresses: a, database: db, efsDnsName, offsite: o, ...(sb ? { scalingBucket: sb } : {}) };
            return true;
        });
    };

    // Steps of other hosts are referenced before they exist: each is a promise resolved on creation.
    const steps = new Map<string, Deferred>();
    const stepOf = (host: string, step: StepName): Deferred => {
        const key = `${host}/${step}`;
        let d = steps.get(key);
        if (!d) {
            let resolve!: (r: pulumi.Resource) => void;
            const promise = new Promise<pulumi.Resource>((r) => (resolve = r));
            d = { promise, resolve };
            steps.set(key, d);
        }
        return d;
    };
    const crossHost = crossHostDependencies({ spec, topology });

    const provisioners: Record<string, Provisioner> = {};
    for (const plan of topology.hosts) {
        const host = args.hosts[plan.name];
        const volumeIds = pulumi.all(Object.fromEntries(host.volumes.map((v) => [v.mountPoint, v.volume.id])));
        const address = sshAddressOf(spec, plan, host, args.frontendElasticIp);
        const connection: pulumi.Input<command.types.input.remote.ConnectionArgs> =
            spec.access.via === "publicIp"
                ? { host: address, user: spec.access.sshUser, privateKey, ...DIAL }
                : {
                      host: address,
                      user: spec.access.sshUser,
                      privateKey,
                      ...DIAL,
                      proxy: { host: args.bastionAddress ?? "", user: topology.bastion?.user ?? spec.access.sshUser, privateKey, ...DIAL },
                  };
        const maskedReady = contextReady(plan);
        const masked = (): RenderContext => contexts[plan.name];
        const real = (): RenderContext => ({ ...contexts[plan.name], secrets: secrets! });
        const provisionSteps: ProvisionStep[] = hostStepNames(plan).map((step) => {
            const after = (crossHost.get(`${plan.name}/${step}`) ?? []).map((ref) => stepOf(ref.host, ref.step).promise);
            if (step === "ready") {
                return {
                    name: step,
                    secret: false,
                    trigger: "boot",
                    dependsOn: [...host.attachments, ...args.waitFor, ...(args.egress?.[plan.name] ?? [])],
                    timeout: STEP_TIMEOUTS.ready,
                };
            }
            const secret = stepCarriesSecrets(step);
            return {
                name: step,
                secret,
                script: secret
                    ? pulumi.all([maskedReady, secretsReady, volumeIds]).apply(([, , ids]) => renderHostStep(real(), plan, step, ids))
                    : pulumi.all([maskedReady, volumeIds]).apply(([, ids]) => renderHostStep(masked(), plan, step, ids)),
                trigger: pulumi.all([maskedReady, volumeIds]).apply(([, ids]) => hostStepTrigger(masked(), plan, step, ids)),
                dependsOn: after,
                timeout: STEP_TIMEOUTS[step],
            };
        });
        const provisioner = new Provisioner(
            `${name}-${plan.name}-provision`,
            {
                hostName: plan.name,
                connection,
                instance: host.instance,
                instanceId: host.instance.id,
                steps: provisionSteps,
            },
            { parent, aliases: (spec.hosts.find((h) => h.name === plan.name)?.previousNames ?? []).map((old) => ({ name: `${name}-${old}-provision` })) },
        );
        for (const step of hostStepNames(plan)) stepOf(plan.name, step).resolve(provisioner.commands[step]);
        provisioners[plan.name] = provisioner;
    }
    return provisioners;
}

/** The secrets the renderers get: the stack's values, for exactly the secrets the spec uses (placeholders for unset optional ones). */
/** The database the hosts reach: RDS's endpoint when the stack creates it, else the external one the topology names (or none). */
export function databaseEndpointOf(
    topology: Topology,
    rds: pulumi.Output<{ address: string; port: number }> | undefined,
): pulumi.Output<{ address: string; port: number } | undefined> {
    const endpoint = topology.endpoints.database;
    return rds ?? pulumi.output(endpoint?.kind === "external" ? { address: endpoint.address, port: endpoint.port } : undefined);
}

export function renderSecretsOf(spec: StackSpec, stackSecrets: StackSecrets): pulumi.Output<RenderSecrets> {
    return pulumi
        .all([
            stackSecrets.haproxyStatsPassword,
            stackSecrets.dbPassword,
            stackSecrets.deployKey,
            stackSecrets.cacheArchivePassword,
            stackSecrets.newRelicLicenseKey,
            stackSecrets.repositoryToken,
            stackSecrets.appSecrets,
            stackSecrets.smtpCredentials,
        ])
        .apply(([haproxyStatsPassword, dbPassword, deployKey, cacheArchivePassword, newRelicLicenseKey, repositoryToken, appSecrets, smtpCredentials]) => {
            const placeholders = maskedSecrets(spec);
            return {
                haproxyStatsPassword: haproxyStatsPassword ?? placeholders.haproxyStatsPassword,
                dbPassword: placeholders.dbPassword === undefined ? undefined : dbPassword,
                deployKey: placeholders.deployKey === undefined ? undefined : deployKey,
                cacheArchivePassword: placeholders.cacheArchivePassword === undefined ? undefined : cacheArchivePassword,
                newRelicLicenseKey: placeholders.newRelicLicenseKey === undefined ? undefined : newRelicLicenseKey,
                repositoryToken: placeholders.repositoryToken === undefined ? undefined : repositoryToken,
                // Only the names the configuration checked (spec.appSecretNames) reach the hosts.
                appSecrets: Object.fromEntries(spec.appSecretNames.map((n) => [n, appSecrets?.[n] ?? placeholders.appSecrets[n]])),
                smtpCredentials: placeholders.smtpCredentials === undefined ? undefined : smtpCredentials,
            };
        }) as pulumi.Output<RenderSecrets>;
}

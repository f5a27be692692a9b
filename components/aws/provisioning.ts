// Wires the provisioning of every host: a Provisioner per host, fed with the scripts of
// render/hostSteps.ts, connected directly or through the bastion, ordered across hosts where
// the order is real (render/hostSteps.ts: crossHostDependencies).
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../config/spec";
import type { Topology } from "../topology";
import { maskedSecrets, RenderContext, RenderSecrets } from "../render/context";
import type { OffsiteTarget } from "../render/operations/plan";
import { crossHostDependencies, hostStepNames, hostStepTrigger, renderHostStep, stepCarriesSecrets, StepName } from "../render/hostSteps";
import type { Host } from "./host";
import { ProvisionStep, Provisioner } from "./provisioner";
import type { StackSecrets } from "./ploneStack";

export interface ProvisioningArgs {
    spec: StackSpec;
    topology: Topology;
    hosts: Record<string, Host>;
    secrets: StackSecrets;
    /** Private IP of every host. */
    addresses: pulumi.Output<Record<string, string>>;
    /** The RDS endpoint, when the stack creates one. */
    database?: pulumi.Output<{ address: string; port: number }>;
    efsDnsName?: pulumi.Output<string>;
    /** The Elastic IP of the single front end (publicIp access connects to it). */
    frontendElasticIp?: pulumi.Output<string>;
    /** The bastion's address, when hosts are reached through it. */
    bastionAddress?: pulumi.Input<string>;
    /** Resources the first step of every host waits for (the Elastic IP association, the bastion, EFS). */
    waitFor: pulumi.Resource[];
    /** The S3 buckets of the off-site backups (known once the account id is). */
    offsite?: pulumi.Output<OffsiteTarget | undefined>;
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

    const database = args.database ?? pulumi.output(topology.endpoints.database?.kind === "external" ? { address: topology.endpoints.database.address, port: topology.endpoints.database.port } : undefined);
    const masked: pulumi.Output<RenderContext> = pulumi
        .all([args.addresses, database, args.efsDnsName ?? pulumi.output(undefined), args.offsite ?? pulumi.output(undefined)])
        .apply(([addresses, db, efsDnsName, offsite]) => ({ spec, topology, addresses, database: db, efsDnsName, secrets: maskedSecrets(spec), offsite }));
    // The real context holds the secret values: whatever is rendered from it is a secret too.
    const real: pulumi.Output<RenderContext> = pulumi
        .all([masked, args.secrets.haproxyStatsPassword, args.secrets.dbPassword, args.secrets.deployKey, args.secrets.cacheArchivePassword, args.secrets.newRelicLicenseKey])
        .apply(([ctx, haproxyStatsPassword, dbPassword, deployKey, cacheArchivePassword, newRelicLicenseKey]) => {
            const secrets: RenderSecrets = {
                haproxyStatsPassword: haproxyStatsPassword ?? ctx.secrets.haproxyStatsPassword,
                dbPassword: ctx.secrets.dbPassword === undefined ? undefined : dbPassword,
                deployKey: ctx.secrets.deployKey === undefined ? undefined : deployKey,
                cacheArchivePassword: ctx.secrets.cacheArchivePassword === undefined ? undefined : cacheArchivePassword,
                newRelicLicenseKey: ctx.secrets.newRelicLicenseKey === undefined ? undefined : newRelicLicenseKey,
            };
            return { ...ctx, secrets };
        });

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
        const connection: pulumi.Input<command.types.input.remote.ConnectionArgs> =
            spec.access.via === "publicIp"
                ? { host: plan.elasticIp && args.frontendElasticIp ? args.frontendElasticIp : host.instance.publicIp, user: spec.access.sshUser, privateKey, ...DIAL }
                : {
                      host: host.instance.privateIp,
                      user: spec.access.sshUser,
                      privateKey,
                      ...DIAL,
                      proxy: { host: args.bastionAddress ?? "", user: topology.bastion?.user ?? spec.access.sshUser, privateKey, ...DIAL },
                  };
        const provisionSteps: ProvisionStep[] = hostStepNames(plan).map((step) => {
            const after = (crossHost.get(`${plan.name}/${step}`) ?? []).map((ref) => stepOf(ref.host, ref.step).promise);
            if (step === "ready") {
                return { name: step, secret: false, trigger: "boot", dependsOn: [...host.attachments, ...args.waitFor], timeout: STEP_TIMEOUTS.ready };
            }
            const source = stepCarriesSecrets(plan, step) ? real : masked;
            return {
                name: step,
                secret: stepCarriesSecrets(plan, step),
                script: pulumi.all([source, volumeIds]).apply(([ctx, ids]) => renderHostStep(ctx, plan, step, ids)),
                trigger: pulumi.all([masked, volumeIds]).apply(([ctx, ids]) => hostStepTrigger(ctx, plan, step, ids)),
                dependsOn: after,
                timeout: STEP_TIMEOUTS[step],
            };
        });
        const provisioner = new Provisioner(`${name}-${plan.name}-provision`, {
            hostName: plan.name,
            connection,
            instance: host.instance,
            instanceId: host.instance.id,
            steps: provisionSteps,
        }, { parent });
        for (const step of hostStepNames(plan)) stepOf(plan.name, step).resolve(provisioner.commands[step]);
        provisioners[plan.name] = provisioner;
    }
    return provisioners;
}

import { expect } from "chai";
import { formatIssues } from "../../components/config/load";
import { minimalConfig, parseObjects } from "../helpers/stacks";

type Config = Record<string, unknown>;

const validConfig = (): Config => minimalConfig();

/** A valid multi-host RelStorage stack for the cross-host rules. */
function clusterConfig(): Config {
    return {
        ...validConfig(),
        "plone-aws:tier": "production",
        "plone-aws:hosts": [
            { name: "web-1", instanceType: "c6i.large", az: 0, layers: ["frontend"] },
            { name: "web-2", instanceType: "c6i.large", az: 1, layers: ["frontend"] },
            { name: "app-1", instanceType: "c6i.xlarge", az: 0, layers: ["plone_instances", "db_packing"] },
            { name: "app-2", instanceType: "c6i.xlarge", az: 1, layers: ["plone_instances"] },
            { name: "nfs-1", instanceType: "m6i.large", az: 0, layers: ["shared_blobs"] },
        ],
        "plone-aws:plone": { storage: "relstorage", blobs: "nfs" },
        "plone-aws:database": { instanceClass: "db.t4g.medium" },
        "plone-aws:frontend": { domain: "www.example.org", tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" } },
        "plone-aws:network": { azCount: 2, natGateways: "single", adminCidrs: ["198.51.100.0/28"] },
        "plone-aws:access": { via: "bastion", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test" },
    };
}

function set(config: Config, key: string, patch: (v: any) => unknown): Config {
    return { ...config, [key]: patch(structuredClone(config[key])) };
}

interface Case {
    name: string;
    config: Config;
    path: string;
    message: RegExp;
}

const CASES: Case[] = [
    { name: "missing region", config: { ...validConfig(), "aws:region": undefined }, path: "aws:region", message: /required: pulumi config set aws:region/ },
    { name: "missing hosts", config: { ...validConfig(), "plone-aws:hosts": undefined }, path: "plone-aws:hosts", message: /required/ },
    { name: "missing app", config: { ...validConfig(), "plone-aws:app": undefined }, path: "plone-aws:app", message: /required/ },
    {
        name: "unknown top-level key",
        config: { ...validConfig(), "plone-aws:host": [] },
        path: "plone-aws:host",
        message: /unknown key \(did you mean plone-aws:hosts\?\)/,
    },
    {
        name: "unknown layer",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].layers = ["frontned", "plone_instances"]), h)),
        path: "plone-aws:hosts[0].layers[0]",
        message: /must be one of "frontend", "plone_instances".*not "frontned"/,
    },
    {
        name: "layer listed twice",
        config: set(validConfig(), "plone-aws:hosts", (h) => (h[0].layers.push("frontend"), h)),
        path: "plone-aws:hosts[0].layers",
        message: /lists a layer twice/,
    },
    {
        name: "host without layers",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].layers = []), h)),
        path: "plone-aws:hosts[0].layers",
        message: /at least one layer/,
    },
    {
        name: "bad host name",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].name = "Web_1"), h)),
        path: "plone-aws:hosts[0].name",
        message: /lower-case letters, digits and '-'/,
    },
    {
        name: "bad instance type",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].instanceType = "large"), h)),
        path: "plone-aws:hosts[0].instanceType",
        message: /EC2 instance type/,
    },
    {
        name: "unknown key in a host",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].size = "big"), h)),
        path: "plone-aws:hosts[0].size",
        message: /unknown key/,
    },
    {
        name: "duplicate host names",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => ((h[1].name = "web-1"), h)),
        path: "plone-aws:hosts[1].name",
        message: /already the name of hosts\[0\]/,
    },
    {
        name: "AZ index outside azCount",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].az = 1), h)),
        path: "plone-aws:hosts[0].az",
        message: /outside the stack's 1 AZs/,
    },
    {
        name: "unknown instance type without vcpus",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].instanceType = "z9x.huge"), h)),
        path: "plone-aws:hosts[0].instanceType",
        message: /set hosts\[0\]\.vcpus or plone\.clientCount/,
    },
    {
        name: "no frontend",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].layers = ["plone_instances", "zeoserver"]), h)),
        path: "plone-aws:hosts",
        message: /no host carries the frontend layer/,
    },
    {
        name: "no plone_instances",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => h.filter((x: { name: string }) => !x.name.startsWith("app"))),
        path: "plone-aws:hosts",
        message: /no host carries the plone_instances layer/,
    },
    {
        name: "two zeoserver hosts",
        config: {
            ...validConfig(),
            "plone-aws:hosts": [
                { name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] },
                { name: "two", instanceType: "t3.large", layers: ["zeoserver"] },
            ],
            "plone-aws:plone": { storage: "zeo", blobs: "zeo" },
        },
        path: "plone-aws:hosts[1].layers",
        message: /zeoserver is already on one: a stack has exactly one zeoserver host/,
    },
    {
        name: "two NFS servers",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => [...h, { name: "nfs-2", instanceType: "m6i.large", az: 1, layers: ["shared_blobs"] }]),
        path: "plone-aws:hosts[5].layers",
        message: /exactly one shared_blobs host with NFS blobs/,
    },
    {
        name: "four Gluster peers",
        config: set(
            set(clusterConfig(), "plone-aws:plone", (p) => ({ ...p, blobs: "gluster" })),
            "plone-aws:hosts",
            (h) => [...h, ...[2, 3, 4].map((n) => ({ name: `nfs-${n}`, instanceType: "m6i.large", az: n % 2, layers: ["shared_blobs"] }))],
        ),
        path: "plone-aws:hosts[7].layers",
        message: /1 to 3 peers/,
    },
    {
        name: "two db_packing hosts",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => (h[3].layers.push("db_packing"), h)),
        path: "plone-aws:hosts[3].layers",
        message: /db_packing is already on app-1/,
    },
    {
        name: "celerybeat on a host without plone_instances",
        config: set(
            set(clusterConfig(), "plone-aws:plone", (p) => ({ ...p, celery: { enabled: true, brokerHost: "redis.example.internal" } })),
            "plone-aws:hosts",
            (h) => (h[0].layers.push("celerybeat"), h),
        ),
        path: "plone-aws:hosts[0].layers",
        message: /celerybeat runs from the buildout of a plone_instances host/,
    },
    {
        name: "celerybeat without celery",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => (h[2].layers.push("celerybeat"), h)),
        path: "plone-aws:hosts[2].layers",
        message: /celerybeat needs celery/,
    },
    {
        name: "celery without a broker",
        config: set(clusterConfig(), "plone-aws:plone", (p) => ({ ...p, celery: { enabled: true } })),
        path: "plone-aws:plone.celery",
        message: /celery needs a broker/,
    },
    {
        name: "redis layer without celery",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => (h[4].layers.push("redis"), h)),
        path: "plone-aws:hosts[4].layers",
        message: /redis layer is the celery broker/,
    },
    {
        name: "relstorage without a database",
        config: { ...clusterConfig(), "plone-aws:database": undefined },
        path: "plone-aws:database",
        message: /relstorage needs a database/,
    },
    {
        name: "database with ZEO",
        config: { ...validConfig(), "plone-aws:database": {} },
        path: "plone-aws:database",
        message: /only used with plone.storage relstorage/,
    },
    {
        name: "blobs in the database without relstorage",
        config: set(validConfig(), "plone-aws:plone", (p) => ({ ...p, blobs: "database" })),
        path: "plone-aws:plone.blobs",
        message: /need plone.storage relstorage/,
    },
    {
        name: "zeoserver with relstorage",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => (h[4].layers.push("zeoserver"), h)),
        path: "plone-aws:hosts[4].layers",
        message: /zeoserver is not used with plone.storage relstorage/,
    },
    {
        name: "db_packing with ZEO",
        config: set(validConfig(), "plone-aws:hosts", (h) => (h[0].layers.push("db_packing"), h)),
        path: "plone-aws:hosts[0].layers",
        message: /db_packing runs zodbpack for RelStorage/,
    },
    {
        name: "relstorage packing without a db_packing host",
        config: set(clusterConfig(), "plone-aws:hosts", (h) => ((h[2].layers = ["plone_instances"]), h)),
        path: "plone-aws:hosts",
        message: /no host carries db_packing/,
    },
    {
        name: "zeo storage without a zeoserver",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].layers = ["frontend", "plone_instances"]), h)),
        path: "plone-aws:hosts",
        message: /plone.storage is zeo but no host carries the zeoserver layer/,
    },
    {
        name: "local blobs on two app hosts",
        config: {
            ...validConfig(),
            "plone-aws:hosts": [
                { name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] },
                { name: "two", instanceType: "t3.large", layers: ["plone_instances"] },
            ],
        },
        path: "plone-aws:plone.blobs",
        message: /local blobs live on one host's disk/,
    },
    {
        name: "nfs blobs without a server",
        config: set(validConfig(), "plone-aws:plone", (p) => ({ ...p, blobs: "nfs" })),
        path: "plone-aws:hosts",
        message: /no host carries the shared_blobs layer/,
    },
    {
        name: "shared_blobs with efs blobs",
        config: set(clusterConfig(), "plone-aws:plone", (p) => ({ ...p, blobs: "efs" })),
        path: "plone-aws:hosts[4].layers",
        message: /shared_blobs serves NFS or GlusterFS blobs, but plone.blobs is efs/,
    },
    {
        name: "unknown blob mode",
        config: set(validConfig(), "plone-aws:plone", (p) => ({ ...p, blobs: "s3" })),
        path: "plone-aws:plone.blobs",
        message: /must be one of "local", "zeo", "nfs", "gluster", "efs", "database", not "s3"/,
    },
    {
        name: "memcached with ZEO",
        config: {
            ...validConfig(),
            "plone-aws:hosts": [{ name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver", "memcached"] }],
        },
        path: "plone-aws:hosts[0].layers",
        message: /memcached serves RelStorage's cache/,
    },
    {
        name: "solr enabled without a host",
        config: set(validConfig(), "plone-aws:plone", (p) => ({ ...p, solr: { enabled: true } })),
        path: "plone-aws:plone.solr",
        message: /no host carries the solr layer and plone.solr.host is not set/,
    },
    {
        name: "solr layer while solr is disabled",
        config: set(validConfig(), "plone-aws:hosts", (h) => (h[0].layers.push("solr"), h)),
        path: "plone-aws:hosts[0].layers",
        message: /needs plone.solr.enabled/,
    },
    {
        name: "invalid VPC CIDR",
        config: set(validConfig(), "plone-aws:network", (n) => ({ ...n, cidr: "10.0.0.1/16" })),
        path: "plone-aws:network.cidr",
        message: /IPv4 CIDR block/,
    },
    {
        name: "VPC too small",
        config: set(validConfig(), "plone-aws:network", (n) => ({ ...n, cidr: "10.0.0.0/26" })),
        path: "plone-aws:network.cidr",
        message: /too small/,
    },
    {
        name: "invalid admin CIDR",
        config: set(validConfig(), "plone-aws:network", (n) => ({ ...n, adminCidrs: ["198.51.100.300/32"] })),
        path: "plone-aws:network.adminCidrs[0]",
        message: /IPv4 CIDR block/,
    },
    {
        name: "no admin CIDRs",
        config: set(validConfig(), "plone-aws:network", (n) => ({ ...n, adminCidrs: [] })),
        path: "plone-aws:network.adminCidrs",
        message: /networks operators and `pulumi up` connect from/,
    },
    {
        name: "private hosts without NAT",
        config: set(clusterConfig(), "plone-aws:network", (n) => ({ ...n, natGateways: "none" })),
        path: "plone-aws:network.natGateways",
        message: /need a NAT gateway/,
    },
    {
        name: "azCount out of range",
        config: set(validConfig(), "plone-aws:network", (n) => ({ ...n, azCount: 4 })),
        path: "plone-aws:network.azCount",
        message: /must be at most 3, not 4/,
    },
    {
        name: "RDS in one AZ",
        config: set(
            set(clusterConfig(), "plone-aws:network", (n) => ({ ...n, azCount: 1 })),
            "plone-aws:hosts",
            (h) => h.map((x: { az: number }) => ({ ...x, az: 0 })),
        ),
        path: "plone-aws:network.azCount",
        message: /at least two availability zones/,
    },
    {
        name: "bad public key",
        config: set(validConfig(), "plone-aws:access", (a) => ({ ...a, publicKey: "not a key" })),
        path: "plone-aws:access.publicKey",
        message: /OpenSSH public key/,
    },
    {
        name: "unknown access mode",
        config: set(validConfig(), "plone-aws:access", (a) => ({ ...a, via: "vpn" })),
        path: "plone-aws:access.via",
        message: /must be one of "publicIp", "bastion", not "vpn"/,
    },
    {
        name: "ACM certificate on an Elastic IP",
        config: set(validConfig(), "plone-aws:frontend", (f) => ({
            ...f,
            tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" },
        })),
        path: "plone-aws:frontend.tls.mode",
        message: /ACM certificates are served by the load balancer/,
    },
    {
        name: "certbot behind a load balancer",
        config: set(clusterConfig(), "plone-aws:frontend", (f) => ({ ...f, tls: { mode: "certbot", email: "ops@example.org" } })),
        path: "plone-aws:frontend.tls.mode",
        message: /certbot issues a certificate on the one front end host/,
    },
    {
        name: "unknown TLS mode",
        config: set(validConfig(), "plone-aws:frontend", (f) => ({ ...f, tls: { mode: "letsencrypt" } })),
        path: "plone-aws:frontend.tls.mode",
        message: /must be one of "none", "acm", "certbot", not "letsencrypt"/,
    },
    {
        name: "malformed certificate ARN",
        config: set(clusterConfig(), "plone-aws:frontend", (f) => ({ ...f, tls: { mode: "acm", certificateArn: "my-cert" } })),
        path: "plone-aws:frontend.tls.certificateArn",
        message: /ACM certificate ARN/,
    },
    {
        name: "Elastic IP with two front ends",
        config: set(clusterConfig(), "plone-aws:frontend", (f) => ({ ...f, frontDoor: "eip", tls: { mode: "none" } })),
        path: "plone-aws:frontend.frontDoor",
        message: /an Elastic IP serves one front end/,
    },
    {
        name: "bad domain",
        config: set(validConfig(), "plone-aws:frontend", (f) => ({ ...f, domain: "https://www.example.org" })),
        path: "plone-aws:frontend.domain",
        message: /DNS name/,
    },
    {
        name: "subsite that is the domain",
        config: set(validConfig(), "plone-aws:frontend", (f) => ({ ...f, subsites: { "www.example.org": "en" } })),
        path: "plone-aws:frontend.subsites.www.example.org",
        message: /already the site's domain/,
    },
    { name: "snapshot time", config: { ...validConfig(), "plone-aws:snapshots": { time: "8am" } }, path: "plone-aws:snapshots.time", message: /HH:MM/ },
    {
        name: "snapshot copy to the same region",
        config: { ...validConfig(), "plone-aws:snapshots": { crossRegionCopy: { region: "eu-west-1" } } },
        path: "plone-aws:snapshots.crossRegionCopy.region",
        message: /another region than the stack's own/,
    },
    {
        name: "retain count zero",
        config: { ...validConfig(), "plone-aws:snapshots": { retain: 0 } },
        path: "plone-aws:snapshots.retain",
        message: /must be at least 1, not 0/,
    },
    {
        name: "unknown tier",
        config: { ...validConfig(), "plone-aws:tier": "prod" },
        path: "plone-aws:tier",
        message: /must be one of "development", "staging", "production", not "prod"/,
    },
    { name: "structured key given as a string", config: { ...validConfig(), "plone-aws:plone": "zeo" }, path: "plone-aws:plone", message: /structured value/ },
    {
        name: "wrong value type",
        config: set(validConfig(), "plone-aws:plone", (p) => ({ ...p, zserverThreads: "two" })),
        path: "plone-aws:plone.zserverThreads",
        message: /must be a number, not "two"/,
    },
    {
        name: "secret nested in a structured key",
        config: set(validConfig(), "plone-aws:app", (a) => ({ ...a, deployKey: "-----BEGIN" })),
        path: "plone-aws:app.deployKey",
        message: /secrets are top-level keys: pulumi config set --secret plone-aws:deployKey/,
    },
    {
        name: "init command reusing a generated name",
        config: set(validConfig(), "plone-aws:app", (a) => ({ ...a, initCommands: [{ name: "client1", cmd: "bin/x" }] })),
        path: "plone-aws:app.initCommands[0].name",
        message: /a program plone-aws generates itself/,
    },
    {
        name: "repository is not a git URL",
        config: set(validConfig(), "plone-aws:app", (a) => ({ ...a, repository: "github.com/x/y" })),
        path: "plone-aws:app.repository",
        message: /git URL/,
    },
    {
        name: "SSH repository without a deploy key",
        config: { ...set(validConfig(), "plone-aws:app", (a) => ({ ...a, repository: "git@github.com:org/buildout.git" })), "plone-aws:deployKey": undefined },
        path: "plone-aws:deployKey",
        message: /pulumi config set --secret plone-aws:deployKey/,
    },
    {
        name: "missing SSH private key",
        config: { ...validConfig(), "plone-aws:sshPrivateKey": undefined },
        path: "plone-aws:sshPrivateKey",
        message: /required .*pulumi config set --secret plone-aws:sshPrivateKey/,
    },
    {
        name: "missing database password",
        config: { ...clusterConfig(), "plone-aws:dbPassword": undefined },
        path: "plone-aws:dbPassword",
        message: /required with RelStorage/,
    },
    {
        name: "volume override for a volume the host lacks",
        config: set(validConfig(), "plone-aws:hosts", (h) => ((h[0].volumes = { solr: 100 }), h)),
        path: "plone-aws:hosts[0].volumes.solr",
        message: /this host has no solr volume \(its layers give it filestorage, backups, blobs\)/,
    },
    {
        name: "pack truncateRefs without gc",
        config: set(clusterConfig(), "plone-aws:plone", (p) => ({ ...p, pack: { gc: false, truncateRefs: true } })),
        path: "plone-aws:plone.pack.truncateRefs",
        message: /needs plone.pack.gc/,
    },
];

describe("config validation", () => {
    it("accepts the valid base configurations", () => {
        for (const config of [validConfig(), clusterConfig()]) {
            const r = parseObjects(config);
            expect(r.errors, JSON.stringify(r.errors)).to.deep.equal([]);
            expect(r.spec).to.not.equal(undefined);
        }
    });

    it(`has at least 30 distinct bad configurations below (${CASES.length})`, () => {
        expect(new Set(CASES.map((c) => c.name)).size).to.equal(CASES.length);
        expect(CASES.length).to.be.greaterThanOrEqual(30);
    });

    for (const c of CASES) {
        it(`rejects ${c.name} at ${c.path}`, () => {
            const r = parseObjects(c.config);
            expect(r.spec, "no spec for an invalid configuration").to.equal(undefined);
            const hit = r.errors.find((e) => e.path === c.path && c.message.test(e.message));
            expect(hit, `expected ${c.path}: ${c.message}, got\n${formatIssues(r.errors, "config")}`).to.not.equal(undefined);
        });
    }

    it("takes every kind of git URL as the repository, git:// (a git daemon) included", () => {
        for (const repository of ["https://example.org/b.git", "ssh://git@example.org/b.git", "git://10.20.0.1/buildout", "file:///srv/b.git", "/srv/b.git"]) {
            const r = parseObjects(set(validConfig(), "plone-aws:app", (a) => ({ ...a, repository })));
            expect(r.errors, repository).to.deep.equal([]);
            expect(r.spec!.app.repository).to.equal(repository);
        }
    });

    it("reports every error at once, across keys", () => {
        const config = set(
            set(validConfig(), "plone-aws:hosts", (h) => ((h[0].layers = ["frontned"]), h)),
            "plone-aws:network",
            (n) => ({ ...n, cidr: "nonsense" }),
        );
        config["plone-aws:tier"] = "prod";
        const r = parseObjects(config);
        const paths = r.errors.map((e) => e.path);
        expect(paths).to.include.members(["plone-aws:hosts[0].layers[0]", "plone-aws:network.cidr", "plone-aws:tier"]);
    });

    it("fills the defaults from the schema", () => {
        const { spec } = parseObjects(validConfig());
        expect(spec!.plone.clientsPerCpu).to.equal(2);
        expect(spec!.plone.zserverThreads).to.equal(2);
        expect(spec!.snapshots.retain).to.equal(15);
        expect(spec!.snapshots.tagValue).to.equal("test");
        expect(spec!.app.keepReleases).to.equal(5);
        expect(spec!.frontend.haproxy.balance).to.equal("leastconn");
        expect(spec!.frontend.nginx.clientMaxBodySize).to.equal("128m");
        expect(spec!.volumes.sizes.exports).to.equal(200);
    });

    it("defaults database protection from the tier", () => {
        const prod = parseObjects(clusterConfig()).spec!;
        expect(prod.database).to.include({ deletionProtection: true, finalSnapshot: true, multiAz: true });
        const staging = parseObjects({ ...clusterConfig(), "plone-aws:tier": "staging" }).spec!;
        expect(staging.database).to.include({ deletionProtection: false, finalSnapshot: false });
    });

    it("warns without failing on risky but valid choices", () => {
        const r = parseObjects(set(clusterConfig(), "plone-aws:database", (d) => ({ ...d, multiAz: false })));
        expect(r.errors).to.deep.equal([]);
        expect(r.warnings.map((w) => w.path)).to.include("plone-aws:database.multiAz");
    });
});

describe("config: the data volumes' EBS type", () => {
    const withVolumes = (volumes: Record<string, unknown>) => parseObjects({ ...minimalConfig(), "plone-aws:volumes": volumes });
    const errorsOf = (volumes: Record<string, unknown>) => withVolumes(volumes).errors.map((e) => `${e.path}: ${e.message}`);

    it("takes gp3 (default), gp3 with IOPS and throughput, gp2, and io2 with its IOPS", () => {
        expect(withVolumes({}).spec!.volumes).to.include({ type: "gp3" }).and.not.have.any.keys("iops", "throughput");
        expect(withVolumes({ type: "gp3", iops: 6000, throughput: 250 }).spec!.volumes).to.deep.include({ type: "gp3", iops: 6000, throughput: 250 });
        expect(withVolumes({ type: "gp2" }).errors).to.deep.equal([]);
        expect(withVolumes({ type: "io2", iops: 10000 }).spec!.volumes).to.deep.include({ type: "io2", iops: 10000 });
    });

    it("refuses io2 without IOPS, IOPS on gp2, a throughput off gp3 and gp3 IOPS out of range, by key", () => {
        expect(errorsOf({ type: "io2" })).to.deep.equal([
            "plone-aws:volumes.iops: required with type io2: the provisioned IOPS of each data volume (100-256000)",
        ]);
        expect(errorsOf({ type: "gp2", iops: 3000 })[0]).to.match(/^plone-aws:volumes\.iops: gp2 volumes have no provisioned IOPS/);
        expect(errorsOf({ type: "io2", iops: 3000, throughput: 500 })).to.deep.equal([
            "plone-aws:volumes.throughput: only gp3 volumes take a throughput, not io2",
        ]);
        expect(errorsOf({ type: "gp3", iops: 1000 })).to.deep.equal(["plone-aws:volumes.iops: gp3 takes 3000-80000 IOPS"]);
    });
});

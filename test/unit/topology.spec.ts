import { expect } from "chai";
import { buildTopology, clientsPerHost, IngressRule, PORTS, Topology } from "../../components/topology";
import { supportsRecovery } from "../../components/topology/instanceTypes";
import { planSubnet, subnetOf, cidrContains } from "../../components/topology/addressing";
import { instanceTypeInfo } from "../../components/topology/instanceTypes";
import { ALL_SECRETS, loadRepoStack, parseObjects } from "../helpers/stacks";

function topologyOf(config: Record<string, unknown>): Topology {
    const r = parseObjects({ ...ALL_SECRETS, ...config });
    if (!r.spec) throw new Error(JSON.stringify(r.errors));
    return buildTopology(r.spec);
}

const BASE = {
    "aws:region": "eu-west-1",
    "plone-aws:app": { repository: "https://example.org/buildout.git" },
    "plone-aws:frontend": { domain: "www.example.org" },
    "plone-aws:network": { azCount: 2, adminCidrs: ["198.51.100.0/28"] },
    "plone-aws:access": { via: "bastion", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test" },
};

function rulesTo(t: Topology, role: string): IngressRule[] {
    return t.ingressRules.filter((r) => r.role === role);
}

describe("topology", () => {
    describe("instance types", () => {
        it("knows vCPUs and architecture of common families", () => {
            expect(instanceTypeInfo("t3.large")).to.deep.equal({ vcpus: 2, architecture: "x86_64" });
            expect(instanceTypeInfo("c6i.xlarge")).to.deep.equal({ vcpus: 4, architecture: "x86_64" });
            expect(instanceTypeInfo("m7g.2xlarge")).to.deep.equal({ vcpus: 8, architecture: "arm64" });
            expect(instanceTypeInfo("t2.micro")).to.deep.equal({ vcpus: 1, architecture: "x86_64" });
            expect(instanceTypeInfo("t4g.small")).to.deep.equal({ vcpus: 2, architecture: "arm64" });
            expect(instanceTypeInfo("z9x.huge")).to.equal(undefined);
        });
    });

    describe("clients per host", () => {
        it("is clientsPerCpu x vCPUs, rounded up, at least 1", () => {
            const spec = (perCpu: number, count?: number) => ({ plone: { clientsPerCpu: perCpu, clientCount: count } }) as Parameters<typeof clientsPerHost>[0];
            expect(clientsPerHost(spec(2), 4)).to.equal(8);
            expect(clientsPerHost(spec(1.5), 2)).to.equal(3);
            expect(clientsPerHost(spec(0.25), 2)).to.equal(1);
            expect(clientsPerHost(spec(2, 3), 16)).to.equal(3);
        });

        it("numbers clients from 1 on ports 8081 and up, the same N in the plan and the ports", () => {
            const t = buildTopology(loadRepoStack("prod").spec);
            const app1 = t.hosts.find((h) => h.name === "app-1")!;
            expect(app1.vcpus).to.equal(4);
            expect(app1.clients.map((c) => c.name)).to.deep.equal(["client1", "client2", "client3", "client4", "client5", "client6", "client7", "client8"]);
            expect(app1.clients.map((c) => c.port)).to.deep.equal([8081, 8082, 8083, 8084, 8085, 8086, 8087, 8088]);
            expect(t.hosts.find((h) => h.name === "web-1")!.clients).to.deep.equal([]);
            const clientRule = rulesTo(t, "plone_instances").find((r) => r.fromPort === 8081)!;
            expect(clientRule.toPort).to.equal(8088);
            expect(clientRule.source).to.deep.equal({ role: "frontend" });
        });

        it("uses a host's vcpus override for types the table lacks", () => {
            const t = topologyOf({
                ...BASE,
                "plone-aws:hosts": [{ name: "one", instanceType: "x9.mega", vcpus: 3, layers: ["frontend", "plone_instances", "zeoserver"] }],
                "plone-aws:network": { azCount: 1, adminCidrs: ["198.51.100.0/28"] },
            });
            expect(t.hosts[0].clients).to.have.length(6);
        });
    });

    describe("endpoints", () => {
        it("dev: ZEO and local blobs on the one host", () => {
            const t = buildTopology(loadRepoStack("dev").spec);
            expect(t.endpoints.zeo).to.deep.equal({ host: "dev-1", port: PORTS.zeo });
            expect(t.endpoints.blobs).to.deep.include({ mode: "local", host: "dev-1" });
            expect(t.endpoints.database).to.equal(undefined);
            expect(t.frontDoor).to.deep.equal({ kind: "eip", hosts: ["dev-1"], https: false });
        });

        it("prod: RDS, gluster primary and replica, memcached, packing host", () => {
            const t = buildTopology(loadRepoStack("prod").spec);
            expect(t.endpoints.zeo).to.equal(undefined);
            expect(t.endpoints.database).to.deep.equal({ kind: "rds", port: PORTS.postgres });
            expect(t.endpoints.blobs).to.deep.include({ mode: "gluster", primary: "blobs-1", replicas: ["blobs-2"], volume: "blobs" });
            expect(t.endpoints.memcached).to.deep.equal([{ host: "cache-1", port: PORTS.memcached }]);
            expect(t.endpoints.packingHost).to.equal("app-1");
            expect(t.roles.appHosts).to.deep.equal(["app-1", "app-2"]);
            expect(t.frontDoor).to.deep.equal({ kind: "alb", hosts: ["web-1", "web-2"], https: true });
        });

        it("external broker, Solr and cache servers are addresses, not hosts", () => {
            const t = topologyOf({
                ...BASE,
                "plone-aws:hosts": [
                    { name: "web-1", instanceType: "t3.small", layers: ["frontend"] },
                    { name: "app-1", instanceType: "t3.large", layers: ["plone_instances", "celerybeat", "db_packing"] },
                ],
                "plone-aws:plone": {
                    storage: "relstorage",
                    blobs: "database",
                    celery: { enabled: true, brokerHost: "redis.cache.example", brokerPort: 6380 },
                    solr: { enabled: true, host: "solr.example", port: 8984 },
                    relstorage: { cacheServers: ["mc.example:11211"] },
                },
                "plone-aws:database": {},
            });
            expect(t.endpoints.broker).to.deep.equal({ address: "redis.cache.example", port: 6380 });
            expect(t.endpoints.solr).to.deep.equal({ address: "solr.example", port: 8984 });
            expect(t.endpoints.memcached).to.deep.equal([{ address: "mc.example", port: 11211 }]);
            expect(t.endpoints.celerybeatHost).to.equal("app-1");
            expect(t.endpoints.blobs).to.deep.equal({ mode: "database" });
            expect(t.securityGroups.map((g) => g.role)).to.not.include.members(["redis", "solr", "memcached"]);
        });
    });

    describe("security groups", () => {
        const t = buildTopology(loadRepoStack("prod").spec);

        it("opens 80/443 to the world on the load balancer only", () => {
            const world = t.ingressRules.filter((r) => "cidr" in r.source && r.source.cidr === "0.0.0.0/0");
            expect(world.map((r) => `${r.role}:${r.fromPort}`).sort()).to.deep.equal(["alb:443", "alb:80"]);
            expect(rulesTo(t, "frontend").find((r) => r.fromPort === 80)!.source).to.deep.equal({ role: "alb" });
        });

        it("lets only the Zope clients reach memcached, the database and send PURGE", () => {
            expect(rulesTo(t, "memcached")).to.deep.equal([
                {
                    role: "memcached",
                    protocol: "tcp",
                    fromPort: 11211,
                    toPort: 11211,
                    source: { role: "plone_instances" },
                    description: "memcached from the Zope clients",
                },
            ]);
            expect(rulesTo(t, "database").map((r) => [r.fromPort, r.source])).to.deep.equal([[5432, { role: "plone_instances" }]]);
            expect(rulesTo(t, "frontend").find((r) => r.fromPort === PORTS.varnish)!.source).to.deep.equal({ role: "plone_instances" });
        });

        it("SSH reaches the hosts from the bastion, and the bastion from the admin CIDRs", () => {
            expect(rulesTo(t, "host").map((r) => r.source)).to.deep.equal([{ role: "bastion" }]);
            expect(rulesTo(t, "bastion").map((r) => r.source)).to.deep.equal([{ cidr: "198.51.100.0/28" }]);
        });

        it("GlusterFS ports are open to the clients and between the peers", () => {
            const sources = rulesTo(t, "shared_blobs").map((r) => `${r.fromPort}-${r.toPort}<${"role" in r.source ? r.source.role : r.source.cidr}`);
            expect(sources).to.include.members([
                "24007-24008<plone_instances",
                "24007-24008<shared_blobs",
                "49152-49161<plone_instances",
                "49152-49161<shared_blobs",
            ]);
            expect(sources.filter((s) => s.startsWith("2049"))).to.deep.equal([]);
        });

        it("NFS pins statd, mountd and lockd and serves the ZEO server too", () => {
            const nfs = topologyOf({
                ...BASE,
                "plone-aws:hosts": [
                    { name: "web-1", instanceType: "t3.small", layers: ["frontend"] },
                    { name: "app-1", instanceType: "t3.large", layers: ["plone_instances"] },
                    { name: "zeo-1", instanceType: "t3.large", layers: ["zeoserver", "shared_blobs"] },
                ],
                "plone-aws:plone": { storage: "zeo", blobs: "nfs" },
            });
            const rules = rulesTo(nfs, "shared_blobs");
            for (const role of ["plone_instances", "zeoserver"]) {
                for (const protocol of ["tcp", "udp"]) {
                    const ports = rules
                        .filter((r) => r.protocol === protocol && "role" in r.source && r.source.role === role)
                        .map((r) => `${r.fromPort}-${r.toPort}`);
                    expect(ports).to.deep.equal(["2049-2049", "111-111", `${PORTS.statd}-${PORTS.lockd}`]);
                }
            }
            expect(nfs.hosts.find((h) => h.name === "zeo-1")!.volumes.map((v) => v.kind)).to.deep.equal(["filestorage", "backups", "exports"]);
        });

        it("with public IPs, SSH comes straight from the admin CIDRs and there is no bastion", () => {
            const dev = buildTopology(loadRepoStack("dev").spec);
            expect(dev.bastion).to.equal(undefined);
            expect(rulesTo(dev, "host").map((r) => r.source)).to.deep.equal([{ cidr: "198.51.100.7/32" }]);
            expect(dev.securityGroups.map((g) => g.role)).to.not.include("bastion");
        });
    });

    describe("hosts", () => {
        it("puts private hosts in private subnets and the single front end on its Elastic IP", () => {
            const t = buildTopology(loadRepoStack("prod").spec);
            expect(t.hosts.every((h) => h.subnet === "private" && !h.publicIp && !h.elasticIp)).to.equal(true);
            const dev = buildTopology(loadRepoStack("dev").spec);
            expect(dev.hosts[0]).to.include({ subnet: "public", elasticIp: true, publicIp: false });
        });

        it("gives each layer's host its data volumes, with overrides, on distinct devices", () => {
            const dev = buildTopology(loadRepoStack("dev").spec).hosts[0];
            expect(dev.volumes.map((v) => [v.kind, v.mountPoint, v.sizeGiB, v.deviceName])).to.deep.equal([
                ["filestorage", "/srv/data/filestorage", 20, "/dev/sdf"],
                ["backups", "/srv/data/backups", 50, "/dev/sdg"],
                ["blobs", "/srv/data/blobstorage", 50, "/dev/sdh"],
            ]);
            const prod = buildTopology(loadRepoStack("prod").spec);
            expect(prod.hosts.find((h) => h.name === "blobs-2")!.volumes).to.deep.equal([
                { kind: "bricks", layer: "shared_blobs", mountPoint: "/srv/gluster-exports", sizeGiB: 500, deviceName: "/dev/sdf" },
            ]);
            expect(prod.hosts.find((h) => h.name === "app-1")!.volumes).to.deep.equal([]);
        });

        it("flags every fixed host whose instance type EC2 can recover for auto-recovery", () => {
            const prod = buildTopology(loadRepoStack("prod").spec);
            expect(prod.hosts.filter((h) => h.autoRecovery).map((h) => h.name)).to.deep.equal(prod.hosts.map((h) => h.name));
            expect(buildTopology(loadRepoStack("dev").spec).hosts[0].autoRecovery).to.equal(true);
            const types = [
                "c6i.large",
                "t3.small",
                "m7i-flex.large",
                "r6g.xlarge",
                "c5d.large",
                "m6id.xlarge",
                "r5dn.large",
                "z1d.large",
                "i4i.large",
                "c6i.metal",
                "mac2.metal",
                "p3.2xlarge",
            ];
            expect(types.filter(supportsRecovery)).to.deep.equal(["c6i.large", "t3.small", "m7i-flex.large", "r6g.xlarge"]);
        });

        it("installs what each host's layers need", () => {
            const prod = buildTopology(loadRepoStack("prod").spec);
            const pkgs = (name: string) => prod.hosts.find((h) => h.name === name)!.packages;
            expect(pkgs("web-1")).to.include.members(["nginx", "varnish", "haproxy"]);
            expect(pkgs("web-1")).to.not.include("supervisor");
            expect(pkgs("app-1")).to.include.members(["supervisor", "libpq-dev", "glusterfs-client", "poppler-utils", "wv"]);
            expect(pkgs("blobs-1")).to.include("glusterfs-server");
            expect(pkgs("cache-1")).to.include("memcached");
        });
    });

    describe("addressing", () => {
        it("cuts the VPC into public and private subnets per AZ", () => {
            expect(planSubnet("10.40.0.0/16", "public", 1).cidr).to.equal("10.40.16.0/20");
            expect(planSubnet("10.40.0.0/16", "private", 0).cidr).to.equal("10.40.128.0/20");
            expect(planSubnet("10.40.0.0/24", "private", 2)).to.deep.equal({ tier: "private", az: 2, cidr: "10.40.0.160/28", capacity: 11 });
            expect(subnetOf("10.0.0.0/16", 24, 3)).to.equal("10.0.3.0/24");
            expect(cidrContains("10.40.128.0/20", "10.40.143.255")).to.equal(true);
            expect(cidrContains("10.40.128.0/20", "10.40.144.0")).to.equal(false);
        });
    });
});

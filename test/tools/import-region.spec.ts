// aws:region of an imported stack: --region, the instances' availability zones, or the AWS hosts the
// Custom JSON names (an RDS endpoint, an ElastiCache or Amazon MQ broker, an EC2 host name, an S3 URL);
// the import says which it picked and why when they disagree.
import { expect } from "chai";
import { importOpsWorks, ImportOptions, ImportResult, Json } from "../../scripts/lib/opsworks/convert";
import { pickRegion, REGION_RANK, regionOfHost } from "../../scripts/lib/opsworks/regions";
import { configOf } from "../helpers/stackTools";

const NOW = new Date("2026-01-15T12:00:00Z");

function convert(json: Json, over: Partial<ImportOptions> = {}): ImportResult {
    return importOpsWorks(json, { stack: "imported", jsonFile: "custom.json", adminCidrs: [], now: NOW, ...over });
}

const regionOf = (r: ImportResult) => configOf(r.text!)["aws:region"];
const regionNote = (r: ImportResult) => r.notes.find((n) => n.startsWith("aws:region"));

const RDS_WEST = "plone-db.c1abc.us-west-2.rds.amazonaws.com";
const relstorageOn = (host: string): Json => ({ plone_instances: { enable_relstorage: true, relstorage: { db: { name: "plone", host } } } });

describe("regions of AWS host names", function () {
    it("reads the region (and the service) of each kind of AWS host", function () {
        const hosts: [string, string | undefined, string | undefined][] = [
            [RDS_WEST, "us-west-2", "RDS endpoint"],
            ["plone-cache.x1y2z3.0001.usw2.cache.amazonaws.com", "us-west-2", "ElastiCache endpoint"],
            ["master.plone.abc123.euc1.cache.amazonaws.com", "eu-central-1", "ElastiCache endpoint"],
            ["plone.abc123.clustercfg.apse2.cache.amazonaws.com", "ap-southeast-2", "ElastiCache endpoint"],
            ["b-1234abcd-5678.mq.eu-west-1.amazonaws.com", "eu-west-1", "Amazon MQ broker"],
            ["ip-10-0-1-5.us-west-2.compute.internal", "us-west-2", "EC2 host name"],
            ["ip-10-0-1-5.ec2.internal", "us-east-1", "EC2 host name"],
            ["ec2-54-1-2-3.compute-1.amazonaws.com", "us-east-1", "EC2 host name"],
            ["ec2-54-1-2-3.eu-west-2.compute.amazonaws.com", "eu-west-2", "EC2 host name"],
            ["fs-0123abcd.efs.eu-north-1.amazonaws.com", "eu-north-1", "EFS file system"],
            ["search-plone-abc.us-east-2.es.amazonaws.com", "us-east-2", "OpenSearch endpoint"],
            ["plone-lb-123.ca-central-1.elb.amazonaws.com", "ca-central-1", "load balancer"],
            ["my-bucket.s3.ap-southeast-2.amazonaws.com", "ap-southeast-2", "S3 URL"],
            ["s3-us-west-1.amazonaws.com", "us-west-1", "S3 URL"],
            ["us-east-1.s3.eu-west-3.amazonaws.com", "eu-west-3", "S3 URL"],
            // No region in the name, no AWS host, or no real region.
            ["my-bucket.s3.amazonaws.com", undefined, undefined],
            ["logs7.papertrailapp.com", undefined, undefined],
            ["db.c1abc.us-moon-9.rds.amazonaws.com", undefined, undefined],
        ];
        for (const [host, region, service] of hosts) {
            const found = regionOfHost(host);
            expect([found?.region, found?.service], host).to.deep.equal([region, service]);
        }
    });

    it("picks the source of the lowest rank, then the region most sources name, then the first", function () {
        const s = (region: string, what: string, rank: number) => ({ region, what, rank });
        const choice = pickRegion([s("eu-west-1", "the S3 URL a at x", REGION_RANK.bucket), s("us-west-2", "the RDS endpoint b at y", REGION_RANK.service)])!;
        expect(choice.region).to.equal("us-west-2");
        expect(choice.reason).to.equal("the hosts connect to it on every request: it outweighs S3 URL a at x");
        const majority = pickRegion([
            s("eu-west-1", "one", REGION_RANK.service),
            s("us-west-2", "two", REGION_RANK.service),
            s("us-west-2", "three", REGION_RANK.service),
        ])!;
        expect([majority.region, majority.source.what]).to.deep.equal(["us-west-2", "two"]);
        expect(majority.reason).to.equal("the hosts connect to it on every request, and 2 of 3 such sources name us-west-2; 1 other source agrees");
        const tie = pickRegion([s("eu-west-1", "one", REGION_RANK.service), s("us-west-2", "two", REGION_RANK.service)])!;
        expect(tie.region).to.equal("eu-west-1");
        expect(tie.reason).to.match(/a tie: the first one wins/);
        expect(pickRegion([])).to.equal(undefined);
    });
});

describe("import-opsworks: aws:region from the hosts in the Custom JSON", function () {
    it("an RDS endpoint in us-west-2: the stack goes to us-west-2, and the file says why", function () {
        const r = convert(relstorageOn(RDS_WEST));
        expect(r.issues).to.deep.equal([]);
        expect(regionOf(r)).to.equal("us-west-2");
        expect(regionNote(r)).to.equal(`aws:region us-west-2: from the RDS endpoint ${RDS_WEST} at plone_instances.relstorage.db.host`);
        expect(r.text).to.include(`  # From the RDS endpoint ${RDS_WEST} at plone_instances.relstorage.db.host.\n  aws:region: us-west-2\n`);
        // Production snapshots are copied to the region next to the one picked.
        expect(configOf(r.text!)["plone-aws:snapshots"]).to.deep.equal({ crossRegionCopy: { region: "us-east-1" } });
    });

    it("a broker host in us-west-2, with a DATABASE_URL host there too", function () {
        const r = convert({
            plone_instances: { enable_celery: true, broker: { host: "plone-redis.x1y2z3.ng.0001.usw2.cache.amazonaws.com" } },
            deploy: { plone_instances: { environment: { DATABASE_URL: `postgresql://zope:url-Pa55word@${RDS_WEST}/plone` } } },
        });
        expect(regionOf(r)).to.equal("us-west-2");
        expect(regionNote(r)).to.equal(
            "aws:region us-west-2: from the ElastiCache endpoint plone-redis.x1y2z3.ng.0001.usw2.cache.amazonaws.com at plone_instances.broker.host (the hosts connect to it on every request; 1 other source agrees)",
        );
        expect(r.notes.join("\n") + r.text).not.to.include("url-Pa55word");
    });

    it("an EC2 host name of the Solr server", function () {
        const r = convert({ plone_instances: { solr_enabled: true, solr_host: "ip-10-0-3-7.eu-central-1.compute.internal" } });
        expect(regionOf(r)).to.equal("eu-central-1");
    });

    it("an RDS endpoint outweighs an S3 URL of another region", function () {
        const r = convert({
            ...(relstorageOn(RDS_WEST) as object),
            deploy: { plone_instances: { buildout_cache_archives: [{ url: "https://eggs-bucket.s3.eu-west-1.amazonaws.com/eggs.tgz", path: "shared/eggs" }] } },
        });
        expect(regionOf(r)).to.equal("us-west-2");
        expect(regionNote(r)).to.equal(
            `aws:region us-west-2: from the RDS endpoint ${RDS_WEST} at plone_instances.relstorage.db.host (the hosts connect to it on every request: it outweighs S3 URL eggs-bucket.s3.eu-west-1.amazonaws.com at deploy.plone_instances.buildout_cache_archives[0].url); the sources disagree: eu-west-1 (the S3 URL eggs-bucket.s3.eu-west-1.amazonaws.com at deploy.plone_instances.buildout_cache_archives[0].url)`,
        );
        expect(r.text).to.include(
            "# From the RDS endpoint plone-db.c1abc.us-west-2.rds.amazonaws.com at plone_instances.relstorage.db.host; other sources name eu-west-1: the import's notes say why this one won.",
        );
        // A bucket elsewhere is not a server the hosts connect to on every request: no warning.
        expect(r.warnings.map((w) => w.path)).not.to.include("aws:region");
    });

    it("--region wins over a host of another region, says so, and warns that the database is across regions", function () {
        const r = convert(relstorageOn(RDS_WEST), { region: "us-east-1" });
        expect(regionOf(r)).to.equal("us-east-1");
        expect(regionNote(r)).to.equal(
            `aws:region us-east-1: from --region (--region says where the stack goes: it outweighs RDS endpoint ${RDS_WEST} at plone_instances.relstorage.db.host); the sources disagree: us-west-2 (the RDS endpoint ${RDS_WEST} at plone_instances.relstorage.db.host)`,
        );
        const warning = r.warnings.find((w) => w.path === "plone-aws:database.host")!;
        expect(warning.message).to.equal(
            `the database (${RDS_WEST}) is in us-west-2, the stack in us-east-1 (from --region): the hosts would reach it across regions (latency, traffic charges, and security groups cannot name it); move it, or import with --region us-west-2`,
        );
    });

    it("the instances' availability zones win over a broker host of another region, with the warning", function () {
        const r = convert(
            { plone_instances: { enable_celery: true, broker: { host: "b-1234abcd-5678.mq.us-west-2.amazonaws.com" } } },
            {
                instances: {
                    file: "instances.json",
                    json: [{ hostname: "app1", instance_type: "m6i.large", layers: ["plone_instances", "lb", "zeoserver"], availability_zone: "us-east-1a" }],
                },
            },
        );
        expect(regionOf(r)).to.equal("us-east-1");
        expect(regionNote(r)).to.match(
            /^aws:region us-east-1: from the availability zones of instances\.json \(us-east-1a\) \(the OpsWorks instances ran there: it outweighs Amazon MQ broker b-1234abcd-5678\.mq\.us-west-2\.amazonaws\.com at plone_instances\.broker\.host\); the sources disagree: us-west-2 /,
        );
        expect(r.warnings.map((w) => w.path)).to.include("plone-aws:plone.celery.brokerHost");
    });

    it("--region and the instances' zones disagree: --region wins, with a note (no longer an error)", function () {
        const r = convert(
            {},
            {
                region: "eu-west-1",
                instances: {
                    file: "instances.json",
                    json: [{ hostname: "app1", instance_type: "m6i.large", layers: ["plone_instances", "lb", "zeoserver"], availability_zone: "us-east-1a" }],
                },
            },
        );
        expect(r.issues).to.deep.equal([]);
        expect(regionOf(r)).to.equal("eu-west-1");
        expect(regionNote(r)).to.match(
            /^aws:region eu-west-1: from --region \(--region says where the stack goes: it outweighs availability zones of instances\.json \(us-east-1a\)\); the sources disagree: us-east-1/,
        );
    });

    it("nothing names a region: us-east-1, marked as assumed", function () {
        const r = convert({ plone_instances: { site_id: "Plone" } });
        expect(regionOf(r)).to.equal("us-east-1");
        expect(regionNote(r)).to.equal(
            "aws:region us-east-1 is assumed: no --region, no availability zones, and no AWS host name in the Custom JSON names a region",
        );
        expect(r.text).to.include("# Assumed: nothing named a region; give --region");
    });
});

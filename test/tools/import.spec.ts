import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { keyPath } from "../../components/config/issues";
import { ATTRIBUTES, attributesMarkdown } from "../../scripts/lib/opsworks/attributes";
import { importOpsWorks, ImportOptions, ImportResult, Json } from "../../scripts/lib/opsworks/convert";
import { displayPath } from "../../scripts/lib/opsworks/conversion";
import { HANDLERS } from "../../scripts/lib/opsworks/handlers";
import { debianPackages } from "../../scripts/lib/opsworks/packages";
import { REPO } from "../helpers/stacks";
import { tempDir } from "../helpers/system";
import { checkStackText, configOf, ofType, runCommand, runScript, sharedPolicyPack } from "../helpers/stackTools";
import { importOpsWorksCommand } from "../../scripts/import-opsworks";

const FIXTURES = path.join(REPO, "test", "fixtures", "opsworks");
const NOW = new Date("2026-01-15T12:00:00Z");
/** One policy pack for this file's policy checks. */
const policyPack = sharedPolicyPack();

function fixture(name: string): Json {
    return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as Json;
}

function convert(name: string, over: Partial<ImportOptions> = {}, json: Json = fixture(name)): ImportResult {
    return importOpsWorks(json, { stack: "imported", jsonFile: name, adminCidrs: [], now: NOW, ...over });
}

type Section = Record<string, unknown>;
const section = (text: string, name: string) => configOf(text)[`plone-aws:${name}`] as Section;
const hostsOf = (text: string) =>
    section(text, "hosts") as unknown as { name: string; instanceType: string; az: number; layers: string[]; volumes?: Section }[];
const lines = (r: ImportResult, kind: string) => r.report.filter((l) => l.kind === kind).map((l) => `${l.path}: ${l.message}`);

/** Every leaf of the JSON is reported, or lies below a reported key: nothing is dropped silently. */
function expectEveryKeyReported(json: Json, r: ImportResult): void {
    const reported = r.report.map((l) => l.path);
    const visit = (v: Json, parts: (string | number)[]) => {
        if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
            for (const [k, x] of Object.entries(v)) visit(x, [...parts, k]);
            return;
        }
        const p = displayPath(parts);
        const covered = reported.some((q) => p === q || p.startsWith(`${q}.`) || p.startsWith(`${q}[`));
        if (parts.length > 2 || parts[0] !== "deploy") expect(covered, `${p} is not in the report`).to.equal(true);
    };
    visit(json, []);
}

describe("import-opsworks: the Custom JSON examples of the cookbook README", function () {
    const cases: { file: string; storage: string; blobs: string; hosts: [string, string[]][]; check?: (r: ImportResult) => void }[] = [
        {
            file: "quickstart-zeo-nfs.json",
            storage: "zeo",
            blobs: "nfs",
            hosts: [
                ["web-1", ["frontend"]],
                ["app-1", ["plone_instances"]],
                ["zeo-1", ["zeoserver"]],
                ["blobs-1", ["shared_blobs"]],
            ],
            check: (r) =>
                expect(lines(r, "unknown")).to.deep.equal([
                    "zeoserver.nfs_blobs: true: not a key of the OpsWorks cookbooks; did you mean plone_zeoserver.nfs_blobs (the cookbook ignored the top-level zeoserver key of its README)?: not carried over",
                ]),
        },
        {
            file: "quickstart-relstorage.json",
            storage: "relstorage",
            blobs: "nfs",
            hosts: [
                ["web-1", ["frontend"]],
                ["app-1", ["plone_instances", "db_packing"]],
                ["blobs-1", ["shared_blobs"]],
                ["cache-1", ["memcached"]],
            ],
        },
        {
            file: "quickstart-relstorage-blobs-in-db.json",
            storage: "relstorage",
            blobs: "database",
            hosts: [
                ["web-1", ["frontend"]],
                ["app-1", ["plone_instances", "db_packing"]],
                ["cache-1", ["memcached"]],
            ],
        },
        {
            file: "s3fs-blobs.json",
            storage: "zeo",
            blobs: "efs",
            hosts: [
                ["web-1", ["frontend"]],
                ["app-1", ["plone_instances"]],
                ["zeo-1", ["zeoserver"]],
            ],
            check: (r) =>
                expect(lines(r, "refused")).to.deep.equal([
                    "s3fs_fuse.s3_key: (a secret, not shown): IAM user keys: EFS replaces the s3fs bucket, with no keys on the hosts",
                    "s3fs_fuse.s3_secret: (a secret, not shown): IAM user keys: EFS replaces the s3fs bucket, with no keys on the hosts",
                ]),
        },
        {
            file: "simple-single-host.json",
            storage: "zeo",
            blobs: "local",
            hosts: [["plone-1", ["frontend", "plone_instances", "zeoserver"]]],
            check: (r) => {
                expect(section(r.text!, "app")).not.to.have.any.keys("initCommands", "partsToInclude", "buildoutExtends");
                expect(r.notes.join("\n")).to.match(/zeoserver layer on the app host/);
            },
        },
        {
            file: "apt-unattended-upgrades.json",
            storage: "zeo",
            blobs: "zeo",
            hosts: [
                ["web-1", ["frontend"]],
                ["app-1", ["plone_instances"]],
                ["zeo-1", ["zeoserver"]],
            ],
            check: (r) =>
                expect(lines(r, "unsupported")).to.deep.equal([
                    'apt.unattended_upgrades.package_blacklist: ["newrelic-sysmond"]: no package is held back (newrelic-sysmond is gone)',
                    "apt.unattended_upgrades.mail: \"you@example.com\": unattended-upgrades mails no report: plone-aws:mail relays the app's mail (Plone, celery) from the app hosts only; the cookbook has no mail attribute of Plone's own (it left MailHost to the buildout)",
                ]),
        },
        {
            file: "readme-app-settings.json",
            storage: "zeo",
            blobs: "zeo",
            hosts: [
                ["web-1", ["frontend"]],
                ["app-1", ["plone_instances"]],
                ["zeo-1", ["zeoserver"]],
            ],
            check: (r) => {
                const app = section(r.text!, "app");
                expect(app.osPackages).to.deep.equal(["libtiff-dev", "libjpeg-dev", "liblcms2-dev", "poppler-utils", "wv"]);
                expect(app.initCommands).to.deep.equal([
                    { name: "mydaemon", cmd: "bin/mydaemon", args: "console" },
                    { name: "memmon", cmd: "bin/memmon", args: "-a 1GB -m foo@baz.com --name='Production memmon'", eventListener: { events: ["TICK_60"] } },
                ]);
                expect(app.cacheArchives).to.deep.equal([{ url: "https://url.to/plone-5.0-eggs.tgz", path: "shared/eggs", user: "me" }]);
                expect(app).to.include({ alwaysBuildOnDeploy: true });
                expect(r.secrets.find((s) => s.key === "plone-aws:cacheArchivePassword")!.command).to.equal(
                    "jq -j '.deploy.plone_instances.buildout_cache_archives[0].password' readme-app-settings.json | pulumi config set --secret plone-aws:cacheArchivePassword --stack imported",
                );
            },
        },
    ];

    for (const t of cases) {
        it(`${t.file}: converts (${t.storage}, ${t.blobs} blobs), validates and plans`, async function () {
            const json = fixture(t.file);
            const r = convert(t.file, {}, json);
            expect(r.issues).to.deep.equal([]);
            expect(hostsOf(r.text!).map((h) => [h.name, h.layers])).to.deep.equal(t.hosts);
            expect(section(r.text!, "plone").blobs).to.equal(t.blobs);
            expectEveryKeyReported(json, r);
            t.check?.(r);
            // The cookbook's examples set up no TLS: production refuses plain HTTP until a certificate is given.
            expect(r.notes.join("\n")).to.match(/no TLS, and the production policy refuses/);
            const { loaded, run } = await checkStackText(r.text!, "imported", policyPack, { mandatory: ["site-served-over-tls"] });
            expect(loaded.spec.plone.storage).to.equal(t.storage);
            expect(ofType(run, "aws:ec2/instance:Instance")).to.have.length(t.hosts.length + 1); // + the bastion
            expect(ofType(run, "aws:rds/instance:Instance")).to.have.length(t.storage === "relstorage" ? 1 : 0);
            expect(ofType(run, "aws:efs/fileSystem:FileSystem")).to.have.length(t.blobs === "efs" ? 1 : 0);
            expect(r.text).to.match(/^# The imported stack, imported from the OpsWorks stack Custom JSON/);
            expect(r.placeholders).to.deep.equal([
                "plone-aws:app.repository",
                "plone-aws:frontend.domain",
                "plone-aws:access.publicKey",
                "plone-aws:network.adminCidrs",
            ]);
        });
    }

    it("the cookbook's example-custom-json.json: its placeholder app name is the schema's error, by key path and JSON path", function () {
        const r = convert("example-custom-json.json");
        expect(r.text).to.equal(undefined);
        expect(r.issues).to.deep.equal([
            {
                path: "plone-aws:app.name",
                message: "must be lower-case letters, digits and '_', starting with a letter (at most 31) (from plone_instances.app_name)",
            },
        ]);
        expect(lines(r, "unknown")).to.deep.equal([
            "plone_instances.celery_enabled: false: not a key of the OpsWorks cookbooks; did you mean plone_instances.enable_celery (the cookbook ignored celery_enabled, as its example-custom-json.json did)?: not carried over",
        ]);
    });

    it("the same with an app name: converts, and reports the other apps' settings that differ", async function () {
        const text = fs
            .readFileSync(path.join(FIXTURES, "example-custom-json.json"), "utf8")
            .replace(/\*\*\*\*\* YOUR APP NAME \*\*\*\*\*/g, "plone_instances");
        const json = JSON.parse(text) as Json;
        const r = convert("example-custom-json.json", { repository: "https://github.com/example-org/site.git", domain: "www.example.org" }, json);
        expect(r.issues).to.deep.equal([]);
        expectEveryKeyReported(json, r);
        expect(lines(r, "unsupported")).to.include(
            "deploy.solr.buildout_extends: []: differs from deploy.plone_instances.buildout_extends: plone-aws builds every layer (ZEO, Solr) from the one app, with the Plone app's settings",
        );
        expect(lines(r, "dropped")).to.include(
            'deploy.zeoserver.environment: {"DEPLOYMENT":"STAGING"}: the same as deploy.plone_instances.environment: plone-aws builds every layer from one app',
        );
        expect(r.placeholders).to.deep.equal(["plone-aws:access.publicKey", "plone-aws:network.adminCidrs"]);
        await checkStackText(r.text!, "imported", policyPack, { mandatory: ["site-served-over-tls"] });
    });
});

describe("import-opsworks: a production stack with its instances", function () {
    const json = fixture("production-relstorage.json");
    const r = convert("production-relstorage.json", {
        stack: "prod",
        instances: { json: fixture("production-instances.json"), file: "production-instances.json" },
        publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPSWORKSIMPORTTESTKEY00000000000000000000000 ops",
        adminCidrs: ["203.0.113.0/28"],
    });

    it("maps the instances and their layers, dropping the layers plone-aws needs no host for", function () {
        expect(r.issues).to.deep.equal([]);
        expect(hostsOf(r.text!)).to.deep.equal([
            { name: "lb1", instanceType: "c6i.large", az: 0, layers: ["frontend"] },
            { name: "plone-app1", instanceType: "c6i.xlarge", az: 0, layers: ["plone_instances", "celerybeat", "db_packing"] },
            { name: "plone-app2", instanceType: "c6i.xlarge", az: 1, layers: ["plone_instances"] },
            { name: "memcached1", instanceType: "m6i.large", az: 0, layers: ["memcached"] },
            { name: "redis1", instanceType: "t3.small", az: 0, layers: ["redis"] },
            { name: "gluster1", instanceType: "m6i.large", az: 0, layers: ["shared_blobs"], volumes: { bricks: 300 } },
            { name: "gluster2", instanceType: "m6i.large", az: 1, layers: ["shared_blobs"], volumes: { bricks: 300 } },
        ]);
        const config = configOf(r.text!);
        expect(config["aws:region"]).to.equal("us-east-1");
        expect(section(r.text!, "network")).to.deep.equal({ azCount: 2, adminCidrs: ["203.0.113.0/28"] });
        expect(r.notes).to.include("plone-app1: layer ebs_snapshots needs no host in plone-aws (Data Lifecycle Manager snapshots every data volume)");
        expect(r.notes).to.include("lb1: c4.large -> c6i.large: a previous-generation type; the current one of its family and size");
    });

    it("carries the settings over to their plone-aws keys", function () {
        expect(section(r.text!, "plone")).to.deep.equal({
            siteId: "Plone",
            clientsPerCpu: 2,
            zserverThreads: 2,
            restartDelay: 10,
            storage: "relstorage",
            blobs: "gluster",
            glusterVolume: "blobs",
            pack: { days: 14, twoStage: true },
            celery: { enabled: true },
            clientSyslog: { facility: "local3" },
            zeoSyslog: { facility: "local4" },
            tmpfsSize: "2G",
            timezone: "America/New_York",
            healthCheckPath: "/misc_/CMFPlone/plone_icon",
        });
        expect(section(r.text!, "database")).to.deep.equal({ host: "plone-db.c0example.us-east-1.rds.amazonaws.com", port: 5432, name: "plone", user: "zope" });
        expect(section(r.text!, "frontend")).to.deep.include({
            domain: "www.example.edu",
            aliases: ["example.edu"],
            tls: { mode: "certbot", email: "webmaster@example.edu" },
        });
        expect(section(r.text!, "frontend").haproxy).to.deep.equal({ statsUser: "admin", checkInterval: 10000, serverTimeout: "900s", maxConnections: 80000 });
        // 03:30 in New York (EST in January) is 08:30 UTC; production copies to a second region.
        expect(section(r.text!, "snapshots")).to.deep.equal({ time: "08:30", retain: 20, crossRegionCopy: { region: "us-west-2" } });
        expect(section(r.text!, "app")).to.deep.include({
            repository: "git@github.com:example-edu/plone-buildout.git",
            revision: "production",
            osPackages: ["libjpeg-dev", "libtiff-dev", "poppler-utils"],
            environment: { PLONE_ENV: "production" },
        });
        expect(r.text).to.include('    time: "08:30"');
    });

    it("reports every key: unknown ones by path, the snapshot IAM keys refused with the DLM explanation", function () {
        expectEveryKeyReported(json, r);
        expect(lines(r, "unknown")).to.deep.equal([
            "plone_instances.celery_enabled: true: not a key of the OpsWorks cookbooks; did you mean plone_instances.enable_celery (the cookbook ignored celery_enabled, as its example-custom-json.json did)?: not carried over",
            'mystery_setting: {"enabled":true}: not a key of the OpsWorks cookbooks: not carried over',
        ]);
        const dlm = "Data Lifecycle Manager takes the snapshots with an IAM role (plone-aws:snapshots): no IAM user keys on the hosts";
        expect(lines(r, "refused")).to.include.members([
            `ebs_snapshots.aws_key: (a secret, not shown): ${dlm}`,
            `ebs_snapshots.aws_secret: (a secret, not shown): ${dlm}`,
        ]);
        expect(lines(r, "ignored")).to.deep.equal([
            "new_relic.servers: true: dead key: the cookbook reads newrelic.servers",
            "deploy.plone_instances.buildout_inherit_parts: false: the cookbook's helper uses ||, so false never took effect: kept as parts +=",
        ]);
        expect(r.text).to.match(/# Not carried over \(the import's report says why\):\n#   plone_instances\.celery_enabled, /);
    });

    it("never writes a secret, and lists the exact commands that set them", function () {
        for (const value of [
            "s3cr3t-db-Pa55",
            "st4ts-Pa55word",
            "exampleDEPLOYkey",
            "0123456789abcdef0123456789abcdef01234567",
            "eggs-Pa55word",
            "smtp-Pa55word",
            "AKIAEXAMPLEKEY0000",
            "wJalrEXAMPLEsecretKEY000",
        ]) {
            expect(r.text).not.to.include(value);
            expect(JSON.stringify(r.report) + JSON.stringify(r.secrets) + r.notes.join()).not.to.include(value);
        }
        expect(r.secrets.map((s) => s.command)).to.deep.equal([
            "pulumi config set --secret plone-aws:sshPrivateKey --stack prod",
            "jq -j .deploy.plone_instances.scm.ssh_key production-relstorage.json | pulumi config set --secret plone-aws:deployKey --stack prod",
            "jq -j .plone_instances.relstorage.db.password production-relstorage.json | pulumi config set --secret plone-aws:dbPassword --stack prod",
            "jq -j .haproxy.stats_password production-relstorage.json | pulumi config set --secret plone-aws:haproxyStatsPassword --stack prod",
            "jq -j '.deploy.plone_instances.buildout_cache_archives[0].password' production-relstorage.json | pulumi config set --secret plone-aws:cacheArchivePassword --stack prod",
            "jq -j .newrelic.license production-relstorage.json | pulumi config set --secret plone-aws:newRelicLicenseKey --stack prod",
            "jq -j .deploy.plone_instances.environment.SMTP_PASSWORD production-relstorage.json | pulumi config set --secret --path 'plone-aws:appSecrets.SMTP_PASSWORD' --stack prod",
        ]);
        expect(lines(r, "secret")).to.include(
            "deploy.plone_instances.environment.SMTP_PASSWORD: (a secret, not shown) -> secret plone-aws:appSecrets.SMTP_PASSWORD (not written: its name says it holds a secret; set it with the command printed below)",
        );
        expect(section(r.text!, "app").environment).to.deep.equal({ PLONE_ENV: "production" });
    });

    it("validates and plans: every host, the existing database (no RDS), one front end on an Elastic IP", async function () {
        const { loaded, run } = await checkStackText(r.text!, "prod", policyPack);
        expect(loaded.spec.tier).to.equal("production");
        expect(ofType(run, "aws:ec2/instance:Instance")).to.have.length(8);
        expect(ofType(run, "aws:rds/instance:Instance")).to.have.length(0);
        expect(ofType(run, "aws:lb/loadBalancer:LoadBalancer")).to.have.length(0);
        expect(ofType(run, "aws:dlm/lifecyclePolicy:LifecyclePolicy")[0].inputs).to.have.nested.property("policyDetails.schedules[0].retainRule.count", 20);
    });
});

describe("import-opsworks: problems are ConfigIssues, not crashes", function () {
    it("both nfs and gluster blobs: the plone.blobs error, nothing written", function () {
        const r = convert("nfs-and-gluster.json");
        expect(r.text).to.equal(undefined);
        expect(r.issues).to.deep.equal([
            {
                path: keyPath(["plone", "blobs"]),
                message:
                    "nfs and gluster blobs are exclusive: the Custom JSON sets both plone_instances.nfs_blobs and plone_instances.gluster_blobs to true; set one of them to false",
            },
        ]);
    });

    it("instances files: unknown layers and bad fields by path; values the schema refuses, with the JSON key", function () {
        const bad = convert("quickstart-zeo-nfs.json", {
            instances: {
                file: "instances.json",
                json: [
                    { hostname: "a", instance_type: "c4.large", layers: ["lb", "maintenance"] },
                    { hostname: "b", instance_type: "huge", layers: [] },
                ],
            },
        });
        expect(bad.issues).to.deep.equal([
            { path: "instances.json[1].instance_type", message: "must be an EC2 instance type such as c4.large" },
            { path: "instances.json[1].layers", message: "an instance has at least one layer" },
        ]);
        const unknown = convert("quickstart-zeo-nfs.json", {
            instances: { file: "instances.json", json: [{ hostname: "a", instance_type: "c4.large", layers: ["lb", "maintenance"] }] },
        });
        expect(unknown.issues[0].path).to.equal("instances.json[0].layers[1]");
        expect(unknown.issues[0].message).to.match(/^unknown layer "maintenance": map it in the file/);
        const facility = convert("x.json", {}, { plone_instances: { syslog_facility: "daemon" } });
        expect(facility.issues).to.deep.equal([
            { path: "plone-aws:plone.clientSyslog.facility", message: "must be local0 .. local7 (from plone_instances.syslog_facility)" },
        ]);
        expect(convert("x.json", {}, [] as Json).issues).to.deep.equal([{ path: "x.json", message: "a stack Custom JSON is a JSON object ({ ... })" }]);
    });
});

describe("the OpsWorks attribute table", function () {
    it("has all 217 cookbook keys, each once, and every mapped key is converted", function () {
        const rows = new Set(ATTRIBUTES.map((a) => a.row).filter((r): r is number => r !== null));
        expect([...rows].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 217 }, (_, i) => i + 1));
        const paths = ATTRIBUTES.map((a) => a.path);
        expect(new Set(paths).size).to.equal(paths.length);
        for (const a of ATTRIBUTES) {
            expect(a.note || a.target, a.path)
                .to.be.a("string")
                .and.not.equal("");
            if (a.disposition !== "mapped" && a.disposition !== "secret") {
                expect(HANDLERS[a.path], `${a.path} is ${a.disposition} but has a handler`).to.equal(undefined);
                expect(a.note, a.path).to.not.equal("");
            } else if (!HANDLERS[a.path]) {
                expect(a.target, `${a.path} is copied to its target`).to.match(/^plone-aws:[a-z]+\.[A-Za-z.]+$/);
            }
        }
        for (const p of Object.keys(HANDLERS)) expect(paths, p).to.include(p);
        expect(attributesMarkdown().split("\n")).to.have.length(ATTRIBUTES.length + 2);
    });

    it("carries OpsWorks' built-in memcached attributes to plone.memcached (max_connections was a string there)", function () {
        const json = fixture("simple-single-host.json") as Record<string, Json>;
        const r = convert("simple-single-host.json", {}, { ...json, memcached: { memory: 1024, max_connections: "2048", user: "nobody" } });
        expect(r.text, JSON.stringify(r.report)).to.be.a("string");
        expect(section(r.text!, "plone").memcached).to.deep.equal({ memoryMb: 1024, maxConnections: 2048 });
        expect(lines(r, "dropped").join("\n")).to.include("memcached runs as Debian's memcache user");
    });

    it("maps Ubuntu packages to Debian 12 names and drops Ubuntu version pins", function () {
        expect(debianPackages(["libjpeg8-dev", "libtiff4-dev", "liblcms1-dev", "libfreetype6-dev", "mime-support", "wv", "python-dev"]).packages).to.deep.equal(
            ["libjpeg-dev", "libtiff-dev", "liblcms2-dev", "libfreetype-dev", "media-types", "wv"],
        );
        const pinned = debianPackages({ "libxml2-dev": "2.9.1+dfsg1-3ubuntu4" });
        expect(pinned.packages).to.deep.equal(["libxml2-dev"]);
        expect(pinned.notes[0]).to.match(/^version pins dropped/);
    });
});

describe("npm run import-opsworks (in-process; a missing file through a child process)", function () {
    let tmp: { dir: string; cleanup: () => void };
    before(() => (tmp = tempDir("import")));
    after(() => tmp.cleanup());

    it("writes the stack file with a report and the secret commands, and refuses to overwrite it", async function () {
        const args = [path.join(FIXTURES, "simple-single-host.json"), "--stack", "legacy", "--dir", tmp.dir, "--domain", "www.example.org"];
        const ok = await runCommand(importOpsWorksCommand, args);
        expect(ok.status, ok.stderr).to.equal(0);
        expect(ok.stdout).to.include("Refused:\n  ebs_snapshots.aws_key: (a secret, not shown): Data Lifecycle Manager takes the snapshots with an IAM role");
        expect(ok.stdout).to.include(`Wrote ${path.join(tmp.dir, "Pulumi.legacy.yaml")}.`);
        expect(ok.stdout).to.include("  pulumi config set --secret plone-aws:haproxyStatsPassword --stack legacy\n");
        expect(fs.readFileSync(path.join(tmp.dir, "Pulumi.legacy.yaml"), "utf8")).to.include("domain: www.example.org");
        const again = await runCommand(importOpsWorksCommand, args);
        expect(again.status).to.equal(1);
        expect(again.stderr.trim()).to.equal(
            `error: ${path.join(tmp.dir, "Pulumi.legacy.yaml")} exists already: it was left unchanged (use --force to overwrite it)`,
        );
    });

    it("exits 1 with the configuration errors, or a usage message, and writes nothing", async function () {
        const both = await runCommand(importOpsWorksCommand, [path.join(FIXTURES, "nfs-and-gluster.json"), "--stack", "both", "--dir", tmp.dir]);
        expect(both.status).to.equal(1);
        expect(both.stderr).to.include(`has 1 configuration error:\n  - plone-aws:plone.blobs: nfs and gluster blobs are exclusive`);
        expect(both.stderr).to.include("Pulumi.both.yaml was not written.");
        expect(fs.existsSync(path.join(tmp.dir, "Pulumi.both.yaml"))).to.equal(false);
        const noStack = await runCommand(importOpsWorksCommand, [path.join(FIXTURES, "nfs-and-gluster.json")]);
        expect(noStack.status).to.equal(1);
        expect(noStack.stderr).to.match(/^error: --stack <name> is required: .*\nusage: npm run import-opsworks/);
        // The process itself: exit 1 and the message, no trace.
        const missing = runScript("import-opsworks.ts", ["no-such.json", "--stack", "x", "--dir", tmp.dir]);
        expect(missing.status).to.equal(1);
        expect(missing.stderr.trim()).to.equal("error: cannot read the Custom JSON no-such.json: no such file");
        for (const r of [both, noStack, missing]) expect(r.stderr).not.to.match(/\n\s+at /);
    });
});

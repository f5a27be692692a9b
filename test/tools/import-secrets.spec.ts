// import-opsworks never writes a secret: secrets under secret keys, and secrets inside other values
// (a repository URL's token, a DATABASE_URL, a Sentry DSN, an Authorization header, a buildout
// `password = ...` line) become printed `pulumi config set --secret` commands or are left out, and
// no value of them reaches the stack file, the report, stdout or stderr.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ATTRIBUTES } from "../../scripts/lib/opsworks/attributes";
import { displayValue, findCredential, secretEnvReason, splitUrlCredentials } from "../../scripts/lib/opsworks/credentials";
import { importOpsWorks, ImportOptions, ImportResult, Json } from "../../scripts/lib/opsworks/convert";
import { REPO } from "../helpers/stacks";
import { run, tempDir } from "../helpers/system";
import { checkStackText, configOf, runCommand, runScript, sharedPolicyPack } from "../helpers/stackTools";
import { importOpsWorksCommand } from "../../scripts/import-opsworks";

const FIXTURES = path.join(REPO, "test", "fixtures", "opsworks");
const NOW = new Date("2026-01-15T12:00:00Z");
/** One policy pack for this file's policy checks. */
const policyPack = sharedPolicyPack();
const HOSTILE = "hostile-secrets.json";

function fixture(name: string): Record<string, Json> {
    return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as Record<string, Json>;
}

function convert(json: Json, over: Partial<ImportOptions> = {}, jsonFile = "custom.json"): ImportResult {
    return importOpsWorks(json, { stack: "imported", jsonFile, adminCidrs: [], now: NOW, ...over });
}

/** Everything the import shows besides the file: report, notes, warnings, issues, commands. */
function printed(r: ImportResult): string {
    return JSON.stringify([r.report, r.notes, r.warnings, r.issues, r.secrets, r.placeholders]);
}

/** The secrets of hostile-secrets.json, each with the key its command sets. */
const HOSTILE_SECRETS: Record<string, string> = {
    ghp_R3poT0kenAbcdefghijklmnopqrstuvwxyz12: "plone-aws:repositoryToken",
    "dsn-Pa55-w0rd!": "plone-aws:dbPassword",
    "archive-Pa55-w0rd": "plone-aws:cacheArchivePassword",
    "postgresql://zope:db-url-Pa55w0rd@plone-db.c1abc.us-west-2.rds.amazonaws.com:5432/plone": "plone-aws:appSecrets.DATABASE_URL",
    "https://0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io/678": "plone-aws:appSecrets.SENTRY_DSN",
    "https://fedcba9876543210fedcba9876543210@o12345.ingest.sentry.io/679": "plone-aws:appSecrets.ERROR_REPORTER_URL",
    "smtp-Pa55-value": "plone-aws:appSecrets.SMTP_PASS",
    "Authorization: Bearer env-B3arer-t0ken-value": "plone-aws:appSecrets.UPSTREAM_HEADERS",
    "redis://:redis-Pa55-w0rd@b-1234abcd-5678.mq.us-west-2.amazonaws.com:6379/0": "plone-aws:appSecrets.CELERY_BROKER_URL",
    "app-env-T0ken-value": "plone-aws:appSecrets.API_TOKEN",
};
/** Secret parts of values that have no secret key: left out of the file. */
const WITHHELD = ["pip-Pa55-w0rd", "buildout-Pa55-w0rd", "nginx-B3arer-t0ken-value"];
/** Substrings that identify each secret wherever it might leak (the tokens inside the URLs). */
const LEAK_MARKERS = [
    "ghp_R3poT0ken",
    "dsn-Pa55",
    "archive-Pa55",
    "db-url-Pa55",
    "0123456789abcdef0123",
    "fedcba9876543210",
    "smtp-Pa55",
    "env-B3arer",
    "redis-Pa55",
    "app-env-T0ken",
    ...WITHHELD,
];

describe("credentials inside values", function () {
    it("finds the credentials the cookbook's JSON held in clear, and not ordinary values", function () {
        const found: [string, string | undefined][] = [
            ["https://ci:glpat-abcdefghij0123456789@gitlab.com/x.git", "a URL with a password (user:password@)"],
            ["redis://:s3cret-value@cache:6379/0", "a URL with a password (user:password@)"],
            ["https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/2", "a URL with a token as its user name (e.g. a Sentry DSN)"],
            ["Authorization: Basic dXNlcjpwYXNzd29yZA==", "an Authorization header"],
            ['proxy_set_header Authorization "Bearer abcdefghijklmnop";', "an Authorization header"],
            ["-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "a private key"],
            ["AKIAIOSFODNN7EXAMPLE", "an AWS access key id"],
            ["[mailer]\nsmtp-password = hunter2hunter2\n", "a secret setting (smtp-password = ...)"],
            ["--api-key=abcdef123456", "a secret setting (api-key = ...)"],
            ["https://example.org/feed?access_token=abcdef123456", "a secret setting (access_token = ...)"],
            // Not credentials: user names alone, references, paths, flags, nginx directives.
            ["https://oauth2@gitlab.com/org/repo.git", undefined],
            ["git@github.com:org/repo.git", undefined],
            ["password = ${relstorage:password}", undefined],
            ["ssl-key = /etc/ssl/private/site.key", undefined],
            ["auth_basic_user_file /etc/nginx/htpasswd;\nproxy_set_header Authorization $http_authorization;", undefined],
            ["keep-password: false", undefined],
            ['location = /robots.txt { return 200 "User-agent: *\\n"; }', undefined],
        ];
        for (const [text, what] of found) expect(findCredential(text), text).to.equal(what);
        expect(secretEnvReason("DB_PASSWORD", "x")).to.equal("its name says it holds a secret");
        expect(secretEnvReason("DATABASE_URL", "postgres://u:p4ss@db/plone")).to.equal("its value holds a URL with a password (user:password@)");
        expect(secretEnvReason("PLONE_ENV", "production")).to.equal(undefined);
    });

    it("splits the secret off a URL and keeps the user name", function () {
        expect(splitUrlCredentials("https://ci-bot:T0ken-value@github.com/o/r.git")).to.deep.equal({
            url: "https://ci-bot@github.com/o/r.git",
            user: "ci-bot",
            secret: "T0ken-value",
            place: "password",
        });
        expect(splitUrlCredentials("https://u:p@ss@host/x")).to.deep.equal({ url: "https://u@host/x", user: "u", secret: "p@ss", place: "password" });
        expect(splitUrlCredentials("https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r.git")).to.deep.equal({
            url: "https://github.com/o/r.git",
            secret: "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            place: "user",
        });
        expect(splitUrlCredentials("https://oauth2@gitlab.com/o/r.git")).to.equal(undefined);
        expect(splitUrlCredentials("https://github.com/o/r.git")).to.equal(undefined);
    });

    it("never shows a secret in a report value, and escapes control characters", function () {
        expect(displayValue("s3cret", "db_password")).to.equal("(a secret, not shown)");
        expect(displayValue("https://u:p4ss@host/x", "url")).to.equal("(a secret, not shown)");
        expect(displayValue({ USER: "zope", SMTP_PASS: "x1y2z3w4" })).to.equal("{2 keys, holding a secret: not shown}");
        expect(displayValue(["a", "https://u:p4ss@host/x"])).to.equal("[2 items, holding a secret: not shown]");
        expect(displayValue("line1\nline2\u001b[31m")).to.equal('"line1\\nline2\\u001b[31m"');
        expect(displayValue(false)).to.equal("false");
    });
});

describe("import-opsworks: a Custom JSON full of secrets", function () {
    const json = fixture(HOSTILE);
    const r = convert(json, {}, HOSTILE);

    it("writes none of them into the stack file, and prints none", function () {
        expect(r.issues).to.deep.equal([]);
        for (const marker of LEAK_MARKERS) {
            expect(r.text, marker).not.to.include(marker);
            expect(printed(r), marker).not.to.include(marker);
        }
    });

    it("prints a command for each secret it found, naming its key", function () {
        const keys = r.secrets.map((s) => s.key);
        for (const key of new Set(Object.values(HOSTILE_SECRETS))) expect(keys, key).to.include(key);
        const appSecret = r.secrets.find((s) => s.key === "plone-aws:appSecrets.DATABASE_URL")!;
        expect(appSecret.command).to.equal(
            `jq -j .deploy.plone_instances.environment.DATABASE_URL ${HOSTILE} | pulumi config set --secret --path 'plone-aws:appSecrets.DATABASE_URL' --stack imported`,
        );
        expect(appSecret.why).to.equal(
            "the app's environment variable DATABASE_URL (its value holds a URL with a password (user:password@)); the Custom JSON has it at deploy.plone_instances.environment.DATABASE_URL",
        );
        // The DSN's password cannot be cut out with jq: its command prompts.
        expect(r.secrets.find((s) => s.key === "plone-aws:dbPassword")!.command).to.equal("pulumi config set --secret plone-aws:dbPassword --stack imported");
    });

    it("each printed jq pipe extracts exactly its secret from the JSON", function () {
        const piped = r.secrets.filter((s) => s.command.startsWith("jq "));
        expect(piped.length).to.be.greaterThan(8);
        for (const s of piped) {
            const jq = s.command.slice(0, s.command.indexOf(" | pulumi config set"));
            const out = run("bash", ["-c", jq], { cwd: FIXTURES });
            expect(out.status, `${jq}: ${out.stderr}`).to.equal(0);
            const expected = Object.entries(HOSTILE_SECRETS).find(([, key]) => key === s.key)?.[0];
            expect(out.stdout, s.key).to.equal(expected);
        }
    });

    it("keeps what is not secret: the URL's user name, the plain variables, the other packages", function () {
        const app = configOf(r.text!)["plone-aws:app"] as Record<string, unknown>;
        expect(app.repository).to.equal("https://ci-bot@github.com/example-org/site-buildout.git");
        // deploy.<app>.environment wins over the OpsWorks app's environment_variables.
        expect(app.environment).to.deep.equal({ PLONE_ENV: "production" });
        expect(app.cacheArchives).to.deep.equal([{ url: "https://eggs.example.org/plone-eggs.tgz", path: "shared/eggs", user: "eggs" }]);
        expect(app.pipPackages).to.deep.equal(["requests"]);
        expect(app).not.to.have.property("rawBuildoutConfig");
        expect(configOf(r.text!)["plone-aws:frontend"]).not.to.have.property("nginx");
    });

    it("says what it left out and why, by plone-aws key and JSON key", function () {
        const warnings = r.warnings.map((w) => `${w.path}: ${w.message.split(":")[0]}`);
        expect(warnings).to.include.members([
            "plone-aws:app.pipPackages[1]: holds a URL with a password (user",
            "plone-aws:app.rawBuildoutConfig: holds a secret setting (smtp-password = ...) (from deploy.plone_instances.buildout_additional_config)",
            "plone-aws:frontend.nginx.rawServer: holds an Authorization header (from nginx_plone.additional_config)",
        ]);
        const line = (p: string) => r.report.find((l) => l.path === p)!;
        expect(line("deploy.plone_instances.packages").message).to.equal(
            '[2 items, holding a secret: not shown] -> plone-aws:app.pipPackages ["requests"]; not written: plone-aws:app.pipPackages[1] (it holds a URL with a password (user:password@))',
        );
        expect(line("deploy.plone_instances.scm.repository").message).to.equal(
            '(a secret, not shown) -> plone-aws:app.repository "https://ci-bot@github.com/example-org/site-buildout.git"; its password -> secret plone-aws:repositoryToken (not written)',
        );
        expect(line("deploy.plone_instances.environment.SENTRY_DSN")).to.deep.equal({
            path: "deploy.plone_instances.environment.SENTRY_DSN",
            kind: "secret",
            message:
                "(a secret, not shown) -> secret plone-aws:appSecrets.SENTRY_DSN (not written: its name says it holds a secret; set it with the command printed below)",
        });
        expect(line("deploy.plone_instances.environment_variables").message).to.equal(
            "{2 keys, holding a secret: not shown} -> API_TOKEN -> secrets (not written: their commands are printed below); PLONE_ENV -> not used: deploy.plone_instances.environment sets it too, and wins",
        );
    });

    it("validates and plans", async function () {
        await checkStackText(r.text!, "imported", policyPack, { mandatory: ["site-served-over-tls"] });
    });
});

describe("import-opsworks: repository credentials", function () {
    const base = (scm: Record<string, Json>) => ({ deploy: { plone_instances: { scm: { scm_type: "git", ...scm } } } });

    it("the OpsWorks app's scm.user and scm.password of an https repository: the user in the URL, the password a secret", function () {
        const r = convert(base({ repository: "https://git.example.org/site.git", user: "deployer", password: "scm-Pa55-w0rd" }));
        expect(r.issues).to.deep.equal([]);
        expect((configOf(r.text!)["plone-aws:app"] as Record<string, unknown>).repository).to.equal("https://deployer@git.example.org/site.git");
        expect(r.secrets.find((s) => s.key === "plone-aws:repositoryToken")!.command).to.equal(
            "jq -j .deploy.plone_instances.scm.password custom.json | pulumi config set --secret plone-aws:repositoryToken --stack imported",
        );
        expect(r.text).not.to.include("scm-Pa55-w0rd");
        expect(printed(r)).not.to.include("scm-Pa55-w0rd");
    });

    it("a password with an SSH repository: not used, not written (the deploy key authenticates)", function () {
        const r = convert(base({ repository: "git@github.com:org/site.git", user: "git", password: "scm-Pa55-w0rd" }));
        expect(r.report.find((l) => l.path === "deploy.plone_instances.scm.password")).to.deep.equal({
            path: "deploy.plone_instances.scm.password",
            kind: "unsupported",
            message: "(a secret, not shown): only an https repository takes a password: an SSH repository authenticates with plone-aws:deployKey; not written",
        });
        expect(r.secrets.map((s) => s.key)).not.to.include("plone-aws:repositoryToken");
        expect(r.text! + printed(r)).not.to.include("scm-Pa55-w0rd");
    });

    it("a token as the URL's user name: the URL without user-info, the token a secret", function () {
        const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        const r = convert(base({ repository: `https://${token}@github.com/org/site.git` }));
        expect((configOf(r.text!)["plone-aws:app"] as Record<string, unknown>).repository).to.equal("https://github.com/org/site.git");
        expect(r.text! + printed(r)).not.to.include(token);
        const jq = r.secrets.find((s) => s.key === "plone-aws:repositoryToken")!.command.split(" | pulumi")[0];
        const dir = tempDir("import-token");
        try {
            fs.writeFileSync(path.join(dir.dir, "custom.json"), JSON.stringify(base({ repository: `https://${token}@github.com/org/site.git` })));
            expect(run("bash", ["-c", jq], { cwd: dir.dir }).stdout).to.equal(token);
        } finally {
            dir.cleanup();
        }
    });

    it("--repository with a token: the URL written with its user name, the token a secret the command prompts for", function () {
        const r = convert({}, { repository: "https://ci:opt-T0ken-value@gitlab.example.org/site.git" });
        expect((configOf(r.text!)["plone-aws:app"] as Record<string, unknown>).repository).to.equal("https://ci@gitlab.example.org/site.git");
        expect(r.secrets.find((s) => s.key === "plone-aws:repositoryToken")!.command).to.equal(
            "pulumi config set --secret plone-aws:repositoryToken --stack imported",
        );
        expect(r.text! + printed(r)).not.to.include("opt-T0ken-value");
    });
});

describe("import-opsworks: secrets in unexpected places", function () {
    it("a password reused as another value is left out there too, and never shown", function () {
        const r = convert({ haproxy: { stats_user: "reused-Pa55word", stats_password: "reused-Pa55word" } });
        expect(r.issues).to.deep.equal([]);
        expect(r.text).not.to.include("reused-Pa55word");
        expect(printed(r)).not.to.include("reused-Pa55word");
        expect(r.warnings.map((w) => w.path)).to.include("plone-aws:frontend.haproxy.statsUser");
    });

    it("unknown keys with secret names are reported without their value", function () {
        const r = convert({ mystery: { api_token: "unknown-T0ken-value", region: "eu" } });
        expect(r.report.find((l) => l.path === "mystery")!.message).to.equal(
            "{2 keys, holding a secret: not shown}: not a key of the OpsWorks cookbooks: not carried over",
        );
        expect(printed(r)).not.to.include("unknown-T0ken-value");
    });

    it("a secret that would still reach the file (here through the header's notes) stops the import: nothing is written", function () {
        const r = convert({ plone_blobs: { blob_dir: "/srv/blobs-Pa55word-in-path" }, haproxy: { stats_password: "/srv/blobs-Pa55word-in-path" } });
        expect(r.text).to.equal(undefined);
        expect(r.issues.map((i) => i.path)).to.deep.equal(["Pulumi.imported.yaml"]);
        expect(printed(r)).not.to.include("blobs-Pa55word-in-path");
    });
});

describe("import-opsworks: every key of the table, with every kind of value", function () {
    it("never throws, and never writes or prints a credential put under any key", function () {
        const credential = "https://deploy:k3y-Pa55word-9@git.example.org/x.git";
        // The credential as a string, in a list, in a mapping, in a list of mappings; and odd types.
        const samples: Json[] = [null, 7, credential, ["a", credential], { a: credential }, [{ url: credential, path: null, user: {}, password: [] }]];
        let cases = 0;
        for (const a of ATTRIBUTES) {
            for (const value of samples) {
                const json: Record<string, Json> = {};
                const parts = a.path.replace("<app>", "plone_instances").split(".");
                let node = json;
                for (const p of parts.slice(0, -1)) node = (node[p] = (node[p] as Record<string, Json>) ?? {}) as Record<string, Json>;
                node[parts[parts.length - 1]] = value;
                const r = convert(json);
                expect(`${r.text ?? ""}${printed(r)}`, `${a.path} = ${JSON.stringify(value)}`).not.to.include("k3y-Pa55word-9");
                cases++;
            }
        }
        expect(cases).to.equal(ATTRIBUTES.length * samples.length);
    });
});

describe("npm run import-opsworks with secrets in the JSON", function () {
    // A child process: nothing the import prints anywhere may hold a secret, not only what it says through its io.
    it("writes no secret to the file, stdout or stderr, and names every secret key in the commands", function () {
        const tmp = tempDir("import-secrets");
        try {
            const res = runScript("import-opsworks.ts", [path.join(FIXTURES, HOSTILE), "--stack", "hostile", "--dir", tmp.dir]);
            expect(res.status, res.stderr).to.equal(0);
            const file = fs.readFileSync(path.join(tmp.dir, "Pulumi.hostile.yaml"), "utf8");
            for (const marker of LEAK_MARKERS) {
                expect(file, marker).not.to.include(marker);
                expect(res.stdout + res.stderr, marker).not.to.include(marker);
            }
            for (const key of new Set(Object.values(HOSTILE_SECRETS))) {
                const command = key.includes("appSecrets")
                    ? `pulumi config set --secret --path '${key}' --stack hostile`
                    : `pulumi config set --secret ${key} --stack hostile`;
                expect(res.stdout, key).to.include(command);
            }
        } finally {
            tmp.cleanup();
        }
    });

    it("a Custom JSON that does not parse: the error says where, never quoting the text", async function () {
        const tmp = tempDir("import-bad-json");
        try {
            const unquoted = path.join(tmp.dir, "unquoted.json");
            fs.writeFileSync(unquoted, '{"db": {\n  "password": s3cr3t-Pa55word}}');
            const a = await runCommand(importOpsWorksCommand, [unquoted, "--stack", "bad", "--dir", tmp.dir]);
            expect(a.status).to.equal(1);
            // V8 quotes the text around an unexpected token: the import drops the quote.
            expect(a.stderr.trim()).to.match(
                /^error: \S+unquoted\.json is not JSON: Unexpected token .* \(no excerpt is shown, the file may hold secrets: jq \. FILE says where\)$/,
            );
            const trailing = path.join(tmp.dir, "trailing.json");
            fs.writeFileSync(trailing, '{"db": {\n  "password": "s3cr3t-Pa55word" x}}');
            const b = await runCommand(importOpsWorksCommand, [trailing, "--stack", "bad", "--dir", tmp.dir]);
            expect(b.status).to.equal(1);
            expect(b.stderr.trim()).to.match(/^error: \S+trailing\.json is not JSON: .* at line 2, column 33$/);
            for (const r of [a, b]) expect(r.stdout + r.stderr).not.to.include("Pa55word");
        } finally {
            tmp.cleanup();
        }
    });
});

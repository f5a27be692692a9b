// Secrets out of the provisioning output: every secret the render context holds, blanked by the
// real filter (bash and perl, as on the hosts).
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { RenderSecrets } from "../../components/render/context";
import { REDACTED, redactionFile, redactionTexts, redactStage, secretValues } from "../../components/render/host/redaction";
import { run, tempDir } from "../helpers/system";

const DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\nAAAAMwAAAAtzc2gtZWQyNTUxOQ==\n-----END OPENSSH PRIVATE KEY-----\n";

const SECRETS: RenderSecrets & { appSecrets: Record<string, string> } = {
    haproxyStatsPassword: "stats-Pa55",
    dbPassword: 'db\'pa$$ "word"',
    deployKey: DEPLOY_KEY,
    cacheArchivePassword: "archive-secret",
    newRelicLicenseKey: "0123456789abcdef0123456789abcdef01234567",
    // A map of secrets (plone-aws:appSecrets): covered without being named here.
    appSecrets: { SENTRY_DSN: "https://k3y@sentry.example.org/7" },
};

describe("redaction of the provisioning output", () => {
    const tmp = tempDir("redaction");
    after(() => tmp.cleanup());

    it("takes every secret value of the context, including maps of them and each line of a key", () => {
        const values = secretValues(SECRETS);
        expect(values).to.have.members([
            SECRETS.haproxyStatsPassword,
            SECRETS.dbPassword,
            DEPLOY_KEY,
            SECRETS.cacheArchivePassword,
            SECRETS.newRelicLicenseKey,
            SECRETS.appSecrets.SENTRY_DSN,
        ]);
        const texts = redactionTexts(values);
        expect(texts).to.include.members(["b3BlbnNzaC1rZXktdjEAAAAABG5vbmU=", "AAAAMwAAAAtzc2gtZWQyNTUxOQ=="]);
        // The armor lines are not secret: only the whole key and its body lines are blanked.
        expect(texts.filter((t) => !t.includes("\n")).some((t) => t.startsWith("-----"))).to.equal(false);
        expect(texts.slice(0, 1)).to.deep.equal([DEPLOY_KEY]);
    });

    it("blanks them in what a step prints, from the installed list and from the step's own", () => {
        const root = path.join(tmp.dir, "root");
        const list = redactionFile({ haproxyStatsPassword: SECRETS.haproxyStatsPassword, deployKey: DEPLOY_KEY, appSecrets: {} });
        expect(list).to.include({ path: "/etc/plone-aws/redact", mode: "0600", owner: "root", secret: true });
        fs.mkdirSync(path.join(root, "etc/plone-aws"), { recursive: true });
        fs.writeFileSync(path.join(root, list.path), list.content);
        const printed = [
            `stats password ${SECRETS.haproxyStatsPassword} in haproxy.cfg`,
            ...DEPLOY_KEY.trim().split("\n"),
            `psql: password ${SECRETS.dbPassword} rejected`,
            `fetching ${SECRETS.appSecrets.SENTRY_DSN}`,
            "nothing secret here: 80% done",
        ].join("\n");
        const script = `printf '%s\\n' "$1" | ${redactStage([SECRETS.dbPassword!, SECRETS.appSecrets.SENTRY_DSN])}`;
        const result = run("bash", ["-c", script, "redact-test", printed], { env: { ...process.env, PLONE_AWS_ROOT: root } });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout.split("\n")).to.deep.equal([
            `stats password ${REDACTED} in haproxy.cfg`,
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            REDACTED,
            REDACTED,
            "-----END OPENSSH PRIVATE KEY-----",
            `psql: password ${REDACTED} rejected`,
            `fetching ${REDACTED}`,
            "nothing secret here: 80% done",
            "",
        ]);
    });

    it("passes everything through on a host without the list yet (the first setup)", () => {
        const result = run("bash", ["-c", `printf 'apt-get: 42 packages\\n' | ${redactStage()}`], {
            env: { ...process.env, PLONE_AWS_ROOT: path.join(tmp.dir, "empty") },
        });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.equal("apt-get: 42 packages\n");
    });
});

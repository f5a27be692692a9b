// shellcheck on the rendered app scripts, following the sources (script -> common.sh ->
// deploy.env) as they are laid out on a host, and on every host's deploy.env.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderAppFiles } from "../../components/render/app";
import type { RenderedFile } from "../../components/render/context";
import { allStacks } from "../helpers/appStacks";
import { requireBinaries, run, tempDir } from "../helpers/system";

const SCRIPTS = /\/(common\.sh|plone-[a-z]+)$/;

function shellcheck(files: RenderedFile[]): { status: number; output: string } {
    const { dir, cleanup } = tempDir("shellcheck");
    try {
        const paths = files.map((f) => path.join(dir, path.basename(f.path)));
        files.forEach((f, i) => fs.writeFileSync(paths[i], f.content));
        const r = run("shellcheck", ["-s", "bash", "-x", "-P", dir, "-f", "gcc", ...paths]);
        return { status: r.status, output: r.stdout + r.stderr };
    } finally {
        cleanup();
    }
}

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

    for (const which of ["dev dev-1", "prod app-1"]) {
        it(`common.sh, plone-deploy, plone-rollback, plone-restart with ${which}'s deploy.env`, function () {
            const files = hosts.find((h) => h.name === which)!.files.filter((f) => SCRIPTS.test(f.path) || f.path.endsWith("/deploy.env"));
            expect(files).to.have.length(5);
            const r = shellcheck(files);
            expect(r.output).to.equal("");
            expect(r.status).to.equal(0);
        });
    }

    it("the pip builder's plone-deploy, with its client host's and its ZEO server's deploy.env", function () {
        for (const which of ["pipZeo app-1", "pipZeo zeo-1", "pipRelstorage app-1"]) {
            const files = pipHosts.find((h) => h.name === which)!.files.filter((f) => SCRIPTS.test(f.path) || f.path.endsWith("/deploy.env"));
            expect(files.find((f) => f.path.endsWith("/plone-deploy"))!.content, which).to.include("generate_instances");
            const r = shellcheck(files);
            expect(r.output, which).to.equal("");
            expect(r.status, which).to.equal(0);
        }
    });

    it("every host's deploy.env", function () {
        for (const h of [...hosts, ...pipHosts]) {
            const r = shellcheck(h.files.filter((f) => f.path.endsWith("/deploy.env")));
            expect(r.output, h.name).to.equal("");
            expect(r.status, h.name).to.equal(0);
        }
    });
});

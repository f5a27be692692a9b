// npm run render: the files and step scripts of every host, for review, with secrets as placeholders.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderStack, RENDER_MARKER } from "../../scripts/render";
import { hostFiles, hostStepNames } from "../../components/render/hostSteps";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import { loadRepoStack } from "../helpers/stacks";
import { requireBinaries, run, tempDir } from "../helpers/system";

describe("npm run render (files for review)", function () {
    let out: string;
    let cleanup: () => void;
    beforeEach(() => {
        const t = tempDir("render");
        out = path.join(t.dir, "review");
        cleanup = t.cleanup;
    });
    afterEach(() => cleanup());

    it("writes every host's files byte for byte, with secrets as placeholders, and the step scripts in order", () => {
        const { spec } = loadRepoStack("prod");
        const rendered = renderStack(spec, out);
        expect(rendered.map((h) => h.host)).to.deep.equal(spec.hosts.map((h) => h.name));
        const ctx = offlineRenderContext(spec);
        for (const host of ctx.topology.hosts) {
            for (const f of hostFiles(ctx, host)) {
                expect(fs.readFileSync(path.join(out, host.name, "files", f.path), "utf8"), `${host.name}:${f.path}`).to.equal(f.content);
            }
            const steps = fs.readdirSync(path.join(out, host.name, "steps")).sort();
            expect(steps.map((s) => s.replace(/^\d+-|\.sh$/g, ""))).to.deep.equal(hostStepNames(host).filter((s) => s !== "ready"));
        }
        const cfg = fs.readFileSync(path.join(out, "app-1", "files", "etc/plone-aws/plone/deploy.cfg"), "utf8");
        expect(cfg).to.contain("<secret plone-aws:dbPassword>");
        const haproxy = fs.readFileSync(path.join(out, "web-1", "files", "etc/haproxy/haproxy.cfg"), "utf8");
        expect(haproxy).to.contain("<secret plone-aws:haproxyStatsPassword>");
        const manifest = fs.readFileSync(path.join(out, "app-1", "MANIFEST.tsv"), "utf8");
        expect(manifest).to.match(/^\/etc\/plone-aws\/plone\/deploy\.cfg\t0600\tplone:plone\tsecret$/m);
    });

    it("replaces an earlier render but refuses a directory it did not write", () => {
        const { spec } = loadRepoStack("dev");
        renderStack(spec, out);
        expect(fs.existsSync(path.join(out, RENDER_MARKER))).to.equal(true);
        fs.writeFileSync(path.join(out, "dev-1", "stale"), "x");
        renderStack(spec, out);
        expect(fs.existsSync(path.join(out, "dev-1", "stale"))).to.equal(false);
        const foreign = path.join(path.dirname(out), "foreign");
        fs.mkdirSync(foreign);
        fs.writeFileSync(path.join(foreign, "keep.txt"), "mine");
        expect(() => renderStack(spec, foreign)).to.throw(/is not empty and holds no earlier render/);
        expect(fs.readFileSync(path.join(foreign, "keep.txt"), "utf8")).to.equal("mine");
    });

    it("renders step scripts that shellcheck accepts, for dev and prod", function () {
        requireBinaries(this, "shellcheck");
        for (const stack of ["dev", "prod"]) {
            const dir = path.join(out, stack);
            renderStack(loadRepoStack(stack).spec, dir);
            const scripts = fs
                .readdirSync(dir, { recursive: true, encoding: "utf8" })
                .filter((f) => f.includes(`steps${path.sep}`))
                .map((f) => path.join(dir, f));
            expect(scripts.length).to.be.greaterThan(3);
            const r = run("shellcheck", ["-s", "bash", "-e", "SC1091", ...scripts]);
            expect(r.stdout + r.stderr, `${stack}`).to.equal("");
        }
    });
});

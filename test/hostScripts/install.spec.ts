// The configure step's installer, run for real against a temporary root.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { CHANGED_MARKER, renderInstallScript, ServiceReload } from "../../components/render/host/install";
import type { RenderedFile } from "../../components/render/context";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

describeAsRoot("the configure step's installer", "the installer sets owners with install -o", function () {
    let root: string;
    let cleanup: () => void;
    before(function () {
        requireBinaries(this, "bash", "shellcheck");
    });
    beforeEach(() => ({ dir: root, cleanup } = tempDir("install")));
    afterEach(() => cleanup());

    const services: ServiceReload[] = [
        { name: "demo", paths: ["/etc/demo/"], validate: 'grep -q "^valid" "$root/etc/demo/demo.conf"', reload: 'echo reload >> "$root/reloads"' },
        { name: "other", paths: ["/etc/other.conf"], reload: 'echo other >> "$root/reloads"' },
    ];
    const file = (p: string, content: string, mode = "0644"): RenderedFile => ({ path: p, content, mode, owner: "root", group: "root" });
    const install = (files: RenderedFile[], remove: string[] = []) =>
        run("bash", ["-s"], { input: renderInstallScript(files, services, remove), env: { ...process.env, PLONE_AWS_ROOT: root } });
    const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");
    const reloads = () => (fs.existsSync(path.join(root, "reloads")) ? read("reloads").trim().split("\n") : []);

    it("is shellcheck-clean", () => {
        const r = run("shellcheck", ["-s", "bash", "-"], {
            input: renderInstallScript([file("/etc/demo/demo.conf", "valid\n"), file("/x/it's", "q")], services, ["/etc/old"], ["true"], ["s3cret", "it's"]),
        });
        expect(r.stdout + r.stderr).to.equal("");
        expect(r.status).to.equal(0);
    });

    it("installs files with their mode, reloads what changed, and changes nothing on a second run", () => {
        const files = [
            file("/etc/demo/demo.conf", "valid 1\n"),
            file("/etc/demo/secret", "s3cret\n'quoted' $HOME `x`\n", "0600"),
            file("/etc/other.conf", "x\n"),
        ];
        const first = install(files);
        expect(first.status, first.stderr).to.equal(0);
        expect(read("etc/demo/secret")).to.equal("s3cret\n'quoted' $HOME `x`\n");
        expect((fs.statSync(path.join(root, "etc/demo/secret")).mode & 0o777).toString(8)).to.equal("600");
        expect(reloads()).to.deep.equal(["reload", "other"]);
        const second = install(files);
        expect(second.status).to.equal(0);
        expect(second.stdout).to.contain("configuration unchanged");
        expect(reloads()).to.have.length(2);
    });

    it("reloads only the services whose files changed", () => {
        install([file("/etc/demo/demo.conf", "valid 1\n"), file("/etc/other.conf", "x\n")]);
        const r = install([file("/etc/demo/demo.conf", "valid 1\n"), file("/etc/other.conf", "y\n")]);
        expect(r.stdout).to.contain(`${CHANGED_MARKER} /etc/other.conf`);
        expect(r.stdout).to.not.contain("/etc/demo/demo.conf");
        expect(reloads()).to.deep.equal(["reload", "other", "other"]);
    });

    it("puts every changed file back and reloads nothing when a validation fails", () => {
        install([file("/etc/demo/demo.conf", "valid 1\n"), file("/etc/other.conf", "x\n")]);
        const r = install([file("/etc/demo/demo.conf", "broken\n"), file("/etc/demo/new.conf", "new\n"), file("/etc/other.conf", "y\n")]);
        expect(r.status).to.equal(1);
        expect(r.stderr).to.contain("the new demo configuration is invalid, nothing was changed");
        expect(read("etc/demo/demo.conf")).to.equal("valid 1\n");
        expect(read("etc/other.conf")).to.equal("x\n");
        expect(fs.existsSync(path.join(root, "etc/demo/new.conf"))).to.equal(false);
        expect(reloads()).to.deep.equal(["reload", "other"]);
    });

    it("blanks secret values out of a failing validator's message", () => {
        const leaky: ServiceReload[] = [
            { name: "leaky", paths: ["/etc/leaky.conf"], validate: 'echo "bad line: $(cat "$root/etc/leaky.conf")"; false', reload: "true" },
        ];
        const r = run("bash", ["-s"], {
            input: renderInstallScript([file("/etc/leaky.conf", "password hunter2's")], leaky, [], [], ["hunter2's"]),
            env: { ...process.env, PLONE_AWS_ROOT: root },
        });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.contain("bad line: password [secret]");
        expect(r.stderr).to.not.contain("hunter2");
    });

    it("refuses files for a user that does not exist yet, naming the file", () => {
        const r = install([{ ...file("/etc/demo/demo.conf", "valid\n"), owner: "no-such-user-xyz" }]);
        expect(r.status).to.equal(1);
        expect(r.stderr).to.contain("user no-such-user-xyz does not exist (setup must run first): cannot install /etc/demo/demo.conf");
    });

    it("restarts instead of reloading for daemon parameters, and runs the follow-up commands every time", () => {
        const withRestart: ServiceReload[] = [
            {
                name: "daemon",
                paths: ["/etc/d/conf"],
                restartPaths: ["/etc/d/params"],
                reload: 'echo reload >> "$root/reloads"',
                restart: 'echo restart >> "$root/reloads"',
            },
        ];
        const go = (files: RenderedFile[]) =>
            run("bash", ["-s"], {
                input: renderInstallScript(files, withRestart, [], ['echo after >> "$root/reloads"']),
                env: { ...process.env, PLONE_AWS_ROOT: root },
            });
        go([file("/etc/d/conf", "1"), file("/etc/d/params", "1")]);
        expect(reloads()).to.deep.equal(["restart", "after"]);
        go([file("/etc/d/conf", "2"), file("/etc/d/params", "1")]);
        expect(reloads()).to.deep.equal(["restart", "after", "reload", "after"]);
        go([file("/etc/d/conf", "2"), file("/etc/d/params", "1")]);
        expect(reloads()).to.deep.equal(["restart", "after", "reload", "after", "after"]);
    });

    it("removes files that must go", () => {
        fs.mkdirSync(path.join(root, "etc/demo"), { recursive: true });
        fs.writeFileSync(path.join(root, "etc/demo/default"), "old");
        fs.writeFileSync(path.join(root, "etc/demo/demo.conf"), "valid\n");
        const r = install([file("/etc/demo/demo.conf", "valid\n")], ["/etc/demo/default"]);
        expect(r.status, r.stderr).to.equal(0);
        expect(fs.existsSync(path.join(root, "etc/demo/default"))).to.equal(false);
        expect(reloads()).to.deep.equal(["reload"]);
    });
});

// `npm run rehearse` for real (PLONE_AWS_REHEARSAL=1, root): the dev stack end to end (provisioning,
// smoke checks, the second run), --keep
// and --teardown, and the refusal to run without root.
import { expect } from "chai";
import * as path from "path";
import { plannedHostAddresses } from "../../scripts/lib/offline/run";
import { loadRepoStack, REPO } from "../helpers/stacks";
import { REHEARSAL_CACHE, requireRehearsal, traces } from "../helpers/rehearsal";
import { run } from "../helpers/system";

const rehearseCli = (...args: string[]) =>
    run(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/rehearse.ts", ...args, "--cache-dir", REHEARSAL_CACHE], { cwd: REPO });

describe("npm run rehearse", function () {
    before(function () {
        requireRehearsal(this);
    });

    it("rehearses the dev stack: a test host at the planned address, the commands, the smoke checks, a summary", () => {
        const r = rehearseCli("dev");
        expect(r.status, r.stdout + r.stderr).to.equal(0);
        const address = plannedHostAddresses(loadRepoStack("dev").spec)["dev-1"];
        expect(r.stdout).to.match(new RegExp(`\\[dev-1\\] test host ${address.replace(/\./g, "\\.")} \\(ip-10-20-0-10\\) up in \\d+\\.\\ds`));
        expect(r.stdout).to.match(/\[smoke\] every host answers at its planned address and reaches the others \.\.\. ok/);
        // The fixture buildout through the real chain, said so; every smoke check green.
        expect(r.stdout).to.contain("The Plone buildout cannot be built here (no PyPI)");
        expect(r.stdout).to.match(/\[smoke\] the second anonymous GET of a page is a cache hit \.\.\. ok/);
        expect(r.stdout).to.match(/\[smoke\] every Zope client uses every service its configuration names \.\.\. ok/);
        expect(r.stdout).to.match(/\n {2}smoke checks {3}10\/10 ok\n/);
        // The second run on the same hosts: nothing changed, no daemon restarted, a fraction of the first.
        expect(r.stdout).to.match(/\n {2}second run {5}5\/5 ok in \d+\.\ds \(\d+% of the first\); no daemon restarted \(\d+ watched\), nothing changed\n/);
        expect(r.stdout).to.match(/Summary of rehearsal parh-[0-9a-f]{6} \(dev\)\n {2}base root {6}(reused|built in \d+\.\ds)/);
        expect(r.stdout).to.match(/\n {2}teardown {7}\d+\.\ds\n/);
        expect(r.stdout.trim()).to.match(/\nOK$/);
        const runId = /Summary of rehearsal (parh-[0-9a-f]{6})/.exec(r.stdout)![1];
        expect(traces(runId, path.join(REHEARSAL_CACHE, "runs", runId), [])).to.deep.include({ netns: [], links: [], mounts: [], loops: [] });
        console.log(
            `      ${r.stdout
                .split("\n")
                .filter((l) => /^ {2}(VPC|test hosts|commands|second run|teardown|total)/.test(l))
                .map((l) => l.trim().replace(/\s+/g, " "))
                .join("; ")}`,
        );
    });

    it("keeps the test hosts with --keep, reachable from the VPC namespace, until --teardown <run id>", () => {
        const r = rehearseCli("dev", "--keep");
        expect(r.status, r.stdout + r.stderr).to.equal(0);
        const runId = /kept run (parh-[0-9a-f]{6})/.exec(r.stdout)![1];
        const reach = /reach a host: {2}(.*)$/m.exec(r.stdout)![1];
        const ssh = run("bash", ["-c", `${reach} -o BatchMode=yes -o LogLevel=ERROR hostname`]);
        expect(ssh.stdout.trim(), ssh.stderr).to.equal("ip-10-20-0-10");
        // A later rehearsal leaves a kept run alone.
        const stale = rehearseCli("--teardown", "stale");
        expect(stale.stdout).to.contain(`left run ${runId}: kept (--keep)`);

        const t = rehearseCli("--teardown", runId);
        expect(t.status, t.stdout + t.stderr).to.equal(0);
        expect(t.stdout).to.contain(`removed run ${runId}`);
        expect(traces(runId, path.join(REHEARSAL_CACHE, "runs", runId), [])).to.deep.include({ netns: [], links: [], mounts: [], processes: [] });
    });

    it("refuses to run without root, saying why", () => {
        const r = run(
            "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-r", "ts-node/register/transpile-only", "scripts/rehearse.ts", "dev"],
            { cwd: REPO },
        );
        expect(r.status).to.equal(2);
        expect(r.stderr).to.contain("test hosts need root");
    });
});

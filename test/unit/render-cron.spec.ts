// Scheduled jobs: which host runs backups and packs, the two-stage schedule, the cron file format,
// and the RelStorage pack configuration.
import { expect } from "chai";
import {
    CRON_JOB_SCRIPT,
    cronJobs,
    nextDaySchedule,
    renderCronFile,
    renderCronFiles,
    renderCronJobScript,
    renderZodbpackConf,
    renderZodbpackScript,
    weekdaysOf,
    ZODBPACK_SCRIPT,
} from "../../components/render/operations/cron";
import { OPS_SCRIPTS } from "../../components/render/operations/scripts";
import { renderSetupScript } from "../../components/render/host/system";
import { renderOperationsFiles } from "../../components/render/operations";
import { POSTGRESQL_CLIENT_SCRIPT, renderPgpass } from "../../components/render/operations/database";
import { PATHS } from "../../components/topology";
import { parseObjects } from "../helpers/stacks";
import { contextOf, host, VARIANTS, variantConfig } from "../helpers/storageVariants";

/** The job lines of a cron file: schedule fields, user, command. */
function jobLines(cron: string): { schedule: string; user: string; command: string }[] {
    return cron
        .split("\n")
        .filter((l) => l && !l.startsWith("#") && !/^[A-Z]+=/.test(l))
        .map((l) => {
            const f = l.split(/\s+/);
            return { schedule: f.slice(0, 5).join(" "), user: f[5], command: f.slice(6).join(" ") };
        });
}

describe("render: cron jobs", () => {
    it("packs prod's RelStorage on app-1 only, in two stages on consecutive days, and dumps the database and copies the blobs to S3 there", () => {
        const ctx = VARIANTS.prod();
        for (const h of ctx.topology.hosts.filter((h) => h.name !== "app-1")) expect(renderCronFile(ctx, h), h.name).to.equal(undefined);
        const jobs = jobLines(renderCronFile(ctx, host(ctx, "app-1")) as string);
        expect(jobs).to.deep.equal([
            { schedule: "0 20 * * *", user: "plone", command: `${CRON_JOB_SCRIPT} pgdump ${OPS_SCRIPTS.pgdump}` },
            { schedule: "0 21 * * *", user: "plone", command: `${CRON_JOB_SCRIPT} backup ${OPS_SCRIPTS.backup}` },
            { schedule: "0 1 * * 6", user: "plone", command: `${CRON_JOB_SCRIPT} zodbpack ${ZODBPACK_SCRIPT} prepack` },
            { schedule: "0 1 * * 0", user: "plone", command: `${CRON_JOB_SCRIPT} zodbpack ${ZODBPACK_SCRIPT} pack` },
        ]);
    });

    it("backs up (repozo, then the copy to S3: plone-backup) and packs dev's ZEO server on its one host", () => {
        const ctx = VARIANTS.dev();
        const jobs = jobLines(renderCronFile(ctx, host(ctx, "dev-1")) as string);
        expect(jobs).to.deep.equal([
            { schedule: "0 21 * * *", user: "plone", command: `${CRON_JOB_SCRIPT} backup ${OPS_SCRIPTS.backup}` },
            { schedule: "0 1 * * 0", user: "plone", command: `${CRON_JOB_SCRIPT} zeopack bin/zeopack -D 7` },
        ]);
    });

    it("runs backups on the ZEO host, not on the app hosts", () => {
        const ctx = VARIANTS.nfsZeo();
        expect(cronJobs(ctx, host(ctx, "zeo-1")).map((j) => j.name)).to.deep.equal(["backup", "zeopack"]);
        for (const h of ["web-1", "app-1", "app-2", "nfs-1"]) expect(renderCronFile(ctx, host(ctx, h)), h).to.equal(undefined);
        const zeoBlobs = VARIANTS.zeoBlobs();
        expect(cronJobs(zeoBlobs, host(zeoBlobs, "zeo-1")).map((j) => j.name)).to.deep.equal(["zeopack"]);
    });

    it("writes SHELL, PATH and MAILTO, and times in the host's time zone", () => {
        const cron = renderCronFile(VARIANTS.dev(), host(VARIANTS.dev(), "dev-1")) as string;
        expect(cron)
            .to.match(/^SHELL=\/bin\/bash$/m)
            .and.match(/^PATH=\/usr\/local\/sbin:/m)
            .and.match(/^MAILTO=root$/m);
        expect(cron).to.include("plone.timezone: Etc/UTC");
        const files = renderCronFiles(VARIANTS.dev(), host(VARIANTS.dev(), "dev-1"));
        expect(files.map((f) => f.path)).to.deep.equal(["/etc/cron.d/plone-aws-plone", CRON_JOB_SCRIPT]);
        expect(files[0].mode).to.equal("0644");
    });

    it("runs each job as the deploy user in the current release, flock-guarded, logging under /var/log/plone-aws", () => {
        const script = renderCronJobScript(VARIANTS.dev());
        expect(script).to.match(/^RELEASE=\/srv\/www\/plone\/current$/m);
        expect(script).to.include(`LOG_DIR=${PATHS.logDir}`).and.include('[ "$(id -un)" = plone ]');
        expect(script).to.include("flock -n 9").and.include('exec 3>&2 >>"$log" 2>&1');
    });

    it("shifts a weekly schedule by one day for the pack stage", () => {
        expect(nextDaySchedule("0 1 * * 6")).to.equal("0 1 * * 0");
        expect(nextDaySchedule("30 2 * * mon-fri")).to.equal("30 2 * * 2,3,4,5,6");
        expect(nextDaySchedule("@weekly")).to.equal("0 0 * * 1");
        expect(nextDaySchedule("15 3 * * 5-7")).to.equal("15 3 * * 0,1,6");
        expect(weekdaysOf("*/2")).to.deep.equal([0, 2, 4, 6]);
        expect(() => nextDaySchedule("0 1 * * *")).to.throw(/by weekday/);
        expect(() => nextDaySchedule("0 1 1 * 6")).to.throw(/day of month/);
    });

    it("rejects a two-stage pack scheduled every day in the config", () => {
        const result = parseObjects(
            variantConfig(
                [
                    { name: "web-1", layers: ["frontend"] },
                    { name: "app-1", layers: ["plone_instances", "db_packing"] },
                ],
                { storage: "relstorage", blobs: "database", pack: { twoStage: true, schedule: "@daily" } },
                { "plone-aws:database": {} },
            ),
        );
        expect(result.errors.map((e) => e.path)).to.deep.equal(["plone-aws:plone.pack.schedule"]);
    });
});

describe("render: RelStorage packing", () => {
    it("packs in one stage and clears the ref tables with the password in a 0600 pgpass file", () => {
        const ctx = VARIANTS.efsRelstorage();
        const app1 = host(ctx, "app-1");
        expect(jobLines(renderCronFile(ctx, app1) as string).map((j) => j.command)).to.deep.equal([
            `${CRON_JOB_SCRIPT} pgdump ${OPS_SCRIPTS.pgdump}`,
            `${CRON_JOB_SCRIPT} backup ${OPS_SCRIPTS.backup}`,
            `${CRON_JOB_SCRIPT} zodbpack ${ZODBPACK_SCRIPT} full`,
        ]);
        expect(renderCronFile(ctx, host(ctx, "app-2"))).to.equal(undefined);
        const files = Object.fromEntries([...renderCronFiles(ctx, app1), ...renderOperationsFiles(ctx, app1)].map((f) => [f.path, f]));
        const conf = files[`${PATHS.configDir}/plone/zodbpack.conf`];
        expect([conf.mode, conf.owner, conf.group, conf.secret]).to.deep.equal(["0640", "root", "plone", true]);
        const pgpass = files[`${PATHS.configDir}/plone/pgpass`];
        expect([pgpass.mode, pgpass.owner, pgpass.secret]).to.deep.equal(["0600", "plone", true]);
        const script = renderZodbpackScript(ctx);
        expect(script).to.include("DAYS=3").and.include("TRUNCATE_REFS=1").and.include("TRUNCATE object_ref, object_refs_added");
        expect(script).not.to.include(ctx.secrets.dbPassword as string);
        // psql comes with postgresql-client-<engine major>, installed by the setup step.
        expect(renderSetupScript(ctx, app1)).to.include(`${POSTGRESQL_CLIENT_SCRIPT} install`);
        expect(renderSetupScript(ctx, host(ctx, "app-2"))).not.to.include(`${POSTGRESQL_CLIENT_SCRIPT} install`);
    });

    it("configures zodbpack with the database, gc, history and the shared blob directory", () => {
        const ctx = VARIANTS.prod();
        const conf = renderZodbpackConf(ctx);
        expect(conf).to.include("pack-gc true").and.include("keep-history true").and.include("create-schema false");
        expect(conf).to.include("shared-blob-dir true").and.include(`blob-dir ${PATHS.sharedBlobsMount}/blobstorage`);
        expect(conf).to.match(new RegExp(`dsn dbname='plone' user='plone' host='${ctx.database?.address}' port='5432' password='`));
    });

    it("escapes the password for libpq, ZConfig and pgpass", () => {
        const ctx = contextOf(
            variantConfig(
                [
                    { name: "web-1", layers: ["frontend"] },
                    { name: "app-1", layers: ["plone_instances", "db_packing"] },
                ],
                { storage: "relstorage", blobs: "database", pack: { truncateRefs: true } },
                { "plone-aws:database": {} },
            ),
        );
        ctx.secrets.dbPassword = String.raw`it's$a:b\c`;
        expect(renderZodbpackConf(ctx)).to.include(String.raw`password='it\'s$$a:b\\c'`);
        expect(renderZodbpackConf(ctx)).to.include("shared-blob-dir false").and.include("blob-cache-size 1gb");
        // Any database of the server (ops restore may create one): the database field is *.
        expect(renderPgpass(ctx)).to.match(/:5432:\*:plone:it's\$a\\:b\\\\c\n$/);
    });
});

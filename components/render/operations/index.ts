// The day-2 operations files of one host, installed by the configure step: the scripts `npm run
// ops` runs over SSH (plone-status, plone-service everywhere; plone-program on the hosts that run
// the buildout; plone-varnish-purge on front ends; plone-pack, plone-backup and plone-restore where
// the data is) and the backup settings.
import { DEPLOY_USER, type HostPlan } from "../../topology";
import type { RenderContext, RenderedFile } from "../context";
import { rootFile } from "../scriptKit";
import { backupEnvPath, copiesOffsite, keepsBackups, renderBackupEnv, renderBackupScript, renderRestoreScript, restoresBackups } from "./backup";
import { renderPackScript } from "./pack";
import { OPS_SCRIPTS } from "./scripts";
import { renderProgramScript } from "./program";
import { renderServiceScript } from "./services";
import { renderStatusScript } from "./status";
import { OPERATIONS_TOOLKIT, renderOperationsToolkit } from "./toolkit";
import { renderVarnishPurgeScript } from "./varnishPurge";
import { runsBuild } from "../../layers";
import {
    dumpsDatabase,
    needsPostgresqlClient,
    pgdumpEnvPath,
    pgpassFile,
    POSTGRESQL_CLIENT_SCRIPT,
    renderDumpRestoreScript,
    renderPgdumpEnv,
    renderPgdumpScript,
    renderPostgresqlClientScript,
    restoresDumps,
} from "./database";

export function renderOperationsFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    const script = (path: string, content: string) => rootFile(path, content, "0755");
    const files: RenderedFile[] = [script(OPS_SCRIPTS.status, renderStatusScript(ctx, host)), script(OPS_SCRIPTS.service, renderServiceScript(ctx, host))];
    // Where supervisor runs the app's programs or the Volto processes.
    if (runsBuild(host) || host.voltoProcesses.length > 0) {
        files.push(rootFile(OPERATIONS_TOOLKIT, renderOperationsToolkit()), script(OPS_SCRIPTS.program, renderProgramScript()));
    }
    if (host.layers.includes("frontend")) files.push(script(OPS_SCRIPTS.varnishPurge, renderVarnishPurgeScript(ctx)));
    const pack = renderPackScript(ctx, host);
    if (pack) files.push(script(OPS_SCRIPTS.pack, pack));
    const backups = keepsBackups(ctx, host);
    const restores = restoresBackups(ctx, host);
    if (backups || restores) {
        // No secret in it; the deploy user reads it when cron runs plone-backup.
        files.push({ path: backupEnvPath(ctx), content: renderBackupEnv(ctx, host), mode: "0640", owner: "root", group: DEPLOY_USER });
    }
    if (backups) files.push(script(OPS_SCRIPTS.backup, renderBackupScript(ctx)));
    if (restores) files.push(script(OPS_SCRIPTS.restore, renderRestoreScript(ctx)));
    // RelStorage: the database dump and its restore (operations/database.ts).
    const dumps = dumpsDatabase(ctx, host);
    const restoresDump = restoresDumps(ctx, host);
    if (dumps || restoresDump) files.push({ path: pgdumpEnvPath(ctx), content: renderPgdumpEnv(ctx, host), mode: "0640", owner: "root", group: DEPLOY_USER });
    if (dumps) files.push(script(OPS_SCRIPTS.pgdump, renderPgdumpScript(ctx)));
    if (restoresDump) files.push(script(OPS_SCRIPTS.restore, renderDumpRestoreScript(ctx)));
    const pgpass = pgpassFile(ctx, host);
    if (pgpass) files.push(pgpass);
    return files;
}

/** The setup step's scripts of the operations (installed before the packages they add). */
export function operationsSetupFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    return needsPostgresqlClient(ctx, host) ? [rootFile(POSTGRESQL_CLIENT_SCRIPT, renderPostgresqlClientScript(ctx), "0755")] : [];
}

/** What the setup step runs after the packages: the PostgreSQL client of the engine's version. */
export function operationsSetupCommands(ctx: RenderContext, host: HostPlan): string[] {
    return needsPostgresqlClient(ctx, host) ? [`${POSTGRESQL_CLIENT_SCRIPT} install`] : [];
}

/** apt packages the operations scripts need on a host (awscli for the copies to S3). */
export function operationsPackages(ctx: RenderContext, host: HostPlan): string[] {
    return copiesOffsite(ctx, host) || restoresBackups(ctx, host) || dumpsDatabase(ctx, host) || restoresDumps(ctx, host) ? ["awscli"] : [];
}

// Every file a host that runs the app's buildout (plone_instances, zeoserver or solr) needs for
// deploys and restarts: deploy.cfg, deploy.env, the deploy key, the supervisor programs and the
// host scripts.
import type { HostPlan } from "../topology";
import { DEPLOY_USER, PATHS } from "../topology/ports";
import { appLayout, runsBuildout } from "./appLayout";
import type { RenderContext, RenderedFile } from "./context";
import { deployCfgFile } from "./deployCfg";
import { renderDeployEnv } from "./deployEnv";
import { renderCommonScript } from "./scripts/common";
import { renderDeployScript } from "./scripts/deploy";
import { renderRestartScript } from "./scripts/restart";
import { renderRollbackScript } from "./scripts/rollback";
import { renderSupervisorPrograms } from "./supervisor";

/** The host scripts by name under PATHS.sbinDir. */
export const HOST_SCRIPTS = {
    "plone-deploy": renderDeployScript,
    "plone-rollback": renderRollbackScript,
    "plone-restart": renderRestartScript,
} as const;

export function renderAppFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    if (!runsBuildout(host)) return [];
    const layout = appLayout(ctx.spec);
    const root = (path: string, content: string, mode: string): RenderedFile => ({ path, content, mode, owner: "root", group: "root" });
    const files: RenderedFile[] = [
        deployCfgFile(ctx, host),
        // No secrets; the haproxy agent reads it as the deploy user.
        { path: layout.deployEnv, content: renderDeployEnv(ctx, host), mode: "0640", owner: "root", group: DEPLOY_USER },
        root(layout.supervisorConf, renderSupervisorPrograms(ctx, host), "0644"),
        // Sourced, not run.
        root(`${PATHS.toolkitDir}/common.sh`, renderCommonScript(), "0644"),
        ...Object.entries(HOST_SCRIPTS).map(([name, render]) => root(`${PATHS.sbinDir}/${name}`, render(), "0755")),
    ];
    const { deployKey, cacheArchivePassword } = ctx.secrets;
    if (deployKey) {
        // Owned by the deploy user: git and the buildout's own checkouts (mr.developer) run as it.
        const content = deployKey.endsWith("\n") ? deployKey : `${deployKey}\n`;
        files.push({ path: layout.deployKey, content, mode: "0600", owner: DEPLOY_USER, group: DEPLOY_USER, secret: true });
    }
    if (cacheArchivePassword && ctx.spec.app.cacheArchives.some((a) => a.user)) {
        // Read by plone-deploy as root and handed to curl on stdin.
        files.push({ ...root(layout.cacheArchivePassword, cacheArchivePassword, "0600"), secret: true });
    }
    return files;
}

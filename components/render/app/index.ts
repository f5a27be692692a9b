// Every file a host that deploys releases needs for deploys and restarts: one that runs the app's
// buildout (plone_instances, zeoserver or solr) gets deploy.cfg (or the pip builder's files); every
// one, volto hosts too, gets deploy.env, the deploy key, the supervisor programs and the host scripts.
import type { HostPlan } from "../../topology";
import { DEPLOY_USER, PATHS } from "../../topology/ports";
import { appLayout } from "./layout";
import type { RenderContext, RenderedFile } from "../context";
import { deployCfgFile } from "./deployCfg";
import { renderDeployEnv } from "./deployEnv";
import { renderCommonScript } from "../hostScripts/common";
import { renderDeployScript } from "../hostScripts/deploy";
import { renderRestartScript } from "../hostScripts/restart";
import { renderRollbackScript } from "../hostScripts/rollback";
import { renderSupervisorPrograms } from "./supervisor";
import { APP_ENV_PROGRAM, GIT_ASKPASS_PROGRAM, renderAppEnvScript, renderGitAskpassScript } from "../hostScripts/appEnv";
import { shellAssignments } from "../shell";
import { runsBuild } from "../../layers";
import { deploysRelease } from "../../topology";
import { renderVoltoProcessScript, VOLTO_PROGRAM } from "../hostScripts/voltoProcess";
import { NODE_RELEASE_KEYS } from "../volto/nodeReleaseKeys";
import type { Builder } from "../../config/schema";
import { pipBuildFiles } from "./instanceConfig";

/** The host scripts by name under PATHS.sbinDir (plone-deploy builds with the app's builder). */
const HOST_SCRIPTS: Record<string, (builder: Builder) => string> = {
    "plone-deploy": renderDeployScript,
    "plone-rollback": renderRollbackScript,
    "plone-restart": renderRestartScript,
};

export function renderAppFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    if (!deploysRelease(host)) return [];
    const layout = appLayout(ctx.spec);
    const root = (path: string, content: string, mode: string): RenderedFile => ({ path, content, mode, owner: "root", group: "root" });
    const pip = ctx.spec.app.builder === "pip";
    const files: RenderedFile[] = [
        // deploy.cfg for a buildout; the instance configuration and zeo.conf for the pip builder.
        ...(runsBuild(host) ? (pip ? pipBuildFiles(ctx, host) : [deployCfgFile(ctx, host)]) : []),
        // No secrets; the haproxy agent reads it as the deploy user.
        { path: layout.deployEnv, content: renderDeployEnv(ctx, host), mode: "0640", owner: "root", group: DEPLOY_USER },
        root(layout.supervisorConf, renderSupervisorPrograms(ctx, host), "0644"),
        // Sourced, not run.
        root(`${PATHS.toolkitDir}/common.sh`, renderCommonScript(), "0644"),
        ...Object.entries(HOST_SCRIPTS).map(([name, render]) => root(`${PATHS.sbinDir}/${name}`, render(ctx.spec.app.builder), "0755")),
        root(APP_ENV_PROGRAM, renderAppEnvScript(), "0755"),
        root(GIT_ASKPASS_PROGRAM, renderGitAskpassScript(), "0755"),
        ...(host.voltoProcesses.length > 0
            ? [
                  root(VOLTO_PROGRAM, renderVoltoProcessScript(), "0755"),
                  // Public keys: what Node.js's SHASUMS256.txt must be signed with before a download is trusted.
                  root(layout.nodeReleaseKeys, ctx.spec.volto.node.releaseKeys ?? NODE_RELEASE_KEYS, "0644"),
              ]
            : []),
    ];
    const { deployKey, cacheArchivePassword, repositoryToken, appSecrets } = ctx.secrets;
    if (Object.keys(appSecrets).length > 0) {
        // Read by plone-app-env as the deploy user (the programs) and by the build (as_deploy).
        const content = [
            "# plone-aws:appSecrets: the app's secret environment, added by plone-app-env. Written by plone-aws.",
            "# shellcheck shell=bash disable=SC2034",
            shellAssignments({
                APP_SECRETS: Object.keys(appSecrets)
                    .sort()
                    .map((name) => `${name}=${appSecrets[name]}`),
            }),
            "",
        ].join("\n");
        files.push({ path: layout.appSecrets, content, mode: "0640", owner: "root", group: DEPLOY_USER, secret: true });
    }
    if (repositoryToken) {
        // Owned by the deploy user: git (and its askpass) run as it.
        files.push({ path: layout.repositoryToken, content: `${repositoryToken}\n`, mode: "0600", owner: DEPLOY_USER, group: DEPLOY_USER, secret: true });
    }
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

/** Secret files of the app that the configure step removes when their secret is no longer set. */
export function appRemovedFiles(ctx: RenderContext, host: HostPlan): string[] {
    if (!deploysRelease(host)) return [];
    const layout = appLayout(ctx.spec);
    const { deployKey, cacheArchivePassword, repositoryToken, appSecrets } = ctx.secrets;
    return [
        ...(Object.keys(appSecrets).length > 0 ? [] : [layout.appSecrets]),
        ...(repositoryToken ? [] : [layout.repositoryToken]),
        ...(deployKey ? [] : [layout.deployKey]),
        ...(cacheArchivePassword && ctx.spec.app.cacheArchives.some((a) => a.user) ? [] : [layout.cacheArchivePassword]),
    ];
}

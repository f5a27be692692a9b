// Where the app lives on a host: the Capistrano-style deploy directory, its per-app settings and
// the supervisor file. The renderers of deploy.cfg, deploy.env, the supervisor programs and the
// app files all take their paths from here, so a path is spelled once.
import type { StackSpec } from "../../config/spec";
import { PATHS } from "../../topology/ports";

/**
 * Directories of a release that are links into shared/ (the cookbook's deploy_buildout defaults,
 * without parts/): each release keeps its own parts, so a failing build never rewrites the
 * generated configuration under running clients, and a rollback brings back the old one.
 */
export const BUILDOUT_SHARED_DIRS = ["eggs", "downloads", "extends", "var"] as const;

/** Where Debian's supervisord writes the programs' logs. */
export const SUPERVISOR_LOG_DIR = "/var/log/supervisor";

export interface AppLayout {
    app: string;
    /** /srv/www/<app>: releases/, current, shared/. */
    deployTo: string;
    /** /srv/www/<app>/current, the link plone-deploy switches. */
    current: string;
    /** /srv/www/<app>/shared/var: the release's var/ (logs, caches), kept across releases. */
    sharedVar: string;
    /** Where the Zope clients and the ZEO server write their event logs (var/log/<part>.log). */
    logDir: string;
    /** /etc/plone-aws/<app>: deploy.cfg, deploy.env, deploy_key. */
    configDir: string;
    deployCfg: string;
    deployEnv: string;
    deployKey: string;
    cacheArchivePassword: string;
    /** plone-aws:appSecrets as APP_SECRETS=(NAME=value ...): 0640 root:<deploy user>, read by plone-app-env. */
    appSecrets: string;
    /** plone-aws:repositoryToken: 0600, the deploy user's (git runs as it), read by plone-git-askpass. */
    repositoryToken: string;
    /** RelStorage's pack configuration (zodbpack, on the db_packing host): it holds the database password. */
    zodbpackConf: string;
    /** psql's password file for clearing the object_ref tables (plone.pack.truncateRefs). */
    pgpass: string;
    /** The OpenPGP keys a volto host checks Node.js's SHASUMS256.txt.sig against (volto.node.releaseKeys). */
    nodeReleaseKeys: string;
    /** The app's supervisor programs (Debian's supervisord includes conf.d/*.conf). */
    supervisorConf: string;
    supervisorLogDir: string;
    /** The pip builder's paths (app.builder pip). */
    pip: PipLayout;
    /** The Volto frontend's releases (hosts carrying the volto layer). */
    volto: VoltoLayout;
}

/**
 * Where a volto host keeps the Volto frontend: a deploy directory of its own beside the backend's
 * (<deployTo>/frontend: releases/, current, shared/), so the two release independently: a commit
 * that changes only the backend neither rebuilds Volto (minutes of pnpm) nor restarts its
 * processes, and a host that carries only the volto layer has no backend release at all.
 */
export interface VoltoLayout {
    /** <deployTo>/frontend. */
    deployTo: string;
    /** <deployTo>/frontend/current, the link plone-deploy switches after every volto host has built. */
    current: string;
    /** corepack's cache (COREPACK_HOME): the pnpm release the project names, fetched by the build, used offline by the processes. */
    corepackHome: string;
    /** pnpm's content-addressed store, shared by the releases (hard links within one file system). */
    pnpmStore: string;
}

/**
 * Where the hosts unpack Node.js releases: <nodeRoot>/node-v<version>-linux-<arch>, one directory
 * per release, so that a new one never disturbs the one the running processes use (each Volto
 * release records the Node it was built with, and its processes run that one).
 */
export const NODE_ROOT = "/opt/plone-aws";

/**
 * Where a pip release keeps its parts, relative to the release (the backend folder first): the
 * virtual environment, and one generated instance per Zope client (instances/<client>/etc/zope.ini)
 * and for the ZEO server (instances/zeoserver/zeo.conf).
 */
export interface PipLayout {
    /** The backend folder in the release: app.backendPath, or "" for the repository's root. */
    backendPath: string;
    /** <current>/<backend>: where the programs run. */
    backend: string;
    /** <current>/<backend>/.venv: the release's own virtual environment. */
    venv: string;
    /** <current>/<backend>/instances. */
    instances: string;
    /** The stack's part of every instance's configuration (the file the build merges with the project's instance.yaml); it may hold the database password. */
    stackInstanceConfig: string;
    /** The ZEO server's configuration (a zeoserver host), copied into each release. */
    zeoConf: string;
}

/** A path of a pip release relative to the release (`current`): <backendPath>/<path>. */
export function pipReleasePath(spec: Pick<StackSpec, "app">, path: string): string {
    return spec.app.backendPath ? `${spec.app.backendPath}/${path}` : path;
}

/** The git mirror a deploy directory (the backend's, the frontend's) clones its releases from. */
export const REPOSITORY_MIRROR = "shared/repository.git";
/** The instances folder inside a pip release's backend folder. */
export const PIP_INSTANCES_DIR = "instances";
/** The virtual environment inside a pip release's backend folder. */
export const PIP_VENV_DIR = ".venv";
/**
 * pip's cache (downloaded and built wheels) of a pip app, in shared/: kept across releases, so a
 * release that only changes the stack's instance configuration installs from it, and published
 * with the build cache of the scaled groups (render/scaling/instance.ts) as buildout's eggs are.
 */
export const PIP_CACHE_DIR = "pip-cache";

export function appLayout(spec: Pick<StackSpec, "app">): AppLayout {
    const app = spec.app.name;
    const deployTo = `${PATHS.deployRoot}/${app}`;
    const configDir = `${PATHS.configDir}/${app}`;
    return {
        app,
        deployTo,
        current: `${deployTo}/current`,
        sharedVar: `${deployTo}/shared/var`,
        logDir: `${deployTo}/shared/var/log`,
        configDir,
        deployCfg: `${configDir}/deploy.cfg`,
        deployEnv: `${configDir}/deploy.env`,
        deployKey: `${configDir}/deploy_key`,
        cacheArchivePassword: `${configDir}/cache_archive_password`,
        appSecrets: `${configDir}/app-secrets.env`,
        repositoryToken: `${configDir}/repository_token`,
        zodbpackConf: `${configDir}/zodbpack.conf`,
        pgpass: `${configDir}/pgpass`,
        nodeReleaseKeys: `${configDir}/node-release-keys.asc`,
        supervisorConf: `/etc/supervisor/conf.d/${app}.conf`,
        supervisorLogDir: SUPERVISOR_LOG_DIR,
        pip: pipLayout(`${deployTo}/current`, spec.app.backendPath ?? "", configDir),
        volto: voltoLayout(`${deployTo}/frontend`),
    };
}

function voltoLayout(deployTo: string): VoltoLayout {
    return {
        deployTo,
        current: `${deployTo}/current`,
        corepackHome: `${deployTo}/shared/corepack`,
        pnpmStore: `${deployTo}/shared/pnpm-store`,
    };
}

function pipLayout(current: string, backendPath: string, configDir: string): PipLayout {
    const backend = backendPath ? `${current}/${backendPath}` : current;
    return {
        backendPath,
        backend,
        venv: `${backend}/${PIP_VENV_DIR}`,
        instances: `${backend}/${PIP_INSTANCES_DIR}`,
        stackInstanceConfig: `${configDir}/instance.yaml`,
        zeoConf: `${configDir}/zeo.conf`,
    };
}

/** Supervisor program name of a program of the app: <app>-<name>, as the cookbook named them. */
export function programName(app: string, name: string): string {
    return `${app}-${name}`;
}

// Ports and well-known paths of a plone-aws stack. The topology hands these to the security
// groups and to the renderers, so a port is written down exactly once.

export const PORTS = {
    ssh: 22,
    http: 80,
    https: 443,
    /** Varnish, behind nginx; Plone clients send PURGE here. */
    varnish: 6081,
    /** Varnish admin (loopback only). */
    varnishAdmin: 6082,
    /** haproxy's frontend, the Varnish backend. */
    haproxy: 8080,
    /** haproxy statistics page (private address, admin sources only). */
    haproxyStats: 1936,
    /** The agent on each app host that haproxy asks whether a client is in rotation. */
    haproxyAgent: 8999,
    /** Client n listens on clientBase + n, so client1 is 8081 as in the cookbook. */
    clientBase: 8080,
    zeo: 8001,
    memcached: 11211,
    redis: 6379,
    /** PostgreSQL: RDS's port, and the default of database.port. */
    postgres: 5432,
    /** Solr: the default of plone.solr.port. */
    solr: 8983,
    nfs: 2049,
    rpcbind: 111,
    /** statd and mountd/lockd are pinned so the security groups can name them. */
    statd: 32765,
    statdOutgoing: 32766,
    mountd: 32767,
    lockd: 32768,
    glusterdFirst: 24007,
    glusterdLast: 24008,
    /** One port per brick from 49152; plone-aws hosts carry one brick each, a few spare. */
    glusterBricksFirst: 49152,
    glusterBricksLast: 49161,
    /** Volto SSR process n listens on voltoBase + n (3001, 3002, ...), on the private address. */
    voltoBase: 3000,
    /** haproxy's frontend for Volto (loopback): nginx sends every page that is not the backend's here. */
    haproxyVolto: 8070,
    /** The mail relay on every app host (loopback only): Plone's MailHost default, localhost:25. */
    smtp: 25,
} as const;

/** Where things live on the hosts. */
export const PATHS = {
    /** Apps are deployed to /srv/www/<app> (releases/, current, shared/) as OpsWorks did. */
    deployRoot: "/srv/www",
    filestorage: "/srv/data/filestorage",
    localBlobs: "/srv/data/blobstorage",
    backups: "/srv/data/backups",
    nfsExport: "/srv/exports",
    glusterExport: "/srv/gluster-exports",
    solrData: "/srv/data/solr",
    redisData: "/var/lib/redis",
    /** Where app hosts mount shared blobs (NFS, GlusterFS, EFS). */
    sharedBlobsMount: "/srv/shared-blobs",
    /** Static page nginx serves when no backend answers. */
    errorPages: "/var/www/plone-errors",
    /** Health endpoint of the frontends, answered by haproxy when it has a live client. */
    frontDoorHealth: "/_health",
    /** Per-app settings the host scripts read: <configDir>/<app>/deploy.env, deploy.cfg, deploy_key. */
    configDir: "/etc/plone-aws",
    /** Shell functions shared by the host scripts (common.sh). */
    toolkitDir: "/usr/local/lib/plone-aws",
    /** The host commands: plone-deploy, plone-rollback, plone-restart, plone-haproxy-agent, ... */
    sbinDir: "/usr/local/sbin",
    /** Runtime state (tmpfs): rotation/<client> holds "drain" or "maint" while a client is out of rotation. */
    runtimeDir: "/run/plone-aws",
    /** Logs of the host scripts and scheduled jobs (backup, pack): group DEPLOY_USER may write. */
    logDir: "/var/log/plone-aws",
    /** The stack's secret values (hex, one per line, root only): the provisioning steps blank them out of their output. */
    redactList: "/etc/plone-aws/redact",
} as const;

/**
 * Plone's login endpoints, as regular expressions over a request's URL path (AWS WAF's regex
 * pattern set, PCRE): the classic form (login_form, @@login, login), the PAS cookie plugin's own
 * views (acl_users/credentials_cookie_auth/...), and plone.restapi's @login. Matched at the end of
 * the path (or as a path segment), so they also hit under a sub-site or a VirtualHostMonster path.
 */
export const LOGIN_PATH_PATTERNS = ["/(@@)?(login|login_form)/?$", "/@login/?$", "/acl_users/credentials_cookie_auth(/|$)"] as const;

/** Backup locations of collective.recipe.backup on the ZEO server's backups volume. */
export const BACKUP_LOCATIONS = {
    location: `${PATHS.backups}/filestorage`,
    blobbackuplocation: `${PATHS.backups}/blobstorage`,
    snapshotlocation: `${PATHS.backups}/snapshots`,
    blobsnapshotlocation: `${PATHS.backups}/blobsnapshots`,
} as const;

/** The user that owns and runs the buildout; its UID/GID is app.deployUserUid on every host. */
export const DEPLOY_USER = "plone";

/** The most Zope clients one host runs (plone.clientCount); their ports follow PORTS.clientBase. */
export const MAX_CLIENTS_PER_HOST = 64;

/** The most Volto SSR processes one host runs (volto.processCount); their ports follow PORTS.voltoBase. */
export const MAX_VOLTO_PER_HOST = 32;

/** Port of Volto process number n (1-based). */
export function voltoPort(n: number): number {
    return PORTS.voltoBase + n;
}

/** Port of Zope client number n (1-based). */
export function clientPort(n: number): number {
    return PORTS.clientBase + n;
}

/**
 * How often haproxy asks the agent on an app host whether a client is in rotation (agent-inter).
 * A rolling restart waits a little longer than this after draining a client, so every front end has
 * seen the drain before the connections are counted.
 */
export const HAPROXY_AGENT_INTERVAL_SECONDS = 2;

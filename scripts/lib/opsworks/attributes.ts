// Every attribute of the OpsWorks plone_buildout cookbook (the 217 keys of the cookbook inventory,
// section 2), the deploy.<app> inputs OpsWorks itself filled in, the attributes of its built-in memcached
// layer, and what plone-aws makes of each.
// The importer classifies every key of a stack Custom JSON with this table, and
// docs/opsworks-attributes.md is generated from (or checked against) it.
import { kindOfKey, stringKeys } from "../../../components/config/stringKeys";
import { keyPath } from "../../../components/config/issues";

export type Disposition =
    /** Carried to a plone-aws key. */
    | "mapped"
    /** Carried as a secret: listed with its `pulumi config set --secret` command, never written. */
    | "secret"
    /** Not needed: plone-aws has it built in, fixed, or decides it from the topology. */
    | "dropped"
    /** A feature plone-aws does not offer; the note says what to do instead. */
    | "unsupported"
    /** Credentials plone-aws replaces with IAM roles; never carried over. */
    | "refused"
    /** The cookbook itself never read it (a known bug); carried over as the cookbook behaved. */
    | "ignored";

export interface AttributeMapping {
    /** Row of the inventory's attribute tables (section 2); null for OpsWorks' own deploy inputs. */
    row: number | null;
    /** Path in the Custom JSON; `deploy.<app>` stands for the app's short name. */
    path: string;
    disposition: Disposition;
    /** The plone-aws key(s) it maps to. */
    target?: string;
    /** Why, or what to do instead. */
    note: string;
}

const P = (...parts: string[]) => keyPath(parts);

function mapped(row: number | null, path: string, target: string, note = ""): AttributeMapping {
    return { row, path, disposition: "mapped", target, note };
}
function secret(row: number | null, path: string, key: string, note = ""): AttributeMapping {
    return { row, path, disposition: "secret", target: `plone-aws:${key}`, note };
}
function dropped(row: number | null, path: string, note: string): AttributeMapping {
    return { row, path, disposition: "dropped", note };
}
function unsupported(row: number | null, path: string, note: string): AttributeMapping {
    return { row, path, disposition: "unsupported", note };
}
function refused(row: number | null, path: string, note: string): AttributeMapping {
    return { row, path, disposition: "refused", note };
}
function ignored(row: number | null, path: string, note: string): AttributeMapping {
    return { row, path, disposition: "ignored", note };
}

const ONE_APP = "plone-aws builds every layer from one app (plone-aws:app)";
const FIXED_PATH = "plone-aws mounts each data volume at a fixed path (components/topology/ports.ts)";
const NO_TRACE = "TraceView (AppNeta) was discontinued; use your APM's agent from the buildout";
const NO_NEWRELIC_AGENT =
    "plone-aws installs no legacy New Relic server agent or plugin (end-of-life); the infrastructure agent replaces them (monitoring.newRelic.infrastructure)";
const NEWRELIC_REPOSITORY =
    "plone-aws adds New Relic's apt repository (download.newrelic.com, signed-by its key) itself for monitoring.newRelic.infrastructure";
const DLM = "Data Lifecycle Manager takes the snapshots with an IAM role (plone-aws:snapshots): no IAM user keys on the hosts";
const PYTHON3 = "plone-aws builds with python3 (app.python); Python 2 toolchain settings do not apply";
const UPSTREAM_INTERNAL = "set internally by the cookbook; plone-aws renders its own configuration";

export const ATTRIBUTES: readonly AttributeMapping[] = [
    // 2.1 plone_instances
    mapped(1, "plone_instances.app_name", P("app", "name"), "the deploy directory /srv/www/<name> keeps the OpsWorks name"),
    mapped(2, "plone_instances.base_config", P("app", "baseConfig")),
    mapped(3, "plone_instances.site_id", P("plone", "siteId")),
    mapped(4, "plone_instances.subsites", P("frontend", "subsites")),
    mapped(5, "plone_instances.subsite_config", P("frontend", "rawSubsiteServer")),
    mapped(6, "plone_instances.per_cpu", P("plone", "clientsPerCpu"), "per vCPU (the cookbook counted OpsWorks backends / ECUs)"),
    mapped(
        7,
        "plone_instances.instance_count",
        P("plone", "clientCount"),
        "the cookbook documented but never read it: plone-aws does, so the client count changes",
    ),
    mapped(
        8,
        "plone_instances.shared_blobs",
        P("plone", "blobs"),
        "true: blobs shared by the app hosts (nfs_blobs, gluster_blobs or blob_dir say how); false: through the ZEO server (zeo) or in the database (RelStorage)",
    ),
    mapped(9, "plone_instances.nfs_blobs", P("plone", "blobs"), "true: plone.blobs nfs, served by the shared_blobs host"),
    mapped(10, "plone_instances.gluster_blobs", P("plone", "blobs"), "true: plone.blobs gluster; exclusive with nfs_blobs"),
    mapped(11, "plone_instances.zodb_cache_size", P("plone", "zodbCacheSize")),
    mapped(12, "plone_instances.persistent_cache", P("plone", "persistentCache")),
    mapped(13, "plone_instances.zserver_threads", P("plone", "zserverThreads")),
    mapped(14, "plone_instances.sticky_sessions", P("plone", "stickySessions")),
    mapped(15, "plone_instances.restart_delay", P("plone", "restartDelay")),
    mapped(
        16,
        "plone_instances.enable_relstorage",
        P("plone", "storage"),
        "true: plone.storage relstorage, with an RDS PostgreSQL (plone-aws:database); false: zeo",
    ),
    mapped(17, "plone_instances.relstorage.db.type", P("database"), "postgres only: other databases are reported, move the data with zodbconvert"),
    mapped(
        18,
        "plone_instances.relstorage.db.dsn",
        P("database"),
        "dbname/host/port/user are read from the DSN; its password becomes plone-aws:dbPassword (never written)",
    ),
    mapped(19, "plone_instances.relstorage.db.name", P("database", "name")),
    mapped(20, "plone_instances.relstorage.db.host", P("database", "host"), "an existing server is kept: plone-aws creates no RDS instance then"),
    mapped(21, "plone_instances.relstorage.db.user", P("database", "user")),
    secret(22, "plone_instances.relstorage.db.password", "dbPassword"),
    mapped(23, "plone_instances.relstorage.db.port", P("database", "port"), "the cookbook never wrote it into deploy.cfg; plone-aws does"),
    mapped(
        24,
        "plone_instances.relstorage.enable_cache",
        P("hosts"),
        "true (the cookbook's default): the memcached layer serves RelStorage's cache, unless cache_servers are given; false: no memcached layer and no cache servers",
    ),
    mapped(25, "plone_instances.relstorage.config", P("plone", "relstorage", "config")),
    mapped(
        26,
        "plone_instances.relstorage.cache_servers",
        P("plone", "relstorage", "cacheServers"),
        "static servers win over a memcached layer, as in the cookbook",
    ),
    mapped(27, "plone_instances.relstorage.enable_pack", P("hosts"), "true: the db_packing layer on one plone_instances host"),
    mapped(28, "plone_instances.relstorage.pack_days", P("plone", "pack", "days")),
    mapped(29, "plone_instances.relstorage.two_stage_pack", P("plone", "pack", "twoStage")),
    mapped(30, "plone_instances.relstorage.pack_gc", P("plone", "pack", "gc")),
    mapped(31, "plone_instances.relstorage.truncate_refs", P("plone", "pack", "truncateRefs")),
    mapped(32, "plone_instances.zeo_layer", P("hosts"), "the layer short name that means zeoserver in --instances"),
    unsupported(33, "plone_instances.zeo.address", "an external ZEO server: plone-aws runs the ZEO server on its zeoserver host; move Data.fs there"),
    mapped(34, "plone_instances.enable_celery", P("plone", "celery", "enabled")),
    mapped(35, "plone_instances.celerybeat", P("hosts"), "true: the celerybeat layer on one plone_instances host"),
    mapped(36, "plone_instances.celery_args", P("plone", "celery", "workerArgs")),
    mapped(37, "plone_instances.beat_args", P("plone", "celery", "beatArgs")),
    mapped(38, "plone_instances.broker_layer", P("hosts"), "the layer short name that means redis in --instances"),
    mapped(39, "plone_instances.broker.host", P("plone", "celery", "brokerHost")),
    mapped(40, "plone_instances.broker.port", P("plone", "celery", "brokerPort")),
    mapped(41, "plone_instances.solr_enabled", P("plone", "solr", "enabled")),
    mapped(42, "plone_instances.solr_layer", P("hosts"), "the layer short name that means solr in --instances"),
    mapped(43, "plone_instances.solr_host", P("plone", "solr", "host")),
    mapped(
        44,
        "plone_instances.newrelic_tracing",
        P("monitoring", "newRelic", "pythonAgent"),
        "the buildout brings the agent (newrelic, collective.newrelic); plone-aws writes its newrelic.ini (license from plone-aws:newRelicLicenseKey) and sets NEW_RELIC_CONFIG_FILE for the clients",
    ),
    unsupported(45, "plone_instances.traceview_tracing", NO_TRACE),
    unsupported(46, "plone_instances.traceview_sample_rate", NO_TRACE),
    unsupported(47, "plone_instances.tracing_clients", "tracing eggs per client are the buildout's business"),
    mapped(48, "plone_instances.syslog_facility", P("plone", "clientSyslog", "facility")),
    mapped(49, "plone_instances.syslog_level", P("plone", "clientSyslog", "level")),
    // 2.2 plone_zeoserver
    dropped(50, "plone_zeoserver.app_name", `${ONE_APP}; deploy.<zeoserver app> settings that differ from the Plone app's are reported`),
    mapped(51, "plone_zeoserver.enable_backup", P("plone", "backups", "enabled"), "plone-aws backs up by default (the cookbook did not)"),
    mapped(52, "plone_zeoserver.enable_pack", P("plone", "pack", "enabled")),
    dropped(53, "plone_zeoserver.filestorage_dir", FIXED_PATH),
    mapped(54, "plone_zeoserver.nfs_blobs", P("plone", "blobs"), "the ZEO server mounts the blobs whenever plone.blobs is nfs or gluster"),
    mapped(55, "plone_zeoserver.gluster_blobs", P("plone", "blobs"), "as nfs_blobs"),
    mapped(56, "plone_zeoserver.syslog_facility", P("plone", "zeoSyslog", "facility")),
    mapped(57, "plone_zeoserver.syslog_level", P("plone", "zeoSyslog", "level")),
    // 2.3 plone_blobs
    mapped(58, "plone_blobs.layer", P("hosts"), "the layer short name that means shared_blobs in --instances"),
    dropped(59, "plone_blobs.nfs_export_dir", FIXED_PATH),
    dropped(60, "plone_blobs.gluster_export_dir", FIXED_PATH),
    dropped(61, "plone_blobs.network", "the NFS export is open to the stack's hosts only (security groups), not a /8"),
    unsupported(62, "plone_blobs.host", "an external blob server: plone-aws serves blobs from its shared_blobs host or EFS (plone.blobs efs)"),
    unsupported(63, "plone_blobs.servers", "external Gluster peers: the peers are the stack's shared_blobs hosts"),
    mapped(
        64,
        "plone_blobs.gluster_volume",
        P("plone", "glusterVolume"),
        'the cookbook\'s server always created "blobs"; plone-aws uses this name on both sides',
    ),
    dropped(65, "plone_blobs.nfs_mount_options", "plone-aws mounts with systemd options (_netdev,nofail; nobootwait was Upstart's)"),
    dropped(66, "plone_blobs.gluster_mount_options", "as nfs_mount_options"),
    dropped(67, "plone_blobs.gluster_store_config_in_exports", "the peers are stack hosts that keep their private addresses"),
    mapped(68, "plone_blobs.blob_dir", P("plone", "blobs"), "local blobs on one host (the path is fixed); an s3fs mount of it becomes efs"),
    // 2.4 plone_solr, tmpdir, system
    dropped(69, "plone_solr.app_name", `${ONE_APP}: the solr layer builds Solr from it`),
    unsupported(70, "plone_solr.enable_papertrail", "Solr's log is not forwarded by default: list it in plone-aws:monitoring.remoteSyslog.files"),
    dropped(71, "plone_solr.data_dir", FIXED_PATH),
    mapped(72, "tmpdir.global_tmp", P("plone", "globalTmp")),
    mapped(73, "tmpdir.tmpfs", P("plone", "tmpfsSize"), "true: a tmpfs of tmpdir.tmpfs_size (1G by default); false: none"),
    mapped(74, "tmpdir.tmpfs_size", P("plone", "tmpfsSize")),
    mapped(75, "system.timezone", P("plone", "timezone"), "also converts the ebs_snapshots hour to UTC"),
    // 2.5 ebs_snapshots
    mapped(76, "ebs_snapshots.keep", P("snapshots", "retain")),
    mapped(77, "ebs_snapshots.hour", P("snapshots", "time"), "in UTC: converted from system.timezone"),
    mapped(78, "ebs_snapshots.minute", P("snapshots", "time")),
    mapped(79, "ebs_snapshots.weekday", P("snapshots", "time"), "daily only: another weekday range is reported"),
    refused(80, "ebs_snapshots.aws_key", DLM),
    refused(81, "ebs_snapshots.aws_secret", DLM),
    // 2.6 nginx
    mapped(82, "nginx_plone.enable_ssi", P("frontend", "nginx", "enableSsi")),
    mapped(83, "nginx_plone.additional_servers", P("frontend", "nginx", "rawHttp")),
    mapped(84, "nginx_plone.additional_config", P("frontend", "nginx", "rawServer")),
    mapped(85, "nginx_plone.additional_ssl_config", P("frontend", "nginx", "rawSslServer")),
    mapped(86, "nginx_plone.default_config", P("frontend", "nginx", "rawDefaultServer")),
    mapped(87, "nginx_plone.default_ssl_config", P("frontend", "nginx", "rawDefaultSslServer")),
    dropped(88, "nginx_plone.proxy_port", "Varnish listens on 6081 on every front end"),
    mapped(89, "nginx_plone.log_retention_days", P("frontend", "nginx", "logRetentionDays")),
    dropped(90, "nginx_plone.force_reload", "nginx reloads whenever its rendered configuration changes"),
    mapped(91, "nginx_plone.client_max_body_size", P("frontend", "nginx", "clientMaxBodySize")),
    mapped(92, "nginx.worker_processes", P("frontend", "nginx", "workerProcesses")),
    // 2.7 Varnish
    mapped(93, "varnish_plone.grace", P("frontend", "varnish", "grace")),
    mapped(94, "varnish_plone.default_ttl", P("frontend", "varnish", "defaultTtl")),
    dropped(95, "varnish.use_default_repo", "Debian's varnish package (Varnish 7) is always used"),
    mapped(96, "varnish.storage_size", P("frontend", "varnish", "storage"), "malloc,<size>: the cookbook's file storage lived on instance store"),
    dropped(97, "varnish.vcl_cookbook", UPSTREAM_INTERNAL),
    dropped(97, "varnish.storage_file", UPSTREAM_INTERNAL),
    dropped(97, "varnish.instance", UPSTREAM_INTERNAL),
    mapped(98, "varnish_purge_urls", P("frontend", "varnish", "purgeUrls")),
    // 2.8 haproxy
    mapped(99, "haproxy.balance", P("frontend", "haproxy", "balance")),
    mapped(100, "haproxy.retries", P("frontend", "haproxy", "retries")),
    mapped(101, "haproxy.check_interval", P("frontend", "haproxy", "checkInterval")),
    mapped(102, "haproxy.server_timeout", P("frontend", "haproxy", "serverTimeout")),
    ignored(103, "haproxy.sticky_sessions", "the cookbook's template reads plone_instances.sticky_sessions instead"),
    mapped(104, "haproxy.rise", P("frontend", "haproxy", "rise")),
    mapped(105, "haproxy.fall", P("frontend", "haproxy", "fall")),
    mapped(106, "haproxy.client_timeout", P("frontend", "haproxy", "clientTimeout")),
    mapped(107, "haproxy.queue_timeout", P("frontend", "haproxy", "queueTimeout")),
    mapped(108, "haproxy.connect_timeout", P("frontend", "haproxy", "connectTimeout")),
    mapped(109, "haproxy.http_request_timeout", P("frontend", "haproxy", "httpRequestTimeout")),
    mapped(110, "haproxy.global_max_connections", P("frontend", "haproxy", "maxConnections")),
    mapped(
        111,
        "haproxy.default_max_connections",
        P("frontend", "haproxy", "maxConnections"),
        "one limit for global and defaults; global_max_connections wins",
    ),
    dropped(112, "haproxy.httpclose", "plone-aws's haproxy 2.x configuration chooses the connection mode"),
    dropped(113, "haproxy.http_server_close", "as httpclose"),
    dropped(114, "haproxy.stats_socket_path", "the admin socket path is fixed: rolling restarts drain clients through it"),
    dropped(115, "haproxy.stats_socket_level", "the admin socket needs level admin for draining"),
    dropped(116, "haproxy.enable_stats", "the statistics page is always on, for network.adminCidrs only, with a password"),
    dropped(117, "haproxy.stats_url", "the statistics page is on port 1936 of each front end"),
    mapped(118, "haproxy.stats_user", P("frontend", "haproxy", "statsUser")),
    secret(119, "haproxy.stats_password", "haproxyStatsPassword"),
    mapped(120, "haproxy.health_check_url", P("plone", "healthCheckPath")),
    dropped(121, "haproxy.health_check_method", "plone-aws fixes the check method"),
    // 2.9 certbot, New Relic, Papertrail, Traceview, Redis, misc
    mapped(
        122,
        "certbot_domains",
        `${P("frontend", "domain")}, ${P("frontend", "aliases")}, ${P("frontend", "tls")}`,
        "certbot TLS for the first name and the others",
    ),
    mapped(123, "certbot_email", P("frontend", "tls", "email")),
    dropped(124, "certbot.install_method", "Debian's certbot package"),
    dropped(125, "certbot.bin", "Debian's certbot package"),
    dropped(126, "certbot.config_dir", "/etc/letsencrypt"),
    secret(127, "newrelic.license", "newRelicLicenseKey"),
    mapped(
        128,
        "newrelic.servers",
        P("monitoring", "newRelic", "infrastructure"),
        "the legacy server agent and the Varnish plugin are end-of-life: the infrastructure agent (newrelic-infra) replaces them",
    ),
    mapped(129, "newrelic.infrastructure", P("monitoring", "newRelic", "infrastructure"), "newrelic-infra from New Relic's apt repository on every host"),
    ignored(130, "new_relic.servers", "dead key: the cookbook reads newrelic.servers"),
    ignored(131, "new_relic.infrastructure", "dead key: the cookbook reads newrelic.infrastructure"),
    mapped(132, "newrelic.application_monitoring.app_name", P("monitoring", "newRelic", "appName"), 'default "<stack>: <app>" as the cookbook named it'),
    dropped(
        133,
        "newrelic.application_monitoring.browser_monitoring.auto_instrument",
        "plone-aws's newrelic.ini sets browser_monitoring.auto_instrument = true, as the cookbook's default",
    ),
    unsupported(
        134,
        "newrelic.application_monitoring.transaction_tracer.slow_sql",
        "plone-aws's newrelic.ini does not set it (the agent's default); set NEW_RELIC_* variables in app.environment",
    ),
    dropped(
        135,
        "newrelic.application_monitoring.transaction_tracer.record_sql",
        "plone-aws's newrelic.ini records SQL obfuscated (the cookbook's raw would send values)",
    ),
    dropped(136, "newrelic.python_agent.python_version", "a Python 2 agent pin: pin newrelic in the buildout"),
    dropped(
        137,
        "newrelic.python_agent.config_file",
        "plone-aws writes /etc/plone-aws/<app>/newrelic.ini and points NEW_RELIC_CONFIG_FILE at it (monitoring.newRelic.pythonAgent)",
    ),
    dropped(138, "newrelic.varnish.version", NO_NEWRELIC_AGENT),
    dropped(139, "newrelic.varnish.install_path", NO_NEWRELIC_AGENT),
    dropped(140, "newrelic.varnish.plugin_path", NO_NEWRELIC_AGENT),
    dropped(141, "newrelic.varnish.download_url", NO_NEWRELIC_AGENT),
    dropped(142, "newrelic.varnish.user", NO_NEWRELIC_AGENT),
    dropped(143, "newrelic.repository.infrastructure.key", NEWRELIC_REPOSITORY),
    dropped(144, "newrelic.repository.infrastructure.ssl_verify", NEWRELIC_REPOSITORY),
    dropped(145, "newrelic.repository.infrastructure.uri", NEWRELIC_REPOSITORY),
    dropped(146, "newrelic.repository.infrastructure.components", NEWRELIC_REPOSITORY),
    mapped(
        147,
        "papertrail.remote_host",
        P("monitoring", "remoteSyslog", "host"),
        "rsyslog forwards the host's syslog and the app's, supervisor's and nginx's logs, over TLS (remoteSyslog.tls)",
    ),
    mapped(148, "papertrail.remote_port", P("monitoring", "remoteSyslog", "port")),
    mapped(149, "papertrail.watch_files", P("monitoring", "remoteSyslog", "files"), "more files (path -> tag) besides the ones plone-aws forwards"),
    unsupported(150, "traceview.access_key", NO_TRACE),
    dropped(151, "redis.config.listen_addr", "Redis is reachable from the app hosts only (security group)"),
    dropped(152, "redis.config.dir", FIXED_PATH),
    dropped(153, "redis.config.vm.vm_swap_file", "Redis virtual memory was removed in Redis 2.6"),
    dropped(154, "redis.config.listen_port", "the redis layer listens on 6379; an external broker's port is plone.celery.brokerPort"),
    dropped(155, "memcached.port", "memcached listens on 11211 (the cookbook hard-coded it too)"),
    // OpsWorks' built-in memcached layer (not the cookbook's): a Custom JSON could override its attributes.
    mapped(null, "memcached.memory", P("plone", "memcached", "memoryMb"), "OpsWorks' built-in memcached layer: MB of cache (default 512)"),
    mapped(null, "memcached.max_connections", P("plone", "memcached", "maxConnections"), "OpsWorks' built-in memcached layer: connections (default 4096)"),
    dropped(null, "memcached.user", "memcached runs as Debian's memcache user"),
    dropped(null, "memcached.pid_file", "Debian's pidfile"),
    dropped(null, "memcached.start_command", "plone-aws starts memcached with the host's service manager"),
    dropped(null, "memcached.stop_command", "plone-aws stops memcached with the host's service manager"),
    dropped(156, "apt.unattended_upgrades.enable", "every host installs security updates unattended"),
    unsupported(
        157,
        "apt.unattended_upgrades.mail",
        "unattended-upgrades mails no report: plone-aws:mail relays the app's mail (Plone, celery) from the app hosts only; the cookbook has no mail attribute of Plone's own (it left MailHost to the buildout)",
    ),
    unsupported(158, "apt.unattended_upgrades.package_blacklist", "no package is held back (newrelic-sysmond is gone)"),
    dropped(159, "s3fs_fuse.version", "s3fs is not used: EFS (plone.blobs efs) is the shared file system"),
    refused(160, "s3fs_fuse.s3_key", "IAM user keys: EFS replaces the s3fs bucket, with no keys on the hosts"),
    refused(160, "s3fs_fuse.s3_secret", "IAM user keys: EFS replaces the s3fs bucket, with no keys on the hosts"),
    mapped(161, "s3fs_fuse.mounts", P("plone", "blobs"), "a mount at plone_blobs.blob_dir becomes plone.blobs efs: copy the bucket's blobs into EFS"),
    dropped(162, "bluepill.bin", "bluepill is not used"),
    dropped(163, "python.virtualenv_version", PYTHON3),
    dropped(164, "nfs.port.statd", "statd is pinned to 32765 (components/topology/ports.ts)"),
    dropped(165, "nfs.port.statd_out", "statd's outgoing port is pinned to 32766"),
    // 2.10 opsworks_deploy_python globals (fallbacks of the per-app keys)
    dropped(166, "deploy_python.custom_type", UPSTREAM_INTERNAL),
    mapped(167, "deploy_python.symlink_before_migrate", P("app", "symlinkBeforeMigrate"), "merged with the app's own"),
    mapped(168, "deploy_python.purge_before_symlink", P("app", "purgeBeforeSymlink"), "merged with the app's own"),
    mapped(169, "deploy_python.create_dirs_before_symlink", P("app", "createDirsBeforeSymlink"), "merged with the app's own"),
    mapped(170, "deploy_python.packages", P("app", "pipPackages"), "when the app has none"),
    mapped(171, "deploy_python.os_packages", P("app", "osPackages"), "when the app has none; Ubuntu names become Debian 12 names"),
    unsupported(172, "deploy_python.ruby_gems", "plone-aws installs no Ruby gems"),
    dropped(173, "deploy_python.venv_options", PYTHON3),
    mapped(174, "deploy_buildout.cache_archives", P("app", "cacheArchives"), "when the app has none"),
    mapped(
        175,
        "deploy_buildout.symlink_before_migrate",
        P("app", "symlinkBeforeMigrate"),
        "entries beyond the built-in eggs/downloads/extends/var/parts links",
    ),
    mapped(176, "deploy_buildout.purge_before_symlink", P("app", "purgeBeforeSymlink"), "entries beyond the built-in ones"),
    mapped(177, "deploy_buildout.create_dirs_before_symlink", P("app", "createDirsBeforeSymlink"), "entries beyond the built-in ones"),
    unsupported(178, "deploy_buildout.buildout_version", "pin zc.buildout in the repository's requirements.txt (app.bootstrapCommand)"),
    unsupported(179, "deploy_buildout.bootstrap_params", "bootstrap.py is not used: see app.bootstrapCommand"),
    dropped(180, "deploy_buildout.config", "the generated file is always deploy.cfg"),
    dropped(181, "deploy_buildout.config_template", "plone-aws renders deploy.cfg itself"),
    ignored(182, "deploy_buildout.extends", "a fallback the Plone recipes always overrode"),
    dropped(183, "deploy_buildout.config_cookbook", "plone-aws renders deploy.cfg itself"),
    mapped(184, "deploy_buildout.flags", P("app", "buildoutFlags"), "when the app has none"),
    unsupported(185, "deploy_buildout.supervisor_part", "the system supervisor runs the programs; a buildout-built supervisord is not used"),
    mapped(186, "deploy_buildout.inherit_parts", P("app", "inheritParts"), "when the app has none"),
    mapped(187, "deploy_buildout.parts_to_include", P("app", "partsToInclude"), "when the app has none"),
    mapped(188, "deploy_buildout.additional_config", P("app", "rawBuildoutConfig"), "when the app has none"),
    ignored(189, "deploy_buildout.debug", "the template never used it"),
    mapped(190, "deploy_buildout.init_commands", P("app", "initCommands"), "when the app has none"),
    mapped(191, "deploy_buildout.init_type", P("app"), "supervisor only; upstart is reported"),
    // 2.11 per-app keys
    mapped(
        192,
        "deploy.<app>.os_packages",
        P("app", "osPackages"),
        "Ubuntu names become Debian 12 names (scripts/lib/opsworks/packages.ts); Ubuntu version pins are dropped",
    ),
    mapped(193, "deploy.<app>.packages", P("app", "pipPackages")),
    unsupported(194, "deploy.<app>.ruby_gems", "plone-aws installs no Ruby gems"),
    dropped(195, "deploy.<app>.venv_options", PYTHON3),
    unsupported(196, "deploy.<app>.python_major_version", "Python 2.x: the buildout must run on Python 3 (Plone 5.2 or later)"),
    mapped(
        197,
        "deploy.<app>.environment",
        P("app", "environment"),
        "a variable whose name or value says it is a secret (DB_PASSWORD, SMTP_PASS, a DATABASE_URL with a password, a Sentry DSN, an Authorization header) becomes a plone-aws:appSecrets entry: its command is printed, its value never written",
    ),
    mapped(198, "deploy.<app>.always_build_on_deploy", P("app", "alwaysBuildOnDeploy")),
    mapped(199, "deploy.<app>.symlink_before_migrate", P("app", "symlinkBeforeMigrate")),
    mapped(200, "deploy.<app>.purge_before_symlink", P("app", "purgeBeforeSymlink")),
    mapped(201, "deploy.<app>.create_dirs_before_symlink", P("app", "createDirsBeforeSymlink")),
    mapped(202, "deploy.<app>.buildout_extends", P("app", "buildoutExtends")),
    mapped(203, "deploy.<app>.buildout_parts_to_include", P("app", "partsToInclude"), "a zeoserver part (single-host stack) becomes the zeoserver layer"),
    mapped(204, "deploy.<app>.buildout_additional_config", P("app", "rawBuildoutConfig")),
    mapped(205, "deploy.<app>.buildout_init_commands", P("app", "initCommands"), "a zeoserver command (single-host stack) becomes the zeoserver layer"),
    mapped(206, "deploy.<app>.buildout_init_type", P("app"), "supervisor only; upstart is reported"),
    mapped(
        207,
        "deploy.<app>.buildout_cache_archives",
        P("app", "cacheArchives"),
        "passwords (also a user:password@ in the URL) become plone-aws:cacheArchivePassword (one for all archives), never written",
    ),
    dropped(208, "deploy.<app>.buildout_config", "the generated file is always deploy.cfg"),
    dropped(209, "deploy.<app>.buildout_config_template", "plone-aws renders deploy.cfg itself"),
    dropped(210, "deploy.<app>.buildout_config_cookbook", "plone-aws renders deploy.cfg itself"),
    mapped(211, "deploy.<app>.buildout_flags", P("app", "buildoutFlags")),
    unsupported(212, "deploy.<app>.buildout_buildout_version", "pin zc.buildout in the repository's requirements.txt (app.bootstrapCommand)"),
    unsupported(213, "deploy.<app>.buildout_bootstrap_params", "bootstrap.py is not used: see app.bootstrapCommand"),
    unsupported(214, "deploy.<app>.buildout_supervisor_part", "the system supervisor runs the programs; a buildout-built supervisord is not used"),
    ignored(215, "deploy.<app>.buildout_inherit_parts", "the cookbook's helper uses ||, so false never took effect: kept as parts +="),
    ignored(216, "deploy.<app>.buildout_debug", "the template never used it"),
    dropped(217, "deploy.<app>.custom_type", UPSTREAM_INTERNAL),
    // OpsWorks' own deploy.<app> inputs (from the app definition; Custom JSON could override them)
    dropped(null, "deploy.<app>.deploy_to", "apps live in /srv/www/<app.name>"),
    dropped(null, "deploy.<app>.user", "the deploy user is plone, with the same UID on every host (app.deployUserUid)"),
    dropped(null, "deploy.<app>.group", "the deploy user's own group"),
    dropped(null, "deploy.<app>.home", "the deploy user's home is fixed"),
    dropped(null, "deploy.<app>.current_path", "<deploy_to>/current"),
    mapped(null, "deploy.<app>.scm.scm_type", P("app", "repository"), "git only: svn, archive and s3 sources are reported"),
    mapped(
        null,
        "deploy.<app>.scm.repository",
        P("app", "repository"),
        "a password or token in the URL (https://user:TOKEN@host/...) becomes plone-aws:repositoryToken, never written; the URL keeps the user name",
    ),
    mapped(null, "deploy.<app>.scm.revision", P("app", "revision")),
    secret(null, "deploy.<app>.scm.ssh_key", "deployKey"),
    mapped(null, "deploy.<app>.scm.user", P("app", "repository"), "with scm.password and an https repository: the user name in the URL"),
    secret(
        null,
        "deploy.<app>.scm.password",
        "repositoryToken",
        "the password or token of an https repository; an SSH repository uses plone-aws:deployKey instead",
    ),
    mapped(null, "deploy.<app>.database.host", P("database", "host"), "the RDS attached to the OpsWorks app, used when relstorage.db.name is not set"),
    mapped(null, "deploy.<app>.database.port", P("database", "port")),
    mapped(null, "deploy.<app>.database.adapter", P("database"), "postgresql only"),
    mapped(null, "deploy.<app>.database.username", P("database", "user")),
    secret(null, "deploy.<app>.database.password", "dbPassword"),
    mapped(null, "deploy.<app>.database.database", P("database", "name")),
    mapped(null, "deploy.<app>.domains", `${P("frontend", "domain")}, ${P("frontend", "aliases")}`),
    dropped(null, "deploy.<app>.application", "the app's short name"),
    mapped(null, "deploy.<app>.ssl_support", P("frontend", "tls"), "true with a certificate: import it into ACM (tls mode acm) or use certbot"),
    unsupported(null, "deploy.<app>.ssl_certificate", "import the certificate into ACM (aws acm import-certificate) and set frontend.tls mode acm"),
    refused(null, "deploy.<app>.ssl_certificate_key", "a private key in the Custom JSON: import it into ACM with the certificate; the value is not printed"),
    unsupported(null, "deploy.<app>.ssl_certificate_ca", "import the chain into ACM with the certificate"),
    mapped(null, "deploy.<app>.keep_releases", P("app", "keepReleases")),
    dropped(null, "deploy.<app>.chef_provider", "releases are timestamped directories"),
    dropped(null, "deploy.<app>.enable_submodules", "not configurable"),
    dropped(null, "deploy.<app>.shallow_clone", "not configurable"),
    dropped(null, "deploy.<app>.delete_cached_copy", "not configurable"),
    dropped(null, "deploy.<app>.symlinks", "Rails log/pids links; the release layout is fixed"),
    dropped(null, "deploy.<app>.migrate", "a Rails setting"),
    mapped(
        null,
        "deploy.<app>.environment_variables",
        P("app", "environment"),
        "the OpsWorks app's environment, merged under deploy.<app>.environment; secrets become plone-aws:appSecrets entries, as there",
    ),
];

/** Namespaces whose other keys belong to other cookbooks (Django, upstream cookbooks, OpsWorks itself). */
export const FAMILIES: Readonly<Record<string, string>> = {
    deploy_django: "the Django recipes of opsworks_deploy_python: not used by Plone",
    opsworks: "OpsWorks' own stack configuration, not Custom JSON: not used",
};

/** Known misspellings the cookbook silently ignored: the key a user meant. */
export const KNOWN_MISTAKES: Readonly<Record<string, string>> = {
    "plone_instances.celery_enabled": "plone_instances.enable_celery (the cookbook ignored celery_enabled, as its example-custom-json.json did)",
    "zeoserver.nfs_blobs": "plone_zeoserver.nfs_blobs (the cookbook ignored the top-level zeoserver key of its README)",
    "zeoserver.gluster_blobs": "plone_zeoserver.gluster_blobs",
    "plone_instances.buildout_cache_archives": "deploy.<app>.buildout_cache_archives",
    "plone_instances.newrelic_tracing_clients": "plone_instances.tracing_clients",
    "new_relic.application_monitoring.browser_monitoring.auto_instrument": "newrelic.application_monitoring.browser_monitoring.auto_instrument",
    "new_relic.license": "newrelic.license",
};

/** The entry for a path as written in the table (deploy.<app>.x), if any. */
export function attributeFor(tablePath: string): AttributeMapping | undefined {
    return BY_PATH.get(tablePath);
}

const BY_PATH = new Map(ATTRIBUTES.map((a) => [a.path, a]));

/** Paths of the table that lie below a prefix (to tell a namespace from an unknown key). */
export function hasAttributesBelow(prefix: string): boolean {
    return ATTRIBUTES.some((a) => a.path.startsWith(`${prefix}.`));
}

/** The table as Markdown rows (row, key, disposition, plone-aws key, note) for the docs. */
export function attributesMarkdown(): string {
    const keys = stringKeys();
    const lines = ["| # | Custom JSON key | plone-aws | target | kind | note |", "|---|---|---|---|---|---|"];
    for (const a of ATTRIBUTES) {
        const kind = a.target ? kindOfKey(a.target, keys) : undefined;
        lines.push(
            `| ${a.row ?? "-"} | \`${a.path}\` | ${a.disposition} | ${a.target ? `\`${a.target}\`` : ""} | ${kind ?? ""} | ${a.note.replace(/\|/g, "\\|")} |`,
        );
    }
    return lines.join("\n");
}

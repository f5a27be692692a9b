// /etc/redis/redis.conf of the redis host: the celery broker. Debian's package listens on
// 127.0.0.1 only; the celery workers connect to the host's private address (deploy.cfg
// [celery-broker]). The whole file is written, so nothing of Debian's defaults is left to chance.
import { PATHS, PORTS } from "../../topology";
import { daemonWord } from "../encode";

/** Debian's redis-server reads this (its systemd unit and its init script). */
export const REDIS_CONF = "/etc/redis/redis.conf";

export interface RedisSettings {
    /** The host's private address: where the celery workers connect. Loopback is added for checks on the host. */
    privateAddress: string;
    maxMemoryMb: number;
    maxClients: number;
}

export function renderRedisConf(settings: RedisSettings): string {
    const listen = [settings.privateAddress, "127.0.0.1"].filter((a, i, all) => all.indexOf(a) === i);
    return [
        "# Redis: the celery broker. Written by plone-aws on every `pulumi up`;",
        "# change plone.redis in the stack configuration instead of this file.",
        "",
        "# The private address (the celery workers of the stack) and loopback; never every interface.",
        `bind ${listen.map((a) => daemonWord(a, "Redis's bind address")).join(" ")}`,
        `port ${daemonWord(PORTS.redis)}`,
        "# Redis 7 refuses every client but 127.0.0.1 and ::1 while protected mode is on and the default",
        "# user has no password, whatever bind says. The workers connect from the app hosts: bind above",
        "# and the redis security group (the plone_instances hosts only) keep everyone else out.",
        "protected-mode no",
        "tcp-backlog 511",
        "timeout 0",
        "tcp-keepalive 300",
        `maxclients ${daemonWord(settings.maxClients, "plone.redis.maxClients")}`,
        "",
        "# Debian's service runs it in the background (systemd's unit overrides both on its command line).",
        "daemonize yes",
        "supervised auto",
        "pidfile /run/redis/redis-server.pid",
        "loglevel notice",
        "logfile /var/log/redis/redis-server.log",
        "databases 16",
        "",
        "# A broker holds tasks, not a cache: when memory is full it refuses new tasks and evicts none.",
        `maxmemory ${daemonWord(settings.maxMemoryMb, "plone.redis.maxMemoryMb")}mb`,
        "maxmemory-policy noeviction",
        "",
        "# Persistence on the redis volume: every write in the append-only file (fsync each second,",
        "# so a crash loses at most a second of queued tasks), and hourly snapshots for the backups.",
        `dir ${daemonWord(PATHS.redisData)}`,
        "dbfilename dump.rdb",
        "save 3600 1 300 100 60 10000",
        "stop-writes-on-bgsave-error yes",
        "appendonly yes",
        "appendfilename appendonly.aof",
        "appendfsync everysec",
        "aof-use-rdb-preamble yes",
        "",
    ].join("\n");
}

// /etc/memcached.conf of a memcached host: RelStorage's shared cache. Debian's package starts
// memcached on 127.0.0.1 with 64 MB; the Zope clients connect to the host's private address
// (deploy.cfg [memcached] servers), so the file names both, with the stack's limits.
import { PORTS } from "../../topology";
import { daemonWord } from "../encode";

/** Where Debian's memcached (its init script and its systemd wrapper) reads its options. */
export const MEMCACHED_CONF = "/etc/memcached.conf";

export interface MemcachedSettings {
    /** The host's private address: where the clients connect. Loopback is added for checks on the host. */
    privateAddress: string;
    memoryMb: number;
    maxConnections: number;
}

export function renderMemcachedConf(settings: MemcachedSettings): string {
    const listen = [settings.privateAddress, "127.0.0.1"].filter((a, i, all) => all.indexOf(a) === i);
    return [
        "# memcached: RelStorage's shared cache. Written by plone-aws on every `pulumi up`;",
        "# change plone.memcached in the stack configuration instead of this file.",
        "# Debian's wrapper reads the lines starting with '-' as options (and logfile).",
        "-d",
        "logfile /var/log/memcached.log",
        "# The private address (the Zope clients of the stack) and loopback; never every interface.",
        `-l ${listen.map((a) => daemonWord(a, "memcached's listen address")).join(",")}`,
        `-p ${daemonWord(PORTS.memcached)}`,
        "# No UDP: RelStorage's clients use TCP, and UDP memcached is an amplification risk.",
        "-U 0",
        `-m ${daemonWord(settings.memoryMb, "plone.memcached.memoryMb")}`,
        `-c ${daemonWord(settings.maxConnections, "plone.memcached.maxConnections")}`,
        "-u memcache",
        "-P /var/run/memcached/memcached.pid",
        "",
    ].join("\n");
}

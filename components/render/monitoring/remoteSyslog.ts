// Remote syslog (monitoring.remoteSyslog, the cookbook's Papertrail recipe): rsyslog forwards the
// host's syslog and the app's, supervisor's and nginx's log files to host:port, over TLS by default.
import type { HostPlan } from "../../topology";
import type { RenderContext } from "../context";
import { rsyslogString as quoted } from "../encode";
import { shippedLogs } from "./cloudwatchAgent";

export const REMOTE_SYSLOG_CONF = "/etc/rsyslog.d/60-plone-aws-remote.conf";
/** The CA bundle of the ca-certificates package, which the server's certificate must chain to. */
const CA_FILE = "/etc/ssl/certs/ca-certificates.crt";

/** The files forwarded from a host, with their syslog tag (path -> tag). */
export function forwardedFiles(ctx: RenderContext, host: HostPlan): Record<string, string> {
    const files: Record<string, string> = {};
    for (const log of shippedLogs(ctx, host)) {
        // nginx's access log is the site's traffic: CloudWatch Logs keeps it, the syslog service does not
        // need it. haproxy logs through syslog, which is forwarded as a whole.
        if (log.kind === "nginx-access" || log.kind === "haproxy") continue;
        const base = log.path
            .split("/")
            .pop()!
            .replace(/\.log$/, "");
        files[log.path] = log.kind === "nginx-error" ? "nginx" : base;
    }
    return { ...files, ...(ctx.spec.monitoring.remoteSyslog?.files ?? {}) };
}

export function renderRemoteSyslogConf(ctx: RenderContext, host: HostPlan): string | undefined {
    const remote = ctx.spec.monitoring.remoteSyslog;
    if (!remote) return undefined;
    const tls = remote.tls
        ? [
              `StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"`,
              `StreamDriverPermittedPeers=${quoted(remote.permittedPeer ?? remote.host)}`,
          ]
        : [];
    const inputs = Object.entries(forwardedFiles(ctx, host)).map(
        ([path, tag]) => `input(type="imfile" File=${quoted(path)} Tag=${quoted(`${tag}:`)} Facility="local7" Severity="info" Ruleset="plone_aws_remote")`,
    );
    return [
        `# Forwards the logs of ${host.name} (stack ${ctx.spec.stackName}) to ${remote.host}:${remote.port}${remote.tls ? " over TLS" : ""}`,
        "# (plone-aws:monitoring.remoteSyslog). Written by plone-aws: changes are overwritten.",
        ...(remote.tls ? [`global(DefaultNetstreamDriverCAFile=${quoted(CA_FILE)})`] : []),
        'module(load="imfile")',
        "",
        "# A disk-assisted queue: messages wait while the server is unreachable, and survive a restart.",
        'ruleset(name="plone_aws_remote") {',
        `    action(type="omfwd" target=${quoted(remote.host)} port=${quoted(String(remote.port))} protocol="tcp"`,
        ...tls.map((l) => `           ${l}`),
        '           template="RSYSLOG_SyslogProtocol23Format"',
        '           queue.type="LinkedList" queue.size="50000" queue.filename="plone_aws_remote"',
        '           queue.maxDiskSpace="256m" queue.saveOnShutdown="on" action.resumeRetryCount="-1")',
        "}",
        "",
        "# The host's own syslog (Zope and the ZEO server log there with plone.clientSyslog / zeoSyslog).",
        "call plone_aws_remote",
        "",
        "# Log files (the cookbook's papertrail watch_files, and monitoring.remoteSyslog.files).",
        ...inputs,
        "",
    ].join("\n");
}

/** rsyslog and, for TLS, its GnuTLS driver. */
export function remoteSyslogPackages(ctx: RenderContext): string[] {
    const remote = ctx.spec.monitoring.remoteSyslog;
    if (!remote) return [];
    return remote.tls ? ["rsyslog", "rsyslog-gnutls", "ca-certificates"] : ["rsyslog"];
}

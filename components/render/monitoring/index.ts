// Monitoring on a host: the CloudWatch agent, remote syslog and New Relic. What the setup step
// installs (packages, Amazon's and New Relic's agents), what the configure step writes, and how
// each service takes a changed configuration.
import type { HostPlan } from "../../topology";
import type { RenderContext, RenderedFile } from "../context";
import type { ServiceReload } from "../host/install";
import { rootFile } from "../scriptKit";
import { CLOUDWATCH_AGENT_CONFIG, CLOUDWATCH_AGENT_SCRIPT, renderCloudwatchAgentConfig, renderCloudwatchAgentScript } from "./cloudwatchAgent";
import { NEWRELIC_INFRA_CONFIG, NEWRELIC_INFRA_SCRIPT, renderNewRelicFiles, renderNewRelicInfraScript } from "./newRelic";
import { REMOTE_SYSLOG_CONF, remoteSyslogPackages, renderRemoteSyslogConf } from "./remoteSyslog";

/** The installers the setup step runs (they are installed with the system files). */
export function monitoringSetupFiles(ctx: RenderContext): RenderedFile[] {
    const { monitoring } = ctx.spec;
    const files: RenderedFile[] = [];
    if (monitoring.cloudwatchAgent) files.push(rootFile(CLOUDWATCH_AGENT_SCRIPT, renderCloudwatchAgentScript(ctx), "0755"));
    if (monitoring.newRelic.infrastructure) files.push(rootFile(NEWRELIC_INFRA_SCRIPT, renderNewRelicInfraScript(), "0755"));
    return files;
}

/** What the setup step runs after the packages: the agents that do not come from Debian. */
export function monitoringSetupCommands(ctx: RenderContext): string[] {
    const { monitoring } = ctx.spec;
    return [
        ...(monitoring.cloudwatchAgent ? [`${CLOUDWATCH_AGENT_SCRIPT} install`] : []),
        ...(monitoring.newRelic.infrastructure ? [`${NEWRELIC_INFRA_SCRIPT} install`] : []),
    ];
}

/** Debian packages monitoring needs on a host. */
export function monitoringPackages(ctx: RenderContext): string[] {
    const { monitoring } = ctx.spec;
    return [...(monitoring.cloudwatchAgent || monitoring.newRelic.infrastructure ? ["gpg"] : []), ...remoteSyslogPackages(ctx)];
}

/** The files the configure step writes: the agent's configuration, rsyslog's forwarding, New Relic's (secret) settings. */
export function renderMonitoringFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    const files: RenderedFile[] = [];
    if (ctx.spec.monitoring.cloudwatchAgent) files.push(rootFile(CLOUDWATCH_AGENT_CONFIG, renderCloudwatchAgentConfig(ctx, host)));
    const syslog = renderRemoteSyslogConf(ctx, host);
    if (syslog) files.push(rootFile(REMOTE_SYSLOG_CONF, syslog));
    files.push(...renderNewRelicFiles(ctx, host));
    return files;
}

/** How the configure step applies a changed monitoring file. */
export function monitoringServices(ctx: RenderContext): ServiceReload[] {
    const { monitoring } = ctx.spec;
    const services: ServiceReload[] = [];
    if (monitoring.cloudwatchAgent) {
        services.push({ name: "the CloudWatch agent", paths: [CLOUDWATCH_AGENT_CONFIG], reload: `${CLOUDWATCH_AGENT_SCRIPT} reload` });
    }
    if (monitoring.remoteSyslog) {
        // rsyslog reads its configuration only when it starts; -N1 checks it first.
        services.push({
            name: "rsyslog",
            paths: [REMOTE_SYSLOG_CONF],
            validate: "rsyslogd -N1 -f /etc/rsyslog.conf",
            reload: "if [ -d /run/systemd/system ]; then systemctl restart rsyslog; else service rsyslog restart; fi",
        });
    }
    if (monitoring.newRelic.infrastructure) {
        services.push({
            name: "newrelic-infra",
            paths: [NEWRELIC_INFRA_CONFIG],
            reload: "if [ -d /run/systemd/system ]; then systemctl restart newrelic-infra; else service newrelic-infra restart; fi",
        });
    }
    return services;
}

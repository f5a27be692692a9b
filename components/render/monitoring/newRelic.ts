// New Relic (monitoring.newRelic, the cookbook's newrelic recipe): the infrastructure agent on every
// host, and the Python agent's configuration for the Zope clients (the buildout brings the agent,
// e.g. collective.newrelic). The license key is the secret plone-aws:newRelicLicenseKey: it is only
// in files of mode 0600 (newrelic-infra.yml) and 0640 (newrelic.ini), never on a command line.
import { DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import { appLayout } from "../app/layout";
import type { RenderContext, RenderedFile } from "../context";
import { iniValue, yamlString } from "../encode";
import { scriptHeader, sh } from "../scriptKit";

export const NEWRELIC_INFRA_CONFIG = "/etc/newrelic-infra.yml";
export const NEWRELIC_INFRA_SCRIPT = `${PATHS.sbinDir}/plone-newrelic-infra`;
/** New Relic's apt repository (the cookbook's newrelic.repository.infrastructure.uri). */
const REPOSITORY = "https://download.newrelic.com/infrastructure_agent/linux/apt";
const REPOSITORY_KEY = "https://download.newrelic.com/infrastructure_agent/gpg/newrelic-infra.gpg";

export function newRelicIniPath(ctx: Pick<RenderContext, "spec">): string {
    return `${appLayout(ctx.spec).configDir}/newrelic.ini`;
}

/** The environment of the app's programs on a client host: where the Python agent's settings are. */
export function newRelicEnvironment(ctx: Pick<RenderContext, "spec">, host: Pick<HostPlan, "layers">): Record<string, string> {
    if (!ctx.spec.monitoring.newRelic.pythonAgent || !host.layers.includes("plone_instances")) return {};
    return { NEW_RELIC_CONFIG_FILE: newRelicIniPath(ctx) };
}

function licenseOf(ctx: RenderContext): string {
    const key = ctx.secrets.newRelicLicenseKey;
    if (!key) throw new Error("monitoring.newRelic needs plone-aws:newRelicLicenseKey");
    return key;
}

/** The secret files of a host: newrelic-infra.yml (infrastructure) and newrelic.ini (Python agent, client hosts). */
export function renderNewRelicFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    const nr = ctx.spec.monitoring.newRelic;
    const files: RenderedFile[] = [];
    if (nr.infrastructure) {
        const content = [
            "# New Relic infrastructure agent (plone-aws:monitoring.newRelic). Written by plone-aws.",
            `license_key: ${yamlString(licenseOf(ctx))}`,
            `display_name: ${yamlString(`${ctx.spec.stackName}--${host.name}`)}`,
            "custom_attributes:",
            `  plone_aws_stack: ${yamlString(ctx.spec.stackName)}`,
            `  plone_aws_layers: ${yamlString(host.layers.join(" "))}`,
            "",
        ].join("\n");
        files.push({ path: NEWRELIC_INFRA_CONFIG, content, mode: "0600", owner: "root", group: "root", secret: true });
    }
    if (nr.pythonAgent && host.layers.includes("plone_instances")) {
        const content = [
            "; New Relic Python agent of the Zope clients (plone-aws:monitoring.newRelic). Written by plone-aws.",
            "; The clients find it through NEW_RELIC_CONFIG_FILE.",
            "[newrelic]",
            `license_key = ${iniValue(licenseOf(ctx), "plone-aws:newRelicLicenseKey")}`,
            `app_name = ${iniValue(nr.appName ?? `${ctx.spec.stackName}: ${ctx.spec.app.name}`, "monitoring.newRelic.appName")}`,
            "monitor_mode = true",
            "log_file = stderr",
            "log_level = info",
            "browser_monitoring.auto_instrument = true",
            "transaction_tracer.enabled = true",
            "transaction_tracer.record_sql = obfuscated",
            "",
        ].join("\n");
        files.push({ path: newRelicIniPath(ctx), content, mode: "0640", owner: "root", group: DEPLOY_USER, secret: true });
    }
    return files;
}

/** plone-newrelic-infra install: New Relic's apt repository and the agent (the configure step writes its license). */
export function renderNewRelicInfraScript(): string {
    return `${scriptHeader(
        "plone-newrelic-infra",
        [
            "install: New Relic's apt repository (its key in /usr/share/keyrings) and the newrelic-infra package.",
            `The configure step writes ${NEWRELIC_INFRA_CONFIG} (the license) and restarts the agent.`,
        ],
        [],
    )}
REPOSITORY=${REPOSITORY}
REPOSITORY_KEY=${REPOSITORY_KEY}
${INFRA_LOGIC}`;
}

const INFRA_LOGIC = sh`[ "$(id -u)" -eq 0 ] || die "run as root"
[ "$\{1:-}" = install ] || { echo "usage: $SCRIPT_NAME install" >&2; exit 2; }
if dpkg-query -W -f='$\{db:Status-Abbrev}' newrelic-infra 2>/dev/null | grep -q '^ii'; then
  finish
  exit 0
fi
keyring=/usr/share/keyrings/newrelic-infra.gpg
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
[ -n "$codename" ] || die "cannot tell the Debian release (VERSION_CODENAME in /etc/os-release)"
if [ ! -s "$keyring" ]; then
  key=$(mktemp)
  curl -fsSL --retry 3 -o "$key" "$REPOSITORY_KEY" || die "could not download New Relic's repository key"
  gpg --batch --yes --dearmor -o "$keyring" "$key" || die "New Relic's repository key is not a key"
  rm -f "$key"
  note_change "installed New Relic's repository key"
fi
printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$REPOSITORY" "$codename" >/etc/apt/sources.list.d/newrelic-infra.list
DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 update >/dev/null || die "apt-get update failed"
DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold install newrelic-infra >/dev/null ||
  die "installing newrelic-infra failed"
note_change "installed newrelic-infra"
finish
`;

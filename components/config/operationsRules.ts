// Rules of the day-2 keys (plone-aws:monitoring, plone-aws:offsiteBackups) that span several keys.
// crossFieldIssues (rules.ts) runs them with the others.
import type { ParsedSections } from "./spec";
import type { SecretKey } from "./schema";
import { ConfigIssue, keyPath, NAMESPACE, setSecretCommand } from "./issues";

export function operationsIssues(
    s: Partial<ParsedSections>,
    ctx: { secrets: Record<SecretKey, boolean>; region?: string },
): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const { monitoring, offsiteBackups: offsite, plone } = s;

    if (monitoring) {
        const nr = monitoring.newRelic;
        if ((nr.infrastructure || nr.pythonAgent) && !ctx.secrets.newRelicLicenseKey) {
            const what = [nr.infrastructure ? "monitoring.newRelic.infrastructure" : "", nr.pythonAgent ? "monitoring.newRelic.pythonAgent" : ""]
                .filter(Boolean)
                .join(" and ");
            errors.push({
                path: `${NAMESPACE}:newRelicLicenseKey`,
                message: `${what} need${nr.infrastructure && nr.pythonAgent ? "" : "s"} the New Relic license key: ${setSecretCommand("newRelicLicenseKey")}`,
            });
        }
        if (monitoring.remoteSyslog && !monitoring.remoteSyslog.tls) {
            warnings.push({
                path: keyPath(["monitoring", "remoteSyslog", "tls"]),
                message: "the logs travel to the syslog server unencrypted: set tls to true unless the server is on a private network",
            });
        }
    }

    if (offsite) {
        if (offsite.replicaRegion && ctx.region && offsite.replicaRegion === ctx.region) {
            errors.push({
                path: keyPath(["offsiteBackups", "replicaRegion"]),
                message: `the replica must be in another region than the stack's own (${ctx.region})`,
            });
        }
        if (offsite.replicaRegion && offsite.bucket) {
            errors.push({
                path: keyPath(["offsiteBackups", "replicaRegion"]),
                message: `replication is set up on the bucket the stack creates, and offsiteBackups.bucket names an existing one (${offsite.bucket}): set up its replication there, or drop bucket`,
            });
        }
        if (offsite.glacierDays <= offsite.infrequentAccessDays) {
            errors.push({
                path: keyPath(["offsiteBackups", "glacierDays"]),
                message: `objects move to Glacier after they moved to Standard-IA (infrequentAccessDays ${offsite.infrequentAccessDays}): use a larger number`,
            });
        }
        if (offsite.enabled && plone?.storage === "zeo" && !plone.backups.enabled) {
            warnings.push({
                path: keyPath(["offsiteBackups", "enabled"]),
                message: "plone.backups.enabled is false, so no repozo backup is made: only the blobs are copied to S3",
            });
        }
    }
    return { errors, warnings };
}

// The whole validation of a stack's configuration, as `pulumi up` and the offline tools run it: the
// configuration's own rules (config/load.ts), then, on a valid spec, what its topology shows
// (topology/checks.ts). Every error at once, before a single resource is registered.
import { parseConfig, type LoadResult } from "./config/load";
import { buildTopology } from "./topology";
import { topologyIssues } from "./topology/checks";

/**
 * Validates a raw configuration map (keys such as `plone-aws:hosts`, values as Pulumi passes them:
 * strings, JSON for structured values) into a StackSpec.
 */
export function parseStackConfig(raw: Record<string, string>, ctx: { stackName: string }): LoadResult {
    const parsed = parseConfig(raw, ctx);
    if (!parsed.spec) return parsed;
    const { errors, warnings } = topologyIssues(parsed.spec, buildTopology(parsed.spec));
    const allWarnings = [...parsed.warnings, ...warnings];
    return errors.length > 0 ? { errors, warnings: allWarnings } : { spec: parsed.spec, errors, warnings: allWarnings };
}

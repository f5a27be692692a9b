// The policy check without the Pulumi CLI: the real policy pack (policies/index.ts) runs as a child
// process and is driven over gRPC the way `pulumi preview --policy-pack` drives it:
// GetAnalyzerInfo, Configure (the policy config reconciled with the schema defaults), ConfigureStack,
// Analyze per resource with its inputs, then AnalyzeStack with the outputs, parents and
// dependencies. The resources come from an offline run of the program (runOffline).
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { PROJECT } from "../../../components/config/spec";
import type { CapturedResource, OfflineRun } from "../offline/run";
import { EffectivePolicyConfig, EnforcementLevel, JsonSchema, PolicyInfo, readPolicyConfigFile, reconcilePolicyConfig } from "./policyConfig";
import { PolicyPackProcess, startPolicyPack } from "./policyPack";

export { defaultPolicyConfigFile, POLICY_PACK_DIR, startPolicyPack } from "./policyPack";

export interface PolicyViolation {
    policy: string;
    /** What the violation blocks: mandatory fails `pulumi preview`, advisory only warns. */
    level: "advisory" | "mandatory";
    /** The policy's description (the message the CLI prints first). */
    description: string;
    /** The rule's own message: the resource and the fix. */
    message: string;
    urn?: string;
    resource?: { name: string; type: string };
}

export interface PolicyReport {
    stack: string;
    pack: { name: string; version: string };
    /** The policy config file used, if any. */
    configFile?: string;
    /** Each policy with the level it ran at. */
    policies: { name: string; level: EnforcementLevel }[];
    /** Resources analyzed (custom resources and components). */
    resources: number;
    violations: PolicyViolation[];
    /** An invalid policy config: nothing was analyzed. */
    configErrors: string[];
}

type Unary<Req, Res> = (req: Req, callback: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;

function call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));
}

const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/**
 * Plain JSON for a protobuf Struct, as the engine marshals properties for analyzers: secrets keep
 * their wrapper (the pack unwraps them), undefined values are dropped, resource references
 * become their id (custom resources) or URN.
 */
export function toWireValue(v: unknown): unknown {
    if (v === undefined || typeof v === "function") return undefined;
    if (v === null || typeof v !== "object") return typeof v === "number" && !Number.isFinite(v) ? null : v;
    if (Array.isArray(v)) return v.map((x) => toWireValue(x) ?? null);
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === RESOURCE_SIG) return (o.id as string | undefined) || (o.urn as string);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
        const w = toWireValue(x);
        if (w !== undefined) out[k] = w;
    }
    return out;
}

function struct(props: Record<string, unknown>): Struct {
    return Struct.fromJavaScript(toWireValue(props) as Record<string, never>);
}

/** "60m" -> 3600 seconds, as the engine passes custom timeouts. */
function seconds(duration: string | undefined): number {
    if (!duration) return 0;
    let total = 0;
    for (const [, n, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) total += Number(n) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1);
    return total;
}

function resourceOptions(r: CapturedResource): analyzer.AnalyzerResourceOptions {
    const opts = new analyzer.AnalyzerResourceOptions();
    opts.setProtect(r.options.protect);
    opts.setIgnorechangesList(r.options.ignoreChanges);
    opts.setDeletebeforereplace(r.options.deleteBeforeReplace);
    opts.setDeletebeforereplacedefined(r.options.deleteBeforeReplace);
    opts.setAdditionalsecretoutputsList(r.options.additionalSecretOutputs);
    opts.setAliasesList([]);
    if (r.options.customTimeouts) {
        const t = new analyzer.AnalyzerResourceOptions.CustomTimeouts();
        t.setCreate(seconds(r.options.customTimeouts.create));
        t.setUpdate(seconds(r.options.customTimeouts.update));
        t.setDelete(seconds(r.options.customTimeouts.delete));
        opts.setCustomtimeouts(t);
    }
    if (r.parent) opts.setParent(r.parent);
    return opts;
}

/** What an AnalyzeRequest and a stack's AnalyzerResource both carry. */
interface ResourceMessage {
    setType(value: string): unknown;
    setName(value: string): unknown;
    setUrn(value: string): unknown;
    setProperties(value?: Struct): unknown;
    setOptions(value?: analyzer.AnalyzerResourceOptions): unknown;
}

function withResource<T extends ResourceMessage>(message: T, r: CapturedResource, props: Record<string, unknown>): T {
    message.setType(r.type);
    message.setName(r.name);
    message.setUrn(r.urn);
    message.setProperties(struct(props));
    message.setOptions(resourceOptions(r));
    return message;
}

const LEVEL_NAMES: Record<number, EnforcementLevel> = {
    [analyzer.EnforcementLevel.ADVISORY]: "advisory",
    [analyzer.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzer.EnforcementLevel.DISABLED]: "disabled",
    [analyzer.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_VALUES: Record<EnforcementLevel, analyzer.EnforcementLevel> = {
    advisory: analyzer.EnforcementLevel.ADVISORY,
    mandatory: analyzer.EnforcementLevel.MANDATORY,
    disabled: analyzer.EnforcementLevel.DISABLED,
    remediate: analyzer.EnforcementLevel.REMEDIATE,
};

function policyInfos(info: analyzer.AnalyzerInfo): PolicyInfo[] {
    return info.getPoliciesList().map((p) => {
        const schema = p.getConfigschema();
        return {
            name: p.getName(),
            description: p.getDescription(),
            enforcementLevel: LEVEL_NAMES[p.getEnforcementlevel()] ?? "advisory",
            configSchema: schema
                ? { properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<string, JsonSchema>, required: schema.getRequiredList() }
                : undefined,
        };
    });
}

function configureRequest(config: Record<string, EffectivePolicyConfig>): analyzer.ConfigureAnalyzerRequest {
    const req = new analyzer.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, c] of Object.entries(config)) {
        const pc = new analyzer.PolicyConfig();
        pc.setEnforcementlevel(LEVEL_VALUES[c.enforcementLevel]);
        pc.setProperties(struct(c.properties));
        map.set(name, pc);
    }
    return req;
}

export interface PolicyCheckOptions {
    /** The content of a policy config file (policy name -> level or settings). */
    config?: Record<string, unknown>;
    /** Where it came from, for the report and error messages. */
    configFile?: string;
    /** A pack started early with startPolicyPack; checkPolicies stops it unless keepPack. */
    pack?: PolicyPackProcess;
    /** Leave `pack` running: its owner checks more runs with it (each check configures it afresh) and stops it. */
    keepPack?: boolean;
    packDir?: string;
}

/** Runs the policy pack over the resources of an offline run. Stops the pack (unless keepPack). */
export async function checkPolicies(run: OfflineRun, options: PolicyCheckOptions = {}): Promise<PolicyReport> {
    const pack = options.pack ?? startPolicyPack(options.packDir);
    let client: AnalyzerClient | undefined;
    try {
        const port = await pack.ready;
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
            "grpc.max_receive_message_length": 400 * 1024 * 1024,
            "grpc.max_send_message_length": 400 * 1024 * 1024,
        });
        const c = client;
        const info = await call<Empty, analyzer.AnalyzerInfo>(c.getAnalyzerInfo.bind(c), new Empty());
        const policies = policyInfos(info);
        const report: PolicyReport = {
            stack: run.stackName,
            pack: { name: info.getName(), version: info.getVersion() },
            configFile: options.configFile,
            policies: [],
            resources: run.resources.length,
            violations: [],
            configErrors: [],
        };
        const { config, errors } = reconcilePolicyConfig(policies, options.config, options.configFile ?? "policy config");
        report.policies = policies.map((p) => ({ name: p.name, level: config[p.name].enforcementLevel }));
        if (errors.length) {
            report.configErrors = errors;
            return report;
        }
        await call<analyzer.ConfigureAnalyzerRequest, Empty>(c.configure.bind(c), configureRequest(config));
        const stackConfig = new analyzer.AnalyzerStackConfigureRequest();
        stackConfig.setStack(run.stackName);
        stackConfig.setProject(PROJECT);
        stackConfig.setDryRun(true);
        await call<analyzer.AnalyzerStackConfigureRequest, analyzer.AnalyzerStackConfigureResponse>(c.configureStack.bind(c), stackConfig);

        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        const descriptions = new Map(policies.map((p) => [p.name, p.description]));
        const collect = (response: analyzer.AnalyzeResponse, fallbackUrn?: string) => {
            for (const d of response.getDiagnosticsList()) {
                const level = LEVEL_NAMES[d.getEnforcementlevel()];
                if (level !== "advisory" && level !== "mandatory") continue;
                const description = d.getDescription() || descriptions.get(d.getPolicyname()) || "";
                // The pack sends "<description>\n<message>"; the report keeps the message on its own.
                const full = d.getMessage();
                const message = description && full.startsWith(`${description}\n`) ? full.slice(description.length + 1) : full;
                const urn = d.getUrn() || fallbackUrn;
                const resource = urn ? byUrn.get(urn) : undefined;
                report.violations.push({
                    policy: d.getPolicyname(),
                    level,
                    description,
                    message,
                    urn,
                    resource: resource ? { name: resource.name, type: resource.type } : undefined,
                });
            }
        };

        // Resource policies see each resource's inputs, as during `pulumi preview`.
        const responses = await Promise.all(
            run.resources.map((r) => {
                const req = withResource(new analyzer.AnalyzeRequest(), r, r.inputs);
                return call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(c.analyze.bind(c), req).then((res) => [r.urn, res] as const);
            }),
        );
        for (const [urn, res] of responses) collect(res, urn);

        // Stack policies see every resource's outputs, linked by URN to parents and dependencies.
        const stackReq = new analyzer.AnalyzeStackRequest();
        stackReq.setResourcesList(
            run.resources.map((r) => {
                const res = withResource(new analyzer.AnalyzerResource(), r, r.state);
                res.setParent(r.parent);
                res.setDependenciesList(r.options.dependencies);
                const deps = res.getPropertydependenciesMap();
                for (const [input, urns] of Object.entries(r.options.propertyDependencies ?? {})) {
                    const d = new analyzer.AnalyzerPropertyDependencies();
                    d.setUrnsList(urns);
                    deps.set(input, d);
                }
                return res;
            }),
        );
        collect(await call<analyzer.AnalyzeStackRequest, analyzer.AnalyzeResponse>(c.analyzeStack.bind(c), stackReq));

        const order = new Map(policies.map((p, i) => [p.name, i]));
        report.violations.sort(
            (a, b) => (order.get(a.policy) ?? 0) - (order.get(b.policy) ?? 0) || (a.resource?.name ?? "").localeCompare(b.resource?.name ?? ""),
        );
        return report;
    } finally {
        client?.close();
        if (!options.keepPack) pack.stop();
    }
}

/** 0: clean or advisory only; 1: the policy config is invalid; 2: a mandatory policy is violated. */
export function exitCodeFor(report: Pick<PolicyReport, "configErrors" | "violations">): 0 | 1 | 2 {
    if (report.configErrors.length) return 1;
    return report.violations.some((v) => v.level === "mandatory") ? 2 : 0;
}

function plural(n: number, word: string, words = `${word}s`): string {
    return `${n} ${n === 1 ? word : words}`;
}

/** One line saying how the check went. */
export function policySummary(report: PolicyReport): string {
    if (report.configErrors.length) return `the policy config is invalid (${plural(report.configErrors.length, "error")}): nothing was checked`;
    const mandatory = report.violations.filter((v) => v.level === "mandatory").length;
    const advisory = report.violations.length - mandatory;
    const checked = `${report.pack.name} ${report.pack.version}, ${plural(report.policies.filter((p) => p.level !== "disabled").length, "policy", "policies")} over ${plural(report.resources, "resource")}`;
    if (!report.violations.length) return `passed (${checked})`;
    return `${mandatory ? `FAILED: ${plural(mandatory, "mandatory violation")}` : "passed with warnings"}${advisory ? `, ${plural(advisory, "advisory violation")}` : ""} (${checked})`;
}

/** The report as text: violations grouped by policy, mandatory ones first, each naming its resource. */
export function formatPolicyReport(report: PolicyReport): string {
    const out: string[] = [];
    const relative = report.configFile && path.relative(process.cwd(), report.configFile);
    const configName = relative && !relative.startsWith("..") ? relative : report.configFile;
    out.push(`Policy check of stack ${report.stack}${configName ? ` with ${configName}` : " (the pack's default levels)"}: ${policySummary(report)}`);
    if (report.configErrors.length) {
        for (const e of report.configErrors) out.push(`  - ${e}`);
        return out.join("\n");
    }
    const groups = new Map<string, PolicyViolation[]>();
    for (const level of ["mandatory", "advisory"] as const) {
        for (const v of report.violations.filter((x) => x.level === level)) groups.set(v.policy, [...(groups.get(v.policy) ?? []), v]);
    }
    for (const [policy, violations] of groups) {
        out.push("");
        out.push(`  [${violations[0].level}] ${policy}: ${violations[0].description}`);
        for (const v of violations) {
            // Messages name their resource; prefix it only where one does not.
            const name = v.resource?.name;
            out.push(`    - ${name && !v.message.startsWith(name) ? `${name}: ` : ""}${v.message}`);
        }
    }
    return out.join("\n");
}

/** Reads the policy config a check should use: the given file, or the stack's default one. */
export function loadPolicyConfig(file: string | undefined): { config?: Record<string, unknown>; configFile?: string; errors: string[] } {
    if (!file) return { errors: [] };
    const { config, errors } = readPolicyConfigFile(file);
    return { config, configFile: path.resolve(file), errors };
}

// Every key does what it says: for every leaf key of the schema (walked from the zod schemas, so a
// new key is covered the day it is added), a non-default value of its kind is set in a full stack
// (dev, prod, prod with an external database: test/helpers/hostileConfig.ts, every optional key
// set), and the rendered files of some host, or else the offline plan's resources and inputs,
// must change. A key that changes nothing in any stack fails, unless listed in RUNTIME_ONLY below.
import { expect } from "chai";
import { SchemaLeaf, schemaDef, schemaLeaves, Step } from "../../components/config/stringKeys";
import type { StackSpec } from "../../components/config/spec";
import { addressPlan, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import type { RenderedFile } from "../../components/render/context";
import { FullStack, fullStacks, pipReady, Raw, renderContextOf, renderEachFile, renderEverything, secretsOf, validate } from "../helpers/hostileConfig";

type Leaf = SchemaLeaf;

/**
 * Keys whose effect is only at runtime of a real AWS API or quota, never in a file or an input.
 * Each with its reason; keep it short.
 */
const RUNTIME_ONLY: Record<string, string> = {
    // Checked against the stack files of a directory (elastic IPs per region), not against one stack's resources.
    "plone-aws:quotas.elasticIpsPerRegion": "a quota: only a stack that exceeds it is refused (config-aws-rules tests the refusal)",
    "plone-aws:quotas.securityGroupsPerInterface": "a quota: only a host that exceeds it is refused (config-aws-rules tests the refusal)",
};

/** A section of a stack's raw configuration, parsed. */
type Sections = Record<string, Record<string, unknown>>;

/**
 * Keys that need another key set first in every full stack, to have a value to change from: the
 * companion is applied to both sides of the comparison, so only the key itself differs.
 */
const COMPANIONS: Record<string, (s: Sections) => void> = {
    // The full stacks pin their AZs by name; without the list any azCount is valid.
    "plone-aws:network.azCount": (s) => delete s.network.availabilityZones,
    "plone-aws:network.adminCidrs[]": (s) => (s.network.adminCidrs = ["198.51.100.0/24"]),
    // celerybeat needs celery: without the layer, celery can be turned off.
    "plone-aws:plone.celery.enabled": (s) => {
        const hosts = s.hosts as unknown as { layers: string[] }[];
        for (const h of hosts) h.layers = h.layers.filter((l) => l !== "celerybeat");
    },
    "plone-aws:frontend.tls.plainHttpIntended": (s) => (s.frontend.tls = { mode: "none" }),
    // The hosts' own bricks sizes hide the default.
    "plone-aws:volumes.sizes.bricks": (s) => hostsOf(s).forEach((h) => delete h.volumes),
    // A redis layer instead of the full stacks' external broker.
    "plone-aws:plone.redis.maxMemoryMb": withRedis,
    "plone-aws:plone.redis.maxClients": withRedis,
    "plone-aws:volumes.sizes.redis": withRedis,
    // A solr layer instead of the full stacks' external Solr.
    "plone-aws:volumes.sizes.solr": (s) => {
        delete (s.plone.solr as Record<string, unknown>).host;
        hostsOf(s)
            .find((h) => !h.layers.includes("frontend") || h.layers.includes("zeoserver"))!
            .layers.push("solr");
    },
    // NFS blobs: one blob server.
    "plone-aws:volumes.sizes.exports": (s) => {
        s.plone.blobs = "nfs";
        onlyOneBlobServer(s);
    },
    // Blobs in the database: each client keeps a blob cache.
    "plone-aws:plone.relstorage.blobCacheSize": (s) => {
        s.plone.blobs = "database";
        s.hosts = hostsOf(s).filter((h) => !h.layers.includes("shared_blobs")) as unknown as Record<string, unknown>;
    },
    // A single front end in two AZs may have a load balancer instead of auto's Elastic IP (certbot needs the Elastic IP).
    "plone-aws:frontend.frontDoor": (s) => {
        s.network.azCount = 2;
        delete s.network.availabilityZones;
        s.frontend.tls = { mode: "none" };
    },
};

function asPip(s: Sections): void {
    pipReady(s);
    // The tools and the backend folder in the stack file, so that there are values to change.
    s.app.builder = "pip";
    s.app.backendPath = "backend";
    s.app.pip = { tools: ["mxdev", "cookiecutter"] };
}
const PIP_COMPANIONS: Record<string, (s: Sections) => void> = {
    "plone-aws:app.builder": pipReady,
    ...Object.fromEntries(
        ["backendPath", "pip.requirements", "pip.constraints", "pip.instanceConfig", "pip.instanceTemplate", "pip.instanceTemplateRevision", "pip.tools[]"].map(
            (k) => [`plone-aws:app.${k}`, asPip],
        ),
    ),
};
Object.assign(COMPANIONS, PIP_COMPANIONS);

type HostEntry = { name: string; layers: string[]; volumes?: unknown };
function hostsOf(s: Sections): HostEntry[] {
    return s.hosts as unknown as HostEntry[];
}
function withRedis(s: Sections): void {
    delete (s.plone.celery as Record<string, unknown>).brokerHost;
    const host = hostsOf(s).find((h) => h.layers.includes("zeoserver")) ?? hostsOf(s).find((h) => h.layers.includes("memcached"));
    host?.layers.push("redis");
}
function onlyOneBlobServer(s: Sections): void {
    let kept = false;
    s.hosts = hostsOf(s).filter((h) => {
        if (!h.layers.includes("shared_blobs")) return true;
        delete h.volumes;
        return kept ? false : (kept = true);
    }) as unknown as Record<string, unknown>;
}

/** Keys whose only effect is the policy pack's verdict on the stack (test/policy covers them). */
const POLICY_ONLY: Record<string, string> = {
    "plone-aws:frontend.tls.plainHttpIntended":
        "the exposure policy reads it from the stack (policies/rules/exposure.ts, test/policy/exposure.spec.ts); no file or resource differs",
};

/**
 * Keys only a change of other keys with them can vary (each covered where named), not runtime-only:
 * a record key that another key refers to, or a choice that needs other hosts.
 */
const NEEDS_OTHER_KEYS: Record<string, string> = {
    "plone-aws:plone.storage":
        "zeo <-> relstorage needs other hosts and a database: the dev (zeo) and prod (relstorage) stacks of test/program/program.spec.ts",
    "plone-aws:hosts[].volumes{key}": "a volume kind the host carries: test/unit/topology.spec.ts (sizes per kind)",
    "plone-aws:frontend.subsites{key}": "rawSubsiteServer names the subsites: test/unit/render-nginx.spec.ts",
    "plone-aws:frontend.rawSubsiteServer{key}": "must name a subsite: test/unit/render-nginx.spec.ts",
    "plone-aws:mail.domain":
        "must hold mail.senderAddress, which changes with it: test/unit/render-mail.spec.ts and the SES identity in test/program/mail.spec.ts",
    "plone-aws:scaling.groups[].layers[]":
        "plone_instances is the only layer a scaled group may carry today (the catalogue: every other holds state, runs once or is a front end): test/unit/config-scaling.spec.ts refuses each other one",
};

/** One leaf per key: a key that takes a number or a string (plone.maxUnavailable) is tried in its first form. */
function keysOnce(): Leaf[] {
    const seen = new Set<string>();
    return schemaLeaves().filter((l) => !seen.has(l.name) && seen.add(l.name));
}

/** One concrete place in a configuration value: an object key, an array index, a record entry's key or value. */
type Place = { key: string } | { index: number } | { recordKey: string } | { recordValue: string };

/** Every concrete place of `steps` in `node` (every array element, a record's first entry); plain keys may be absent. */
function places(node: unknown, steps: Step[]): Place[][] {
    if (steps.length === 0) return [[]];
    const [s, ...rest] = steps;
    if ("key" in s) {
        const obj = node && typeof node === "object" && !Array.isArray(node) ? (node as Record<string, unknown>) : {};
        return places(obj[s.key], rest).map((p) => [{ key: s.key }, ...p]);
    }
    if ("element" in s) return Array.isArray(node) ? node.flatMap((el, i) => places(el, rest).map((p) => [{ index: i }, ...p])) : [];
    if (!node || typeof node !== "object" || Object.keys(node).length === 0) return [];
    const first = Object.keys(node)[0];
    if ("recordKey" in s) return rest.length ? [] : [[{ recordKey: first }]];
    return places((node as Record<string, unknown>)[first], rest).map((p) => [{ recordValue: first }, ...p]);
}

function getAt(node: unknown, path: Place[]): unknown {
    let cur = node;
    for (const p of path) {
        if (cur === undefined || cur === null) return undefined;
        if ("recordKey" in p) return p.recordKey in (cur as object) ? p.recordKey : undefined;
        cur = (cur as Record<string | number, unknown>)["key" in p ? p.key : "index" in p ? p.index : p.recordValue];
    }
    return cur;
}

function setAt(node: unknown, path: Place[], value: unknown): unknown {
    if (path.length === 0) return value;
    const [p, ...rest] = path;
    if ("index" in p) {
        const arr = [...(node as unknown[])];
        arr[p.index] = setAt(arr[p.index], rest, value);
        return arr;
    }
    const obj = (node && typeof node === "object" ? node : {}) as Record<string, unknown>;
    if ("recordKey" in p) {
        if (typeof value !== "string") return undefined;
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k === p.recordKey ? value : k, v]));
    }
    const k = "key" in p ? p.key : p.recordValue;
    return { ...obj, [k]: setAt(obj[k], rest, value) };
}

/** Values of the leaf's kind that differ from `current` (the value in effect, defaults applied). */
function candidates(leaf: Leaf, current: unknown): unknown[] {
    const def = schemaDef(leaf.schema);
    if (def.type === "boolean") return [current === undefined ? true : !current];
    if (def.type === "enum") return Object.values(def.entries ?? {}).filter((v) => v !== current);
    if (def.type === "number") {
        const n = typeof current === "number" ? current : undefined;
        const base = n === undefined ? [1, 2, 5, 16, 20, 30, 100, 1000, 3000, 8000] : [n + 1, n - 1, n * 2, Math.floor(n / 2), n + 10, n + 100];
        return base.filter((v) => v !== n);
    }
    if (typeof current !== "string") return [];
    // Each digit bumped in turn: addresses, CIDR blocks, cron fields, windows keep their shape.
    const bumped = [...current].flatMap((c, i) => (/\d/.test(c) ? [current.slice(0, i) + String((Number(c) + 1) % 10) + current.slice(i + 1)] : []));
    return [`${current}x`, ...bumped, `${current}1`, `${current}.1`, `a${current}`, `${current.slice(0, -1)}y`, current.replace(/[a-z]/, "q")].filter(
        (v) => v !== current,
    );
}

function specValue(spec: StackSpec, leaf: Leaf, path: Place[]): unknown {
    return getAt((spec as unknown as Record<string, unknown>)[leaf.section], path);
}

/** Every file and step script of a configuration's hosts ("<host> <path>" -> the file). */
function renderedFiles(spec: StackSpec, raw: Raw): Map<string, RenderedFile> {
    return renderEverything(spec, secretsOf(raw, spec)).files;
}

/**
 * Whether a configuration renders exactly the files of `base` (the same keys; content, mode and
 * owner alike). Rendered one at a time, it stops at the first file that differs: a key that
 * changes a file is told without rendering the rest (the step scripts, which cost most, last).
 */
function rendersSameFiles(base: Map<string, RenderedFile>, spec: StackSpec, raw: Raw): boolean {
    const seen = new Set<string>();
    for (const [key, file] of renderEachFile(renderContextOf(spec, secretsOf(raw, spec)))) {
        const was = base.get(key);
        if (!was || was.content !== file.content || was.mode !== file.mode || was.owner !== file.owner || was.group !== file.group) return false;
        seen.add(key);
    }
    return seen.size === base.size;
}

async function planOf(stack: FullStack, raw: Raw, spec: StackSpec): Promise<string> {
    const run = await runOffline({ stackName: stack.name, raw, secretKeys: [] }, { addresses: addressPlan(spec) });
    // Custom resources only: a component's inputs (PloneStack takes the whole spec) are no effect of their own.
    // Aliases too: a rename keeps its resources through them (hosts[].previousNames).
    return JSON.stringify(
        run.resources.map((r) =>
            r.custom
                ? [r.type, r.name, unwrapSecrets(r.inputs), r.options.aliases, r.options.protect, r.options.retainOnDelete, r.options.ignoreChanges]
                : [r.type, r.name, r.options.aliases],
        ),
    );
}

describe("every key does what it says", function () {
    const stacks = fullStacks();
    const baseOf = (stack: FullStack) => {
        const result = validate(stack.raw, stack.name);
        if (!result.spec) return undefined;
        return { stack, spec: result.spec, files: renderedFiles(result.spec, stack.raw), plan: undefined as string | undefined };
    };
    const bases = stacks.map((stack) => {
        const base = baseOf(stack);
        if (!base) throw new Error(`${stack.name} is invalid`);
        return base;
    });
    /** The bases with a companion applied, by stack and configuration: keys whose companions make the same one (the pip keys) share its render and plan. */
    const companionBases = new Map<string, ReturnType<typeof baseOf>>();
    /** The full stacks with a leaf's companion applied (those it leaves valid). */
    const basesFor = (leaf: Leaf) => {
        const companion = COMPANIONS[leaf.name];
        if (!companion) return bases;
        return stacks.flatMap((stack) => {
            const sections: Sections = {};
            for (const [k, v] of Object.entries(stack.raw))
                if ((k.startsWith("plone-aws:") && v.startsWith("{")) || v.startsWith("[")) sections[k.slice(10)] = JSON.parse(v);
            for (const name of ["network", "frontend", "plone"]) sections[name] ??= {};
            companion(sections);
            const raw = { ...stack.raw, ...Object.fromEntries(Object.entries(sections).map(([k, v]) => [`plone-aws:${k}`, JSON.stringify(v)])) };
            const key = `${stack.name}\0${JSON.stringify(raw)}`;
            if (!companionBases.has(key)) companionBases.set(key, baseOf({ ...stack, raw }));
            const base = companionBases.get(key);
            return base ? [base] : [];
        });
    };

    /** A configuration of a base with the leaf at another value (accepted, and the key's value differs). */
    interface Attempt {
        base: (typeof bases)[number];
        raw: Raw;
        spec: StackSpec;
    }

    const planChanged = async ({ base, raw, spec }: Attempt) => {
        base.plan ??= await planOf(base.stack, base.stack.raw, base.spec);
        return (await planOf(base.stack, raw, spec)) !== base.plan;
    };

    /** How many keys showed their effect in each stack's plan so far: the plans of the stacks that show most go first. */
    const planHits = new Map<string, number>();
    const hits = (base: Attempt["base"]) => planHits.get(base.stack.name) ?? 0;

    /**
     * Whether some value of the leaf, in some base, changes a rendered file or the plan; and how many
     * values were tried. The order only saves time (an offline plan costs about 30 renders): the files
     * of every value in every base first; then the plan of each base's first value, the stack whose
     * plan showed most keys' effects so far first (a key whose only effect is on resources mostly shows
     * it in the stack with the most resources, with any value); the plans
     * of the other values last, a value of each base in turn.
     */
    async function effectOf(leaf: Leaf): Promise<{ changed: boolean; tried: number }> {
        let tried = 0;
        const unchangedByBase: Attempt[][] = [];
        for (const base of basesFor(leaf)) {
            const rawSection = leaf.section === "tier" ? undefined : JSON.parse(base.stack.raw[`plone-aws:${leaf.section}`] ?? "{}");
            const specSection = (base.spec as unknown as Record<string, unknown>)[leaf.section];
            const unchanged: Attempt[] = [];
            // The places in the stack as parsed (defaults included), so keys the stack file leaves out count too.
            for (const path of places(specSection, leaf.steps)) {
                const current = specValue(base.spec, leaf, path);
                for (const value of candidates(leaf, current)) {
                    const section = leaf.section === "tier" ? value : setAt(rawSection, path, value);
                    if (section === undefined) continue;
                    const raw = { ...base.stack.raw, [`plone-aws:${leaf.section}`]: typeof section === "string" ? section : JSON.stringify(section) };
                    const result = validate(raw, base.stack.name);
                    if (!result.spec || specValue(result.spec, leaf, path) === current) continue;
                    tried++;
                    if (!rendersSameFiles(base.files, result.spec, raw)) return { changed: true, tried };
                    unchanged.push({ base, raw, spec: result.spec });
                }
            }
            if (unchanged.length > 0) unchangedByBase.push(unchanged);
        }
        const planLater = unchangedByBase.sort((a, b) => hits(b[0].base) - hits(a[0].base));
        for (let i = 0; planLater.some((attempts) => i < attempts.length); i++) {
            for (const attempts of planLater) {
                if (i < attempts.length && (await planChanged(attempts[i]))) {
                    planHits.set(attempts[i].base.stack.name, hits(attempts[i].base) + 1);
                    return { changed: true, tried };
                }
            }
        }
        return { changed: false, tried };
    }

    it("each leaf key of the schema changes a rendered file or the plan in some stack", async function () {
        const idle: string[] = [];
        const untestable: string[] = [];
        for (const leaf of keysOnce()) {
            if (RUNTIME_ONLY[leaf.name] || NEEDS_OTHER_KEYS[leaf.name] || POLICY_ONLY[leaf.name]) continue;
            const { changed, tried } = await effectOf(leaf);
            if (!changed) (tried === 0 ? untestable : idle).push(leaf.name);
        }
        // untestable: no full stack could set another valid value (extend the full stacks or the candidates);
        // idle: the key changes no file and no resource input in any stack (implement or remove it).
        expect({ untestable, idle }).to.deep.equal({ untestable: [], idle: [] });
    });

    it("the exceptions are keys of the schema", function () {
        const names = new Set(schemaLeaves().map((l) => l.name));
        for (const key of [...Object.keys(RUNTIME_ONLY), ...Object.keys(NEEDS_OTHER_KEYS), ...Object.keys(COMPANIONS), ...Object.keys(POLICY_ONLY)])
            expect(names.has(key), key).to.equal(true);
    });

    it("tells a change from none: the same stack planned twice is equal, and a runtime-only key changes nothing", async function () {
        const prod = bases.find((b) => b.stack.name === "prod")!;
        const plan = await planOf(prod.stack, prod.stack.raw, prod.spec);
        expect(await planOf(prod.stack, prod.stack.raw, prod.spec)).to.equal(plan);
        const quotas = JSON.stringify({ elasticIpsPerRegion: 7, securityGroupsPerInterface: 6 });
        const raw = { ...prod.stack.raw, "plone-aws:quotas": quotas };
        const spec = validate(raw, "prod").spec!;
        expect(rendersSameFiles(prod.files, spec, raw)).to.equal(true);
        expect(await planOf(prod.stack, raw, spec)).to.equal(plan);
    });
});

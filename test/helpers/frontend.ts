// Render contexts for the front-end tests: the repository's stacks and small variants built from
// a dev-like configuration.
import type { RenderContext } from "../../components/render/context";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import type { HostPlan } from "../../components/topology";
import { ALL_SECRETS, loadRepoStack, parseObjects } from "./stacks";

export function frontendsOf(ctx: RenderContext): HostPlan[] {
    return ctx.topology.hosts.filter((h) => h.layers.includes("frontend"));
}

export function firstFrontend(ctx: RenderContext): HostPlan {
    const fe = frontendsOf(ctx)[0];
    if (!fe) throw new Error("no frontend host");
    return fe;
}

export function repoContext(stack: "dev" | "prod"): RenderContext {
    return offlineRenderContext(loadRepoStack(stack).spec);
}

type Section = Record<string, unknown>;

export interface Variant {
    hosts?: Section[];
    plone?: Section;
    frontend?: Section;
    network?: Section;
    access?: Section;
    database?: Section;
    /** plone-aws:scaling (Auto Scaling groups of app hosts). */
    scaling?: Section;
    /** plone-aws:volto (the Volto frontend of the hosts carrying the volto layer). */
    volto?: Section;
}

/** The configuration of variantContext, as Pulumi would pass it (before parsing). */
export function variantConfig(v: Variant = {}): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        "plone-aws:tier": "development",
        "plone-aws:hosts": v.hosts ?? [{ name: "dev-1", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] }],
        "plone-aws:app": { name: "plone", repository: "https://github.com/plone/plone-aws-example-buildout.git" },
        "plone-aws:plone": { siteId: "Plone", clientCount: 2, storage: "zeo", blobs: "local", ...v.plone },
        "plone-aws:frontend": { domain: "dev.plone.example.org", ...v.frontend },
        "plone-aws:network": { cidr: "10.20.0.0/16", azCount: 2, natGateways: "none", adminCidrs: ["198.51.100.7/32"], ...v.network },
        "plone-aws:access": {
            via: "publicIp",
            publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMPLACEHOLDERKEYREPLACEWITHYOURS0000000000 test",
            ...v.access,
        },
        ...(v.database ? { "plone-aws:database": v.database } : {}),
        ...(v.scaling ? { "plone-aws:scaling": v.scaling } : {}),
        ...(v.volto ? { "plone-aws:volto": v.volto } : {}),
        ...ALL_SECRETS,
    };
}

/** The dev stack's shape (one host with every layer), with sections replaced or merged. */
export function variantContext(v: Variant = {}, stackName = "variant"): RenderContext {
    const loaded = parseObjects(variantConfig(v), stackName);
    if (!loaded.spec) throw new Error(`invalid variant: ${JSON.stringify(loaded.errors)}`);
    return offlineRenderContext(loaded.spec);
}

/** Two front ends behind an ALB and `appHosts` app hosts with two clients each, ZEO storage. */
export function albContext(appHosts: number, extra: Variant = {}): RenderContext {
    const hosts: Section[] = [
        { name: "web-1", instanceType: "c6i.large", az: 0, layers: ["frontend"] },
        { name: "web-2", instanceType: "c6i.large", az: 1, layers: ["frontend"] },
        { name: "zeo-1", instanceType: "m6i.large", az: 0, layers: ["zeoserver"] },
    ];
    for (let i = 1; i <= appHosts; i++) hosts.push({ name: `app-${i}`, instanceType: "c6i.xlarge", az: (i - 1) % 2, layers: ["plone_instances"] });
    return variantContext({ hosts, ...extra, plone: { clientCount: 2, blobs: "zeo", ...extra.plone } }, "alb");
}

/** Lines of `text` matching `re`. */
export function linesMatching(text: string, re: RegExp): string[] {
    return text.split("\n").filter((l) => re.test(l));
}

/** The text of the first `name {` ... matching `}` block (brace-counting, for nginx and VCL). */
export function block(text: string, opening: string | RegExp): string {
    const lines = text.split("\n");
    const start = lines.findIndex((l) => (typeof opening === "string" ? l.includes(opening) : opening.test(l)));
    if (start < 0) throw new Error(`no block ${opening}`);
    let depth = 0;
    for (let i = start; i < lines.length; i++) {
        depth += (lines[i].match(/{/g) ?? []).length - (lines[i].match(/}/g) ?? []).length;
        if (depth === 0 && i > start) return lines.slice(start, i + 1).join("\n");
        if (depth === 0 && lines[i].includes("{")) return lines[i];
    }
    throw new Error(`unterminated block ${opening}`);
}

/** Every server { ... } block of an nginx file. */
export function serverBlocks(text: string): string[] {
    const out: string[] = [];
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        if (/^server \{/.test(lines[i])) out.push(block(lines.slice(i).join("\n"), /^server \{/));
    }
    return out;
}

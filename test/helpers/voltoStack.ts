// Stacks with volto hosts for the front-end tests: Volto on the front ends themselves (one host
// with every layer), and on hosts of their own behind two front ends and an ALB (haproxy's REST API
// frontend then listens on the private address too).
import type { RenderContext } from "../../components/render/context";
import { type Variant, variantContext } from "./frontend";

/** Classic views and resources the tests send to the backend instead of Volto. */
export const VOLTO_BACKEND_PATHS = ["/@@overview-controlpanel", "/++resource++plone.app.event", "/folder/@@images"];

/** One host with every layer and Volto: two Zope clients, two Volto processes. */
export function voltoOnFrontendVariant(extra: Variant = {}): Variant {
    return {
        hosts: [{ name: "dev-1", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver", "volto"] }],
        ...extra,
        volto: { processCount: 2, backendPaths: VOLTO_BACKEND_PATHS, ...extra.volto },
    };
}

export function voltoOnFrontendContext(extra: Variant = {}): RenderContext {
    return variantContext(voltoOnFrontendVariant(extra), "volto-dev");
}

/** Two front ends behind an ALB, two app hosts, and two volto hosts (one per AZ) with two processes each. */
export function voltoHostsContext(extra: Variant = {}): RenderContext {
    return variantContext(
        {
            hosts: [
                { name: "web-1", instanceType: "c6i.large", az: 0, layers: ["frontend"] },
                { name: "web-2", instanceType: "c6i.large", az: 1, layers: ["frontend"] },
                { name: "zeo-1", instanceType: "m6i.large", az: 0, layers: ["zeoserver"] },
                { name: "app-1", instanceType: "c6i.xlarge", az: 0, layers: ["plone_instances"] },
                { name: "app-2", instanceType: "c6i.xlarge", az: 1, layers: ["plone_instances"] },
                { name: "volto-1", instanceType: "c6i.large", az: 0, layers: ["volto"] },
                { name: "volto-2", instanceType: "c6i.large", az: 1, layers: ["volto"] },
            ],
            ...extra,
            plone: { clientCount: 2, blobs: "zeo", ...extra.plone },
            volto: { processCount: 2, backendPaths: VOLTO_BACKEND_PATHS, ...extra.volto },
        },
        "volto-alb",
    );
}

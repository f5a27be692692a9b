// Hostile values in the keys that reach the front end's Volto routing (volto.healthPath into
// haproxy.cfg; volto.backendPaths, plone.siteId and frontend.domain into the nginx site's Volto
// locations), in a stack with Volto: each value is either refused by its key's path, or the front
// end's files keep their shape and pass haproxy -c and nginx -t. The volto values are also put
// straight into the spec, past the schema (what a renderer gets when a kind is too loose): the
// renderer then refuses them (UnencodableValueError) or its files still keep their shape and
// validate. Values that are valid but meet nginx's own locations (the error pages, the ACME
// challenges, the health URL, duplicates) are checked too.
import { expect } from "chai";
import * as fs from "fs";
import type { RenderContext } from "../../components/render/context";
import { UnencodableValueError } from "../../components/render/encode";
import { renderFrontendFiles } from "../../components/render/frontend";
import type { FrontendLayout } from "../../components/render/frontend/layout";
import { offlineRenderContext } from "../../scripts/lib/offline/renderContext";
import { firstFrontend, type Variant, variantConfig } from "../helpers/frontend";
import { prepareDebianFiles, rootedLayout, writeFiles } from "../helpers/frontendDaemons";
import { PAYLOADS } from "../helpers/hostileChecks";
import { freePorts } from "../helpers/ports";
import { describeAsRoot } from "../helpers/privileges";
import { parseObjects } from "../helpers/stacks";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { VOLTO_BACKEND_PATHS, voltoOnFrontendVariant } from "../helpers/voltoStack";

type VoltoSection = Record<string, unknown>;

interface Key {
    /** The key path configuration errors name. */
    path: string;
    /** The sections with the value at the key (the rest as in the fixture). */
    place: (value: string) => Variant;
    /** A value of the same place that is benign: the shape to keep. */
    benign: string;
    /** Also put past the schema into spec.volto. */
    volto?: (value: string) => VoltoSection;
}

const healthPath = (v: string) => ({ healthPath: v });
const backendPaths = (v: string) => ({ backendPaths: [v, ...VOLTO_BACKEND_PATHS.slice(1)] });
const KEYS: Key[] = [
    { path: "plone-aws:volto.healthPath", place: (v) => ({ volto: healthPath(v) }), benign: "/ok", volto: healthPath },
    { path: "plone-aws:volto.backendPaths[0]", place: (v) => ({ volto: backendPaths(v) }), benign: VOLTO_BACKEND_PATHS[0], volto: backendPaths },
    { path: "plone-aws:plone.siteId", place: (v) => ({ plone: { siteId: v } }), benign: "Plone" },
    { path: "plone-aws:frontend.domain", place: (v) => ({ frontend: { domain: v } }), benign: "dev.plone.example.org" },
];

/** Valid values that meet what nginx and haproxy already have, or that their parsers read specially. */
const TRICKY: { key: Key; value: string }[] = [
    ...["/_plone_errors/", "/.well-known/acme-challenge/", "/_health", "/nginx_status", "/++api++", "/manage", "/~user", "/a+b", "/@@x-", "/-x"].map(
        (value) => ({
            key: KEYS[1],
            value,
        }),
    ),
    ...["/ok?probe=1&x=(1)*", "/ok;x=1,y=2", "/%27ok%22%23", "/ok?a=!@:~"].map((value) => ({ key: KEYS[0], value })),
];

interface Shape {
    haproxyLines: number;
    haproxyServers: number;
    nginxLines: number;
    nginxLocations: number;
    nginxServers: number;
}

function shapeOf(files: { path: string; content: string }[]): Shape {
    const haproxy = files.find((f) => f.path.endsWith("/haproxy.cfg"))!.content;
    const nginx = files.find((f) => f.path.endsWith("/sites-enabled/plone.conf"))!.content;
    return {
        haproxyLines: haproxy.split("\n").length,
        haproxyServers: haproxy.split("\n").filter((l) => /^\s+server /.test(l)).length,
        nginxLines: nginx.split("\n").length,
        nginxLocations: nginx.split("\n").filter((l) => /^\s+location /.test(l)).length,
        nginxServers: nginx.split("\n").filter((l) => /^server \{/.test(l)).length,
    };
}

function contextOf(variant: Variant): { ctx?: RenderContext; errors: { path: string; message: string }[] } {
    const loaded = parseObjects(variantConfig(voltoOnFrontendVariant(variant)), "hostile-volto");
    return { ctx: loaded.spec ? offlineRenderContext(loaded.spec) : undefined, errors: loaded.errors };
}

/** The context of the fixture with spec.volto changed past the schema. */
function bypassing(base: RenderContext, volto: VoltoSection): RenderContext {
    return { ...base, spec: { ...base.spec, volto: { ...base.spec.volto, ...volto } } };
}

describeAsRoot("hostile values in the volto keys of the front end's files", "nginx -t reads its files as on a front end", function () {
    let tmp: { dir: string; cleanup: () => void };
    let ports: Partial<FrontendLayout["ports"]>;
    let base: RenderContext;
    const counts = { refused: 0, renderRefused: 0, validated: 0 };

    before(async function () {
        requireBinaries(this, "haproxy", "nginx");
        tmp = tempDir("hostile-volto-front");
        fs.chmodSync(tmp.dir, 0o755);
        const [http, https] = await freePorts(2);
        ports = { http, https };
        base = contextOf({}).ctx!;
    });

    after(() => {
        tmp?.cleanup();
        console.log(
            `      ${counts.refused} refused by their key, ${counts.renderRefused} refused by the renderer past the schema, ${counts.validated} rendered and validated`,
        );
    });

    let n = 0;
    /** Renders the front end's files (or sees the renderer refuse), then validates them against the benign shape. */
    function renderAndValidate(ctx: RenderContext, benignCtx: RenderContext, what: string): void {
        const fe = firstFrontend(ctx);
        const dir = `${tmp.dir}/${n++}`;
        fs.mkdirSync(dir, { mode: 0o755 });
        const layout = rootedLayout(dir, ports);
        let files;
        try {
            files = renderFrontendFiles(ctx, fe, layout);
        } catch (e) {
            expect(e, `${what}: ${(e as Error).message}`).to.be.instanceOf(UnencodableValueError);
            counts.renderRefused++;
            return;
        }
        expect(shapeOf(files), `${what}: the files keep their shape`).to.deep.equal(shapeOf(renderFrontendFiles(benignCtx, firstFrontend(benignCtx), layout)));
        prepareDebianFiles(layout);
        writeFiles(dir, files);
        // As plone-frontend-service makes it before every check: haproxy warns without it.
        fs.writeFileSync(layout.paths.haproxyStateFile, "1\n");
        const haproxy = run("haproxy", ["-c", "-f", layout.paths.haproxyConfig]);
        expect(haproxy.status, `${what}: haproxy -c: ${haproxy.stdout}${haproxy.stderr}`).to.equal(0);
        expect(haproxy.stdout + haproxy.stderr, `${what}: haproxy -c`).not.to.match(/\[(ALERT|WARNING)\]/);
        const nginx = run("nginx", ["-t", "-c", `${layout.paths.nginxDir}/nginx.conf`]);
        expect(nginx.status, `${what}: nginx -t: ${nginx.stderr}`).to.equal(0);
        expect(nginx.stderr, `${what}: nginx -t`).not.to.include("[warn]");
        counts.validated++;
        fs.rmSync(dir, { recursive: true, force: true });
    }

    for (const key of KEYS) {
        it(`${key.path}: every hostile value is refused by the key, or the files keep their shape and validate`, () => {
            const benign = contextOf(key.place(key.benign)).ctx!;
            for (const [name, value] of PAYLOADS) {
                const { ctx, errors } = contextOf(key.place(value));
                if (!ctx) {
                    expect(
                        errors.filter((e) => e.path === key.path),
                        `${name} refused, but not by ${key.path}: ${JSON.stringify(errors)}`,
                    ).not.to.deep.equal([]);
                    for (const e of errors) expect(e.message, "an error is one line").not.to.match(/[\r\n]/);
                    counts.refused++;
                    continue;
                }
                renderAndValidate(ctx, benign, `${key.path} = ${name}`);
            }
        });

        const volto = key.volto;
        if (volto) {
            it(`${key.path}: past the schema, the renderer refuses every hostile value or its files keep their shape and validate`, () => {
                const benign = bypassing(base, volto(key.benign));
                for (const [name, value] of PAYLOADS) renderAndValidate(bypassing(base, volto(value)), benign, `${key.path} = ${name} (past the schema)`);
            });
        }
    }

    it("valid values that meet nginx's own locations or the parsers' special characters validate", () => {
        for (const { key, value } of TRICKY) {
            const { ctx, errors } = contextOf(key.place(value));
            expect(errors, `${key.path} = ${value}`).to.deep.equal([]);
            renderAndValidate(ctx!, contextOf(key.place(key.benign)).ctx!, `${key.path} = ${value}`);
        }
        // The same prefix twice is one location (nginx refuses a duplicate).
        const twice = contextOf({ volto: { backendPaths: ["/@@search", "/@@search"] } }).ctx!;
        renderAndValidate(twice, contextOf({ volto: { backendPaths: ["/@@search"] } }).ctx!, "a backend path twice");
    });
});

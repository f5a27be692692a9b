// plone-aws:volto and the volto layer: what an operator is told before anything is created (the
// site's name for the browser's API calls, the front end a volto host reads the API from, its
// process count, the variables the stack sets, secrets, the frontend's own repository), each
// naming its key.
import { expect } from "chai";
import { VOLTO_STACK_VARIABLES } from "../../components/config/voltoRules";
import { ALL_SECRETS, parseObjects } from "../helpers/stacks";
import { contextOf } from "../helpers/appStacks";
import { renderAppFiles } from "../../components/render/app";
import { NODE_RELEASE_KEYS } from "../../components/render/volto/nodeReleaseKeys";

type Host = { name: string; instanceType: string; az?: number; layers: string[]; vcpus?: number };

function config(hosts: Host[], extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        "plone-aws:hosts": hosts,
        "plone-aws:app": { repository: "https://example.org/project.git", revision: "v1.0.0", builder: "pip", backendPath: "backend" },
        "plone-aws:plone": { storage: "zeo", blobs: "zeo" },
        "plone-aws:frontend": { domain: "www.example.org" },
        "plone-aws:network": { azCount: 2, adminCidrs: ["198.51.100.7/32"], availabilityZones: ["eu-west-1a", "eu-west-1b"] },
        "plone-aws:access": { via: "bastion", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test" },
        ...ALL_SECRETS,
        ...extra,
    };
}

const web = (az = 0, layers = ["frontend"]): Host => ({ name: `web-${az + 1}`, instanceType: "c6i.large", az, layers });
const app: Host = { name: "app-1", instanceType: "c6i.xlarge", az: 0, layers: ["plone_instances", "zeoserver"] };

const lines = (issues: { path: string; message: string }[]) => issues.map((e) => `${e.path}: ${e.message}`);
const errorsOf = (raw: Record<string, unknown>) => lines(parseObjects(raw).errors);
const warningsOf = (raw: Record<string, unknown>) => lines(parseObjects(raw).warnings);

describe("config: the volto layer and plone-aws:volto", () => {
    it("accepts volto on the front ends, or on hosts of its own beside a front end in their AZ, with the defaults", () => {
        for (const hosts of [
            [web(0, ["frontend", "volto"]), app],
            [web(0), web(1), { name: "volto-1", instanceType: "c6i.large", az: 1, layers: ["volto"] }, app],
        ]) {
            const { spec, errors, warnings } = parseObjects(config(hosts));
            expect(lines(errors)).to.deep.equal([]);
            expect(lines(warnings)).to.deep.equal([]);
            expect(spec!.volto.node).to.deep.equal({ version: "22.23.5", mirror: "https://nodejs.org/dist" });
        }
    });

    it("needs the site's own name for the browser's API calls: a wildcard domain is refused", () => {
        const raw = config([web(0, ["frontend", "volto"]), app], { "plone-aws:frontend": { domain: "*.example.org" } });
        expect(errorsOf(raw).join("\n")).to.include("plone-aws:frontend.domain: Volto's pages call the REST API at the site's own name");
        // Without volto the wildcard serves as before.
        expect(errorsOf(config([web(0), app], { "plone-aws:frontend": { domain: "*.example.org" } }))).to.deep.equal([]);
    });

    it("warns when a volto host has no front end in its AZ, naming the front end it reads the API from", () => {
        const raw = config([web(0), { name: "volto-1", instanceType: "c6i.large", az: 1, layers: ["volto"] }, app]);
        expect(errorsOf(raw)).to.deep.equal([]);
        expect(warningsOf(raw)).to.deep.equal([
            "plone-aws:hosts[1].az: volto-1 has no front end in its AZ (1), so its Volto processes read the REST API from web-1 in AZ 0: traffic across AZs, and no page renders while that AZ is down. Add a front end in AZ 1, or put volto on the front ends",
        ]);
    });

    it("needs a vCPU count to derive the process count, or volto.processCount", () => {
        const odd = { name: "volto-1", instanceType: "x9z.large", az: 0, layers: ["volto"] };
        expect(errorsOf(config([web(0), odd, app]))).to.include(
            "plone-aws:hosts[1].instanceType: the vCPU count of x9z.large is not in plone-aws's table, so its Volto process count cannot be derived: set hosts[1].vcpus or volto.processCount",
        );
        expect(errorsOf(config([web(0), { ...odd, vcpus: 2 }, app]))).to.deep.equal([]);
        expect(errorsOf(config([web(0), odd, app], { "plone-aws:volto": { processCount: 2 } }))).to.deep.equal([]);
    });

    it("refuses the variables the stack sets and secret-looking names in volto.environment", () => {
        const environment = Object.fromEntries(
            [...VOLTO_STACK_VARIABLES, "RAZZLE_SENTRY_DSN", "RAZZLE_API_TOKEN", "RAZZLE_LEGACY_TRAVERSE"].map((n) => [n, "x"]),
        );
        const errors = errorsOf(config([web(0, ["frontend", "volto"]), app], { "plone-aws:volto": { environment } }));
        for (const name of VOLTO_STACK_VARIABLES)
            expect(errors.find((e) => e.startsWith(`plone-aws:volto.environment.${name}:`))).to.include("is set by the stack");
        for (const name of ["RAZZLE_SENTRY_DSN", "RAZZLE_API_TOKEN"])
            expect(errors.find((e) => e.startsWith(`plone-aws:volto.environment.${name}:`))).to.include("into the JavaScript every browser loads");
        expect(errors.some((e) => e.includes("RAZZLE_LEGACY_TRAVERSE"))).to.equal(false);
    });

    it("volto.revision goes with volto.repository, an SSH repository needs the deploy key; the generated program names are taken", () => {
        const hosts = [web(0, ["frontend", "volto"]), app];
        expect(errorsOf(config(hosts, { "plone-aws:volto": { revision: "v2.0.0" } })).join("\n")).to.include(
            "plone-aws:volto.revision: is the revision of volto.repository, which is unset",
        );
        expect(errorsOf(config(hosts, { "plone-aws:volto": { repository: "https://example.org/frontend.git" } })).join("\n")).to.include(
            "plone-aws:volto.revision: volto.repository is set: pin the frontend's branch",
        );
        const { "plone-aws:deployKey": _, ...withoutKey } = config(hosts, {
            "plone-aws:volto": { repository: "git@example.org:frontend.git", revision: "v2" },
        });
        expect(errorsOf(withoutKey).join("\n")).to.include("plone-aws:deployKey: the Volto frontend's repository (volto.repository) is reached over SSH");
        const programs = config(hosts, { "plone-aws:app": { repository: "https://example.org/p.git", initCommands: [{ name: "volto1", cmd: "bin/x" }] } });
        expect(errorsOf(programs)).to.include('plone-aws:app.initCommands[0].name: "volto1" is a program plone-aws generates itself: choose another name');
    });

    it("checks Node.js's signature against volto.node.releaseKeys: Node.js's releasers' keys unless set, ASCII-armored public keys only", () => {
        const hosts = [web(0, ["frontend", "volto"]), app];
        // Unset: the file the hosts check SHASUMS256.txt.sig against holds the active releasers' keys.
        const { spec } = parseObjects(config(hosts));
        const { ctx, host } = contextOf(spec!);
        const files = renderAppFiles(ctx, host("web-1"));
        const keys = files.find((f) => f.path === "/etc/plone-aws/plone/node-release-keys.asc")!;
        expect(keys).to.include({ content: NODE_RELEASE_KEYS, mode: "0644", owner: "root" });
        expect(NODE_RELEASE_KEYS.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----/g)).to.have.length(9);
        expect(files.find((f) => f.path.endsWith("/deploy.env"))!.content).to.include("NODE_RELEASE_KEYS=/etc/plone-aws/plone/node-release-keys.asc\n");
        // Set: those keys, CRLF line ends and surrounding blank lines normalized.
        const [first] = NODE_RELEASE_KEYS.split(/(?<=-----END PGP PUBLIC KEY BLOCK-----\n)/);
        const own = parseObjects(config(hosts, { "plone-aws:volto": { node: { releaseKeys: `\n${first.replace(/\n/g, "\r\n")}\n\n` } } }));
        expect(lines(own.errors)).to.deep.equal([]);
        expect(own.spec!.volto.node.releaseKeys).to.equal(first);
        const mine = contextOf(own.spec!);
        expect(renderAppFiles(mine.ctx, mine.host("web-1")).find((f) => f.path.endsWith("/node-release-keys.asc"))!.content).to.equal(first);
        // Anything else is refused by kind, naming the key: shell text around a block, a private key, a header with control characters.
        const refused = "plone-aws:volto.node.releaseKeys: not OpenPGP public keys in ASCII armor";
        for (const hostile of [
            "$(touch /tmp/pwned)",
            `${first}$(touch /tmp/pwned)\n`,
            `echo x\n${first}`,
            first.replace(/PUBLIC KEY BLOCK/g, "PRIVATE KEY BLOCK"),
            first.replace("-----BEGIN PGP PUBLIC KEY BLOCK-----\n", "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: a\u0007bell\n"),
            first.replace(/\n(?=[A-Za-z0-9+/]{20})/, "\n'; rm -rf /; '\n"),
            "",
        ]) {
            expect(
                errorsOf(config(hosts, { "plone-aws:volto": { node: { releaseKeys: hostile } } })).join("\n"),
                JSON.stringify(hostile.slice(0, 60)),
            ).to.include(refused);
        }
    });

    it("warns when plone-aws:volto is set and no host carries the layer", () => {
        expect(warningsOf(config([web(0), app], { "plone-aws:volto": { processCount: 2 } }))).to.include(
            "plone-aws:volto: is set, but no host carries the volto layer, so nothing uses it: add volto to the layers of the hosts that render the frontend, or remove it",
        );
        expect(warningsOf(config([web(0), app]))).to.deep.equal([]);
    });
});

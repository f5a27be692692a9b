// The stand-in Plone 6 project for the pip builder (app.builder pip). PyPI is unreachable here, so
// Plone cannot be installed: a local package index serves wheels of stand-in distributions
// (standin/pipIndex.py) with the console scripts the hosts run (runwsgi, runzeo, mxdev,
// cookiecutter, ...), the fixture project is laid out as cookieplone lays out its backend
// (backend/requirements.txt, constraints.txt, instance.yaml), and the instance template is a
// fixture repository with a cookiecutter.json. Everything else is real: python3 -m venv, pip,
// git, the releases, supervisor. The host script tests and the rehearsal share it.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { FixtureGit, STANDIN_APP, writeFixtureFiles } from "./standin";

const STANDIN_SOURCES = path.join(__dirname, "standin");

/** The build's tools in the stand-in index, as app.pip.tools (for mxdev and cookiecutter). */
export const STANDIN_PIP_TOOLS = ["standin-mxdev", "standin-cookiecutter"];

/** The project's own instance.yaml: what a cookieplone backend keeps there (the stack overrides the storage, port and threads). */
export const STANDIN_PROJECT_INSTANCE_YAML = `default_context:
  initial_user_name: admin
  initial_user_password: admin
  wsgi_listen: localhost:8080
  db_storage: direct
  debug_mode: true
  zcml_package_includes: project.site
`;

/**
 * The fixture Plone 6 project: the backend in backend/ (app.backendPath), requirements with
 * constraints, the project's instance.yaml; `frontend`: the files of its frontend (the stand-in
 * Volto project of voltoStandin.ts, for a stack with volto hosts), else a placeholder.
 * `addMxIni` adds the mx.ini mxdev reads.
 */
export class StandinPipProject extends FixtureGit {
    /** app.repository of the stack. */
    readonly url = `file://${this.dir}`;

    constructor(dir: string, frontend: Record<string, string> = { "frontend/README.md": "the Volto frontend would be here\n" }) {
        super(
            dir,
            {
                "README.md": "fixture Plone 6 project for plone-aws: a stand-in (no PyPI here); the backend is in backend/\n",
                "backend/requirements.txt": "standin-zope\n",
                "backend/constraints.txt": "standin-zope==1.0\n",
                "backend/instance.yaml": STANDIN_PROJECT_INSTANCE_YAML,
                ...frontend,
            },
            "stand-in Plone 6 project",
        );
    }

    /** Adds an mx.ini whose requirements-in names the project's requirements (and through them the constraints). */
    addMxIni(): string {
        return this.commit("mxdev", (dir) =>
            writeFixtureFiles(dir, {
                "backend/mx.ini":
                    "[settings]\nrequirements-in = requirements-mx-in.txt\nrequirements-out = requirements-mxdev.txt\nconstraints-out = constraints-mxdev.txt\n",
                "backend/requirements-mx-in.txt": "-c constraints.txt\nstandin-zope\n",
            }),
        );
    }
}

/** The cookiecutter.json of the fixture instance template: cookiecutter-zope-instance's defaults for the keys the stand-in writes. */
const TEMPLATE_DEFAULTS = {
    target: "instance",
    location_clienthome: "{{ cookiecutter.target }}/var",
    location_log: "{{ cookiecutter.location_clienthome }}/log",
    wsgi_listen: "localhost:8080",
    wsgi_threads: "4",
    wsgi_clear_untrusted_proxy_headers: false,
    initial_user_name: "",
    initial_user_password: "",
    zcml_package_includes: "",
    db_storage: ["direct", "relstorage", "zeo"],
    db_cache_size: "30000",
    db_blob_mode: ["shared", "cache"],
    db_blob_location: "{{ cookiecutter.location_clienthome }}/blobs",
    db_zeo_server: "localhost:8100",
    db_zeo_client: "",
    db_relstorage_postgresql_dsn: "",
    debug_mode: false,
    verbose_security: false,
};

/** The fixture instance template (app.pip.instanceTemplate): a repository with a cookiecutter.json. */
export class StandinInstanceTemplate extends FixtureGit {
    /** app.pip.instanceTemplate of the stack. */
    readonly url = `file://${this.dir}`;

    constructor(dir: string) {
        super(
            dir,
            {
                "cookiecutter.json": `${JSON.stringify(TEMPLATE_DEFAULTS, null, 2)}\n`,
                "README.md": "stand-in for github:plone/cookiecutter-zope-instance (the stand-in cookiecutter writes the files)\n",
            },
            "stand-in cookiecutter-zope-instance",
        );
    }
}

/** Builds the stand-in wheels and their simple index under `dir` (standin/pipIndex.py). */
export function buildStandinIndex(dir: string): void {
    const app = path.join(dir, "app.py");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(app, STANDIN_APP);
    const r = spawnSync("python3", [path.join(STANDIN_SOURCES, "pipIndex.py"), dir, app], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`building the stand-in package index failed: ${r.stderr || r.error?.message}`);
}

/**
 * The index's HTTP server: static files, with the cache headers PyPI sends (its simple pages for
 * 10 minutes, its files for a year, immutable), without which pip keeps nothing in its cache.
 */
const INDEX_SERVER = `
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        immutable = not self.path.startswith("/simple")
        self.send_header("Cache-Control", "max-age=31536000, public, immutable" if immutable else "max-age=600, public")
        super().end_headers()
handler = functools.partial(Handler, directory=sys.argv[1])
http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), handler).serve_forever()
`;

/** The stand-in package index served over HTTP (PyPI's cache headers) on 127.0.0.1 or `bind`. */
export class StandinIndexServer {
    private child?: ChildProcess;

    constructor(
        readonly dir: string,
        readonly port: number,
        readonly bind = "127.0.0.1",
    ) {}

    /** PIP_INDEX_URL for the hosts. */
    get url(): string {
        return `http://${this.bind}:${this.port}/simple/`;
    }

    /** Starts the server and resolves once its port answers. */
    async start(): Promise<void> {
        this.child = spawn("python3", ["-c", INDEX_SERVER, this.dir, this.bind, String(this.port)], { stdio: "ignore" });
        const exited = new Promise<never>((_, reject) => this.child!.once("exit", (code) => reject(new Error(`the stand-in index server exited (${code})`))));
        await Promise.race([exited, waitForPort(this.bind, this.port)]);
    }

    stop(): void {
        this.child?.kill();
    }
}

/** Resolves once a TCP connection to host:port succeeds (retrying while it is refused). */
function waitForPort(host: string, port: number): Promise<void> {
    return new Promise((resolve) => {
        const attempt = () => {
            const socket = net.connect(port, host);
            socket.once("connect", () => {
                socket.destroy();
                resolve();
            });
            socket.once("error", () => {
                socket.destroy();
                setTimeout(attempt, 100);
            });
        };
        attempt();
    });
}

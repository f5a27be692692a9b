// The stand-in Plone: PyPI is unreachable here, so no real buildout can run. A fixture buildout
// repository carries a stand-in build command that reads the deploy.cfg plone-aws wrote and makes
// bin/client1..N (and bin/zeoserver) running a small python3 HTTP app on the address deploy.cfg
// gives. Everything around it (git, releases, supervisor, haproxy, varnish, nginx, the mounts) is
// real. The host script tests (test/hostScripts) and the rehearsal (scripts/lib/rehearsal) share it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const STANDIN_SOURCES = path.join(__dirname, "standin");

/**
 * The stand-in Zope client (and ZEO server), standin/app.py: answers every path with its name and
 * release, and in the X-Standin header its host, name and release. /ok (the health URL) is never
 * cached; pages carry the cache headers plone.app.caching's moderate caching sends, so varnish
 * stores them. /wiring?token=T (clients) uses every service the build says the client uses (its
 * parts/<client>/wiring.json: the database with a row written and read back, the ZEO port, each
 * memcached server with a set and get, the redis broker with a push and pop, solr with a request,
 * the blob directory with a file) and answers a WiringReport as JSON.
 * Settings from the environment (app.environment): STANDIN_STARTUP_SECONDS (a Zope start takes a
 * while: the port opens only after it), STANDIN_RESPONSE_MS (rendering time of a page),
 * STANDIN_EVENTS / STANDIN_ROTATION_DIR / STANDIN_CONTROL (the script tests' event log and hooks).
 */
export const STANDIN_APP = fs.readFileSync(path.join(STANDIN_SOURCES, "app.py"), "utf8");

/**
 * The stand-in for bin/buildout, standin/build.py: reads deploy.cfg as buildout would (sections,
 * continuation lines, `<=` macros, ${section:option}) and makes the scripts the supervisor
 * programs run (bin/client<N>, bin/zeoserver), baking in the release's path as buildout does, and
 * for each client parts/<client>/wiring.json: the services its configuration names. It fails when
 * the release holds FAIL_BUILD, or FAIL_BUILD_ON naming this host's hostname (a build that breaks
 * on one host only, as a network hiccup or a full disk would).
 */
const STANDIN_BUILD = fs.readFileSync(path.join(STANDIN_SOURCES, "build.py"), "utf8");

/** The SMTP stand-in for Amazon SES (standin/smtp.py): STARTTLS or TLS, AUTH, every mail kept in a spool. */
export const STANDIN_SMTP = fs.readFileSync(path.join(STANDIN_SOURCES, "smtp.py"), "utf8");

/** Bootstrap and build commands for the stand-in buildout, as app.bootstrapCommand / app.buildCommand. */
export const STANDIN_COMMANDS = {
    bootstrapCommand: `mkdir -p bin && "$VENV/bin/python" -c 'import sys; print("stand-in bootstrap with", sys.prefix)'`,
    buildCommand: `"$VENV/bin/python" standin/build.py -c deploy.cfg`,
};

export class StandinRepoError extends Error {}

/** A git working tree on `main` with the tests' identity; `files` are its first commit. */
export class FixtureGit {
    constructor(
        readonly dir: string,
        files: Record<string, string>,
        message: string,
    ) {
        fs.mkdirSync(dir, { recursive: true });
        this.git("init", "--quiet", "--initial-branch=main");
        this.git("config", "user.email", "tests@plone-aws.invalid");
        this.git("config", "user.name", "plone-aws tests");
        this.commit(message, (d) => writeFixtureFiles(d, files));
    }

    git(...args: string[]): string {
        const r = spawnSync("git", ["-C", this.dir, ...args], { encoding: "utf8", timeout: 60_000 });
        if (r.error) throw new StandinRepoError(`git ${args.join(" ")}: ${r.error.message}`);
        if (r.status !== 0) throw new StandinRepoError(`git ${args.join(" ")}: ${r.stderr}`);
        return r.stdout.trim();
    }

    /** Commits the working tree (after `change`), returning the commit id. */
    commit(message: string, change?: (dir: string) => void): string {
        change?.(this.dir);
        this.git("add", "-A");
        this.git("commit", "--quiet", "--allow-empty", "-m", message);
        return this.git("rev-parse", "HEAD");
    }

    /** Tags the current commit (moving the tag if it exists). */
    tag(name: string): string {
        this.git("tag", "-f", name);
        return this.git("rev-parse", "HEAD");
    }
}

/** Writes `files` (path relative to `dir` -> content) into `dir`. */
export function writeFixtureFiles(dir: string, files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
    }
}

/**
 * The fixture buildout repository: a git working tree holding the stand-in (standin/app.py,
 * standin/build.py), one commit on `main` to start with.
 */
export class StandinRepo extends FixtureGit {
    constructor(dir: string) {
        super(
            dir,
            {
                "standin/app.py": STANDIN_APP,
                "standin/build.py": STANDIN_BUILD,
                "README.txt": "fixture buildout for plone-aws: a stand-in for the Plone buildout (no PyPI here)\n",
            },
            "stand-in buildout",
        );
    }
}

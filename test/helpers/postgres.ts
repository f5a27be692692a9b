// A PostgreSQL server of the tests' own (Debian's postgresql package): a cluster in a temp dir,
// run by the postgres user (initdb and postgres refuse root) on a free port of 127.0.0.1, with
// password logins over TCP (scram-sha-256) as RDS has them, and trust on its Unix socket for the
// test's own setup queries. The same recipe as the RDS stand-in of the rehearsal
// (scripts/lib/rehearsal/awsStandins.ts), without a test host.
import * as fs from "fs";
import * as path from "path";
import { run, RunResult } from "./system";

/** The major versions of Debian's server packages installed here, newest first (/usr/lib/postgresql/N/bin/postgres). */
export function installedPostgresMajors(): string[] {
    const base = "/usr/lib/postgresql";
    if (!fs.existsSync(base)) return [];
    return fs
        .readdirSync(base)
        .filter((v) => fs.existsSync(path.join(base, v, "bin", "postgres")) && fs.existsSync(path.join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a));
}

export class TempPostgres {
    readonly bin: string;
    readonly dataDir: string;
    readonly socketDir: string;

    constructor(
        readonly dir: string,
        readonly major: string,
        readonly port: number,
    ) {
        this.bin = `/usr/lib/postgresql/${major}/bin`;
        this.dataDir = path.join(dir, "data");
        this.socketDir = path.join(dir, "socket");
    }

    private asPostgres(command: string, args: string[], input?: string): RunResult {
        return run("runuser", ["-u", "postgres", "--", command, ...args], input === undefined ? {} : { input });
    }

    /** initdb and start; the cluster's files belong to postgres. */
    start(): void {
        fs.mkdirSync(this.socketDir, { recursive: true });
        fs.chmodSync(this.dir, 0o755);
        run("chown", ["-R", "postgres:postgres", this.dir]);
        const init = this.asPostgres(`${this.bin}/initdb`, [
            "-D",
            this.dataDir,
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        ]);
        if (init.status !== 0) throw new Error(`initdb failed: ${init.stdout}${init.stderr}`);
        const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.socketDir} -c fsync=off`;
        const started = this.asPostgres(`${this.bin}/pg_ctl`, ["-D", this.dataDir, "-o", options, "-l", path.join(this.dir, "server.log"), "-w", "start"]);
        if (started.status !== 0) throw new Error(`pg_ctl start failed: ${started.stdout}${started.stderr}\n${this.log()}`);
    }

    stop(): void {
        if (fs.existsSync(path.join(this.dataDir, "postmaster.pid")))
            this.asPostgres(`${this.bin}/pg_ctl`, ["-D", this.dataDir, "-m", "immediate", "-w", "stop"]);
    }

    log(): string {
        const file = path.join(this.dir, "server.log");
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }

    /** SQL as the superuser over the socket, with psql variables (-v name=value, referenced as :'name' or :"name"). */
    sql(database: string, sql: string, vars: Record<string, string> = {}): RunResult {
        const args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", this.socketDir, "-p", String(this.port), "-d", database];
        for (const [k, v] of Object.entries(vars)) args.push("-v", `${k}=${v}`);
        return this.asPostgres(`${this.bin}/psql`, args, sql);
    }

    /** Like sql, but throws on failure and returns the output trimmed. */
    query(database: string, sql: string, vars: Record<string, string> = {}): string {
        const r = this.sql(database, sql, vars);
        if (r.status !== 0) throw new Error(`psql on ${database} failed: ${r.stderr}`);
        return r.stdout.trim();
    }

    databases(): string[] {
        return this.query("postgres", "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1;").split("\n").filter(Boolean);
    }

    /**
     * Every user table of a database with its row count and an md5 of its rows in a fixed order,
     * and every sequence with its last value: equal for two databases with the same contents.
     */
    contents(database: string): Record<string, string> {
        const relations = parseRelations(this.query(database, RELATIONS_SQL));
        if (relations.length === 0) return {};
        return contentsOf(relations, this.query(database, contentsSql(relations)));
    }
}

// A database's contents in two queries, for TempPostgres and for a PostgreSQL on a test host alike.

/** Lists the user tables (r) and sequences (S) of a database, one "<kind> <schema>.<name>" per line. */
export const RELATIONS_SQL =
    "SELECT c.relkind::text || ' ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
    "WHERE c.relkind IN ('r', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1;";

export interface Relation {
    kind: string;
    name: string;
}

/** RELATIONS_SQL's answer. */
export function parseRelations(out: string): Relation[] {
    return out
        .split("\n")
        .filter(Boolean)
        .map((line) => ({ kind: line.slice(0, 1), name: line.slice(2) }));
}

/** One query for all of them: a row per relation, in their order (each SELECT names its columns: the first may be either kind). */
export function contentsSql(relations: Relation[]): string {
    const sql = relations
        .map(({ kind, name }, i) =>
            kind === "S"
                ? `SELECT ${i} AS i, 'sequence at ' || last_value AS v FROM ${name}`
                : `SELECT ${i} AS i, count(*) || ' rows, md5 ' || coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '-') AS v FROM ${name} r`,
        )
        .join("\nUNION ALL\n");
    return `SELECT v FROM (${sql}) AS contents ORDER BY i;`;
}

/** contentsSql's answer, by relation name. */
export function contentsOf(relations: Relation[], out: string): Record<string, string> {
    const values = out.trim().split("\n");
    return Object.fromEntries(relations.map(({ name }, i) => [name, values[i]]));
}

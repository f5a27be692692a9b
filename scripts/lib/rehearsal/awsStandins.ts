// What AWS provides, played by local stand-ins that say so: the RDS endpoint by a PostgreSQL test
// host (Debian's postgresql) with the database, master user and password the program gives the
// rds.Instance, reached by the endpoint's name as the VPC's resolver would answer it.
import type { StackSpec } from "../../../components/config/spec";
import { intToIp, parseCidr, planSubnet } from "../../../components/topology/addressing";
import { OfflineRun, unwrapSecrets } from "../offline/run";
import { RehearsalError } from "./runner";

const RDS_TYPE = "aws:rds/instance:Instance";

/** The RDS instance the program creates, as the stand-in must play it. */
export interface RdsStandin {
    /** The test host's name. */
    host: string;
    /** Its address: in AZ 0's private subnet, above the planned instances. */
    address: string;
    /** The endpoint name the program hands the clients (the rds.Instance's address). */
    endpoint: string;
    port: number;
    dbName: string;
    username: string;
    password: string;
}

/** The name of the RDS stand-in's test host. */
export const RDS_STANDIN_HOST = "rds-standin";

/** Offset of the stand-ins' addresses in their subnet: far above the planned instances (10, 11, ...). */
const STANDIN_OFFSET = 200;

/**
 * The RDS stand-in for a captured run, or undefined when the program creates no RDS instance (ZEO,
 * an external database). Everything comes from the rds.Instance the program registered: the
 * endpoint's name and port from its state, the database, master user and password from its inputs.
 */
export function rdsStandinOf(run: OfflineRun, spec: StackSpec): RdsStandin | undefined {
    const rds = run.resources.filter((r) => r.type === RDS_TYPE);
    if (rds.length === 0) return undefined;
    if (rds.length > 1) throw new RehearsalError(`the program creates ${rds.length} RDS instances; the rehearsal plays one`);
    const state = unwrapSecrets(rds[0].state) as Record<string, unknown>;
    const inputs = unwrapSecrets(rds[0].inputs) as Record<string, unknown>;
    const str = (v: unknown, what: string): string => {
        if (typeof v !== "string" || !v) throw new RehearsalError(`${rds[0].name}: ${what} is not known offline`);
        return v;
    };
    const subnet = planSubnet(spec.network.cidr, "private", 0);
    return {
        host: RDS_STANDIN_HOST,
        address: intToIp(parseCidr(subnet.cidr).base + STANDIN_OFFSET),
        endpoint: str(state.address, "the endpoint address"),
        port: Number(state.port ?? inputs.port ?? 5432),
        dbName: str(inputs.dbName, "dbName"),
        username: str(inputs.username, "the master user"),
        password: str(inputs.password, "the master password"),
    };
}

/** A PostgreSQL identifier or literal for SQL. */
const sqlIdentifier = (v: string) => `"${v.replace(/"/g, '""')}"`;
const sqlLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * The root script that makes a test host play RDS: Debian's PostgreSQL listening on the port the
 * endpoint has, password logins from the VPC, the master user (superuser-like as RDS's
 * rds_superuser: it owns the database) and the database the program asks for.
 */
export function rdsStandinScript(rds: RdsStandin, vpcCidr: string): string {
    const sql = [
        `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlLiteral(rds.username)}) THEN CREATE ROLE ${sqlIdentifier(rds.username)} LOGIN CREATEDB CREATEROLE; END IF; END $$;`,
        `ALTER ROLE ${sqlIdentifier(rds.username)} PASSWORD ${sqlLiteral(rds.password)};`,
        `SELECT 'CREATE DATABASE ${sqlIdentifier(rds.dbName).replace(/'/g, "''")} OWNER ${sqlIdentifier(rds.username).replace(/'/g, "''")}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${sqlLiteral(rds.dbName)})\\gexec`,
    ].join("\n");
    return [
        "set -euo pipefail",
        "export DEBIAN_FRONTEND=noninteractive",
        "command -v pg_ctlcluster >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }",
        "version=$(ls /etc/postgresql | sort -n | tail -1)",
        "conf=/etc/postgresql/$version/main",
        `cat > "$conf/conf.d/plone-aws-rds-standin.conf" <<'EOF'\nlisten_addresses = '*'\nport = ${rds.port}\npassword_encryption = 'scram-sha-256'\nEOF`,
        `grep -q 'plone-aws rds stand-in' "$conf/pg_hba.conf" || echo 'host all all ${vpcCidr} scram-sha-256 # plone-aws rds stand-in' >> "$conf/pg_hba.conf"`,
        // listen_addresses and port take a restart (a reload keeps the old ones).
        'pg_ctlcluster "$version" main status >/dev/null 2>&1 && pg_ctlcluster "$version" main restart || pg_ctlcluster "$version" main start',
        `runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -p ${rds.port} <<'SQL'\n${sql}\nSQL`,
        'echo "PostgreSQL $version"',
    ].join("\n");
}

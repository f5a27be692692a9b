// The wiring checks: each stand-in Zope client uses every service its rendered deploy.cfg names
// (the database, ZEO, memcached, the redis broker, solr, the blob directory) and reports what each
// answered on its status page (/wiring, standin/app.py). The smoke check asks every client of every
// app host (smokeChecks.ts), and fails naming the client, the service, its address and the host behind it.
import type { StackSpec } from "../../../components/config/spec";
import type { Topology } from "../../../components/topology";

/** A service a client's configuration names, as the stand-in app reports it. */
export type WiredService = "database" | "zeo" | "memcached" | "redis" | "solr" | "blobs" | "mail";

export interface WiringCheck {
    service: WiredService;
    /** Where the client reached for it: host:port (database: host:port/dbname as user), or the blob directory. */
    target: string;
    ok: boolean;
    /** What it did ("set and get") or why it failed ("connection refused"). */
    detail: string;
}

/** A client's wiring status page. */
export interface WiringReport {
    host: string;
    client: string;
    checks: WiringCheck[];
    /** The build left no wiring.json (the client cannot know what it uses). */
    error?: string;
    /** The blob directory: the `<hostname>-<client>` files of this token the client sees there. */
    blobs?: { dir: string; shared: boolean; seen: string[] };
}

const SERVICES: WiredService[] = ["database", "zeo", "memcached", "redis", "solr", "blobs", "mail"];

export class WiringReportError extends Error {}

/** Reads a /wiring answer; a page that is not a report throws WiringReportError naming what is wrong. */
export function parseWiringReport(text: string): WiringReport {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch {
        throw new WiringReportError(`not JSON: ${text.trim().slice(0, 200) || "(empty)"}`);
    }
    const r = raw as Partial<WiringReport> | null;
    if (!r || typeof r !== "object" || typeof r.host !== "string" || typeof r.client !== "string" || !Array.isArray(r.checks)) {
        throw new WiringReportError(`not a wiring report (host, client, checks): ${text.trim().slice(0, 200)}`);
    }
    for (const c of r.checks as unknown[]) {
        const check = c as Partial<WiringCheck> | null;
        if (!check || !SERVICES.includes(check.service as WiredService) || typeof check.target !== "string" || typeof check.ok !== "boolean") {
            throw new WiringReportError(`a check that is not one: ${JSON.stringify(c)}`);
        }
    }
    return r as WiringReport;
}

/** The address part of a check's target (host of host:port[/db as user]); undefined for a path. */
function targetAddress(target: string): string | undefined {
    if (target.startsWith("/")) return undefined;
    return /^\[?([^\]\s/]+?)\]?:\d+/.exec(target)?.[1] ?? target.split(/[\s/]/)[0];
}

/**
 * The services the plan says a client must use: the database (RelStorage) or ZEO, each memcached
 * server (RelStorage's shared cache), the celery broker, solr, and the blob directory.
 */
export function expectedServices(topology: Topology, spec: StackSpec): WiredService[] {
    const { endpoints } = topology;
    return [
        ...(spec.plone.storage === "relstorage" ? (["database"] as const) : []),
        ...(endpoints.zeo ? (["zeo"] as const) : []),
        ...(spec.plone.storage === "relstorage" && endpoints.memcached.length > 0 ? (["memcached"] as const) : []),
        ...(endpoints.broker ? (["redis"] as const) : []),
        ...(endpoints.solr ? (["solr"] as const) : []),
        "blobs" as const,
        ...(spec.mail ? (["mail"] as const) : []),
    ];
}

/** The subject of the mail a stand-in client sends in the wiring check (standin/app.py: wiring_mail_subject). */
export function wiringMailSubject(token: string, hostname: string, client: string): string {
    return `plone-aws wiring ${token} ${hostname} ${client}`;
}

/**
 * The mail check's other half: every client that reported its mail accepted by the relay on its
 * host must have a mail in the SMTP stand-in for SES (its spool: one JSON object per line, see
 * standin/smtp.py), relayed over TLS with the stack's SMTP user. One line per mail that did not arrive.
 */
export function mailDeliveryProblems(
    sent: { hostname: string; client: string }[],
    token: string,
    spool: { user: string | null; tls: boolean; data: string }[],
    smtpUser: string,
): string[] {
    const problems: string[] = [];
    for (const { hostname, client } of sent) {
        const subject = `Subject: ${wiringMailSubject(token, hostname, client)}`;
        const mail = spool.find((m) => m.data.split(/\r?\n/).includes(subject));
        if (!mail) problems.push(`${hostname} ${client}: its mail through localhost:25 never reached the SMTP stand-in for SES`);
        else if (!mail.tls || mail.user !== smtpUser)
            problems.push(`${hostname} ${client}: its mail reached the SMTP stand-in without TLS or as ${mail.user ?? "nobody"}, not ${smtpUser}`);
    }
    return problems;
}

/**
 * What is wrong with one client's report, one line each, as
 * "app-1 client1: memcached 10.40.128.12:11211 (cache-1): connection refused":
 * every failed check, and every service the plan expects that the client did not use.
 * `hostByAddress` names the plan's hosts (and stand-ins) behind an address.
 */
export function wiringProblems(host: string, report: WiringReport, expected: WiredService[], hostByAddress: Record<string, string>): string[] {
    const who = `${host} ${report.client}`;
    if (report.error) return [`${who}: ${report.error}`];
    const problems = report.checks
        .filter((c) => !c.ok)
        .map((c) => {
            const address = targetAddress(c.target);
            const behind = address && hostByAddress[address] ? ` (${hostByAddress[address]})` : "";
            return `${who}: ${c.service} ${c.target}${behind}: ${c.detail}`;
        });
    const used = new Set(report.checks.map((c) => c.service));
    for (const service of expected) {
        if (!used.has(service)) problems.push(`${who}: uses no ${service}, though the plan has one (its deploy.cfg does not name it)`);
    }
    return problems;
}

/**
 * With blobs shared across hosts: every client must see the file each client on every other host
 * wrote in the blob directory (the reports of a second round, after every client wrote its own).
 * `hostnameOf` gives the test host's hostname (ip-10-...) of a plan host.
 */
export function blobSharingProblems(reports: { host: string; report: WiringReport }[], hostnameOf: (host: string) => string): string[] {
    const writers = reports.filter((r) => r.report.blobs).map((r) => ({ host: r.host, file: `${hostnameOf(r.host)}-${r.report.client}` }));
    const problems: string[] = [];
    for (const { host, report } of reports) {
        if (!report.blobs) continue;
        const seen = new Set(report.blobs.seen);
        const missing = writers.filter((w) => w.host !== host && !seen.has(w.file));
        if (missing.length) {
            problems.push(
                `${host} ${report.client}: blobs ${report.blobs.dir}: does not see the files written by ${missing.map((m) => `${m.host} ${m.file.split("-").pop()}`).join(", ")}`,
            );
        }
    }
    return problems;
}

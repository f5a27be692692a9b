// What AWS provides, played by local stand-ins that say so: the RDS endpoint by a PostgreSQL test
// host (Debian's postgresql) with the database, master user and password the program gives the
// rds.Instance, reached by the endpoint's name as the VPC's resolver would answer it.
import type { StackSpec } from "../../../components/config/spec";
import { intToIp, parseCidr, planSubnet } from "../../../components/topology/addressing";
import { OfflineRun, unwrapSecrets } from "../offline/run";
import { RehearsalError } from "./runner";
import { shellQuote } from "../../../components/render/shell";
import { sesSmtpEndpoint } from "../../../components/config/spec";
import { STANDIN_SMTP } from "./standin";

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

// The application load balancer: a test host in AZ 0's public subnet (where the ALB's nodes
// live) runs haproxy with the listeners, target group and health check the program registers
// (aws.lb.Listener, aws.lb.TargetGroup, aws.lb.TargetGroupAttachment): the FrontDoor component
// stays the one owner of those values, and the stand-in reads them as AWS would receive them.

const LB_TYPE = "aws:lb/loadBalancer:LoadBalancer";
const TARGET_GROUP_TYPE = "aws:lb/targetGroup:TargetGroup";
const LISTENER_TYPE = "aws:lb/listener:Listener";
const ATTACHMENT_TYPE = "aws:lb/targetGroupAttachment:TargetGroupAttachment";
const INSTANCE_TYPE = "aws:ec2/instance:Instance";

/** The name of the ALB stand-in's test host. */
export const ALB_STANDIN_HOST = "alb-standin";

/** The target group's health check as AWS runs it (the registered values; AWS's defaults for what the program leaves out). */
export interface AlbHealthCheck {
    path: string;
    /** The target's own port ("traffic-port") or another. */
    port: number | "traffic-port";
    /** The status codes that count as healthy, in ALB's matcher syntax ("200", "200,202", "200-299"). */
    matcher: string;
    intervalSeconds: number;
    timeoutSeconds: number;
    /** Consecutive successes before a target receives requests. */
    healthyThreshold: number;
    /** Consecutive failures before it stops receiving them. */
    unhealthyThreshold: number;
}

export interface AlbTarget {
    /** The plone-aws host (the instance the attachment names). */
    host: string;
    address: string;
    port: number;
}

export type AlbListenerAction = { kind: "forward" } | { kind: "redirect"; protocol: "HTTPS" | "HTTP"; port: number; statusCode: number };

export interface AlbListener {
    port: number;
    protocol: "HTTP" | "HTTPS";
    action: AlbListenerAction;
}

/** The application load balancer the program creates, as the stand-in must play it. */
export interface AlbStandin {
    host: string;
    /** In AZ 0's public subnet, above the planned instances. */
    address: string;
    /** The load balancer's DNS name (what the site's DNS points at). */
    dnsName: string;
    idleTimeoutSeconds: number;
    listeners: AlbListener[];
    targetGroup: { name: string; port: number; healthCheck: AlbHealthCheck; targets: AlbTarget[] };
}

/** ELBv2's defaults for an HTTP target group's health check (CreateTargetGroup), for what the program leaves unset. */
const AWS_HEALTH_CHECK_DEFAULTS = { path: "/", matcher: "200", interval: 30, timeout: 5, healthyThreshold: 5, unhealthyThreshold: 2 };

/**
 * The ALB stand-in for a captured run, or undefined when the program creates no load balancer
 * (one front end on an Elastic IP). The listeners, the target group's health check and its
 * targets come from the resources the program registered; a target's address is the planned
 * private IP of the instance its attachment names.
 */
export function albStandinOf(run: OfflineRun, spec: StackSpec, hostAddresses: Record<string, string>): AlbStandin | undefined {
    const of = (type: string) => run.resources.filter((r) => r.type === type);
    const lbs = of(LB_TYPE);
    if (lbs.length === 0) return undefined;
    const groups = of(TARGET_GROUP_TYPE);
    if (lbs.length > 1 || groups.length !== 1) {
        throw new RehearsalError(`the program creates ${lbs.length} load balancer(s) and ${groups.length} target group(s); the rehearsal plays one of each`);
    }
    const inputsOf = (r: { inputs: unknown }) => unwrapSecrets(r.inputs) as Record<string, unknown>;
    const stateOf = (r: { state: unknown }) => unwrapSecrets(r.state) as Record<string, unknown>;
    const lb = { inputs: inputsOf(lbs[0]), state: stateOf(lbs[0]) };
    const group = { name: groups[0].name, inputs: inputsOf(groups[0]), state: stateOf(groups[0]) };
    if (group.inputs.protocol !== "HTTP")
        throw new RehearsalError(`${group.name}: the stand-in plays HTTP target groups, not ${String(group.inputs.protocol)}`);
    const hc = (group.inputs.healthCheck ?? {}) as Record<string, unknown>;
    if (hc.enabled === false) throw new RehearsalError(`${group.name}: the health check is off; the stand-in plays a checked target group`);
    if (hc.protocol !== undefined && hc.protocol !== "HTTP")
        throw new RehearsalError(`${group.name}: the stand-in plays HTTP health checks, not ${String(hc.protocol)}`);
    const num = (v: unknown, fallback: number) => (v === undefined ? fallback : Number(v));
    const healthCheck: AlbHealthCheck = {
        path: String(hc.path ?? AWS_HEALTH_CHECK_DEFAULTS.path),
        port: hc.port === undefined || hc.port === "traffic-port" ? "traffic-port" : Number(hc.port),
        matcher: String(hc.matcher ?? AWS_HEALTH_CHECK_DEFAULTS.matcher),
        intervalSeconds: num(hc.interval, AWS_HEALTH_CHECK_DEFAULTS.interval),
        timeoutSeconds: num(hc.timeout, AWS_HEALTH_CHECK_DEFAULTS.timeout),
        healthyThreshold: num(hc.healthyThreshold, AWS_HEALTH_CHECK_DEFAULTS.healthyThreshold),
        unhealthyThreshold: num(hc.unhealthyThreshold, AWS_HEALTH_CHECK_DEFAULTS.unhealthyThreshold),
    };
    if (!/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(healthCheck.matcher)) throw new RehearsalError(`${group.name}: not an ALB matcher: ${healthCheck.matcher}`);
    if (!/^\/[!-~]*$/.test(healthCheck.path)) throw new RehearsalError(`${group.name}: not a health check path: ${healthCheck.path}`);

    const hostByAddress = new Map(Object.entries(hostAddresses).map(([host, ip]) => [ip, host]));
    const instances = new Map(of(INSTANCE_TYPE).map((r) => [r.id, String(stateOf(r).privateIp ?? "")]));
    const groupPort = Number(group.inputs.port);
    const targets = of(ATTACHMENT_TYPE)
        .map((r) => ({ name: r.name, inputs: inputsOf(r) }))
        .filter((a) => a.inputs.targetGroupArn === group.state.arn)
        .map((a): AlbTarget => {
            const address = instances.get(String(a.inputs.targetId)) ?? "";
            const host = hostByAddress.get(address);
            if (!host) throw new RehearsalError(`${a.name}: the target ${String(a.inputs.targetId)} is not a planned instance`);
            return { host, address, port: num(a.inputs.port, groupPort) };
        });
    if (!targets.length) throw new RehearsalError(`${group.name}: no target is attached`);

    const listeners = of(LISTENER_TYPE).map((r): AlbListener => {
        const inputs = inputsOf(r);
        const protocol = inputs.protocol;
        if (protocol !== "HTTP" && protocol !== "HTTPS")
            throw new RehearsalError(`${r.name}: the stand-in plays HTTP and HTTPS listeners, not ${String(protocol)}`);
        const actions = (inputs.defaultActions ?? []) as Record<string, unknown>[];
        if (actions.length !== 1) throw new RehearsalError(`${r.name}: the stand-in plays one default action, not ${actions.length}`);
        const action = actions[0];
        if (action.type === "forward") {
            if (action.targetGroupArn !== group.state.arn) throw new RehearsalError(`${r.name}: forwards to another target group`);
            return { port: Number(inputs.port), protocol, action: { kind: "forward" } };
        }
        if (action.type === "redirect") {
            const redirect = (action.redirect ?? {}) as Record<string, unknown>;
            const to = String(redirect.protocol ?? "#{protocol}");
            if (to !== "HTTPS" && to !== "HTTP") throw new RehearsalError(`${r.name}: the stand-in plays redirects to HTTP or HTTPS, not ${to}`);
            return {
                port: Number(inputs.port),
                protocol,
                action: {
                    kind: "redirect",
                    protocol: to,
                    port: Number(redirect.port ?? inputs.port),
                    statusCode: Number(String(redirect.statusCode).replace("HTTP_", "")),
                },
            };
        }
        throw new RehearsalError(`${r.name}: the stand-in plays forward and redirect actions, not ${String(action.type)}`);
    });
    if (!listeners.some((l) => l.action.kind === "forward")) throw new RehearsalError("no listener of the load balancer forwards to the front ends");

    const subnet = planSubnet(spec.network.cidr, "public", 0);
    return {
        host: ALB_STANDIN_HOST,
        address: intToIp(parseCidr(subnet.cidr).base + STANDIN_OFFSET),
        dnsName: String(lb.state.dnsName ?? ""),
        idleTimeoutSeconds: num(lb.inputs.idleTimeout, 60),
        listeners,
        targetGroup: { name: String(group.inputs.name ?? group.name), port: groupPort, healthCheck, targets },
    };
}

/** The stand-in haproxy's runtime API (on its test host). */
export const ALB_STANDIN_SOCKET = "/run/plone-aws-alb-standin.sock";
/** Its backend: the target group. */
export const ALB_STANDIN_BACKEND = "target_group";
const ALB_STANDIN_CONFIG = "/etc/haproxy/plone-aws-alb-standin.cfg";
const ALB_STANDIN_PEM = "/etc/haproxy/plone-aws-alb-standin.pem";

/** The name of a target in the stand-in's target group: its address and port, as ALB's health check names it in its Host header. */
export const albTargetName = (t: AlbTarget) => `${t.address}:${t.port}`;

/**
 * The stand-in's haproxy.cfg. Per listener a frontend (HTTPS with a self-signed certificate for
 * the site: the ACM certificate stays in AWS); the target group a backend that checks each
 * target as ALB does (GET path, Host <ip>:<port>, ELB's user agent, every interval, healthy after
 * healthyThreshold successes, unhealthy after unhealthyThreshold failures, the matcher's codes)
 * and sends each request, round robin, to a healthy one with X-Forwarded-For/-Proto/-Port. When
 * no target is healthy, ALB fails open (every target gets requests): the same targets as backup
 * servers without a check do that here.
 */
export function albStandinConfig(alb: AlbStandin, domain: string): string {
    const hc = alb.targetGroup.healthCheck;
    const lines = [
        `# plone-aws rehearsal: the application load balancer ${alb.dnsName}, played by haproxy (stand-in).`,
        "global",
        `    stats socket ${ALB_STANDIN_SOCKET} mode 600 level admin`,
        // A test host's processes may open 1024 files: haproxy needs two per connection.
        "    maxconn 400",
        "",
        "defaults",
        "    mode http",
        "    timeout connect 10s",
        `    timeout client ${alb.idleTimeoutSeconds}s`,
        `    timeout server ${alb.idleTimeoutSeconds}s`,
        `    timeout check ${hc.timeoutSeconds}s`,
        "",
    ];
    for (const l of alb.listeners) {
        lines.push(
            `frontend listener_${l.protocol.toLowerCase()}_${l.port}`,
            `    bind ${alb.address}:${l.port}${l.protocol === "HTTPS" ? ` ssl crt ${ALB_STANDIN_PEM}` : ""}`,
        );
        if (l.action.kind === "redirect") {
            const { protocol, port, statusCode } = l.action;
            const defaultPort = protocol === "HTTPS" ? 443 : 80;
            lines.push(
                `    http-request redirect location ${protocol.toLowerCase()}://%[req.hdr(host),field(1,:)]${port === defaultPort ? "" : `:${port}`}%[capture.req.uri] code ${statusCode}`,
            );
        } else {
            lines.push(
                "    option forwardfor",
                `    http-request set-header X-Forwarded-Proto ${l.protocol.toLowerCase()}`,
                `    http-request set-header X-Forwarded-Port ${l.port}`,
                `    default_backend ${ALB_STANDIN_BACKEND}`,
            );
        }
        lines.push("");
    }
    lines.push(
        `backend ${ALB_STANDIN_BACKEND}`,
        `    # target group ${alb.targetGroup.name}; the site: ${domain}`,
        "    balance roundrobin",
        "    option allbackups",
        "    option httpchk",
        `    http-check send meth GET uri ${hc.path} ver HTTP/1.1 hdr Host "%[srv_name]" hdr User-Agent ELB-HealthChecker/2.0`,
        `    http-check expect status ${hc.matcher}`,
        `    default-server inter ${hc.intervalSeconds}s rise ${hc.healthyThreshold} fall ${hc.unhealthyThreshold}`,
        ...alb.targetGroup.targets.map(
            (t) => `    server ${albTargetName(t)} ${t.address}:${t.port} check${hc.port === "traffic-port" ? "" : ` port ${hc.port}`}`,
        ),
        ...alb.targetGroup.targets.map((t) => `    server fail-open-${albTargetName(t)} ${t.address}:${t.port} backup`),
        "",
    );
    return lines.join("\n");
}

/**
 * The root script that makes a test host play the ALB: Debian's haproxy with albStandinConfig,
 * a self-signed certificate for the site when a listener is HTTPS, checked (haproxy -c) and
 * started. Prints the haproxy version.
 */
export function albStandinScript(alb: AlbStandin, domain: string): string {
    const https = alb.listeners.some((l) => l.protocol === "HTTPS");
    return [
        "set -euo pipefail",
        "export DEBIAN_FRONTEND=noninteractive",
        "command -v haproxy >/dev/null && command -v openssl >/dev/null && command -v socat >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy openssl socat >/dev/null; }",
        // socat: the smoke checks read the runtime API. The package starts its own haproxy with
        // Debian's config: the stand-in runs its own instead.
        "[ -x /etc/init.d/haproxy ] && /etc/init.d/haproxy stop >/dev/null 2>&1 || true",
        ...(https
            ? [
                  `[ -s ${ALB_STANDIN_PEM} ] || { openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj ${shellQuote(`/CN=${domain}`)} -addext ${shellQuote(`subjectAltName=DNS:${domain},DNS:${alb.dnsName}`)} -keyout /tmp/alb.key -out /tmp/alb.crt 2>/dev/null && cat /tmp/alb.crt /tmp/alb.key > ${ALB_STANDIN_PEM} && rm -f /tmp/alb.key /tmp/alb.crt && chmod 600 ${ALB_STANDIN_PEM}; }`,
              ]
            : []),
        `cat > ${ALB_STANDIN_CONFIG} <<'EOF'\n${albStandinConfig(alb, domain)}EOF`,
        `haproxy -q -c -f ${ALB_STANDIN_CONFIG}`,
        `[ -s /run/plone-aws-alb-standin.pid ] && kill "$(cat /run/plone-aws-alb-standin.pid)" 2>/dev/null || true`,
        `haproxy -D -p /run/plone-aws-alb-standin.pid -f ${ALB_STANDIN_CONFIG}`,
        "haproxy -v | awk 'NR == 1 {print \"haproxy \" $3}'",
    ].join("\n");
}

// The SMTP relay the hosts' postfix sends Plone's mail to (Amazon SES's SMTP endpoint, or
// mail.relay.host): a test host in AZ 0's public subnet (the relay is outside the VPC) reached by
// the relay's name, running the SMTP stand-in (standin/smtp.py) with STARTTLS or TLS as the relay
// speaks it, AUTH with the SMTP user and password of the run's plone-aws:smtpCredentials, and a
// spool the mail check reads. Its certificate is made on the stand-in for the relay's name, and the
// mail relays trust it through the system's CA store, where SES's own chain is trusted on EC2.

/** The name of the SMTP relay stand-in's test host. */
export const SMTP_STANDIN_HOST = "smtp-standin";
/** Every mail the stand-in accepted, one JSON object per line (standin/smtp.py). */
export const SMTP_STANDIN_SPOOL = "/var/lib/plone-aws-smtp-standin/spool.jsonl";
const SMTP_STANDIN_DIR = "/etc/plone-aws-smtp-standin";
/** Where the mail relays find the stand-in's certificate: update-ca-certificates adds it to the system's CA bundle. */
const SMTP_STANDIN_TRUSTED_CERT = "/usr/local/share/ca-certificates/plone-aws-smtp-standin.crt";

/** The SMTP relay the mail relays send to, as the stand-in must play it. */
export interface SmtpRelayStandin {
    host: string;
    /** In AZ 0's public subnet, above the planned instances and the ALB stand-in. */
    address: string;
    /** The relay's name, as postfix's relayhost gives it. */
    endpoint: string;
    port: number;
    tls: "starttls" | "implicit" | "none";
    user: string;
    password: string;
    /** What the stand-in plays: "Amazon SES" for SES's endpoint, else "the SMTP relay". */
    plays: string;
}

/**
 * The SMTP relay stand-in for a stack, or undefined when no host relays mail. `smtpCredentials`
 * is the run's plone-aws:smtpCredentials (USER:PASSWORD). A relay given as an IP address is not
 * played: the stand-in answers a name, as the VPC's resolver would.
 */
export function smtpRelayStandinOf(spec: StackSpec, smtpCredentials: string | undefined): SmtpRelayStandin | undefined {
    if (!spec.mail) return undefined;
    const { host, port, tls } = spec.mail.relay;
    if (/^[\d.]+$|:/.test(host)) throw new RehearsalError(`mail.relay.host ${host}: the rehearsal plays a relay reached by name, not by address`);
    const colon = smtpCredentials?.indexOf(":") ?? -1;
    if (!smtpCredentials || colon < 1) throw new RehearsalError("plone-aws:smtpCredentials: the run has no USER:PASSWORD for the SMTP relay");
    const subnet = planSubnet(spec.network.cidr, "public", 0);
    return {
        host: SMTP_STANDIN_HOST,
        address: intToIp(parseCidr(subnet.cidr).base + STANDIN_OFFSET + 1),
        endpoint: host,
        port,
        tls,
        user: smtpCredentials.slice(0, colon),
        password: smtpCredentials.slice(colon + 1),
        plays: host === sesSmtpEndpoint(spec.region) ? "Amazon SES" : "the SMTP relay",
    };
}

/**
 * The root script that makes a test host play the SMTP relay: Debian's python3-aiosmtpd, a
 * certificate for the relay's name, the stand-in listening on the relay's port (restarted with
 * this run's password), the spool emptied. Prints the certificate (PEM) the mail relays must
 * trust, then "aiosmtpd <version>" as its last line.
 */
export function smtpRelayStandinScript(smtp: SmtpRelayStandin): string {
    if (smtp.tls === "none") throw new RehearsalError(`mail.relay.tls none: the SMTP stand-in plays a relay with TLS, as SES is`);
    const dir = SMTP_STANDIN_DIR;
    const spoolDir = SMTP_STANDIN_SPOOL.replace(/\/[^/]+$/, "");
    const args = [
        "--listen",
        smtp.address,
        "--port",
        String(smtp.port),
        "--cert",
        `${dir}/cert.pem`,
        "--key",
        `${dir}/key.pem`,
        "--user",
        smtp.user,
        "--password-file",
        `${dir}/password`,
        "--spool",
        SMTP_STANDIN_SPOOL,
        ...(smtp.tls === "implicit" ? ["--implicit-tls"] : []),
    ].map(shellQuote);
    return [
        "set -euo pipefail",
        "export DEBIAN_FRONTEND=noninteractive",
        "python3 -c 'import aiosmtpd' 2>/dev/null && command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-aiosmtpd openssl >/dev/null; }",
        `install -d -m 700 ${dir} && install -d -m 755 ${spoolDir}`,
        `[ -s ${dir}/cert.pem ] || openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj ${shellQuote(`/CN=${smtp.endpoint}`)} -addext ${shellQuote(`subjectAltName=DNS:${smtp.endpoint}`)} -keyout ${dir}/key.pem -out ${dir}/cert.pem 2>/dev/null`,
        `(umask 077 && printf '%s\\n' ${shellQuote(smtp.password)} > ${dir}/password)`,
        `cat > ${dir}/smtp.py <<'PLONE_AWS_EOF'\n${STANDIN_SMTP}PLONE_AWS_EOF`,
        `[ -s ${dir}/pid ] && kill "$(cat ${dir}/pid)" 2>/dev/null && sleep 0.5 || true`,
        `: > ${SMTP_STANDIN_SPOOL}`,
        `nohup python3 ${dir}/smtp.py ${args.join(" ")} > /var/log/plone-aws-smtp-standin.log 2>&1 < /dev/null &`,
        `echo $! > ${dir}/pid`,
        // Listening once it printed its banner line; a stand-in that died says why.
        `for _ in $(seq 1 300); do grep -q 'SMTP stand-in' /var/log/plone-aws-smtp-standin.log && break; kill -0 "$(cat ${dir}/pid)" 2>/dev/null || { cat /var/log/plone-aws-smtp-standin.log >&2; exit 1; }; sleep 0.1; done`,
        `grep -q 'SMTP stand-in' /var/log/plone-aws-smtp-standin.log || { echo 'the SMTP stand-in did not start' >&2; exit 1; }`,
        `cat ${dir}/cert.pem`,
        `python3 -c 'import aiosmtpd; print("aiosmtpd", aiosmtpd.__version__)'`,
    ].join("\n");
}

/** The root script that makes a host trust the SMTP stand-in's certificate (the system's CA bundle, which postfix reads). */
export function trustSmtpStandinScript(certificatePem: string): string {
    if (!/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/.test(certificatePem)) {
        throw new RehearsalError("the SMTP stand-in printed no certificate");
    }
    return [
        "set -euo pipefail",
        `install -d ${SMTP_STANDIN_TRUSTED_CERT.replace(/\/[^/]+$/, "")}`,
        `cat > ${SMTP_STANDIN_TRUSTED_CERT} <<'PLONE_AWS_EOF'\n${certificatePem.trimEnd()}\nPLONE_AWS_EOF`,
        "update-ca-certificates >/dev/null",
    ].join("\n");
}

/** The mails the SMTP stand-in accepted (its spool), as mailDeliveryProblems reads them. */
export function parseSmtpSpool(text: string): { user: string | null; tls: boolean; data: string }[] {
    return text
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
            const m = JSON.parse(l) as { user?: unknown; tls?: unknown; data?: unknown };
            return { user: typeof m.user === "string" ? m.user : null, tls: m.tls === true, data: typeof m.data === "string" ? m.data : "" };
        });
}

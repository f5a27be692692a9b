// The AWS region of an imported stack. The Custom JSON has no region key, but its hosts often say
// where the stack ran: an RDS endpoint (db.c0abc.us-west-2.rds.amazonaws.com), an ElastiCache or
// Amazon MQ broker, an EC2 host name (ip-10-0-0-5.us-west-2.compute.internal), an S3 URL. The
// import weighs them with --region and the instances' availability zones, and says what it picked.
import { Region } from "@pulumi/aws/types/enums";

/** Every region name the AWS provider knows. */
const REGIONS: ReadonlySet<string> = new Set(Object.values(Region));

/** How much a source says about where the stack's hosts must live: lower wins. */
export const REGION_RANK = {
    /** --region: the operator said so. */
    option: 0,
    /** The availability zones of the --instances file: the OpsWorks instances ran there. */
    instances: 1,
    /** A service the hosts connect to on every request (RDS, ElastiCache, Amazon MQ, EC2, EFS, OpenSearch). */
    service: 2,
    /** Any other regional AWS endpoint (a load balancer, an API endpoint). */
    endpoint: 3,
    /** An S3 URL: a bucket is often in another region than the hosts that read it. */
    bucket: 4,
} as const;

export interface RegionSource {
    region: string;
    /** What said so, for messages: `the RDS endpoint db.x.us-west-2.rds.amazonaws.com at plone_instances.relstorage.db.host`. */
    what: string;
    rank: number;
}

export interface RegionChoice {
    region: string;
    source: RegionSource;
    /** Why this source won, when there was more than one. */
    reason: string;
    /** Sources that name another region. */
    disagreeing: RegionSource[];
}

/** ElastiCache's short region codes (use1, usw2, euc1, apse2, usgw1) -> region names. */
function expandShortRegion(code: string): string | undefined {
    const m = /^([a-z]{2})(g)?(ne|nw|se|sw|e|w|c|n|s)(\d)$/.exec(code);
    if (!m) return undefined;
    const direction: Record<string, string> = {
        ne: "northeast",
        nw: "northwest",
        se: "southeast",
        sw: "southwest",
        e: "east",
        w: "west",
        c: "central",
        n: "north",
        s: "south",
    };
    const region = `${m[1]}${m[2] ? "-gov" : ""}-${direction[m[3]]}-${m[4]}`;
    return REGIONS.has(region) ? region : undefined;
}

/** The region a host name is in, and what kind of AWS host it is; undefined for other hosts. */
export function regionOfHost(hostName: string): { region: string; service: string; rank: number } | undefined {
    const host = hostName.toLowerCase().replace(/\.$/, "");
    const labels = host.split(".");
    if (host === "ec2.internal" || host.endsWith(".ec2.internal")) return { region: "us-east-1", service: "EC2 host name", rank: REGION_RANK.service };
    if (host.endsWith(".compute.internal")) {
        const region = labels[labels.length - 3];
        return REGIONS.has(region) ? { region, service: "EC2 host name", rank: REGION_RANK.service } : undefined;
    }
    if (!/\.amazonaws\.com(\.cn)?$/.test(host)) return undefined;
    if (host.endsWith(".compute-1.amazonaws.com")) return { region: "us-east-1", service: "EC2 host name", rank: REGION_RANK.service };
    const cache = labels.indexOf("cache");
    if (cache > 0 && labels[cache + 1] === "amazonaws") {
        const region = REGIONS.has(labels[cache - 1]) ? labels[cache - 1] : expandShortRegion(labels[cache - 1]);
        return region ? { region, service: "ElastiCache endpoint", rank: REGION_RANK.service } : undefined;
    }
    for (let i = labels.length - 1; i >= 0; i--) {
        const label = labels[i];
        const s3 = /^s3(-website)?-(.+)$/.exec(label);
        const region = REGIONS.has(label) ? label : s3 && REGIONS.has(s3[2]) ? s3[2] : undefined;
        if (!region) continue;
        const service =
            s3 || labels.slice(0, i).some((l) => /^s3(-website|-control|-accesspoint)?$|^dualstack$/.test(l))
                ? "S3 URL"
                : labels[i + 1] === "rds"
                  ? "RDS endpoint"
                  : labels[i - 1] === "mq"
                    ? "Amazon MQ broker"
                    : labels[i - 1] === "efs"
                      ? "EFS file system"
                      : labels[i + 1] === "es" || labels[i + 1] === "aoss"
                        ? "OpenSearch endpoint"
                        : labels[i + 1] === "compute"
                          ? "EC2 host name"
                          : labels[i + 1] === "elb"
                            ? "load balancer"
                            : "AWS endpoint";
        const rank =
            service === "S3 URL" ? REGION_RANK.bucket : service === "load balancer" || service === "AWS endpoint" ? REGION_RANK.endpoint : REGION_RANK.service;
        return { region, service, rank };
    }
    return undefined;
}

/** Host names of AWS (amazonaws.com, *.compute.internal) inside any text: URLs, DSNs, host:port lists. */
const AWS_HOST = /[a-z0-9][a-z0-9.-]*\.(?:amazonaws\.com(?:\.cn)?|compute\.internal|ec2\.internal)\b/gi;

/** Every AWS host in the string leaves of a JSON value, with the region it names. */
export function regionSources(json: unknown, pathOf: (parts: (string | number)[]) => string): RegionSource[] {
    const out: RegionSource[] = [];
    const visit = (v: unknown, parts: (string | number)[]) => {
        if (typeof v === "string") {
            for (const m of v.matchAll(AWS_HOST)) {
                const found = regionOfHost(m[0]);
                if (found) out.push({ region: found.region, rank: found.rank, what: `the ${found.service} ${m[0].toLowerCase()} at ${pathOf(parts)}` });
            }
        } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, [...parts, i]));
        else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) visit(x, [...parts, k]);
    };
    visit(json, []);
    return out;
}

const RANK_REASON: Record<number, string> = {
    [REGION_RANK.option]: "--region says where the stack goes",
    [REGION_RANK.instances]: "the OpsWorks instances ran there",
    [REGION_RANK.service]: "the hosts connect to it on every request",
    [REGION_RANK.endpoint]: "an AWS endpoint the stack used is there",
    [REGION_RANK.bucket]: "an S3 bucket the stack used is there (buckets are often elsewhere: check it)",
};

/**
 * The region of the stack: the source of the lowest rank wins (--region, then the instances, then
 * the services the hosts connect to, then other endpoints, then S3); within a rank the region most
 * sources name, then the first one. Undefined when there is no source.
 */
export function pickRegion(sources: RegionSource[]): RegionChoice | undefined {
    if (sources.length === 0) return undefined;
    const best = Math.min(...sources.map((s) => s.rank));
    const top = sources.filter((s) => s.rank === best);
    const count = (r: string) => top.filter((s) => s.region === r).length;
    const source = top.reduce((a, b) => (count(b.region) > count(a.region) ? b : a));
    const disagreeing = sources.filter((s) => s.region !== source.region);
    const sameRank = top.filter((s) => s.region !== source.region);
    let reason = RANK_REASON[best];
    const tie = sameRank.some((s) => count(s.region) === count(source.region));
    if (sameRank.length > 0)
        reason += `, and ${count(source.region)} of ${top.length} such sources name ${source.region}${tie ? " (a tie: the first one wins)" : ""}`;
    const agreeing = sources.filter((s) => s !== source && s.region === source.region).length;
    if (agreeing > 0) reason += `; ${agreeing} other source${agreeing === 1 ? "" : "s"} agree${agreeing === 1 ? "s" : ""}`;
    const lower = disagreeing.filter((s) => s.rank > best);
    if (lower.length > 0) reason += `: it outweighs ${lower.map((s) => s.what.replace(/^the /, "")).join(", ")}`;
    return { region: source.region, source, reason, disagreeing };
}

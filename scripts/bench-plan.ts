// npm run bench:plan — wall time (including Node start-up) and resource count of the offline
// plan for dev, prod and generated stacks of 10, 50, 100 and 500 hosts.
// Targets on a 2-core machine: prod under 3 s; 500 hosts under 10x the time of 50 hosts.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** A RelStorage stack of n hosts: 2 front ends, 2 memcached, EFS blobs, the rest app hosts. */
export function generatedStack(hosts: number): Record<string, unknown> {
    const list = [
        { name: "web-1", instanceType: "c6i.large", az: 0, layers: ["frontend"] },
        { name: "web-2", instanceType: "c6i.large", az: 1, layers: ["frontend"] },
        { name: "cache-1", instanceType: "r6i.large", az: 0, layers: ["memcached"] },
        { name: "cache-2", instanceType: "r6i.large", az: 1, layers: ["memcached"] },
    ];
    for (let i = 1; list.length < hosts; i++) {
        list.push({ name: `app-${i}`, instanceType: "c6i.xlarge", az: i % 3, layers: i === 1 ? ["plone_instances", "db_packing"] : ["plone_instances"] });
    }
    return {
        config: {
            "aws:region": "eu-west-1",
            "plone-aws:tier": "production",
            "plone-aws:hosts": list,
            "plone-aws:app": { repository: "https://example.org/buildout.git" },
            "plone-aws:plone": { storage: "relstorage", blobs: "efs" },
            "plone-aws:database": {},
            "plone-aws:frontend": { domain: "www.example.org", tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/bench" } },
            "plone-aws:snapshots": { crossRegionCopy: { region: "eu-central-1" } },
            "plone-aws:network": { cidr: "10.0.0.0/16", azCount: 3, natGateways: "perAz", adminCidrs: ["198.51.100.0/28"] },
            "plone-aws:access": { via: "bastion", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBench bench" },
        },
    };
}

function timePlan(args: string[]): { seconds: number; resources: number } {
    let best = Infinity;
    let resources = 0;
    for (let i = 0; i < RUNS; i++) {
        const start = process.hrtime.bigint();
        const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/plan.ts", ...args, "--json"], {
            cwd: ROOT,
            encoding: "utf8",
            maxBuffer: 1 << 30,
        });
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        if (r.status !== 0) throw new Error(`plan ${args.join(" ")} failed:\n${r.stderr}`);
        resources = (JSON.parse(r.stdout) as { totals: { resources: number } }).totals.resources;
        best = Math.min(best, seconds);
    }
    return { seconds: best, resources };
}

function main(): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plone-aws-bench-"));
    try {
        const rows: { stack: string; hosts: number; resources: number; seconds: number }[] = [];
        for (const stack of ["dev", "prod"]) {
            const hosts = (YAML.parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config["plone-aws:hosts"] as unknown[]).length;
            rows.push({ stack, hosts, ...timePlan([stack]) });
        }
        for (const n of [10, 50, 100, 500]) {
            const file = path.join(dir, `Pulumi.gen${n}.yaml`);
            fs.writeFileSync(file, YAML.stringify(generatedStack(n)));
            rows.push({ stack: `generated-${n}`, hosts: n, ...timePlan(["--stack-file", file]) });
        }
        console.log(`Offline plan, best of ${RUNS} runs, wall time including Node start-up (${os.cpus().length} CPUs)`);
        console.log("stack          hosts  resources  seconds  ms/host");
        for (const r of rows) {
            console.log(
                `${r.stack.padEnd(13)}  ${String(r.hosts).padStart(5)}  ${String(r.resources).padStart(9)}  ${r.seconds.toFixed(2).padStart(7)}  ${((1000 * r.seconds) / r.hosts).toFixed(1).padStart(7)}`,
            );
        }
        const prod = rows.find((r) => r.stack === "prod")!;
        const n50 = rows.find((r) => r.hosts === 50)!;
        const n500 = rows.find((r) => r.hosts === 500)!;
        console.log(`prod: ${prod.seconds.toFixed(2)} s (target < 3 s: ${prod.seconds < 3 ? "met" : "MISSED"})`);
        console.log(`500 hosts / 50 hosts: ${(n500.seconds / n50.seconds).toFixed(1)}x (target < 10x: ${n500.seconds / n50.seconds < 10 ? "met" : "MISSED"})`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) main();

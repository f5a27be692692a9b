// npm run bench:deploy -- [<stack> | --stack-file FILE] [--connections N] [--keep] [--cache-dir DIR]
//
// Rehearses a stack with two app hosts or more (by default the reduced prod-like stack,
// test/fixtures/stacks/Pulumi.prodlike.yaml) and, under constant load through its front door (wrk
// from the run's VPC through the application load balancer's stand-in when the stack has one, else
// to each front end; requests varnish passes to the Zope clients), measures in the same run:
//   (a) the rolling restart one client of the stack at a time: plone-restart --concurrency 1 on
//       each app host in turn (ops restart --max-unavailable 1; the order before maxUnavailable);
//   (b) the rolling restart in the stack's restart waves (plone.maxUnavailable): the hosts of a
//       wave side by side, each its share of clients at once (ops restart, the deploy's order);
//   (c) a naive restart of all clients at once: plone-restart --all-at-once on every app host at once.
// Prints requests, failed requests (non-2xx/3xx and socket errors), p50/p99 latency and duration of
// each, and (b)'s duration as a share of (a)'s (the target for prod's 16 clients: at most 60 %,
// 0 failed). Exit 0 when neither rolling restart failed a request; 1 when one did, or the
// rehearsal failed; 2 when this machine cannot run test hosts (root and Linux only).
import * as fs from "fs";
import * as path from "path";
import { benchRestarts, formatBenchTable, formatRatio } from "./lib/rehearsal/benchDeploy";
import { exitWith } from "./lib/cli";
import { STANDIN_ENVIRONMENT, WHAT_IS_REAL } from "./lib/rehearsal";
import { RehearsalStackError } from "./lib/rehearsal/stack";
import { RehearsalError } from "./lib/rehearsal/runner";
import { BenchError } from "./lib/rehearsal/benchDeploy";
import { StackFileError } from "./lib/offline/stackFile";
import { endBench, startBench } from "./lib/rehearsal/benchRun";
import { TestHostError } from "./lib/rehearsal/processes";

const DEFAULT_STACK_FILE = path.join(__dirname, "..", "test", "fixtures", "stacks", "Pulumi.prodlike.yaml");

async function main(argv: string[]): Promise<number> {
    const run = await startBench("bench:deploy", argv, DEFAULT_STACK_FILE);
    if (typeof run === "number") return run;
    const { rehearsal, connections, started } = run;
    const print = rehearsal.print;
    try {
        if (rehearsal.appHosts.length < 2) {
            print(`bench:deploy needs a stack with two app hosts or more; ${rehearsal.stackName} has ${rehearsal.appHosts.join(", ") || "none"}`);
            return 1;
        }
        print(`bench:deploy on ${rehearsal.stackName}, run ${rehearsal.hosts.runId}\n${WHAT_IS_REAL}`);
        print(`The stand-in clients take ${STANDIN_ENVIRONMENT.STANDIN_STARTUP_SECONDS}s to start and ${STANDIN_ENVIRONMENT.STANDIN_RESPONSE_MS}ms per page.`);
        await rehearsal.startHosts();
        const provisioned = await rehearsal.provision();
        if (!provisioned.ok) {
            print(`the rehearsal failed at [${provisioned.failed?.host}] ${provisioned.failed?.step}: nothing to measure`);
            return 1;
        }
        const smoke = await rehearsal.smoke();
        if (!smoke.every((s) => s.ok)) {
            print("the smoke checks failed: nothing to measure");
            return 1;
        }
        const forward = rehearsal.alb?.listeners.find((l) => l.action.kind === "forward");
        const through = rehearsal.alb
            ? `through the application load balancer's stand-in ${rehearsal.alb.host} (${forward!.protocol} ${forward!.port}) to ${rehearsal.frontendHosts.join(" and ")}`
            : `over ${rehearsal.frontendHosts.join(" and ")} (port 80)`;
        print(
            `\nLoad: wrk, ${connections} connections ${through}, Host ${rehearsal.spec.frontend.domain}, ` +
                "every request with Plone's login cookie so varnish passes it to the clients; 5 s before and 10 s after each restart.",
        );
        const { oneAtATime, rolling, naive } = await benchRestarts(rehearsal, { connections, print, oneAtATime: true });
        const table = formatBenchTable([oneAtATime!, rolling, naive]);
        print(`\n${table}\n\n${formatRatio(oneAtATime!, rolling)}`);
        fs.writeFileSync(
            path.join(rehearsal.hosts.logsDir, "bench-deploy.json"),
            JSON.stringify(
                { stack: rehearsal.stackName, connections, oneAtATime, rolling, naive, ratio: rolling.actionSeconds / oneAtATime!.actionSeconds },
                null,
                2,
            ),
        );
        const dropped = oneAtATime!.load.failed + rolling.load.failed;
        print(
            `\n${dropped === 0 ? "OK: neither rolling restart dropped a request" : `FAILED: the rolling restarts dropped ${oneAtATime!.load.failed} (one at a time) and ${rolling.load.failed} (in waves) request(s)`}` +
                ` (${((Date.now() - started) / 1000).toFixed(0)}s in all; results in ${path.relative(process.cwd(), rehearsal.hosts.logsDir)}/bench-deploy.json)`,
        );
        return dropped === 0 ? 0 : 1;
    } finally {
        await endBench(run);
    }
}

exitWith(main(process.argv.slice(2)), [StackFileError, TestHostError, RehearsalError, RehearsalStackError, BenchError]);

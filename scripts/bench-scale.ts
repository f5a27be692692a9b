// npm run bench:scale -- [<stack> | --stack-file FILE] [--connections N] [--keep] [--cache-dir DIR]
//
// Rehearses a stack with a scaled group (by default test/fixtures/stacks/Pulumi.scaled.yaml: prod's
// hosts plus the group app-auto) on local test hosts and, under constant load through its front door
// (wrk from the run's VPC, through the application load balancer's stand-in when the stack has one;
// requests varnish passes to the Zope clients), measures in the same run:
//   (a) scale-out: an instance started the way the group starts one (a fresh test host in the
//       group's subnet whose first boot runs the launch template's user data), until every front
//       end's haproxy has each of its clients UP: boot to serving;
//   (b) scale-in: the instance ended the way the termination lifecycle hook ends one (the metadata
//       service says Terminated; the instance's watch drains it, deregisters it from Cloud Map and
//       completes the lifecycle action; then it is terminated): notice to gone.
// Prints requests, failed requests (non-2xx/3xx and socket errors), p50/p99 latency of each phase,
// boot to serving and its phases, notice to gone and its steps, and each front end's haproxy
// process (pid, start time, uptime) before and after. What only AWS provides is played by
// stand-ins, each named in the output (scripts/lib/rehearsal/scaledStandins.ts).
// Exit 0 when the targets are met (0 failed requests in both phases, boot to serving under 90 s,
// no haproxy reload, the instance deregistered and gone); 1 when one is not, or the rehearsal
// failed; 2 when this machine cannot run test hosts (root and Linux only).
import * as fs from "fs";
import * as path from "path";
import { BenchError, underLoad } from "./lib/rehearsal/benchDeploy";
import { exitWith } from "./lib/cli";
import { STANDIN_ENVIRONMENT, WHAT_IS_REAL } from "./lib/rehearsal";
import { RehearsalStackError } from "./lib/rehearsal/stack";
import { RehearsalError } from "./lib/rehearsal/runner";
import { StackFileError } from "./lib/offline/stackFile";
import { endBench, startBench } from "./lib/rehearsal/benchRun";
import { TestHostError } from "./lib/rehearsal/processes";
import { BOOT_TO_SERVING_TARGET_SECONDS, formatScaleFigures, reloadedFrontends, ScaledGroupRehearsal } from "./lib/rehearsal/scale";

const DEFAULT_STACK_FILE = path.join(__dirname, "..", "test", "fixtures", "stacks", "Pulumi.scaled.yaml");

async function main(argv: string[]): Promise<number> {
    const run = await startBench("bench:scale", argv, DEFAULT_STACK_FILE);
    if (typeof run === "number") return run;
    const { rehearsal, connections, started } = run;
    const print = rehearsal.print;
    let scaled: ScaledGroupRehearsal | undefined;
    try {
        print(`bench:scale on ${rehearsal.stackName}, run ${rehearsal.hosts.runId}\n${WHAT_IS_REAL}`);
        print(`The stand-in clients take ${STANDIN_ENVIRONMENT.STANDIN_STARTUP_SECONDS}s to start and ${STANDIN_ENVIRONMENT.STANDIN_RESPONSE_MS}ms per page.`);
        await rehearsal.startHosts();
        scaled = await ScaledGroupRehearsal.start(rehearsal);
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
        print(`\nStand-ins for what only AWS provides:\n${[...rehearsal.standins, ...scaled.standins].map((l) => `  - ${l}`).join("\n")}`);
        const forward = rehearsal.alb?.listeners.find((l) => l.action.kind === "forward");
        const through = rehearsal.alb
            ? `through the application load balancer's stand-in ${rehearsal.alb.host} (${forward!.protocol} ${forward!.port}) to ${rehearsal.frontendHosts.join(" and ")}`
            : `over ${rehearsal.frontendHosts.join(" and ")} (port 80)`;
        print(
            `\nLoad: wrk, ${connections} connections ${through}, Host ${rehearsal.spec.frontend.domain}, ` +
                "every request with Plone's login cookie so varnish passes it to the clients; 5 s before each phase and 10 s after.",
        );
        const before = await scaled.haproxyProcesses();
        const group = scaled;
        const out = await underLoad(rehearsal, () => group.scaleOut(print), { connections });
        const requestsToInstance = await scaled.requestsTo(out.value.address);
        print(`    scale-out: ${out.load.requests} requests, ${out.load.failed} failed`);
        const inn = await underLoad(rehearsal, () => group.scaleIn(out.value, print), { connections });
        print(`    scale-in: ${inn.load.requests} requests, ${inn.load.failed} failed`);
        const after = await scaled.haproxyProcesses();
        const registered = Object.values(scaled.aws.registrations()).filter((r) => out.value.instanceId in r).length;
        const answers = await rehearsal.hosts.inVpc(["ping", "-c", "1", "-W", "1", out.value.address]);
        const figures = {
            scaleOut: { row: { name: "scale-out", load: out.load, actionSeconds: out.actionSeconds }, result: out.value },
            scaleIn: { row: { name: "scale-in", load: inn.load, actionSeconds: inn.actionSeconds }, result: inn.value },
            haproxy: { before, after },
            requestsToInstance,
            bootTarget: BOOT_TO_SERVING_TARGET_SECONDS,
        };
        print(`\n${formatScaleFigures(figures)}`);
        fs.writeFileSync(
            path.join(rehearsal.hosts.logsDir, "bench-scale.json"),
            JSON.stringify({ stack: rehearsal.stackName, connections, ...figures }, null, 2),
        );
        const missed = [
            ...(out.load.failed ? [`the scale-out failed ${out.load.failed} request(s)`] : []),
            ...(inn.load.failed ? [`the scale-in failed ${inn.load.failed} request(s)`] : []),
            ...(out.value.servingSeconds >= BOOT_TO_SERVING_TARGET_SECONDS ? [`boot to serving took ${out.value.servingSeconds.toFixed(1)}s`] : []),
            ...reloadedFrontends(before, after).map((fe) => `haproxy on ${fe} was reloaded`),
            ...(Object.values(requestsToInstance).every((n) => n === 0) ? ["no front end sent the instance a request"] : []),
            ...(registered ? [`the instance is still registered in ${registered} Cloud Map service(s)`] : []),
            ...(answers.status === 0 ? [`${out.value.address} still answers`] : []),
        ];
        print(
            `\n${missed.length ? `FAILED: ${missed.join("; ")}` : "OK: no failed request, boot to serving within the target, no haproxy reload, the instance deregistered and gone"}` +
                ` (${((Date.now() - started) / 1000).toFixed(0)}s in all; results in ${path.relative(process.cwd(), rehearsal.hosts.logsDir)}/bench-scale.json)`,
        );
        return missed.length ? 1 : 0;
    } finally {
        await scaled?.stop();
        await endBench(run);
    }
}

exitWith(main(process.argv.slice(2)), [StackFileError, TestHostError, RehearsalError, RehearsalStackError, BenchError]);

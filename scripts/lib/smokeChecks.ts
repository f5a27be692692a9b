// Smoke checks: what the rehearsal asserts once every provisioning command has run. Each check
// gets the stack, the captured program run and the live test hosts; it throws (or rejects) to
// fail, and may return a one-line detail for the summary. The list is pluggable: the real
// checks (a page through the front door, a cache hit, every client through haproxy, a blob file
// visible from every app host) are added as the commands that make them pass land.
import type { StackSpec } from "../../components/config/spec";
import type { OfflineRun } from "./offline";
import type { RehearsalStep } from "./rehearsalRunner";
import type { TestHostRun } from "./testHosts";

export interface SmokeContext {
    spec: StackSpec;
    run: OfflineRun;
    hosts: TestHostRun;
    /** Planned private IP by host name (and "bastion"). */
    addresses: Record<string, string>;
    steps: RehearsalStep[];
}

export interface SmokeCheck {
    name: string;
    run(ctx: SmokeContext): Promise<string | void>;
}

export interface SmokeResult {
    name: string;
    ok: boolean;
    detail?: string;
    seconds: number;
}

export class SmokeFailure extends Error {}

/** Every test host answers over SSH at its planned address and reaches every other host. */
export const hostsAnswerAtTheirAddresses: SmokeCheck = {
    name: "every host answers at its planned address and reaches the others",
    async run({ hosts, addresses }) {
        const all = Object.values(addresses);
        const failures: string[] = [];
        await Promise.all(Object.entries(addresses).map(async ([name, address]) => {
            const script = `ip -4 -o addr show ens5 | grep -qw '${address}' || { echo "ens5 lacks ${address}"; exit 1; }\n` +
                all.filter((a) => a !== address).map((a) => `ping -c1 -W2 ${a} >/dev/null || { echo "cannot reach ${a}"; exit 1; }`).join("\n");
            const r = await hosts.ssh(name, "bash -s", { input: script, timeoutMs: 30_000 });
            if (r.status !== 0) failures.push(`${name}: ${(r.stdout + r.stderr).trim()}`);
        }));
        if (failures.length) throw new SmokeFailure(failures.join("; "));
        return `${all.length} hosts`;
    },
};

export const SMOKE_CHECKS: SmokeCheck[] = [hostsAnswerAtTheirAddresses];

/**
 * Runs the checks one after the other (they share the hosts); all of them, even after a failure,
 * but none after an interruption (a check cut short by it is reported as interrupted, not failed).
 */
export async function runSmokeChecks(checks: SmokeCheck[], ctx: SmokeContext, print: (line: string) => void = console.log, signal?: AbortSignal): Promise<SmokeResult[]> {
    const results: SmokeResult[] = [];
    for (const check of checks) {
        if (signal?.aborted) break;
        const started = Date.now();
        let result: SmokeResult;
        try {
            const detail = (await check.run(ctx)) ?? undefined;
            result = { name: check.name, ok: true, detail, seconds: (Date.now() - started) / 1000 };
        } catch (e) {
            result = { name: check.name, ok: false, detail: signal?.aborted ? "interrupted" : (e as Error).message, seconds: (Date.now() - started) / 1000 };
        }
        results.push(result);
        const outcome = result.ok ? "ok" : signal?.aborted ? "interrupted" : "FAILED";
        print(`[smoke] ${result.name} ... ${outcome} ${result.seconds.toFixed(1)}s${result.detail && outcome !== "interrupted" ? ` (${result.detail})` : ""}`);
    }
    return results;
}

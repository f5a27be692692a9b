// Dialing a test host as pulumi-command does (provider/pkg/provider/remote/connection.go,
// dialWithRetry): a connection that does not open is dialed again, up to connection.dialErrorLimit
// dials, printing "Dial n/limit failed: retrying". So a machine too busy to answer a SYN within
// ConnectTimeout fails a rehearsal no sooner than it would fail `pulumi up`.
//
// Only failures before the SSH session exists count: the TCP connect (refused, timed out, no
// route) and the banner exchange (closed or reset). The remote command never started, so running
// it again runs it once. pulumi-command also redials after an authentication failure; a test host
// that refuses the run key refuses it every time, so that is reported at once instead.
import { CommandResult, sleep } from "./processes";

/** pulumi-command's connection.dialErrorLimit when the program sets none (@pulumi/command's types/input.d.ts). */
export const PULUMI_COMMAND_DIAL_ERROR_LIMIT = 10;

/** What OpenSSH prints (LogLevel=ERROR) when the connection closes before a session opens. */
const DIAL_FAILURE_LINES: RegExp[] = [
    /^ssh: connect to host \S+ port \d+: .+$/,
    /^(kex|ssh)_exchange_identification: .+$/,
    /^Connection (closed|reset|timed out) by \S+ port \d+$/,
    /^Connection timed out during banner exchange$/,
    /^banner exchange: Connection to \S+ port \d+: .+$/,
];

/** True when ssh ended (255) without a session: nothing ran on the host. */
export function isDialFailure(result: CommandResult): boolean {
    if (result.status !== 255 || result.stdout !== "") return false;
    const lines = result.stderr
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
    return lines.length > 0 && lines.every((l) => DIAL_FAILURE_LINES.some((re) => re.test(l)));
}

export interface DialOptions {
    /** Dials before giving up (connection.dialErrorLimit); -1 for no limit. */
    dialErrorLimit?: number;
    /** Told "Dial n/limit failed: retrying" before each new dial. */
    onRetry?: (line: string) => void;
    /** Pause between dials (a refused connection fails at once). */
    delayMs?: number;
    /** Asked before each new dial: false ends the dialing (the step was ended). */
    shouldRetry?: () => boolean;
}

/**
 * Runs `attempt` (one ssh invocation) until it is not a dial failure or the dial limit is reached;
 * resolves with the last result.
 */
export async function dialWithRetry(attempt: () => Promise<CommandResult>, options: DialOptions = {}): Promise<CommandResult> {
    const limit = options.dialErrorLimit ?? PULUMI_COMMAND_DIAL_ERROR_LIMIT;
    for (let dial = 1; ; dial++) {
        const result = await attempt();
        const more = limit === -1 || dial < limit;
        if (!isDialFailure(result) || !more || options.shouldRetry?.() === false) return result;
        options.onRetry?.(`Dial ${dial}/${limit === -1 ? "inf" : limit} failed: retrying`);
        await sleep(options.delayMs ?? 1000);
    }
}

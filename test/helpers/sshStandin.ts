// A stand-in for ssh, for the tests of `npm run ops` (no test host here takes SSH logins for these
// tests): it records each call's arguments as a JSON line and either exits with the status the
// test chose for that address (SSH_STANDIN_EXIT_<address with dots as _>) or 1 when the remote
// command contains SSH_STANDIN_FAIL_ON, or, when
// SSH_STANDIN_ROOT is set, runs the remote command on this machine with the host's paths moved
// under that root, as the scripts are installed in the script tests. SSH_STANDIN_SLEEP makes each
// call last that many seconds; the log has when each call started and ended.
import * as fs from "fs";
import * as path from "path";

export const SSH_STANDIN = `#!/usr/bin/env python3
# Stand-in for ssh (tests of npm run ops): records the call; runs the remote command locally only
# when SSH_STANDIN_ROOT is set, with /usr/local/sbin and /usr/local/lib/plone-aws under that root.
import json, os, subprocess, sys, time
started = time.time()
time.sleep(float(os.environ.get("SSH_STANDIN_SLEEP", "0")))
args = sys.argv[1:]
log = os.environ["SSH_STANDIN_LOG"]
sep = args.index("--")
destination, remote = args[sep - 1], args[sep + 1]
with open(log, "a") as f:
    f.write(json.dumps({"args": args, "destination": destination, "remote": remote, "started": started, "ended": time.time()}) + "\\n")
address = destination.split("@", 1)[1]
code = os.environ.get("SSH_STANDIN_EXIT_" + address.replace(".", "_").replace("-", "_"))
fail_on = os.environ.get("SSH_STANDIN_FAIL_ON")
if fail_on and fail_on in remote:
    code = "1"
root = os.environ.get("SSH_STANDIN_ROOT")
if code is not None:
    print(f"stand-in ssh: {address} exits {code}")
    sys.exit(int(code))
if root:
    for p in ("/usr/local/sbin/", "/usr/local/lib/plone-aws"):
        remote = remote.replace(p, root + p)
    sys.exit(subprocess.call(["bash", "-c", remote]))
print(f"stand-in ssh: ran on {address}")
`;

export interface SshCall {
    args: string[];
    destination: string;
    remote: string;
    /** Seconds since the epoch. */
    started: number;
    ended: number;
}

export function installSshStandin(dir: string): { program: string; log: string; calls: () => SshCall[] } {
    fs.mkdirSync(dir, { recursive: true });
    const program = path.join(dir, "ssh");
    const log = path.join(dir, "ssh-calls.jsonl");
    fs.writeFileSync(program, SSH_STANDIN, { mode: 0o755 });
    const calls = () =>
        fs.existsSync(log)
            ? fs
                  .readFileSync(log, "utf8")
                  .trim()
                  .split("\n")
                  .filter(Boolean)
                  .map((l) => JSON.parse(l) as SshCall)
            : [];
    return { program, log, calls };
}

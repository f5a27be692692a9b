// Loaded by mocha before any spec (.mocharc.yml), in the main process and in every parallel worker.
//
// The host scripts and daemons under test run the programs a Debian host has: `python3` is
// /usr/bin/python3 there. A version manager's shims earlier on the tester's PATH (pyenv's shim is a
// bash script that starts pyenv on every call: about 0.7 s of CPU and several seconds on a busy
// machine, per `python3` a script or a test runs) would make the tests both slower and less like a
// host. So the shim directories leave PATH; the version manager's own `bin` stays, nothing else changes.
import * as path from "path";

const SHIM_DIRS = /(^|\/)\.(pyenv|rbenv|nodenv|asdf)(\/|$).*\bshims$/;

function hostLikePath(current: string): string {
    return current
        .split(path.delimiter)
        .filter((dir) => !SHIM_DIRS.test(dir))
        .join(path.delimiter);
}

process.env.PATH = hostLikePath(process.env.PATH ?? "");

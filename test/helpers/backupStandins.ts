// Stand-ins for what the backup tests cannot have here:
// - repozo (ZODB's backup tool; ZODB cannot be installed: no PyPI): a small Python script with
//   repozo's command line, file names and rules (a full backup .fsz with its .dat and .index, then
//   increments .deltafsz holding the bytes appended since; -R concatenates the last full backup at
//   or before -D and the increments after it). It copies bytes, as repozo does for a FileStorage
//   that only grows; it does not parse transactions.
// - the aws command (S3 is not reachable): `aws s3 sync|ls|cp|rm` over a local directory that
//   stands for the buckets, <root>/<bucket>/<key>. It writes only under the prefixes it is told the
//   host role may write (any other write fails as AccessDenied, as IAM would refuse it), and logs
//   every call.
import * as fs from "fs";
import * as path from "path";

export const REPOZO_STANDIN = `#!/usr/bin/env python3
# Stand-in for ZODB's repozo (ZODB cannot be installed here: no PyPI). Same options, file names and
# selection rules; copies bytes instead of reading the FileStorage.
import getopt, gzip, hashlib, os, shutil, sys, time

opts, args = getopt.getopt(sys.argv[1:], "BRvr:f:FQzD:o:", ["backup", "recover", "verbose", "repository=", "file=", "full", "quick", "gzip", "date=", "output="])
o = dict(opts)
mode = "B" if ("-B" in o or "--backup" in o) else "R" if ("-R" in o or "--recover" in o) else None
repo = o.get("-r") or o.get("--repository")
if mode is None or not repo:
    sys.exit("repozo stand-in: -B or -R, and -r, are required")
data = lambda n: n.split(".")[0]
is_data = lambda n: len(n.split(".")[0]) == 19 and n.split(".", 1)[1] in ("fs", "fsz", "deltafs", "deltafsz")

def files():
    return sorted(n for n in os.listdir(repo) if is_data(n))

def needed(when):
    out = []
    for n in reversed(files()):
        if data(n) <= when:
            out.append(n)
            if n.endswith((".fs", ".fsz")):
                break
    return list(reversed(out))

def read(n):
    p = os.path.join(repo, n)
    return gzip.open(p).read() if n.endswith("z") else open(p, "rb").read()

if mode == "B":
    src = o.get("-f") or o.get("--file")
    content = open(src, "rb").read()
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
    while any(n.startswith(stamp) for n in os.listdir(repo)):
        time.sleep(0.2)
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
    have = needed("9999")
    size = sum(len(read(n)) for n in have)
    full = "-F" in o or not have or len(content) < size
    z = "z" if "-z" in o else ""
    if full:
        name, chunk, start = f"{stamp}.fs{z}", content, 0
        dat = os.path.join(repo, f"{stamp}.dat")
    else:
        name, chunk, start = f"{stamp}.deltafs{z}", content[size:], size
        dat = os.path.join(repo, data(have[0]) + ".dat")
    (gzip.open if z else open)(os.path.join(repo, name), "wb").write(chunk)
    open(os.path.join(repo, f"{stamp}.index"), "wb").write(b"index of " + stamp.encode())
    with open(dat, "a") as f:
        f.write(f"{os.path.join(repo, name)} {start} {len(content)} {hashlib.md5(chunk).hexdigest()}\\n")
    print(f"repozo stand-in: {'full' if full else 'incremental'} backup {name}")
else:
    when = o.get("-D") or o.get("--date") or "9999"
    out = o.get("-o") or o.get("--output")
    have = needed(when)
    if not have:
        sys.exit(f"repozo stand-in: no files to recover as of {when}")
    with open(out + ".part", "wb") as f:
        for n in have:
            f.write(read(n))
    os.rename(out + ".part", out)
    print(f"repozo stand-in: recovered {out} from {' '.join(have)}")
`;

export const AWS_STANDIN = `#!/usr/bin/env python3
# Stand-in for the aws command (S3 is not reachable here): aws [--region R] s3 sync|ls|cp|rm over
# the directory ROOT/<bucket>/<key>. Writes outside WRITABLE fail as AccessDenied, as IAM would.
import fnmatch, os, shutil, sys, time
ROOT = __ROOT__
WRITABLE = __WRITABLE__
LOG = os.path.join(ROOT, ".calls.log")

argv = sys.argv[1:]
if argv[:1] == ["--region"]:
    argv = argv[2:]
with open(LOG, "a") as f:
    f.write(" ".join(argv) + "\\n")
if argv[:1] != ["s3"]:
    sys.exit("aws stand-in: only s3 commands")
cmd, rest = argv[1], argv[2:]
excludes, delete, positional = [], False, []
i = 0
while i < len(rest):
    a = rest[i]
    if a == "--exclude":
        excludes.append(rest[i + 1]); i += 2; continue
    if a == "--delete":
        delete = True
    elif not a.startswith("--"):
        positional.append(a)
    i += 1

def s3path(url):
    assert url.startswith("s3://"), url
    return url[5:]

def local_of(key):
    return os.path.join(ROOT, key)

def deny(key):
    if not any(key.startswith(w) for w in WRITABLE):
        print(f"upload failed: An error occurred (AccessDenied) when calling the PutObject operation: Access Denied ({key})", file=sys.stderr)
        sys.exit(1)

def excluded(rel):
    return any(fnmatch.fnmatch(rel, p) for p in excludes)

def walk(base):
    out = {}
    if os.path.isdir(base):
        for d, _, names in os.walk(base):
            for n in names:
                p = os.path.join(d, n)
                rel = os.path.relpath(p, base)
                if rel.startswith(".calls") or excluded(rel):
                    continue
                out[rel] = p
    return out

def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(src, dst)

if cmd == "sync":
    src, dst = positional
    up = not src.startswith("s3://")
    sbase = src if up else local_of(s3path(src))
    dbase = local_of(s3path(dst)) if up else dst
    source, target = walk(sbase), walk(dbase)
    for rel, p in source.items():
        t = target.get(rel)
        if t is None or os.path.getsize(t) != os.path.getsize(p) or os.path.getmtime(p) > os.path.getmtime(t) + 1:
            if up:
                deny(os.path.join(s3path(dst), rel))
            copy(p, os.path.join(dbase, rel))
    if delete:
        for rel, p in target.items():
            if rel not in source:
                if up:
                    deny(os.path.join(s3path(dst), rel))
                os.remove(p)
elif cmd == "ls":
    key = s3path(positional[0])
    base = local_of(key)
    lines = []
    if os.path.isdir(base):
        for n in sorted(os.listdir(base)):
            p = os.path.join(base, n)
            if os.path.isdir(p):
                lines.append(f"                           PRE {n}/")
            else:
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(os.path.getmtime(p)))
                lines.append(f"{stamp} {os.path.getsize(p):>10} {n}")
    if not lines:
        sys.exit(1)
    print("\\n".join(lines))
elif cmd == "cp":
    src, dst = positional
    if src.startswith("s3://"):
        p = local_of(s3path(src))
        if not os.path.isfile(p):
            print(f"fatal error: An error occurred (404) when calling the HeadObject operation: Key not found ({src})", file=sys.stderr)
            sys.exit(1)
        copy(p, dst)
    else:
        deny(s3path(dst))
        copy(src, local_of(s3path(dst)))
elif cmd == "rm":
    key = s3path(positional[0])
    deny(key)
    os.remove(local_of(key))
else:
    sys.exit(f"aws stand-in: s3 {cmd} is not emulated")
`;

/** Writes the aws stand-in, rooted at `root` (the buckets), writing only under `writable` (bucket/prefix/). */
export function installAwsStandin(file: string, root: string, writable: string[]): string {
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, awsStandinText(root, writable), { mode: 0o755 });
    return file;
}

/** The aws stand-in's program for the buckets under `root`, writable under the `writable` key prefixes only. */
export function awsStandinText(root: string, writable: string[]): string {
    return AWS_STANDIN.replace("__ROOT__", JSON.stringify(root)).replace("__WRITABLE__", JSON.stringify(writable));
}

/** The calls the aws stand-in received, one per line. */
export function awsCalls(root: string): string[] {
    const log = path.join(root, ".calls.log");
    return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
}

/** Every file under a directory: relative path -> content (for comparing trees). */
export function treeOf(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (!fs.existsSync(dir)) return out;
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out[path.relative(dir, p)] = fs.readFileSync(p).toString("base64");
        }
    };
    walk(dir);
    return out;
}

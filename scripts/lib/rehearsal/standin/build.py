# Stand-in for bin/buildout (PyPI is unreachable): reads the deploy.cfg plone-aws wrote and makes
# the scripts the supervisor programs run, baking in this release's path as buildout does.
import json, os, re, socket, sys

args = sys.argv[1:]
cfg = args[args.index("-c") + 1]
release = os.getcwd()
failing_hosts = open("FAIL_BUILD_ON").read().split() if os.path.exists("FAIL_BUILD_ON") else []
if os.path.exists("FAIL_BUILD") or socket.gethostname() in failing_hosts:
    os.makedirs("bin", exist_ok=True)
    open("bin/half-built", "w").write("")
    print(f"stand-in build: {'FAIL_BUILD is present' if os.path.exists('FAIL_BUILD') else 'FAIL_BUILD_ON names ' + socket.gethostname()}, failing", file=sys.stderr)
    sys.exit(1)

def parse(path):
    """deploy.cfg as buildout reads it: sections, options, indented continuation lines."""
    sections, current, option = {}, None, None
    for line in open(path):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            current, option = sections.setdefault(m.group(1), {}), None
            continue
        if line[0].isspace() and current is not None and option is not None:
            current[option] = (current[option] + "\n" + line.strip()).strip()
            continue
        m = re.match(r"^([^\s=]+?)\s*=\s*(.*)$", line)
        if m and current is not None:
            option = m.group(1)
            current[option] = m.group(2).strip()
    return sections

sections = parse(cfg)

def options(name, seen=()):
    """A section's options with `<=` (the macro it copies) applied."""
    own = sections.get(name, {})
    base = own.get("<")
    merged = dict(options(base, seen + (name,))) if base and base not in seen else {}
    merged.update({k: v for k, v in own.items() if k != "<"})
    if name == "buildout":
        # buildout's own default: ${buildout:directory} is the buildout's directory (ZEO clients'
        # blob cache lives under it).
        merged.setdefault("directory", release)
    return merged

def substitute(value, section, depth=0):
    """${section:option} (and ${:option}) as buildout substitutes them."""
    def one(m):
        ref_section, ref_option = m.group(1) or section, m.group(2)
        return substitute(options(ref_section).get(ref_option, ""), ref_section, depth + 1)
    return value if depth > 10 else re.sub(r"\$\{([^:}]*):([^}]+)\}", one, value)

def zconfig_lines(value, section):
    """The `key value` lines of a ZConfig-style option (rel-storage), substituted."""
    out = {}
    for line in substitute(value, section).split("\n"):
        key, _, rest = line.strip().partition(" ")
        if key:
            out[key] = rest.strip().replace("$$", "$")  # ZConfig reads $$ as $
    return out

def wiring(client):
    """What this client's configuration tells it to use: the stand-in app checks each of them."""
    o = {k: substitute(v, client) for k, v in options(client).items() if k != "rel-storage"}
    uses = {}
    if "rel-storage" in options(client):
        rs = zconfig_lines(options(client)["rel-storage"], client)
        uses["database"] = {"dsn": rs.get("dsn", "")}
        servers = rs.get("cache-servers", "").split()
        if servers:
            uses["memcached"] = servers
        if rs.get("blob-dir"):
            uses["blobs"] = {"dir": rs["blob-dir"], "shared": rs.get("shared-blob-dir", "false") == "true"}
    if o.get("zeo-client") == "on" and o.get("zeo-address"):
        uses["zeo"] = o["zeo-address"]
        if o.get("blob-storage"):
            uses["blobs"] = {"dir": o["blob-storage"], "shared": o.get("shared-blob", "off") == "on"}
    broker = options("celery-broker")
    if broker.get("host"):
        uses["broker"] = {"url": substitute(broker.get("url", ""), "celery-broker"), "address": f"{broker['host']}:{broker.get('port', '6379')}"}
    solr = options("solr-host")
    if solr.get("host"):
        uses["solr"] = f"{solr['host']}:{solr.get('port', '8983')}"
    mail = options("plone-mail")
    if mail.get("smtp-host"):
        uses["mail"] = {"smtp": f"{mail['smtp-host']}:{mail.get('smtp-port', '25')}", "from": mail.get("email-from-address", ""), "fromName": mail.get("email-from-name", "")}
    return uses

def script(name, port):
    path = os.path.join("bin", name)
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n# stand-in for buildout's bin/{name}\nexec {sys.executable} {release}/standin/app.py {port} {name} {release}\n")
    os.chmod(path, 0o755)

os.makedirs("bin", exist_ok=True)
for name in sections:
    if re.fullmatch(r"client\d+", name):
        script(name, options(name)["http-address"].rsplit(":", 1)[-1])
        os.makedirs(f"parts/{name}/etc", exist_ok=True)
        open(f"parts/{name}/etc/wsgi.ini", "w").write(repr(sorted(sections[name].items())))
        # What the client is configured to use, for its wiring status page (/wiring).
        with open(f"parts/{name}/wiring.json", "w") as f:
            json.dump(wiring(name), f, indent=1, sort_keys=True)
server = sections.get("zeoserver", {})
if "zeo-address" in server:
    script("zeoserver", server["zeo-address"].rsplit(":", 1)[-1])
    os.makedirs("parts/zeoserver/etc", exist_ok=True)
    # From the server's own options only: a client-side change leaves the server's build as it is.
    open("parts/zeoserver/etc/zeo.conf", "w").write("\n".join(f"{k} {v}" for k, v in sorted(server.items())) + "\n")
open("build-args.txt", "w").write(" ".join(args) + "\nVENV=" + os.environ.get("VENV", "") + "\n")
print("stand-in build: made", " ".join(sorted(os.listdir("bin"))))

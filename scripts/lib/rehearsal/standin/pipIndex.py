# Stand-in package index for the pip builder (PyPI is unreachable here, so Plone cannot be
# installed): builds wheels of three stand-in distributions with the console scripts a pip-built
# Plone 6 backend host runs, and a PEP 503 "simple" index of them, which the tests serve over HTTP.
#
#   standin-zope          runwsgi (Zope's WSGI runner: serves standin/app.py on zope.ini's listen
#                         address), runzeo (ZEO: zeo.conf's address), zconsole, zeopack, zodbpack, repozo
#   standin-mxdev         mxdev -c mx.ini: writes requirements-out and constraints-out (no checkouts)
#   standin-cookiecutter  cookiecutter --no-input --config-file F --output-dir D TEMPLATE: the
#                         template's cookiecutter.json defaults with the file's default_context over
#                         them, string values rendered as Jinja renders the literals plone-aws writes,
#                         into D/<target>/etc/{zope.ini,zope.conf,site.zcml}, D/<target>/context.json
#                         and D/<target>/wiring.json (what the client uses: standin/app.py's /wiring)
#
# usage: python3 pipIndex.py OUTDIR APP_PY   (APP_PY: the stand-in Zope client, standin/app.py)
import base64, hashlib, os, sys, zipfile

RUNTIME = r'''
"""Stand-ins for the console scripts of Zope, ZEO and RelStorage (plone-aws tests: no PyPI)."""
import configparser, os, re, sys, time

APP = os.path.join(os.path.dirname(__file__), "app.py")

def _record(what):
    events = os.environ.get("STANDIN_PIP_EVENTS", "")
    if events:
        with open(events, "a") as f:
            f.write(f"{time.time():.3f} {what}\n")

def _release_of(path):
    """The release directory (releases/<timestamp>) a path is in, else its parent's parent."""
    parts = os.path.realpath(path).split(os.sep)
    for i in range(len(parts) - 1):
        if parts[i] == "releases":
            return os.sep.join(parts[: i + 2])
    return os.path.dirname(os.path.dirname(os.path.realpath(path)))

def _exec_app(port, name, release, wiring=None):
    if wiring:
        os.environ["STANDIN_WIRING"] = wiring
    os.execv(sys.executable, [sys.executable, APP, str(port), name, release])

def runwsgi():
    ini = [a for a in sys.argv[1:] if not a.startswith("-")][0]
    c = configparser.RawConfigParser()
    if not c.read(ini):
        sys.exit(f"runwsgi (stand-in): cannot read {ini}")
    listen = c.get("server:main", "listen")
    name = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(ini))))
    _record(f"runwsgi {name} {listen}")
    instance = os.path.dirname(os.path.dirname(os.path.abspath(ini)))
    _exec_app(listen.rpartition(":")[2], name, _release_of(ini), os.path.join(instance, "wiring.json"))

def runzeo():
    conf = sys.argv[sys.argv.index("-C") + 1]
    text = open(conf).read()
    address = re.search(r"^\s*address\s+(\S+)", text, re.M).group(1)
    _record(f"runzeo {address}")
    _exec_app(address.rpartition(":")[2], "zeoserver", _release_of(conf))

def _noop(name):
    def main():
        _record(f"{name} {' '.join(sys.argv[1:])}")
        print(f"{name} (stand-in):", *sys.argv[1:])
    return main

zconsole = _noop("zconsole")
zeopack = _noop("zeopack")
zodbpack = _noop("zodbpack")
repozo = _noop("repozo")
'''

MXDEV = r'''
"""Stand-in for mxdev: requirements-out and constraints-out from requirements-in (no checkouts)."""
import configparser, os, sys

def main():
    ini = sys.argv[sys.argv.index("-c") + 1]
    c = configparser.RawConfigParser()
    c.read(ini)
    s = c["settings"] if c.has_section("settings") else {}
    req_in = s.get("requirements-in", "requirements.txt")
    req_out = s.get("requirements-out", "requirements-mxdev.txt")
    con_out = s.get("constraints-out", "constraints-mxdev.txt")
    requirements, constraints = [], []
    for line in open(req_in):
        line = line.strip()
        if line.startswith("-c "):
            constraints += [l.strip() for l in open(line[3:].strip()) if l.strip()]
        elif line:
            requirements.append(line)
    with open(con_out, "w") as f:
        f.write("# stand-in mxdev\n" + "".join(l + "\n" for l in constraints))
    with open(req_out, "w") as f:
        f.write(f"# stand-in mxdev\n-c {con_out}\n" + "".join(l + "\n" for l in requirements))
    print(f"mxdev (stand-in): wrote {req_out} and {con_out}")
'''

COOKIECUTTER = r'''
"""Stand-in for cookiecutter with cookiecutter-zope-instance's output (a few of its keys)."""
import json, os, re, sys

def jinja_literal(value):
    """What Jinja makes of {{ '...' }}: the literal with its escapes decoded; other text unchanged."""
    m = re.fullmatch(r"\{\{ '((?:[^'\\]|\\.)*)' \}\}", value)
    if not m:
        return value
    return m.group(1).encode("ascii", "backslashreplace").decode("unicode-escape")

def render(value, context):
    if not isinstance(value, str):
        return value
    value = jinja_literal(value)
    if "{{" in value or "{%" in value:
        value = re.sub(r"\{\{\s*cookiecutter\.(\w+)\s*\}\}", lambda m: str(context.get(m.group(1), "")), value)
    return value

def main():
    args = sys.argv[1:]
    config = args[args.index("--config-file") + 1]
    out = args[args.index("--output-dir") + 1]
    template = args[-1]
    assert "--no-input" in args, "cookiecutter (stand-in): --no-input expected"
    with open(os.path.join(template, "cookiecutter.json")) as f:
        defaults = json.load(f)
    with open(config) as f:
        # plone-deploy writes the merged configuration as JSON (YAML readers read it as it is).
        given = json.load(f).get("default_context", {})
    context = {}
    for key, value in {**defaults, **given}.items():
        if isinstance(value, list):
            value = value[0]
        context[key] = render(value, context)
    target = os.path.join(out, context["target"])
    etc = os.path.join(target, "etc")
    os.makedirs(etc, exist_ok=True)
    with open(os.path.join(etc, "zope.ini"), "w") as f:
        f.write(f"""# cookiecutter-zope-instance (stand-in)
[app:zope]
use = egg:Zope#main
zope_conf = {os.path.abspath(etc)}/zope.conf

[server:main]
use = egg:waitress#main
listen = {context['wsgi_listen']}
threads = {context['wsgi_threads']}
clear_untrusted_proxy_headers = {str(context.get('wsgi_clear_untrusted_proxy_headers')).lower()}
""")
    if context["db_storage"] == "zeo":
        storage = f"<zeoclient>\n    server {context['db_zeo_server']}\n    blob-dir {context['db_blob_location']}\n    shared-blob-dir {'on' if context['db_blob_mode'] == 'shared' else 'off'}\n  </zeoclient>"
    else:
        storage = f"<relstorage>\n    <postgresql>\n      dsn {context['db_relstorage_postgresql_dsn']}\n    </postgresql>\n  </relstorage>"
    with open(os.path.join(etc, "zope.conf"), "w") as f:
        f.write(f"# cookiecutter-zope-instance (stand-in)\ndebug-mode {'on' if context['debug_mode'] else 'off'}\n<zodb_db main>\n  cache-size {context['db_cache_size']}\n  {storage}\n</zodb_db>\n")
    with open(os.path.join(etc, "site.zcml"), "w") as f:
        f.write("<configure xmlns=\"http://namespaces.zope.org/zope\"><!-- stand-in --></configure>\n")
    with open(os.path.join(target, "context.json"), "w") as f:
        json.dump(context, f, indent=1, sort_keys=True)
    # What the client is configured to use, for the stand-in client's wiring status page (/wiring),
    # read from the generated configuration as Zope would read it (ZConfig: $$ is $).
    uses = {}
    if context["db_storage"] == "zeo":
        uses["zeo"] = context["db_zeo_server"]
    else:
        uses["database"] = {"dsn": context["db_relstorage_postgresql_dsn"].replace("$$", "$")}
    uses["blobs"] = {"dir": context["db_blob_location"], "shared": context["db_blob_mode"] == "shared"}
    with open(os.path.join(target, "wiring.json"), "w") as f:
        json.dump(uses, f, indent=1, sort_keys=True)
    print(f"cookiecutter (stand-in): generated {target}")
'''

DISTRIBUTIONS = {
    "standin-zope": {
        "modules": {"standin_zope/__init__.py": RUNTIME},
        "scripts": {name: f"standin_zope:{name}" for name in ["runwsgi", "runzeo", "zconsole", "zeopack", "zodbpack", "repozo"]},
    },
    "standin-mxdev": {"modules": {"standin_mxdev/__init__.py": MXDEV}, "scripts": {"mxdev": "standin_mxdev:main"}},
    "standin-cookiecutter": {"modules": {"standin_cookiecutter/__init__.py": COOKIECUTTER}, "scripts": {"cookiecutter": "standin_cookiecutter:main"}},
}
VERSION = "1.0"


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(name, dist, out_dir, app_py):
    """A wheel made with zipfile (no setuptools needed): the modules, dist-info, RECORD."""
    stem = name.replace("-", "_")
    info = f"{stem}-{VERSION}.dist-info"
    files = {path: text.encode() for path, text in dist["modules"].items()}
    if name == "standin-zope":
        files["standin_zope/app.py"] = open(app_py, "rb").read()
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {VERSION}\nSummary: plone-aws test stand-in (no PyPI)\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: plone-aws pipIndex.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = ("[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in dist["scripts"].items())).encode()
    record = [record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = f"{stem}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(out_dir, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            z.writestr(path, data)
    return wheel


def main():
    out, app_py = sys.argv[1], sys.argv[2]
    simple = os.path.join(out, "simple")
    os.makedirs(simple, exist_ok=True)
    links = []
    for name, dist in DISTRIBUTIONS.items():
        d = os.path.join(simple, name)
        os.makedirs(d, exist_ok=True)
        wheel = build_wheel(name, dist, d, app_py)
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write(f'<!DOCTYPE html><html><body><a href="{wheel}">{wheel}</a></body></html>\n')
        links.append(f'<a href="{name}/">{name}</a>')
    with open(os.path.join(simple, "index.html"), "w") as f:
        f.write("<!DOCTYPE html><html><body>" + "".join(links) + "</body></html>\n")


main()

# Stand-in for a Zope client or ZEO server (Plone cannot be built here: no PyPI).
# Answers every path with its name and release (/slow?s=N after N seconds) and records its
# start and stop, with the client's rotation file, in $STANDIN_EVENTS.
# /wiring?token=T (clients): uses every service the client's build says it uses
# (parts/<name>/wiring.json, made from deploy.cfg) and answers what each gave, as JSON; with
# [plone-mail] it sends one mail through the SMTP server Plone's MailHost would use (localhost:25).
# Below /++api++ it answers as plone.restapi does, JSON whose title names the client, its release
# and the path it was asked for (what the stand-in Volto server renders its pages from).
import http.server, json, os, re, signal, smtplib, socket, sys, time
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import urlparse, parse_qs

port, name, release = int(sys.argv[1]), sys.argv[2], sys.argv[3]
events = os.environ.get("STANDIN_EVENTS", "")
rotation_dir = os.environ.get("STANDIN_ROTATION_DIR", "")
control = os.environ.get("STANDIN_CONTROL", "")
startup = float(os.environ.get("STANDIN_STARTUP_SECONDS", "0") or 0)
response_ms = float(os.environ.get("STANDIN_RESPONSE_MS", "0") or 0)
host = socket.gethostname()

def record(what):
    if not events:
        return
    try:
        with open(os.path.join(rotation_dir, name)) as f:
            rotation = f.read().strip()
    except OSError:
        rotation = "none"
    with open(events, "a") as f:
        f.write(f"{time.time():.3f} {name} {what} rotation={rotation} release={os.path.basename(release)}\n")

if name.startswith("client") and os.path.exists(os.path.join(release, "BROKEN_CLIENTS")):
    record("crash")
    sys.exit(3)
if control and os.path.exists(os.path.join(control, "hang-" + name)):
    record("hang")
    time.sleep(3600)
    sys.exit(1)


WIRING_TIMEOUT = 5
HOLD_LIMIT_SECONDS = 300  # a forgotten hold file must not hang a test run

def split_address(address, default_port):
    host, _, port = address.rpartition(":")
    return (host, int(port)) if host else (address, default_port)

def exchange(address, default_port, payload, until):
    """Sends payload to a TCP service and reads until the answer ends with `until`."""
    with socket.create_connection(split_address(address, default_port), timeout=WIRING_TIMEOUT) as s:
        s.settimeout(WIRING_TIMEOUT)
        s.sendall(payload)
        answer = b""
        while not answer.endswith(until):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer

def use_memcached(server, key, value):
    v = value.encode()
    stored = exchange(server, 11211, b"set %s 0 300 %d\r\n%s\r\n" % (key.encode(), len(v), v), b"\r\n")
    if stored != b"STORED\r\n":
        raise RuntimeError(f"set answered {stored[:80]!r}")
    got = exchange(server, 11211, b"get %s\r\n" % key.encode(), b"END\r\n")
    if v not in got:
        raise RuntimeError(f"get answered {got[:80]!r}")
    return "set and get"

def resp(*words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        w = w.encode()
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    return out

def use_redis(address, url, key, value):
    db = (urlparse(url).path or "/0").strip("/") or "0"
    answer = exchange(address, 6379, resp("SELECT", db) + resp("LPUSH", key, value) + resp("RPOP", key), value.encode() + b"\r\n")
    if b"-" == answer[:1] or value.encode() not in answer:
        raise RuntimeError(f"answered {answer[:120]!r}")
    return f"push and pop on {url}"

def use_database(dsn, key, value):
    try:
        import psycopg2
    except ImportError:
        # The buildout would install psycopg2 as an egg (PyPI is out of reach): Debian's python3-psycopg2.
        sys.path.append("/usr/lib/python3/dist-packages")
        import psycopg2
    conn = psycopg2.connect(dsn, connect_timeout=WIRING_TIMEOUT)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS plone_aws_wiring (key text PRIMARY KEY, value text)")
            cur.execute("INSERT INTO plone_aws_wiring VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (key, value))
        with conn, conn.cursor() as cur:
            cur.execute("SELECT value FROM plone_aws_wiring WHERE key = %s", (key,))
            row = cur.fetchone()
        if not row or row[0] != value:
            raise RuntimeError(f"read back {row!r}")
        return "wrote a row and read it back"
    finally:
        conn.close()

def use_solr(address):
    import http.client
    host, port = split_address(address, 8983)
    c = http.client.HTTPConnection(host, port, timeout=WIRING_TIMEOUT)
    c.request("GET", "/solr/")
    status = c.getresponse().status
    c.close()
    if status >= 500:
        raise RuntimeError(f"GET /solr/ answered {status}")
    return f"GET /solr/ answered {status}"

def use_zeo(address):
    socket.create_connection(split_address(address, 8100), timeout=WIRING_TIMEOUT).close()
    return "TCP connect"

# Where the wiring mail goes: the SMTP stand-in for SES keeps every mail, whatever its recipient.
WIRING_MAIL_TO = "wiring-check@rehearsal.invalid"

def wiring_mail_subject(token):
    return f"plone-aws wiring {token} {host} {name}"

def use_mail(mail, token):
    """Sends one mail as Plone's MailHost does: plain SMTP to the relay on this host."""
    message = EmailMessage()
    message["From"] = formataddr((mail["fromName"], mail["from"]))
    message["To"] = WIRING_MAIL_TO
    message["Subject"] = wiring_mail_subject(token)
    message.set_content(f"Sent by the stand-in {name} on {host} through {mail['smtp']}.")
    smtp_host, smtp_port = split_address(mail["smtp"], 25)
    with smtplib.SMTP(smtp_host, smtp_port, timeout=WIRING_TIMEOUT) as smtp:
        refused = smtp.send_message(message)
    if refused:
        raise RuntimeError(f"refused {refused}")
    return f"accepted: {message['Subject']}"

def use_blobs(blobs, token):
    """Writes this client's file in the blob directory and lists the run's files it sees there."""
    marker_dir = os.path.join(blobs["dir"], ".plone-aws-wiring")
    os.makedirs(marker_dir, exist_ok=True)
    mine = f"{token}-{host}-{name}"
    with open(os.path.join(marker_dir, mine), "w") as f:
        f.write(mine)
    with open(os.path.join(marker_dir, mine)) as f:
        if f.read() != mine:
            raise RuntimeError("read back something else")
    return sorted(n[len(token) + 1:] for n in os.listdir(marker_dir) if n.startswith(token + "-"))

def reason(e):
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(e, socket.gaierror):
        return f"cannot resolve the name ({e.strerror})"
    return (str(e).strip().splitlines() or [type(e).__name__])[0]

def wiring_report(token):
    """What each service the client is configured to use answered (a list of checks)."""
    # The buildout's stand-in build writes parts/<name>/wiring.json; the pip builder's stand-in
    # cookiecutter writes it beside the instance's etc/, and runwsgi names it (STANDIN_WIRING).
    wiring_file = os.environ.get("STANDIN_WIRING") or os.path.join(release, "parts", name, "wiring.json")
    try:
        with open(wiring_file) as f:
            uses = json.load(f)
    except OSError as e:
        return {"host": host, "client": name, "error": f"no wiring.json from the build: {e}", "checks": []}
    key, value = f"plone-aws-wiring-{token}-{host}-{name}", f"{host} {name} {time.time():.3f}"
    checks = []
    def check(service, target, use):
        try:
            checks.append({"service": service, "target": target, "ok": True, "detail": use()})
        except Exception as e:
            checks.append({"service": service, "target": target, "ok": False, "detail": reason(e)})
    if "database" in uses:
        dsn = uses["database"]["dsn"]
        params = {k: v.strip("'") for k, v in re.findall(r"(\w+)=('(?:[^'\\]|\\.)*'|\S+)", dsn)}
        target = f"{params.get('host', 'localhost')}:{params.get('port', '5432')}/{params.get('dbname', '')} as {params.get('user', '')}"
        check("database", target, lambda: use_database(dsn, key, value))
    if "zeo" in uses:
        check("zeo", uses["zeo"], lambda: use_zeo(uses["zeo"]))
    for server in uses.get("memcached", []):
        check("memcached", server, lambda: use_memcached(server, key, value))
    if "broker" in uses:
        b = uses["broker"]
        check("redis", b["address"], lambda: use_redis(b["address"], b["url"], key, value))
    if "solr" in uses:
        check("solr", uses["solr"], lambda: use_solr(uses["solr"]))
    if "mail" in uses:
        check("mail", uses["mail"]["smtp"], lambda: use_mail(uses["mail"], token))
    report = {"host": host, "client": name, "release": os.path.basename(release), "checks": checks}
    if "blobs" in uses:
        try:
            report["blobs"] = {"dir": uses["blobs"]["dir"], "shared": uses["blobs"]["shared"], "seen": use_blobs(uses["blobs"], token)}
            checks.append({"service": "blobs", "target": uses["blobs"]["dir"], "ok": True, "detail": "wrote and read a file"})
        except Exception as e:
            checks.append({"service": "blobs", "target": uses["blobs"]["dir"], "ok": False, "detail": reason(e)})
    return report

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/wiring" and name.startswith("client"):
            token = "".join(c for c in parse_qs(url.query).get("token", ["none"])[0] if c.isalnum()) or "none"
            body = json.dumps(wiring_report(token)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            return
        # A test holds a client's answers (not its health check) while the file hold-<name> exists
        # in $STANDIN_CONTROL: it stays in its warm-up until the test lets it go.
        hold = os.path.join(control, "hold-" + name) if control else ""
        held = 0.0
        while url.path != "/ok" and hold and os.path.exists(hold) and held < HOLD_LIMIT_SECONDS:
            time.sleep(0.05)
            held += 0.05
        if url.path == "/slow":
            time.sleep(float(parse_qs(url.query).get("s", ["3"])[0]))
        elif response_ms and url.path != "/ok":
            time.sleep(response_ms / 1000)
        # The REST API (plone.restapi answers JSON below ++api++): what Volto renders a page from.
        api = "/++api++" in url.path
        if api:
            body = json.dumps({"@id": self.path, "title": f"{host} {name} {os.path.basename(release)} {self.path}"}).encode()
        else:
            body = f"{name} {os.path.basename(release)} {self.path} {os.environ.get('PLONE_ENV', '')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if api else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Standin", f"{host} {name} {os.path.basename(release)}")
        if url.path == "/ok":
            self.send_header("Cache-Control", "no-store")
        else:
            self.send_header("Cache-Control", "max-age=0, s-maxage=3600, must-revalidate")
        self.end_headers()
        self.wfile.write(body)
        if events and url.path != "/ok":
            with open(events, "a") as f:
                f.write(f"{time.time():.3f} {name} GET {self.path}\n")

    def log_message(self, *args):
        pass

def stop(signum, frame):
    record("stop")
    os._exit(0)  # like a killed Zope: requests still in flight are cut off

signal.signal(signal.SIGTERM, stop)
if startup:
    time.sleep(startup)  # a Zope client loads its code and opens the database before it listens
server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
server.daemon_threads = True
record("start")
server.serve_forever()

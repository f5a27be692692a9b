# The rehearsal's stand-in for what only AWS provides to the instances of a scaled group
# (plone-aws:scaling), run in the rehearsal's VPC namespace (scripts/lib/rehearsal/scaledStandins.ts
# starts it). Standard library only.
#   python3 aws_standin.py STATE_DIR
# It plays, each with what the program registered (STATE_DIR/world.json, written from the offline
# run before it starts):
#   - the instance metadata service (IMDSv2 only, as the launch template requires): a session token
#     first, then instance-id, local-ipv4, autoscaling/target-lifecycle-state and user-data of the
#     instance that asks (known by its source address, as EC2 knows it by its interface);
#   - the AWS APIs the instances and the fixed app hosts call through the `aws` command (played by
#     aws_cli.py, which sends each call here): S3 (the bundle and build cache, versioned), SSM
#     Parameter Store (the secret files), AWS Cloud Map (register, deregister, list), Auto Scaling
#     (describe, lifecycle heartbeat and completion, instance health), CloudWatch (put-metric-data);
#   - the VPC resolver's answers for the Cloud Map namespace: SRV and A records of the registered
#     instances (dns_standin.py).
# The group itself (which instances it has, the lifecycle of each) is driven by the rehearsal:
# STATE_DIR/instances.json, re-read at every request. What the instances did is written back:
# registrations.json, lifecycle.json and calls.log (one JSON line per call; never a secret value).
import base64
import http.server
import json
import os
import secrets
import socketserver
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dns_standin  # noqa: E402

STATE = sys.argv[1]
with open(os.path.join(STATE, "world.json")) as f:
    WORLD = json.load(f)
LOCK = threading.Lock()
REGISTRATIONS = {s["id"]: {} for s in WORLD["services"]}
LIFECYCLE = []
TOKENS = {}
# S3: (bucket, key) -> [(version id, file)], oldest first.
OBJECTS = {}
for o in WORLD["objects"]:
    OBJECTS.setdefault((o["bucket"], o["key"]), []).append((o["versionId"], os.path.join(STATE, o["file"])))


class AwsError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def write_json(name, value):
    path = os.path.join(STATE, name)
    with open(path + ".new", "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(path + ".new", path)


def instances():
    try:
        with open(os.path.join(STATE, "instances.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def instance_at(address):
    for instance_id, i in instances().items():
        if i["address"] == address:
            return instance_id, i
    return None, None


def log_call(peer, call, params):
    instance_id, _ = instance_at(peer)
    line = json.dumps({"time": time.time(), "from": peer, "instance": instance_id, "call": call, "params": params}, sort_keys=True)
    with open(os.path.join(STATE, "calls.log"), "a") as f:
        f.write(line + "\n")


def records():
    """
    The namespace's records as Cloud Map writes them: SRV per service, an A record per instance. A
    service without instances has no record set at all (Route 53 answers NXDOMAIN, not NODATA).
    """
    out = {}
    with LOCK:
        for s in WORLD["services"]:
            if not REGISTRATIONS[s["id"]]:
                continue
            name = "%s.%s" % (s["name"], WORLD["namespace"])
            out[name] = [
                {"target": "%s.%s" % (i, name), "address": a["AWS_INSTANCE_IPV4"], "port": int(a["AWS_INSTANCE_PORT"])}
                for i, a in sorted(REGISTRATIONS[s["id"]].items())
            ]
    return out


def need(params, *names):
    missing = [n for n in names if not params.get(n)]
    if missing:
        raise AwsError("ParamValidation", "missing required parameter(s): %s" % ", ".join("--" + n for n in missing))


def shorthand_map(value):
    """The CLI's shorthand (K=V,K=V) or JSON for a map parameter."""
    if value.lstrip().startswith("{"):
        return json.loads(value)
    return dict(part.split("=", 1) for part in value.split(",") if part)


def service(service_id):
    if service_id not in REGISTRATIONS:
        raise AwsError("ServiceNotFound", "service %s does not exist" % service_id)
    return REGISTRATIONS[service_id]


def group(name):
    for g in WORLD["groups"]:
        if g["name"] == name:
            return g
    raise AwsError("ValidationError", "group %s not found" % name)


def pending_action(params):
    g = group(params["auto-scaling-group-name"])
    if params["lifecycle-hook-name"] not in [h["name"] for h in g["hooks"]]:
        raise AwsError("ValidationError", "No Lifecycle Hook found with name %s for group %s" % (params["lifecycle-hook-name"], g["name"]))
    i = instances().get(params["instance-id"])
    if not i or i["group"] != g["name"] or i["lifecycleState"] != "Terminating:Wait":
        raise AwsError("ValidationError", "No active Lifecycle Action found with instance ID %s" % params["instance-id"])
    return g


def call(peer, svc, op, params):
    """One API call; returns the response as AWS's JSON shape."""
    key = "%s %s" % (svc, op)
    if key == "s3api head-object":
        need(params, "bucket", "key")
        versions = OBJECTS.get((params["bucket"], params["key"]))
        if not versions:
            raise AwsError("404", "Not Found", 404)
        version, path = versions[-1]
        return {"ContentLength": os.path.getsize(path), "VersionId": version}
    if key == "ssm get-parameter":
        need(params, "name")
        value = WORLD["parameters"].get(params["name"])
        if value is None:
            raise AwsError("ParameterNotFound", "", 400)
        if not params.get("with-decryption"):
            value = base64.b64encode(secrets.token_bytes(48)).decode()
        return {"Parameter": {"Name": params["name"], "Type": "SecureString", "Value": value, "Version": 1}}
    if key == "servicediscovery register-instance":
        need(params, "service-id", "instance-id", "attributes")
        attributes = shorthand_map(params["attributes"])
        for a in ("AWS_INSTANCE_IPV4", "AWS_INSTANCE_PORT"):
            if a not in attributes:
                raise AwsError("InvalidInput", "an SRV service needs %s" % a)
        with LOCK:
            service(params["service-id"])[params["instance-id"]] = attributes
            write_json("registrations.json", REGISTRATIONS)
        return {"OperationId": secrets.token_hex(16)}
    if key == "servicediscovery deregister-instance":
        need(params, "service-id", "instance-id")
        with LOCK:
            if service(params["service-id"]).pop(params["instance-id"], None) is None:
                raise AwsError("InstanceNotFound", "instance %s is not registered" % params["instance-id"])
            write_json("registrations.json", REGISTRATIONS)
        return {"OperationId": secrets.token_hex(16)}
    if key == "servicediscovery list-instances":
        need(params, "service-id")
        with LOCK:
            registered = sorted(service(params["service-id"]).items())
        return {"Instances": [{"Id": i, "Attributes": a} for i, a in registered]}
    if key == "autoscaling describe-auto-scaling-groups":
        names = params.get("auto-scaling-group-names") or [g["name"] for g in WORLD["groups"]]
        names = names if isinstance(names, list) else [names]
        live = instances()
        return {
            "AutoScalingGroups": [
                {
                    "AutoScalingGroupName": g["name"],
                    "Instances": [
                        {"InstanceId": i, "LifecycleState": s["lifecycleState"], "HealthStatus": "Healthy"}
                        for i, s in sorted(live.items())
                        if s["group"] == g["name"] and s["lifecycleState"] != "Terminated"
                    ],
                }
                for g in WORLD["groups"]
                if g["name"] in names
            ]
        }
    if key in ("autoscaling record-lifecycle-action-heartbeat", "autoscaling complete-lifecycle-action"):
        need(params, "lifecycle-hook-name", "auto-scaling-group-name", "instance-id")
        g = pending_action(params)
        if op == "complete-lifecycle-action":
            need(params, "lifecycle-action-result")
            if params["lifecycle-action-result"] not in ("CONTINUE", "ABANDON"):
                raise AwsError("ValidationError", "LifecycleActionResult must be CONTINUE or ABANDON")
        with LOCK:
            LIFECYCLE.append(
                {
                    "time": time.time(),
                    "group": g["name"],
                    "hook": params["lifecycle-hook-name"],
                    "instanceId": params["instance-id"],
                    "action": "heartbeat" if op == "record-lifecycle-action-heartbeat" else "complete",
                    "result": params.get("lifecycle-action-result"),
                }
            )
            write_json("lifecycle.json", LIFECYCLE)
        return {}
    if key == "autoscaling set-instance-health":
        need(params, "instance-id", "health-status")
        return {}
    if key == "cloudwatch put-metric-data":
        need(params, "namespace")
        return {}
    raise AwsError("NotPlayedByStandin", "the rehearsal's AWS stand-in does not play %s" % key)


def logged_params(params):
    """What calls.log keeps of a call: every parameter but a value that may be secret."""
    return {k: ("[not logged]" if k in ("value", "secret-string") else v) for k, v in params.items()}


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, *args):
        pass


class Api(Quiet):
    """The APIs, as aws_cli.py asks for them: POST /call (JSON), GET and PUT /s3/<bucket>/<key>."""

    def do_POST(self):
        peer = self.client_address[0]
        try:
            req = json.loads(self.body())
            svc, op, params = req["service"], req["operation"], req["params"]
            log_call(peer, "%s %s" % (svc, op), logged_params(params))
            self.reply(200, json.dumps(call(peer, svc, op, params)))
        except AwsError as e:
            self.reply(e.status, json.dumps({"Code": e.code, "Message": e.message}))
        except (ValueError, KeyError) as e:
            self.reply(400, json.dumps({"Code": "BadRequest", "Message": str(e)}))

    def s3_target(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split("/", 3)
        query = urllib.parse.parse_qs(url.query)
        return urllib.parse.unquote(parts[2]), urllib.parse.unquote(parts[3]), query.get("versionId", [None])[0]

    def do_GET(self):
        peer = self.client_address[0]
        bucket, key, version = self.s3_target()
        log_call(peer, "s3 get-object", {"bucket": bucket, "key": key, "version-id": version})
        versions = OBJECTS.get((bucket, key), [])
        match = [p for v, p in versions if version in (None, v)]
        if not match:
            code = "NoSuchVersion" if versions else "NoSuchKey"
            return self.reply(404, json.dumps({"Code": code, "Message": "s3://%s/%s%s" % (bucket, key, " version %s" % version if version else "")}))
        path = match[-1]
        with open(path, "rb") as f:
            data = f.read()
        v = [v for v, p in versions if p == path][0]
        self.reply(200, data, "application/octet-stream", {"X-Standin-Meta": json.dumps({"VersionId": v, "ContentLength": len(data)})})

    def do_PUT(self):
        peer = self.client_address[0]
        bucket, key, _ = self.s3_target()
        log_call(peer, "s3 put-object", {"bucket": bucket, "key": key})
        if bucket not in WORLD["buckets"]:
            return self.reply(404, json.dumps({"Code": "NoSuchBucket", "Message": bucket}))
        data = self.body()
        version = secrets.token_hex(16)
        os.makedirs(os.path.join(STATE, "s3"), exist_ok=True)
        path = os.path.join(STATE, "s3", version)
        with open(path, "wb") as f:
            f.write(data)
        with LOCK:
            OBJECTS.setdefault((bucket, key), []).append((version, path))
        self.reply(200, json.dumps({"VersionId": version}))


class Imds(Quiet):
    """IMDSv2: PUT /latest/api/token, then GETs that carry the token (tokens are per instance)."""

    def do_PUT(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        # Only the instances the group launched are EC2 instances here: the fixed hosts stay what
        # the rehearsal makes them, hosts without a metadata service.
        if instance_at(self.client_address[0])[0] is None:
            return self.reply(404, "", "text/plain")
        if self.path != "/latest/api/token" or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "", "text/plain")
        token = secrets.token_urlsafe(32)
        with LOCK:
            TOKENS[token] = (self.client_address[0], time.time() + int(ttl))
        self.reply(200, token, "text/plain")

    def do_GET(self):
        peer = self.client_address[0]
        with LOCK:
            owner, expires = TOKENS.get(self.headers.get("X-aws-ec2-metadata-token", ""), (None, 0))
        if owner != peer or expires < time.time():
            return self.reply(401, "", "text/plain")
        instance_id, i = instance_at(peer)
        if not i:
            return self.reply(404, "", "text/plain")
        values = {
            "/latest/meta-data/instance-id": instance_id,
            "/latest/meta-data/local-ipv4": i["address"],
            "/latest/meta-data/autoscaling/target-lifecycle-state": i["targetLifecycleState"],
        }
        if self.path == "/latest/user-data":
            with open(os.path.join(STATE, i["userData"]), "rb") as f:
                return self.reply(200, f.read(), "application/octet-stream")
        if self.path not in values:
            return self.reply(404, "", "text/plain")
        self.reply(200, values[self.path], "text/plain")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    servers = [Server((WORLD["api"]["address"], WORLD["api"]["port"]), Api), Server((WORLD["imds"]["address"], WORLD["imds"]["port"]), Imds)]
    dns_ready = threading.Event()
    ttl = max([s["ttl"] for s in WORLD["services"]] or [10])

    def dns():
        try:
            dns_standin.serve(WORLD["dns"]["address"], WORLD["dns"]["port"], records, ttl, dns_ready.set)
        except OSError as e:
            print("aws stand-in: the resolver cannot listen on %(address)s:%(port)d: " % WORLD["dns"] + str(e), file=sys.stderr, flush=True)
            os._exit(1)

    threading.Thread(target=dns, daemon=True).start()
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    if not dns_ready.wait(30):
        sys.exit("aws stand-in: the resolver did not start")
    write_json("registrations.json", REGISTRATIONS)
    write_json("lifecycle.json", LIFECYCLE)
    with open(os.path.join(STATE, "ready"), "w") as f:
        f.write("%d\n" % os.getpid())
    print("aws stand-in: API %(address)s:%(port)d" % WORLD["api"], flush=True)
    while True:
        time.sleep(3600)


main()

#!/usr/bin/python3
# The rehearsal's stand-in for the AWS CLI (`aws`), installed as /usr/local/bin/aws on the test
# hosts that call AWS (the scaled instances, the fixed app host that publishes the build cache), so
# the host scripts run unchanged: it parses the command line as the CLI does for the calls plone-aws
# makes (s3api, s3 cp, ssm, servicediscovery, autoscaling, cloudwatch), sends each to the
# rehearsal's AWS stand-in (aws_standin.py, at the address in /etc/plone-aws-rehearsal/aws-endpoint
# or $PLONE_AWS_STANDIN_ENDPOINT), and prints the answer as the CLI would: --query (the JMESPath
# subset plone-aws uses: fields, [n] and [] projections), --output text or json, errors on stderr
# with the CLI's exit status 254.
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

ENDPOINT_FILE = "/etc/plone-aws-rehearsal/aws-endpoint"
# Options that take no value (the rest take the next word).
FLAGS = {"only-show-errors", "with-decryption", "no-with-decryption", "no-cli-pager", "no-paginate"}


def fail(message, status=254):
    sys.stderr.write(message + "\n")
    sys.exit(status)


def parse(argv):
    """(globals, service, operation, params, positional) as the CLI reads them."""
    options, positional, i = {}, [], 0
    while i < len(argv):
        word = argv[i]
        if word.startswith("--"):
            name = word[2:]
            if name in FLAGS or i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                options[name] = True
                i += 1
                continue
            # A list option takes every following word up to the next option.
            values = []
            i += 1
            while i < len(argv) and not argv[i].startswith("--") and (name.endswith("names") or not values):
                values.append(argv[i])
                i += 1
            options[name] = values if name.endswith("names") else values[0]
            continue
        positional.append(word)
        i += 1
    if len(positional) < 2:
        fail("usage: aws [options] <command> <subcommand> [parameters]", 252)
    globals_ = {k: options.pop(k) for k in ("region", "output", "query", "only-show-errors", "no-cli-pager") if k in options}
    return globals_, positional[0], positional[1], options, positional[2:]


def query(value, expression):
    """The JMESPath subset: a.b, a[0], a[] (a projection: what follows applies to each element)."""
    projected = False
    for segment in expression.split("."):
        name, _, rest = segment.partition("[")
        steps = [name] if name else []
        steps += ["[" + s for s in rest.split("[") if s] if rest else []
        for step in steps:
            apply = (lambda f: [x for x in (f(v) for v in value) if x is not None]) if projected else (lambda f: f(value))
            if step == "[]":
                flat = []
                for v in value if projected else [value]:
                    flat.extend(v or [])
                value, projected = flat, True
            elif step.startswith("["):
                n = int(step[1:-1])
                value = apply(lambda v: v[n] if isinstance(v, list) and -len(v) <= n < len(v) else None)
            else:
                value = apply(lambda v: v.get(step) if isinstance(v, dict) else None)
    return value


def text(value):
    if value is None:
        return "None"
    if isinstance(value, list):
        if all(not isinstance(v, (list, dict)) for v in value):
            return "\t".join(text(v) for v in value)
        return "\n".join(text(v) for v in value)
    if isinstance(value, dict):
        return "\t".join(text(v) for v in value.values())
    return str(value)


def request(method, path, data=None, headers=None):
    endpoint = os.environ.get("PLONE_AWS_STANDIN_ENDPOINT")  # tests on the machine; hosts have the file
    if not endpoint:
        with open(ENDPOINT_FILE) as f:
            endpoint = f.read().strip()
    req = urllib.request.Request(endpoint + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def pascal(operation):
    return "".join(p.capitalize() for p in operation.split("-"))


def error(operation, body):
    try:
        e = json.loads(body)
    except ValueError:
        e = {"Code": "Unknown", "Message": body.decode(errors="replace")}
    fail("\nAn error occurred (%s) when calling the %s operation: %s" % (e["Code"], pascal(operation), e["Message"]))


def s3_path(url):
    if not url.startswith("s3://"):
        fail("not an S3 URL: " + url, 252)
    bucket, _, key = url[5:].partition("/")
    return "/s3/%s/%s" % (urllib.parse.quote(bucket, safe=""), urllib.parse.quote(key, safe="/"))


def main():
    globals_, service, operation, params, positional = parse(sys.argv[1:])
    if not globals_.get("region"):
        fail("You must specify a region. You can also configure your region by running \"aws configure\".", 253)
    out = sys.stdout.buffer
    if (service, operation) == ("s3", "cp"):
        if len(positional) != 2:
            fail("usage: aws s3 cp <source> <target>", 252)
        source, target = positional
        if target.startswith("s3://"):
            data = sys.stdin.buffer.read() if source == "-" else open(source, "rb").read()
            status, body, _ = request("PUT", s3_path(target), data, {"Content-Type": "application/octet-stream"})
            if status != 200:
                error("PutObject", body)
            return
        status, body, _ = request("GET", s3_path(source))
        if status != 200:
            error("GetObject", body)
        if target == "-":
            out.write(body)
        else:
            with open(target, "wb") as f:
                f.write(body)
        return
    if (service, operation) == ("s3api", "get-object"):
        if len(positional) != 1:
            fail("aws s3api get-object: the output file is required", 252)
        path = "/s3/%s/%s" % (urllib.parse.quote(params.get("bucket", ""), safe=""), urllib.parse.quote(params.get("key", ""), safe="/"))
        if params.get("version-id"):
            path += "?versionId=" + urllib.parse.quote(params["version-id"], safe="")
        status, body, headers = request("GET", path)
        if status != 200:
            error(operation, body)
        with open(positional[0], "wb") as f:
            f.write(body)
        result = json.loads(headers.get("X-Standin-Meta", "{}"))
    else:
        payload = json.dumps({"service": service, "operation": operation, "region": globals_["region"], "params": params}).encode()
        status, body, _ = request("POST", "/call", payload, {"Content-Type": "application/json"})
        if status != 200:
            error(operation, body)
        result = json.loads(body)
    if "query" in globals_:
        result = query(result, globals_["query"])
    if globals_.get("output") == "text":
        out.write((text(result) + "\n").encode())
    elif result not in ({}, None) or "query" in globals_:
        out.write((json.dumps(result, indent=4) + "\n").encode())


main()

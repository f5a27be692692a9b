// plone-haproxy-agent: the small TCP service on every app host and volto host that haproxy's agent
// check asks whether a Zope client (or a Volto process) is in rotation. haproxy sends
// "<clientName>\n" ("volto2\n" for a Volto process); the agent answers from the
// rotation file the rolling restart writes: "drain" (no new requests, in-flight ones finish),
// "maint" (out entirely) or, when there is no file, "ready". Python 3 standard library only.
import type { RenderedFile } from "../context";
import { DEFAULT_FRONTEND_LAYOUT, FrontendLayout, rotationDir } from "../frontend/layout";

/** The agent's program name: the supervisor program and the file in PATHS.sbinDir. */
export const HAPROXY_AGENT = "plone-haproxy-agent";

export function renderHaproxyAgent(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `#!/usr/bin/python3
"""plone-haproxy-agent: answers haproxy's agent checks for the Zope clients and Volto processes of this host.

Managed by plone-aws; local edits are overwritten by the next \`pulumi up\`.

haproxy connects to this port and sends the client name ("client3\\n", "volto1\\n"). The answer comes from the
rotation file ${rotationDir(layout)}/<client>:
  no file               -> ready  (in rotation; also cancels an earlier drain or maint)
  file saying "maint"   -> maint  (out of rotation, health checks stop)
  any other file        -> drain  (no new requests; in-flight ones finish)
A name that is not a client name gets no answer, and so does a file that cannot be read: haproxy
then keeps the state it has. Every front end asks, so one file acts on all of them within 2 s.
"""
import argparse
import os
import re
import socketserver
import sys

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def answer(state_dir, name):
    if not NAME.match(name):
        return None
    try:
        with open(os.path.join(state_dir, name), encoding="ascii", errors="replace") as f:
            content = f.read(64).strip().lower()
    except FileNotFoundError:
        return "ready"
    except OSError as e:
        print(f"plone-haproxy-agent: cannot read the rotation file of {name}: {e}", file=sys.stderr, flush=True)
        return None
    return "maint" if content == "maint" else "drain"


class Handler(socketserver.StreamRequestHandler):
    timeout = 5

    def handle(self):
        try:
            line = self.rfile.readline(128)
            reply = answer(self.server.state_dir, line.decode("ascii", errors="replace").strip())
            if reply:
                self.wfile.write(reply.encode("ascii") + b"\\n")
        except Exception as e:  # a client that hangs up or sends garbage must not stop the agent
            print(f"plone-haproxy-agent: {self.client_address[0]}: {e!r}", file=sys.stderr, flush=True)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description="haproxy agent check for the Zope clients and Volto processes of this host")
    parser.add_argument("--bind", default=os.environ.get("PLONE_HAPROXY_AGENT_BIND", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PLONE_HAPROXY_AGENT_PORT", "${layout.ports.haproxyAgent}")))
    parser.add_argument("--state-dir", default=os.environ.get("PLONE_ROTATION_DIR", "${rotationDir(layout)}"))
    args = parser.parse_args()
    with Server((args.bind, args.port), Handler) as server:
        server.state_dir = args.state_dir
        server.serve_forever()


if __name__ == "__main__":
    main()
`;
}

/** The agent as a file of an app host. */
export function haproxyAgentFile(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): RenderedFile {
    return { path: `${layout.paths.sbinDir}/${HAPROXY_AGENT}`, content: renderHaproxyAgent(layout), mode: "0755", owner: "root", group: "root" };
}

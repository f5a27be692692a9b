#!/usr/bin/python3
"""A local SMTP server standing in for Amazon SES's SMTP endpoint (the daemon tests, the rehearsal).

It is not SES: it takes mail over STARTTLS (or TLS from the first byte with --implicit-tls), only
after AUTH PLAIN or LOGIN with the one user and password it was given, and appends every accepted
mail as one JSON line to --spool: the envelope sender and recipients, the user it authenticated
as, whether TLS was on, and the message text. The password comes from a file, never argv.
Needs Debian's python3-aiosmtpd.
"""
import argparse
import json
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Spool:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        auth = session.auth_data
        record = {
            "mailFrom": envelope.mail_from,
            "recipients": list(envelope.rcpt_tos),
            "user": auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None,
            "tls": session.ssl is not None,
            "data": envelope.content.decode("utf-8", "replace") if isinstance(envelope.content, bytes) else envelope.content,
        }
        with self.lock, open(self.path, "a", encoding="utf-8") as spool:
            spool.write(json.dumps(record) + "\n")
        return "250 OK stand-in for Amazon SES: message accepted"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="PEM certificate chain the server presents")
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--spool", required=True, help="file every accepted mail is appended to (JSON lines)")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (SMTPS, as SES's port 465)")
    args = parser.parse_args()
    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().rstrip("\n")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    # SES refuses MAIL FROM before AUTH, and AUTH before TLS.
    options = dict(authenticator=authenticate, auth_required=True, auth_require_tls=True, server_hostname="smtp-standin")
    if args.implicit_tls:
        controller = Controller(Spool(args.spool), hostname=args.listen, port=args.port, ssl_context=context, **options)
    else:
        controller = Controller(Spool(args.spool), hostname=args.listen, port=args.port, tls_context=context, require_starttls=True, **options)
    controller.start()
    print(f"SMTP stand-in for Amazon SES on {args.listen}:{args.port} ({'TLS' if args.implicit_tls else 'STARTTLS'}, AUTH as {args.user})", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()

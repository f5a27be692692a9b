# A stand-in for the DNS that AWS Cloud Map answers through the VPC resolver: SRV records of
# discovery services and the A records of their targets. Used two ways:
#   python3 dns_standin.py PORT RECORDS.json [ADDRESS [TTL]]
#     (the daemon tests) records read from the JSON file at every query, so a test adds and
#     removes instances by rewriting it; ADDRESS defaults to 127.0.0.1, TTL to 1 second.
#     RECORDS.json: {"<srv name>": [{"target": "<host name>", "address": "10.0.0.5", "port": 8081}, ...]}
#   import dns_standin; dns_standin.serve(address, port, records, ttl)
#     (the rehearsal's AWS stand-in, aws_standin.py) records from a function it is given.
# A name with no record answers NOERROR without answers (the service exists, no instance is
# registered); any other name NXDOMAIN.
import json
import socket
import struct
import sys


def encode_name(name):
    return b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"


def decode_name(data, offset):
    labels = []
    while data[offset] != 0:
        length = data[offset]
        labels.append(data[offset + 1 : offset + 1 + length].decode())
        offset += 1 + length
    return ".".join(labels).lower(), offset + 1


def record(name, rtype, rdata, ttl):
    return encode_name(name) + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer(query, records, ttl):
    qid, flags = struct.unpack(">HH", query[:4])
    name, end = decode_name(query, 12)
    qtype, _ = struct.unpack(">HH", query[end : end + 4])
    question = query[12 : end + 4]
    answers, additional, known = [], [], name in records
    if qtype == 33 and known:
        for r in records[name]:
            answers.append(record(name, 33, struct.pack(">HHH", 1, 1, r["port"]) + encode_name(r["target"]), ttl))
            additional.append(record(r["target"], 1, socket.inet_aton(r["address"]), ttl))
    elif qtype == 1:
        for entries in records.values():
            for r in entries:
                if r["target"].lower() == name:
                    known = True
                    answers.append(record(name, 1, socket.inet_aton(r["address"]), ttl))
    rcode = 0 if known else 3
    header = struct.pack(">HHHHHH", qid, 0x8400 | (flags & 0x0100) | 0x0080 | rcode, 1, len(answers), 0, len(additional))
    return header + question + b"".join(answers) + b"".join(additional)


def serve(address, port, records, ttl, ready=None):
    """Answers queries on address:port with records() (a dict: name -> entries), forever."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    if ready:
        ready()
    while True:
        query, peer = sock.recvfrom(4096)
        current = {k.lower(): v for k, v in records().items()}
        try:
            sock.sendto(answer(query, current, ttl), peer)
        except (IndexError, struct.error):
            pass


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    address = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    ttl = int(sys.argv[4]) if len(sys.argv) > 4 else 1

    def from_file():
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    serve(address, port, from_file, ttl, ready=lambda: print("dns stand-in on %s:%d" % (address, port), flush=True))


if __name__ == "__main__":
    main()

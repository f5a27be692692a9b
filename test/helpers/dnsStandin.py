# A stand-in for the DNS that AWS Cloud Map answers through the VPC resolver (tests only): SRV
# records of discovery services and the A records of their targets, read from a JSON file at every
# query, so a test adds and removes instances by rewriting the file.
#   python3 dnsStandin.py PORT RECORDS.json
#   RECORDS.json: {"<srv name>": [{"target": "<host name>", "address": "127.0.0.1", "port": 8081}, ...]}
# A name in the file with no record answers NOERROR without answers (the service exists, no
# instance is registered); any other name NXDOMAIN.
import json
import socket
import struct
import sys

TTL = 1


def encode_name(name):
    return b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"


def decode_name(data, offset):
    labels = []
    while data[offset] != 0:
        length = data[offset]
        labels.append(data[offset + 1 : offset + 1 + length].decode())
        offset += 1 + length
    return ".".join(labels).lower(), offset + 1


def record(name, rtype, rdata):
    return encode_name(name) + struct.pack(">HHIH", rtype, 1, TTL, len(rdata)) + rdata


def answer(query, records):
    qid, flags = struct.unpack(">HH", query[:4])
    name, end = decode_name(query, 12)
    qtype, _ = struct.unpack(">HH", query[end : end + 4])
    question = query[12 : end + 4]
    answers, additional, known = [], [], name in records
    if qtype == 33 and known:
        for r in records[name]:
            answers.append(record(name, 33, struct.pack(">HHH", 1, 1, r["port"]) + encode_name(r["target"])))
            additional.append(record(r["target"], 1, socket.inet_aton(r["address"])))
    elif qtype == 1:
        for entries in records.values():
            for r in entries:
                if r["target"].lower() == name:
                    known = True
                    answers.append(record(name, 1, socket.inet_aton(r["address"])))
    rcode = 0 if known else 3
    header = struct.pack(">HHHHHH", qid, 0x8400 | (flags & 0x0100) | 0x0080 | rcode, 1, len(answers), 0, len(additional))
    return header + question + b"".join(answers) + b"".join(additional)


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    print("dns stand-in on 127.0.0.1:%d" % port, flush=True)
    while True:
        query, peer = sock.recvfrom(4096)
        try:
            with open(path) as f:
                records = {k.lower(): v for k, v in json.load(f).items()}
        except (OSError, ValueError):
            records = {}
        try:
            sock.sendto(answer(query, records), peer)
        except (IndexError, struct.error):
            pass


main()

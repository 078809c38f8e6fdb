#!/usr/bin/env python3
"""webhook_receiver.py: a scriptable webhook receiver for feedd's tests
(stdlib only). It checks Standard Webhooks signatures on its own, with the
spec's algorithm, so a test compares feedd against an independent reading.

It listens on 127.0.0.1 (a free port unless --port is given), prints one
line "PORT <n>" on stdout (and writes the number to --port-file), then
serves until it is killed or, with --exit-on-eof, until its stdin closes.

    python3 webhook_receiver.py [--port N] [--bind ADDR] [--port-file F]
        [--log F.jsonl] [--secret-file F | --secret whsec_...]
        [--tolerance SEC] [--respond SPEC]... [--exit-on-eof]

Secret: the same file format as feedd's secret-file=: "whsec_" + base64
is decoded, anything else is the key bytes as they are; trailing CR/LF are
ignored either way. Without a secret, sig_ok is null.

Answers. A SPEC is "STATUS" optionally followed by ":key=value" options:
    retry=N        Retry-After: N (delta seconds)
    retry-date=N   Retry-After: the HTTP date N seconds from now
    delay=SEC      sleep SEC (float) before answering (a slow receiver)
    size=N         a body of N bytes (default: a short text)
    location=PATH  Location: PATH (a redirect; no ':' in PATH)
e.g. "200", "500", "410", "429:retry=5", "503:retry-date=30",
"200:delay=3", "200:size=1000000". Several SPECs separated by commas form
a sequence: request k gets the k-th, the last one repeats ("500,200":
first 500, then 200 for ever). The sequence comes from the query parameter
respond= of the request's URL (one sequence per distinct URL), else from
the --respond options (in order), else "200".

Log. Every request except GET /_/... is appended to --log as one JSON
line, before it is answered (so a client that timed out is still seen):
    {"t": arrival (Unix float), "method", "path" (with query),
     "headers": {lower-case name: value}, "body": text (UTF-8, errors
     replaced), "body_len", "sig_ok": true/false/null, "ts_ok": true/false
     (webhook-timestamp within --tolerance, default 300 s), "status": the
     status answered}
GET /_/requests answers the same records as a JSON list.
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def load_secret(text=None, path=None):
    """The key bytes, read the way feedd reads a secret file."""
    if path is not None:
        with open(path, "rb") as f:
            raw = f.read()
    else:
        raw = text.encode()
    raw = raw.rstrip(b"\r\n")
    if raw.startswith(b"whsec_"):
        return base64.b64decode(raw[len(b"whsec_"):], validate=True)
    return raw


def verify(key, headers, body, tolerance):
    """(sig_ok, ts_ok) for one request, by the Standard Webhooks spec:
    HMAC-SHA256 over "<id>.<timestamp>.<body>", base64, compared with every
    space-separated "v1,<sig>" in webhook-signature."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    ts_ok = False
    try:
        ts_ok = abs(time.time() - int(ts)) <= tolerance
    except (TypeError, ValueError):
        pass
    if key is None:
        return None, ts_ok
    sigs = headers.get("webhook-signature", "")
    if msg_id is None or ts is None:
        return False, ts_ok
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for s in sigs.split(" "):
        version, _, value = s.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), want):
            return True, ts_ok
    return False, ts_ok


def parse_spec(item):
    parts = item.strip().split(":")
    spec = {"status": int(parts[0])}
    for opt in parts[1:]:
        k, _, v = opt.partition("=")
        spec[k] = v
    return spec


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.key = None
        if args.secret_file:
            self.key = load_secret(path=args.secret_file)
        elif args.secret:
            self.key = load_secret(text=args.secret)
        self.tolerance = args.tolerance
        self.default = ",".join(args.respond) if args.respond else "200"
        self.counts = {}       # URL -> requests answered so far
        self.records = []
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def next_spec(self, path):
        q = parse_qs(urlsplit(path).query)
        seq = q["respond"][0] if "respond" in q else self.default
        items = [s for s in seq.split(",") if s.strip()] or ["200"]
        with self.lock:
            k = self.counts.get(path, 0)
            self.counts[path] = k + 1
        return parse_spec(items[min(k, len(items) - 1)])

    def record(self, rec):
        with self.lock:
            self.records.append(rec)
            if self.log:
                self.log.write(json.dumps(rec) + "\n")
                self.log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webhook_receiver"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("webhook_receiver: " + fmt % args + "\n")

    def answer(self, status, body, extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def handle_any(self):
        st = self.server.state
        t = time.time()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        if self.command == "GET" and self.path.startswith("/_/"):
            if self.path == "/_/requests":
                with st.lock:
                    data = json.dumps(st.records).encode()
                self.answer(200, data)
            else:
                self.answer(404, b"no such control endpoint\n")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            spec = st.next_spec(self.path)
        except ValueError:
            spec = {"status": 400}
        sig_ok, ts_ok = verify(st.key, headers, body, st.tolerance)
        st.record({
            "t": t, "method": self.command, "path": self.path,
            "headers": headers, "body": body.decode("utf-8", "replace"),
            "body_len": len(body), "sig_ok": sig_ok, "ts_ok": ts_ok,
            "status": spec["status"],
        })
        if "delay" in spec:
            time.sleep(float(spec["delay"]))
        extra = []
        if "retry" in spec:
            extra.append(("Retry-After", spec["retry"]))
        if "retry-date" in spec:
            when = time.time() + float(spec["retry-date"])
            extra.append(("Retry-After",
                          email.utils.formatdate(when, usegmt=True)))
        if "location" in spec:
            extra.append(("Location", spec["location"]))
        if "size" in spec:
            out = b"x" * int(spec["size"])
        else:
            out = b"status %d\n" % spec["status"]
        self.answer(spec["status"], out, extra)

    do_POST = do_GET = do_PUT = handle_any


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--secret-file")
    ap.add_argument("--secret")
    ap.add_argument("--tolerance", type=float, default=300)
    ap.add_argument("--respond", action="append", default=[])
    ap.add_argument("--exit-on-eof", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    srv = ThreadingHTTPServer((args.bind, args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    srv.verbose = args.verbose
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()
    if args.exit_on_eof:
        def watch():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            finally:
                os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""feedserver.py: a scriptable HTTP/1.1 server for feedd's tests (stdlib only).

It listens on 127.0.0.1 (a free port unless --port is given), prints one line
"PORT <n>" on stdout, then serves until it is killed or, with --exit-on-eof,
until its stdin is closed (so it never outlives a crashed test).

    python3 feedserver.py [--root DIR] [--routes FILE.json] [--port N]
                          [--bind ADDR] [--exit-on-eof] [--verbose]
                          [--tls | --tls-cert CERT --tls-key KEY]
                          [--connect-status N]

--tls serves HTTPS with a throw-away self-signed certificate for 127.0.0.1
and localhost (made with the openssl command; a client that verifies
certificates must refuse it); --tls-cert/--tls-key use the given ones.

--connect-status N makes it a proxy that refuses tunnels: a CONNECT request
is recorded (its "path" is the HOST:PORT asked for) and answered with status
N and no tunnel. Without it CONNECT gets 501, as any unknown method. A
request for an absolute URL (what a client sends a plain HTTP proxy) is
answered as its path, so route and query specs work through "the proxy".

Used by tests/unit/test_fetch.c (through tests/support/feedserver.c) and meant
for the daemon's end-to-end and hostile-input tests.

How a request is answered, first match wins:

1. Control endpoints under /_/ (never recorded):
   GET  /_/requests   JSON list of the requests received so far, oldest
                      first: {"method", "path" (with query), "headers"
                      (lower-case name -> value, exactly as received),
                      "t" (Unix time of arrival, float)}
   GET  /_/stats      JSON {"requests", "connections", "active_connections",
                      "max_connections", "active_requests", "max_requests"}:
                      max_* are the highest concurrency seen
   GET  /_/stat?name=N[&group=G]  one counter of /_/stats as plain text;
                      a request is active from its arrival until its
                      answer starts (delay=SEC widens that window);
                      with group, the counters of the requests that carried
                      group=G in their query ("requests", "active_requests",
                      "max_requests"), so leftovers of other tests (a
                      stalled response still sleeping) do not count
   GET  /_/header?path=P&name=H  plain text: header H (any case) of the
                      latest request whose path (with query) starts with P;
                      404 when there is none or it lacked H
   GET  /_/reset      clears the request log and the counters
   POST /_/routes     body: JSON {"/path": SPEC or null}; merged into the
                      route table (null deletes a route)
2. A route: the request path (without query) is a key of the route table
   (loaded from --routes, re-read when the file changes, plus POSTed ones).
   Query parameters are added on top of the route's SPEC.
3. Query parameters alone form the SPEC (any path, e.g. /x?status=500).
4. A static file under --root (ETag and Last-Modified sent; If-None-Match
   and If-Modified-Since answered with 304).
5. 404.

A SPEC is a JSON object or the query parameters (numbers as text; "h" may
repeat). Keys:
   status=N        status code (default 200; 302 with location/hops/loop)
   body=TEXT       the body;  size=N  N bytes of generated text instead;
   file=REL        a file under --root;  feed=N  an RSS 2.0 feed with N
                   items (format=atom for Atom 1.0; seed=S varies the text)
   type=MIME       Content-Type (default text/plain; feeds get theirs)
   h=Name:Value    an extra header (query: repeatable; JSON: "headers" list)
   etag=V, lm=V    send ETag / Last-Modified; a request whose If-None-Match
                   equals V, or whose If-Modified-Since equals the lm string
                   byte for byte, gets 304 with no body
   retry_after=V   Retry-After: V (seconds, or any text)
   retry_after_date=S  Retry-After as an HTTP date S seconds from now
   enc=gzip|deflate|rawdeflate  compress the body, set Content-Encoding
   chunked=1       Transfer-Encoding: chunked instead of Content-Length
   chunk=N         bytes per write (default 16384)
   trickle=SEC     sleep between writes
   delay=SEC       sleep before answering
   stall=SEC       after headers and the first write, sleep SEC
   reset=N         send N body bytes, then reset the connection (RST)
   cl=N            announce Content-Length N whatever the body is (a lie);
                   cl=none: neither Content-Length nor chunked, the body
                   ends when the server closes the connection
   bighdr=N        add about N bytes of X-Filler headers
   endless=1       a chunked body that never ends
   bomb=N          a gzip body that decodes to N zero bytes
   location=URL    redirect there (status default 302)
   hops=C1,C2,...  redirect with status C1 to this same URL minus C1 in
                   hops; when hops is empty, serve the rest of the SPEC
   loop=1          redirect to this very URL, forever
   close=1         Connection: close
"""
import argparse
import email.utils
import gzip
import http.server
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import sys
import threading
import time
import urllib.parse
import zlib

LOCK = threading.Lock()
STATE = {
    "requests": [],
    "stats": dict(requests=0, connections=0, active_connections=0,
                  max_connections=0, active_requests=0, max_requests=0),
    "groups": {},
    "routes": {},
    "file_routes": {},
    "routes_mtime": None,
}
ARGS = None
BOMBS = {}
MAX_LOG = 20000


def stat_add(name, delta, group=None):
    with LOCK:
        tables = [STATE["stats"]]
        if group is not None:
            g = STATE["groups"].setdefault(
                group, dict(requests=0, active_requests=0, max_requests=0))
            if delta > 0:
                g["requests"] += 1
            tables.append(g)
        for s in tables:
            s[name] += delta
            if name.startswith("active_"):
                peak = "max_" + name[len("active_"):]
                if s[name] > s[peak]:
                    s[peak] = s[name]


def load_file_routes():
    if not ARGS.routes:
        return
    try:
        m = os.stat(ARGS.routes).st_mtime_ns
    except OSError:
        return
    if m != STATE["routes_mtime"]:
        with open(ARGS.routes, encoding="utf-8") as f:
            STATE["file_routes"] = json.load(f)
        STATE["routes_mtime"] = m


def gen_text(n, seed=""):
    line = ("feedd test body %s " % seed).encode() + bytes(range(97, 123)) + b"\n"
    out = (line * (n // len(line) + 1))[:n]
    return out


def gen_feed(n, seed, fmt):
    now = email.utils.formatdate(usegmt=True)
    if fmt == "atom":
        items = "".join(
            "<entry><id>urn:test:%s:%d</id><title>Entry %d %s</title>"
            "<link href=\"http://example.com/%s/%d\"/>"
            "<updated>2024-01-%02dT00:00:00Z</updated>"
            "<content type=\"html\">&lt;p&gt;Body %d of %s&lt;/p&gt;</content>"
            "</entry>" % (seed, i, i, seed, seed, i, i % 28 + 1, i, seed)
            for i in range(n))
        doc = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
               "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Test %s</title>"
               "<id>urn:test:%s</id><updated>2024-01-01T00:00:00Z</updated>%s</feed>"
               % (seed, seed, items))
        return doc.encode(), "application/atom+xml; charset=utf-8"
    items = "".join(
        "<item><guid>urn:test:%s:%d</guid><title>Item %d %s</title>"
        "<link>http://example.com/%s/%d</link><pubDate>%s</pubDate>"
        "<description>&lt;p&gt;Body %d of %s&lt;/p&gt;</description></item>"
        % (seed, i, i, seed, seed, i, now, i, seed) for i in range(n))
    doc = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\">"
           "<channel><title>Test %s</title><link>http://example.com/</link>"
           "<description>test</description>%s</channel></rss>" % (seed, items))
    return doc.encode(), "application/rss+xml; charset=utf-8"


def gzip_bomb(n):
    if n not in BOMBS:
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = bytes(1 << 20)
        parts = []
        left = n
        while left > 0:
            k = min(left, len(block))
            parts.append(c.compress(block[:k]))
            left -= k
        parts.append(c.flush())
        BOMBS[n] = b"".join(parts)
    return BOMBS[n]


def compress(body, enc):
    if enc == "gzip":
        return gzip.compress(body)
    if enc == "deflate":
        return zlib.compress(body)
    if enc == "rawdeflate":
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(body) + c.flush()
    raise ValueError("unknown enc " + enc)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "feedserver/1"

    def log_message(self, fmt, *args):
        if ARGS.verbose:
            sys.stderr.write("feedserver: " + (fmt % args) + "\n")

    def setup(self):
        super().setup()
        stat_add("connections", 1)
        stat_add("active_connections", 1)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        stat_add("active_connections", -1)

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, BrokenPipeError, socket.timeout, OSError):
            pass

    # ---- helpers ----

    def send_json(self, obj, status=200):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self):
        with LOCK:
            STATE["stats"]["requests"] += 1
            log = STATE["requests"]
            log.append({"method": self.command, "path": self.path,
                        "t": time.time(),
                        "headers": {k.lower(): v for k, v in self.headers.items()}})
            if len(log) > MAX_LOG:
                del log[: len(log) - MAX_LOG]

    def send_text(self, text, status=200):
        data = text.encode("utf-8", "surrogateescape")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def control(self, path, query):
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        if path == "/_/stat":
            with LOCK:
                src = STATE["stats"]
                if "group" in q:
                    src = STATE["groups"].get(q["group"], {})
                v = src.get(q.get("name", ""), 0 if "group" in q else None)
            if v is None:
                self.send_text("no such counter\n", 404)
            else:
                self.send_text("%d\n" % v)
        elif path == "/_/header":
            prefix, name = q.get("path", ""), q.get("name", "").lower()
            found = None
            with LOCK:
                for r in reversed(STATE["requests"]):
                    if r["path"].startswith(prefix):
                        found = r["headers"].get(name)
                        break
            if found is None:
                self.send_text("", 404)
            else:
                self.send_text(found)
        elif path == "/_/requests":
            with LOCK:
                self.send_json(list(STATE["requests"]))
        elif path == "/_/stats":
            with LOCK:
                self.send_json(dict(STATE["stats"]))
        elif path == "/_/reset":
            with LOCK:
                STATE["requests"].clear()
                STATE["groups"].clear()
                s = STATE["stats"]
                for k in ("requests", "connections", "max_connections",
                          "max_requests"):
                    s[k] = 0
                s["max_connections"] = s["active_connections"]
                s["max_requests"] = s["active_requests"]
            self.send_json({"ok": True})
        else:
            self.send_json({"error": "no such control endpoint"}, 404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        path = urllib.parse.urlsplit(self.path).path
        if path != "/_/routes":
            self.send_json({"error": "POST only to /_/routes"}, 405)
            return
        try:
            routes = json.loads(data or b"{}")
        except ValueError as e:
            self.send_json({"error": str(e)}, 400)
            return
        with LOCK:
            for k, v in routes.items():
                if v is None:
                    STATE["routes"].pop(k, None)
                else:
                    STATE["routes"][k] = v
        self.send_json({"ok": True})

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_CONNECT(self):
        if ARGS.connect_status is None:
            self.send_error(501, "Unsupported method ('CONNECT')")
            return
        self.record()
        self.close_connection = True
        self.simple(ARGS.connect_status, b"no tunnel for you\n")

    def do_GET(self, head=False):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_/"):
            self.control(u.path, u.query)
            return
        self.record()
        self.group = urllib.parse.parse_qs(u.query).get("group", [None])[-1]
        self.active = True
        stat_add("active_requests", 1, self.group)
        try:
            self.answer(u, head)
        finally:
            self.leave()

    def leave(self):
        # A request stops counting as active when its answer starts: the
        # client cannot have finished it before, so the count never runs
        # ahead of the client's own idea of what is in flight.
        if getattr(self, "active", False):
            self.active = False
            stat_add("active_requests", -1, self.group)

    def send_response(self, code, message=None):
        self.leave()
        super().send_response(code, message)

    def spec_for(self, u):
        load_file_routes()
        spec = {}
        with LOCK:
            base = STATE["routes"].get(u.path) or STATE["file_routes"].get(u.path)
        if base:
            spec.update(base)
            spec["headers"] = list(base.get("headers", []))
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        for k, vals in q.items():
            if k == "h":
                spec.setdefault("headers", []).extend(vals)
            else:
                spec[k] = vals[-1]
        return spec, q

    def answer(self, u, head):
        spec, q = self.spec_for(u)
        num = lambda k, d=0: float(spec.get(k, d))
        if "delay" in spec:
            time.sleep(num("delay"))

        # Redirects.
        if "hops" in spec and spec["hops"] != "":
            hops = str(spec["hops"]).split(",")
            rest = [(k, v) for k, vals in q.items() for v in vals if k != "hops"]
            if len(hops) > 1:
                rest.append(("hops", ",".join(hops[1:])))
            loc = u.path + ("?" + urllib.parse.urlencode(rest) if rest else "")
            return self.redirect(int(hops[0]), loc)
        if spec.get("loop"):
            return self.redirect(int(spec.get("status", 302)), self.path)
        if "location" in spec:
            return self.redirect(int(spec.get("status", 302)), spec["location"])

        status = int(spec.get("status", 200))
        ctype = spec.get("type")
        body = b""
        etag, lm = spec.get("etag"), spec.get("lm")
        path_file = None
        if "body" in spec:
            body = str(spec["body"]).encode()
        elif "size" in spec:
            body = gen_text(int(num("size")), spec.get("seed", ""))
        elif "feed" in spec:
            body, t = gen_feed(int(num("feed")), spec.get("seed", "s"),
                               spec.get("format", "rss"))
            ctype = ctype or t
        elif "file" in spec or ARGS.root:
            rel = spec.get("file", u.path)
            path_file = safe_join(ARGS.root, rel) if ARGS.root else None
            if not path_file or not os.path.isfile(path_file):
                if "file" in spec or not spec:
                    return self.simple(404, b"not found\n")
                path_file = None
            else:
                with open(path_file, "rb") as f:
                    body = f.read()
                st = os.stat(path_file)
                etag = etag or '"%x-%x"' % (st.st_mtime_ns, st.st_size)
                lm = lm or email.utils.formatdate(st.st_mtime, usegmt=True)
                ctype = ctype or guess_type(path_file)
        elif not spec:
            return self.simple(404, b"not found\n")

        # Conditional GET: validators compared byte for byte.
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if status == 200 and ((etag and inm == etag) or
                              (lm and ims == lm and not (etag and inm))):
            self.send_response(304)
            if etag:
                self.send_header("ETag", etag)
            if lm:
                self.send_header("Last-Modified", lm)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return

        enc = spec.get("enc")
        if "bomb" in spec:
            body = gzip_bomb(int(num("bomb")))
            enc_hdr = "gzip"
        elif enc:
            body = compress(body, enc)
            enc_hdr = "deflate" if enc == "rawdeflate" else enc
        else:
            enc_hdr = None

        chunked = bool(spec.get("chunked")) or bool(spec.get("endless"))
        self.send_response(status)
        self.send_header("Content-Type", ctype or "text/plain; charset=utf-8")
        if enc_hdr:
            self.send_header("Content-Encoding", enc_hdr)
        if etag:
            self.send_header("ETag", etag)
        if lm:
            self.send_header("Last-Modified", lm)
        if "retry_after" in spec:
            self.send_header("Retry-After", str(spec["retry_after"]))
        if "retry_after_date" in spec:
            self.send_header("Retry-After", email.utils.formatdate(
                time.time() + num("retry_after_date"), usegmt=True))
        for h in spec.get("headers", []):
            name, _, value = h.partition(":")
            self.send_header(name.strip(), value.strip())
        if "bighdr" in spec:
            left, i = int(num("bighdr")), 0
            while left > 0:
                v = "x" * min(left, 1000)
                self.send_header("X-Filler-%d" % i, v)
                left -= len(v) + 16
                i += 1
        if spec.get("cl") == "none":
            chunked = False
            self.close_connection = True
            self.send_header("Connection", "close")
        elif "cl" in spec:
            self.send_header("Content-Length", str(int(num("cl"))))
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        if spec.get("close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head:
            return

        step = int(num("chunk", 16384)) or 16384
        trickle = num("trickle")
        stall = num("stall")
        reset = int(num("reset", -1))
        sent = 0

        def put(data):
            if chunked:
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            else:
                self.wfile.write(data)

        if spec.get("endless"):
            block = gen_text(step)
            while True:
                put(block)
                if trickle:
                    time.sleep(trickle)
        for off in range(0, len(body), step):
            piece = body[off:off + step]
            if reset >= 0 and sent + len(piece) >= reset:
                put(piece[: reset - sent])
                return self.reset_now()
            put(piece)
            sent += len(piece)
            if stall and off == 0:
                time.sleep(stall)
                stall = 0
            elif trickle:
                time.sleep(trickle)
        if reset >= 0:
            return self.reset_now()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        if "cl" in spec and spec["cl"] != "none":
            # A lying Content-Length: close so the client sees the end.
            self.close_connection = True

    def reset_now(self):
        self.wfile.flush()
        # Let the client read what was sent: a reset throws away data the
        # peer has not read yet, which would make the test a race.
        time.sleep(0.3)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def redirect(self, code, loc):
        self.send_response(code)
        self.send_header("Location", loc)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def simple(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def safe_join(root, rel):
    rel = urllib.parse.unquote(rel).lstrip("/")
    p = os.path.realpath(os.path.join(root, rel))
    r = os.path.realpath(root)
    return p if p == r or p.startswith(r + os.sep) else None


def guess_type(path):
    ext = os.path.splitext(path)[1].lower()
    return {".xml": "application/xml", ".rss": "application/rss+xml",
            ".atom": "application/atom+xml", ".json": "application/feed+json",
            ".html": "text/html; charset=utf-8"}.get(ext, "application/octet-stream")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root")
    ap.add_argument("--routes")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--exit-on-eof", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--connect-status", type=int)
    ARGS = ap.parse_args()
    load_file_routes()
    srv = Server((ARGS.bind, ARGS.port), Handler)
    if ARGS.tls or ARGS.tls_cert:
        cert, key = ARGS.tls_cert, ARGS.tls_key
        tmp = None
        if not cert:
            tmp = tempfile.mkdtemp(prefix="feedserver-tls.")
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-keyout", key, "-out", cert, "-days", "2",
                 "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if tmp:
            shutil.rmtree(tmp)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()
    if ARGS.exit_on_eof:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""hostile_server.py: an HTTP/1.1 server whose paths misbehave on purpose.

Python 3 standard library only. It listens on 127.0.0.1 (a free port), one
thread per connection, and answers each request with the handler its path
names. Everything is bounded: every slow or endless response stops after a
fixed time or byte count, or as soon as the client goes away, and stop()
ends the lot. Big documents (200,000 entries, a 10 MB title, a gzip bomb
that inflates to 1 GiB) are generated at start-up, never stored in the repo.

Used as a library by test_hostile.py and test_crash.py, which read the
request log (with arrival times) directly. Run alone it serves the hostile
paths for poking at by hand:

    python3 hostile_server.py          # prints "PORT <n>" and the paths
"""
import email.utils
import json
import os
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import zlib

MAX_HEAD = 64 * 1024       # request head we accept
MAX_LOG = 200000           # request log entries kept
MAX_CONNS = 128            # connections served at once; more are closed
LONG_LIMIT_S = 60.0        # no response lasts longer than this


class Request:
    def __init__(self, method, target, headers, conn_id):
        self.method = method
        self.target = target
        u = urllib.parse.urlsplit(target)
        self.path = u.path
        self.query = urllib.parse.parse_qs(u.query)
        self.raw_query = u.query
        self.headers = headers          # lower-case name -> value
        self.conn_id = conn_id
        self.t = time.monotonic()
        self.wall = time.time()
        self.extra = {}                 # handlers note what they served

    def as_dict(self):
        return dict(t=self.t, wall=self.wall, method=self.method,
                    path=self.path, query=self.raw_query,
                    headers=self.headers, conn=self.conn_id, **self.extra)


class Conn:
    """The client socket, with helpers that never block for long."""

    def __init__(self, sock, server):
        self.sock = sock
        self.server = server

    def send(self, data):
        self.sock.sendall(data)

    def sleep(self, s):
        """Sleep, but return False at once when the server stops."""
        return not self.server.stopping.wait(s)

    def wait_closed(self, limit):
        """Wait until the client closes (or resets) the connection, at most
        limit seconds; returns whether it did."""
        t_end = time.monotonic() + limit
        while not self.server.stopping.is_set():
            left = t_end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], min(left, 0.1))
            if r:
                try:
                    if not self.sock.recv(65536):
                        return True
                except OSError:
                    return True
        return False

    def reset(self):
        """Close with RST instead of FIN (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()


def http_date(t=None):
    return email.utils.formatdate(t, usegmt=True)


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def head_bytes(status, headers, reason=None):
    reasons = {200: "OK", 301: "Moved Permanently", 302: "Found",
               304: "Not Modified", 404: "Not Found", 429: "Too Many Requests",
               500: "Internal Server Error", 503: "Service Unavailable"}
    lines = ["HTTP/1.1 %d %s" % (status, reason or reasons.get(status, "X"))]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(conn, status, body=b"", ctype="application/rss+xml; charset=utf-8",
            headers=(), close=False):
    """A complete, honest response. Returns whether to keep the connection."""
    h = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
    h += list(headers)
    if close:
        h.append(("Connection", "close"))
    conn.send(head_bytes(status, h) + body)
    return not close


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server.owner
        sock = self.request
        if not srv.slots.acquire(blocking=False):
            sock.close()
            return
        try:
            with srv.lock:
                srv.nconns += 1
                conn_id = srv.nconns
            sock.settimeout(20)
            conn = Conn(sock, srv)
            buf = b""
            while not srv.stopping.is_set():
                while b"\r\n\r\n" not in buf:
                    if len(buf) > MAX_HEAD:
                        return
                    data = sock.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    return
                hdrs = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                req = Request(parts[0], parts[1], hdrs, conn_id)
                if not srv.route(req, conn):
                    return
        except (OSError, ValueError):
            pass
        finally:
            srv.slots.release()
            try:
                sock.close()
            except OSError:
                pass


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Server:
    """Routes: {path: handler(server, req, conn) -> keep_alive}."""

    def __init__(self, routes=None):
        self.routes = dict(routes or {})
        self.lock = threading.Lock()
        self.log = []
        self.nconns = 0
        self.stopping = threading.Event()
        self.slots = threading.BoundedSemaphore(MAX_CONNS)
        self.tcp = _TCPServer(("127.0.0.1", 0), _Handler)
        self.tcp.owner = self
        self.port = self.tcp.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.tcp.serve_forever,
                                       kwargs=dict(poll_interval=0.1),
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.tcp.shutdown()
        self.tcp.server_close()

    def url(self, path):
        return self.base + path

    def route(self, req, conn):
        h = self.routes.get(req.path)
        with self.lock:
            if len(self.log) < MAX_LOG:
                self.log.append(req)
        if h is None:
            return respond(conn, 404, b"not found\n", "text/plain")
        return h(self, req, conn)

    def requests(self, path=None):
        with self.lock:
            reqs = list(self.log)
        if path is None:
            return reqs
        return [r for r in reqs if r.path == path]


class Trap:
    """A TCP port that only counts connections (the target of ftp:// and
    other redirects that must never be followed)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            c.close()

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=2)
        self.sock.close()


# --- documents ---------------------------------------------------------------

def rss_doc(title, items, extra_channel="", decl=True):
    """items: dicts with guid, title, link, date (unix), desc (raw XML)."""
    out = []
    if decl:
        out.append('<?xml version="1.0" encoding="utf-8"?>\n')
    out.append('<rss version="2.0"><channel><title>%s</title>'
               '<link>http://example.com/</link><description>d</description>%s'
               % (title, extra_channel))
    for it in items:
        out.append("<item><guid isPermaLink=\"false\">%s</guid><title>%s</title>"
                   "<link>%s</link><pubDate>%s</pubDate>"
                   "<description>%s</description></item>"
                   % (it["guid"], it["title"], it["link"],
                      http_date(it["date"]), it.get("desc", "")))
    out.append("</channel></rss>\n")
    return "".join(out)


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class GoodFeed:
    """A well-behaved feed that grows over time: entry k appears at
    t0 + k * period; the document holds the newest `keep` entries."""

    def __init__(self, name, fmt, period, t0, keep=15):
        self.name, self.fmt, self.period, self.t0 = name, fmt, period, t0
        self.keep = keep

    def entries(self, now=None):
        now = time.time() if now is None else now
        last = int((now - self.t0) // self.period)
        return [self.entry(k) for k in range(max(0, last - self.keep + 1),
                                              last + 1)]

    def entry(self, k):
        return dict(k=k, guid="urn:good:%s:%d" % (self.name, k),
                    title="%s entry %d \u2014 caf\u00e9 \u2615" % (self.name, k),
                    link="http://example.com/%s/%d" % (self.name, k),
                    date=self.t0 + k * self.period,
                    text="Body of %s number %d." % (self.name, k))

    def render(self, now=None):
        es = self.entries(now)
        if self.fmt == "atom":
            body = ['<?xml version="1.0" encoding="utf-8"?>'
                    '<feed xmlns="http://www.w3.org/2005/Atom">'
                    '<title>%s</title><id>urn:good:%s</id>'
                    '<updated>%s</updated>' % (self.name, self.name,
                                               rfc3339(time.time()))]
            for e in es:
                body.append('<entry><id>%s</id><title>%s</title>'
                            '<link href="%s"/><updated>%s</updated>'
                            '<content type="html">&lt;p&gt;%s&lt;/p&gt;</content>'
                            '</entry>' % (e["guid"], xml_escape(e["title"]),
                                          e["link"], rfc3339(e["date"]),
                                          xml_escape(e["text"])))
            body.append("</feed>")
            return "".join(body).encode(), "application/atom+xml; charset=utf-8"
        if self.fmt == "json":
            doc = {"version": "https://jsonfeed.org/version/1.1",
                   "title": self.name, "items": [
                       {"id": e["guid"], "title": e["title"], "url": e["link"],
                        "date_published": rfc3339(e["date"]),
                        "content_text": e["text"]} for e in es]}
            return json.dumps(doc).encode(), "application/feed+json"
        items = [dict(guid=e["guid"], title=xml_escape(e["title"]),
                      link=e["link"], date=e["date"],
                      desc="&lt;p&gt;%s&lt;/p&gt;" % xml_escape(e["text"]))
                 for e in es]
        return (rss_doc(self.name, items).encode(),
                "application/rss+xml; charset=utf-8")


def good_handler(feed, conditional=False):
    def h(srv, req, conn):
        body, ctype = feed.render()
        es = feed.entries()
        req.extra["guids"] = [e["guid"] for e in es]
        headers = []
        if conditional:
            etag = '"%s-%d"' % (feed.name, es[-1]["k"] if es else -1)
            headers.append(("ETag", etag))
            if req.headers.get("if-none-match") == etag:
                req.extra["status"] = 304
                conn.send(head_bytes(304, [("ETag", etag),
                                           ("Content-Length", "0")]))
                return True
        req.extra["status"] = 200
        return respond(conn, 200, body, ctype, headers)
    return h


class Docs:
    """The big hostile documents, generated once (lazily, thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cache = {}

    def get(self, name, make):
        with self.lock:
            if name not in self.cache:
                self.cache[name] = make()
            return self.cache[name]


DOCS = Docs()
FEED_PREFIX = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
               b'<channel><title>')


def gzip_bomb(inflated_mib=1024):
    """A valid gzip stream that inflates to FEED_PREFIX + N MiB of 'A':
    one 1 MiB deflate block, ended by a full flush so it is independent of
    what came before, repeated; about 1 MB on the wire per GiB."""
    blk = b"A" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(FEED_PREFIX) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(blk) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(FEED_PREFIX)
    for _ in range(inflated_mib):
        crc = zlib.crc32(blk, crc)
    size = len(FEED_PREFIX) + inflated_mib * len(blk)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head +
            block * inflated_mib + tail +
            struct.pack("<II", crc & 0xffffffff, size & 0xffffffff))


def many_entries(n=200000):
    parts = [b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
             b'<channel><title>many</title><link>http://example.com/</link>'
             b'<description>d</description>']
    parts += [b"<item><guid>m%d</guid><title>t%d</title></item>" % (i, i)
              for i in range(n)]
    parts.append(b"</channel></rss>\n")
    return b"".join(parts)


def big_title(nbytes=10 * 1024 * 1024):
    title = (b"Big title " * (nbytes // 10 + 1))[:nbytes]
    return (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
            b'<channel><title>big title</title>'
            b'<link>http://example.com/</link><description>d</description>'
            b'<item><guid>big-1</guid><title>' + title + b'</title>'
            b'<link>http://example.com/big/1</link></item>'
            b'<item><guid>big-2</guid><title>small after big</title>'
            b'<link>http://example.com/big/2</link></item>'
            b'</channel></rss>\n')


def nested(depth=100000):
    return (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
            b'<channel><title>nested</title><item><guid>nest-1</guid>'
            b'<title>before the nesting</title></item>' +
            b"<x>" * depth + b"deep" + b"</x>" * depth +
            b'<item><guid>nest-2</guid><title>after the nesting</title></item>'
            b'</channel></rss>\n')


def billion_laughs():
    ents = ['<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        ents.append('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10))
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n%s\n]>\n'
            '<rss version="2.0"><channel><title>&lol9;</title>'
            '<item><guid>laugh-1</guid><title>&lol9;</title>'
            '<description>&lol9;&lol9;</description></item>'
            '</channel></rss>\n' % "\n".join(ents)).encode()


def quadratic_blowup():
    """One 100 KB entity referenced 20,000 times (2 GB if expanded)."""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n'
            '<!ENTITY a "%s">\n]>\n<rss version="2.0"><channel><title>q</title>'
            '<item><guid>quad-1</guid><title>quad</title><description>%s'
            '</description></item></channel></rss>\n'
            % ("a" * 100000, "&a;" * 20000)).encode()


def xxe_file(secret_path):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n'
            '<!ENTITY passwd SYSTEM "file:///etc/passwd">\n'
            '<!ENTITY secret SYSTEM "file://%s">\n'
            '<!ENTITY secret2 SYSTEM "%s">\n'
            ']>\n<rss version="2.0" xmlns:xi="http://www.w3.org/2001/XInclude">'
            '<channel><title>XXE file &passwd;</title>'
            '<item><guid>xxe-file-1</guid><title>A &passwd; B</title>'
            '<description>&secret;</description></item>'
            '<item><guid>xxe-file-2</guid><title>C &secret2; D</title>'
            '<description><xi:include href="file://%s" parse="text"/>'
            '</description></item>'
            '</channel></rss>\n' % (secret_path, secret_path, secret_path)
            ).encode()


def xxe_url(base):
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n'
            '<!ENTITY secret SYSTEM "%s/secret">\n'
            '<!ENTITY %% pe SYSTEM "%s/secret-dtd">\n%%pe;\n'
            ']>\n<rss version="2.0"><channel><title>XXE url &secret;</title>'
            '<item><guid>xxe-url-1</guid><title>A &secret; B</title>'
            '<description>&secret;</description></item>'
            '</channel></rss>\n' % (base, base)).encode()


def xxe_dtd(base):
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<!DOCTYPE rss SYSTEM "%s/secret-dtd">\n'
            '<rss version="2.0"><channel><title>XXE dtd &secretent;</title>'
            '<item><guid>xxe-dtd-1</guid><title>A &secretent; B</title></item>'
            '</channel></rss>\n' % base).encode()


UTF16_TITLES = ["\u00dcn\u00efc\u00f6d\u00e9 \u2603 one",
                "\u65e5\u672c\u8a9e two",
                "emoji \U0001F600 three"]


def utf16_doc(codec):
    items = [dict(guid="utf16-%d" % i, title=t, link="http://example.com/u/%d" % i,
                  date=1700000000 + i) for i, t in enumerate(UTF16_TITLES)]
    text = rss_doc("UTF-16 feed", items, decl=False)
    text = '<?xml version="1.0" encoding="UTF-16"?>\n' + text
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    return bom + text.encode(codec)


def bad_utf8():
    return (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
            b'<channel><title>bad \xff\xfe utf8</title>'
            b'<item><guid>badutf8-1</guid><title>ok before</title></item>'
            b'<item><guid>badutf8-2</guid><title>broken \xc3\x28 \xed\xa0\x80 '
            b'\xf8\x88\x80\x80\x80 \xc0\xaf end</title></item>'
            b'<item><guid>badutf8-3</guid><title>ok after</title></item>'
            b'</channel></rss>\n')


def latin1_as_utf8():
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
            '<channel><title>Caf\u00e9 cr\u00e8me</title>'
            '<item><guid>latin1-1</guid><title>Na\u00efve r\u00e9sum\u00e9'
            '</title><description>\u00e0 la carte \u00a3 \u00b5</description>'
            '</item></channel></rss>\n').encode("latin-1")


HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title>"
             b"</head><body><h1>Not a feed</h1><p>Just a page "
             b"<a href='/feed'>feed</a></p></body></html>\n")


# --- hostile handlers ----------------------------------------------------------

def h_static(body_fn, ctype="application/rss+xml; charset=utf-8", status=200,
             headers=()):
    def h(srv, req, conn):
        body = body_fn() if callable(body_fn) else body_fn
        return respond(conn, status, body, ctype, headers)
    return h


def h_trickle(srv, req, conn):
    """A feed sent one byte a second, for at most LONG_LIMIT_S."""
    body = rss_doc("trickle", []).encode()
    conn.send(head_bytes(200, [("Content-Type", "application/rss+xml"),
                               ("Content-Length", str(len(body)))]))
    t_end = time.monotonic() + LONG_LIMIT_S
    try:
        for b in body:
            if time.monotonic() > t_end:
                return False
            conn.send(bytes([b]))
            if conn.wait_closed(1.0):
                req.extra["client_gone"] = time.monotonic()
                return False
    except OSError:
        req.extra["client_gone"] = time.monotonic()
        return False
    return True


def h_endless(srv, req, conn):
    """A chunked body that never ends (capped at 1 GB or LONG_LIMIT_S)."""
    conn.send(head_bytes(200, [("Content-Type", "application/rss+xml"),
                               ("Transfer-Encoding", "chunked")]))
    chunk = b"A" * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    conn.send(b"%x\r\n" % len(FEED_PREFIX) + FEED_PREFIX + b"\r\n")
    t_end = time.monotonic() + LONG_LIMIT_S
    sent = 0
    try:
        while sent < (1 << 30) and time.monotonic() < t_end:
            if srv.stopping.is_set():
                return False
            conn.send(frame)
            sent += len(chunk)
    except OSError:
        req.extra["client_gone"] = time.monotonic()
    req.extra["sent"] = sent
    return False


def h_gzip_bomb(srv, req, conn):
    body = DOCS.get("bomb", gzip_bomb)
    return respond(conn, 200, body, "application/rss+xml",
                   [("Content-Encoding", "gzip")])


def h_redirect_loop(srv, req, conn):
    hop = int(req.query.get("hop", ["0"])[0])
    loc = "%s?hop=%d" % (req.path, hop + 1)
    return respond(conn, 302, b"", "text/plain", [("Location", loc)])


def h_redirect_to(target):
    def h(srv, req, conn):
        loc = target(srv) if callable(target) else target
        return respond(conn, 302, b"", "text/plain", [("Location", loc)])
    return h


def h_huge_headers(srv, req, conn):
    """2 MB of response headers in 2,000 lines, then a valid feed."""
    filler = "x" * 1000
    h = [("Content-Type", "application/rss+xml")]
    h += [("X-Filler-%d" % i, filler) for i in range(2000)]
    body = rss_doc("huge headers", []).encode()
    h.append(("Content-Length", str(len(body))))
    conn.send(head_bytes(200, h) + body)
    return True


def h_huge_header_line(srv, req, conn):
    """One 1 MB header line."""
    body = rss_doc("huge header line", []).encode()
    h = [("Content-Type", "application/rss+xml"),
         ("X-Huge", "y" * (1 << 20)), ("Content-Length", str(len(body)))]
    conn.send(head_bytes(200, h) + body)
    return True


def lie_body():
    items = [dict(guid="lie-%d" % i, title="Lying length %d" % i,
                  link="http://example.com/lie/%d" % i, date=1700000000 + i)
             for i in range(40)]
    return rss_doc("lying", items).encode()


def h_cl_short(srv, req, conn):
    """Content-Length says 200 bytes; the body is much longer."""
    body = lie_body()
    conn.send(head_bytes(200, [("Content-Type", "application/rss+xml"),
                               ("Content-Length", "200"),
                               ("Connection", "close")]) + body)
    return False


def h_cl_long_close(srv, req, conn):
    """Content-Length says 1 MB; the server sends less and closes."""
    body = lie_body()
    conn.send(head_bytes(200, [("Content-Type", "application/rss+xml"),
                               ("Content-Length", str(1 << 20))]) + body)
    return False


def h_cl_long_hang(srv, req, conn):
    """Content-Length says 1 MB; the server sends less and waits."""
    body = lie_body()
    conn.send(head_bytes(200, [("Content-Type", "application/rss+xml"),
                               ("Content-Length", str(1 << 20))]) + body)
    if conn.wait_closed(LONG_LIMIT_S):
        req.extra["client_gone"] = time.monotonic()
    return False


def h_reset(srv, req, conn):
    """Half the body, then a TCP reset."""
    body = lie_body()
    conn.send(head_bytes(200, [("Content-Type", "application/rss+xml"),
                               ("Content-Length", str(len(body)))]) +
              body[:len(body) // 2])
    time.sleep(0.05)
    conn.reset()
    return False


def h_status(status, retry_after=None, retry_after_date=None):
    def h(srv, req, conn):
        hdrs = []
        if retry_after is not None:
            hdrs.append(("Retry-After", str(retry_after)))
        if retry_after_date is not None:
            hdrs.append(("Retry-After", http_date(time.time() + retry_after_date)))
        return respond(conn, status, b"<html><body>busy</body></html>\n",
                       "text/html", hdrs)
    return h


def h_random(srv, req, conn):
    return respond(conn, 200, os.urandom(65536), "application/rss+xml")


def hostile_routes(srv, secret_path, trap_port, marker):
    """The hostile paths of the suite: {path: (handler, description)}."""
    base = srv.base
    return {
        "/h/trickle": (h_trickle, "body trickles one byte a second"),
        "/h/endless": (h_endless, "endless chunked body"),
        "/h/gzip-bomb": (h_gzip_bomb, "gzip bomb (1 MB -> 1 GiB)"),
        "/h/redirect-loop": (h_redirect_loop, "redirect loop"),
        "/h/redirect-file": (h_redirect_to("file:///etc/passwd"),
                             "redirect to file:///etc/passwd"),
        "/h/redirect-file-secret": (h_redirect_to("file://" + secret_path),
                                    "redirect to file:// secret file"),
        "/h/redirect-ftp": (h_redirect_to("ftp://127.0.0.1:%d/feed.xml"
                                          % trap_port),
                            "redirect to ftp://"),
        "/h/huge-headers": (h_huge_headers, "2 MB of response headers"),
        "/h/huge-header-line": (h_huge_header_line, "one 1 MB header line"),
        "/h/cl-short": (h_cl_short, "Content-Length shorter than the body"),
        "/h/cl-long-close": (h_cl_long_close,
                             "Content-Length longer than the body, then close"),
        "/h/cl-long-hang": (h_cl_long_hang,
                            "Content-Length longer than the body, then silence"),
        "/h/reset": (h_reset, "connection reset mid-body"),
        "/h/500": (h_status(500), "HTTP 500"),
        "/h/429": (h_status(429, retry_after=30), "HTTP 429, Retry-After: 30"),
        "/h/503": (h_status(503, retry_after_date=25),
                   "HTTP 503, Retry-After: HTTP date +25 s"),
        "/h/html": (h_static(HTML_PAGE, "text/html"), "HTML page, not a feed"),
        "/h/empty": (h_static(b""), "empty body"),
        "/h/random": (h_random, "64 KB of random bytes"),
        "/h/billion-laughs": (h_static(lambda: DOCS.get("laughs",
                                                        billion_laughs)),
                              "billion laughs"),
        "/h/quadratic": (h_static(lambda: DOCS.get("quad", quadratic_blowup)),
                         "quadratic blow-up entity"),
        "/h/xxe-file": (h_static(xxe_file(secret_path)),
                        "external entities: file:///etc/passwd, secret file, "
                        "XInclude"),
        "/h/xxe-url": (h_static(xxe_url(base)),
                       "external entity and parameter entity: local URL"),
        "/h/xxe-dtd": (h_static(xxe_dtd(base)), "external DTD at a local URL"),
        "/h/nested": (h_static(lambda: DOCS.get("nested", nested)),
                      "100,000 nested elements"),
        "/h/bad-utf8": (h_static(bad_utf8()), "invalid UTF-8"),
        "/h/latin1": (h_static(latin1_as_utf8()), "Latin-1 declared as UTF-8"),
        "/h/utf16le": (h_static(utf16_doc("utf-16-le")),
                       "UTF-16LE with BOM (valid)"),
        "/h/utf16be": (h_static(utf16_doc("utf-16-be")),
                       "UTF-16BE with BOM (valid)"),
        "/h/many-entries": (h_static(lambda: DOCS.get("many", many_entries)),
                            "200,000 tiny entries"),
        "/h/big-title": (h_static(lambda: DOCS.get("bigtitle", big_title)),
                         "10 MB title"),
    }


def secret_routes(marker):
    """Paths nothing may ever request: their content must never be stored."""
    body = ("%s\n" % marker).encode()
    dtd = ('<!ENTITY secretent "%s">\n' % marker).encode()
    return {
        "/secret": h_static(body, "text/plain"),
        "/secret-dtd": h_static(dtd, "application/xml-dtd"),
    }


def warm_up():
    """Generate the big documents in the background before feedd asks."""
    def run():
        for name, fn in (("bomb", gzip_bomb), ("many", many_entries),
                         ("bigtitle", big_title), ("nested", nested),
                         ("laughs", billion_laughs), ("quad", quadratic_blowup)):
            DOCS.get(name, fn)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def main():
    srv = Server()
    trap = Trap()
    marker = "SECRET-MARKER-manual"
    secret = "/nonexistent/secret.txt"
    routes = {p: h for p, (h, _) in
              hostile_routes(srv, secret, trap.port, marker).items()}
    routes.update(secret_routes(marker))
    now = time.time()
    for fmt in ("rss", "atom", "json"):
        routes["/good/" + fmt] = good_handler(GoodFeed(fmt, fmt, 5, now))
    srv.routes = routes
    srv.start()
    warm_up()
    print("PORT %d" % srv.port, flush=True)
    for p in sorted(routes):
        print("  %s%s" % (srv.base, p))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
        trap.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

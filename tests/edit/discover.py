#!/usr/bin/env python3
"""feedctl discover against tests/support/feedserver.py on 127.0.0.1.

- a page advertising RSS, Atom and JSON Feed with relative hrefs (one
  through <base href>), plus a stylesheet link and an advertised link
  that is a 404: the three feeds, each with its type comment, resolved
  URLs, names from their titles and title="...";
- a page advertising nothing, whose /feed is an HTML page and whose
  /rss.xml is a real feed: only /rss.xml is printed;
- a URL that is itself a feed prints that feed alone;
- a page with nothing anywhere: exit 1, the URL in the message;
- without --allow-private a loopback URL is refused (exit 1) with the
  address, its range and the option named, and no request reaches the
  server;
- usage errors exit 2.

Environment: FEEDD, FEEDCTL, FEEDD_SOURCE_DIR (tests/edit.cmake).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import FEEDCTL, Server, check, main, rss  # noqa: E402

# No proxy from the environment may carry requests meant for 127.0.0.1,
# and no config of the machine's may change the budgets.
ENV = {k: v for k, v in os.environ.items()
       if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example Atom</title>
<id>urn:example:atom</id><updated>2024-01-02T00:00:00Z</updated>
<link href="http://example.com/"/>
<entry><id>urn:a:1</id><title>one</title><updated>2024-01-02T00:00:00Z</updated></entry>
<entry><id>urn:a:2</id><title>two</title><updated>2024-01-02T00:00:00Z</updated></entry>
</feed>
"""

JSONFEED = """{"version": "https://jsonfeed.org/version/1.1", "title": "Example \\"JSON\\"",
 "home_page_url": "http://example.com/j/",
 "items": [{"id": "1", "content_text": "x"}]}
"""

HTML_LINKS = """<!DOCTYPE html>
<html><head><title>Example</title>
<base href="/blog/">
<link rel="stylesheet" type="text/css" href="style.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="rss.xml">
<link rel="Alternate home" type="application/atom+xml; charset=utf-8" href="../atom/all.xml">
<link rel="alternate" type="application/feed+json" href="/data/feed.json">
<link rel="alternate" type="application/rss+xml" href="gone.xml">
<link rel="alternate" type="text/html" href="other.html">
</head><body><p>Hello<p>unclosed <b>tags</body></html>
"""

HTML_PLAIN = """<!DOCTYPE html><html><head><title>No feeds here</title></head>
<body><a href="/rss.xml">a link, not a feed link</a></body></html>
"""


def fc(*args, want=0):
    p = subprocess.run([FEEDCTL] + list(args),
                       capture_output=True, timeout=60, env=ENV)
    out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in err, "sanitizer report:\n" + err)
    check(p.returncode == want, "feedctl %s: exit %d, want %d\nstdout: %s\nstderr: %s"
          % (" ".join(args), p.returncode, want, out, err))
    return out, err


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def pairs(out):
    """[(comment, feed line)] of discover's output."""
    lines = out.splitlines()
    check(len(lines) % 2 == 0, "odd number of lines:\n" + out)
    res = []
    for c, f in zip(lines[0::2], lines[1::2]):
        check(c.startswith("# ") and f.startswith("feed "),
              "not a comment then a feed line:\n%s\n%s" % (c, f))
        res.append((c, f))
    return res


def advertised(tmp):
    root = os.path.join(tmp, "www")
    write(root, "site/index.html", HTML_LINKS)
    write(root, "blog/rss.xml", rss([("1", "a", "b"), ("2", "c", "d")], title="Example News"))
    write(root, "atom/all.xml", ATOM)
    write(root, "data/feed.json", JSONFEED)
    srv = Server(root)
    try:
        out, err = fc("discover", "--allow-private", srv.url("/site/index.html"))
        got = pairs(out)
        check(len(got) == 3, "want 3 feeds:\n" + out)
        (c1, f1), (c2, f2), (c3, f3) = got
        check(c1.startswith("# RSS 2.0 (rss20), advertised by the page as "
                            "application/rss+xml, 2 entries"), c1)
        check(f1 == 'feed example-news %s title="Example News" site=http://example.com/'
              % srv.url("/blog/rss.xml"), f1)
        check(c2.startswith("# Atom 1.0 (atom10), advertised by the page as "
                            "application/atom+xml, 2 entries"), c2)
        check(f2 == 'feed example-atom %s title="Example Atom" site=http://example.com/'
              % srv.url("/atom/all.xml"), f2)
        check(c3.startswith("# JSON Feed (jsonfeed), advertised by the page as "
                            "application/feed+json, 1 entry"), c3)
        check(f3 == 'feed example-json %s title="Example \\"JSON\\"" site=http://example.com/j/'
              % srv.url("/data/feed.json"), f3)
        check(srv.url("/blog/gone.xml") in err and "404" in err,
              "no note about the advertised 404: " + err)
        # Advertised feeds found: no usual path is probed, no stylesheet
        # or text/html link fetched.
        paths = sorted(r["path"] for r in srv.requests())
        check(paths == sorted(["/site/index.html", "/blog/rss.xml", "/atom/all.xml",
                               "/data/feed.json", "/blog/gone.xml"]),
              "unexpected requests: %s" % paths)
        # The lines are valid config: feedd --check-config reads them.
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s/f.db\n%s" % (tmp, out))
        p = subprocess.run([os.environ["FEEDD"], "--config", conf, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, "discover's output is not a valid config: %s" % p.stderr)
    finally:
        srv.stop()


def usual_paths(tmp):
    root = os.path.join(tmp, "www")
    write(root, "index.html", HTML_PLAIN)
    write(root, "feed/index.html", HTML_PLAIN)    # a 200 HTML page at /feed/
    write(root, "rss.xml", rss([("1", "a", "b")], title="Plain Site"))
    write(root, "rss", rss([("1", "a", "b")], title="Plain Site"))  # the same document
    srv = Server(root)
    try:
        srv.routes({"/feed": {"status": 200, "type": "text/html", "body": HTML_PLAIN}})
        out, _ = fc("discover", "--allow-private", srv.url("/index.html"))
        got = pairs(out)
        check(len(got) == 1, "want only /rss.xml:\n" + out)
        c, f = got[0]
        check(c.startswith("# RSS 2.0 (rss20), at a usual path, 1 entry"), c)
        check(f.startswith("feed plain-site %s title=\"Plain Site\"" % srv.url("/rss.xml")), f)
        check(srv.count("/feed") == 1 and srv.count("/atom.xml") == 1 and
              srv.count("/feed.json") == 1, "usual paths not all probed: %s"
              % [r["path"] for r in srv.requests()])
    finally:
        srv.stop()


def itself(tmp):
    root = os.path.join(tmp, "www")
    write(root, "atom.xml", ATOM)
    write(root, "rss.xml", rss([("1", "a", "b")], title="Other"))
    srv = Server(root)
    try:
        out, _ = fc("discover", "--allow-private", srv.url("/atom.xml"))
        got = pairs(out)
        check(len(got) == 1 and got[0][0].startswith("# Atom 1.0 (atom10), the URL itself, "
                                                     "2 entries"), out)
        check(got[0][1].startswith("feed example-atom %s " % srv.url("/atom.xml")), out)
        check([r["path"] for r in srv.requests()] == ["/atom.xml"],
              "more than the feed fetched: %s" % srv.requests())
    finally:
        srv.stop()


def nothing(tmp):
    root = os.path.join(tmp, "www")
    write(root, "index.html", HTML_PLAIN)
    srv = Server(root)
    try:
        out, err = fc("discover", "--allow-private", srv.url("/index.html"), want=1)
        check(out == "", "output with nothing found: " + out)
        check("no feed found at %s" % srv.url("/index.html") in err, err)
        _, err = fc("discover", "--allow-private", srv.url("/missing.html"), want=1)
        check(srv.url("/missing.html") in err and "HTTP status 404" in err, err)
    finally:
        srv.stop()


def private_refused(tmp):
    root = os.path.join(tmp, "www")
    write(root, "atom.xml", ATOM)
    srv = Server(root)
    try:
        out, err = fc("discover", srv.url("/atom.xml"), want=1)
        check(out == "", out)
        check(srv.url("/atom.xml") in err and "127.0.0.1" in err and "loopback" in err
              and "--allow-private" in err, "unclear refusal: " + err)
        check(srv.requests() == [], "a request reached the server: %s" % srv.requests())
    finally:
        srv.stop()


def usage(tmp):
    _, err = fc("discover", want=2)
    check("which URL" in err, err)
    _, err = fc("discover", "ftp://example.com/", want=2)
    check("bad URL 'ftp://example.com/'" in err, err)
    _, err = fc("discover", "http://a.example/", "http://b.example/", want=2)
    check("unexpected argument" in err, err)


if __name__ == "__main__":
    sys.exit(main([advertised, usual_paths, itself, nothing, private_refused, usage]))

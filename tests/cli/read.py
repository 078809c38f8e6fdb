#!/usr/bin/env python3
"""feedctl's reading commands as a user types them, against a database
the real feedd filled with --once from tests/support/feedserver.py.

Option placement, exit statuses 0/1/2 with their messages, --since (RFC
3339 offsets, fractions, dates, ages), --limit 0, jsonl/json, TSV
--header, follow --feed of an unknown feed, and text tables that fit
$COLUMNS without breaking UTF-8.

Environment: FEEDD, FEEDCTL, FEEDD_SOURCE_DIR (tests/cli.cmake).
"""
import calendar
import json
import os
import subprocess
import sys
import time
import unicodedata

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import FEEDCTL, FEEDD, Failure, Server, check, main  # noqa: E402

FIXED = calendar.timegm((2024, 5, 1, 10, 0, 0))
LONG_TITLE = ("Ünïcødé wide 日本語のニュース見出し and combining e\u0301e\u0301 "
              "and emoji \U0001F389 with a tail long enough to be cut somewhere")


def rfc822(t):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(t))


def rss(title, items):
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0"><channel><title>%s</title>' % title,
           '<link>http://example.com/</link><description>d</description>']
    for guid, t, when in items:
        out.append('<item><guid isPermaLink="false">urn:%s</guid><title>%s</title>'
                   '<link>http://example.com/%s</link><pubDate>%s</pubDate>'
                   '<description>about %s gardening</description></item>'
                   % (guid, t, guid, rfc822(when), guid))
    out.append("</channel></rss>\n")
    return "\n".join(out)


def width(s):
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufeff":
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w


def fc(*args, env=None, timeout=20):
    e = dict(os.environ)
    e.pop("COLUMNS", None)
    e.update(env or {})
    p = subprocess.run([FEEDCTL] + list(args), capture_output=True, timeout=timeout,
                       env=e)
    err = p.stderr.decode("utf-8", "replace")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in err, "sanitizer report:\n" + err)
    # Every byte written must be valid UTF-8: a cut never splits a sequence.
    try:
        out = p.stdout.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise Failure("feedctl %s wrote invalid UTF-8: %s" % (args, ex))
    return p.returncode, out, err


def ok(*args, **kw):
    rc, out, err = fc(*args, **kw)
    check(rc == 0, "feedctl %s: exit %d: %s" % (" ".join(args), rc, err))
    return out


def usage(want_text, *args):
    rc, out, err = fc(*args)
    check(rc == 2 and want_text in err and not out,
          "feedctl %s: exit %d (want 2), stderr %r" % (" ".join(args), rc, err))


def setup(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    now = int(time.time())
    srv.write("fixed.xml", rss("Fixed", [("f%02d" % i, "Fixed %02d" % i, FIXED + 60 * i)
                                          for i in range(30)]))
    srv.write("recent.xml", rss("Recent", [("r1", "An hour ago", now - 3600),
                                            ("r2", "Three hours ago", now - 3 * 3600),
                                            ("r3", "Two days ago", now - 2 * 86400)]))
    srv.write("wide.xml", rss("Wide", [("w1", LONG_TITLE, FIXED - 86400)]))
    db = os.path.join(tmp, "f.db")
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\n" % db)
        for n in ("fixed", "recent", "wide"):
            f.write("feed %s %s\n" % (n, srv.url("/%s.xml" % n)))
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    p = subprocess.run([FEEDD, "--config", conf, "--once"], capture_output=True,
                       text=True, timeout=120, env=env)
    srv.stop()
    check(p.returncode == 0, "feedd --once: exit %d: %s" % (p.returncode, p.stderr))
    return db, conf


def jsonl(out):
    return [json.loads(line) for line in out.splitlines()]


def cli_read(tmp):
    db, conf = setup(tmp)
    total = 34

    # Global options before or after the command, with a space or "=".
    base = ok("--db", db, "articles", "--format", "tsv")
    check(len(base.splitlines()) == total, "want %d articles, got:\n%s" % (total, base))
    for args in (("articles", "--db", db, "--format", "tsv"),
                 ("articles", "--format", "tsv", "--db=" + db),
                 ("--db=" + db, "articles", "--format=tsv"),
                 ("articles", "--config", conf, "--format", "tsv"),
                 ("--config", conf, "articles", "--format", "tsv"),
                 ("articles", "--format", "tsv", "--config", "/nonexistent.conf",
                  "--db", db)):
        check(ok(*args) == base, "feedctl %s differs" % " ".join(args))

    # --since: offsets, fractions, dates, ages; all the same instant here.
    for since in ("2024-05-01T12:20:00+02:00", "2024-05-01T04:50:00-05:30",
                  "2024-05-01T10:20:00Z", "2024-05-01t10:20:00z",
                  "2024-05-01 10:20:00+00:00", "2024-05-01T10:19:59.5Z",
                  "2024-05-01T10:20Z", "2024-05-01T10:20:00.000+00:00",
                  "@%d" % (FIXED + 20 * 60)):
        out = ok("articles", "--db", db, "--feed", "fixed", "--since", since,
                 "--format", "tsv")
        titles = [line.split("\t")[3] for line in out.splitlines()]
        check(titles == ["Fixed %02d" % i for i in range(29, 19, -1)],
              "--since %s: %r" % (since, titles))
    check(len(ok("articles", "--db", db, "--feed", "fixed", "--since", "2024-05-01",
                 "--format", "tsv").splitlines()) == 30, "--since DATE")
    check(ok("articles", "--db", db, "--feed", "fixed", "--since", "2024-05-02",
             "--format", "tsv") == "", "--since the next day")
    for since, want in (("2h", ["An hour ago"]), ("120m", ["An hour ago"]),
                        ("1d", ["An hour ago", "Three hours ago"]),
                        ("1w", ["An hour ago", "Three hours ago", "Two days ago"]),
                        ("1h30m", ["An hour ago"])):
        out = ok("articles", "--db", db, "--feed", "recent", "--since", since,
                 "--format", "tsv")
        got = [line.split("\t")[3] for line in out.splitlines()]
        check(got == want, "--since %s: %r, want %r" % (since, got, want))
    for bad in ("yesterday", "2024-02-30", "2024-05-01T25:00:00Z",
                "2024-05-01T10:00:00+2", "3600", "2x", "@soon", ""):
        usage("bad --since '%s'" % bad, "articles", "--db", db, "--since", bad)

    # --limit: 0 is no limit; negative or junk is a usage error.
    check(len(ok("articles", "--db", db, "--limit", "0", "--format", "tsv")
              .splitlines()) == total, "--limit 0")
    check(len(ok("articles", "--db", db, "--limit", "3", "--format", "tsv")
              .splitlines()) == 3, "--limit 3")
    check(len(ok("search", "--db", db, "--limit", "0", "--format", "tsv",
                 "gardening").splitlines()) == total, "search --limit 0")
    check(len(ok("search", "--db", db, "--format", "tsv", "gardening")
              .splitlines()) == 20, "search's default limit")
    usage("bad --limit '-1'", "articles", "--db", db, "--limit", "-1")
    usage("bad --limit 'ten'", "search", "--db", db, "--limit", "ten", "x")

    # Formats: jsonl, json the same; the default off a terminal is jsonl.
    j = ok("articles", "--db", db, "--format", "jsonl")
    check(ok("articles", "--db", db, "--format", "json") == j, "json != jsonl")
    check(ok("articles", "--db", db) == j, "the default is not jsonl")
    rows = jsonl(j)
    check(len(rows) == total and rows[0]["feed"] == "recent", "jsonl rows")
    usage("bad --format 'xml'", "articles", "--db", db, "--format", "xml")

    # TSV --header: the column names first; --header alone means TSV.
    out = ok("articles", "--db", db, "--format", "tsv", "--header", "--limit", "2")
    lines = out.splitlines()
    check(lines[0] == "id\tdate\tfeed\ttitle\tlink" and len(lines) == 3 and
          all(len(line.split("\t")) == 5 for line in lines), "articles --header:\n" + out)
    check(ok("articles", "--db", db, "--header", "--limit", "2") == out,
          "--header alone is not TSV")
    out = ok("feeds", "--db", db, "--header")
    lines = out.splitlines()
    check(lines[0] == "name\tarticles\tlast_success\tnext_fetch\tfailures\tlast_error"
          "\tstatus\ttags"
          and [line.split("\t")[:2] + line.split("\t")[6:] for line in lines[1:]] ==
          [["fixed", "30", "ok", ""], ["recent", "3", "ok", ""], ["wide", "1", "ok", ""]],
          "feeds --header:\n" + out)
    out = ok("search", "--db", db, "--header", "gardening", "--limit", "1")
    check(out.splitlines()[0] == "id\tfeed\ttitle\tlink\tsnippet", "search --header")
    usage("--header is for --format tsv", "articles", "--db", db, "--header",
          "--format", "jsonl")

    # Runtime errors exit 1 with the cause.
    rc, out, err = fc("articles", "--db", db, "--feed", "nosuch")
    check(rc == 1 and "no feed named 'nosuch'" in err, "articles --feed nosuch: %d %r"
          % (rc, err))
    rc, out, err = fc("articles", "--db", os.path.join(tmp, "absent.db"))
    check(rc == 1 and "absent.db" in err, "missing database: %d %r" % (rc, err))
    t0 = time.monotonic()
    rc, out, err = fc("follow", "--db", db, "--feed", "nosuch", timeout=10)
    check(rc == 1 and "no feed named 'nosuch'" in err and time.monotonic() - t0 < 5,
          "follow --feed nosuch: exit %d after %.1fs: %r"
          % (rc, time.monotonic() - t0, err))

    # Text tables fit $COLUMNS, cut the title with an ellipsis, whole code
    # points only; with room the whole title shows.
    for cols in (60, 45, 100):
        for args in (("articles", "--format", "text"),
                     ("search", "--format", "text", "gardening", "--limit", "0"),
                     ("feeds", "--format", "text")):
            out = ok(*args, "--db", db, env={"COLUMNS": str(cols)})
            lines = out.splitlines()
            check(lines and all(width(line) <= cols for line in lines),
                  "COLUMNS=%d %s: lines too wide:\n%s" % (cols, args[0], "\n".join(
                      "%3d %s" % (width(line), line) for line in lines
                      if width(line) > cols)))
            check(all(line == line.rstrip() for line in lines),
                  "trailing blanks in %s" % args[0])
    out = ok("articles", "--db", db, "--format", "text", env={"COLUMNS": "60"})
    check(out.splitlines()[0].split() == ["ID", "DATE", "FEED", "TITLE"], "header row")
    wide = [line for line in out.splitlines() if "Ünïcødé" in line]
    check(len(wide) == 1 and wide[0].endswith("\u2026") and width(wide[0]) >= 58,
          "the long title is not cut to fit: %r" % wide)
    out = ok("articles", "--db", db, "--format", "text", env={"COLUMNS": "300"})
    check(LONG_TITLE in out, "with room, the whole title shows")
    out = ok("articles", "--db", db, "--format", "text")
    check(all(width(line) <= 80 for line in out.splitlines()), "80 columns by default")


def tags_status(tmp):
    """Tags from the config in feeds, articles, search and follow; a feed
    not fetched yet shows as new with its planned first fetch."""
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    now = int(time.time())
    with open(os.path.join(os.environ.get("FEEDD_SOURCE_DIR", "."), "tests", "data",
                           "feeds", "ok_malformed_amp.xml"), encoding="utf-8") as f:
        srv.write("bad.xml", f.read())
    for n in ("a", "b", "c"):
        srv.write("%s.xml" % n, rss(n, [("%s%d" % (n, i), "%s %d" % (n, i), now - 3600 * i)
                                        for i in range(1, 4)]))
    db = os.path.join(tmp, "f.db")
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\n" % db)
        f.write("feed a %s tags=news,tech\n" % srv.url("/a.xml"))
        f.write("feed b %s tags=tech\n" % srv.url("/b.xml"))
        f.write("feed c %s tags=news\n" % srv.url("/c.xml"))
        f.write("feed off %s enabled=no\n" % srv.url("/a.xml?off"))
        f.write("feed bad %s\n" % srv.url("/bad.xml"))
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)

    def once(*feeds):
        args = [FEEDD, "--config", conf, "--once", "--quiet"]
        for n in feeds:
            args += ["--feed", n]
        p = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
        check(p.returncode == 0, "feedd --once: exit %d: %s" % (p.returncode, p.stderr))

    try:
        once("a", "b", "bad")
        feeds = {f["name"]: f for f in jsonl(ok("feeds", "--db", db))}
        check(feeds["a"]["status"] == "ok" and feeds["a"]["tags"] == ["news", "tech"] and
              feeds["b"]["tags"] == ["tech"], "feeds jsonl: %r" % feeds)
        check(feeds["c"]["status"] == "new" and feeds["c"]["last_attempt"] is None and
              feeds["c"]["next_fetch"] is not None, "a feed not fetched yet: %r" % feeds["c"])
        check(feeds["off"]["status"] == "disabled" and feeds["off"]["enabled"] is False,
              "an enabled=no feed: %r" % feeds["off"])
        check(feeds["bad"]["status"] == "malformed" and feeds["bad"]["last_warning"],
              "a malformed feed: %r" % feeds["bad"])
        out = ok("feeds", "--db", db, "--format", "text", env={"COLUMNS": "120"})
        rows = {line.split()[0]: line for line in out.splitlines()[1:]}
        check(out.splitlines()[0].split()[:2] == ["FEED", "STATUS"] and
              rows["c"].split()[1] == "new" and "not fetched yet" in rows["c"] and
              rows["a"].split()[1] == "ok" and "news,tech" in rows["a"] and
              rows["off"].split()[1] == "disabled" and "enabled=no" in rows["off"] and
              rows["bad"].split()[1] == "malformed",
              "feeds text:\n" + out)
        # The planned first fetch shows under NEXT FETCH.
        want = time.strftime("%Y-%m-%d %H:%M", time.localtime(
            calendar.timegm(time.strptime(feeds["c"]["next_fetch"], "%Y-%m-%dT%H:%M:%SZ"))))
        check(want in rows["c"], "NEXT FETCH of a new feed: want %s in %r" % (want, rows["c"]))

        # articles --tag, with the tags in the JSON.
        arts = jsonl(ok("articles", "--db", db, "--tag", "tech"))
        check(sorted({a["feed"] for a in arts}) == ["a", "b"] and len(arts) == 6 and
              all(a["tags"] in (["news", "tech"], ["tech"]) for a in arts),
              "articles --tag tech: %r" % [(a["feed"], a["tags"]) for a in arts])
        arts = jsonl(ok("articles", "--db", db, "--tag", "news"))
        check({a["feed"] for a in arts} == {"a"}, "articles --tag news")
        rc, out, err = fc("articles", "--db", db, "--tag", "nosuch")
        check(rc == 1 and "no feed has the tag 'nosuch'" in err, "--tag nosuch: %r" % err)
        rc, out, err = fc("articles", "--db", db, "--tag", "New")
        check(rc == 1, "tags match case-sensitively")

        # search --tag, --feed, --since (store_search_query).
        hits = jsonl(ok("search", "--db", db, "gardening", "--tag", "tech"))
        check(sorted(h["feed"] for h in hits) == ["a"] * 3 + ["b"] * 3 and
              all("tags" in h for h in hits), "search --tag: %r" % hits)
        hits = jsonl(ok("search", "--db", db, "gardening", "--feed", "b"))
        check([h["feed"] for h in hits] == ["b"] * 3, "search --feed")
        hits = jsonl(ok("search", "--db", db, "gardening", "--tag", "tech",
                        "--since", "150m"))
        check(sorted(h["title"] for h in hits) == ["a 1", "a 2", "b 1", "b 2"],
              "search --since 150m: %r" % [h["title"] for h in hits])
        rc, out, err = fc("search", "--db", db, "gardening", "--feed", "nosuch")
        check(rc == 1 and "no feed named 'nosuch'" in err, "search --feed nosuch: %r" % err)
        usage("bad --since 'soon'", "search", "--db", db, "x", "--since", "soon")

        # follow --tag: the replay and what comes after, news only.
        rc, out, err = fc("follow", "--db", db, "--tag", "nosuch", timeout=10)
        check(rc == 1 and "no feed has the tag 'nosuch'" in err, "follow --tag nosuch")
        outp = os.path.join(tmp, "follow.out")
        with open(outp, "wb") as fo:
            fol = subprocess.Popen([FEEDCTL, "--db", db, "follow", "--after", "0",
                                    "--tag", "news", "--interval", "50"], stdout=fo)
        try:
            def lines():
                with open(outp, encoding="utf-8") as f:
                    return [json.loads(line) for line in f if line.endswith("\n")]
            deadline = time.monotonic() + 10
            while len(lines()) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            once("c")
            while len(lines()) < 6 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            fol.terminate()
            fol.wait(timeout=10)
        got = [(c["feed"], c["change"]) for c in lines()]
        check(got == [("a", "new")] * 3 + [("c", "new")] * 3,
              "follow --tag news: %r" % got)
    finally:
        srv.stop()


if __name__ == "__main__":
    if not FEEDCTL:
        print("skip: FEEDCTL not set")
        sys.exit(77)
    sys.exit(main([cli_read, tags_status]))

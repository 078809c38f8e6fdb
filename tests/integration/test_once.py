#!/usr/bin/env python3
"""feedd's one-shot modes: --once exit statuses and --check-config.

once_all_ok:      every feed fine -> exit 0, articles stored, summary line.
once_some_failed: one feed 404   -> exit 2, the others stored, the failing
                  feed named with its cause.
once_charset:     the Content-Type charset reaches the parser.
once_gone_and_redirect: 410 Gone disables a feed (no request next time, still
                  counted as failed); a 301 is remembered (next run asks the
                  new URL directly).
check_config:     a valid config prints resolved and exits 0; a broken one
                  exits 1 naming file:line; a missing one exits 1.
once_store_fails: a feed the store refuses fails the run (exit 2, named,
                  with the cause) instead of being retried forever.
once_redirect_credentials: a same-host 301 of a user:password@ URL keeps the
                  password out of feeds_v1 but still sends it next time.
once_sighup:      SIGHUP during --once (a reload meant for the service) is
                  logged and ignored: the run finishes, exit 0, all stored.
once_store_backlog: a writer held up (another process holds the database's
                  write lock) stops new polls once the fetched-but-unstored
                  backlog is full, instead of fetching every feed into
                  memory; when the lock goes, every feed is stored.
"""
import os
import re
import sqlite3
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FEEDD, Failure, Server, check, db_rows, main, rss)  # noqa: E402


def run(args, timeout=60):
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env.pop("JOURNAL_STREAM", None)
    p = subprocess.run([FEEDD] + args, capture_output=True, text=True,
                       timeout=timeout, env=env)
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in p.stderr, "sanitizer report:\n" + p.stderr)
    return p


def config(tmp, feeds, extra=""):
    path = os.path.join(tmp, "feedd.conf")
    with open(path, "w") as f:
        f.write("database %s\ninterval 1h\n%s" % (os.path.join(tmp, "f.db"), extra))
        for name, url in feeds:
            f.write("feed %s %s\n" % (name, url))
    return path


def count(tmp, feed):
    return db_rows(os.path.join(tmp, "f.db"),
                   "SELECT count(*) FROM articles_v1 WHERE feed = ?", (feed,))[0][0]


def serve(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    srv.write("one.xml", rss([("1", "One", "x"), ("2", "Two", "y")]))
    srv.write("two.xml", rss([("3", "Three", "z")]))
    return srv


def once_all_ok(tmp):
    srv = serve(tmp)
    try:
        conf = config(tmp, [("one", srv.url("/one.xml")),
                            ("two", srv.url("/two.xml"))])
        p = run(["--config", conf, "--once", "--stats"])
        check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
        check(count(tmp, "one") == 2 and count(tmp, "two") == 1,
              "articles not stored")
        check("once: feeds=2 ok=2 failed=0" in p.stderr,
              "no summary line:\n" + p.stderr)
        check("again: cancelling" not in p.stderr,
              "--once stopped twice:\n" + p.stderr)
        check("max_loop_stall_ms=" in p.stdout and "feedd-stats" in p.stdout,
              "--stats printed no stats: %r" % p.stdout)
        # A second run makes no request: nothing is due for an hour.
        n = srv.count("/one.xml")
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0 and srv.count("/one.xml") == n,
              "a second --once polled a feed that is not due")
        # --all: conditional requests, 304, still success, no dups.
        p = run(["--config", conf, "--once", "--all"])
        check(p.returncode == 0, "second run exit %d:\n%s" % (p.returncode,
                                                             p.stderr))
        last = srv.requests("/one.xml")[-1]
        check("if-none-match" in last["headers"], "no validators sent")
        check(count(tmp, "one") == 2, "duplicates after a second run")
    finally:
        srv.stop()


def once_some_failed(tmp):
    srv = serve(tmp)
    try:
        # Credentials in the URL reach the server but never the log or
        # the database (other programs read it).
        conf = config(tmp, [("one", srv.url("/one.xml")),
                            ("missing", srv.url("/missing.xml").replace(
                                "://", "://joe:s3cret@"))],
                      extra="log-level debug\n")
        p = run(["--config", conf, "--once"])
        check(p.returncode == 2, "exit %d, want 2:\n%s" % (p.returncode,
                                                          p.stderr))
        check(count(tmp, "one") == 2, "the good feed was not stored")
        bad = [l for l in p.stderr.splitlines()
               if "feed=missing" in l and "warning" in l]
        check(len(bad) == 1 and "HTTP 404" in bad[0], "failing feed not named "
              "with its cause:\n" + p.stderr)
        state = db_rows(os.path.join(tmp, "f.db"), "SELECT failures, "
                        "last_error FROM feeds_v1 WHERE name = 'missing'")
        check(state and state[0][0] == 1 and state[0][1],
              "failure not recorded: %r" % state)
        check("s3cret" not in p.stderr, "password logged:\n" + p.stderr)
        urls = db_rows(os.path.join(tmp, "f.db"), "SELECT url FROM feeds_v1")
        check(urls and not any("s3cret" in u for (u,) in urls),
              "password stored in the database: %r" % urls)
        auth = srv.requests("/missing.xml")[-1]["headers"].get("authorization")
        check(auth, "credentials from the URL were not sent")
        # Not a feed at all: a parse failure, also exit 2.
        srv.write("page.html", "<html><body>hello</body></html>")
        conf = config(tmp, [("page", srv.url("/page.html"))])
        p = run(["--config", conf, "--once"])
        check(p.returncode == 2, "exit %d for an HTML page" % p.returncode)
        check(any("feed=page" in l and "parse" in l
                  for l in p.stderr.splitlines()),
              "parse failure not reported:\n" + p.stderr)
    finally:
        srv.stop()


def once_gone_and_redirect(tmp):
    srv = serve(tmp)
    try:
        srv.routes({"/gone.xml": {"status": 410},
                    "/old.xml": {"status": 301,
                                 "location": srv.url("/two.xml")}})
        conf = config(tmp, [("gone", srv.url("/gone.xml")),
                            ("moved", srv.url("/old.xml"))])
        p = run(["--config", conf, "--once"])
        check(p.returncode == 2, "exit %d, want 2 (410):\n%s"
              % (p.returncode, p.stderr))
        check("gone" in p.stderr and "410" in p.stderr, "410 not logged")
        check(count(tmp, "moved") == 1, "redirected feed not stored")
        gone, old = srv.count("/gone.xml"), srv.count("/old.xml")
        p = run(["--config", conf, "--once"])
        check(p.returncode == 2, "gone feed not counted as failed")
        check(srv.count("/gone.xml") == gone, "a gone feed was polled again")
        check(srv.count("/old.xml") == old,
              "the permanent redirect was not remembered")
        # Changing the configured URL brings the feed back.
        conf = config(tmp, [("gone", srv.url("/one.xml")),
                            ("moved", srv.url("/old.xml"))])
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0, "a new URL did not revive the gone feed:\n"
              + p.stderr)
        check(count(tmp, "gone") == 2, "revived feed not stored")
    finally:
        srv.stop()


def once_charset(tmp):
    """The HTTP charset reaches the parser: a KOI8-R document with no
    encoding declaration, labelled only by its Content-Type (without the
    hint it would decode as Latin-1 mojibake)."""
    srv = serve(tmp)
    try:
        title = "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440"
        doc = rss([("l1", title, "d")])
        doc = doc.replace('<?xml version="1.0" encoding="utf-8"?>', "")
        with open(os.path.join(srv.root, "latin.xml"), "wb") as f:
            f.write(doc.encode("koi8-r"))
        srv.routes({"/latin.xml": {
            "file": "latin.xml",
            "type": "application/rss+xml; charset=KOI8-R"}})
        conf = config(tmp, [("latin", srv.url("/latin.xml"))])
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
        rows = db_rows(os.path.join(tmp, "f.db"),
                       "SELECT title FROM articles_v1 WHERE feed = 'latin'")
        check(rows == [(title,)],
              "charset from Content-Type not applied: %r" % rows)
    finally:
        srv.stop()


def check_config(tmp):
    conf = config(tmp, [("one", "http://127.0.0.1:9/one.xml")])
    p = run(["--check-config", "--config", conf])
    check(p.returncode == 0, "valid config: exit %d\n%s" % (p.returncode,
                                                           p.stderr))
    check("feed one http://127.0.0.1:9/one.xml" in p.stdout,
          "resolved config not printed:\n" + p.stdout)
    with open(conf, "a") as f:
        f.write("feed two http://127.0.0.1:9/two.xml bogus=1\n")
    p = run(["--check-config", "--config", conf])
    check(p.returncode == 1, "broken config: exit %d" % p.returncode)
    check("%s:4" % conf in p.stderr, "no file:line in:\n" + p.stderr)
    p = run(["--config", conf, "--once"])
    check(p.returncode == 1, "--once with a broken config: exit %d"
          % p.returncode)
    p = run(["--check-config", "--config", os.path.join(tmp, "nope.conf")])
    check(p.returncode == 1 and "nope.conf" in p.stderr,
          "missing config: exit %d %s" % (p.returncode, p.stderr))
    p = run(["--bogus"])
    check(p.returncode == 1 and "--bogus" in p.stderr, "bad option accepted")


def once_store_fails(tmp):
    """A feed the store cannot record fails the run; --once still exits."""
    srv = serve(tmp)
    try:
        conf = config(tmp, [("one", srv.url("/one.xml"))])
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0, "first run exit %d:\n%s" % (p.returncode,
                                                             p.stderr))
        # Every new feed row is refused from now on (as a full disk would):
        # a constraint it breaks (feedd's own connection runs without
        # triggers, store/README.md).
        import sqlite3
        db = sqlite3.connect(os.path.join(tmp, "f.db"))
        db.execute("CREATE UNIQUE INDEX no_new_feeds ON feeds(active)")
        db.commit()
        db.close()
        conf = config(tmp, [("one", srv.url("/one.xml")),
                            ("two", srv.url("/two.xml"))])
        p = run(["--config", conf, "--once", "--all"], timeout=30)
        check(p.returncode == 2, "exit %d (want 2):\n%s" % (p.returncode,
                                                            p.stderr))
        check("feed=two" in p.stderr and
              "UNIQUE constraint failed: feeds.active" in p.stderr,
              "the store failure is not named:\n" + p.stderr)
        check("once: feeds=2 ok=1 failed=1" in p.stderr,
              "no summary line:\n" + p.stderr)
    finally:
        srv.stop()


def once_redirect_credentials(tmp):
    """A permanent redirect of a URL with user:password@ (relative, so
    libcurl keeps the credentials in the new URL) never puts the password
    into the database other programs read."""
    srv = serve(tmp)
    try:
        srv.routes({"/old.xml": {"status": 301, "location": "/two.xml"}})
        url = srv.url("/old.xml").replace("://", "://reader:s3cret@")
        conf = config(tmp, [("moved", url)])
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
        check(count(tmp, "moved") == 1, "redirected feed not stored")
        rows = db_rows(os.path.join(tmp, "f.db"),
                       "SELECT url, url_in_use FROM feeds_v1")
        check(rows == [(srv.url("/old.xml"), srv.url("/two.xml"))],
              "feeds_v1 holds %r" % rows)
        check("s3cret" not in p.stderr, "password logged:\n" + p.stderr)
        # The redirect is still remembered (next run asks the new URL).
        old = srv.count("/old.xml")
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0, "second run exit %d:\n%s"
              % (p.returncode, p.stderr))
        check(srv.count("/old.xml") == old,
              "the permanent redirect was not remembered")
        last = srv.requests("/two.xml")[-1]
        check("authorization" in last["headers"],
              "credentials not sent to the remembered URL: %r" % last)
    finally:
        srv.stop()


def once_sighup(tmp):
    srv = serve(tmp)
    try:
        # One slow feed keeps the run going while the signals arrive.
        conf = config(tmp, [("one", srv.url("/one.xml")),
                            ("slow", srv.url("/two.xml?delay=2"))])
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        p = subprocess.Popen([FEEDD, "--config", conf, "--once"],
                             stderr=subprocess.PIPE, text=True, env=env)
        # Early (still starting up) and late (fetching). Before main()
        # blocks SIGHUP no program can take it (a sanitizer build may take
        # a while to get there), so wait until the process blocks or
        # catches it: /proc/PID/status, bit 0 of SigBlk or SigCgt.
        def hup_handled():
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    st = dict(l.split(":\t", 1) for l in f if ":\t" in l)
            except OSError:
                return False
            return any(int(st.get(k, "0").strip(), 16) & 1
                       for k in ("SigBlk", "SigCgt"))
        t0 = time.monotonic()
        while not hup_handled() and time.monotonic() - t0 < 30:
            time.sleep(0.005)
        for delay in (0.0, 0.7):
            time.sleep(delay)
            p.send_signal(signal.SIGHUP)
        _, err = p.communicate(timeout=60)
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            check(bad not in err, "sanitizer report:\n" + err)
        check(p.returncode == 0, "exit %d after SIGHUP:\n%s"
              % (p.returncode, err))
        check(count(tmp, "one") == 2 and count(tmp, "slow") == 1,
              "articles not stored after SIGHUP")
        check("SIGHUP ignored" in err, "SIGHUP not logged:\n" + err)
    finally:
        srv.stop()


def once_store_backlog(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    n = 200
    try:
        feeds = []
        for i in range(n):
            srv.write("f%d.xml" % i, rss([("%d-%d" % (i, k), "t%d" % k, "d")
                                          for k in range(3)]))
            feeds.append(("f%d" % i, srv.url("/f%d.xml" % i)))
        # 2 connections: 4 transfers started at most, a backlog of 16.
        conf = config(tmp, feeds, extra="max-connections 2\n"
                      "max-per-host 2\nstart-ramp 10000\n")
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        proc = subprocess.Popen([FEEDD, "--config", conf, "--once", "--stats"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        db = os.path.join(tmp, "f.db")
        lock = None
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    if db_rows(db, "SELECT count(*) FROM articles_v1")[0][0] > 0:
                        break
                except Exception:
                    pass
                time.sleep(0.02)
            else:
                raise Failure("no article stored within 30 s")
            lock = sqlite3.connect(db, timeout=10, isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
            before = len(srv.requests())
            time.sleep(2.5)
            during = len(srv.requests()) - before
            lock.execute("ROLLBACK")
            lock.close()
            lock = None
            out, err = proc.communicate(timeout=120)
        finally:
            if lock:
                lock.close()
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        check(proc.returncode == 0, "exit %d:\n%s" % (proc.returncode, err))
        m = re.search(r"max_backlog=(\d+) backlog_limit=(\d+)", out)
        check(m, "no backlog figures in --stats: %r" % out)
        peak, limit = int(m.group(1)), int(m.group(2))
        check(limit == 16, "backlog limit %d, want 16 (4 x 2 x 2)" % limit)
        check(peak <= limit, "backlog peaked at %d, over its limit %d" % (peak, limit))
        # While the writer waited, at most a backlog's worth of feeds were
        # fetched (without the bound, all the remaining ones were).
        check(0 < during <= limit,
              "%d requests while the store was locked (limit %d)" % (during, limit))
        rows = db_rows(db, "SELECT count(*), count(DISTINCT feed) FROM articles_v1")
        check(rows[0] == (3 * n, n), "stored %r, want (%d, %d)" % (rows[0], 3 * n, n))
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main([once_all_ok, once_some_failed, once_gone_and_redirect,
                   once_charset, check_config, once_store_fails,
                   once_redirect_credentials, once_sighup,
                   once_store_backlog]))

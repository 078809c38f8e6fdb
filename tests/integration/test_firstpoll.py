#!/usr/bin/env python3
"""The first poll and cron-safe --once (feedd(8), feedd.conf(5) start-ramp).

quickstart:   the example config (etc/feedd.conf, its URLs pointed at a local
              server) stores every feed's first articles within seconds of
              start, not after a phase of the 1h..1d intervals.
sighup_added: a feed added by an edit and SIGHUP is fetched within 5 s.
ramp_10k:     10,000 never-fetched feeds: their first fetches are spread over
              count / start-ramp seconds (not over the interval), each is
              fetched once, and never more are in flight than max-per-host.
register_many: 6,000 new feeds at once (start-up records them in bounded
              batches): every one gets its row and its own ramp slot, a
              SIGHUP during the registration that drops 1,000 of them
              leaves none of those active, and a restart re-records
              nothing.
restart_ramp: a ramp slower than the restarts (start-ramp 1, 8 feeds, a
              restart every 2 s) still reaches every feed: the planned
              first fetch is stored, not recomputed at every start.
once_due:     --once twice in a row makes no second request to a feed whose
              interval has not passed; --once --all makes exactly one
              request per feed; --once --feed NAME polls only NAME, now;
              an unknown --feed is an error before any request.
backoff:      a failure is retried after about a minute, not after the
              feed's (daily) interval; --once honours that back-off.
stall_sighup: an idle loop interrupted by SIGHUP is not a loop stall.
"""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FEEDD, SRC, Daemon, Notify, Server, check, db_rows,  # noqa: E402
                     main, rss, wait_for)


def log(msg):
    print(msg, flush=True)


def run(args, timeout=120):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "JOURNAL_STREAM"):
        env.pop(k, None)
    p = subprocess.run([FEEDD] + args, capture_output=True, text=True,
                       timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in p.stderr, "sanitizer report:\n" + p.stderr[-6000:])
    return p


def stored(db, sql, args=()):
    rows = db_rows(db, sql, args)
    return rows[0][0] if rows else 0


def quickstart(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        with open(os.path.join(SRC, "etc", "feedd.conf")) as f:
            example = f.read()
        feeds = re.findall(r"^feed (\S+) (\S+)", example, re.M)
        check(len(feeds) >= 3, "etc/feedd.conf has no feeds?")
        for name, _ in feeds:
            srv.write(name + ".xml", rss([(name + "-1", "First of " + name, "a"),
                                         (name + "-2", "Second", "b")]))
        text = example
        for name, url in feeds:
            text = text.replace(" %s " % url, " %s " % srv.url("/%s.xml" % name))
        db = os.path.join(tmp, "quick.db")
        text = re.sub(r"^database .*$", "database " + db, text, flags=re.M)
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write(text)
        t0 = time.monotonic()
        d = Daemon(tmp, conf)
        try:
            n = len(feeds)
            wait_for("first articles of every example feed", lambda: stored(
                db, "SELECT count(DISTINCT feed) FROM articles_v1") == n,
                timeout=30)
            took = time.monotonic() - t0
            log("quickstart: %d example feeds stored their first articles "
                "%.2f s after start" % (n, took))
            check(took < 30, "first articles after %.1f s" % took)
            d.check_sanitizers()
        finally:
            d.kill()
    finally:
        srv.stop()


def sighup_added(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        srv.write("a.xml", rss([("a1", "A", "x")]))
        srv.write("b.xml", rss([("b1", "B", "y")]))
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1d\nfeed a %s\n"
                    % (db, srv.url("/a.xml")))
        d = Daemon(tmp, conf)
        try:
            wait_for("feed a stored", lambda: stored(
                db, "SELECT count(*) FROM articles_v1 WHERE feed='a'") == 1)
            with open(conf, "a") as f:
                f.write("feed b %s interval=1d\n" % srv.url("/b.xml"))
            t0 = time.time()
            d.signal(signal.SIGHUP)
            wait_for("feed b fetched", lambda: srv.count("/b.xml") >= 1,
                     timeout=10)
            took = srv.requests("/b.xml")[0]["t"] - t0
            log("sighup_added: the added feed was fetched %.2f s after SIGHUP"
                % took)
            check(took < 5, "added feed fetched %.1f s after SIGHUP" % took)
            check(srv.count("/a.xml") == 1, "feed a polled again")
            d.check_sanitizers()
        finally:
            d.kill()
    finally:
        srv.stop()


def ramp_10k(tmp):
    n, ramp, per_host = 10000, 1000, 16
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        srv.write("f.xml", rss([("x", "X", "x")]))
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1h\nstart-ramp %d\n"
                    "max-connections 32\nmax-per-host %d\nlog-level warning\n"
                    % (db, ramp, per_host))
            for i in range(n):
                f.write("feed f%05d %s?i=%d\n" % (i, srv.url("/f.xml"), i))
        t0 = time.time()
        d = Daemon(tmp, conf)
        try:
            wait_for("%d first fetches" % n,
                     lambda: len(srv.requests()) >= n, timeout=300, step=1)
            time.sleep(1)
            reqs = srv.requests()
            stats = srv._get("/_/stats").decode()
            d.check_sanitizers()
        finally:
            d.kill()
        paths = [r["path"] for r in reqs]
        check(len(set(paths)) == n and len(paths) == n,
              "%d requests for %d distinct feeds, want one each of %d"
              % (len(paths), len(set(paths)), n))
        times = sorted(r["t"] - t0 for r in reqs)
        first, last = times[0], times[-1]
        span = last - first
        tenth = [times[len(times) * k // 10 - 1] for k in range(1, 11)]
        import json
        maxreq = json.loads(stats)["max_requests"]
        log("ramp_10k: %d feeds, start-ramp %d/s (ramp %.0f s): first fetch "
            "%.2f s, last %.2f s after start; deciles %s; max in flight at "
            "the server %d (max-per-host %d)" % (
                n, ramp, n / ramp, first, last,
                " ".join("%.1f" % t for t in tenth), maxreq, per_host))
        check(first < 10, "first fetch %.1f s after start" % first)
        check(span >= 0.8 * n / ramp, "10,000 first fetches within %.1f s: "
              "not spread over the %.0f s ramp" % (span, n / ramp))
        check(last < 3600 / 4, "first fetches spread over the interval "
              "(last at %.0f s)" % last)
        check(maxreq <= per_host, "%d requests in flight, cap %d"
              % (maxreq, per_host))
    finally:
        srv.stop()


def register_many(tmp):
    n, dropped = 6000, 1000
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    notify = Notify(os.path.join(tmp, "notify.sock"))
    try:
        srv.write("f.xml", rss([("x", "X", "x")]))
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")

        def write(names):
            with open(conf, "w") as f:
                # start-ramp 1: one first fetch a second, so each feed's
                # planned first fetch is a second of its own.
                f.write("database %s\ninterval 1h\nstart-ramp 1\n"
                        "log-level info\n" % db)
                for i in names:
                    f.write("feed r%05d %s?i=%d\n" % (i, srv.url("/f.xml"), i))
        write(range(n))
        d = Daemon(tmp, conf, notify)
        try:
            wait_for("READY=1", lambda: notify.seen("READY=1"), timeout=60)
            # Feeds r00000..r00999 come last in the registration (the
            # feed list runs in reverse config order), so most are still
            # waiting for their ensure when the reload drops them.
            mark = notify.mark()
            write(range(dropped, n))
            d.signal(signal.SIGHUP)
            wait_for("the reload", lambda: notify.seen("READY=1", mark),
                     timeout=60)
            wait_for("%d feeds recorded with a first fetch planned" % (n - dropped),
                     lambda: stored(db, "SELECT count(*) FROM feeds_v1 "
                                    "WHERE active = 1 AND next_due > 0")
                     == n - dropped, timeout=120, step=0.5)
            d.check_sanitizers()
            d.signal(signal.SIGTERM)
            check(d.wait(60) == 0, "feedd did not stop cleanly")
        finally:
            d.kill()
        rows = db_rows(db, "SELECT name, active, next_due FROM feeds_v1")
        active = {r[0]: r[2] for r in rows if r[1] == 1}
        want = {"r%05d" % i for i in range(dropped, n)}
        check(set(active) == want, "active feeds: %d, %d of them unexpected, "
              "%d missing" % (len(active), len(set(active) - want),
                              len(want - set(active))))
        slots = sorted(active.values())
        check(len(set(slots)) >= len(slots) - 2,
              "%d feeds share %d planned first-fetch seconds (start-ramp 1 "
              "gives each its own)" % (len(slots), len(set(slots))))
        # A restart finds every row matching: nothing to record again,
        # and the planned first fetches stay.
        d = Daemon(tmp, conf, args=("--stats",))
        try:
            wait_for("the restart's ready line",
                     lambda: "ready:" in d.log(), timeout=60)
            time.sleep(1)
            text = d.log()
            d.check_sanitizers()
            d.signal(signal.SIGTERM)
            check(d.wait(60) == 0, "feedd did not stop cleanly")
        finally:
            d.kill()
        check("recording them in the background" not in text,
              "the restart recorded feeds again:\n" + text[-2000:])
        again = {r[0]: r[2] for r in db_rows(db, "SELECT name, active, next_due "
                                             "FROM feeds_v1") if r[1] == 1}
        moved = [k for k in want if again.get(k) != active[k] and
                 active[k] > time.time() + 5]
        check(not moved, "%d planned first fetches changed by a restart "
              "(e.g. %s)" % (len(moved), moved[:3]))
        log("register_many: %d feeds recorded, %d dropped by a SIGHUP during "
            "the registration" % (n - dropped, dropped))
    finally:
        notify.close()
        srv.stop()


def restart_ramp(tmp):
    n = 8
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        for i in range(n):
            srv.write("r%d.xml" % i, rss([("r%d" % i, "R", "x")]))
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1h\nstart-ramp 1\n" % db)
            for i in range(n):
                f.write("feed r%d %s\n" % (i, srv.url("/r%d.xml" % i)))
        t0 = time.monotonic()
        runs = 0
        while time.monotonic() - t0 < n + 8:
            d = Daemon(tmp, conf)
            time.sleep(2)
            d.kill()
            d.check_sanitizers()
            runs += 1
            if all(srv.count("/r%d.xml" % i) for i in range(n)):
                break
        never = ["r%d" % i for i in range(n) if not srv.count("/r%d.xml" % i)]
        log("restart_ramp: %d restarts every 2 s; polled: %s" % (
            runs, " ".join("r%d:%d" % (i, srv.count("/r%d.xml" % i))
                           for i in range(n))))
        check(not never, "%s never polled across %d restarts: the ramp "
              "starts over at every start" % (", ".join(never), runs))
        check(runs >= 3, "only %d runs: the test did not restart" % runs)
    finally:
        srv.stop()


def once_due(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        for name in ("a", "b", "c"):
            srv.write(name + ".xml", rss([(name, name.upper(), "x")]))
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1h\n" % db)
            for name in ("a", "b", "c"):
                f.write("feed %s %s\n" % (name, srv.url("/%s.xml" % name)))
        counts = lambda: [srv.count("/%s.xml" % x) for x in "abc"]  # noqa
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0, "first --once: exit %d\n%s"
              % (p.returncode, p.stderr))
        check(counts() == [1, 1, 1], "first --once requests %r" % counts())
        p = run(["--config", conf, "--once"])
        check(p.returncode == 0, "second --once: exit %d\n%s"
              % (p.returncode, p.stderr))
        check(counts() == [1, 1, 1], "second --once made requests to feeds "
              "not due: %r" % counts())
        check("not_due=3" in p.stderr, "summary does not say 3 not due:\n"
              + p.stderr)
        p = run(["--config", conf, "--once", "--all"])
        check(p.returncode == 0, "--once --all: exit %d" % p.returncode)
        check(counts() == [2, 2, 2], "--once --all: requests %r, want one "
              "more each" % counts())
        p = run(["--config", conf, "--once", "--feed", "b"])
        check(p.returncode == 0, "--once --feed b: exit %d" % p.returncode)
        check(counts() == [2, 3, 2], "--once --feed b: requests %r" % counts())
        p = run(["--config", conf, "--once", "--feed", "nosuch"])
        check(p.returncode == 1 and "nosuch" in p.stderr,
              "unknown --feed: exit %d %r" % (p.returncode, p.stderr))
        check(counts() == [2, 3, 2], "unknown --feed made requests")
        p = run(["--config", conf, "--all"])
        check(p.returncode == 1 and "--once" in p.stderr,
              "--all without --once: exit %d %r" % (p.returncode, p.stderr))
        # Not a TTY: no progress line, only the log.
        check("\r" not in p.stderr, "progress output on a non-TTY")
        log("once_due: requests per feed after --once, --once, --all, "
            "--feed b: %r" % counts())
    finally:
        srv.stop()


def once_tty(tmp):
    """On a terminal --once shows progress and a one-line summary on
    stderr; --quiet silences both."""
    import pty
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        for i in range(3):
            srv.write("t%d.xml" % i, rss([("t%d" % i, "T", "x")]))
        srv.routes({"/slow.xml": {"file": "t0.xml", "delay": 1.5,
                                  "type": "application/rss+xml"}})
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1h\nlog-level err\n" % db)
            for i in range(3):
                f.write("feed t%d %s\n" % (i, srv.url("/t%d.xml" % i)))
            f.write("feed slow %s\n" % srv.url("/slow.xml"))

        def on_tty(args):
            master, slave = pty.openpty()
            env = dict(os.environ)
            env.pop("NOTIFY_SOCKET", None)
            p = subprocess.Popen([FEEDD, "--config", conf] + args,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=slave,
                                 env=env)
            os.close(slave)
            out = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            os.close(master)
            return p.wait(timeout=60), out.decode("utf-8", "replace")
        rc, out = on_tty(["--once", "--all"])
        check(rc == 0, "exit %d: %r" % (rc, out))
        check("4/4 done" in out or "/4 done" in out,
              "no done/total progress on the terminal: %r" % out)
        check("slowest slow" in out, "the slowest feed in flight is not "
              "named: %r" % out)
        check(re.search(r"4 feeds polled in [0-9.]+ s: 4 ok, 0 failed", out),
              "no summary line: %r" % out)
        rc, out = on_tty(["--once", "--all", "--quiet"])
        check(rc == 0 and "done" not in out and "polled in" not in out,
              "--quiet still printed progress: %r" % out)
        log("once_tty: progress and summary on a TTY, none with --quiet")
    finally:
        srv.stop()


def status_words(tmp):
    """feeds_v1.status and the warning line: a document read with recovered
    errors and one that is not a feed read "malformed" (with the cause in
    last_warning and a warning naming feed and URL), enabled=no reads
    "disabled" without a request, a never-fetched feed "new"."""
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        srv.write("good.xml", rss([("g", "Good", "x")]))
        srv.write("amp.xml", rss([("a", "Fish & Chips", "x")]).replace(
            "&amp;", "&"))
        srv.write("page.html", "<html><body><p>hello</p></body></html>")
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1h\n" % db)
            f.write("feed good %s tags=news,tech\n" % srv.url("/good.xml"))
            f.write("feed amp %s\n" % srv.url("/amp.xml"))
            f.write("feed page %s\n" % srv.url("/page.html"))
            f.write("feed off %s enabled=no\n" % srv.url("/off.xml"))
        p = run(["--config", conf, "--once"])
        check(p.returncode == 2, "exit %d (the HTML page fails)" % p.returncode)
        rows = dict((n, (st, w)) for n, st, w in db_rows(
            db, "SELECT name, status, last_warning FROM feeds_v1"))
        log("status_words: %r" % rows)
        check(rows.get("good", (None,))[0] == "ok", "good: %r" % rows)
        check(rows.get("amp", (None,))[0] == "malformed" and rows["amp"][1],
              "recovered errors not shown: %r" % rows)
        check(rows.get("page", (None,))[0] == "malformed" and
              "not a feed" in (rows["page"][1] or ""),
              "unparsable document not shown: %r" % rows)
        check(rows.get("off", (None,))[0] == "disabled", "enabled=no: %r"
              % rows)
        check(srv.count("/off.xml") == 0, "a disabled feed was fetched")
        warn = [l for l in p.stderr.splitlines()
                if "warning" in l and "feed=amp" in l]
        check(warn and "malformed" in warn[0] and "/amp.xml" in warn[0],
              "no warning naming feed, URL and cause:\n" + p.stderr)
        check(db_rows(db, "SELECT tags FROM feeds_v1 WHERE name='good'")
              == [("news,tech",)], "tags not stored")
        # The HTML page is fixed: the next document clears the warning.
        srv.write("page.html", rss([("p", "Page", "x")]))
        p = run(["--config", conf, "--once", "--feed", "page"])
        check(db_rows(db, "SELECT status, last_warning FROM feeds_v1 WHERE "
                      "name='page'") == [("ok", None)], "warning not cleared")
    finally:
        srv.stop()


def backoff(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1d\nfeed daily %s\n"
                    % (db, srv.url("/daily.xml")))
        t0 = time.time()
        p = run(["--config", conf, "--once"])
        check(p.returncode == 2, "404 feed: exit %d" % p.returncode)
        due = stored(db, "SELECT next_due FROM feeds_v1 WHERE name='daily'")
        wait = due - t0
        log("backoff: a daily feed's first failure is retried after %.0f s"
            % wait)
        check(40 <= wait <= 90, "first retry after %.0f s, want about 60 s"
              % wait)
        p = run(["--config", conf, "--once"])
        check(srv.count("/daily.xml") == 1, "--once ignored the back-off")
    finally:
        srv.stop()


def stall_sighup(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        srv.write("a.xml", rss([("a1", "A", "x")]))
        db = os.path.join(tmp, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1d\nfeed a %s\n"
                    % (db, srv.url("/a.xml")))
        out = os.path.join(tmp, "stats.txt")
        with open(out, "w") as so:
            env = dict(os.environ)
            env.pop("NOTIFY_SOCKET", None)
            proc = subprocess.Popen([FEEDD, "--config", conf, "--stats"],
                                    stdout=so, stderr=subprocess.DEVNULL,
                                    stdin=subprocess.DEVNULL, env=env)
            try:
                wait_for("feed a stored", lambda: stored(
                    db, "SELECT count(*) FROM articles_v1") == 1)
                time.sleep(3)           # idle
                proc.send_signal(signal.SIGHUP)
                time.sleep(0.5)
                proc.send_signal(signal.SIGTERM)
                rc = proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        with open(out) as f:
            text = f.read()
        m = re.search(r"max_loop_stall_ms=([0-9.]+)", text)
        check(rc == 0 and m, "no stats (exit %d): %r" % (rc, text))
        stall = float(m.group(1))
        log("stall_sighup: max_loop_stall_ms=%.1f after 3 s idle + SIGHUP"
            % stall)
        check(stall < 1500, "an idle loop interrupted by SIGHUP reported as "
              "a %.0f ms stall" % stall)
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main([quickstart, sighup_added, ramp_10k, register_many, restart_ramp, once_due, once_tty,
                   status_words, backoff,
          stall_sighup]))

#!/usr/bin/env python3
"""End-to-end: the real feedd against a local feed server.

    test_e2e.py [TEST ...]      run all tests or the named ones

daemon_lifecycle: READY=1 and STATUS= on a notify socket; articles stored
after the first cycle (checked in SQLite and through `feedctl articles`);
validators sent back (304); a failing feed logged once at warning with its
URL and cause, its state shown by `feedctl feeds`; a changed feed (one new,
one updated entry) picked up without duplicates; `feedctl follow` prints the
new article as it is committed; SIGHUP adding a feed (fetched within
seconds, RELOADING=1/READY=1), with a broken config (rejected with
file:line, still polling), and disabling a feed (no more requests, articles
stay, feeds_v1.active = 0); kill -9 and restart (no lost or duplicated
articles, the hourly feed not refetched, validators kept, WATCHDOG=1 when
WATCHDOG_USEC is set); SIGTERM exits 0 promptly with STOPPING=1 and a
clean sanitizer log.

stop_grace: SIGTERM with a transfer that never finishes: cancelled after
--stop-grace, exit 0, nothing stored; an interrupted --once exits 2.

reload_url_change_while_parsing: a SIGHUP changing a feed's URL while its
last document is on the parser; the new URL is still polled promptly.
restart_with_changed_url: a URL fixed while feedd was stopped is polled at
start-up, not after the backoff stored for the old URL.
cap_logged_once: a feed that keeps hitting a parse cap warns once.
"""

import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FEEDCTL, Daemon, Failure, Notify, Server, check,  # noqa: E402
                     db_rows, feedctl, feedctl_has, main, rss, wait_for)

ALPHA = [("a1", "Alpha one", "first"), ("a2", "Alpha two", "second"),
         ("a3", "Alpha three", "third")]
BETA = [("b1", "Beta one", "x"), ("b2", "Beta two", "y")]
GAMMA = [("g1", "Gamma one", "g"), ("g2", "Gamma two", "g"),
         ("g3", "Gamma three", "g"), ("g4", "Gamma four", "g")]


def articles(db, feed):
    """{guid: title} of a feed, and the raw row count (to spot duplicates)."""
    rows = db_rows(db, "SELECT guid, title FROM articles_v1 WHERE feed = ?",
                   (feed,))
    return {g[len("urn:test:"):]: t for g, t in rows}, len(rows)


def all_keys(db):
    return sorted(db_rows(db, "SELECT feed, guid, id FROM articles_v1"))


def feedctl_articles(db, feed):
    """The same through feedctl, when its reading commands exist."""
    import json
    out = feedctl(db, "articles", "--feed", feed, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {r.get("guid", "")[len("urn:test:"):]: r.get("title")
            for r in rows}, len(rows)


def write_config(path, db, srv, extra_feeds="", broken=False, beta=True):
    with open(path, "w") as f:
        f.write("# written by test_e2e.py\n"
                "database %s\n"
                "interval 2s\n"
                "log-level info\n"
                "feed alpha %s\n"
                "feed beta %s%s\n"
                "feed broken %s\n"
                % (db, srv.url("/alpha.xml"), srv.url("/beta.xml"),
                   "" if beta else " enabled=no", srv.url("/missing.xml")))
        f.write(extra_feeds)
        if broken:
            f.write("feed oops %s interval=fortnight\n" % srv.url("/x.xml"))


def daemon_lifecycle(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    notify = Notify(os.path.join(tmp, "notify.sock"))
    db = os.path.join(tmp, "feeds.db")
    conf = os.path.join(tmp, "feedd.conf")
    d = follow = None
    try:
        srv.write("alpha.xml", rss(ALPHA, "Alpha"))
        srv.write("beta.xml", rss(BETA, "Beta"))
        srv.write("gamma.xml", rss(GAMMA, "Gamma"))
        write_config(conf, db, srv)

        # --- start-up and the first cycle ------------------------------
        d = Daemon(tmp, conf, notify)
        wait_for("READY=1", lambda: notify.seen("READY=1") or not d.alive())
        check(d.alive(), "feedd exited at start-up:\n" + d.log())
        # STATUS= is its own datagram, sent just after READY=1.
        try:
            wait_for("STATUS=", lambda: notify.last_status(), timeout=5)
        except Failure:
            pass
        check(notify.last_status() and "feeds" in notify.last_status(),
              "no STATUS= line with counts: %r" % notify.last_status())
        wait_for("alpha and beta stored",
                 lambda: articles(db, "alpha")[1] == 3 and
                 articles(db, "beta")[1] == 2)
        a, n = articles(db, "alpha")
        check(a == {g: t for g, t, _ in ALPHA}, "alpha articles: %r" % a)
        if feedctl_has("articles"):
            fa, fn = feedctl_articles(db, "alpha")
            check(fa == a and fn == 3, "feedctl articles disagrees: %r" % fa)

        # The next poll sends the validators back and gets a 304.
        wait_for("a conditional request for alpha",
                 lambda: any("if-none-match" in r["headers"]
                             for r in srv.requests("/alpha.xml")))

        # A failing feed: one warning, then quieter lines.
        wait_for("broken polled twice", lambda: srv.count("/missing.xml") >= 2,
                 timeout=20)
        log = d.log()
        warn = [l for l in log.splitlines()
                if "feed=broken" in l and "WARN" in l.upper()]
        check(len(warn) == 1, "expected one warning for the failing feed, got "
              "%d:\n%s" % (len(warn), log))
        check("HTTP 404" in warn[0] and "/missing.xml" in warn[0],
              "warning lacks cause or URL: %s" % warn[0])
        # ... and its state is visible to the operator.
        if feedctl_has("feeds"):
            import json
            st = {f["name"]: f for f in map(json.loads, feedctl(
                db, "feeds", "--format", "jsonl").splitlines())}
            check(st["broken"]["failures"] >= 2 and
                  "404" in (st["broken"]["last_error"] or ""),
                  "feedctl feeds does not show the failure: %r" % st["broken"])
            check(st["alpha"]["failures"] == 0 and st["alpha"]["etag"],
                  "alpha state: %r" % st["alpha"])

        # --- follow, then change alpha: one new, one updated entry --------
        follow_out = []
        if feedctl_has("follow"):
            # Everything committed after the current change-log position.
            seq = db_rows(db, "SELECT coalesce(max(seq), 0) FROM changes_v1")
            follow = subprocess.Popen([FEEDCTL, "--db", db, "follow",
                                       "--after", str(seq[0][0])],
                                      stdout=subprocess.PIPE, text=True)
            reader = threading.Thread(
                target=lambda: follow_out.extend(iter(follow.stdout.readline,
                                                      "")), daemon=True)
            reader.start()
        changed = [("a1", "Alpha one", "first"),
                   ("a2", "Alpha two (revised)", "second, revised"),
                   ("a3", "Alpha three", "third"),
                   ("a4", "Alpha four", "fourth")]
        srv.write("alpha.xml", rss(changed, "Alpha"))
        wait_for("alpha change stored",
                 lambda: articles(db, "alpha")[0].get("a4") and
                 articles(db, "alpha")[0].get("a2") == "Alpha two (revised)")
        a, n = articles(db, "alpha")
        check(n == 4 and len(a) == 4, "duplicates after the change: %d rows "
              "for %d guids" % (n, len(a)))
        if follow:
            # follow prints each new article as it is committed.
            wait_for("feedctl follow to print the new article",
                     lambda: any("urn:test:a4" in l for l in follow_out),
                     timeout=10)
            follow.terminate()
            follow.wait(timeout=10)
            follow = None

        # --- SIGHUP: a feed added, fetched promptly ------------------------
        write_config(conf, db, srv,
                     "feed gamma %s interval=1h\n" % srv.url("/gamma.xml"))
        mark = notify.mark()
        t0 = time.monotonic()
        d.signal(signal.SIGHUP)
        wait_for("gamma stored after SIGHUP",
                 lambda: articles(db, "gamma")[1] == 4, timeout=15)
        took = time.monotonic() - t0
        # Added feeds are spread over at most 5s (gamma: 3.0s), then one
        # transfer and one transaction; the rest is slack for slow CI.
        check(took < 10, "added feed took %.1fs to be fetched" % took)
        check(notify.seen("RELOADING=1", mark) and notify.seen("READY=1", mark),
              "RELOADING=1/READY=1 not sent around the reload")

        # --- SIGHUP with a broken config: rejected, still running -----------
        write_config(conf, db, srv,
                     "feed gamma %s interval=1h\n" % srv.url("/gamma.xml"),
                     broken=True)
        before = srv.count("/alpha.xml")
        d.signal(signal.SIGHUP)
        wait_for("the reload error in the log",
                 lambda: "reload rejected" in d.log(), timeout=5)
        line = [l for l in d.log().splitlines() if "reload rejected" in l][-1]
        check("%s:9" % conf in line, "reload error lacks file:line: %s" % line)
        check(d.alive(), "feedd died on a broken config")
        wait_for("alpha still polled", lambda: srv.count("/alpha.xml") > before,
                 timeout=10)
        # --- SIGHUP disabling beta: no more polls, its articles stay --------
        write_config(conf, db, srv,
                     "feed gamma %s interval=1h\n" % srv.url("/gamma.xml"),
                     beta=False)
        d.signal(signal.SIGHUP)
        wait_for("beta disabled", lambda: "feed=beta disabled" in d.log(),
                 timeout=5)
        time.sleep(0.5)  # a transfer in flight is cancelled, not stored
        beta_requests = srv.count("/beta.xml")
        before = srv.count("/alpha.xml")
        wait_for("alpha polled twice more",
                 lambda: srv.count("/alpha.xml") >= before + 2, timeout=10)
        check(srv.count("/beta.xml") == beta_requests,
              "a disabled feed is still polled")
        check(articles(db, "beta")[1] == 2, "a disabled feed lost articles")
        check(db_rows(db, "SELECT active FROM feeds_v1 WHERE name = 'beta'")
              == [(0,)], "beta not marked inactive in feeds_v1")
        # enabled=no reads "disabled", not "removed" (not configured).
        wait_for("beta shown as disabled", lambda: db_rows(
            db, "SELECT status FROM feeds_v1 WHERE name = 'beta'")
            == [("disabled",)])

        # --- kill -9 and restart ---------------------------------------------
        gamma_requests = srv.count("/gamma.xml")
        d.kill()
        keys = all_keys(db)
        check(len(keys) == 3 + 1 + 2 + 4, "articles before kill: %r" % keys)
        n_alpha = srv.count("/alpha.xml")
        d = Daemon(tmp, conf, notify, env={"WATCHDOG_USEC": "400000"})
        mark = notify.mark()
        wait_for("READY=1 after restart",
                 lambda: notify.seen("READY=1", mark) or not d.alive())
        check(d.alive(), "feedd exited on restart:\n" + d.log())
        # alpha (every 2s) resumes; gamma (every hour) must not be refetched.
        wait_for("alpha polled after restart",
                 lambda: srv.count("/alpha.xml") >= n_alpha + 2, timeout=15)
        check(srv.count("/gamma.xml") == gamma_requests,
              "gamma refetched after restart: its schedule was not resumed")
        first = srv.requests("/alpha.xml")[n_alpha]
        check("if-none-match" in first["headers"],
              "validators lost across the restart: %r" % first["headers"])
        check(all_keys(db) == keys, "articles changed across kill -9/restart")
        check(srv.count("/beta.xml") == beta_requests,
              "the disabled feed was polled after the restart")
        # WatchdogSec=0.4s: WATCHDOG=1 every 0.2s.
        check(notify.count("WATCHDOG=1", mark) >= 5,
              "WATCHDOG=1 sent %d times" % notify.count("WATCHDOG=1", mark))

        # --- SIGTERM: prompt, clean, STOPPING=1 --------------------------------
        mark = notify.mark()
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        rc = d.wait(timeout=10)
        took = time.monotonic() - t0
        check(rc == 0, "SIGTERM exit status %d:\n%s" % (rc, d.log()))
        check(took < 6, "SIGTERM took %.1fs" % took)
        check(notify.seen("STOPPING=1", mark), "no STOPPING=1")
        d.check_sanitizers()
        check(all_keys(db) == keys, "articles changed at shutdown")
    finally:
        if follow:
            follow.kill()
            follow.wait()
        if d:
            d.kill()
        notify.close()
        srv.stop()


def stop_grace(tmp):
    """SIGTERM with a transfer that will not finish: it is cancelled after
    the grace period, and feedd still exits 0 with nothing half-stored."""
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    notify = Notify(os.path.join(tmp, "notify.sock"))
    db = os.path.join(tmp, "feeds.db")
    conf = os.path.join(tmp, "feedd.conf")
    d = None
    try:
        srv.write("a.xml", rss(ALPHA))
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1s\n"
                    "feed slow %s\n" % (db, srv.url("/a.xml?delay=30")))
        d = Daemon(tmp, conf, notify, args=["--stop-grace", "1s"])
        wait_for("READY=1", lambda: notify.seen("READY=1") or not d.alive())
        wait_for("the slow request", lambda: srv.count("/a.xml") == 1)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        rc = d.wait(timeout=10)
        took = time.monotonic() - t0
        check(rc == 0, "exit %d:\n%s" % (rc, d.log()))
        check(0.9 < took < 6, "stop took %.1fs with a 1s grace" % took)
        check(notify.seen("STOPPING=1"), "no STOPPING=1")
        check("cancelling 1 transfer" in d.log(), "no cancel logged:\n"
              + d.log())
        check(db_rows(db, "SELECT count(*) FROM articles_v1") == [(0,)],
              "a cancelled transfer stored articles")
        d.check_sanitizers()
        # --once interrupted: the unfinished feed counts as failed (exit 2).
        d = Daemon(tmp, conf, notify, args=["--once", "--stop-grace", "1s"])
        wait_for("the slow request", lambda: srv.count("/a.xml") == 2)
        d.signal(signal.SIGINT)
        rc = d.wait(timeout=10)
        check(rc == 2, "interrupted --once: exit %d:\n%s" % (rc, d.log()))
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        notify.close()
        srv.stop()


def fnv1a(s):
    h = 2166136261
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h


def reload_url_change_while_parsing(tmp):
    """SIGHUP changing a feed's URL while its last document is still being
    parsed: the feed polls its new URL promptly (the poll due meanwhile is
    not lost when the stale parse ends)."""
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    db = os.path.join(tmp, "feeds.db")
    conf = os.path.join(tmp, "feedd.conf")
    # A name whose prompt delay after a reload (run.c feed_arm_prompt:
    # fnv1a(name) % 2000 ms here) is tiny, so that timer fires while the
    # big document is still on the parser.
    name = next("racy%d" % i for i in range(100000)
                if fnv1a("racy%d" % i) % 2000 < 5)
    d = None
    try:
        srv.write("big.xml", rss([("n%d" % i, "Title %d" % i, "text " * 40)
                                  for i in range(20000)]))
        srv.write("small.xml", rss(ALPHA))
        with open(conf, "w") as f:
            f.write("database %s\ninterval 2s\nfeed %s %s\n"
                    % (db, name, srv.url("/big.xml")))
        d = Daemon(tmp, conf)
        wait_for("the big request", lambda: srv.count("/big.xml") >= 1
                 or not d.alive())
        time.sleep(0.3)  # transferred; the parser has a second's work left
        with open(conf, "w") as f:
            f.write("database %s\ninterval 2s\nfeed %s %s\n"
                    % (db, name, srv.url("/small.xml")))
        d.signal(signal.SIGHUP)
        wait_for("a poll of the new URL", lambda: srv.count("/small.xml") >= 1,
                 timeout=20)
        d.signal(signal.SIGTERM)
        check(d.wait(timeout=20) == 0, "exit status:\n" + d.log())
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def restart_with_changed_url(tmp):
    """A feed whose URL was fixed in the config while feedd was stopped is
    polled promptly at start-up, not at the far-off time its backoff at
    the old URL had scheduled."""
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    db = os.path.join(tmp, "feeds.db")
    conf = os.path.join(tmp, "feedd.conf")
    d = None
    try:
        srv.write("alpha.xml", rss(ALPHA))
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1h\nfeed fixed %s\n"
                    % (db, srv.url("/missing.xml")))
        d = Daemon(tmp, conf, args=["--once"])
        check(d.wait(timeout=30) == 2, "a 404 --once: " + d.log())
        d.kill()
        # As after a long backoff: next poll a day away.
        import sqlite3
        c = sqlite3.connect(db)
        c.execute("UPDATE feeds SET next_due = strftime('%s','now') + 86400,"
                  " failures = 8")
        c.commit()
        c.close()
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1h\nfeed fixed %s\n"
                    % (db, srv.url("/alpha.xml")))
        d = Daemon(tmp, conf)
        wait_for("a poll of the fixed URL", lambda: srv.count("/alpha.xml") >= 1
                 or not d.alive(), timeout=20)
        d.signal(signal.SIGTERM)
        check(d.wait(timeout=20) == 0, "exit status:\n" + d.log())
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def cap_logged_once(tmp):
    """A feed that keeps hitting a parse cap is logged at warning when it
    starts, not on every refresh."""
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    db = os.path.join(tmp, "feeds.db")
    conf = os.path.join(tmp, "feedd.conf")
    d = None
    big = "x" * (1024 * 1024 + 10)   # over FEEDD_MAX_FIELD
    try:
        srv.write("cap.xml", rss([("c1", "Capped", big)]))
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1s\nlog-level info\n"
                    "feed capped %s\n" % (db, srv.url("/cap.xml")))
        d = Daemon(tmp, conf)
        wait_for("the first refresh", lambda: "feed=capped entries=" in d.log()
                 or not d.alive())
        srv.write("cap.xml", rss([("c1", "Capped", big), ("c2", "Two", big)]))
        wait_for("the second refresh",
                 lambda: d.log().count("feed=capped entries=") >= 2
                 or not d.alive())
        d.signal(signal.SIGTERM)
        check(d.wait(timeout=20) == 0, "exit status:\n" + d.log())
        d.check_sanitizers()
        n = d.log().count("hit a cap")
        check(n == 1, "cap logged %d times:\n%s" % (n, d.log()))
    finally:
        if d:
            d.kill()
        srv.stop()


if __name__ == "__main__":
    sys.exit(main([daemon_lifecycle, stop_grace,
                   reload_url_change_while_parsing, restart_with_changed_url,
                   cap_logged_once]))

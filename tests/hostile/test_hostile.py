#!/usr/bin/env python3
"""integration.hostile: feedd against servers and documents that misbehave.

One feedd polls, all at once, four well-behaved feeds that grow over time
(RSS, Atom, JSON Feed, and RSS with ETag/304) and every hostile path of
hostile_server.py: a trickling body, an endless body, a gzip bomb, redirect
loops and redirects to file:// and ftp://, huge headers, lying
Content-Lengths, a reset mid-body, 500, 429 and 503 with Retry-After, HTML,
an empty body, random bytes, billion laughs, external entities (a local
file, /etc/passwd, a local secret URL, an external DTD), 100,000 nested
elements, invalid UTF-8, Latin-1 declared as UTF-8, UTF-16 with a BOM,
200,000 entries in one document and a 10 MB title.

Asserted after a bounded run (FEEDD_HOSTILE_SECONDS, default 45):
  - feedd stayed up and exits 0 on SIGTERM; no sanitizer report;
  - its peak RSS (VmHWM) stays under 256 MiB (under ASan too, with its
    quarantine capped: see ASAN_QUARANTINE);
  - every poll of a hostile feed ends within timeout + a few seconds with one
    log line naming the feed and, for failures, the expected cause; a server
    that holds the connection sees feedd let go within the timeout;
  - the secret file, /etc/passwd and the secret URL never reach the
    database (nor the log), /secret is never requested, the ftp:// target is
    never connected to;
  - the good feeds' new entries are stored within two intervals, with their
    titles intact, and they are polled at their interval throughout;
  - 429's and 503's Retry-After are honoured (no request before it ends) and
    the feed is polled again after it;
  - UTF-16 entries are stored correctly; everything stored is valid UTF-8,
    within the field cap, and unduplicated.

    test_hostile.py              run (exit 0 pass, 1 fail, 77 skip)
    FEEDD_HOSTILE_SECONDS=120 test_hostile.py    a longer run
    FEEDD_HOSTILE_EXCLUDE=laughs,quad test_hostile.py   leave cases out
    FEEDD_HOSTILE_ONLY=many-entries test_hostile.py     only these cases
    FEEDD_KEEP_TMP=1 test_hostile.py   keep the temp dir (config, DB, log)
"""
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import Failure, log  # noqa: E402
import hostile_server as hs  # noqa: E402

INTERVAL = 3          # s, the global poll interval
TIMEOUT = 5           # s, the per-feed transfer timeout
# "A few seconds" on top of the timeout, until the poll's log line: under
# ASan+UBSan on a loaded CI machine parsing and storing are many times slower.
SLACK = 8 if common.SANITIZED else 4
GOOD_PERIOD = 4       # s between new entries of the good feeds
DURATION = float(os.environ.get("FEEDD_HOSTILE_SECONDS", "45"))
RSS_LIMIT_KIB = 256 * 1024
# Under ASan, RSS also counts shadow memory and the quarantine that keeps
# freed blocks from reuse (256 MiB by default, which alone would fill the
# limit after a few 16 MiB bodies). The test caps the quarantine at 16 MiB
# and holds both builds to the same 256 MiB.
ASAN_QUARANTINE = "quarantine_size_mb=16"
FIELD_CAP = 1024 * 1024  # parse.h FEEDD_MAX_FIELD

# What each failing case's log line must name. Cases not listed may end
# either way (recovered, capped or failed); they must still end, logged.
EXPECT_FAIL = {
    "/h/trickle": r"(?i)timed? ?out|too slow|speed",
    "/h/endless": r"(?i)max-size|exceeds the cap|timed out",
    "/h/gzip-bomb": r"(?i)max-size|exceeds the cap",
    "/h/redirect-loop": r"(?i)redirects",
    "/h/redirect-file": r'(?i)redirect.*"?file"?.*(not supported|disabled|'
                        r'not allowed|refused)',
    "/h/redirect-file-secret": r'(?i)redirect.*"?file"?.*(not supported|'
                               r'disabled|not allowed|refused)',
    "/h/redirect-ftp": r'(?i)redirect.*"?ftp"?.*(not supported|disabled|'
                       r'not allowed|refused)',
    "/h/huge-headers": r"(?i)header.*(cap|limit|exceed|too large)",
    "/h/huge-header-line": r"(?i)header.*(cap|limit|exceed|too large)",
    "/h/cl-long-close": r"(?i)partial|closed|remaining",
    "/h/cl-long-hang": r"(?i)timed? ?out",
    "/h/reset": r"(?i)reset|recv failure",
    "/h/500": r"HTTP 500",
    "/h/429": r"HTTP 429",
    "/h/503": r"HTTP 503",
    "/h/html": r"(?i)parse.*(not a feed|html)",
    "/h/empty": r"(?i)parse",
    "/h/random": r"(?i)parse",
}
EXPECT_OK = {"/h/utf16le", "/h/utf16be"}
# The paths whose server holds the connection until the client lets go.
HOLDS = {"/h/trickle", "/h/cl-long-hang", "/h/endless"}
# Retry-After in seconds, and the tolerance: the HTTP date form has whole
# seconds, so it may come round up to a second sooner.
RETRY_AFTER = {"/h/429": (30, 0.2), "/h/503": (25, 1.2)}


def feed_name(path):
    return path.strip("/").replace("/", "-")


def check(cond, msg, problems):
    if not cond:
        problems.append(msg)


def run():
    tmp = tempfile.mkdtemp(prefix="feedd-hostile-")
    marker_url = "SECRETURL" + secrets.token_hex(8)
    marker_file = "SECRETFILE" + secrets.token_hex(8)
    secret_path = os.path.join(tmp, "secret.txt")
    with open(secret_path, "w") as f:
        f.write(marker_file + "\n")
    srv = hs.Server()
    trap = hs.Trap()
    notify = common.Notify(os.path.join(tmp, "notify.sock"))
    d = None
    try:
        hostile = hs.hostile_routes(srv, secret_path, trap.port, marker_url)
        skip = [x for x in os.environ.get("FEEDD_HOSTILE_EXCLUDE", "").split(",")
                if x]
        only = [x for x in os.environ.get("FEEDD_HOSTILE_ONLY", "").split(",")
                if x]
        hostile = {p: v for p, v in hostile.items()
                   if not any(x in p for x in skip) and
                   (not only or any(x in p for x in only))}
        routes = {p: h for p, (h, _) in hostile.items()}
        routes.update(hs.secret_routes(marker_url))
        t0 = time.time()
        good = {}
        for fmt, cond in (("rss", False), ("atom", False), ("json", False),
                          ("rss", True)):
            name = "good-%s%s" % (fmt, "-etag" if cond else "")
            good[name] = hs.GoodFeed(name, fmt, GOOD_PERIOD, t0)
            routes["/" + name] = hs.good_handler(good[name], conditional=cond)
        srv.routes = routes
        srv.start()
        hs.warm_up().join(timeout=60)

        db = os.path.join(tmp, "feedd.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval %ds\ntimeout %ds\n"
                    "connect-timeout 3s\nmax-size 16M\nmax-connections 32\n"
                    "max-per-host 8\nlog-level info\n"
                    % (db, INTERVAL, TIMEOUT))
            for name in good:
                f.write("feed %s %s\n" % (name, srv.url("/" + name)))
            for path in hostile:
                f.write("feed %s %s\n" % (feed_name(path), srv.url(path)))

        d = common.Daemon(conf, os.path.join(tmp, "feedd.log"), notify,
                          asan=ASAN_QUARANTINE)
        if not notify.wait_for("READY=1", 0, 60):
            raise Failure("no READY=1 within 60 s; log:\n" + d.text()[-3000:])
        t_ready = time.monotonic()
        wall_ready = time.time()
        log("feedd pid %d ready; running %.0f s against %d hostile and %d "
            "good feeds" % (d.pid, DURATION, len(hostile), len(good)))
        rss_max = 0
        while time.monotonic() - t_ready < DURATION:
            if not d.alive():
                raise Failure("feedd died (status %s) after %.1f s; log tail:\n%s"
                              % (d.proc.returncode, time.monotonic() - t_ready,
                                 d.text()[-4000:]))
            rss_max = max(rss_max, d.proc_status("VmRSS") or 0)
            time.sleep(0.5)
        hwm = d.proc_status("VmHWM") or 0
        t_end = time.monotonic()
        wall_end = time.time()
        d.signal(signal.SIGTERM)
        rc = d.wait(30)
        t_exit = time.monotonic()
        try:
            analyse(d, srv, trap, db, good, hostile, marker_url, marker_file,
                    t_ready, wall_ready, t_end, wall_end, hwm, rss_max, rc,
                    t_exit - t_end)
        except Failure:
            # The tests' temp dir goes away: show the daemon's warnings.
            notable = [l for _, l in d.snapshot() if " info " not in l]
            log("feedd's log without info lines (last 150):\n" +
                "\n".join(notable[-150:]))
            raise
    finally:
        if d:
            d.close()
        notify.close()
        srv.stop()
        trap.stop()
        if os.environ.get("FEEDD_KEEP_TMP"):
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def analyse(d, srv, trap, db, good, hostile, marker_url, marker_file,
            t_ready, wall_ready, t_end, wall_end, hwm, rss_max, rc, stop_s):
    problems = []
    lines = d.snapshot()
    text = "\n".join(l for _, l in lines)

    # The process.
    check(rc == 0, "SIGTERM: exit status %r (want 0) after %.1f s"
          % (rc, stop_s), problems)
    reports = d.sanitizer_reports()
    check(not reports, "sanitizer reports:\n" + "\n".join(reports[:20]),
          problems)
    limit = RSS_LIMIT_KIB
    log("peak RSS (VmHWM) %.1f MiB, largest VmRSS sample %.1f MiB, limit "
        "%.0f MiB (%s build)" % (hwm / 1024, rss_max / 1024, limit / 1024,
                                 "sanitizer" if common.SANITIZED else "plain"))
    check(0 < hwm <= limit, "peak RSS %d KiB over the %d KiB limit"
          % (hwm, limit), problems)

    # Every poll of every hostile feed ends, in time, with one line.
    done = common.completions(lines)
    table = []
    for path, (_, desc) in sorted(hostile.items()):
        name = feed_name(path)
        starts = [r.t for r in srv.requests(path) if not r.query]
        ends = [(t, ok, cause) for t, f, ok, cause in done if f == name]
        durs = []
        fetch_max = 0.0
        for i, ts in enumerate(starts):
            if i >= len(ends):
                check(ts > t_end - TIMEOUT - SLACK,
                      "%s: the poll at +%.1fs never ended with a log line"
                      % (name, ts - t_ready), problems)
                continue
            te, ok, cause = ends[i]
            durs.append(te - ts)
            check(te - ts <= TIMEOUT + SLACK,
                  "%s: poll at +%.1fs took %.1f s (limit %d s): %s"
                  % (name, ts - t_ready, te - ts, TIMEOUT + SLACK, cause),
                  problems)
            check(te >= ts, "%s: log line before its request" % name, problems)
        # The transfer itself, seen from the server: a client that hangs
        # on must let go within the timeout (whatever the log says).
        for r in srv.requests(path):
            gone = r.extra.get("client_gone")
            if gone is not None:
                fetch_max = max(fetch_max, gone - r.t)
                check(gone - r.t <= TIMEOUT + 2,
                      "%s: the connection of +%.1fs was held %.1f s "
                      "(timeout %d s)" % (name, r.t - t_ready, gone - r.t,
                                          TIMEOUT), problems)
            elif path in HOLDS and r.t < t_end - TIMEOUT - 2:
                check(False, "%s: the connection of +%.1fs was never closed "
                      "by feedd" % (name, r.t - t_ready), problems)
        check(len(starts) >= 1, "%s: never polled" % name, problems)
        check(len(ends) <= len(starts),
              "%s: %d completion lines for %d polls"
              % (name, len(ends), len(starts)), problems)
        causes = sorted(set(c for _, _, c in ends))
        if path in EXPECT_FAIL:
            for _, ok, cause in ends:
                check(not ok and re.search(EXPECT_FAIL[path], cause),
                      "%s: poll ended %s (%s), want a failure matching /%s/"
                      % (name, "ok" if ok else "failed", cause,
                         EXPECT_FAIL[path]), problems)
        if path in EXPECT_OK:
            for _, ok, cause in ends:
                check(ok, "%s: failed: %s" % (name, cause), problems)
        table.append((name, desc, len(starts), len(ends),
                      max(durs) if durs else 0.0, fetch_max,
                      "; ".join(("ok: " if ok else "FAIL: ") + c for ok, c in
                                sorted(set((ok, re.sub(r"\d+", "N", c))
                                           for _, ok, c in ends)))[:200]))

    log("\n%-24s %5s %5s %6s %6s  %s" % ("feed", "polls", "lines", "line s",
                                           "held s", "outcome (log cause)"))
    for name, desc, np, nl, mx, held, outcome in table:
        log("%-24s %5d %5d %6.1f %6s  %s" % (name, np, nl, mx,
                                             "%.1f" % held if held else "-",
                                             outcome))
    log("")

    # Retry-After: no request before it ends; polled again afterwards.
    for path, (ra, tol) in RETRY_AFTER.items():
        if path not in hostile:
            continue
        ts = [r.t for r in srv.requests(path)]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        log("%s: requests at %s" % (path, ", ".join("+%.1fs" % (t - t_ready)
                                                     for t in ts)))
        for g in gaps:
            check(g >= ra - tol, "%s: re-requested after %.1f s despite "
                  "Retry-After %d s" % (path, g, ra), problems)
        if ts and t_end - ts[0] > ra + INTERVAL + SLACK:
            check(len(ts) >= 2, "%s: not polled again %.0f s after a "
                  "Retry-After of %d s" % (path, t_end - ts[0], ra), problems)

    # Nothing secret anywhere.
    check(not srv.requests("/secret"), "/secret was requested %d times"
          % len(srv.requests("/secret")), problems)
    check(not srv.requests("/secret-dtd"), "/secret-dtd was requested",
          problems)
    check(trap.connections == 0, "the ftp:// target got %d connections"
          % trap.connections, problems)
    with open("/etc/passwd", "rb") as f:
        passwd_line = f.readline().strip()
    needles = [marker_url.encode(), marker_file.encode(), passwd_line]
    con = common.db_connect(db)
    try:
        hits = common.db_search_all(con, needles)
        check(not hits, "secret content in the database: %r" % hits, problems)
        for n in needles:
            check(n.decode() not in text, "secret %r in feedd's log" % n,
                  problems)

        # Good feeds: every entry stored, promptly, intact.
        lag_max = 2 * INTERVAL + 3
        for name, feed in good.items():
            rows = {g.decode(): (t.decode() if t is not None else None, fs)
                    for g, t, fs in con.execute(
                        "SELECT guid, title, first_seen FROM articles_v1 "
                        "WHERE feed = ?", (name,))}
            k_last = int((wall_end - lag_max - feed.t0) // feed.period)
            worst = 0.0
            missing, late, wrong = [], [], []
            for k in range(0, k_last + 1):
                e = feed.entry(k)
                visible = max(e["date"], wall_ready)
                if k < k_last - feed.keep + 1 and e["date"] < wall_ready - 1:
                    continue   # dropped off the document before feedd ran
                if e["guid"] not in rows:
                    missing.append(k)
                    continue
                title, first_seen = rows[e["guid"]]
                if title != e["title"]:
                    wrong.append((k, title))
                lag = first_seen - visible
                worst = max(worst, lag)
                if lag > lag_max:
                    late.append(k)
            check(not missing, "%s: entries %s never stored" % (name, missing),
                  problems)
            check(not wrong, "%s: wrong titles stored: %r" % (name, wrong[:3]),
                  problems)
            check(not late, "%s: entries %s stored late, the worst %.1f s "
                  "after it appeared (limit %d s)" % (name, late, worst,
                                                      lag_max), problems)
            ts = [r.t for r in srv.requests("/" + name)]
            gaps = [b - a for a, b in zip([t_ready] + ts, ts)]
            log("%s: %d entries stored, worst lag %.1f s, %d polls %.1f-%.1f "
                "s apart" % (name, len(rows), worst, len(ts),
                             min(gaps[1:]) if gaps[1:] else -1,
                             max(gaps) if gaps else -1))
            check(gaps and max(gaps) <= 2 * INTERVAL + SLACK,
                  "%s: polls %.1f s apart (interval %d s)"
                  % (name, max(gaps) if gaps else -1, INTERVAL), problems)
            short = [b - a for a, b in zip(ts, ts[1:])]
            check(not short or min(short) >= INTERVAL - 0.2,
                  "%s: polled again after %.1f s (interval %d s)"
                  % (name, min(short) if short else 0, INTERVAL), problems)

        # UTF-16 with a BOM: stored exactly.
        for path in sorted(EXPECT_OK & set(hostile)):
            got = dict((g.decode(), t.decode()) for g, t in con.execute(
                "SELECT guid, title FROM articles_v1 WHERE feed = ?",
                (feed_name(path),)))
            want = {"utf16-%d" % i: t for i, t in enumerate(hs.UTF16_TITLES)}
            check(got == want, "%s: stored %r, want %r" % (path, got, want),
                  problems)

        # Everything stored: valid UTF-8, within the cap, no duplicates.
        cols = [r[1].decode() for r in con.execute(
            "PRAGMA table_info(articles_v1)")]
        bad = set()
        for row in con.execute("SELECT * FROM articles_v1"):
            for c, v in zip(cols, row):
                if isinstance(v, bytes):
                    try:
                        v.decode("utf-8")
                    except UnicodeDecodeError:
                        bad.add((c, "invalid UTF-8"))
                    if c in ("title", "author", "link", "guid", "key") and \
                            len(v) > FIELD_CAP:
                        bad.add((c, "%d bytes" % len(v)))
        check(not bad, "articles with bad fields: %r" % sorted(bad), problems)
        dups = con.execute("SELECT feed, key, count(*) FROM articles_v1 "
                           "GROUP BY feed_id, key HAVING count(*) > 1 "
                           "LIMIT 5").fetchall()
        check(not dups, "duplicate (feed, key): %r" % dups, problems)
        dups = con.execute("SELECT feed, guid, count(*) FROM articles_v1 "
                           "WHERE guid IS NOT NULL GROUP BY feed_id, guid "
                           "HAVING count(*) > 1 LIMIT 5").fetchall()
        check(not dups, "duplicate (feed, guid): %r" % dups, problems)
        n = con.execute("SELECT count(*) FROM articles_v1").fetchone()[0]
        log("articles stored: %d" % n)
    finally:
        con.close()
    if problems:
        raise Failure("%d problem(s):\n  %s\nlog: %s" % (
            len(problems), "\n  ".join(problems), d.log_path))


if __name__ == "__main__":
    sys.exit(common.run_main(run))

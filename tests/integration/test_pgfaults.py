#!/usr/bin/env python3
"""test_pgfaults.py: feedd on PostgreSQL while its server goes away.

Each case runs a private server of its own (tests/support/pgserver.py),
since it stops and starts it; CTest still orders it after the pg fixture.

start_db_down:     feedd started with the server stopped: one log line
                   names the server (host, port) and libpq's message, no
                   READY=1 while it is down; once it is started, READY=1,
                   and the feeds are polled and stored.
start_db_down_sigterm: SIGTERM while feedd waits for the server at start
                   stops it promptly, exit 0, never READY=1.
restart_under_load: the server stopped and started twice while feeds are
                   polled with new entries every poll: feedd never exits,
                   each outage is logged once (and its end), every entry
                   served is stored exactly once, the change log has one
                   'new' row per article with no gaps, and polls went on
                   after each outage.
sigterm_during_outage: the server stopped under a running feedd with store
                   work held: SIGTERM stops feedd promptly, exit 0, the held
                   jobs are reported as not stored; after the server and
                   feedd are started again, every entry is stored once.
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Daemon, Failure, Notify, Server, check, main, rss,  # noqa: E402
                     wait_for, SRC)

sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import pgserver  # noqa: E402


def server_stop(pg):
    """Stop the server, keeping its data (pg_ctl stop -m fast)."""
    r = pg._as_server([pg._bin("pg_ctl"), "-D", pg.data, "-w", "-t", "60",
                       "-s", "-m", "fast", "stop"])
    check(r.returncode == 0, "pg_ctl stop failed: %s" % r.stderr.strip())


def server_start(pg):
    r = pg._as_server([pg._bin("pg_ctl"), "-D", pg.data, "-l", pg.log,
                       "-w", "-t", "60", "-s", "start"])
    check(r.returncode == 0, "pg_ctl start failed: %s\n%s"
          % (r.stderr.strip(), pg.log_tail()))


def write_conf(tmp, conninfo, feeds, extra=""):
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database \"%s\"\ninterval 1s\ntimeout 5s\nlog-level notice\n%s"
                % (conninfo, extra))
        for name, url in feeds:
            f.write("feed %s %s\n" % (name, url))
    return conf


def rows(pg, db, sql):
    out = pg.psql(sql, dbname=db)
    return [line.split("|") for line in out.splitlines() if line]


def start_db_down(tmp):
    srv = Server(tmp)
    notify = Notify(os.path.join(tmp, "notify.sock"))
    with pgserver.PgServer() as pg:
        db = "down"
        conninfo = pg.create_database(db)
        server_stop(pg)
        srv.write("a.xml", rss([("a1", "A one", "d"), ("a2", "A two", "d")]))
        conf = write_conf(tmp, conninfo, [("a", srv.url("/a.xml"))])
        d = Daemon(tmp, conf, notify=notify)
        try:
            wait_for("the unreachable line", lambda: "database unreachable"
                     in d.log(), timeout=20)
            line = [ln for ln in d.log().splitlines()
                    if "database unreachable" in ln][0]
            check("host=%s" % pg.dir in line and "port=%d" % pg.port in line,
                  "the line does not name host and port: %s" % line)
            # libpq's own words for a socket nobody listens on.
            check("No such file or directory" in line or
                  "Connection refused" in line,
                  "libpq's message is missing: %s" % line)
            time.sleep(2.5)  # several retries
            check(d.alive(), "feedd exited while the server was down:\n"
                  + d.log())
            check(not notify.seen("READY=1"),
                  "READY=1 while the server is down")
            check(srv.count("/a.xml") == 0, "polled before the store was up")
            check(d.log().count("database unreachable") == 1,
                  "the outage was logged more than once:\n" + d.log())
            server_start(pg)
            wait_for("READY=1", lambda: notify.seen("READY=1"), timeout=40)
            check("database reachable after" in d.log(),
                  "no line says the server is back:\n" + d.log())
            wait_for("the articles", lambda: rows(
                pg, db, "SELECT count(*) FROM feedd.articles_v1") == [["2"]],
                timeout=30)
            d.signal(signal.SIGTERM)
            rc = d.wait(20)
            check(rc == 0, "exit %d after SIGTERM:\n%s" % (rc, d.log()))
            d.check_sanitizers()
        finally:
            d.kill()
            notify.close()
            srv.stop()


def start_db_down_sigterm(tmp):
    notify = Notify(os.path.join(tmp, "notify.sock"))
    with pgserver.PgServer() as pg:
        conninfo = pg.create_database("term")
        server_stop(pg)
        conf = write_conf(tmp, conninfo, [("a", "http://127.0.0.1:9/a.xml")])
        d = Daemon(tmp, conf, notify=notify)
        try:
            wait_for("the unreachable line", lambda: "database unreachable"
                     in d.log(), timeout=20)
            time.sleep(1)
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            rc = d.wait(10)
            took = time.monotonic() - t0
            check(rc == 0, "exit %d after SIGTERM:\n%s" % (rc, d.log()))
            check(took < 5, "SIGTERM took %.1fs to stop feedd" % took)
            check(not notify.seen("READY=1"), "READY=1 with no database")
            d.check_sanitizers()
        finally:
            d.kill()
            notify.close()


class Growing:
    """Feeds whose every poll brings one new entry; records what was served
    (the server log is the file's content at each request)."""

    def __init__(self, srv, names):
        self.srv = srv
        self.names = names
        self.n = {name: 0 for name in names}
        self.served = {name: set() for name in names}

    def step(self):
        for name in self.names:
            self.n[name] += 1
            k = self.n[name]
            # Every entry so far (the test makes under 60), so an entry
            # written while polls waited for the store is still there
            # when they go on.
            items = [("%s-%d" % (name, i), "%s %d" % (name, i), "d")
                     for i in range(max(1, k - 59), k + 1)]
            self.srv.write(name + ".xml", rss(items))
            self.served[name].update(g for g, _, _ in items)


def restart_under_load(tmp):
    srv = Server(tmp)
    notify = Notify(os.path.join(tmp, "notify.sock"))
    names = ["f%d" % i for i in range(8)]
    with pgserver.PgServer() as pg:
        db = "load"
        conninfo = pg.create_database(db)
        g = Growing(srv, names)
        g.step()
        conf = write_conf(tmp, conninfo,
                          [(n, srv.url("/%s.xml" % n)) for n in names])
        d = Daemon(tmp, conf, notify=notify)
        try:
            wait_for("READY=1", lambda: notify.seen("READY=1"), timeout=30)
            for outage in range(2):
                t_end = time.monotonic() + 2
                while time.monotonic() < t_end:
                    g.step()
                    time.sleep(0.3)
                server_stop(pg)
                t_end = time.monotonic() + 3
                while time.monotonic() < t_end:
                    g.step()
                    time.sleep(0.3)
                check(d.alive(), "feedd exited with the server down:\n"
                      + d.log())
                before = srv.count("/f0.xml")
                server_start(pg)
                wait_for("the line saying the server is back", lambda:
                         d.log().count("database reachable again")
                         == outage + 1, timeout=30)
                # Polling goes on after the outage.
                wait_for("polls after the restart", lambda:
                         srv.count("/f0.xml") >= before + 2, timeout=20)
            # Let every feed take its last edition in.
            final = {n: "%s-%d" % (n, g.n[n]) for n in names}

            def all_in():
                got = {r[0] for r in rows(pg, db, "SELECT guid FROM "
                                          "feedd.articles_v1")}
                return all("urn:test:" + v in got for v in final.values())
            wait_for("every feed's last entry stored", all_in, timeout=40)
            check(d.alive(), "feedd exited:\n" + d.log())
            log = d.log()
            lost = log.count("database unreachable")
            check(1 <= lost <= 2,
                  "%d 'unreachable' lines for 2 outages:\n%s" % (lost, log))
            check(log.count("database reachable again") == 2,
                  "not one 'reachable again' per outage:\n" + log)
            # Not once per job: no per-job store failure lines.
            check(not re.search(r"store: (put|commit|begin|record)", log),
                  "per-job store failures in the log:\n" + log)
            d.signal(signal.SIGTERM)
            rc = d.wait(30)
            check(rc == 0, "exit %d after SIGTERM:\n%s" % (rc, d.log()))
            d.check_sanitizers()
        finally:
            d.kill()
            notify.close()
            srv.stop()
        arts = rows(pg, db, "SELECT feed, guid FROM feedd.articles_v1")
        seen = set()
        for feed, guid in arts:
            check((feed, guid) not in seen, "%s of %s stored twice"
                  % (guid, feed))
            seen.add((feed, guid))
            check(guid.startswith("urn:test:") and
                  guid[len("urn:test:"):] in g.served.get(feed, ()),
                  "%s of %s stored but never served" % (guid, feed))
        for feed in names:
            # Every entry served is stored (each document has them all).
            want = {"urn:test:" + s for s in g.served[feed]}
            got = {gd for f, gd in arts if f == feed}
            missing = want - got
            check(not missing, "feed %s: served but not stored: %s"
                  % (feed, sorted(missing)[:5]))
        new = rows(pg, db, "SELECT count(*), count(DISTINCT article_id), "
                   "min(seq), max(seq) FROM feedd.changes_v1 "
                   "WHERE kind = 'new'")[0]
        allc = rows(pg, db, "SELECT count(*), min(seq), max(seq) "
                    "FROM feedd.changes_v1")[0]
        check(int(new[0]) == len(arts) and int(new[1]) == len(arts),
              "change log: %s 'new' rows (%s articles) for %d articles"
              % (new[0], new[1], len(arts)))
        # seq comes from a sequence, which may skip numbers that a rolled
        # back transaction took; what a reader relies on is that each
        # article's 'new' row is there once, and that ids only grow.
        dup = rows(pg, db, "SELECT seq FROM feedd.changes_v1 GROUP BY seq "
                   "HAVING count(*) > 1")
        check(not dup, "duplicate change-log seq: %r" % dup[:5])
        check(int(allc[0]) >= len(arts), "change log shorter than articles")


def sigterm_during_outage(tmp):
    srv = Server(tmp)
    notify = Notify(os.path.join(tmp, "notify.sock"))
    names = ["f%d" % i for i in range(4)]
    with pgserver.PgServer() as pg:
        db = "term2"
        conninfo = pg.create_database(db)
        g = Growing(srv, names)
        g.step()
        conf = write_conf(tmp, conninfo,
                          [(n, srv.url("/%s.xml" % n)) for n in names])
        d = Daemon(tmp, conf, notify=notify)
        try:
            wait_for("READY=1", lambda: notify.seen("READY=1"), timeout=30)
            server_stop(pg)
            # New entries, so the next polls have something to store.
            g.step()
            wait_for("the outage line", lambda: "database unreachable"
                     in d.log(), timeout=20)
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            rc = d.wait(15)
            took = time.monotonic() - t0
            check(rc == 0, "exit %d after SIGTERM:\n%s" % (rc, d.log()))
            check(took < 8, "SIGTERM took %.1fs during an outage" % took)
            check("stopping while the database is unreachable" in d.log(),
                  "the held jobs are not reported:\n" + d.log())
            d.check_sanitizers()
        finally:
            d.kill()
        server_start(pg)
        d = Daemon(tmp, conf, notify=notify)
        try:
            want = {"urn:test:%s-%d" % (n, g.n[n]) for n in names}
            wait_for("every feed's last entry after the restart", lambda:
                     want <= {r[0] for r in rows(
                         pg, db, "SELECT guid FROM feedd.articles_v1")},
                     timeout=40)
            d.signal(signal.SIGTERM)
            check(d.wait(20) == 0, "exit status after SIGTERM")
        finally:
            d.kill()
            notify.close()
            srv.stop()
        dup = rows(pg, db, "SELECT feed, guid FROM feedd.articles_v1 "
                   "GROUP BY feed, guid HAVING count(*) > 1")
        check(not dup, "stored twice: %r" % dup[:5])
        n = rows(pg, db, "SELECT (SELECT count(*) FROM feedd.articles_v1),"
                 " (SELECT count(*) FROM feedd.changes_v1 WHERE kind = 'new')")
        check(n[0][0] == n[0][1], "articles vs 'new' change rows: %r" % n)


if __name__ == "__main__":
    sys.exit(main([start_db_down, start_db_down_sigterm, restart_under_load,
                   sigterm_during_outage]))

#!/usr/bin/env python3
"""integration.crash: SIGKILL feedd at random moments while it stores.

A local server whose feeds change on every request (1-3 new entries, and
now and then an edited one) is polled by feedd with a 1 s interval (six
feeds) and a 15 s interval (two feeds). feedd is killed with SIGKILL
FEEDD_CRASH_KILLS times (default 200): mostly 50-500 ms after READY=1,
every tenth time 0-100 ms after it was started (during start-up). After
every kill:

  - PRAGMA integrity_check is "ok";
  - every article a committed refresh acknowledged is stored, with at least
    the acknowledged edition of its title. The acknowledgement is feedd's
    per-refresh log line "feed=F entries=N new=..." (written after the
    commit): the k-th such line of a run answers the k-th request the
    server got for F in that run, whose served entries the server recorded;
  - nothing is stored that the server never served (no phantoms);
  - no duplicate (feed, key) and no duplicate guid within a feed;
  - the change log agrees with the articles: one "new" row per article and
    one "update" row per revision after the first (same transaction);
  - the restarted daemon resumed its schedule: a 15 s feed whose refresh was
    acknowledged is never requested again within 15 s, across restarts.

Before the kills, one run lasts until every feed was refreshed once. At the
end one more run (after a kill) checks the resumed schedule against
feeds_v1.next_due, the FTS index, and that SIGTERM exits 0.

    test_crash.py                         200 kills (CTest integration.crash)
    test_crash.py first_due               a never-polled feed across restarts
                                          (CTest integration.crash_first_due)
    FEEDD_CRASH_KILLS=2000 test_crash.py  a longer run by hand
    FEEDD_CRASH_SEED=N                    repeat a run's random choices
    FEEDD_CRASH_DB=pg                     the same run on PostgreSQL: a fresh
                                          database on the pg fixture's server
                                          (CTest integration.crash_pg)

On PostgreSQL the integrity check is amcheck's bt_index_check() on every
index of schema feedd (the unique (feed_id, key) index among them), and
there is no FTS check: the tsvector is a generated column the server keeps.
"""
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import Failure, log  # noqa: E402
import hostile_server as hs  # noqa: E402

ENGINE = os.environ.get("FEEDD_CRASH_DB", "sqlite")

KILLS = int(os.environ.get("FEEDD_CRASH_KILLS", "200"))
SEED = int(os.environ.get("FEEDD_CRASH_SEED", str(int(time.time()))))
FAST = ["fast%d" % i for i in range(6)]
SLOW = ["slow%d" % i for i in range(2)]
SLOW_INTERVAL = 15
KEEP = 40              # entries per document


class SqliteDb:
    """The database file, read as a consumer reads it."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "feedd.db")
        self.conf = self.path

    def query(self, sql):
        con = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True,
                              timeout=10)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def integrity(self):
        return common.integrity(self.path)

    def fts_check(self, tmp):
        # FTS5's own consistency check needs a writable copy.
        cp = os.path.join(tmp, "copy.db")
        src = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True,
                              timeout=10)
        dst = sqlite3.connect(cp)
        src.backup(dst)
        src.close()
        try:
            dst.execute("INSERT INTO articles_fts(articles_fts) "
                        "VALUES('integrity-check')")
        except sqlite3.DatabaseError as e:
            raise Failure("FTS integrity-check: %s" % e)
        finally:
            dst.close()
        return "FTS index ok"


class PgDb:
    """A fresh database on the pg fixture's server (psql for the checks)."""

    def __init__(self, tmp):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
            __file__)), "..", "support"))
        import pgserver
        self.pgserver = pgserver
        self.pg = pgserver.fixture()
        self.name = "crash_%d" % os.getpid()
        self.conf = '"%s"' % self.pg.create_database(self.name)
        self.pg.psql("CREATE EXTENSION IF NOT EXISTS amcheck",
                     dbname=self.name, user=pgserver.SUPERUSER)

    def _psql(self, sql, user=None):
        out = self.pg.psql("\\pset fieldsep_zero on\nSET search_path = "
                           "feedd;\n" + sql + ";\n", dbname=self.name,
                           user=user or self.pgserver.ROLE)
        rows = []
        for line in out.splitlines():
            if line.startswith("Field separator") or line == "SET":
                continue
            rows.append(tuple(None if v == "" else int(v)
                              if v.lstrip("-").isdigit() else v
                              for v in line.split("\0")))
        return rows

    def query(self, sql):
        return self._psql(sql)

    def integrity(self):
        try:
            checked = self._psql(
                "SELECT c.relname, public.bt_index_check(c.oid, true) IS NULL"
                " FROM"
                " pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a"
                " ON a.oid = c.relam WHERE n.nspname = 'feedd' AND"
                " a.amname = 'btree'", user=self.pgserver.SUPERUSER)
        except self.pgserver.PgError as e:
            return [str(e)]
        return ["ok"] if checked else ["no index checked"]

    def fts_check(self, tmp):
        return "no FTS check (generated tsvector)"


DB_KINDS = {"sqlite": SqliteDb, "pg": PgDb}


class ChangingFeed:
    """Every request adds 1-3 entries; one in ten edits an entry's title."""

    def __init__(self, name, rnd):
        self.name = name
        self.rnd = rnd
        self.lock = threading.Lock()
        self.n = 0
        self.edition = {}          # k -> edition of its title
        self.served = {}           # guid -> set of editions ever served

    def title(self, k):
        return "%s entry %d ed%d" % (self.name, k, self.edition.get(k, 0))

    def handler(self, srv, req, conn):
        with self.lock:
            self.n += self.rnd.randint(1, 3)
            ks = list(range(max(0, self.n - KEEP), self.n))
            if self.rnd.random() < 0.1:
                k = self.rnd.choice(ks)
                self.edition[k] = self.edition.get(k, 0) + 1
            items = []
            served = []
            for k in ks:
                guid = "urn:crash:%s:%d" % (self.name, k)
                ed = self.edition.get(k, 0)
                self.served.setdefault(guid, set()).add(ed)
                served.append((guid, ed))
                items.append(dict(guid=guid, title=self.title(k),
                                  link="http://example.com/%s/%d" % (self.name, k),
                                  date=1700000000 + k * 60,
                                  desc="text %d" % k))
            req.extra["served"] = served
            body = hs.rss_doc(self.name, items).encode()
        return hs.respond(conn, 200, body)


def edition_of(title):
    try:
        return int(title.rsplit(" ed", 1)[1])
    except (IndexError, ValueError):
        return None


class Checker:
    def __init__(self, db, feeds):
        """db: a SqliteDb or PgDb."""
        self.db = db
        self.feeds = feeds
        self.acked = {}            # (feed, guid) -> highest acked edition
        self.slow_polls = {n: [] for n in SLOW}   # (t, acked) per request
        self.nacks = 0

    def account_run(self, srv, d, t_from, t_to):
        """Match this run's acknowledgement lines with its requests."""
        done = common.completions(d.snapshot())
        for name in self.feeds:
            reqs = [r for r in srv.requests("/c/" + name)
                    if t_from <= r.t <= t_to]
            lines = [(ok, cause) for _, f, ok, cause in done if f == name]
            if len(lines) > len(reqs):
                raise Failure("%s: %d refresh lines for %d requests in one run"
                              % (name, len(lines), len(reqs)))
            for i, r in enumerate(reqs):
                acked = i < len(lines) and lines[i][0] and \
                    lines[i][1].startswith("entries=")
                if acked:
                    self.nacks += 1
                    for guid, ed in r.extra.get("served", []):
                        key = (name, guid)
                        self.acked[key] = max(self.acked.get(key, -1), ed)
                if name in self.slow_polls:
                    self.slow_polls[name].append((r.t, acked))

    def verify(self, what):
        bad = self.db.integrity()
        if bad != ["ok"]:
            raise Failure("%s: integrity_check: %r" % (what, bad[:10]))
        con = self.db
        rows = con.query("SELECT feed, guid, title, revision "
                         "FROM articles_v1")
        stored = {}
        for feed, guid, title, rev in rows:
            if (feed, guid) in stored:
                raise Failure("%s: duplicate guid %s in feed %s"
                              % (what, guid, feed))
            stored[(feed, guid)] = (title, rev)
        dup = con.query("SELECT feed_id, key, count(*) FROM articles_v1 "
                        "GROUP BY feed_id, key HAVING count(*) > 1 "
                        "LIMIT 3")
        if dup:
            raise Failure("%s: duplicate (feed, key): %r" % (what, dup))
        for key, ed in self.acked.items():
            if key not in stored:
                raise Failure("%s: acknowledged article %s of %s is "
                              "missing" % (what, key[1], key[0]))
            got = edition_of(stored[key][0])
            if got is None or got < ed:
                raise Failure("%s: %s of %s has title %r, but edition %d "
                              "was acknowledged" % (what, key[1], key[0],
                                                    stored[key][0], ed))
        for (feed, guid), (title, _) in stored.items():
            f = self.feeds.get(feed)
            eds = f.served.get(guid) if f else None
            if not eds or edition_of(title) not in eds:
                raise Failure("%s: stored %s of %s (%r) was never served"
                              % (what, guid, feed, title))
        new = dict(con.query("SELECT feed, count(*) FROM changes_v1 "
                             "WHERE kind = 'new' GROUP BY feed"))
        upd = dict(con.query("SELECT feed, count(*) FROM changes_v1 "
                             "WHERE kind = 'update' GROUP BY feed"))
        arts = dict(con.query("SELECT feed, count(*) FROM articles_v1 "
                              "GROUP BY feed"))
        revs = dict(con.query("SELECT feed, sum(revision - 1) FROM "
                              "articles_v1 GROUP BY feed"))
        for feed in set(new) | set(arts):
            if new.get(feed, 0) != arts.get(feed, 0):
                raise Failure("%s: feed %s has %d articles but %d 'new' "
                              "change-log rows" % (what, feed,
                                                   arts.get(feed, 0),
                                                   new.get(feed, 0)))
            if upd.get(feed, 0) != (revs.get(feed) or 0):
                raise Failure("%s: feed %s: %d 'update' rows for %d "
                              "revisions" % (what, feed, upd.get(feed, 0),
                                             revs.get(feed) or 0))
        return len(rows)

    def verify_schedule(self):
        """A slow feed's acknowledged refresh holds off the next request
        for its interval (1.5 s slack: due times are whole seconds)."""
        for name, polls in self.slow_polls.items():
            for (t, acked), (t2, _) in zip(polls, polls[1:]):
                if acked and t2 - t < SLOW_INTERVAL - 1.5:
                    raise Failure("%s: requested again %.1f s after an "
                                  "acknowledged refresh (interval %d s): the "
                                  "schedule did not survive the restart"
                                  % (name, t2 - t, SLOW_INTERVAL))


def run():
    rnd = random.Random(SEED)
    log("seed %d (FEEDD_CRASH_SEED), %d kills" % (SEED, KILLS))
    tmp = tempfile.mkdtemp(prefix="feedd-crash-")
    srv = hs.Server()
    notify = common.Notify(os.path.join(tmp, "notify.sock"))
    feeds = {n: ChangingFeed(n, random.Random(rnd.random()))
             for n in FAST + SLOW}
    srv.routes = {"/c/" + n: f.handler for n, f in feeds.items()}
    srv.start()
    db = DB_KINDS[ENGINE](tmp)
    log("database: %s" % ENGINE)
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\ninterval 1s\ntimeout 5s\nlog-level info\n"
                "max-per-host 8\n" % db.conf)
        for n in FAST:
            f.write("feed %s %s\n" % (n, srv.url("/c/" + n)))
        for n in SLOW:
            f.write("feed %s %s interval=%ds\n" % (n, srv.url("/c/" + n),
                                                   SLOW_INTERVAL))
    chk = Checker(db, feeds)
    d = None
    early = 0
    try:
        warm_up(srv, notify, conf, tmp, chk)
        t_begin = time.monotonic()
        for i in range(KILLS):
            mark = notify.mark()
            t_from = time.monotonic()
            d = common.Daemon(conf, os.path.join(tmp, "feedd.log"), notify)
            if i % 10 == 9:
                time.sleep(rnd.uniform(0, 0.1))
                early += not notify.wait_for("READY=1", mark, 0)
            else:
                if not notify.wait_for("READY=1", mark, 30):
                    raise Failure("run %d: no READY=1 within 30 s:\n%s"
                                  % (i, d.text()[-3000:]))
                time.sleep(rnd.uniform(0.05, 0.5))
            if not d.alive():
                raise Failure("run %d: feedd exited by itself (status %s):\n%s"
                              % (i, d.proc.returncode, d.text()[-3000:]))
            d.kill()
            t_to = time.monotonic()
            rep = d.sanitizer_reports()
            if rep:
                raise Failure("run %d: sanitizer report:\n%s"
                              % (i, d.text()[-6000:]))
            chk.account_run(srv, d, t_from, t_to)
            d.close()
            d = None
            n = chk.verify("after kill %d" % (i + 1))
            chk.verify_schedule()
            if (i + 1) % 50 == 0:
                log("%d kills, %.0f s: %d articles, %d acknowledged refreshes"
                    % (i + 1, time.monotonic() - t_begin, n, chk.nacks))
        log("%d kills in %.0f s (%d before READY); %d acknowledged refreshes, "
            "%d acknowledged articles" % (KILLS, time.monotonic() - t_begin,
                                          early, chk.nacks, len(chk.acked)))
        if chk.nacks < KILLS // 4:
            raise Failure("only %d acknowledged refreshes in %d runs: the "
                          "kills did not hit a storing daemon" % (chk.nacks,
                                                                  KILLS))
        final_run(srv, notify, conf, db, tmp, chk)
    finally:
        if d:
            d.close()
        notify.close()
        srv.stop()
        if os.environ.get("FEEDD_KEEP_TMP"):
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def warm_up(srv, notify, conf, tmp, chk):
    """One uninterrupted run until every feed has been refreshed once, so
    each has a stored schedule the kills can then put to the test."""
    mark = notify.mark()
    t_from = time.monotonic()
    d = common.Daemon(conf, os.path.join(tmp, "feedd.log"), notify)
    try:
        if not notify.wait_for("READY=1", mark, 30):
            raise Failure("warm-up: no READY=1:\n" + d.text()[-3000:])
        deadline = time.monotonic() + SLOW_INTERVAL + 10
        while time.monotonic() < deadline:
            fed = set(f for _, f, ok, c in common.completions(d.snapshot())
                      if ok and c.startswith("entries="))
            if fed >= set(FAST + SLOW):
                break
            time.sleep(0.2)
        else:
            raise Failure("warm-up: not every feed refreshed within %d s: %s"
                          % (SLOW_INTERVAL + 10, sorted(fed)))
        d.kill()
        chk.account_run(srv, d, t_from, time.monotonic())
        if d.sanitizer_reports():
            raise Failure("warm-up: sanitizer report:\n" + d.text()[-6000:])
    finally:
        d.close()
    chk.verify("after the warm-up")
    log("warm-up: every feed refreshed once in %.1f s"
        % (time.monotonic() - t_from))


def first_due():
    """A feed feedd has never polled must still be polled when feedd
    restarts more often than that feed's first due time comes round (a
    crash loop, or an operator reloading by restart): the first due time
    must not move with every start. New feeds take start-up ramp slots;
    with start-ramp 1 the eight feeds' slots span 8 s, longer than a run,
    so a ramp that started over at each start would never reach the last
    ones: the planned first fetch is stored and kept."""
    tmp = tempfile.mkdtemp(prefix="feedd-firstdue-")
    srv = hs.Server()
    notify = common.Notify(os.path.join(tmp, "notify.sock"))
    feeds = {n: ChangingFeed(n, random.Random(i)) for i, n in
             enumerate("new%d" % k for k in range(8))}
    srv.routes = {"/c/" + n: f.handler for n, f in feeds.items()}
    srv.start()
    conf = os.path.join(tmp, "feedd.conf")
    interval = 20
    with open(conf, "w") as f:
        f.write("database %s\ninterval %ds\nlog-level info\nstart-ramp 1\n"
                % (os.path.join(tmp, "feedd.db"), interval))
        for n in feeds:
            f.write("feed %s %s\n" % (n, srv.url("/c/" + n)))
    try:
        t0 = time.monotonic()
        runs = 0
        # Restart every 2 s for 1.5 intervals: every feed is due by then.
        while time.monotonic() - t0 < 1.5 * interval + 2:
            mark = notify.mark()
            d = common.Daemon(conf, os.path.join(tmp, "feedd.log"), notify)
            try:
                if not notify.wait_for("READY=1", mark, 30):
                    raise Failure("no READY=1:\n" + d.text()[-3000:])
                time.sleep(2)
                d.kill()
                if d.sanitizer_reports():
                    raise Failure("sanitizer report:\n" + d.text()[-6000:])
            finally:
                d.close()
            runs += 1
        never = [n for n in feeds if not srv.requests("/c/" + n)]
        log("%d restarts in %.0f s; feeds polled: %s" % (
            runs, time.monotonic() - t0,
            ", ".join("%s %d" % (n, len(srv.requests("/c/" + n)))
                      for n in feeds)))
        if never:
            raise Failure("%s (interval %d s, never polled before) not polled "
                          "once in %.0f s of restarts every 2 s: the first "
                          "due time is recomputed from each start instead of "
                          "being kept" % (", ".join(never), interval,
                                          time.monotonic() - t0))
    finally:
        notify.close()
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def final_run(srv, notify, conf, db, tmp, chk):
    """Restart after the last kill: feeds due later are not fetched now,
    overdue ones are; SIGTERM then exits 0; the FTS index is sound."""
    due = dict(db.query("SELECT name, next_due FROM feeds_v1"))
    mark = notify.mark()
    t_from = time.monotonic()
    wall = time.time()
    d = common.Daemon(conf, os.path.join(tmp, "feedd.log"), notify)
    try:
        if not notify.wait_for("READY=1", mark, 30):
            raise Failure("final run: no READY=1:\n" + d.text()[-3000:])
        time.sleep(4)
        t_to = time.monotonic()
        for name in SLOW + FAST:
            reqs = [r for r in srv.requests("/c/" + name) if r.t >= t_from]
            nd = due.get(name)
            if nd is None:
                continue
            early = [r for r in reqs if r.wall < nd - 1.0]
            if early:
                raise Failure("final run: %s requested at %+.1f s, before its "
                              "stored next_due %+.1f s" % (
                                  name, early[0].wall - wall, nd - wall))
            if nd < wall and not reqs and name in FAST:
                raise Failure("final run: overdue %s not polled within 4 s"
                              % name)
        log("final run: next_due honoured for %s" % ", ".join(
            "%s %+.0fs" % (n, due[n] - wall) for n in SLOW if due.get(n)))
        d.signal(signal.SIGTERM)
        rc = d.wait(30)
        if rc != 0:
            raise Failure("final run: SIGTERM exit status %r:\n%s"
                          % (rc, d.text()[-3000:]))
        rep = d.sanitizer_reports()
        if rep:
            raise Failure("final run: sanitizer report:\n" + d.text()[-6000:])
        chk.account_run(srv, d, t_from, t_to + 30)
        chk.verify("after the final run")
        chk.verify_schedule()
    finally:
        d.close()
    log("final run: exit 0, integrity ok, %s" % db.fts_check(tmp))


if __name__ == "__main__":
    if sys.argv[1:] == ["first_due"]:
        sys.exit(common.run_main(first_due))
    sys.exit(common.run_main(run))

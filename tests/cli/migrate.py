#!/usr/bin/env python3
"""feedctl migrate as a user runs it: a SQLite database the real feedd
filled with --once from tests/support/feedserver.py (updated articles,
purged ones, blocked keys, rule counts, a hook's cursor) copied to
PostgreSQL and back, every public view compared with
tests/support/pg_views_check.py and every table row for row; after the
switch `feedd --once` fetches nothing early and new ids never collide.
Then what a user relies on when it goes wrong: an unreachable destination,
a missing source, a destination that is not empty or is the source, and a
destination that changes what it is given (checksum mismatch: refused,
rolled back), each with exit 1, a clear message and nothing written.

Environment: FEEDD, FEEDCTL, FEEDD_SOURCE_DIR (tests/cli.cmake) and
FEEDD_TEST_PG_FILE (the pg fixture, tests/pg.cmake).
"""
import os
import pty
import select
import shutil
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from harness import FEEDCTL, FEEDD, Failure, Server, check, main  # noqa: E402
import pgserver  # noqa: E402

VIEWS_CHECK = os.path.join(HERE, "..", "support", "pg_views_check.py")
TABLES = {
    "feeds": "id", "articles": "id", "purged": "feed_id, key",
    "changes": "seq", "hook_state": "name", "rule_counts": "name",
    "blocked_keys": "feed_id, key",
}


def rss(title, items):
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0"><channel><title>%s</title>' % title,
           '<link>http://example.com/</link><description>d</description>']
    for guid, t, day, desc in items:
        out.append('<item><guid isPermaLink="false">urn:%s</guid><title>%s</title>'
                   '<link>http://example.com/%s</link>'
                   '<pubDate>Mon, %02d Jan 2024 10:00:00 GMT</pubDate>'
                   '<description>%s</description></item>'
                   % (guid, t, guid, day, desc))
    out.append("</channel></rss>\n")
    return "\n".join(out)


def fc(*args, timeout=120):
    p = subprocess.run([FEEDCTL] + list(args), capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in p.stderr, "sanitizer report:\n" + p.stderr)
    return p.returncode, p.stdout, p.stderr


def ok(*args):
    rc, out, err = fc(*args)
    check(rc == 0, "feedctl %s: exit %d: %s" % (" ".join(args), rc, err))
    return out


def views_same(a, b):
    p = subprocess.run([sys.executable, VIEWS_CHECK, a, b], capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0, "pg_views_check %s %s: exit %d:\n%s%s"
          % (a, b, p.returncode, p.stdout, p.stderr))
    return p.stdout


def table_rows(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return {t: con.execute("SELECT * FROM %s ORDER BY %s" % (t, k)).fetchall()
                for t, k in TABLES.items()}
    finally:
        con.close()


def sqlite_seq(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return dict(con.execute("SELECT name, seq FROM sqlite_sequence"))
    finally:
        con.close()


class World:
    """Three feeds on a local server, a block rule, a hook, feedd --once
    twice (the second after an edit: an update and a purge)."""

    def __init__(self, tmp):
        self.tmp = tmp
        root = os.path.join(tmp, "www")
        os.mkdir(root)
        self.srv = Server(root)
        self.srv.write("news.xml", rss("News", [
            ("n%d" % i, "News %d" % i, i + 1, "about news %d, gardening" % i)
            for i in range(6)]))
        self.srv.write("short.xml", rss("Short", [
            ("s%d" % i, "Short %d" % i, i + 1, "short %d" % i) for i in range(4)]))
        self.srv.write("ads.xml", rss("Ads", [
            ("a1", "Sponsored: buy", 2, "ad"), ("a2", "Real story", 3, "real"),
            ("a3", "Sponsored: more", 4, "ad")]))
        hook = os.path.join(tmp, "sink.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\ncat >/dev/null\n")
        os.chmod(hook, 0o755)
        self.hook = hook
        self.db = os.path.join(tmp, "feeds.db")
        self.env = dict(os.environ)
        self.env.pop("NOTIFY_SOCKET", None)
        self.conf = self.write_conf(self.db)
        self.once("--all")
        # An edit: n0 retitled (revision 2), n6 new; short gets two more
        # entries and keeps two, so older ones are purged.
        self.srv.write("news.xml", rss("News", [
            ("n%d" % i, "News %d%s" % (i, " (updated)" if i == 0 else ""), i + 1,
             "about news %d, gardening" % i) for i in range(7)]))
        self.srv.write("short.xml", rss("Short", [
            ("s%d" % i, "Short %d" % i, i + 1, "short %d" % i) for i in range(3, 6)]))
        self.once("--all")

    def write_conf(self, database, name="feedd.conf"):
        conf = os.path.join(self.tmp, name)
        with open(conf, "w") as f:
            f.write('database "%s"\n' % database)
            f.write("feed news %s interval=6h\n" % self.srv.url("/news.xml"))
            f.write("feed short %s interval=6h keep-count=2\n"
                    % self.srv.url("/short.xml"))
            f.write("feed ads %s interval=6h\n" % self.srv.url("/ads.xml"))
            f.write("rule noads block title~^Sponsored: feeds=ads\n")
            f.write("hook sink exec %s\n" % self.hook)
        return conf

    def once(self, *args, conf=None):
        p = subprocess.run([FEEDD, "--config", conf or self.conf, "--once",
                            "--quiet"] + list(args), capture_output=True,
                           text=True, timeout=120, env=self.env)
        check(p.returncode == 0, "feedd --once: exit %d: %s"
              % (p.returncode, p.stderr))

    def requests(self):
        return sum(self.srv.count("/%s.xml" % n) for n in ("news", "short", "ads"))


def migrate_roundtrip(tmp):
    pg = pgserver.fixture()
    w = World(tmp)
    try:
        src = table_rows(w.db)
        # What the source holds, so the round trip has each kind of state.
        check(len(src["feeds"]) == 3 and len(src["purged"]) >= 2 and
              len(src["blocked_keys"]) == 2 and len(src["rule_counts"]) == 1 and
              src["rule_counts"][0][1] == 2 and len(src["hook_state"]) == 1 and
              src["hook_state"][0][1] == max(r[0] for r in src["changes"]) and
              any(r[19] == 2 for r in src["articles"]) and
              any(r[3] == "purge" for r in src["changes"]),
              "the source lacks some state: %r" % {k: len(v) for k, v in src.items()})
        before = os.stat(w.db).st_mtime_ns, open(w.db, "rb").read()

        conn = pg.create_database()
        # Batches of 3: every table is read in several, each after the
        # last key (integer or text, one column or two) of the one before.
        out = ok("migrate", "--from", "sqlite:" + w.db, "--to", conn, "--batch", "3")
        want = ("migrated feeds=3 articles=%d purged=%d changes=%d hook_state=1 "
                "rule_counts=1 blocked_keys=2 checksum="
                % (len(src["articles"]), len(src["purged"]), len(src["changes"])))
        check(out.startswith(want) and len(out.splitlines()) == 1,
              "summary line: %r, want %r..." % (out, want))
        check((os.stat(w.db).st_mtime_ns, open(w.db, "rb").read()) == before,
              "the source file was written to")
        views_same(w.db, conn)
        # Full-text search on the new store finds what the old one does.
        q = ("search", "--format", "tsv", "--limit", "0", "gardening")
        check(sorted(ok("--db", conn, *q).splitlines()) ==
              sorted(ok("--db", w.db, *q).splitlines()) and
              len(ok("--db", conn, *q).splitlines()) == 7,
              "search on PostgreSQL differs")

        # Back to SQLite in small batches (keys paged over, both kinds),
        # with progress on a terminal.
        back = os.path.join(tmp, "back.db")
        master, slave = pty.openpty()
        p = subprocess.Popen([FEEDCTL, "migrate", "--from", conn, "--to", back,
                              "--batch", "2"], stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL, text=True)
        os.close(slave)
        tty = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
        os.close(master)
        out2 = p.stdout.read()
        p.wait(timeout=60)
        tty = tty.decode("utf-8", "replace")
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            check(bad not in tty, "sanitizer report:\n" + tty)
        check(p.returncode == 0, "PostgreSQL -> SQLite: exit %d: %s"
              % (p.returncode, tty))
        check(out2.split(" checksum=")[0] == out.split(" checksum=")[0] and
              out2.split(" checksum=")[1].split()[0] ==
              out.split(" checksum=")[1].split()[0],
              "the two legs differ: %r vs %r" % (out, out2))
        check("copy   articles" in tty and "verify blocked_keys" in tty and
              ("%d / %d rows" % (len(src["articles"]), len(src["articles"]))) in tty,
              "no progress on the terminal: %r" % tty)
        views_same(w.db, back)
        got = table_rows(back)
        for t in TABLES:
            check(got[t] == src[t], "table %s differs after the round trip:\n%r\n%r"
                  % (t, src[t], got[t]))
        seq0, seq1 = sqlite_seq(w.db), sqlite_seq(back)
        check(seq1.get("articles", 0) >= seq0.get("articles", 0) and
              seq1.get("changes", 0) >= seq0.get("changes", 0),
              "id sequences went back: %r -> %r" % (seq0, seq1))
        check(sorted(ok("--db", back, *q).splitlines()) ==
              sorted(ok("--db", w.db, *q).splitlines()), "search on the copy differs")

        # The switch: the database line changed, feedd --once polls only
        # what is due, i.e. nothing yet, on either new store.
        n = w.requests()
        w.once(conf=w.write_conf(back, "back.conf"))
        w.once(conf=w.write_conf(conn, "pg.conf"))
        check(w.requests() == n, "feedd --once fetched early after the migration "
              "(%d requests, had %d)" % (w.requests(), n))
        check(table_rows(back) == src, "feedd --once changed the migrated SQLite store")
        views_same(w.db, conn)

        # New rows after the switch get ids above every old one.
        w.srv.write("news.xml", rss("News", [
            ("n%d" % i, "News %d" % i, i + 1, "about news %d" % i) for i in range(8)]))
        w.once("--feed", "news", conf=os.path.join(tmp, "pg.conf"))
        w.once("--feed", "news", conf=os.path.join(tmp, "back.conf"))
        top = max(r[0] for r in src["articles"])
        seq = max(r[0] for r in src["changes"])
        for db in (conn, back):
            new = [a for a in ok("--db", db, "articles", "--format", "tsv",
                                 "--after", str(top)).splitlines()]
            check(len(new) == 1 and "News 7" in new[0] and
                  int(new[0].split("\t")[0]) > top,
                  "%s: the new article: %r" % (db, new))
        back_new = table_rows(back)["changes"]
        check(all(r[0] > seq for r in back_new[len(src["changes"]):]) and
              len(back_new) > len(src["changes"]), "change-log seq after the switch")
    finally:
        w.srv.stop()


def migrate_refused(tmp):
    pg = pgserver.fixture()
    w = World(tmp)
    try:
        src_rows = table_rows(w.db)

        # Unreachable server: exit 1, says which side, no password shown.
        for to in ("host=%s/nosock port=1 dbname=x user=u password=s3cret" % tmp,
                   "postgresql://u:s3cret@127.0.0.1:1/x"):
            rc, out, err = fc("migrate", "--from", w.db, "--to", to)
            check(rc == 1 and "feedctl migrate: destination:" in err and
                  "s3cret" not in err and not out,
                  "unreachable destination %r: exit %d: %r" % (to, rc, err))

        # A missing source: exit 1 naming it; nothing created either side.
        dst = os.path.join(tmp, "new.db")
        rc, out, err = fc("migrate", "--from", os.path.join(tmp, "absent.db"),
                          "--to", dst)
        check(rc == 1 and "absent.db" in err and not os.path.exists(dst) and
              not os.path.exists(os.path.join(tmp, "absent.db")),
              "missing source: exit %d: %r" % (rc, err))

        # Usage errors: exit 2.
        for args in (("--from", w.db), ("--to", dst), ("--from", w.db, "--to", dst,
                                                       "--batch", "0")):
            rc, out, err = fc("migrate", *args)
            check(rc == 2 and "feedctl migrate:" in err and not os.path.exists(dst),
                  "migrate %r: exit %d: %r" % (args, rc, err))

        # The same file on both sides.
        rc, out, err = fc("migrate", "--from", w.db, "--to", "sqlite:" + w.db)
        check(rc == 1 and "same file" in err, "same file: exit %d: %r" % (rc, err))

        # A destination that is not empty is left as it was.
        conn = pg.create_database()
        ok("migrate", "--from", w.db, "--to", conn)
        other = os.path.join(tmp, "other.db")
        shutil.copy(w.db, other)
        rc, out, err = fc("migrate", "--from", other, "--to", conn)
        check(rc == 1 and "not empty" in err and "table feeds" in err,
              "non-empty PostgreSQL destination: exit %d: %r" % (rc, err))
        views_same(w.db, conn)
        rc, out, err = fc("migrate", "--from", conn, "--to", other)
        check(rc == 1 and "not empty" in err and os.path.exists(other),
              "non-empty SQLite destination: exit %d: %r" % (rc, err))
        check(table_rows(other) == src_rows, "the non-empty SQLite destination changed")

        # An empty feedd database (every table emptied) migrates as such,
        # which also gives PostgreSQL the schema without rows...
        empty = os.path.join(tmp, "empty.db")
        shutil.copy(w.db, empty)
        con = sqlite3.connect(empty)
        for t in TABLES:
            con.execute("DELETE FROM %s" % t)
        con.commit()
        con.close()
        tampered = pg.create_database()
        out = ok("migrate", "--from", empty, "--to", tampered)
        check(out.startswith("migrated feeds=0 articles=0 purged=0 changes=0"),
              "empty source: %r" % out)
        # ... where a trigger that rewrites what it is given stands for a
        # destination that does not store what it was sent.
        dbname = tampered.split("dbname=")[1].split()[0]
        pg.psql("CREATE FUNCTION feedd.tamper() RETURNS trigger LANGUAGE plpgsql"
                " AS $$ BEGIN IF NEW.title = 'News 1' THEN NEW.title := NEW.title || '!';"
                " END IF; RETURN NEW; END $$;"
                "CREATE TRIGGER tamper BEFORE INSERT ON feedd.articles"
                " FOR EACH ROW EXECUTE FUNCTION feedd.tamper();", dbname=dbname)
        rc, out, err = fc("migrate", "--from", w.db, "--to", tampered)
        check(rc == 1 and "verification failed: table articles" in err and
              "nothing was copied" in err and not out,
              "tampered destination: exit %d: %r" % (rc, err))
        n = pg.psql("SELECT (SELECT count(*) FROM feedd.feeds) +"
                    " (SELECT count(*) FROM feedd.articles) +"
                    " (SELECT count(*) FROM feedd.changes)", dbname=dbname)
        check(n.strip() == "0", "the refused migration left rows: %r" % n)
        # PostgreSQL to a new SQLite file a row at a time; an empty
        # PostgreSQL store to another.
        rc, out, err = fc("migrate", "--from", conn, "--to", dst, "--batch", "1")
        check(rc == 0, "PostgreSQL -> new SQLite file: %d %r" % (rc, err))
        fresh = os.path.join(tmp, "fresh.db")
        rc, out, err = fc("migrate", "--from", tampered, "--to", fresh)
        check(rc == 0 and out.startswith("migrated feeds=0"), "empty PostgreSQL: %r" % err)
        check(table_rows(dst) == src_rows, "PostgreSQL -> SQLite with --batch 1")
    finally:
        w.srv.stop()


if __name__ == "__main__":
    try:
        pgserver.fixture()
    except pgserver.PgError as e:
        print("migrate: %s" % e, file=sys.stderr)
        sys.exit(1)
    sys.exit(main([migrate_roundtrip, migrate_refused]))

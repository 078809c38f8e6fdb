#!/usr/bin/env python3
"""pg.views_check: tests/support/pg_views_check.py finds every difference
a migration could make in the public views, and none where the engines may
differ (timestamp forms, booleans, JSON layout).

Two SQLite databases written by store_fill (through store/, as feedd
writes them), the second with views rewritten to differ; then a SQLite
database against a PostgreSQL one on a private server (pgserver.py) whose
stand-in views use timestamptz, boolean and jsonb, as the driver may.

    test_views_check.py STORE_FILL [CASE...]     exit 0 pass, 1 fail
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "support")
sys.path.insert(0, SUPPORT)
import pgserver  # noqa: E402

TOOL = os.path.join(SUPPORT, "pg_views_check.py")
FILL = None
VIEWS = ["articles_v1", "changes_v1", "feeds_v1", "rule_counts_v1"]


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def tool(*args):
    r = subprocess.run([sys.executable, TOOL] + list(args), capture_output=True,
                       text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def expect(args, rc, lines=(), what=""):
    """Run the tool; check its status and that each line is in its output."""
    got_rc, out, err = tool(*args)
    check(got_rc == rc, "%s: exit %d, want %d:\n%s%s" % (what, got_rc, rc, out, err))
    for line in lines:
        check(line in out.splitlines(), "%s: no line %r in:\n%s" % (what, line, out))
    return out


def filled(tmp):
    """A database of two feeds, one refresh each and an edit."""
    db = os.path.join(tmp, "a.db")
    for args in (["news", "1", "4"], ["tech", "1", "2"], ["news", "2", "1", "--edit"]):
        r = subprocess.run([FILL, db] + args, capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "store_fill %s: %s" % (args, r.stderr))
    return db


def variant(src, tmp, name, rewrite=None, where=None, drop=(), extra=None):
    """A copy of src whose view `name` (when given) shows rewrite's
    {column: SQL expression} instead of those columns, only rows matching
    where, and an extra column at the end; views in drop are gone."""
    dst = os.path.join(tmp, "b-%d.db" % len(os.listdir(tmp)))
    shutil.copy(src, dst)
    con = sqlite3.connect(dst)
    for v in drop:
        con.execute("DROP VIEW %s" % v)
    if name:
        cols = [r[1] for r in con.execute("PRAGMA table_info(%s)" % name)]
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                          (name,)).fetchone()[0]
        body = sql.split(" AS ", 1)[1]
        con.execute("CREATE VIEW orig_%s_x AS %s" % (name, body))
        con.execute("DROP VIEW %s" % name)
        sel = ["%s AS %s" % ((rewrite or {}).get(c, c), c) for c in cols]
        if extra:
            sel.append("%s AS extra" % extra)
        con.execute("CREATE VIEW %s AS SELECT %s FROM orig_%s_x WHERE %s"
                    % (name, ", ".join(sel), name, where or "1"))
    con.commit()
    con.close()
    return dst


def sqlite_same(tmp):
    """A database and its copy: the same, every public view compared."""
    a = filled(tmp)
    b = os.path.join(tmp, "copy.db")
    shutil.copy(a, b)
    out = expect([a, b], 0, what="a copy")
    check("the same (%s)" % ", ".join(VIEWS) in out, "compared %r" % out)
    n = sqlite3.connect(a).execute("SELECT count(*) FROM articles_v1").fetchone()[0]
    check(n == 6, "store_fill stored %d articles, want 6" % n)


def sqlite_differences(tmp):
    """Each kind of difference is found and named: a value, a NULL that
    became '', a missing row, an extra column, a view gone, an instant."""
    a = filled(tmp)
    expect([a, variant(a, tmp, "articles_v1", {"title": "CASE WHEN id = 2"
            " THEN 'changed' ELSE title END"})], 1,
           ["articles_v1: id=2: title: A 'Article 2 of news (edited)', B 'changed'"],
           "a changed title")
    expect([a, variant(a, tmp, "articles_v1", {"author": "coalesce(author, '')"})], 1,
           ["articles_v1: id=1: author: A None, B ''"], "NULL against ''")
    expect([a, variant(a, tmp, "articles_v1", where="id <> 3")], 1,
           ["articles_v1: id=3 only in A"], "a missing row")
    expect([variant(a, tmp, "changes_v1", where="seq <> 1"), a], 1,
           ["changes_v1: seq=1 only in B"], "a row only in B")
    expect([a, variant(a, tmp, "feeds_v1", extra="1")], 1,
           ["feeds_v1: columns only in A [], only in B ['extra']"], "an extra column")
    expect([a, variant(a, tmp, None, drop=["rule_counts_v1"])], 1,
           ["rule_counts_v1: view only in A"], "a view gone")
    expect([a, variant(a, tmp, "articles_v1", {"published":
            "strftime('%Y-%m-%dT%H:%M:%SZ', published, '+1 hour')"})], 1,
           ["articles_v1: id=1: published: A '2024-01-01T00:01:00Z',"
            " B '2024-01-01T01:01:00Z'"], "another instant")
    # --views picks views, and a missing one is an error of its own.
    expect(["--views", "feeds_v1,nope_v1", a, a], 1,
           ["nope_v1: no such view in A", "nope_v1: no such view in B"], "--views")
    expect(["--views", "feeds_v1", a, variant(a, tmp, "articles_v1", where="0")], 0,
           what="--views leaves other views out")
    code, _, err = tool(a, os.path.join(tmp, "missing.db"))
    check(code == 2 and "no such file" in err, "a missing file: exit %d %r" % (code, err))


def sqlite_normalized(tmp):
    """What the engines may differ by is no difference: an RFC 3339 time
    with another offset, Unix seconds as a timestamp, JSON re-spaced."""
    a = filled(tmp)
    b = variant(a, tmp, "articles_v1", {
        "published": "strftime('%Y-%m-%d %H:%M:%S', published, '+2 hours') || '+02:00'",
        "first_seen": "strftime('%Y-%m-%dT%H:%M:%SZ', first_seen, 'unixepoch')",
        "categories": "replace(categories, '[', '[ ')",
        "revision": "CAST(revision AS REAL)"})
    row = sqlite3.connect(b).execute(
        "SELECT published, first_seen, categories FROM articles_v1 WHERE id = 1").fetchone()
    check(row[0] == "2024-01-01 02:01:00+02:00" and row[1].endswith("Z")
          and row[2] == '[ "test"]', "the variant did not rewrite: %r" % (row,))
    expect([a, b], 0, what="normalized forms")


def pg_side(tmp):
    """SQLite against PostgreSQL views with timestamptz, boolean and jsonb:
    the same rows are the same, a changed one is found."""
    db = os.path.join(tmp, "s.db")
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE a (id INTEGER PRIMARY KEY, title TEXT, author TEXT,
            published TEXT, categories TEXT, enclosures TEXT, first_seen INTEGER);
        INSERT INTO a VALUES (1, 'One', NULL, '2024-01-31T09:15:00Z', '["linux","kernel"]',
            '[{"url":"http://e/1.mp3","type":"audio/mpeg","length":5}]', 1706692500);
        INSERT INTO a VALUES (2, 'Two', '', NULL, NULL, NULL, 1706692501);
        CREATE VIEW articles_v1 AS SELECT id, title, author, published, categories,
            enclosures, first_seen FROM a;
        CREATE TABLE f (id INTEGER PRIMARY KEY, name TEXT, gone INTEGER);
        INSERT INTO f VALUES (1, 'lwn', 0), (2, 'old', 1);
        CREATE VIEW feeds_v1 AS SELECT * FROM f;
    """)
    con.commit()
    con.close()
    with pgserver.PgServer() as pg:
        conninfo = pg.create_database()
        pg.psql("""
            CREATE SCHEMA feedd;
            CREATE TABLE feedd.a (id bigint PRIMARY KEY, title text, author text,
                published timestamptz, categories jsonb, enclosures jsonb,
                first_seen timestamptz);
            INSERT INTO feedd.a VALUES (2, 'Two', '', NULL, NULL, NULL,
                to_timestamp(1706692501));
            INSERT INTO feedd.a VALUES (1, 'One', NULL, '2024-01-31 10:15:00+01',
                '[ "linux", "kernel" ]',
                '[{"length": 5, "type": "audio/mpeg", "url": "http://e/1.mp3"}]',
                '2024-01-31T09:15:00Z');
            CREATE VIEW feedd.articles_v1 AS SELECT * FROM feedd.a;
            CREATE TABLE feedd.f (id bigint PRIMARY KEY, name text, gone boolean);
            INSERT INTO feedd.f VALUES (1, 'lwn', false), (2, 'old', true);
            CREATE VIEW feedd.feeds_v1 AS SELECT * FROM feedd.f;
            CREATE VIEW feedd.internal AS SELECT 1 AS x;
        """, dbname=conninfo.split("dbname=")[1])
        dbname = conninfo.split("dbname=")[1]
        out = expect([db, conninfo], 0, what="SQLite against PostgreSQL")
        check("the same (articles_v1, feeds_v1)" in out, "compared %r" % out)
        # The URI form of the same connection.
        uri = "postgresql://feedd@/%s?host=%s&port=%d" % (dbname, pg.dir, pg.port)
        expect([uri, db], 0, what="a postgresql:// URI")

        pg.psql("UPDATE feedd.a SET published = published + interval '1 second'"
                " WHERE id = 1; UPDATE feedd.f SET gone = false WHERE id = 2;"
                " UPDATE feedd.a SET author = NULL WHERE id = 2;"
                " UPDATE feedd.a SET categories = '[\"linux\"]' WHERE id = 1",
                dbname=dbname)
        expect([db, conninfo], 1, [
            "articles_v1: id=1: published: A '2024-01-31T09:15:00Z',"
            " B '2024-01-31T09:15:01+00:00'",
            "articles_v1: id=1: categories: A '[\"linux\",\"kernel\"]', B ['linux']",
            "articles_v1: id=2: author: A '', B None",
            "feeds_v1: id=2: gone: A 1, B False"], "changed PostgreSQL rows")
        pg.psql("CREATE OR REPLACE VIEW feedd.feeds_v1 AS SELECT id, name, gone,"
                " 0 AS extra FROM feedd.f", dbname=dbname)
        expect([db, conninfo], 1,
               ["feeds_v1: columns only in A [], only in B ['extra']"], "a new column")
        code, _, err = tool(db, "host=%s port=%d user=feedd dbname=nope"
                            % (pg.dir, pg.port))
        check(code == 2 and "nope" in err, "a missing database: exit %d %r" % (code, err))


def main(tests):
    global FILL
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print("usage: test_views_check.py STORE_FILL [CASE...]")
        return 1
    FILL = sys.argv[1]
    only = sys.argv[2:]
    failed = 0
    for fn in tests:
        if only and fn.__name__ not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="feedd-pgvc-")
        t0 = time.monotonic()
        try:
            fn(tmp)
            print("ok   %s (%.1fs)" % (fn.__name__, time.monotonic() - t0), flush=True)
        except (Failure, pgserver.PgError) as e:
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e), flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main([sqlite_same, sqlite_differences, sqlite_normalized, pg_side]))

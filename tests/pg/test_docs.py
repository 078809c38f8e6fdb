#!/usr/bin/env python3
"""pg.docs: the setup in docs/postgresql.md works as the page says, on a
server of its own (tests/support/pgserver.py) where roles log in with a
password over the unix socket.

The SQL blocks after the page's <!-- pg-... --> markers run as they are
printed. feedd's views do not exist yet (the driver makes them), so
stand-in tables and views of the same names play their part; what is
checked is what the page promises: feedd's role owns database and schema
and needs no more; a reader in feedd_read SELECTs the views and can do
nothing else; a role outside it cannot connect; libpq finds passwords in a
0600 password file (PGPASSFILE, passfile=) and ignores a readable one;
the systemd drop-in is one systemd-analyze verify reads without a word.

    test_docs.py [CASE...]     exit 0 pass, 1 fail
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import pgserver  # noqa: E402

DOC = os.path.join(SRC, "docs", "postgresql.md")
VIEWS = ("feeds_v1", "articles_v1", "changes_v1", "rule_counts_v1")
# Stand-ins for the driver's objects: a table behind each view.
STAND_IN = """
CREATE SCHEMA IF NOT EXISTS feedd;
CREATE TABLE feedd.feeds (id bigint PRIMARY KEY, name text);
CREATE TABLE feedd.articles (id bigint PRIMARY KEY, feed_id bigint, title text);
CREATE TABLE feedd.changes (seq bigint PRIMARY KEY, article_id bigint, kind text);
CREATE TABLE feedd.rule_counts (name text PRIMARY KEY, matches bigint);
INSERT INTO feedd.feeds VALUES (1, 'lwn');
INSERT INTO feedd.articles VALUES (7, 1, 'Kernel news');
INSERT INTO feedd.changes VALUES (1, 7, 'new');
INSERT INTO feedd.rule_counts VALUES ('ads', 3);
CREATE VIEW feedd.feeds_v1 AS SELECT id, name FROM feedd.feeds;
CREATE VIEW feedd.articles_v1 AS SELECT a.id, f.name AS feed, a.title
    FROM feedd.articles a JOIN feedd.feeds f ON f.id = a.feed_id;
CREATE VIEW feedd.changes_v1 AS SELECT seq, article_id, kind FROM feedd.changes;
CREATE VIEW feedd.rule_counts_v1 AS SELECT name, matches FROM feedd.rule_counts;
"""


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def blocks():
    """{marker: code} for each <!-- pg-NAME --> followed by a fenced block."""
    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    out = dict(re.findall(r"<!-- (pg-[a-z-]+) -->\n```[a-z]*\n(.*?)```", text, re.S))
    for name in ("pg-setup", "pg-reader-role", "pg-reader-grants", "pg-reader-login",
                 "pg-dropin"):
        check(name in out, "%s: no SQL block after <!-- %s -->" % (DOC, name))
    return out, text


class Server:
    """A bare server (no role feedd) whose roles other than the superuser
    need a password on the socket, and a password file for them."""

    def __init__(self, tmp):
        self.pg = pgserver.PgServer(bare=True, hba=[
            "local all postgres trust",
            "local all all scram-sha-256"]).start()
        self.passfile = os.path.join(tmp, "pgpass")

    def admin(self, sql, dbname="postgres"):
        return self.pg.psql(sql, dbname=dbname, user="postgres")

    def write_passfile(self, users, mode=0o600):
        with open(self.passfile, "w") as f:
            for u in users:
                f.write("%s:%d:*:%s:pw-%s\n" % (self.pg.dir, self.pg.port, u, u))
        os.chmod(self.passfile, mode)

    def run(self, user, sql, dbname="feedd", env=None):
        """psql as user with the password file; the CompletedProcess."""
        return self.pg.psql(sql, dbname=dbname, user=user, check=False,
                            env=env if env is not None else {"PGPASSFILE": self.passfile})

    def ok(self, user, sql, dbname="feedd"):
        r = self.run(user, sql, dbname)
        check(r.returncode == 0, "as %s: %r: exit %d: %s"
              % (user, sql, r.returncode, r.stderr.strip()))
        return r.stdout.strip()

    def denied(self, user, sql, what, dbname="feedd"):
        r = self.run(user, sql, dbname)
        check(r.returncode != 0 and "permission denied" in r.stderr,
              "as %s: %r (%s) was not refused: exit %d %r"
              % (user, sql, what, r.returncode, (r.stdout + r.stderr).strip()))

    def stop(self):
        self.pg.stop()


def setup_and_readers(tmp):
    """Role, database, schema and the reader grants as the page prints them."""
    sql, _ = blocks()
    srv = Server(tmp)
    try:
        srv.admin(sql["pg-setup"])
        got = srv.admin("SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole,"
                        " pg_get_userbyid(d.datdba) FROM pg_roles r, pg_database d"
                        " WHERE r.rolname = 'feedd' AND d.datname = 'feedd'").strip()
        check(got == "f|f|f|feedd", "role feedd (super, createdb, createrole,"
              " database owner) = %r, want f|f|f|feedd" % got)
        got = srv.admin("SELECT pg_get_userbyid(nspowner) FROM pg_namespace"
                        " WHERE nspname = 'feedd'", dbname="feedd").strip()
        check(got == "feedd", "schema feedd is owned by %r, not feedd" % got)
        # \password in the page; the same done without a terminal.
        srv.admin("ALTER ROLE feedd PASSWORD 'pw-feedd'")
        srv.write_passfile(["feedd", "mailer", "stranger"])

        # feedd creates (if-not-exists included) and fills its schema.
        srv.ok("feedd", STAND_IN)

        srv.admin(sql["pg-reader-role"])
        srv.admin(sql["pg-reader-grants"])
        srv.admin(sql["pg-reader-login"])
        srv.admin("ALTER ROLE mailer PASSWORD 'pw-mailer';"
                  " CREATE ROLE stranger LOGIN PASSWORD 'pw-stranger'")

        for v in VIEWS:
            got = srv.ok("mailer", "SELECT count(*) FROM feedd.%s" % v)
            check(got == "1", "mailer: feedd.%s has %r rows, want 1" % (v, got))
        got = srv.ok("mailer", "SELECT id, feed, title FROM feedd.articles_v1"
                     " ORDER BY id DESC LIMIT 20")
        check(got == "7|lwn|Kernel news", "the page's reader query gave %r" % got)
        srv.denied("mailer", "SELECT * FROM feedd.articles", "a table behind a view")
        srv.denied("mailer", "INSERT INTO feedd.feeds_v1 (id, name)"
                   " VALUES (8, 'x')", "a write through an updatable view")
        srv.denied("mailer", "DELETE FROM feedd.changes_v1", "a delete through a view")
        srv.denied("mailer", "CREATE TABLE feedd.mine (x int)", "a table in schema feedd")
        srv.denied("mailer", "CREATE TABLE public.mine (x int)", "a table in public")
        srv.denied("mailer", "CREATE TEMP TABLE mine (x int)", "a temporary table")
        srv.denied("stranger", "SELECT 1", "a role outside feedd_read connecting")
        # The page's search_path hint.
        srv.admin("ALTER ROLE mailer SET search_path = feedd")
        check(srv.ok("mailer", "SELECT title FROM articles_v1") == "Kernel news",
              "search_path = feedd: articles_v1 not found unqualified")
        # feedd still reads and writes its own tables.
        srv.ok("feedd", "INSERT INTO feedd.articles VALUES (8, 1, 'More');"
               " DELETE FROM feedd.articles WHERE id = 8")
    finally:
        srv.stop()


def passwords(tmp):
    """PGPASSFILE and passfile= find the password; a file group or others
    may read is ignored; without one the login fails."""
    sql, text = blocks()
    check("0600" in text and "PGPASSFILE" in text and "passfile=" in text,
          "the page no longer documents 0600, PGPASSFILE and passfile=")
    srv = Server(tmp)
    try:
        srv.admin(sql["pg-setup"])
        srv.admin("ALTER ROLE feedd PASSWORD 'pw-feedd'")
        missing = os.path.join(tmp, "none")
        r = srv.run("feedd", "SELECT 1", env={"PGPASSFILE": missing})
        check(r.returncode != 0 and "password" in r.stderr,
              "no password file, yet: exit %d %r" % (r.returncode, r.stderr.strip()))

        srv.write_passfile(["feedd"])
        check(srv.ok("feedd", "SELECT current_user") == "feedd", "PGPASSFILE login")
        r = srv.pg.psql("SELECT current_user", check=False, env={"PGPASSFILE": missing},
                        dbname="feedd passfile=%s" % srv.passfile, user="feedd")
        check(r.returncode == 0 and r.stdout.strip() == "feedd",
              "passfile= login: exit %d %r" % (r.returncode, r.stderr.strip()))

        srv.write_passfile(["feedd"], mode=0o640)
        r = srv.run("feedd", "SELECT 1")
        check(r.returncode != 0 and "group or world access" in r.stderr,
              "a 0640 password file was used: exit %d %r"
              % (r.returncode, r.stderr.strip()))
    finally:
        srv.stop()


def systemd_dropin(tmp):
    """The drop-in orders feedd after postgresql.service, and systemd reads
    it (its commented line too, uncommented) without a complaint."""
    sql, _ = blocks()
    dropin = sql["pg-dropin"]
    for line in ("After=postgresql.service", "Wants=postgresql.service"):
        check(line in dropin.splitlines(), "the drop-in has no %r" % line)
    analyze = shutil.which("systemd-analyze")
    check(analyze, "no systemd-analyze (apt-get install systemd)")
    for text in (dropin, dropin.replace("#Environment=", "Environment=")):
        d = tempfile.mkdtemp(dir=tmp)
        os.mkdir(os.path.join(d, "feedd.service.d"))
        # A stand-in for the installed unit: verify reads the drop-in
        # directory beside the unit it is given.
        with open(os.path.join(d, "feedd.service"), "w") as f:
            f.write("[Unit]\nDescription=feedd stand-in\n[Service]\n"
                    "ExecStart=/bin/true\n")
        with open(os.path.join(d, "feedd.service.d", "postgresql.conf"), "w") as f:
            f.write(text)
        r = subprocess.run([analyze, "verify", os.path.join(d, "feedd.service")],
                           env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"),
                           capture_output=True, text=True, timeout=60)
        out = (r.stdout + r.stderr).strip()
        check(r.returncode == 0 and not out,
              "systemd-analyze verify with the drop-in: exit %d %r" % (r.returncode, out))


def main(tests):
    only = sys.argv[1:]
    failed = 0
    for fn in tests:
        if only and fn.__name__ not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="feedd-pgdocs-")
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
    sys.exit(main([setup_and_readers, passwords, systemd_dropin]))

#!/usr/bin/env python3
"""pg_views_check.py: do two feedd databases show the same public views?
(Python 3 stdlib; psql for a PostgreSQL side.)

    pg_views_check.py [--schema feedd] [--views V1,V2] A B

A and B are each a SQLite database file (or sqlite:PATH) or a libpq
connection string (postgresql://... or key=value ...). For a PostgreSQL
side the views are read from schema feedd (--schema), in a session whose
TimeZone is UTC. The migration round-trip test compares a SQLite database
with the PostgreSQL one it was copied into; two SQLite files compare too.

The public views are the ones named NAME_vN (store/SCHEMA.md: feeds_v1,
articles_v1, changes_v1, rule_counts_v1, ...), unless --views lists them.
For each, both sides must have the view, the same column names in the same
order, and the same rows, matched by the first column (id, seq, name) and
in any order. Values are the same when equal after these normalizations,
the ones the two engines are allowed to differ by:

- an RFC 3339 text and a timestamptz (or another RFC 3339 text) are the
  same instant: 2024-01-31T09:15:00Z = 2024-01-31 10:15:00+01:00;
- Unix seconds (SQLite INTEGER) and a timestamptz at that second;
- 0/1 and false/true;
- JSON text and json/jsonb holding the same value (key order and white
  space aside).

Exit status: 0 same, 1 different (one line per difference on stdout, the
first 50 of them), 2 bad usage or a database that cannot be read.
"""
import datetime
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys

PUBLIC = re.compile(r"^[a-z_]+_v[0-9]+$")
RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                     r"([Zz]|[+-]\d{2}(?::?\d{2})?)$")
MAX_REPORT = 50


class CheckError(Exception):
    pass


def instant(s):
    """An RFC 3339 / ISO 8601 timestamp with an offset as an aware UTC
    datetime, or None when s is not one."""
    if not isinstance(s, str):
        return None
    m = RFC3339.match(s)
    if not m:
        return None
    y, mo, d, h, mi, sec, frac, off = m.groups()
    us = int((frac or ".0")[1:].ljust(6, "0")[:6])
    if off in ("Z", "z"):
        delta = datetime.timedelta(0)
    else:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        delta = sign * datetime.timedelta(hours=int(digits[:2]),
                                          minutes=int(digits[2:] or 0))
    try:
        t = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi),
                              int(sec), us, tzinfo=datetime.timezone(delta))
    except ValueError:
        return None
    return t.astimezone(datetime.timezone.utc)


def as_json(v):
    """v parsed as JSON when it is text holding an array or object."""
    if isinstance(v, str) and v[:1] in ("[", "{"):
        try:
            return json.loads(v)
        except ValueError:
            return None
    return None


def same(a, b):
    """Whether two column values are the same under the normalizations."""
    if isinstance(a, bool):
        a = int(a)
    if isinstance(b, bool):
        b = int(b)
    if a is None or b is None:
        return a is None and b is None
    if type(a) is type(b) and a == b:
        return True
    ta, tb = instant(a), instant(b)
    if ta is not None and tb is not None:
        return ta == tb
    for t, n in ((ta, b), (tb, a)):
        if t is not None and isinstance(n, (int, float)):
            return t.timestamp() == n
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    ja = a if isinstance(a, (list, dict)) else as_json(a)
    jb = b if isinstance(b, (list, dict)) else as_json(b)
    if ja is not None and jb is not None:
        return ja == jb
    return False


def canon(v):
    """A sortable text for a value, equal for values same() calls equal
    (used to pair rows by their first column and to order duplicates)."""
    if isinstance(v, bool):
        v = int(v)
    t = instant(v)
    if t is not None:
        return "t%r" % t.timestamp()
    if isinstance(v, (int, float)):
        return "n%r" % float(v)
    if isinstance(v, (list, dict)):
        return "j" + json.dumps(v, sort_keys=True)
    j = as_json(v)
    if j is not None:
        return "j" + json.dumps(j, sort_keys=True)
    return "s" + repr(v)


class SqliteSide:
    def __init__(self, path):
        if path.startswith("sqlite:"):
            path = path[len("sqlite:"):]
        if not os.path.isfile(path):
            raise CheckError("%s: no such file" % path)
        self.name = path
        try:
            self.con = sqlite3.connect("file:%s?mode=ro" % path, uri=True,
                                       timeout=5)
            self.con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as e:
            raise CheckError("%s: %s" % (path, e))

    def views(self):
        return sorted(r[0] for r in self.con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'view'")
            if PUBLIC.match(r[0]))

    def read(self, view):
        try:
            cur = self.con.execute('SELECT * FROM "%s"' % view)
        except sqlite3.Error as e:
            raise CheckError("%s: %s: %s" % (self.name, view, e))
        cols = [d[0] for d in cur.description]
        return cols, [list(r) for r in cur]


class PgSide:
    def __init__(self, conninfo, schema):
        self.name = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:****@", conninfo)
        self.conninfo = conninfo
        self.schema = schema
        self.psql = shutil.which("psql")
        if self.psql is None:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import pgserver
            try:
                self.psql = os.path.join(pgserver.find_bindir(), "psql")
            except pgserver.PgError as e:
                raise CheckError("no psql: %s" % e)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
            raise CheckError("schema %r: use [a-z_][a-z0-9_]*" % schema)

    def query(self, sql):
        r = subprocess.run(
            [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-d", self.conninfo, "-f", "-"],
            input="SET TimeZone = 'UTC';\n" + sql, capture_output=True,
            text=True, timeout=300)
        if r.returncode != 0:
            raise CheckError("%s: %s" % (self.name, r.stderr.strip()))
        return json.loads(r.stdout)

    def views(self):
        got = self.query(
            "SELECT coalesce(json_agg(viewname ORDER BY viewname), '[]')"
            " FROM pg_views WHERE schemaname = '%s'" % self.schema)
        return [v for v in got if PUBLIC.match(v)]

    def read(self, view):
        rel = '"%s"."%s"' % (self.schema, view)
        # The columns from the catalog (a view with no rows has them too);
        # the rows as JSON, where NULL, '' and false stay apart.
        got = self.query(
            "SELECT json_build_object('cols', (SELECT json_agg(attname ORDER BY"
            " attnum) FROM pg_attribute WHERE attrelid = '%s'::regclass AND"
            " attnum > 0 AND NOT attisdropped), 'rows', (SELECT"
            " coalesce(json_agg(t), '[]') FROM %s t))" % (rel, rel))
        cols = got["cols"]
        return cols, [[r[c] for c in cols] for r in got["rows"]]


def open_side(s, schema):
    if (s.startswith("postgresql://") or s.startswith("postgres://")
            or ("=" in s and not os.path.exists(s))):
        return PgSide(s, schema)
    return SqliteSide(s)


def compare_view(view, a, b):
    """The differences of one view as lines of text."""
    out = []
    ca, ra = a.read(view)
    cb, rb = b.read(view)
    if ca != cb:
        only_a = [c for c in ca if c not in cb]
        only_b = [c for c in cb if c not in ca]
        if only_a or only_b:
            out.append("%s: columns only in A %s, only in B %s"
                       % (view, only_a, only_b))
        else:
            out.append("%s: columns in another order: A %s, B %s" % (view, ca, cb))
        return out
    groups = {}
    for side, rows in ((0, ra), (1, rb)):
        for r in rows:
            groups.setdefault(canon(r[0]), ([], []))[side].append(r)
    for key in sorted(groups):
        ga, gb = (sorted(g, key=lambda r: [canon(v) for v in r])
                  for g in groups[key])
        for i in range(max(len(ga), len(gb))):
            if i >= len(gb):
                out.append("%s: %s=%r only in A" % (view, ca[0], ga[i][0]))
            elif i >= len(ga):
                out.append("%s: %s=%r only in B" % (view, ca[0], gb[i][0]))
            else:
                for c, x, y in zip(ca, ga[i], gb[i]):
                    if not same(x, y):
                        out.append("%s: %s=%r: %s: A %r, B %r"
                                   % (view, ca[0], ga[i][0], c, x, y))
    return out


def compare(a, b, views=None):
    """All differences between sides a and b, as lines of text."""
    out = []
    va, vb = a.views(), b.views()
    if views is None:
        for v in va:
            if v not in vb:
                out.append("%s: view only in A" % v)
        for v in vb:
            if v not in va:
                out.append("%s: view only in B" % v)
        views = [v for v in va if v in vb]
    else:
        for v in views:
            for side, have in (("A", va), ("B", vb)):
                if v not in have:
                    out.append("%s: no such view in %s" % (v, side))
        views = [v for v in views if v in va and v in vb]
    for v in views:
        out.extend(compare_view(v, a, b))
    return out


def main(argv):
    usage = "usage: pg_views_check.py [--schema S] [--views V1,V2] A B"
    schema, views, args = "feedd", None, []
    i = 0
    while i < len(argv):
        if argv[i] in ("--schema", "--views") and i + 1 < len(argv):
            if argv[i] == "--schema":
                schema = argv[i + 1]
            else:
                views = [v for v in argv[i + 1].split(",") if v]
            i += 2
        elif argv[i].startswith("--"):
            print(usage, file=sys.stderr)
            return 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        print(usage, file=sys.stderr)
        return 2
    try:
        a, b = open_side(args[0], schema), open_side(args[1], schema)
        diffs = compare(a, b, views)
    except CheckError as e:
        print("pg_views_check: %s" % e, file=sys.stderr)
        return 2
    for line in diffs[:MAX_REPORT]:
        print(line)
    if len(diffs) > MAX_REPORT:
        print("... and %d more differences" % (len(diffs) - MAX_REPORT))
    if diffs:
        print("A = %s, B = %s: %d difference(s)" % (a.name, b.name, len(diffs)))
        return 1
    print("A = %s, B = %s: the same (%s)" % (a.name, b.name,
          ", ".join(views if views is not None else a.views()) or "no views"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Keep and block rules end to end (feedd.conf(5) `rule`).

rules_once:     a block rule keeps matching entries out of articles_v1 and
                changes_v1, the others are stored; a keep rule (by tag)
                restricts another feed; `feedctl rules` shows the counts, a
                rule that never matched shows 0 and "never"; a changed
                document with the same blocked entry does not count it again.
rules_test:     `feedctl rules --test FEED` shows the verdict and deciding
                rule for each stored article and changes nothing.
rules_check_config: each bad rule (regex, field, action, feeds=, duplicate
                name) is reported by --check-config with file:line.
rules_sighup:   a changed rule applies to the next refresh after SIGHUP; a
                reload with an invalid regex is rejected (file:line in the
                log) and the old rules keep working.
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FEEDCTL, FEEDD, Daemon, Server, check, db_rows,  # noqa: E402
                     main, rss, wait_for)


def run(args, timeout=60):
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env.pop("JOURNAL_STREAM", None)
    p = subprocess.run([FEEDD] + args, capture_output=True, text=True,
                       timeout=timeout, env=env)
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in p.stderr, "sanitizer report:\n" + p.stderr)
    return p


def ctl(conf, *args):
    p = subprocess.run([FEEDCTL, "--config", conf] + list(args),
                       capture_output=True, text=True, timeout=30)
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in p.stderr, "sanitizer report:\n" + p.stderr)
    check(p.returncode == 0, "feedctl %s exited %d: %s"
          % (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def titles(db, feed):
    return sorted(r[0] for r in db_rows(
        db, "SELECT title FROM articles_v1 WHERE feed = ?", (feed,)))


def change_titles(db):
    return sorted(r[0] for r in db_rows(
        db, "SELECT a.title FROM changes_v1 c JOIN articles_v1 a"
        " ON a.id = c.article_id"))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


NEWS = [("n1", "Sponsored: buy now", "ad"), ("n2", "Real story", "x"),
        ("n3", "Another story", "y")]
LANG = [("l1", "Rust 1.80 released", "r"), ("l2", "Go 1.23 released", "g"),
        ("l3", "Why rust", "r")]


def setup(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    srv.write("news.xml", rss(NEWS))
    srv.write("lang.xml", rss(LANG))
    db = os.path.join(tmp, "f.db")
    conf = os.path.join(tmp, "feedd.conf")
    base = ("database %s\ninterval 1h\n"
            "feed news %s\nfeed lang %s tags=code\n"
            % (db, srv.url("/news.xml"), srv.url("/lang.xml")))
    return srv, db, conf, base


RULES = ("rule ads block title~*\"^sponsored: \" feeds=news\n"
         "rule rust-only keep title~*rust feeds=tag:code\n"
         "rule never block author~^nobody-at-all$\n")


def rules_once(tmp):
    srv, db, conf, base = setup(tmp)
    try:
        write(conf, base + "log-level info\n" + RULES)
        p = run(["--config", conf, "--once", "--all"])
        check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
        line = [l for l in p.stderr.splitlines() if "feed=news entries=" in l]
        check(len(line) == 1 and " new=2 " in line[0] and " blocked=1" in line[0],
              "refresh summary: %r" % line)
        check(titles(db, "news") == ["Another story", "Real story"],
              "news: %r" % titles(db, "news"))
        check(titles(db, "lang") == ["Rust 1.80 released", "Why rust"],
              "lang: %r" % titles(db, "lang"))
        ch = change_titles(db)
        check("Sponsored: buy now" not in ch and "Go 1.23 released" not in ch
              and len(ch) == 4, "change log: %r" % ch)

        rows = {r["name"]: r for r in map(json.loads, ctl(
            conf, "rules", "--format", "jsonl").splitlines())}
        check(set(rows) == {"ads", "rust-only", "never"}, "rules: %r" % rows)
        check(rows["ads"]["matches"] == 1 and rows["ads"]["action"] == "block"
              and rows["ads"]["last_match"], "ads: %r" % rows["ads"])
        check(rows["rust-only"]["matches"] == 2, "rust-only: %r" % rows["rust-only"])
        check(rows["never"]["matches"] == 0 and rows["never"]["last_match"] is None,
              "never: %r" % rows["never"])
        check(rows["ads"]["feeds"] == ["news"] and rows["ads"]["icase"] is True
              and rows["ads"]["regex"] == "^sponsored: "
              and rows["ads"]["defined"] == "%s:6" % conf, "ads: %r" % rows["ads"])
        text = ctl(conf, "rules", "--format", "text").splitlines()
        check(text[0].split()[:2] == ["RULE", "ACTION"], "header: %r" % text)
        never = [l for l in text if l.startswith("never ")]
        check(len(never) == 1 and never[0].split()[-2:] == ["0", "never"],
              "never in text: %r" % text)
        ads = [l for l in text if l.startswith("ads ")]
        check(len(ads) == 1 and " 1  " in ads[0] and "never" not in ads[0],
              "ads in text: %r" % text)

        # A changed document still listing the blocked entry, plus a new
        # ad and a new story: the old ad is not counted again, nothing
        # blocked is stored, the new story is.
        srv.write("news.xml", rss(NEWS + [("n4", "SPONSORED: more", "ad"),
                                          ("n5", "Fresh story", "z")]))
        p = run(["--config", conf, "--once", "--all"])
        check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
        check(titles(db, "news") == ["Another story", "Fresh story", "Real story"],
              "news after change: %r" % titles(db, "news"))
        rows = {r["name"]: r for r in map(json.loads, ctl(
            conf, "rules", "--format", "jsonl").splitlines())}
        check(rows["ads"]["matches"] == 2, "ads counted again: %r" % rows["ads"])
        check(rows["rust-only"]["matches"] == 2, "rust-only: %r" % rows["rust-only"])
    finally:
        srv.stop()


def rules_test(tmp):
    srv, db, conf, base = setup(tmp)
    try:
        write(conf, base)
        p = run(["--config", conf, "--once", "--all"])
        check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
        check(len(titles(db, "news")) == 3, "news: %r" % titles(db, "news"))
        write(conf, base + RULES + "rule real block text~^x$ feeds=news\n")
        before = db_rows(db, "SELECT count(*), max(seq) FROM changes_v1")
        out = [json.loads(l) for l in ctl(conf, "rules", "--test", "news",
                                           "--format", "jsonl").splitlines()]
        got = {o["title"]: (o["verdict"], o["rule"], o["why"]) for o in out}
        check(got == {
            "Sponsored: buy now": ("block", "ads", "block rule matched"),
            "Real story": ("block", "real", "block rule matched"),
            "Another story": ("keep", None, "no rule matched"),
        }, "news --test: %r" % got)
        check(all(isinstance(o["id"], int) for o in out), "ids: %r" % out)
        out = [json.loads(l) for l in ctl(conf, "rules", "--test", "lang",
                                           "--format", "jsonl").splitlines()]
        got = {o["title"]: (o["verdict"], o["rule"], o["why"]) for o in out}
        check(got == {
            "Rust 1.80 released": ("keep", "rust-only", "keep rule matched"),
            "Go 1.23 released": ("block", None, "no keep rule matched"),
            "Why rust": ("keep", "rust-only", "keep rule matched"),
        }, "lang --test: %r" % got)
        text = ctl(conf, "rules", "--test", "lang", "--format", "text")
        go = [l for l in text.splitlines() if "Go 1.23" in l]
        check(len(go) == 1 and "block" in go[0] and "(no keep rule matched)" in go[0],
              "text --test: %r" % text)
        check("2 kept, 1 blocked" in text, "text summary: %r" % text)
        # Nothing changed.
        check(len(titles(db, "news")) == 3 and len(titles(db, "lang")) == 3,
              "--test changed articles")
        check(db_rows(db, "SELECT count(*), max(seq) FROM changes_v1") == before,
              "--test changed the change log")
        check(db_rows(db, "SELECT count(*) FROM rule_counts_v1") == [(0,)],
              "--test counted matches")
        # An unknown feed is an error.
        p = subprocess.run([FEEDCTL, "--config", conf, "rules", "--test", "nope"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 1 and "no feed named 'nope'" in p.stderr,
              "unknown feed: %d %r" % (p.returncode, p.stderr))
    finally:
        srv.stop()


def rules_check_config(tmp):
    conf = os.path.join(tmp, "feedd.conf")
    write(conf, "database %s\n"
          "feed a http://127.0.0.1:9/a tags=t\n"
          "rule ok block title~x\n"
          "rule r1 block title~(unclosed\n"
          "rule r2 block subject~x\n"
          "rule r3 drop title~x\n"
          "rule r4 block title~x feeds=nosuch\n"
          "rule r5 block title~x feeds=tag:nosuch\n"
          "rule r6 block title~x feeds=\n"
          "rule ok keep text~y\n"
          "rule r7 block title~two words\n" % os.path.join(tmp, "f.db"))
    p = run(["--check-config", "--config", conf])
    check(p.returncode == 1, "exit %d:\n%s" % (p.returncode, p.stderr))
    for line, text in ((4, "rule: invalid regex '(unclosed'"),
                       (5, "rule: unknown field 'subject'"),
                       (6, "rule: unknown action 'drop'"),
                       (7, "rule: feeds=: no feed named 'nosuch'"),
                       (8, "rule: feeds=: no feed has tag 'nosuch'"),
                       (9, "rule: feeds= is empty"),
                       (10, "rule: duplicate rule name 'ok' (first defined at %s:3)" % conf),
                       (11, "rule: expected key=value, got 'words'")):
        check("%s:%d: %s" % (conf, line, text) in p.stderr,
              "no %s:%d error %r in:\n%s" % (conf, line, text, p.stderr))
    check("8 errors" in p.stderr, "count:\n" + p.stderr)
    # The good version prints its rules back in config syntax.
    write(conf, "database %s\nfeed a http://127.0.0.1:9/a\n"
          "rule ok block title~*\"a b\" feeds=a\n" % os.path.join(tmp, "f.db"))
    p = run(["--check-config", "--config", conf])
    check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
    check('rule ok block "title~*a b" feeds=a\n' in p.stdout, p.stdout)
    # Before feedd ever stored anything, feedctl rules shows the rules
    # with nothing matched yet.
    out = ctl(conf, "rules", "--format", "text").splitlines()
    check(len(out) == 2 and out[1].split()[0] == "ok"
          and out[1].split()[-2:] == ["0", "never"], "no database: %r" % out)


def rules_sighup(tmp):
    srv, db, conf, base = setup(tmp)
    d = None
    try:
        base = base.replace("feed news %s\n" % srv.url("/news.xml"),
                            "feed news %s interval=1s\n" % srv.url("/news.xml"))
        srv.write("news.xml", rss([("a1", "A one", "x"), ("b1", "B one", "y")]))
        write(conf, base + "rule r block title~^A feeds=news\n")
        d = Daemon(tmp, conf)
        wait_for("B one stored", lambda: "B one" in titles(db, "news")
                 or not d.alive())
        check(d.alive(), "feedd exited:\n" + d.log())
        check(titles(db, "news") == ["B one"], "news: %r" % titles(db, "news"))

        # The rule changed: now B is blocked, A is not.
        write(conf, base + "rule r block title~^B feeds=news\n")
        d.signal(signal.SIGHUP)
        wait_for("the reload", lambda: "reloaded" in d.log(), timeout=10)
        srv.write("news.xml", rss([("a1", "A one", "x"), ("b1", "B one", "y"),
                                   ("a2", "A two", "x"), ("b2", "B two", "y")]))
        wait_for("A two stored", lambda: "A two" in titles(db, "news"),
                 timeout=15)
        # A one was never stored, so it is new and now passes too; B one
        # was stored before the change and stays.
        check(titles(db, "news") == ["A one", "A two", "B one"],
              "news after reload: %r" % titles(db, "news"))
        rows = {r["name"]: r for r in map(json.loads, ctl(
            conf, "rules", "--format", "jsonl").splitlines())}
        check(rows["r"]["matches"] == 2, "r: %r" % rows["r"])

        # A reload with an invalid regex is rejected with file:line; the
        # running rule keeps blocking B.
        write(conf, base + "rule r block title~^B feeds=news\n"
              "rule broken block title~[oops\n")
        d.signal(signal.SIGHUP)
        wait_for("the reload error", lambda: "reload rejected" in d.log(),
                 timeout=10)
        line = [l for l in d.log().splitlines() if "reload rejected" in l][-1]
        check("%s:6: rule: invalid regex '[oops'" % conf in line,
              "reload error: %s" % line)
        check(d.alive(), "feedd died on a bad rule")
        srv.write("news.xml", rss([("a1", "A one", "x"), ("b1", "B one", "y"),
                                   ("a2", "A two", "x"), ("b2", "B two", "y"),
                                   ("a3", "A three", "x"), ("b3", "B three", "y")]))
        wait_for("A three stored", lambda: "A three" in titles(db, "news"),
                 timeout=15)
        check("B three" not in titles(db, "news") and "B two" not in titles(db, "news"),
              "old rule not applied: %r" % titles(db, "news"))
        d.signal(signal.SIGTERM)
        check(d.wait(15) == 0, "feedd exit status:\n" + d.log())
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


if __name__ == "__main__":
    if not FEEDCTL or not os.access(FEEDCTL, os.X_OK):
        print("skip: FEEDCTL is not set to the feedctl binary")
        sys.exit(77)
    sys.exit(main([rules_once, rules_test, rules_check_config, rules_sighup]))

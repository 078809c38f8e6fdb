#!/usr/bin/env python3
"""feedctl add / remove / enable / disable: the file they write, what they
refuse, and the reload.

- round trip: add (creating feeds.d/ and feeds.d/feedctl.conf, mode
  0640), add with --name/--tags/KEY=VALUE, disable, enable, remove, each
  asserting the whole file; `feedd --check-config` passes on the result;
  the main file is never touched;
- refusals, each exit 1 leaving the file byte-identical: a value the
  config parser rejects (its FILE:LINE error is shown), a duplicate name,
  a duplicate URL, a feed defined in the main file (its FILE:LINE named),
  an unknown feed; a main file without the include (the line to add is
  named, nothing is created);
- the reload: a fake systemctl ($FEEDCTL_SYSTEMCTL) records its
  arguments; one that fails or is missing still leaves the edit in place
  (exit 0) and prints how to reload; --no-reload runs nothing;
- end to end: a running feedd, reloaded by the fake systemctl with
  SIGHUP, fetches a feed `feedctl add` added.

Environment: FEEDD, FEEDCTL, FEEDD_SOURCE_DIR (tests/edit.cmake).
"""
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import (FEEDCTL, FEEDD, Daemon, Server, check, main, rss,  # noqa: E402
                     wait_for)

HEADER = ("# Feeds managed by feedctl add, remove, enable and disable (see feedctl(1)).\n"
          "# Hand edits are kept; the main configuration reads this file through\n"
          "# `include feeds.d/*.conf`.\n")


def setup(tmp, include=True, env_extra=None):
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("# my own comments\ndatabase %s/f.db\n%s"
                "feed main1 https://main.example/feed.xml\n"
                % (tmp, "include feeds.d/*.conf\n" if include else ""))
    rec = os.path.join(tmp, "systemctl.args")
    fake = os.path.join(tmp, "fake-systemctl")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\necho "$@" >> %s\n' % rec)
    os.chmod(fake, 0o755)
    env = dict(os.environ, FEEDCTL_SYSTEMCTL=fake)
    env.update(env_extra or {})
    return conf, rec, env


def fc(env, conf, *args, want=0):
    p = subprocess.run([FEEDCTL, "--config", conf] + list(args), capture_output=True,
                       timeout=30, env=env)
    out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in err, "sanitizer report:\n" + err)
    check(p.returncode == want, "feedctl %s: exit %d, want %d\nstdout: %s\nstderr: %s"
          % (" ".join(args), p.returncode, want, out, err))
    return out, err


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_config(conf):
    p = subprocess.run([FEEDD, "--config", conf, "--check-config"], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 0, "feedd --check-config: %s" % p.stderr)
    return p.stdout + p.stderr


def round_trip(tmp):
    conf, rec, env = setup(tmp)
    main_before = read(conf)
    path = os.path.join(tmp, "feeds.d", "feedctl.conf")

    out, _ = fc(env, conf, "add", "https://news.example/rss.xml", "title=Example News")
    check("added feed example-news" in out and "feedd reloaded" in out, out)
    check(read(path).decode() == HEADER +
          'feed example-news https://news.example/rss.xml title="Example News"\n',
          "after add:\n" + read(path).decode())
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o640,
          "mode %o" % stat.S_IMODE(os.stat(path).st_mode))
    check(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o750, "feeds.d mode")

    fc(env, conf, "add", "https://b.example/atom.xml", "--name", "bee", "--tags", "linux,news",
       "interval=1h", "keep-days=30")
    body = HEADER + ('feed example-news https://news.example/rss.xml title="Example News"\n'
                     "feed bee https://b.example/atom.xml tags=linux,news interval=1h "
                     "keep-days=30\n")
    check(read(path).decode() == body, "after the second add:\n" + read(path).decode())
    # No --name, no title=: named after the host.
    fc(env, conf, "add", "https://www.host.example/x.json")
    body += "feed host.example https://www.host.example/x.json\n"
    check(read(path).decode() == body, "host name:\n" + read(path).decode())

    os.chmod(path, 0o600)  # a mode the operator chose is kept
    out, _ = fc(env, conf, "disable", "bee")
    check("disabled feed bee" in out, out)
    dis = body.replace("keep-days=30\n", "keep-days=30 enabled=no\n")
    check(read(path).decode() == dis, "after disable:\n" + read(path).decode())
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "mode not kept")
    check("4 feeds, 3 enabled" in check_config(conf), "disabled feed counted as enabled")
    out, _ = fc(env, conf, "disable", "bee")
    check("already disabled" in out, out)

    fc(env, conf, "enable", "bee")
    check(read(path).decode() == body, "after enable:\n" + read(path).decode())

    fc(env, conf, "remove", "example-news")
    body = body.replace('feed example-news https://news.example/rss.xml '
                        'title="Example News"\n', "")
    check(read(path).decode() == body, "after remove:\n" + read(path).decode())

    check(read(conf) == main_before, "the main file changed")
    check_config(conf)
    with open(rec) as f:
        calls = f.read().splitlines()
    # add, add, add, disable, enable, remove (not the no-op disable)
    check(calls == ["reload feedd"] * 6, "systemctl calls: %r" % calls)
    left = [n for n in os.listdir(os.path.dirname(path)) if n != "feedctl.conf"]
    check(left == [], "temporary files left: %s" % left)


def refusals(tmp):
    conf, rec, env = setup(tmp)
    path = os.path.join(tmp, "feeds.d", "feedctl.conf")
    fc(env, conf, "add", "https://a.example/feed", "--name", "alpha")
    before = read(path)

    _, err = fc(env, conf, "add", "https://c.example/feed", "interval=often", want=1)
    check("feeds.d/feedctl.conf:5: feed: bad duration 'often'" in err and
          "nothing changed" in err, err)
    _, err = fc(env, conf, "add", "https://c.example/feed", "colour=red", want=1)
    check("feeds.d/feedctl.conf:5" in err and "colour" in err, err)
    _, err = fc(env, conf, "add", "https://d.example/feed", "--name", "alpha", want=1)
    check("a feed named 'alpha' is already configured" in err and
          "feedctl.conf:4" in err, err)
    _, err = fc(env, conf, "add", "https://d.example/feed", "--name", "main1", want=1)
    check("'main1' is already configured (%s:4)" % conf in err, err)
    _, err = fc(env, conf, "add", "HTTPS://A.EXAMPLE/feed", want=1)
    check("already configured as feed 'alpha'" in err, err)
    _, err = fc(env, conf, "add", "https://e.example/feed", "--name", "bad name", want=1)
    check("feedctl.conf:5" in err, err)
    for cmd in ("remove", "disable"):
        _, err = fc(env, conf, cmd, "main1", want=1)
        check("feed 'main1' is defined at %s:4" % conf in err, err)
        _, err = fc(env, conf, cmd, "nosuch", want=1)
        check("no feed named 'nosuch'" in err, err)
    check(read(path) == before, "the file changed on a refusal")
    with open(rec) as f:
        check(f.read().splitlines() == ["reload feedd"], "reload after a refusal")

    # Usage errors.
    _, err = fc(env, conf, "add", want=2)
    check("which URL" in err, err)
    _, err = fc(env, conf, "add", "ftp://x.example/", want=2)
    check("bad URL" in err, err)
    _, err = fc(env, conf, "add", "https://x.example/", "stray", want=2)
    check("unexpected argument 'stray'" in err, err)
    _, err = fc(env, conf, "add", "https://x.example/", "--tags", "a", "tags=b", want=2)
    check("--tags and tags=" in err, err)
    _, err = fc(env, conf, "remove", want=2)
    check("which feed" in err, err)
    check(read(path) == before, "the file changed on a usage error")


def no_include(tmp):
    conf, rec, env = setup(tmp, include=False)
    before = read(conf)
    _, err = fc(env, conf, "add", "https://a.example/feed", want=1)
    check("include feeds.d/*.conf" in err and conf in err, err)
    check(not os.path.exists(os.path.join(tmp, "feeds.d")), "feeds.d/ created anyway")
    check(read(conf) == before and not os.path.exists(rec), "changed or reloaded")


def reload_fails(tmp):
    conf, rec, env = setup(tmp)
    path = os.path.join(tmp, "feeds.d", "feedctl.conf")
    env["FEEDCTL_SYSTEMCTL"] = os.path.join(tmp, "no-such-systemctl")
    _, err = fc(env, conf, "add", "https://a.example/feed")
    check("feedd was not reloaded" in err and
          "systemctl reload feedd, or kill -HUP $(pidof feedd)" in err, err)
    check(b"https://a.example/feed" in read(path), "the edit was not kept")
    failing = os.path.join(tmp, "failing")
    with open(failing, "w") as f:
        f.write("#!/bin/sh\necho 'Unit feedd.service not loaded.' >&2\nexit 5\n")
    os.chmod(failing, 0o755)
    env["FEEDCTL_SYSTEMCTL"] = failing
    _, err = fc(env, conf, "disable", "a.example")
    check("exited with status 5" in err and "kill -HUP" in err, err)
    env["FEEDCTL_SYSTEMCTL"] = os.path.join(tmp, "fake-systemctl")
    out, _ = fc(env, conf, "enable", "a.example", "--no-reload")
    check("not reloaded (--no-reload)" in out and "kill -HUP $(pidof feedd)" in out, out)
    check(not os.path.exists(rec), "--no-reload ran systemctl")


def daemon_reload(tmp):
    """A running feedd fetches the feed `feedctl add` added, reloaded
    through FEEDCTL_SYSTEMCTL (a script that sends it SIGHUP)."""
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    with open(os.path.join(www, "a.xml"), "w") as f:
        f.write(rss([("1", "first", "x")], title="A"))
    with open(os.path.join(www, "b.xml"), "w") as f:
        f.write(rss([("1", "second", "y")], title="B"))
    srv = Server(www)
    d = None
    try:
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s/f.db\ninterval 1h\ninclude feeds.d/*.conf\n"
                    "feed a %s allow-private=yes\n" % (tmp, srv.url("/a.xml")))
        d = Daemon(tmp, conf)
        wait_for("the first feed's fetch", lambda: srv.count("/a.xml") >= 1)
        hup = os.path.join(tmp, "hup")
        with open(hup, "w") as f:
            f.write('#!/bin/sh\necho "$@" > %s/hup.args\nkill -HUP %d\n' % (tmp, d.proc.pid))
        os.chmod(hup, 0o755)
        env = dict(os.environ, FEEDCTL_SYSTEMCTL=hup)
        t0 = time.monotonic()
        out, _ = fc(env, conf, "add", srv.url("/b.xml"), "--name", "b")
        check("feedd reloaded" in out, out)
        wait_for("the added feed's fetch", lambda: srv.count("/b.xml") >= 1, timeout=10)
        took = time.monotonic() - t0
        check(took < 5, "the added feed was fetched %.1fs after add" % took)
        with open(os.path.join(tmp, "hup.args")) as f:
            check(f.read().strip() == "reload feedd", "args")
        check(d.alive(), "feedd died:\n" + d.log())
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


if __name__ == "__main__":
    sys.exit(main([round_trip, refusals, no_include, reload_fails, daemon_reload]))

#!/usr/bin/env python3
"""The `listen` endpoints: /metrics and /healthz of a real feedd.

    test_metrics.py [TEST ...]      run all tests or the named ones

scrape: feedd polls a feed that answers 200, one that answers 304 after
its first fetch, one that is 404 and one whose port refuses connections.
/metrics passes `promtool check metrics` (promtool must be installed: the
test fails without it, it does not skip), and its poll counts agree with
the requests the feed server saw; articles, feeds by status, build info.
HTTP Basic: 401 without or with wrong credentials, 200 with them; 405 for
POST, 404 for other paths, HEAD without a body.

store_failure: /healthz is 200, then 503 with the store's reason once
writes fail, and 200 again after the next successful write; the systemd
watchdog (WATCHDOG_USEC) is not fed while /healthz says 503. Writes are
made to fail by holding SQLite's write lock from another connection
(BEGIN EXCLUSIVE): feedd's writer then gets SQLITE_BUSY after its busy
timeout, a real failed write. chmod'ing the database would not do it (feedd
keeps its descriptor open, and root ignores modes anyway), nor can a test
remount a file system read-only as a normal user; the lock works for both.

reload: SIGHUP with a new port serves there and no longer on the old one;
a changed password file takes effect on the same address; a port that is taken keeps the old one serving and logs why; a Unix socket
path serves over the socket.

bind_failure: an address in use at start-up is a fatal error naming the
config line, the address and the errno text.

check_config: bad `listen` lines are reported with file:line.
"""

import base64
import errno
import http.client
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FEEDD, Daemon, Failure, Notify, Server, check,  # noqa: E402
                     db_rows, main, wait_for)

USER, PASSWORD = "prom", "s3cret pass"


def promtool():
    path = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.access(path, os.X_OK):
        raise Failure("promtool not found (install the prometheus package): "
                      "the exposition format cannot be checked")
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(self.unix_path)


def get(addr, path, auth=(USER, PASSWORD), method="GET"):
    """(status, body, headers) from feedd's endpoint at addr."""
    if addr.startswith("/"):
        c = UnixHTTPConnection(addr)
    else:
        host, port = addr.rsplit(":", 1)
        c = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = {}
    if auth:
        token = base64.b64encode(("%s:%s" % auth).encode()).decode()
        headers["Authorization"] = "Basic " + token
    try:
        c.request(method, path, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode(), dict(r.getheaders())
    finally:
        c.close()


def try_get(addr, path, auth=(USER, PASSWORD)):
    try:
        return get(addr, path, auth)
    except OSError:
        return None


def parse(text):
    """{'name{labels}': value} of the samples in an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        out[key] = float(value)
    return out


def setup(tmp, listen, feeds=None, extra="", env=None, notify=None):
    """Config, password file and a running feedd; returns (daemon, conf, db)."""
    pw = os.path.join(tmp, "metrics.pw")
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    db = os.path.join(tmp, "feeds.db")
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\ninterval 2s\nlog-level info\n" % db)
        f.write("listen %s user=%s password-file=metrics.pw\n" % (listen, USER))
        for name, url, keys in feeds or []:
            f.write("feed %s %s%s\n" % (name, url, keys))
        f.write(extra)
    d = Daemon(tmp, conf, notify=notify, env=env)
    return d, conf, db


def finish(d):
    d.signal(signal.SIGTERM)
    rc = d.wait(15)
    log = d.log()
    d.kill()
    check(rc == 0, "feedd exited %d:\n%s" % (rc, log))
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in log, "sanitizer report in feedd's log:\n" + log)


def server_counts(srv):
    """What the feed server saw: polls answered 200, 304, 404."""
    reqs = srv.requests()
    ok = nm = missing = 0
    for r in reqs:
        path = r["path"].split("?")[0]
        if path == "/ok.xml":
            ok += 1
        elif path == "/etag.xml":
            if r["headers"].get("if-none-match") == '"v1"':
                nm += 1
            else:
                ok += 1
        elif path == "/missing.xml":
            missing += 1
    return ok, nm, missing


def scrape(tmp):
    srv = Server(tmp)
    d = None
    try:
        srv.routes({"/ok.xml": {"feed": 3},
                    "/etag.xml": {"feed": 2, "seed": "e", "etag": '"v1"'}})
        addr = "127.0.0.1:%d" % free_port()
        dead = "http://127.0.0.1:%d/refused.xml" % free_port()
        d, conf, db = setup(tmp, addr, [
            ("ok", srv.url("/ok.xml"), ""),
            ("etag", srv.url("/etag.xml"), ""),
            ("missing", srv.url("/missing.xml"), ""),
            ("refused", dead, ""),
            ("off", srv.url("/off.xml"), " enabled=no"),
        ], extra="rule one block title~^Item.1 feeds=ok\n"
                 "rule never block title~^nothing-like-this$\n")
        wait_for("/healthz", lambda: (try_get(addr, "/healthz") or [0])[0]
                 == 200)
        st, body, _ = get(addr, "/healthz")
        check(body == "ok\n", "healthz body %r" % body)

        # Authentication: both endpoints.
        for path in ("/metrics", "/healthz"):
            st, _, hdr = get(addr, path, auth=None)
            check(st == 401, "%s without credentials: %d" % (path, st))
            check("Basic" in hdr.get("WWW-Authenticate", ""),
                  "401 without a Basic challenge: %r" % hdr)
            st, _, _ = get(addr, path, auth=(USER, "wrong"))
            check(st == 401, "%s with a wrong password: %d" % (path, st))
            st, _, _ = get(addr, path, auth=("root", PASSWORD))
            check(st == 401, "%s with a wrong user: %d" % (path, st))
        st, _, hdr = get(addr, "/metrics", method="POST")
        check(st == 405 and "GET" in hdr.get("Allow", ""),
              "POST: %d %r" % (st, hdr))
        st, _, _ = get(addr, "/metrics/", method="GET")
        check(st == 404, "/metrics/: %d" % st)
        st, _, _ = get(addr, "/", method="GET")
        check(st == 404, "/: %d" % st)
        st, body, _ = get(addr, "/metrics", method="HEAD")
        check(st == 200 and body == "", "HEAD: %d %r" % (st, body[:80]))

        def progressed():
            m = parse(get(addr, "/metrics")[1])
            return (m.get('feedd_polls_total{result="not_modified"}', 0) >= 2
                    and m.get('feedd_poll_errors_total{class="connect"}', 0)
                    >= 1 and m.get('feedd_poll_errors_total{class="http_4xx"}',
                                   0) >= 1)
        wait_for("304s and both kinds of error in /metrics", progressed,
                 timeout=20, step=0.3)

        # The server's log and feedd's counters, read when no poll is
        # between them: the server saw the same before and after the
        # scrape, and every request it saw has been counted.
        last = None
        deadline = time.monotonic() + 15
        while True:
            before = server_counts(srv)
            st, text, hdr = get(addr, "/metrics")
            after = server_counts(srv)
            m = parse(text)
            seen = (m['feedd_polls_total{result="ok"}'],
                    m['feedd_polls_total{result="not_modified"}'],
                    m['feedd_poll_errors_total{class="http_4xx"}'])
            if before == after and seen == tuple(float(x) for x in before):
                break
            last = (before, after, seen)
            check(time.monotonic() < deadline,
                  "poll counts never matched the server's: server "
                  "before/after, feedd ok/not_modified/http_4xx: %r" % (last,))
            time.sleep(0.2)
        check(st == 200, "metrics status %d" % st)
        check(hdr.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              "Content-Type %r" % hdr.get("Content-Type"))
        p = subprocess.run([promtool(), "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, "promtool check metrics failed (%d):\n%s%s"
              % (p.returncode, p.stdout, p.stderr))

        errors = m['feedd_polls_total{result="error"}']
        by_class = sum(v for k, v in m.items()
                       if k.startswith("feedd_poll_errors_total{"))
        check(errors == by_class, "errors %r, by class %r" % (errors, by_class))
        check(errors == m['feedd_poll_errors_total{class="http_4xx"}'] +
              m['feedd_poll_errors_total{class="connect"}'],
              "errors other than 404 and refused: %r" % m)
        check(m['feedd_polls_total{result="gone"}'] == 0, "gone polls")
        check(m['feedd_build_info{version="0.1.0"}'] == 1
              or any(k.startswith("feedd_build_info{") for k in m),
              "no build info")
        start = m["feedd_process_start_time_seconds"]
        check(abs(start - time.time()) < 120, "start time %r" % start)

        # Articles: what the database holds (3 + 2 new less the one the
        # rule blocked, nothing updated).
        stored = db_rows(db, "SELECT count(*) FROM articles_v1")[0][0]
        check(stored == 4, "articles stored: %r" % stored)
        check(m['feedd_rule_matches_total{rule="one",action="block"}'] == 1,
              "rule one: %r" % {k: v for k, v in m.items() if "rule" in k})
        check(m['feedd_rule_matches_total{rule="never",action="block"}'] == 0,
              "a rule that never matched is not shown at 0: %r" % {
                  k: v for k, v in m.items() if "rule" in k})
        check(m['feedd_articles_total{event="new"}'] == stored,
              "articles new %r, stored %r" % (
                  m['feedd_articles_total{event="new"}'], stored))
        check(m['feedd_articles_total{event="updated"}'] == 0, "updated")
        fetches = m["feedd_fetch_duration_seconds_count"]
        check(fetches >= sum(seen) and
              m['feedd_fetch_duration_seconds_bucket{le="+Inf"}'] == fetches,
              "fetch histogram count %r for %r polls" % (fetches, seen))
        check(m["feedd_fetch_received_bytes_total"] > 0, "no bytes counted")
        check(m["feedd_schedule_lag_seconds_count"] >= sum(seen),
              "schedule lag count %r" % m["feedd_schedule_lag_seconds_count"])
        check(m["feedd_store_transaction_duration_seconds_count"] > 0,
              "no store transactions")
        check(m["feedd_loop_stall_seconds_count"] > 0, "no loop iterations")

        # Feeds by status: counted on the loop's 1 s heartbeat.
        def statuses():
            m2 = parse(get(addr, "/metrics")[1])
            got = {s: m2['feedd_feeds{status="%s"}' % s]
                   for s in ("ok", "failing", "new", "disabled", "gone")}
            return got if got == {"ok": 2, "failing": 2, "new": 0,
                                  "disabled": 1, "gone": 0} else None
        try:
            wait_for("feeds by status", statuses, timeout=5, step=0.3)
        except Failure:
            raise Failure("feeds by status: %r" % parse(get(addr, "/metrics")[1]))
        finish(d)
        d = None
    finally:
        if d:
            d.kill()
        srv.stop()


def store_failure(tmp):
    srv = Server(tmp)
    d = None
    notify = Notify(os.path.join(tmp, "notify.sock"))
    lock = None
    try:
        srv.routes({"/a.xml": {"feed": 2}, "/b.xml": {"feed": 1, "seed": "b"}})
        addr = "127.0.0.1:%d" % free_port()
        d, conf, db = setup(tmp, addr, [
            ("a", srv.url("/a.xml"), " interval=1s"),
            ("b", srv.url("/b.xml"), " interval=1s")],
            env={"WATCHDOG_USEC": "400000"}, notify=notify)
        wait_for("/healthz", lambda: (try_get(addr, "/healthz") or [0])[0]
                 == 200)
        wait_for("articles", lambda: db_rows(
            db, "SELECT count(*) FROM articles_v1") == [(3,)])
        wait_for("WATCHDOG=1", lambda: notify.count("WATCHDOG=1") >= 2,
                 timeout=5)

        # Take the write lock and keep it.
        lock = sqlite3.connect(db, timeout=10, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        got = wait_for("503 from /healthz", lambda: (
            lambda r: r if r and r[0] == 503 else None)(
                try_get(addr, "/healthz")), timeout=25, step=0.2)
        check(got[1].startswith("store: ") and "locked" in got[1],
              "503 reason %r" % got[1])
        # Not fed while unhealthy (the last one may have been in flight).
        time.sleep(0.3)
        fed = notify.count("WATCHDOG=1")
        time.sleep(1.2)
        check(notify.count("WATCHDOG=1") == fed,
              "WATCHDOG=1 sent while /healthz says 503")
        st, text, _ = get(addr, "/metrics")
        m = parse(text)
        check(m["feedd_store_write_failures_total"] >= 1,
              "store failures not counted")
        check(st == 200, "/metrics while the store fails: %d" % st)

        lock.execute("ROLLBACK")
        lock.close()
        lock = None
        wait_for("200 from /healthz again", lambda: (
            try_get(addr, "/healthz") or [0])[0] == 200, timeout=20, step=0.2)
        fed = notify.count("WATCHDOG=1")
        wait_for("WATCHDOG=1 again", lambda: notify.count("WATCHDOG=1") > fed,
                 timeout=5)
        finish(d)
        d = None
    finally:
        if lock:
            lock.close()
        if d:
            d.kill()
        notify.close()
        srv.stop()


def rewrite_listen(conf, listen):
    with open(conf) as f:
        lines = f.readlines()
    with open(conf, "w") as f:
        for line in lines:
            if line.startswith("listen "):
                rest = line.split(None, 2)[2] if len(line.split()) > 2 else "\n"
                line = "listen %s %s" % (listen, rest)
            f.write(line)


def reload(tmp):
    a = "127.0.0.1:%d" % free_port()
    d, conf, db = setup(tmp, a)
    try:
        wait_for("serving on " + a,
                 lambda: (try_get(a, "/healthz") or [0])[0] == 200)
        b = "127.0.0.1:%d" % free_port()
        rewrite_listen(conf, b)
        d.signal(signal.SIGHUP)
        wait_for("serving on " + b,
                 lambda: (try_get(b, "/healthz") or [0])[0] == 200)
        wait_for("no longer on " + a, lambda: try_get(a, "/healthz") is None,
                 timeout=5)

        # A new password (the file is read again on SIGHUP), same address.
        with open(os.path.join(tmp, "metrics.pw"), "w") as f:
            f.write("changed\n")
        d.signal(signal.SIGHUP)
        wait_for("the new password", lambda: (try_get(
            b, "/healthz", auth=(USER, "changed")) or [0])[0] == 200, timeout=5)
        st, _, _ = get(b, "/healthz")
        check(st == 401, "the old password after a reload: %d" % st)
        with open(os.path.join(tmp, "metrics.pw"), "w") as f:
            f.write(PASSWORD + "\n")
        d.signal(signal.SIGHUP)
        wait_for("the password back", lambda: (try_get(b, "/healthz") or
                                               [0])[0] == 200, timeout=5)

        # A port someone else holds: b keeps serving.
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        c = "127.0.0.1:%d" % taken.getsockname()[1]
        rewrite_listen(conf, c)
        d.signal(signal.SIGHUP)
        want = "listen: bind %s: Address already in use; still serving on %s" % (c, b)
        wait_for("the rebind failure logged", lambda: want in d.log(), timeout=5)
        check("%s:4: listen: " % conf in d.log(), "no file:line:\n" + d.log())
        st, _, _ = get(b, "/healthz")
        check(st == 200, "old address after a failed rebind: %d" % st)
        taken.close()

        # A Unix socket.
        sock = os.path.join(tmp, "m.sock")
        rewrite_listen(conf, sock)
        d.signal(signal.SIGHUP)
        wait_for("serving on " + sock,
                 lambda: (try_get(sock, "/healthz") or [0])[0] == 200)
        st, text, _ = get(sock, "/metrics")
        check(st == 200 and "feedd_polls_total" in text, "metrics over %s" % sock)
        st, _, _ = get(sock, "/metrics", auth=None)
        check(st == 401, "unix socket without credentials: %d" % st)
        check(try_get(b, "/healthz") is None, "still serving on " + b)
        finish(d)
        d = None
        check(not os.path.exists(sock), "socket file left behind")
    finally:
        if d:
            d.kill()


def bind_failure(tmp):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    addr = "127.0.0.1:%d" % taken.getsockname()[1]
    try:
        d, conf, db = setup(tmp, addr)
        rc = d.wait(15)
        log = d.log()
        d.kill()
        check(rc == 1, "feedd exited %r with its address taken:\n%s" % (rc, log))
        want = "%s:4: listen: bind %s: Address already in use" % (conf, addr)
        check(want in log, "no '%s' in:\n%s" % (want, log))
        check(" ready: " not in log, "ready before the bind:\n" + log)
    finally:
        taken.close()


def check_config(tmp):
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write("x\n")
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s/feeds.db\n"
                "listen 127.0.0.1:9370 user=prom password-file=pw\n" % tmp)
    p = subprocess.run([FEEDD, "--check-config", "--config", conf],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "valid listen rejected:\n" + p.stderr)
    check("listen 127.0.0.1:9370 user=prom password-file=%s\n" % pw in p.stdout,
          "listen not printed:\n" + p.stdout)
    check("\nx\n" not in p.stdout, "password printed")
    for line, want in (
            ("listen 127.0.0.1:70000", "bad address '127.0.0.1:70000': bad port"),
            ("listen feeds.example:9370", "bad address 'feeds.example:9370'"),
            ("listen [::1]:9370 user=prom password-file=nope",
             "cannot read password file '%s/nope': No such file or directory"
             % tmp),
            ("listen 127.0.0.1:9370 user=prom", "user= and password-file= go "
             "together")):
        with open(conf, "w") as f:
            f.write("database %s/feeds.db\n# a comment\n%s\n" % (tmp, line))
        p = subprocess.run([FEEDD, "--check-config", "--config", conf],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 1, "'%s' accepted" % line)
        check("%s:3: listen: %s" % (conf, want) in p.stderr,
              "'%s': no '%s:3: listen: %s' in:\n%s" % (line, conf, want,
                                                      p.stderr))


def store_full(tmp):
    """The disk under the database fills up while feedd runs: /healthz says
    503 with SQLite's reason and the watchdog is not fed; polling goes on;
    once space is back, 200 and WATCHDOG=1 again and nothing was lost. The
    database lives on a small tmpfs in a mount namespace of feedd's own
    (unshare -m as root, unshare -rm otherwise); the test reaches it
    through /proc/PID/root."""
    srv = Server(tmp)
    d = None
    notify = Notify(os.path.join(tmp, "notify.sock"))
    try:
        srv.routes({"/a.xml": {"feed": 2}, "/b.xml": {"feed": 1, "seed": "b"}})
        data = os.path.join(tmp, "data")
        os.mkdir(data)
        addr = "127.0.0.1:%d" % free_port()
        pw = os.path.join(tmp, "metrics.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        db = os.path.join(data, "f.db")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "w") as f:
            f.write("database %s\ninterval 1s\nlog-level info\n" % db)
            f.write("listen %s user=%s password-file=%s\n" % (addr, USER, pw))
            f.write("feed a %s\nfeed b %s\n" % (srv.url("/a.xml"),
                                                 srv.url("/b.xml")))
        ns = ["unshare", "-m"] if os.getuid() == 0 else ["unshare", "-rm"]
        check(shutil.which("unshare"), "unshare (util-linux) is missing")
        prefix = ns + ["sh", "-c", 'mount -t tmpfs -o size=8m,mode=0755 tmpfs '
                       '"$FEEDD_TEST_DATA" && exec "$0" "$@"']
        d = Daemon(tmp, conf, notify=notify, prefix=prefix,
                   env={"FEEDD_TEST_DATA": data, "WATCHDOG_USEC": "400000"})
        wait_for("/healthz", lambda: (try_get(addr, "/healthz") or [0])[0]
                 == 200, timeout=20)
        # SQLite resolves the /proc/PID/root link (to our own "/"), so
        # the database is read through feedd's counters, not opened.
        inside = "/proc/%d/root%s" % (d.proc.pid, data)

        def new_articles():
            return parse(get(addr, "/metrics")[1]).get(
                'feedd_articles_total{event="new"}')
        wait_for("articles", lambda: new_articles() == 3)
        wait_for("WATCHDOG=1", lambda: notify.count("WATCHDOG=1") >= 2,
                 timeout=5)

        filler = os.path.join(inside, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as e:
                check(e.errno == errno.ENOSPC, "filling the disk: %s" % e)
        try:
            got = wait_for("503 from /healthz, disk full", lambda: (
                lambda r: r if r and r[0] == 503 else None)(
                    try_get(addr, "/healthz")), timeout=25, step=0.2)
            check(got[1].startswith("store: ") and "full" in got[1],
                  "503 reason %r" % got[1])
            time.sleep(0.3)
            fed = notify.count("WATCHDOG=1")
            n = len(srv.requests())
            time.sleep(1.5)
            check(notify.count("WATCHDOG=1") == fed,
                  "WATCHDOG=1 sent while the disk is full")
            # A poll whose result cannot be stored backs off (1 s, 2 s,
            # ...), but polling goes on.
            wait_for("a poll while the disk is full",
                     lambda: len(srv.requests()) > n, timeout=10)
            check("full" in d.log(), "no log line says the disk is full:\n"
                  + d.log()[-2000:])
        finally:
            os.unlink(filler)
        wait_for("200 from /healthz with space again", lambda: (
            try_get(addr, "/healthz") or [0])[0] == 200, timeout=20, step=0.2)
        fed = notify.count("WATCHDOG=1")
        wait_for("WATCHDOG=1 again", lambda: notify.count("WATCHDOG=1") > fed,
                 timeout=5)
        m = parse(get(addr, "/metrics")[1])
        check(m['feedd_articles_total{event="new"}'] == 3 and
              m['feedd_articles_total{event="updated"}'] == 0 and
              m["feedd_store_write_failures_total"] >= 1,
              "articles lost or doubled, or no failure counted: %r" % {
                  k: v for k, v in m.items() if "articles" in k or
                  "store" in k})
        finish(d)
        d = None
    finally:
        if d:
            d.kill()
        notify.close()
        srv.stop()


if __name__ == "__main__":
    sys.exit(main([scrape, store_failure, store_full, reload, bind_failure,
                   check_config]))

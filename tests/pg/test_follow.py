#!/usr/bin/env python3
"""store.follow.pg: `feedctl follow` on PostgreSQL wakes on the committing
transaction's NOTIFY feedd_changes, not on its poll: with --interval 60000
(the fallback poll once a minute) it still prints each new change-log row
within seconds of the commit, and it stops on SIGINT and on SIGTERM.

    test_follow.py FEEDCTL STORE_FILL     exit 0 pass, 1 fail
(FEEDD_TEST_PG_FILE: the fixture pg's server, tests/pg.cmake)
"""
import json
import os
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import pgserver  # noqa: E402

# Far below the 60 s fallback poll: only the notification explains a row
# printed this soon.
WAKE_LIMIT_S = 10


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def fill(store_fill, ci, first):
    r = subprocess.run([store_fill, ci, "alpha", str(first), "1"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and "new=1" in r.stdout,
          "store_fill %d: exit %d: %s%s" % (first, r.returncode, r.stdout,
                                            r.stderr))


def read_line(p, limit):
    """One line of p's stdout within limit seconds, or None."""
    end = time.monotonic() + limit
    buf = b""
    while time.monotonic() < end:
        ready, _, _ = select.select([p.stdout], [], [], end - time.monotonic())
        if not ready:
            break
        chunk = os.read(p.stdout.fileno(), 1)
        if not chunk:
            break
        buf += chunk
        if chunk == b"\n":
            return buf.decode()
    return None


def stop_with(p, sig):
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Failure("follow did not stop within 10 s of signal %d" % sig)
    err = p.stderr.read().decode()
    check(rc == 0, "follow after signal %d: exit %d, stderr %r"
          % (sig, rc, err))


def main():
    feedctl, store_fill = sys.argv[1], sys.argv[2]
    pg = pgserver.fixture()
    ci = pg.create_database()
    fill(store_fill, ci, 0)          # the schema, feed alpha, seq 1

    p = subprocess.Popen([feedctl, "--db", ci, "follow", "--after", "1",
                          "--interval", "60000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1)                # follow is in its wait by now
        for n, seq in ((1, 2), (2, 3)):
            t0 = time.monotonic()
            fill(store_fill, ci, n)
            line = read_line(p, WAKE_LIMIT_S)
            check(line is not None, "no line from follow within %d s of "
                  "commit %d (it waits on the 60 s poll?)" % (WAKE_LIMIT_S, n))
            row = json.loads(line)
            check(row.get("seq") == seq and row.get("change") == "new",
                  "commit %d: follow printed %r" % (n, line))
            print("commit %d: printed after %.3f s" % (n, time.monotonic() - t0))
        stop_with(p, signal.SIGINT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

    p = subprocess.Popen([feedctl, "--db", ci, "follow", "--interval", "60000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1)
        stop_with(p, signal.SIGTERM)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print("ok: follow on PostgreSQL woke on NOTIFY and stopped on SIGINT/SIGTERM")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (Failure, pgserver.PgError) as e:
        print("FAIL: %s" % e)
        sys.exit(1)

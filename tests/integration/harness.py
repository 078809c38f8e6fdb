"""harness.py: shared pieces of feedd's end-to-end tests (Python 3 stdlib).

Environment (set by tests/integration.cmake):
    FEEDD    the feedd binary          FEEDCTL  the feedctl binary
    FEEDD_SOURCE_DIR  the source tree (for tests/support/feedserver.py)

Exit codes follow CTest: 0 pass, 1 fail, 77 skip.
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("FEEDD_SOURCE_DIR", os.path.join(HERE, "..", ".."))
FEEDD = os.environ.get("FEEDD", "")
FEEDCTL = os.environ.get("FEEDCTL", "")


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def wait_for(what, fn, timeout=15.0, step=0.1):
    """Poll fn() until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(step)
    raise Failure("timed out after %.0fs waiting for %s (last: %r)"
                  % (timeout, what, last))


def rss(items, title="Test feed"):
    """An RSS 2.0 document; items are (id, title, description) tuples; the
    guid is urn:test:<id>."""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0"><channel><title>%s</title>' % title,
           '<link>http://example.com/</link><description>d</description>']
    for i, (guid, t, desc) in enumerate(items):
        out.append("<item><guid isPermaLink=\"false\">urn:test:%s</guid>"
                   "<title>%s</title>"
                   "<link>http://example.com/%s</link>"
                   "<pubDate>Mon, 0%d Jan 2024 10:00:00 GMT</pubDate>"
                   "<description>%s</description></item>"
                   % (guid, t, guid, i % 9 + 1, desc))
    out.append("</channel></rss>\n")
    return "\n".join(out)


class Server:
    """tests/support/feedserver.py serving a directory, with its request log."""

    def __init__(self, root):
        script = os.path.join(SRC, "tests", "support", "feedserver.py")
        if not os.path.exists(script):
            raise Failure("missing %s" % script)
        self.root = root
        self.proc = subprocess.Popen(
            [sys.executable, script, "--root", root, "--exit-on-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        check(len(line) == 2 and line[0] == "PORT",
              "feedserver did not announce its port: %r" % line)
        self.port = int(line[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def url(self, path):
        return self.base + path

    def _get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=5) as r:
            return r.read()

    def requests(self, path=None):
        """The logged requests (optionally only those to path)."""
        reqs = json.loads(self._get("/_/requests"))
        if path is None:
            return reqs
        return [r for r in reqs if r["path"].split("?")[0] == path]

    def count(self, path):
        return len(self.requests(path))

    def routes(self, table):
        data = json.dumps(table).encode()
        req = urllib.request.Request(self.base + "/_/routes", data=data,
                                     method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()

    def write(self, name, text):
        """Replace a served file atomically (a reader never sees half)."""
        path = os.path.join(self.root, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        # The ETag comes from mtime and size: make sure it changes even
        # when two writes land within the filesystem's timestamp step.
        t = time.time()
        os.utime(path, (t, t + 0.001 * (hash(text) % 997 + 1)))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class WebhookReceiver:
    """tests/support/webhook_receiver.py: a webhook endpoint that checks
    Standard Webhooks signatures itself. respond: SPECs answered in order,
    the last repeating (see the script; a URL's ?respond= overrides).
    Each logged request has "sig_ok" (null without secret_file), "ts_ok",
    "headers", "body" and "status"; the same go to workdir/webhook.jsonl."""

    def __init__(self, workdir, secret_file=None, respond=()):
        script = os.path.join(SRC, "tests", "support", "webhook_receiver.py")
        if not os.path.exists(script):
            raise Failure("missing %s" % script)
        self.log = os.path.join(workdir, "webhook.jsonl")
        args = [sys.executable, script, "--exit-on-eof", "--log", self.log]
        if secret_file:
            args += ["--secret-file", secret_file]
        for spec in respond:
            args += ["--respond", spec]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        check(len(line) == 2 and line[0] == "PORT",
              "webhook_receiver did not announce its port: %r" % line)
        self.port = int(line[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def url(self, path):
        return self.base + path

    def requests(self, path=None):
        """The requests received so far (optionally only those to path)."""
        with urllib.request.urlopen(self.base + "/_/requests", timeout=5) as r:
            reqs = json.loads(r.read())
        if path is None:
            return reqs
        return [r for r in reqs if r["path"].split("?")[0] == path]

    def count(self, path=None):
        return len(self.requests(path))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Notify:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.extend(data.decode(errors="replace").split("\n"))

    def seen(self, msg, start=0):
        with self.lock:
            return msg in self.messages[start:]

    def count(self, msg, start=0):
        with self.lock:
            return self.messages[start:].count(msg)

    def mark(self):
        with self.lock:
            return len(self.messages)

    def last_status(self):
        with self.lock:
            st = [m for m in self.messages if m.startswith("STATUS=")]
        return st[-1] if st else None

    def close(self):
        self.stopped = True
        self.thread.join(timeout=2)
        self.sock.close()


class Daemon:
    """A running feedd with its stderr in a file."""

    def __init__(self, workdir, config, notify=None, args=(), env=None,
                 prefix=()):
        """prefix: a command that ends by exec'ing feedd (so the pid is
        feedd's), e.g. unshare into a namespace."""
        self.log_path = os.path.join(workdir, "feedd-%d.log" % time.monotonic_ns())
        self.log_file = open(self.log_path, "w")
        extra = env or {}
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("WATCHDOG_USEC", None)
        env.pop("WATCHDOG_PID", None)
        env.update(extra)
        if notify:
            env["NOTIFY_SOCKET"] = notify.path
        self.proc = subprocess.Popen(list(prefix) + [FEEDD, "--config", config]
                                     + list(args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.log_file, env=env)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("feedd did not exit within %.0fs" % timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()

    def check_sanitizers(self):
        text = self.log()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            check(bad not in text, "sanitizer report in feedd's log:\n" + text)


def db_rows(db, sql, args=()):
    """Query the database read-only, as a consumer would (the views)."""
    if not os.path.exists(db):
        return []
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        con.close()


def feedctl_has(command):
    """Whether this feedctl build has the reading command (the tests read
    SQLite directly where it does not)."""
    if not FEEDCTL or not os.access(FEEDCTL, os.X_OK):
        return False
    out = subprocess.run([FEEDCTL, "--help"], capture_output=True, text=True)
    return any(line.strip().startswith(command + " ") or line.strip() == command
               for line in out.stdout.splitlines())


def feedctl(db, *args, timeout=20):
    p = subprocess.run([FEEDCTL, "--db", db] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        raise Failure("feedctl %s exited %d: %s" % (" ".join(args), p.returncode,
                                                     p.stderr.strip()))
    return p.stdout


def main(tests):
    """Run named test functions with a fresh temp dir each; CTest exit codes."""
    if sys.version_info < (3, 7):
        print("skip: python3 >= 3.7 needed")
        return SKIP
    if not FEEDD or not os.access(FEEDD, os.X_OK):
        print("skip: FEEDD is not set to the feedd binary")
        return SKIP
    only = sys.argv[1:]
    failed = 0
    for fn in tests:
        if only and fn.__name__ not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="feedd-e2e-")
        t0 = time.monotonic()
        try:
            fn(tmp)
            print("ok   %s (%.1fs)" % (fn.__name__, time.monotonic() - t0),
                  flush=True)
        except Failure as e:
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e), flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0

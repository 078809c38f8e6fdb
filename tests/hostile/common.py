"""common.py: what test_hostile.py and test_crash.py share (stdlib only).

Environment (set by tests/hostile.cmake):
    FEEDD            the feedd binary
    FEEDCTL          the feedctl binary
    FEEDD_SANITIZED  1 when the binaries are built with ASan+UBSan

Exit codes follow CTest: 0 pass, 1 fail, 77 skip.
"""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

SKIP = 77
FEEDD = os.environ.get("FEEDD", "")
FEEDCTL = os.environ.get("FEEDCTL", "")
SANITIZED = os.environ.get("FEEDD_SANITIZED", "0") not in ("", "0", "OFF")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "LeakSanitizer", "ERROR: UndefinedBehaviorSanitizer")


class Failure(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def need_binaries():
    """None when FEEDD (and FEEDCTL) are runnable, else the skip reason."""
    if sys.version_info < (3, 7):
        return "python3 >= 3.7 needed"
    if not FEEDD or not os.access(FEEDD, os.X_OK):
        return "FEEDD is not set to the feedd binary"
    return None


def sanitizer_env(asan_first=""):
    """ASan/UBSan options for the daemon: reports go to stderr, where the
    tests look for them; UBSan stops at the first report. asan_first comes
    before the caller's ASAN_OPTIONS, which can override it."""
    env = dict(os.environ)
    asan = ":".join(x for x in (asan_first, env.get("ASAN_OPTIONS", ""),
                                "detect_leaks=1:abort_on_error=0") if x)
    env["ASAN_OPTIONS"] = asan
    ubsan = env.get("UBSAN_OPTIONS", "")
    extra = "print_stacktrace=1:halt_on_error=1"
    env["UBSAN_OPTIONS"] = (ubsan + ":" + extra) if ubsan else extra
    env.pop("JOURNAL_STREAM", None)
    env.pop("NOTIFY_SOCKET", None)
    return env


class Notify:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.cond = threading.Condition()
        self.messages = []
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
            with self.cond:
                self.messages.extend(data.decode(errors="replace").split("\n"))
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.messages)

    def wait_for(self, msg, start, timeout):
        """Wait until msg arrives after index start; True when it did."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while msg not in self.messages[start:]:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def close(self):
        self.stopped = True
        self.thread.join(timeout=2)
        self.sock.close()


class Daemon:
    """A running feedd. Its stderr is read by a thread, each line stamped
    with time.monotonic() on arrival, and copied to log_path."""

    def __init__(self, config, log_path, notify=None, args=(), asan=""):
        env = sanitizer_env(asan)
        if notify:
            env["NOTIFY_SOCKET"] = notify.path
        self.log_path = log_path
        self.lines = []               # (monotonic, text)
        self.lock = threading.Lock()
        self.logf = open(log_path, "a", encoding="utf-8", errors="replace")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen([FEEDD, "--config", config] + list(args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env)
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            t = time.monotonic()
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self.lock:
                self.lines.append((t, line))
            self.logf.write(line + "\n")
        self.logf.flush()

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def text(self):
        return "\n".join(l for _, l in self.snapshot())

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Wait for exit; the exit code, or None when it did not exit."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(timeout=10)
        return rc

    def kill(self):
        """SIGKILL and reap; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        rc = self.proc.wait()
        self.reader.join(timeout=10)
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.kill()
        self.reader.join(timeout=10)
        self.logf.close()

    def proc_status(self, field):
        """A /proc/PID/status field in KiB (VmHWM, VmRSS), or None."""
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def sanitizer_reports(self):
        return [l for _, l in self.snapshot()
                if any(m in l for m in SANITIZER_MARKS)]


def db_connect(path):
    """Read-only, as a consumer would; TEXT comes back as bytes so invalid
    UTF-8 shows up instead of raising."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    con.text_factory = bytes
    return con


def db_tables(con):
    return [r[0].decode() for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]


def db_search_all(con, needles):
    """Every (table, column, needle) where a text or blob value of any row
    of any table (FTS shadow tables included) contains a needle."""
    hits = []
    for t in db_tables(con):
        try:
            cols = [r[1].decode() for r in
                    con.execute('PRAGMA table_info("%s")' % t)]
            cur = con.execute('SELECT * FROM "%s"' % t)
        except sqlite3.DatabaseError:
            continue
        for row in cur:
            for c, v in zip(cols, row):
                if isinstance(v, (bytes, str)):
                    b = v if isinstance(v, bytes) else v.encode()
                    for n in needles:
                        if n in b:
                            hits.append((t, c, n))
    return sorted(set(hits))


def integrity(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


COMPLETION = re.compile(
    r"\[(?:fetch|store|sched)\] feed=(?P<feed>\S+) (?:"
    r"url=\S+ failing: (?P<fail1>.*)"
    r"|still failing failures=\d+: (?P<fail2>.*)"
    r"|failing failures=\d+: (?P<fail3>.*)"
    r"|url=\S+ is gone (?P<gone>.*)"
    r"|(?P<stored>entries=\d+ .*)"
    r"|(?P<outcome>ok|not-modified|unchanged) next_in=.*)$")


def completions(lines):
    """Parse the daemon's per-poll lines: [(t, feed, ok, cause)]. One line
    ends each poll (see daemon/run_poll.c poll_apply())."""
    out = []
    for t, line in lines:
        m = COMPLETION.search(line)
        if not m:
            continue
        fail = m.group("fail1") or m.group("fail2") or m.group("fail3")
        if fail is not None:
            cause = re.sub(r" \(retry_in=-?\d+s\)$", "", fail)
            out.append((t, m.group("feed"), False, cause))
        elif m.group("gone") is not None:
            out.append((t, m.group("feed"), False, "gone " + m.group("gone")))
        elif m.group("stored") is not None:
            out.append((t, m.group("feed"), True, m.group("stored")))
        else:
            out.append((t, m.group("feed"), True, m.group("outcome")))
    return out


def run_main(fn):
    """Run a test body under CTest conventions."""
    why = need_binaries()
    if why:
        log("skip: " + why)
        return SKIP
    try:
        fn()
    except Failure as e:
        log("FAIL: %s" % e)
        return 1
    log("PASS")
    return 0

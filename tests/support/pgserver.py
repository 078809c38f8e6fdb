#!/usr/bin/env python3
"""pgserver.py: a private, throw-away PostgreSQL server for feedd's tests
(Python 3 stdlib; the server binaries of PostgreSQL 13 or newer).

As a module (the Python integration tests):

    sys.path.insert(0, os.path.join(SRC, "tests", "support"))
    import pgserver
    with pgserver.PgServer() as pg:         # stopped on exit, failed or not
        conninfo = pg.create_database()     # a fresh database owned by feedd
        ...                                 # "host=DIR port=N user=feedd dbname=..."

Under CTest, a test with FIXTURES_REQUIRED pg uses the run's one server:

    pg = pgserver.fixture()                 # from FEEDD_TEST_PG_FILE
    conninfo = pg.create_database()

As a program (the CTest fixture `pg`, tests/pg.cmake):

    pgserver.py start DIR      start a server, write DIR/conninfo, print it
    pgserver.py createdb DIR   print the conninfo of a fresh database
    pgserver.py stop DIR       stop it (pg_ctl stop -m fast); fails when a
                               server process is left behind

The server lives in a new temporary directory (data directory, log, and
the unix socket: it listens on nothing else, listen_addresses=''), runs
with fsync, synchronous_commit and full_page_writes off, trusts local
connections and makes a role `feedd` (LOGIN CREATEDB, not a superuser) and
a database `feedd` it owns. The socket directory is mode 0700, so only the
server's user and root can connect. The port is one that was free on
127.0.0.1 when the server started: it only names the socket, but a client
that forgets host= then fails instead of reaching a system server on 5432.

PostgreSQL refuses to run as root. As root, the server runs as the system
user feedd-test (FEEDD_TEST_PG_USER overrides), created with useradd
--system when missing, and owns the temporary directory; root's clients
reach the socket anyway. As any other user, the server runs as that user.

Binaries: the newest /usr/lib/postgresql/N/bin (N >= 13) with initdb,
pg_ctl, postgres and psql, or the directory FEEDD_PG_BINDIR names. Without
them PgError says so; tests report it as a failure, never a skip.

A server started through the module also gets a watchdog process that
stops it when the test process dies without stopping it (even SIGKILL).
"""
import glob
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MIN_VERSION = 13
TEST_USER = os.environ.get("FEEDD_TEST_PG_USER", "feedd-test")
ROLE = "feedd"
SUPERUSER = "postgres"
NEEDED = ("initdb", "pg_ctl", "postgres", "psql")
SOCKET_MAX = 107  # sun_path holds 108 bytes, NUL included
STATE = "server.json"
CONNINFO = "conninfo"


class PgError(Exception):
    pass


def find_bindir():
    """The directory with initdb, pg_ctl, postgres and psql, or PgError."""
    explicit = os.environ.get("FEEDD_PG_BINDIR")
    if explicit:
        candidates = [explicit]
    else:
        found = []
        for d in glob.glob("/usr/lib/postgresql/*/bin"):
            v = os.path.basename(os.path.dirname(d))
            if re.fullmatch(r"[0-9]+", v) and int(v) >= MIN_VERSION:
                found.append((int(v), d))
        candidates = [d for _, d in sorted(found, reverse=True)]
    for d in candidates:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in NEEDED):
            return d
    where = ("FEEDD_PG_BINDIR=%s" % explicit if explicit else
             "/usr/lib/postgresql/N/bin (N >= %d)" % MIN_VERSION)
    raise PgError("PostgreSQL server binaries not found: no %s with %s; "
                  "install postgresql-15 and postgresql-client-15 "
                  "(./dev.sh deps)" % (where, ", ".join(NEEDED)))


def client_env():
    """This environment without PG* variables (PGHOST, PGPASSFILE, ...),
    which would otherwise redirect or alter the tests' connections."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _server_user():
    """(uid, gid, name) the server runs as: ourselves, or as root the
    unprivileged TEST_USER, created when missing."""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return pw.pw_uid, pw.pw_gid, pw.pw_name
    for attempt in range(20):
        try:
            pw = pwd.getpwnam(TEST_USER)
            if pw.pw_uid == 0:
                raise PgError("user %s is uid 0; PostgreSQL refuses root"
                              % TEST_USER)
            return pw.pw_uid, pw.pw_gid, pw.pw_name
        except KeyError:
            pass
        # Two tests may race to create it, and useradd fails while another
        # holds the lock on /etc/passwd: look again after a failure.
        r = subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
             "--comment", "feedd tests' PostgreSQL server", TEST_USER],
            stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0 and attempt >= 5:
            try:
                pwd.getpwnam(TEST_USER)
            except KeyError:
                raise PgError("useradd %s failed: %s"
                              % (TEST_USER, r.stderr.strip()))
        if r.returncode != 0:
            time.sleep(0.2)
    raise PgError("could not create user %s" % TEST_USER)


def _temp_base():
    """Where the server's temporary directory goes: the usual temporary
    directory, or as root /tmp when the server user could not reach the
    usual one (a TMPDIR under /root)."""
    base = tempfile.gettempdir()
    if os.geteuid() != 0:
        return base
    for b in (base, "/tmp"):
        p = os.path.realpath(b)
        ok = os.stat(p).st_mode & 0o003 == 0o003  # others may create in it
        while ok and p != "/":
            ok = bool(os.stat(p).st_mode & 0o001)
            p = os.path.dirname(p)
        if ok:
            return b
    raise PgError("neither %s nor /tmp is reachable and writable by every "
                  "user, so the server's user cannot have its directory there"
                  % base)


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _alive(pid, start_time):
    """Whether pid still runs and is the same process (not a reused pid)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    # fields[0] is the state (field 3); a zombie has exited.
    return fields[0] != "Z" and fields[19] == start_time


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def _proc_table():
    """{pid: (ppid, start_time)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(d)] = (int(fields[1]), fields[19])
    return out


class PgServer:
    """One private server. start() (or `with`) starts it; stop() stops it
    and removes its directory; both raise PgError with the reason."""

    def __init__(self, bindir=None, watchdog=True, bare=False, hba=None,
                 owned=True):
        """bare: no role or database feedd (a test of setup SQL makes
        them). hba: pg_hba.conf lines replacing initdb's (trust for all
        local connections), e.g. to make roles log in with a password."""
        self.bindir = bindir
        self.watchdog = watchdog
        self.bare = bare
        self.hba = hba
        self.owned = owned    # False: stop() leaves the server to its owner
        self.dir = None       # the temporary directory (owned by the server user)
        self.port = None
        self.uid = self.gid = None
        self.user = None
        self._watch = None
        self._dbs = 0

    # -- paths and strings

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def log(self):
        return os.path.join(self.dir, "log")

    def conninfo(self, dbname=ROLE, user=ROLE):
        """The libpq connection string (keyword form) for dbname."""
        return "host=%s port=%d user=%s dbname=%s" % (self.dir, self.port,
                                                       user, dbname)

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    # -- running things

    def _as_server(self, argv, timeout=120):
        """Run argv as the server's user, in its directory."""
        env = client_env()
        env["HOME"] = self.dir
        kw = {}
        if os.geteuid() == 0:
            kw = {"user": self.uid, "group": self.gid, "extra_groups": []}
        return subprocess.run(argv, cwd=self.dir, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, **kw)

    def psql(self, sql, dbname=ROLE, user=ROLE, check=True, env=None):
        """Run sql (a psql script: backslash commands allowed) through psql
        on the socket, with env's variables added (PGPASSFILE, ...). Its
        unaligned, tuples-only output (fields separated by |); PgError when
        check and it fails, else the CompletedProcess."""
        e = client_env()
        e.update(env or {})
        r = subprocess.run(
            [self._bin("psql"), "-X", "-q", "-A", "-t", "-v",
             "ON_ERROR_STOP=1", "-d", self.conninfo(dbname, user), "-f", "-"],
            env=e, input=sql, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise PgError("psql %r failed (exit %d): %s"
                          % (sql, r.returncode, r.stderr.strip()))
        return r.stdout if check else r

    def create_database(self, name=None):
        """A new empty database owned by role feedd; its conninfo."""
        self._dbs += 1
        if name is None:
            name = "t%d_%d_%s" % (os.getpid(), self._dbs, secrets.token_hex(3))
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise PgError("database name %r: use [a-z_][a-z0-9_]*" % name)
        self.psql('CREATE DATABASE "%s" OWNER %s' % (name, ROLE),
                  dbname="postgres", user=SUPERUSER)
        return self.conninfo(name)

    def postmaster_pid(self):
        """The postmaster's pid from postmaster.pid, or None."""
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def processes(self):
        """{pid: start_time} of the postmaster and all its descendants."""
        root = self.postmaster_pid()
        table = _proc_table()
        if root is None or root not in table:
            return {}
        out = {root: table[root][1]}
        grew = True
        while grew:
            grew = False
            for pid, (ppid, st) in table.items():
                if ppid in out and pid not in out:
                    out[pid] = st
                    grew = True
        return out

    # -- life cycle

    def start(self, statedir=None):
        """Start; with statedir, record the server there (server.json)
        before anything runs, so a `start` killed half-way is cleaned up
        by the next `start` or `stop`, and write conninfo at the end."""
        if self.bindir is None:
            self.bindir = find_bindir()
        self.uid, self.gid, self.user = _server_user()
        self.dir = tempfile.mkdtemp(prefix="feedd-pg-", dir=_temp_base())
        try:
            self.port = _free_port()
            if statedir is not None:
                self._save(statedir, conninfo=False)
            self._start()
            if statedir is not None:
                self._save(statedir, conninfo=True)
        except BaseException:
            try:
                self._stop()
            finally:
                self._teardown()
            raise
        return self

    def _start(self):
        if os.geteuid() == 0:
            os.chown(self.dir, self.uid, self.gid)
        os.chmod(self.dir, 0o700)
        sock = os.path.join(self.dir, ".s.PGSQL.%d" % self.port)
        if len(sock) > SOCKET_MAX:
            raise PgError("socket path %s is longer than %d bytes; set a "
                          "shorter TMPDIR" % (sock, SOCKET_MAX))
        r = self._as_server([self._bin("initdb"), "-D", self.data,
                             "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                             "--locale=C", "--no-sync"])
        if r.returncode != 0:
            raise PgError("initdb failed (exit %d): %s"
                          % (r.returncode, (r.stderr or r.stdout).strip()))
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n# pgserver.py: a private test server\n"
                    "listen_addresses = ''\n"
                    "unix_socket_directories = '%s'\n"
                    "unix_socket_permissions = 0700\n"
                    "port = %d\n"
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n"
                    "shared_buffers = 32MB\n"
                    "max_connections = 50\n"
                    % (self.dir, self.port))
        if self.hba is not None:
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
                f.write("".join(line + "\n" for line in self.hba))
        if self.watchdog:
            self._start_watchdog()
        r = self._as_server([self._bin("pg_ctl"), "-D", self.data, "-l",
                             self.log, "-w", "-t", "60", "-s", "start"])
        if r.returncode != 0:
            raise PgError("pg_ctl start failed (exit %d): %s\n%s"
                          % (r.returncode, r.stderr.strip(), self.log_tail()))
        if self.bare:
            return
        self.psql("CREATE ROLE %s LOGIN CREATEDB" % ROLE,
                  dbname="postgres", user=SUPERUSER)
        self.psql("CREATE DATABASE %s OWNER %s" % (ROLE, ROLE),
                  dbname="postgres", user=SUPERUSER)

    def _start_watchdog(self):
        # It reads its stdin until EOF, which comes when this process exits
        # however it exits, then stops the server if it still runs. Its own
        # session, so a signal to the test's process group does not stop
        # it before it can clean up.
        self._watch = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "watch", self.dir,
             self.bindir, str(self.uid), str(self.gid)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self, lines=20):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self):
        """Stop the server (pg_ctl stop -m fast, then SIGKILL for what is
        left) and remove its directory. PgError when a process survived."""
        if self.dir is None or not self.owned:
            return
        try:
            self._stop()
        finally:
            self._teardown()

    def _mentioning(self):
        """{pid: start_time} of processes whose command line names the data
        directory: pg_ctl, the postmaster (its children do not)."""
        out = {}
        needle = self.data.encode()
        table = _proc_table()
        for pid, (_, st) in table.items():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if needle in argv:
                out[pid] = st
        return out

    def _stop(self):
        # A pg_ctl still starting the server (its caller was killed) is
        # let finish first, so there is a postmaster.pid to stop by.
        deadline = time.monotonic() + 70
        while time.monotonic() < deadline and any(
                _comm(p) == "pg_ctl" for p in self._mentioning()):
            time.sleep(0.1)
        procs = self.processes()
        procs.update(self._mentioning())
        if self.postmaster_pid() is not None and os.path.isdir(self.data):
            try:
                r = self._as_server([self._bin("pg_ctl"), "-D", self.data,
                                     "-m", "fast", "-w", "-t", "60", "-s",
                                     "stop"], timeout=90)
                failed = r.returncode != 0 and "exit %d: %s" % (
                    r.returncode, r.stderr.strip())
            except subprocess.TimeoutExpired:
                failed = "no answer in 90 s"
            if failed and procs:
                # What is left is killed below, and reported.
                print("pgserver: pg_ctl stop failed (%s)" % failed,
                      file=sys.stderr)
        deadline = time.monotonic() + 10
        left = procs
        while left and time.monotonic() < deadline:
            left = {p: st for p, st in left.items() if _alive(p, st)}
            if left:
                time.sleep(0.05)
        if left:
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            raise PgError("server processes %s were still running after "
                          "pg_ctl stop; killed" % sorted(left))

    def _teardown(self):
        if self._watch is not None:
            # The server is gone (or never came): let the watchdog go.
            try:
                self._watch.stdin.close()
                self._watch.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._watch.kill()
                self._watch.wait()
            self._watch = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- the CLI's state file

    def _save(self, statedir, conninfo):
        os.makedirs(statedir, exist_ok=True)
        state = {"dir": self.dir, "port": self.port, "bindir": self.bindir,
                 "uid": self.uid, "gid": self.gid, "user": self.user}
        files = [(STATE, json.dumps(state))]
        if conninfo:
            files.append((CONNINFO, self.conninfo() + "\n"))
        for name, text in files:
            tmp = os.path.join(statedir, name + ".tmp")
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, os.path.join(statedir, name))

    @classmethod
    def load(cls, statedir, owned=True):
        """The server a `start` left in statedir, or None."""
        try:
            with open(os.path.join(statedir, STATE)) as f:
                state = json.load(f)
        except FileNotFoundError:
            return None
        pg = cls(bindir=state["bindir"], watchdog=False, owned=owned)
        pg.dir, pg.port = state["dir"], state["port"]
        pg.uid, pg.gid, pg.user = state["uid"], state["gid"], state["user"]
        return pg


def fixture():
    """The CTest fixture's server (pg.start; FEEDD_TEST_PG_FILE names its
    conninfo), for create_database() and psql(); its stop() does nothing,
    as pg.stop stops it. PgError when the variable is unset or names no
    running server (the fixture failed)."""
    path = os.environ.get("FEEDD_TEST_PG_FILE")
    if not path:
        raise PgError("FEEDD_TEST_PG_FILE is not set: the test needs "
                      "FIXTURES_REQUIRED pg (tests/pg.cmake)")
    pg = PgServer.load(os.path.dirname(os.path.abspath(path)), owned=False)
    if pg is None or not os.path.exists(path) or pg.postmaster_pid() is None:
        raise PgError("no server for %s: did pg.start fail?" % path)
    return pg


def _forget(statedir):
    for name in (STATE, CONNINFO):
        try:
            os.unlink(os.path.join(statedir, name))
        except FileNotFoundError:
            pass


def _watch(tmpdir, bindir, uid, gid):
    """The watchdog: after EOF on stdin, stop a server still in tmpdir."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    if not os.path.isdir(tmpdir):
        return 0
    pg = PgServer(bindir=bindir, watchdog=False)
    pg.dir, pg.uid, pg.gid = tmpdir, int(uid), int(gid)
    try:
        pg.stop()
    except PgError:
        return 1
    return 0


def main(argv):
    usage = "usage: pgserver.py start DIR | createdb DIR [NAME] | stop DIR"
    if len(argv) >= 5 and argv[0] == "watch":
        return _watch(*argv[1:5])
    if len(argv) < 2 or argv[0] not in ("start", "stop", "createdb"):
        print(usage, file=sys.stderr)
        return 2
    cmd, statedir = argv[0], os.path.abspath(argv[1])
    try:
        if cmd == "start":
            # A server left by an interrupted run goes first.
            old = PgServer.load(statedir)
            if old is not None:
                old.stop()
                _forget(statedir)
            try:
                pg = PgServer(watchdog=False).start(statedir)
            except BaseException:
                _forget(statedir)
                raise
            print(pg.conninfo())
        elif cmd == "createdb":
            pg = PgServer.load(statedir)
            if pg is None:
                raise PgError("no server started in %s" % statedir)
            print(pg.create_database(argv[2] if len(argv) > 2 else None))
        else:
            pg = PgServer.load(statedir)
            if pg is None:
                print("pgserver: no server started in %s" % statedir)
                return 0
            try:
                pg.stop()
            finally:
                _forget(statedir)
    except (PgError, OSError, subprocess.SubprocessError) as e:
        print("pgserver: %s: %s" % (cmd, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

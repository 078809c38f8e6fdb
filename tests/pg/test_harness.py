#!/usr/bin/env python3
"""pg.harness: tests/support/pgserver.py does what the PostgreSQL tests rely on.

The fixture's server (FEEDD_TEST_PG_FILE names its conninfo) answers psql
on its unix socket as role feedd; a server of its own, started and stopped
through the same command CTest runs, listens on no TCP port, runs as an
unprivileged user when started by root, and leaves no process behind, even
after a `start` killed half-way; the module stops its server when a test
fails or is killed; without server binaries the harness fails and says why.

    test_harness.py [CASE...]     exit 0 pass, 1 fail
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "support")
sys.path.insert(0, SUPPORT)
import pgserver  # noqa: E402

SCRIPT = os.path.join(SUPPORT, "pgserver.py")


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def psql(conninfo, sql, user=None):
    """psql's CompletedProcess; as the OS user `user` when given (root only)."""
    argv = [os.path.join(pgserver.find_bindir(), "psql"), "-X", "-q", "-A",
            "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql]
    if user:
        argv = ["runuser", "-u", user, "--"] + argv
    return subprocess.run(argv, env=pgserver.client_env(), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)


def query(conninfo, sql):
    r = psql(conninfo, sql)
    check(r.returncode == 0, "psql %r: exit %d: %s"
          % (sql, r.returncode, r.stderr.strip()))
    return r.stdout.strip()


def parse_conninfo(s):
    return dict(kv.split("=", 1) for kv in s.split())


def postmaster(conn):
    """The postmaster's pid, from postmaster.pid in the socket directory."""
    with open(os.path.join(conn["host"], "data", "postmaster.pid")) as f:
        return int(f.readline())


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise Failure("no Uid line for pid %d" % pid)


def tcp_listen_inodes():
    """Socket inodes of every TCP socket in LISTEN state (IPv4 and IPv6)."""
    out = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A":
                        out.add(fields[9])
        except FileNotFoundError:
            pass
    return out


def socket_inodes(pid):
    out = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            continue
        if m:
            out.add(m.group(1))
    return out


def check_server(conninfo):
    """What every harness server must be: reached over its socket as
    feedd, the settings the brief asks for, no TCP, the right owner."""
    conn = parse_conninfo(conninfo)
    check(set(conn) == {"host", "port", "user", "dbname"} and conn["user"] == "feedd",
          "conninfo %r: want host, port, user=feedd, dbname" % conninfo)
    check(os.path.isabs(conn["host"]), "host %r is not a socket directory" % conn["host"])
    got = query(conninfo, "SELECT current_user, inet_server_addr() IS NULL,"
                " current_setting('listen_addresses'), current_setting('fsync'),"
                " current_setting('synchronous_commit'),"
                " current_setting('full_page_writes')")
    want = "feedd|t||off|off|off"
    check(got == want, "server answered %r, want %r (the socket, no TCP, "
          "durability off)" % (got, want))
    got = query(conninfo, "SELECT rolsuper, rolcreatedb FROM pg_roles"
                " WHERE rolname = 'feedd'")
    check(got == "f|t", "role feedd: super, createdb = %r, want f|t" % got)
    # What the driver will do: make its own schema in its database.
    query(conninfo, "CREATE SCHEMA harness_probe; CREATE TABLE"
          " harness_probe.t (x int); INSERT INTO harness_probe.t VALUES (42);"
          " DROP SCHEMA harness_probe CASCADE")

    # Not reachable over TCP: no answer on 127.0.0.1 at its port (refused,
    # unless another test took the free port since), and none of its
    # processes holds a listening TCP socket.
    r = psql("host=127.0.0.1 port=%s user=feedd dbname=%s connect_timeout=5"
             % (conn["port"], conn["dbname"]), "SELECT 1")
    check(r.returncode != 0, "psql reached the server over TCP 127.0.0.1:%s"
          % conn["port"])
    pm = postmaster(conn)
    procs = {pm}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pm:
                        procs.add(int(d))
            except OSError:
                pass
    listening = tcp_listen_inodes()
    for pid in procs:
        held = socket_inodes(pid) & listening
        check(not held, "server process %d listens on TCP (inodes %s)" % (pid, held))

    # Its owner: never root; as root, the unprivileged test user.
    uid = uid_of(pm)
    if os.geteuid() == 0:
        want = pgserver.pwd.getpwnam(pgserver.TEST_USER).pw_uid
        check(uid == want and uid != 0, "postmaster runs as uid %d, want %s (%d)"
              % (uid, pgserver.TEST_USER, want))
        # Its socket is private: another unprivileged user cannot connect.
        r = psql(conninfo, "SELECT 1", user="nobody")
        check(r.returncode != 0 and "ermission denied" in r.stderr,
              "user nobody reached the socket: exit %d %r"
              % (r.returncode, r.stderr.strip()))
    else:
        check(uid == os.geteuid(), "postmaster runs as uid %d, not ours (%d)"
              % (uid, os.geteuid()))
    return conn, pm


def gone(pids):
    """The pids (a {pid: start_time} map) that still run."""
    return [p for p, st in pids.items() if pgserver._alive(p, st)]


def wait_gone(pids, timeout=30):
    deadline = time.monotonic() + timeout
    while gone(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return gone(pids)


def fixture(tmp):
    """The CTest fixture's server (pg.start) is up and what it should be,
    gives fresh databases, and a test cannot stop it by mistake."""
    path = os.environ.get("FEEDD_TEST_PG_FILE")
    check(path, "FEEDD_TEST_PG_FILE is not set (run under CTest, fixture pg)")
    with open(path) as f:
        conninfo = f.read().strip()
    check_server(conninfo)
    pg = pgserver.fixture()
    check(pg.conninfo() == conninfo, "fixture() gives %r, the file %r"
          % (pg.conninfo(), conninfo))
    fresh = pg.create_database()
    check(fresh != conninfo and query(fresh, "SELECT count(*) FROM"
          " pg_namespace WHERE nspname = 'feedd'") == "0",
          "fixture: no fresh database: %r" % fresh)
    pg.stop()
    check(query(conninfo, "SELECT 1") == "1", "fixture().stop() stopped the run's server")


def start_killed(tmp):
    """A `start` killed half-way (a CTest timeout) leaves nothing that the
    next `stop` does not clean up."""
    state = os.path.join(tmp, "state")
    proc = subprocess.Popen([sys.executable, SCRIPT, "start", state],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        log = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with open(os.path.join(state, "server.json")) as f:
                    host = pgserver.json.load(f)["dir"]
                log = os.path.join(host, "log")
                if os.path.exists(log):   # pg_ctl start is under way
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        check(log and os.path.exists(log), "start never got to pg_ctl start")
    finally:
        proc.kill()
        proc.wait()
    r = subprocess.run([sys.executable, SCRIPT, "stop", state],
                       capture_output=True, text=True, timeout=180)
    check(r.returncode == 0, "stop after a killed start: exit %d: %s"
          % (r.returncode, r.stderr))
    left = []
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if host.encode() in f.read():
                    left.append(int(d))
        except OSError:
            pass
    check(not left, "processes %s of %s still run" % (left, host))
    check(not os.path.exists(host), "%s left behind" % host)
    check(not os.path.exists(os.path.join(state, "server.json")), "state left behind")


def cli_start_stop(tmp):
    """`pgserver.py start DIR` / `createdb DIR` / `stop DIR`: a working
    server, fresh databases, and nothing left after the stop."""
    state = os.path.join(tmp, "state")
    r = subprocess.run([sys.executable, SCRIPT, "start", state],
                       capture_output=True, text=True, timeout=180)
    check(r.returncode == 0, "start: exit %d: %s" % (r.returncode, r.stderr))
    try:
        with open(os.path.join(state, "conninfo")) as f:
            conninfo = f.read().strip()
        check(conninfo == r.stdout.strip(), "start printed %r, conninfo file has %r"
              % (r.stdout.strip(), conninfo))
        conn, pm = check_server(conninfo)
        pg = pgserver.PgServer.load(state)
        procs = pg.processes()
        check(pm in procs and len(procs) > 1,
              "no postmaster and backends found: %r" % procs)

        dbs = []
        for _ in range(2):
            r = subprocess.run([sys.executable, SCRIPT, "createdb", state],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, "createdb: exit %d: %s" % (r.returncode, r.stderr))
            dbs.append(r.stdout.strip())
        names = [parse_conninfo(c)["dbname"] for c in dbs]
        check(len(set(names)) == 2 and "feedd" not in names,
              "createdb gave %r, want two new databases" % names)
        for c in dbs:
            got = query(c, "SELECT current_database(), pg_get_userbyid(datdba)"
                        " FROM pg_database WHERE datname = current_database()")
            check(got == "%s|feedd" % parse_conninfo(c)["dbname"],
                  "fresh database: %r, want owned by feedd" % got)
            check(query(c, "SELECT count(*) FROM pg_namespace WHERE nspname = 'feedd'")
                  == "0", "a fresh database already has a feedd schema")
    finally:
        r = subprocess.run([sys.executable, SCRIPT, "stop", state],
                           capture_output=True, text=True, timeout=180)
    check(r.returncode == 0, "stop: exit %d: %s" % (r.returncode, r.stderr))
    left = gone(procs)
    check(not left, "processes %s still run after stop" % left)
    check(not os.path.exists(conn["host"]), "%s left behind" % conn["host"])
    check(not os.path.exists(os.path.join(state, "conninfo")),
          "stop left the conninfo file")
    r = subprocess.run([sys.executable, SCRIPT, "stop", state],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "a second stop failed: %s" % r.stderr)


def stopped_when_test_fails(tmp):
    """`with PgServer()`: a test that raises still stops the server."""
    procs = host = None
    try:
        with pgserver.PgServer() as pg:
            conninfo = pg.create_database()
            check(query(conninfo, "SELECT 40 + 2") == "42", "no answer")
            procs, host = pg.processes(), pg.dir
            raise RuntimeError("the test failed")
    except RuntimeError:
        pass
    check(procs, "the server never ran")
    left = gone(procs)
    check(not left, "processes %s still run after a failed test" % left)
    check(not os.path.exists(host), "%s left behind" % host)


def stopped_when_test_killed(tmp):
    """A test process killed with SIGKILL: the watchdog stops its server."""
    code = ("import os, sys; sys.path.insert(0, %r); import pgserver\n"
            "pg = pgserver.PgServer().start()\n"
            "print(pg.dir, ' '.join('%%d:%%s' %% kv for kv in pg.processes().items()),"
            " flush=True)\n"
            "os.kill(os.getpid(), 9)\n" % SUPPORT)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, timeout=180)
    check(r.returncode == -9, "child: exit %d: %s" % (r.returncode, r.stderr))
    fields = r.stdout.split()
    check(len(fields) > 2, "child printed %r" % r.stdout)
    host = fields[0]
    procs = dict(kv.split(":") for kv in fields[1:])
    procs = {int(p): st for p, st in procs.items()}
    left = wait_gone(procs)
    check(not left, "processes %s still run 30s after the test died" % left)
    deadline = time.monotonic() + 10
    while os.path.exists(host) and time.monotonic() < deadline:
        time.sleep(0.1)
    check(not os.path.exists(host), "%s left behind" % host)


def missing_binaries(tmp):
    """Without server binaries, start fails (not a skip) and says why."""
    state = os.path.join(tmp, "state")
    env = dict(os.environ, FEEDD_PG_BINDIR=os.path.join(tmp, "nothing"))
    r = subprocess.run([sys.executable, SCRIPT, "start", state], env=env,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1, "start without binaries: exit %d, want 1" % r.returncode)
    check("PostgreSQL server binaries not found" in r.stderr
          and "postgresql-15" in r.stderr,
          "start without binaries said %r" % r.stderr)
    check(not os.path.exists(os.path.join(state, "conninfo")),
          "a conninfo was written without a server")
    try:
        os.environ["FEEDD_PG_BINDIR"] = env["FEEDD_PG_BINDIR"]
        pgserver.PgServer().start()
        raise Failure("PgServer().start() without binaries did not raise")
    except pgserver.PgError as e:
        check("not found" in str(e), "PgError said %r" % str(e))
    finally:
        del os.environ["FEEDD_PG_BINDIR"]


def main(tests):
    only = sys.argv[1:]
    failed = 0
    for fn in tests:
        if only and fn.__name__ not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="feedd-pgh-")
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
    sys.exit(main([fixture, cli_start_stop, start_killed, stopped_when_test_fails,
                   stopped_when_test_killed, missing_binaries]))

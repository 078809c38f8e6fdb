#!/usr/bin/env python3
"""Exec hooks (feedd.conf `hook NAME exec ...`, docs/hooks.md) end to end.

hook_gets_new_articles: a hook gets exactly the new articles of a refresh as
    JSON Lines (the fields of `feedctl articles --format jsonl` plus event and
    seq, checked against changes_v1), its FEEDD_* variables and env=; the
    next refresh (one new, one edited) brings exactly those two.
hook_retries_same_batch: a hook that exits 1 twice, then 0, gets the same
    batch three times (back-off in between), then the next batch; feedctl
    hooks shows its state.
hook_timeout_kills_group: a hook over its timeout is killed with everything
    it started (its process group is gone) and retried.
hook_kill9_redelivers: feedd killed with -9 during a run; after a restart
    the batch in flight comes again and nothing of the change log is lost.
hook_slow_no_poll_delay: a hook sleeping 10 s delays no poll (the test
    server's request times).
hook_check_config: --check-config names FILE:LINE for a missing program, a
    non-executable one, an unknown key, a duplicate name.
hook_program_deleted: the program deleted after start: a clear log line
    naming the hook and the cause, and polling goes on.
hook_once: --once delivers the hooks' batches after polling and waits for
    them; a failing hook makes it exit 2 and its batch comes next time.
hook_sigterm_during_run: SIGTERM waits --stop-grace for a running hook,
    then kills its group; nothing is recorded as failed and the batch comes
    again after the restart.
hook_reload: SIGHUP adds a hook (from=start: the whole log), and removing
    a hook kills its running process; its state row stays.
webhook_delivers: a webhook to the test's own receiver (which checks the
    Standard Webhooks signature itself) answering 500 then 200 gets the
    same batch twice under one message id, then every later batch once;
    the bodies are the change log's rows.
webhook_gone: a 410 stops the hook (log line, feedctl hooks says so) and no
    more requests come; polling goes on.
webhook_changed_while_busy: the hook's line changes (SIGHUP) while a
    delivery to its old URL is in flight; that delivery ends in 410, and
    the new definition still starts afresh and delivers to the new URL.
webhook_private_refused: without allow-private=yes a receiver whose host
    name resolves to loopback is refused at delivery with a clear error,
    nothing reaches it, the cursor stays and polling goes on (a literal
    private address is already a config error: hook_check_config).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FEEDCTL, FEEDD, Daemon, Server, WebhookReceiver,  # noqa: E402
                     check, db_rows, feedctl, main, rss, wait_for)

HOOK_SH = r"""#!/bin/sh
# Test hook: keeps each run's stdin and FEEDD_* variables in $HOOKDIR.
d=$HOOKDIR
n=$(ls "$d" | grep -c '^run-')
n=$((n + 1))
cat > "$d/run-$n.jsonl"
printf '%s %s %s %s %s\n' "$FEEDD_HOOK" "$FEEDD_BATCH_SIZE" \
    "$FEEDD_FIRST_SEQ" "$FEEDD_LAST_SEQ" "$EXTRA" > "$d/env-$n"
echo "hook run $n"
case "$MODE" in
fail2) if [ "$n" -le 2 ]; then echo "failing on purpose $n" >&2; exit 1; fi ;;
group) sleep 60 & echo $! > "$d/bg-$n"; echo $$ > "$d/pid-$n"; sleep 60 ;;
slow) echo $$ > "$d/pid-$n"; sleep 10 ;;
hang1) if [ "$n" -eq 1 ]; then echo $$ > "$d/pid-$n"; sleep 30; fi ;;
esac
exit 0
"""

ITEMS = [("1", "One", "first"), ("2", "Two", "second"), ("3", "Three", "third")]


def setup(tmp, mode="", keys="", feed_interval="1h", items=ITEMS):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    srv.write("a.xml", rss(items, "A"))
    hookdir = os.path.join(tmp, "runs")
    os.mkdir(hookdir)
    prog = os.path.join(tmp, "hook.sh")
    with open(prog, "w") as f:
        f.write(HOOK_SH)
    os.chmod(prog, 0o755)
    db = os.path.join(tmp, "f.db")
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\nlog-level info\n" % db)
        f.write("feed a %s interval=%s\n" % (srv.url("/a.xml"), feed_interval))
        f.write("hook h exec %s env=HOOKDIR=%s env=MODE=%s \"env=EXTRA=x y\" %s\n"
                % (prog, hookdir, mode, keys))
    return srv, db, conf, hookdir, prog


def runs(hookdir):
    """The runs so far: [(lines as dicts, env fields)] in order."""
    out = []
    n = 1
    while os.path.exists(os.path.join(hookdir, "env-%d" % n)):
        with open(os.path.join(hookdir, "run-%d.jsonl" % n)) as f:
            text = f.read()
        with open(os.path.join(hookdir, "env-%d" % n)) as f:
            env = f.read().split()
        out.append(([json.loads(line) for line in text.splitlines()], env, text))
        n += 1
    return out


def changes(db, after=0):
    return db_rows(db, "SELECT seq, article_id, kind FROM changes_v1 "
                   "WHERE seq > ? AND kind IN ('new', 'update') ORDER BY seq",
                   (after,))


def check_batch(db, lines, env, after):
    """lines are exactly the change-log rows after `after`, in order."""
    want = changes(db, after)
    got = [(a["seq"], a["id"], {"new": "new", "updated": "update"}[a["event"]])
           for a in lines]
    check(got == want, "batch %r is not the change log %r" % (got, want))
    check(env[1] == str(len(lines)) and env[2] == str(lines[0]["seq"]) and
          env[3] == str(lines[-1]["seq"]),
          "FEEDD_BATCH_SIZE/FIRST_SEQ/LAST_SEQ %r for %r" % (env, got))
    return want[-1][0]


def feed_with(srv, items):
    srv.write("a.xml", rss(items, "A"))


def hook_gets_new_articles(tmp):
    srv, db, conf, hookdir, prog = setup(tmp, feed_interval="1s")
    # A second hook for updates of feed a only: nothing of the first
    # refresh, exactly the edit of the second.
    upd = os.path.join(tmp, "runs-upd")
    os.mkdir(upd)
    with open(conf, "a") as f:
        f.write("hook upd exec %s events=updated feeds=a env=HOOKDIR=%s\n"
                % (prog, upd))
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("the first batch", lambda: len(runs(hookdir)) >= 1)
        (lines, env, _), = runs(hookdir)
        check(env[0] == "h" and env[4:] == ["x", "y"],
              "FEEDD_HOOK / env= not passed: %r" % env)
        check(len(lines) == 3, "expected the 3 new articles: %r" % lines)
        last = check_batch(db, lines, env, 0)
        # The same shape as feedctl articles --format jsonl, plus two fields.
        if FEEDCTL:
            ref = {a["id"]: a for a in map(json.loads, feedctl(
                db, "articles", "--format", "jsonl").splitlines())}
            for a in lines:
                b = dict(a)
                check(b.pop("event") == "new" and isinstance(b.pop("seq"), int),
                      "event/seq: %r" % a)
                check(b == ref[a["id"]], "article differs from feedctl's:\n%r\n%r"
                      % (b, ref[a["id"]]))
        check({a["title"] for a in lines} == {"One", "Two", "Three"},
              "titles: %r" % lines)
        # One new and one edited article in the next refresh.
        feed_with(srv, [("1", "One", "first"), ("2", "Two", "second EDITED"),
                        ("3", "Three", "third"), ("4", "Four", "fourth")])
        wait_for("the second batch", lambda: len(runs(hookdir)) >= 2)
        lines, env, _ = runs(hookdir)[1]
        check(sorted((a["title"], a["event"]) for a in lines) ==
              [("Four", "new"), ("Two", "updated")], "second batch: %r" % lines)
        check_batch(db, lines, env, last)
        wait_for("the update hook's run", lambda: len(runs(upd)) >= 1)
        (ul, uenv, _), = runs(upd)
        check([(x["title"], x["event"]) for x in ul] == [("Two", "updated")],
              "events=updated feeds=a got %r" % ul)
        check(uenv[0] == "upd", "FEEDD_HOOK of the second hook: %r" % uenv)
        time.sleep(1.5)
        check(len(runs(hookdir)) == 2 and len(runs(upd)) == 1,
              "unchanged polls ran a hook again")
        check(db_rows(db, "SELECT name, cursor FROM hook_state ORDER BY name")
              == [("h", changes(db)[-1][0]), ("upd", changes(db)[-1][0])],
              "cursors: %r" % db_rows(db, "SELECT * FROM hook_state"))
        check("hook=h stdout: hook run 1" in d.log(),
              "the hook's stdout is not in the log:\n" + d.log())
        d.signal(signal.SIGTERM)
        check(d.wait(10) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def hook_retries_same_batch(tmp):
    srv, db, conf, hookdir, _ = setup(tmp, mode="fail2", keys="retry=1s",
                                      feed_interval="1s")
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("three runs", lambda: len(runs(hookdir)) >= 3, timeout=20)
        r = runs(hookdir)
        check(r[0][2] == r[1][2] == r[2][2] and len(r[0][0]) == 3,
              "the retries did not get the same batch: %r" % [x[2] for x in r])
        log = d.log()
        check("hook=h failed: exited with status 1: failing on purpose 1" in log,
              "no clear failure line:\n" + log)
        check("hook=h recovered after 2 failures" in log, "no recovery line")
        wait_for("the cursor stored", lambda: db_rows(
            db, "SELECT cursor, failures FROM hook_state WHERE name = 'h'") ==
            [(changes(db)[-1][0], 0)])
        if FEEDCTL:
            st = json.loads(feedctl(db, "--config", conf, "hooks", "--format",
                                    "jsonl"))
            check(st["name"] == "h" and st["status"] == "ok" and
                  st["backlog"] == 0 and st["failures"] == 0 and
                  st["last_success"], "feedctl hooks: %r" % st)
        # The next batch: only what is new since.
        last = changes(db)[-1][0]
        feed_with(srv, ITEMS + [("9", "Nine", "n")])
        wait_for("a fourth run", lambda: len(runs(hookdir)) >= 4, timeout=20)
        lines, env, _ = runs(hookdir)[3]
        check([a["title"] for a in lines] == ["Nine"], "fourth batch: %r" % lines)
        check_batch(db, lines, env, last)
        d.signal(signal.SIGTERM)
        check(d.wait(10) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is dead too (its parent, the hook's sh, may not reap it).
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1].startswith("Z")
    except OSError:
        return True


def group_gone(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def hook_timeout_kills_group(tmp):
    srv, db, conf, hookdir, _ = setup(tmp, mode="group",
                                      keys="timeout=1s retry=1s")
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("a retry after the timeout", lambda: len(runs(hookdir)) >= 2,
                 timeout=20)
        with open(os.path.join(hookdir, "pid-1")) as f:
            leader = int(f.read())
        with open(os.path.join(hookdir, "bg-1")) as f:
            bg = int(f.read())
        wait_for("the first run's group gone", lambda: group_gone(leader) and
                 gone(bg), timeout=5)
        check(runs(hookdir)[0][2] == runs(hookdir)[1][2],
              "the retry got another batch")
        check("hook=h failed: timed out after 1s (its process group was "
              "killed)" in d.log(), "no timeout line:\n" + d.log())
        check(db_rows(db, "SELECT cursor FROM hook_state") == [(0,)],
              "the cursor moved past a batch that timed out")
        d.signal(signal.SIGTERM)
        check(d.wait(15) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
        for n in range(1, len(runs(hookdir)) + 1):
            p = os.path.join(hookdir, "pid-%d" % n)
            if os.path.exists(p):
                with open(p) as f:
                    pid = int(f.read())
                wait_for("run %d's group gone after the stop" % n,
                         lambda: group_gone(pid), timeout=5)
    finally:
        if d:
            d.kill()
        srv.stop()


def hook_kill9_redelivers(tmp):
    srv, db, conf, hookdir, _ = setup(tmp, mode="hang1", feed_interval="1s")
    d = None
    pid = None
    try:
        d = Daemon(tmp, conf)
        wait_for("the first run hanging",
                 lambda: os.path.exists(os.path.join(hookdir, "pid-1")))
        with open(os.path.join(hookdir, "pid-1")) as f:
            pid = int(f.read())
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        # The hook outlives a feedd killed with -9 (its own session): end it.
        os.killpg(pid, signal.SIGKILL)
        first = runs(hookdir)[0]
        check(len(first[0]) == 3, "first batch: %r" % first[0])
        # Changes committed while feedd is down are in the log too.
        feed_with(srv, ITEMS + [("5", "Five", "v")])
        d = Daemon(tmp, conf)
        wait_for("the batch redelivered and the rest delivered", lambda:
                 sum(len(x[0]) for x in runs(hookdir)[1:]) >= 4, timeout=20)
        r = runs(hookdir)
        # The same lines first; a refresh committed before the restarted
        # hook read its batch may add to it (docs/hooks.md).
        check(r[1][2].startswith(first[2]), "the batch in flight was not "
              "redelivered as it was:\n%s\n%s" % (r[1][2], first[2]))
        seqs = [a["seq"] for x in r[1:] for a in x[0]]
        check(seqs == [c[0] for c in changes(db)],
              "after the restart the hook got %r, the log has %r"
              % (seqs, changes(db)))
        d.signal(signal.SIGTERM)
        check(d.wait(10) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if d:
            d.kill()
        srv.stop()


def hook_slow_no_poll_delay(tmp):
    srv, db, conf, hookdir, _ = setup(tmp, mode="slow", feed_interval="1s",
                                      keys="timeout=30s")
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("the slow run", lambda: os.path.exists(
            os.path.join(hookdir, "pid-1")))
        t0 = time.time()
        time.sleep(8)
        times = [r["t"] for r in srv.requests("/a.xml") if r["t"] >= t0]
        check(len(runs(hookdir)) == 1 and not os.path.exists(
            os.path.join(hookdir, "env-2")), "the slow hook finished early?")
        gaps = [b - a for a, b in zip([t0] + times, times)]
        check(len(times) >= 3, "only %d polls in 8 s during the hook's run: %r"
              % (len(times), gaps))
        check(max(gaps) < 5, "a poll waited %.1fs behind the hook: %r"
              % (max(gaps), gaps))
        d.signal(signal.SIGTERM)
        check(d.wait(15) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def hook_check_config(tmp):
    good = os.path.join(tmp, "good.sh")
    noexec = os.path.join(tmp, "noexec.sh")
    for p in (good, noexec):
        with open(p, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
    os.chmod(good, 0o755)
    os.chmod(noexec, 0o644)
    secret = os.path.join(tmp, "wh.secret")
    with open(secret, "w") as f:
        f.write("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
    os.chmod(secret, 0o600)
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\n" % os.path.join(tmp, "f.db"))      # 1
        f.write("feed a http://127.0.0.1:9/a.xml\n")             # 2
        f.write("hook ok exec %s --flag feeds=a\n" % good)        # 3
        f.write("hook missing exec %s/nope.sh\n" % tmp)           # 4
        f.write("hook noexec exec %s\n" % noexec)                 # 5
        f.write("hook badkey exec %s batchsize=3\n" % good)       # 6
        f.write("hook ok exec %s\n" % good)                       # 7
        f.write("hook badval exec %s timeout=soon feeds=zz\n" % good)  # 8
        f.write("hook wh webhook https://example.com/in secret-file=%s/none\n"
                % tmp)                                            # 9
        f.write("hook lo webhook http://127.0.0.1:8080/in\n")    # 10
    p = subprocess.run([FEEDD, "--config", conf, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 1, "exit %d:\n%s" % (p.returncode, p.stderr))
    want = ["%s:4: hook: program '%s/nope.sh': No such file or directory"
            % (conf, tmp),
            "%s:5: hook: program '%s' is not executable" % (conf, noexec),
            "%s:6: hook: unknown key 'batchsize'" % conf,
            "%s:7: hook: duplicate hook name 'ok' (first defined at %s:3)"
            % (conf, conf),
            "%s:8: hook: bad duration 'soon' for timeout" % conf,
            "%s:8: hook: hook badval: feeds= names 'zz'" % conf,
            "%s:9: hook: hook wh: secret file %s/none: No such file or "
            "directory" % (conf, tmp),
            "%s:10: hook: hook lo: 127.0.0.1 is loopback (127.0.0.0/8); "
            "webhooks go to public addresses only unless allow-private=yes"
            % conf]
    for w in want:
        check(w in p.stderr, "missing %r in:\n%s" % (w, p.stderr))
    check("8 errors" in p.stderr, "error count:\n" + p.stderr)
    # The good lines alone pass and print back.
    with open(conf, "w") as f:
        f.write("database %s\n" % os.path.join(tmp, "f.db"))
        f.write("feed a http://127.0.0.1:9/a.xml\n")
        f.write("hook ok exec %s --flag feeds=a env=TOKEN=secret retry=2s\n"
                % good)
        f.write("hook wh webhook https://example.com/in secret-file=%s\n"
                % secret)
    p = subprocess.run([FEEDD, "--config", conf, "--check-config"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
    check("hook ok exec %s --flag feeds=a retry=2s env=TOKEN=****" % good
          in p.stdout and "TOKEN=secret" not in p.stdout,
          "hook not printed back (or its env= value shown):\n" + p.stdout)
    check("hook wh webhook https://example.com/in secret-file=%s" % secret
          in p.stdout, "webhook not printed:\n" + p.stdout)


def hook_program_deleted(tmp):
    srv, db, conf, hookdir, prog = setup(tmp, feed_interval="1s",
                                         keys="retry=1s")
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("the first batch", lambda: len(runs(hookdir)) >= 1)
        os.unlink(prog)
        feed_with(srv, ITEMS + [("6", "Six", "s")])
        wait_for("a clear line for the missing program", lambda:
                 "hook=h failed: cannot run %s: no such file or directory" % prog
                 in d.log(), timeout=15)
        n = srv.count("/a.xml")
        wait_for("polling going on", lambda: srv.count("/a.xml") >= n + 2)
        feed_with(srv, ITEMS + [("6", "Six", "s"), ("7", "Seven", "s")])
        wait_for("the next refresh stored", lambda: db_rows(
            db, "SELECT count(*) FROM articles_v1") == [(5,)])
        check(d.alive(), "feedd died")
        d.signal(signal.SIGTERM)
        check(d.wait(10) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def hook_once(tmp):
    srv, db, conf, hookdir, _ = setup(tmp, mode="fail2")
    try:
        def once():
            p = subprocess.run([FEEDD, "--config", conf, "--once"],
                               capture_output=True, text=True, timeout=60)
            for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                check(bad not in p.stderr, "sanitizer report:\n" + p.stderr)
            return p
        p = once()
        check(p.returncode == 2 and len(runs(hookdir)) == 1,
              "a failing hook under --once: exit %d, %d runs:\n%s"
              % (p.returncode, len(runs(hookdir)), p.stderr))
        check("not retried by --once" in p.stderr, "no clear line:\n" + p.stderr)
        p = once()
        check(p.returncode == 2 and len(runs(hookdir)) == 2, "second --once")
        # Nothing is due (interval 1h): the third run only delivers.
        p = once()
        check(p.returncode == 0, "exit %d:\n%s" % (p.returncode, p.stderr))
        r = runs(hookdir)
        check(len(r) == 3 and r[2][2] == r[0][2] and len(r[2][0]) == 3,
              "--once did not deliver the same batch: %r" % [x[2] for x in r])
        check(db_rows(db, "SELECT cursor, failures FROM hook_state") ==
              [(changes(db)[-1][0], 0)], "cursor not stored by --once")
        p = once()
        check(p.returncode == 0 and len(runs(hookdir)) == 3,
              "an empty backlog ran the hook")
    finally:
        srv.stop()


def hook_sigterm_during_run(tmp):
    srv, db, conf, hookdir, _ = setup(tmp, mode="hang1")
    d = None
    try:
        d = Daemon(tmp, conf, args=["--stop-grace", "1s"])
        wait_for("the first run hanging",
                 lambda: os.path.exists(os.path.join(hookdir, "pid-1")))
        with open(os.path.join(hookdir, "pid-1")) as f:
            pid = int(f.read())
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        check(d.wait(10) == 0, "feedd did not stop cleanly")
        check(time.monotonic() - t0 < 5, "the stop waited %.1fs for the hook"
              % (time.monotonic() - t0))
        wait_for("the hook's process group gone", lambda: group_gone(pid),
                 timeout=5)
        d.check_sanitizers()
        check(db_rows(db, "SELECT cursor, failures, last_error FROM hook_state")
              == [(0, 0, None)], "a stop recorded as a failure: %r"
              % db_rows(db, "SELECT * FROM hook_state"))
        d.kill()
        d = Daemon(tmp, conf)
        wait_for("the batch again after the restart",
                 lambda: len(runs(hookdir)) >= 2)
        r = runs(hookdir)
        check(r[1][2] == r[0][2], "another batch after the restart")
        d.signal(signal.SIGTERM)
        check(d.wait(10) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def hook_reload(tmp):
    srv, db, conf, hookdir, prog = setup(tmp, mode="slow", keys="timeout=30s")
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("the slow run", lambda: os.path.exists(
            os.path.join(hookdir, "pid-1")))
        with open(os.path.join(hookdir, "pid-1")) as f:
            pid = int(f.read())
        other = os.path.join(tmp, "runs2")
        os.mkdir(other)
        with open(conf) as f:
            lines = f.read().splitlines()
        lines = [l for l in lines if not l.startswith("hook h ")]
        lines.append("hook h2 exec %s env=HOOKDIR=%s from=start" % (prog, other))
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        d.signal(signal.SIGHUP)
        wait_for("h2's first batch", lambda: len(runs(other)) >= 1)
        check(len(runs(other)[0][0]) == 3, "from=start: %r" % runs(other)[0][0])
        wait_for("h's process killed", lambda: group_gone(pid), timeout=5)
        log = d.log()
        check("hook=h removed from the config; killing its running exec" in log,
              "no line for the removed hook:\n" + log)
        check(db_rows(db, "SELECT name, cursor FROM hook_state ORDER BY name")
              == [("h", 0), ("h2", changes(db)[-1][0])],
              "state rows: %r" % db_rows(db, "SELECT * FROM hook_state"))
        if FEEDCTL:
            st = {h["name"]: h for h in map(json.loads, feedctl(
                db, "--config", conf, "hooks", "--format", "jsonl").splitlines())}
            check(st["h"]["status"] == "removed" and
                  st["h"]["configured"] is False and st["h"]["backlog"] == 3
                  and st["h2"]["status"] == "ok" and st["h2"]["kind"] == "exec",
                  "feedctl hooks after the reload: %r" % st)
        d.signal(signal.SIGTERM)
        check(d.wait(10) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        srv.stop()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def metrics_of(addr):
    """{'name{labels}': value} from feedd's /metrics (no auth)."""
    import urllib.request
    with urllib.request.urlopen("http://%s/metrics" % addr, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def webhook_setup(tmp, respond, keys="allow-private=yes retry=1s", extra="",
                  host=None):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    srv.write("a.xml", rss(ITEMS, "A"))
    secret = os.path.join(tmp, "wh.secret")
    with open(secret, "w") as f:
        f.write("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
    os.chmod(secret, 0o600)
    rcv = WebhookReceiver(tmp, secret_file=secret, respond=respond)
    db = os.path.join(tmp, "f.db")
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\nlog-level info\n" % db)
        f.write("feed a %s interval=1s\n" % srv.url("/a.xml"))
        url = rcv.url("/in")
        if host:
            url = url.replace("127.0.0.1", host)
        f.write("hook wh webhook %s secret-file=%s %s\n" % (url, secret, keys))
        f.write(extra)
    return srv, rcv, db, conf


def hook_status(db, conf):
    return {h["name"]: h for h in map(json.loads, feedctl(
        db, "--config", conf, "hooks", "--format", "jsonl").splitlines())}


def webhook_delivers(tmp):
    addr = "127.0.0.1:%d" % free_port()
    srv, rcv, db, conf = webhook_setup(tmp, ["500", "200"],
                                       extra="listen %s\n" % addr)
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("two deliveries", lambda: rcv.count("/in") >= 2, timeout=30)
        wait_for("the cursor moved", lambda: db_rows(
            db, "SELECT cursor FROM hook_state WHERE name = 'wh'") != [(0,)],
            timeout=10)
        reqs = rcv.requests("/in")
        check([r["status"] for r in reqs[:2]] == [500, 200],
              "answers %r" % [r["status"] for r in reqs])
        check(all(r["sig_ok"] is True and r["ts_ok"] is True for r in reqs),
              "a signature did not verify: %r" % [
                  (r["sig_ok"], r["ts_ok"]) for r in reqs])
        ids = [r["headers"]["webhook-id"] for r in reqs[:2]]
        check(ids[0] == ids[1], "a retry changed the message id: %r" % ids)
        b0, b1 = json.loads(reqs[0]["body"]), json.loads(reqs[1]["body"])
        check(b0 == b1, "the retry's body differs")
        want = changes(db)
        got = [(a["seq"], a["id"]) for a in b1["articles"]]
        check(got == [(w[0], w[1]) for w in want] and b1["hook"] == "wh" and
              b1["first_seq"] == want[0][0] and b1["last_seq"] == want[-1][0]
              and b1["count"] == 3, "body %r, change log %r" % (b1, want))
        check(ids[0] == "wh-%d-%d" % (want[0][0], want[-1][0]),
              "message id %r" % ids[0])
        check(db_rows(db, "SELECT cursor FROM hook_state WHERE name = 'wh'")
              == [(want[-1][0],)], "cursor not at the batch's last seq")
        # The next batch: only what is new, once.
        last = want[-1][0]
        feed_with(srv, ITEMS + [("9", "Nine", "n")])
        wait_for("a third delivery", lambda: rcv.count("/in") >= 3, timeout=30)
        time.sleep(2.5)  # a duplicate would come within the retry time
        reqs = rcv.requests("/in")
        check(len(reqs) == 3, "%d deliveries, want 3" % len(reqs))
        b2 = json.loads(reqs[2]["body"])
        check([a["title"] for a in b2["articles"]] == ["Nine"] and
              b2["first_seq"] == changes(db, last)[0][0],
              "third batch %r" % b2)
        check(reqs[2]["headers"]["webhook-id"] != ids[0], "id reused")
        st = hook_status(db, conf)["wh"]
        check(st["failures"] == 0 and st["backlog"] == 0 and st["last_success"],
              "feedctl hooks: %r" % st)
        check("hook=wh" in d.log() and "HTTP 500" in d.log(),
              "the failed delivery is not logged:\n" + d.log())
        # The same in /metrics: 2 delivered, 1 failed, nothing waiting.
        m = metrics_of(addr)
        got = {k: m.get(k) for k in (
            'feedd_hook_deliveries_total{hook="wh"}',
            'feedd_hook_failures_total{hook="wh"}',
            'feedd_hook_backlog{hook="wh"}')}
        check(list(got.values()) == [2, 1, 0], "hook metrics %r" % got)
        check(abs(m['feedd_hook_last_success_timestamp_seconds{hook="wh"}']
                  - time.time()) < 60, "last success %r" % m.get(
                      'feedd_hook_last_success_timestamp_seconds{hook="wh"}'))
        d.signal(signal.SIGTERM)
        check(d.wait(15) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        rcv.stop()
        srv.stop()


def webhook_gone(tmp):
    srv, rcv, db, conf = webhook_setup(tmp, ["410"])
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("a delivery", lambda: rcv.count("/in") >= 1, timeout=30)
        wait_for("the hook stopped", lambda: db_rows(
            db, "SELECT disabled FROM hook_state WHERE name = 'wh'")[0][0],
            timeout=10)
        n = len(srv.requests("/a.xml"))
        time.sleep(3)  # three retry periods
        check(rcv.count("/in") == 1, "%d deliveries after a 410" %
              rcv.count("/in"))
        check(len(srv.requests("/a.xml")) > n, "polling stopped")
        st = hook_status(db, conf)["wh"]
        check(st["status"] == "disabled" and "410" in (st["disabled"] or ""),
              "feedctl hooks after a 410: %r" % st)
        check("hook=wh" in d.log() and "410" in d.log(),
              "no log line for the 410:\n" + d.log())
        d.signal(signal.SIGTERM)
        check(d.wait(15) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        rcv.stop()
        srv.stop()


def webhook_private_refused(tmp):
    addr = "127.0.0.1:%d" % free_port()
    # A literal private address is a config error (hook_check_config);
    # a host name is resolved when delivering, and refused then.
    srv, rcv, db, conf = webhook_setup(tmp, ["200"], keys="retry=1s",
                                       extra="listen %s\n" % addr,
                                       host="localhost")
    d = None
    try:
        d = Daemon(tmp, conf)
        wait_for("a failed delivery", lambda: "allow-private=yes" in d.log(),
                 timeout=30)
        wait_for("polling goes on", lambda: len(srv.requests("/a.xml")) >= 3,
                 timeout=20)
        check(rcv.count("/in") == 0, "a private receiver was reached")
        check(db_rows(db, "SELECT cursor FROM hook_state WHERE name = 'wh'")
              == [(0,)], "the cursor moved without a delivery")
        st = hook_status(db, conf)["wh"]
        check(st["failures"] >= 1 and "allow-private" in (st["last_error"] or ""),
              "feedctl hooks: %r" % st)
        # A failing hook's backlog is what waits in the change log.
        m = metrics_of(addr)
        check(m.get('feedd_hook_backlog{hook="wh"}') == len(changes(db)) and
              m.get('feedd_hook_failures_total{hook="wh"}', 0) >= 1 and
              m.get('feedd_hook_deliveries_total{hook="wh"}') == 0,
              "hook metrics %r" % {k: v for k, v in m.items() if "hook" in k})
        d.signal(signal.SIGTERM)
        check(d.wait(15) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        rcv.stop()
        srv.stop()


def webhook_changed_while_busy(tmp):
    srv, rcv, db, conf = webhook_setup(tmp, ["200"])
    d = None
    try:
        with open(conf) as f:
            text = f.read()
        old = rcv.url("/old?respond=410:delay=3")
        with open(conf, "w") as f:
            f.write(text.replace(rcv.url("/in"), old))
        d = Daemon(tmp, conf)
        wait_for("the delivery to the old URL", lambda: rcv.count("/old") >= 1,
                 timeout=30)
        with open(conf, "w") as f:
            f.write(text.replace(rcv.url("/in"), rcv.url("/new")))
        d.signal(signal.SIGHUP)
        wait_for("a delivery to the new URL", lambda: rcv.count("/new") >= 1,
                 timeout=30)
        check(rcv.count("/old") == 1, "%d requests to the old URL" %
              rcv.count("/old"))
        wait_for("the cursor moved", lambda: db_rows(
            db, "SELECT cursor FROM hook_state WHERE name = 'wh'") != [(0,)],
            timeout=10)
        check(db_rows(db, "SELECT disabled FROM hook_state WHERE name = 'wh'")
              == [(None,)], "the new definition is disabled by the old 410")
        d.signal(signal.SIGTERM)
        check(d.wait(15) == 0, "feedd did not stop cleanly")
        d.check_sanitizers()
    finally:
        if d:
            d.kill()
        rcv.stop()
        srv.stop()


if __name__ == "__main__":
    sys.exit(main([hook_check_config, hook_gets_new_articles,
                   hook_retries_same_batch, hook_timeout_kills_group,
                   hook_kill9_redelivers, hook_slow_no_poll_delay,
                   hook_program_deleted, hook_once, hook_sigterm_during_run,
                   webhook_delivers, webhook_gone, webhook_changed_while_busy,
                   webhook_private_refused,
                   hook_reload]))

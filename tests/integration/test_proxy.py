#!/usr/bin/env python3
"""feedd through failing proxies: the log line names the feed, its URL and
the proxy (password masked) with the cause.

proxy_refused:  a proxy on a closed port -> "proxy http://***@127.0.0.1:P:
                Connection refused"; the password never appears.
proxy_connect:  a proxy that answers CONNECT with 403 (feedserver.py
                --connect-status 403) -> "CONNECT refused (403)", and the
                proxy really was asked for the tunnel.
"""
import json
import os
import socket
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FEEDD, SRC, check, main  # noqa: E402


def run(conf):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "http_proxy", "https_proxy",
              "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(k, None)
    p = subprocess.run([FEEDD, "--config", conf, "--once"], capture_output=True,
                       text=True, timeout=60, env=env)
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in p.stderr, "sanitizer report:\n" + p.stderr)
    return p


def config(tmp, lines):
    path = os.path.join(tmp, "feedd.conf")
    with open(path, "w") as f:
        f.write("database %s\ninterval 1h\n" % os.path.join(tmp, "f.db"))
        f.write("".join(l + "\n" for l in lines))
    return path


def failing_line(stderr, feed):
    for line in stderr.splitlines():
        if "feed=%s " % feed in line and "fail" in line:
            return line
    return None


def proxy_refused(tmp):
    # Bound but never listening: connecting is refused, and no other
    # process can take the port meanwhile.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    try:
        conf = config(tmp, [
            "feed news http://news.example.invalid/rss.xml "
            "proxy=http://ops:hunter2@127.0.0.1:%d" % port])
        p = run(conf)
    finally:
        s.close()
    check(p.returncode != 0, "exit 0 although the only feed failed:\n" + p.stderr)
    line = failing_line(p.stderr, "news")
    check(line is not None, "no failure line for the feed:\n" + p.stderr)
    check("url=http://news.example.invalid/rss.xml" in line, "no URL: " + line)
    check("proxy http://***@127.0.0.1:%d: Connection refused" % port in line,
          "the proxy and the cause are not named: " + line)
    check("hunter2" not in p.stderr and "ops:" not in p.stderr,
          "proxy credentials in the log:\n" + p.stderr)


def proxy_connect(tmp):
    script = os.path.join(SRC, "tests", "support", "feedserver.py")
    px = subprocess.Popen([sys.executable, script, "--exit-on-eof",
                           "--connect-status", "403"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(px.stdout.readline().split()[1])
        conf = config(tmp, [
            "feed secure https://secure.example.invalid/atom.xml "
            "proxy=http://127.0.0.1:%d" % port])
        p = run(conf)
        with urllib.request.urlopen("http://127.0.0.1:%d/_/requests" % port,
                                    timeout=5) as r:
            reqs = json.loads(r.read())
    finally:
        px.stdin.close()
        px.wait(timeout=5)
    line = failing_line(p.stderr, "secure")
    check(line is not None, "no failure line for the feed:\n" + p.stderr)
    check("proxy http://127.0.0.1:%d: CONNECT refused (403)" % port in line,
          "the proxy and the cause are not named: " + line)
    check(any(r["method"] == "CONNECT" and
              r["path"] == "secure.example.invalid:443" for r in reqs),
          "the proxy was not asked for a tunnel: %r" % reqs)


if __name__ == "__main__":
    sys.exit(main([proxy_refused, proxy_connect]))

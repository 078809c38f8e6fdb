#!/usr/bin/env python3
"""Proxy failures say which proxy and why (feed name, URL and cause).

connect_refused: CONNECT answered 403 -> "proxy URL: CONNECT refused (HTTP 403)".
unreachable:     nothing listens at the proxy -> "proxy URL: ... connect ...",
                 with the proxy's user:password masked.
"""
import os
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FEEDD, check, main  # noqa: E402


def refusing_proxy():
    """A proxy on 127.0.0.1 that answers every request with 403."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    seen = []

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            with c:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                seen.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                          b"Connection: close\r\n\r\n")
    threading.Thread(target=serve, daemon=True).start()
    return srv, seen


def run_once(tmp, proxy, url):
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("database %s\nproxy %s\nfeed viaproxy %s\n"
                % (os.path.join(tmp, "f.db"), proxy, url))
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "http_proxy", "https_proxy", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(k, None)
    p = subprocess.run([FEEDD, "--config", conf, "--once"], capture_output=True,
                       text=True, timeout=60, env=env)
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in p.stderr, "sanitizer report:\n" + p.stderr)
    return p


def connect_refused(tmp):
    srv, seen = refusing_proxy()
    try:
        port = srv.getsockname()[1]
        p = run_once(tmp, "http://127.0.0.1:%d" % port,
                     "https://127.0.0.1:9/feed.xml")
        check(p.returncode == 2, "exit %d, want 2" % p.returncode)
        line = [l for l in p.stderr.splitlines() if "feed=viaproxy" in l]
        check(line and "proxy http://127.0.0.1:%d: CONNECT refused (HTTP 403)"
              % port in line[0] and "https://127.0.0.1:9/feed.xml" in line[0],
              "proxy refusal not named:\n" + p.stderr)
        check(seen and seen[0].startswith("CONNECT 127.0.0.1:9"),
              "the proxy saw no CONNECT: %r" % seen)
    finally:
        srv.close()


def unreachable(tmp):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                        # nothing listens there now
    p = run_once(tmp, "http://joe:s3cret@127.0.0.1:%d" % port,
                 "http://127.0.0.1:9/feed.xml")
    check(p.returncode == 2, "exit %d, want 2" % p.returncode)
    line = [l for l in p.stderr.splitlines() if "feed=viaproxy" in l]
    check(line and "proxy http://****@127.0.0.1:%d: " % port in line[0] and
          "onnect" in line[0], "unreachable proxy not named:\n" + p.stderr)
    check("s3cret" not in p.stderr, "proxy password logged:\n" + p.stderr)


if __name__ == "__main__":
    sys.exit(main([connect_refused, unreachable]))

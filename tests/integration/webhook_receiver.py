#!/usr/bin/env python3
"""The webhook receiver used by feedd's tests, tested on its own: port file
and PORT line, the signature check (the Standard Webhooks spec's example
must verify, a changed byte must not), the timestamp window, scripted
answer sequences (per URL and from --respond), Retry-After, and the JSON
Lines log. Exit 0 pass, 1 fail, 77 skip."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RECEIVER = os.path.join(HERE, "..", "support", "webhook_receiver.py")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = "1614265330"
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def post(port, path, body, headers):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def main():
    with tempfile.TemporaryDirectory() as d:
        secret = os.path.join(d, "secret")
        with open(secret, "w") as f:
            f.write(SECRET + "\n")
        os.chmod(secret, 0o600)
        log = os.path.join(d, "log.jsonl")
        portfile = os.path.join(d, "port")
        p = subprocess.Popen([sys.executable, RECEIVER, "--exit-on-eof",
                              "--port-file", portfile, "--log", log,
                              "--secret-file", secret,
                              "--respond", "503:retry=9", "--respond", "200"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            line = p.stdout.readline().decode()
            check(line.startswith("PORT "), "PORT line: %r" % line)
            port = int(line.split()[1])
            with open(portfile) as f:
                check(int(f.read()) == port, "port file")

            spec = {"webhook-id": SPEC_ID, "webhook-timestamp": SPEC_TS,
                    "webhook-signature": SPEC_SIG}
            # The spec's example verifies (the timestamp is years old).
            st, _ = post(port, "/spec?respond=200", SPEC_BODY, spec)
            check(st == 200, "status %d" % st)
            # One byte changed: no longer.
            st, _ = post(port, "/tampered?respond=200", SPEC_BODY[:-1] + b" ",
                         spec)
            # A fresh timestamp, signed here, with a rotated-out key first.
            ts = str(int(time.time()))
            key = base64.b64decode(SECRET[6:])
            sig = base64.b64encode(hmac.new(
                key, ("fresh-1-1.%s." % ts).encode() + b"{}",
                hashlib.sha256).digest()).decode()
            st, _ = post(port, "/fresh?respond=410", b"{}", {
                "webhook-id": "fresh-1-1", "webhook-timestamp": ts,
                "webhook-signature": "v1,AAAA v1," + sig})
            check(st == 410, "scripted 410: %d" % st)
            # --respond: 503 with Retry-After first, then 200 for ever.
            st, h = post(port, "/default", b"{}", {})
            check(st == 503 and h.get("Retry-After") == "9",
                  "default 503: %d %r" % (st, h.get("Retry-After")))
            for _ in range(2):
                st, _ = post(port, "/default", b"{}", {})
                check(st == 200, "default then 200: %d" % st)
            # A per-URL sequence, with an HTTP-date Retry-After.
            st, h = post(port, "/seq?respond=429:retry-date=60,204", b"{}", {})
            check(st == 429 and "GMT" in h.get("Retry-After", ""),
                  "429 date: %r" % h.get("Retry-After"))
            st, _ = post(port, "/seq?respond=429:retry-date=60,204", b"{}", {})
            check(st == 204, "then 204: %d" % st)

            with open(log) as f:
                recs = [json.loads(x) for x in f]
            by = {}
            for r in recs:
                by.setdefault(r["path"].split("?")[0], []).append(r)
            check(len(recs) == 8, "8 requests logged, not %d" % len(recs))
            s = by["/spec"][0]
            check(s["sig_ok"] is True, "spec vector verifies")
            check(s["ts_ok"] is False, "a 2021 timestamp is stale")
            check(s["body"] == SPEC_BODY.decode() and s["method"] == "POST",
                  "body and method logged")
            check(s["headers"].get("webhook-id") == SPEC_ID, "headers logged")
            check(by["/tampered"][0]["sig_ok"] is False, "tampered refused")
            check(by["/fresh"][0]["sig_ok"] is True, "second signature")
            check(by["/fresh"][0]["ts_ok"] is True, "fresh timestamp")
            check(by["/fresh"][0]["status"] == 410, "status logged")
            check(by["/default"][0]["sig_ok"] is False, "unsigned")
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/_/requests" % port) as r:
                check(len(json.load(r)) == 8, "/_/requests")
        finally:
            p.stdin.close()
            p.wait(timeout=10)
    # harness.WebhookReceiver, as the end-to-end hook tests use it.
    sys.path.insert(0, HERE)
    import harness
    with tempfile.TemporaryDirectory() as d:
        r = harness.WebhookReceiver(d, respond=["500", "200"])
        try:
            st1, _ = post(r.port, "/h", b"{}", {})
            st2, _ = post(r.port, "/h", b"{}", {})
            check((st1, st2) == (500, 200), "harness respond: %r" % ((st1, st2),))
            check(r.count("/h") == 2 and r.count() == 2, "harness count")
            check(r.requests("/h")[0]["sig_ok"] is None, "no secret: null")
            with open(r.log) as f:
                check(len(f.readlines()) == 2, "harness log file")
        finally:
            r.stop()
    print("webhook_receiver: %s" % ("ok" if not failures else
                                    "%d failure(s)" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

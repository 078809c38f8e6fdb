#!/usr/bin/env python3
"""bench/mem_ready.py: feedd's memory per feed with many feeds, without a
feed server: N feeds over H hosts 127.A.B.C on a port nothing listens on
(every poll fails at once with "connection refused", so steady state here
is feeds that back off, not feeds that store articles; bench/scale.sh has
that).

  bench/mem_ready.py [--n 100000] [--hosts 20000] [--steady 60]
                     [--feedd build/daemon/feedd] [--work DIR]

Three phases, each printed as one line:
  fresh    a new database: seconds to READY=1 and VmRSS/VmHWM there
  steady   the same process --steady seconds later (the ramp polling)
  restart  a second start on the stored feeds: seconds to READY=1, RSS

bytes/feed is VmRSS / N (the fixed part included: at 100,000 feeds it is
a few MiB of 200+). The figures are the kernel's (/proc/PID/status).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def host_ip(h):
	return "127.%d.%d.%d" % (1 + h // (256 * 254), (h // 254) % 256, 1 + h % 254)


def status(pid):
	out = {}
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			k, _, v = line.partition(":")
			if k in ("VmRSS", "VmHWM"):
				out[k] = int(v.split()[0]) * 1024
	return out


def cpu_s(pid):
	with open("/proc/%d/stat" % pid) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	tick = os.sysconf("SC_CLK_TCK")
	return (int(fields[11]) + int(fields[12])) / tick


def start(feedd, conf, work, logname):
	sock_path = os.path.join(work, "notify.sock")
	if os.path.exists(sock_path):
		os.unlink(sock_path)
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sock_path)
	env = dict(os.environ, NOTIFY_SOCKET=sock_path)
	log = open(os.path.join(work, logname), "w")
	t0 = time.monotonic()
	p = subprocess.Popen([feedd, "--config", conf], stdout=log,
		stderr=subprocess.STDOUT, env=env)
	s.settimeout(1.0)
	while True:
		if p.poll() is not None:
			sys.exit("feedd exited %d before READY=1 (see %s)" % (
				p.returncode, os.path.join(work, logname)))
		try:
			msg = s.recv(4096).decode(errors="replace")
		except socket.timeout:
			if time.monotonic() - t0 > 600:
				p.kill()
				sys.exit("no READY=1 in 600 s")
			continue
		if "READY=1" in msg.split("\n"):
			return p, s, time.monotonic() - t0


def stop(p, s):
	p.send_signal(signal.SIGTERM)
	try:
		p.wait(timeout=120)
	except subprocess.TimeoutExpired:
		p.kill()
		p.wait()
	s.close()


def line(what, n, secs, st, cpu):
	print("%-8s n=%d ready_s=%s cpu_s=%.2f rss_mib=%.1f hwm_mib=%.1f "
		"bytes_per_feed=%d" % (what, n, "%.2f" % secs if secs is not None
		else "-", cpu, st["VmRSS"] / 2**20, st["VmHWM"] / 2**20,
		st["VmRSS"] // n), flush=True)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--n", type=int, default=100000)
	ap.add_argument("--hosts", type=int, default=20000)
	ap.add_argument("--steady", type=int, default=60)
	ap.add_argument("--feedd", default="build/daemon/feedd")
	ap.add_argument("--work")
	a = ap.parse_args()
	work = a.work or tempfile.mkdtemp(prefix="feedd-mem-")
	os.makedirs(work, exist_ok=True)
	conf = os.path.join(work, "feedd.conf")
	db = os.path.join(work, "feedd.db")
	for p in (db, db + "-wal", db + "-shm"):
		if os.path.exists(p):
			os.unlink(p)
	with open(conf, "w") as f:
		f.write("database %s\nsync normal\ninterval 30m\n"
			"start-ramp 555\nlog-level notice\n" % db)
		for i in range(a.n):
			f.write("feed f%07d http://%s:9/feeds/%d.xml\n" % (
				i, host_ip(i % a.hosts), i))
	p, s, secs = start(a.feedd, conf, work, "fresh.log")
	line("fresh", a.n, secs, status(p.pid), cpu_s(p.pid))
	time.sleep(a.steady)
	line("steady", a.n, None, status(p.pid), cpu_s(p.pid))
	stop(p, s)
	p, s, secs = start(a.feedd, conf, work, "restart.log")
	line("restart", a.n, secs, status(p.pid), cpu_s(p.pid))
	stop(p, s)
	if not a.work:
		shutil.rmtree(work)


if __name__ == "__main__":
	main()

#!/usr/bin/env python3
"""The measurements behind bench/scale.sh (the issue "1,000,000 feeds").

Run inside a private network namespace (bench/scale.sh puts it there), so
that every 127.x.y.z address reaches the one nginx socket on 0.0.0.0 and
each "host" of the benchmark is a distinct IP literal 127.A.B.C.

Per N (--n, repeatable):
  1. writes N small RSS 2.0 feeds (20 entries each, own links and GUIDs, or
     with --shared-links the same 20 links in every feed), 1000 per
     directory, and starts a private nginx on them (bench/peers/nginx.sh,
     with a `$msec $uri $status` access log and stub_status);
  2. starts feedd on a fresh database with one `feed` line per file, spread
     over H hosts, and times exec to READY=1 (NOTIFY_SOCKET, soak.py's
     listener);
  3. every interval, a fraction (5%) of the feeds gets one new entry on top,
     spread over the interval, rewritten atomically: the other polls get 304;
  4. skips the first interval (the start-up ramp), then measures K intervals:
     server-side polls/s (stub_status), each feed's gaps between polls (access
     log), the status mix, feedd's CPU, RSS and threads, nginx's CPU and the
     machine's load;
  5. reloads with one feed line changed (SIGHUP), timing the "reloaded" log
     line and checking from the access log that polls went on;
  6. stops feedd (timing SIGTERM to exit) and starts it again on the same
     database (exec to READY=1 again).

Python 3 standard library only. Prints a table per N; --json writes every
figure, --write-docs splices the tables into docs/benchmarks.md.
"""
import argparse
import array
import datetime
import json
import math
import os
import resource
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(BENCH, "soak"))
sys.path.insert(0, os.path.join(BENCH, "peers"))
import gen_feeds  # noqa: E402  (write_atomic, rfc822, sentence)
import soak  # noqa: E402  (Notify, proc_sample, stop, count_feeds, fmt)
from peers import splice  # noqa: E402

NGINX_SH = os.path.join(BENCH, "peers", "nginx.sh")
TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
ENTRIES = 20          # entries per feed document
PER_DIR = 1000        # feed files per directory
RATE = 555            # polls/s the default interval aims at (1e6 / 1800 s)
# The baseline table: feeds -> hosts. Other N: N / --hosts-ratio.
HOSTS_TABLE = {10000: 2000, 100000: 10000, 1000000: 100000}
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"


def log(msg):
	print("scale: " + msg, file=sys.stderr, flush=True)


# --- the feeds ---------------------------------------------------------------

class Corpus:
	"""N small RSS 2.0 feeds under root/dDDDD/fNNNNNNN.xml. Feed i shows
	entries win[i] .. win[i]+19, newest first; `advance` moves its window
	by one (a new entry on top, the oldest drops) and rewrites the file
	atomically (gen_feeds.write_atomic: temp file, then rename), so nginx
	gives it a new ETag and Last-Modified."""

	HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n'
		"<channel>\n<title>Scale feed %d</title>\n"
		"<link>http://site%d.example.org/</link>\n"
		"<description>Feed %d of the bench/scale corpus</description>\n"
		"<lastBuildDate>%s</lastBuildDate>\n")
	ITEM = ("<item>\n<title>%s</title>\n<link>%s</link>\n"
		'<guid isPermaLink="false">feed%d-entry%d</guid>\n'
		"<pubDate>%s</pubDate>\n<description>%s</description>\n</item>\n")
	TAIL = "</channel>\n</rss>\n"

	def __init__(self, root, n, shared_links, seed):
		self.root, self.n, self.shared = root, n, shared_links
		r = random.Random("%d/scale-pool" % seed)
		# Pools of text, picked per (feed, entry) by a hash: plain string
		# templates, no per-entry randomness, so a million files are
		# written in minutes. Descriptions are 200-400 bytes.
		self.titles = [gen_feeds.sentence(r, 3, 9).rstrip(".?!")
			for _ in range(509)]
		self.descs = []
		for _ in range(521):
			s = gen_feeds.sentence(r)
			while len(s) < r.randint(200, 400):
				s += " " + gen_feeds.sentence(r)
			self.descs.append(s)
		# Entry k is dated base + k hours: recent, so no retention rule
		# applies, and new entries are newer than the ones they push out.
		self.base = int(time.time()) - 30 * 86400
		self.dates = {}
		self.win = array.array("l", bytes(8 * n))
		self.lock = threading.Lock()

	def path(self, i):
		return os.path.join(self.root, "d%04d" % (i // PER_DIR),
			"f%07d.xml" % i)

	@staticmethod
	def url_path(i):
		return "/d%04d/f%07d.xml" % (i // PER_DIR, i)

	def date(self, k):
		d = self.dates.get(k)
		if d is None:
			d = self.dates[k] = gen_feeds.rfc822(self.base + k * 3600)
		return d

	def render(self, i):
		w = self.win[i]
		o = [self.HEAD % (i, i, i, self.date(w + ENTRIES - 1))]
		for k in range(w + ENTRIES - 1, w - 1, -1):
			h = i * 7919 + k * 104729
			link = ("http://planet.example.org/post/%d" % k if self.shared
				else "http://site%d.example.org/post/%d" % (i, k))
			o.append(self.ITEM % (self.titles[h % 509], link, i, k,
				self.date(k), self.descs[h % 521]))
		o.append(self.TAIL)
		return "".join(o).encode()

	def generate(self):
		"""Write every file (plain writes: nothing serves them yet).
		Returns (seconds, bytes)."""
		t0 = time.monotonic()
		total = 0
		for i in range(self.n):
			if i % PER_DIR == 0:
				os.makedirs(os.path.dirname(self.path(i)), exist_ok=True)
			data = self.render(i)
			total += len(data)
			with open(self.path(i), "wb") as f:
				f.write(data)
		return time.monotonic() - t0, total

	def advance(self, i):
		with self.lock:
			self.win[i] += 1
			data = self.render(i)
		gen_feeds.write_atomic(self.path(i), data)


class Changer(threading.Thread):
	"""Every interval, `fraction` of the feeds (a new random sample each
	interval) get one new entry, the changes spread evenly over the
	interval rather than all at once."""

	def __init__(self, corpus, interval, fraction, seed):
		super().__init__(daemon=True)
		self.c, self.interval, self.fraction = corpus, interval, fraction
		self.rnd = random.Random("%d/scale-change" % seed)
		self.stop_ev = threading.Event()
		self.times = []    # wall time of every change (for the window)
		self.errors = 0

	def run(self):
		n = self.c.n
		k = max(1, round(n * self.fraction))
		t0 = time.monotonic()
		while not self.stop_ev.is_set():
			pick = self.rnd.sample(range(n), k)
			step = self.interval / k
			for j, i in enumerate(pick):
				due = t0 + (j + 0.5) * step
				left = due - time.monotonic()
				if left > 0 and self.stop_ev.wait(left):
					return
				try:
					self.c.advance(i)
					self.times.append(time.time())
				except OSError:
					self.errors += 1
			t0 += self.interval

	def stop(self):
		self.stop_ev.set()
		self.join()


# --- hosts and config --------------------------------------------------------

def host_ip(h):
	"""Host number h as 127.A.B.C: A from 1 (never 127.0.0.1), C in 1..254
	(no .0 or .255 last octet)."""
	return "127.%d.%d.%d" % (1 + h // (256 * 254), (h // 254) % 256, 1 + h % 254)


def feed_line(c, i, hosts, port, extra=""):
	return "feed f%07d http://%s:%d%s%s\n" % (i, host_ip(i % hosts), port,
		c.url_path(i), extra)


def write_conf(path, c, a, P, port, reload_extra=None):
	"""The feedd config; reload_extra: the suffix for feed 0's line."""
	lines = ["# generated by bench/scale/scale.py\n",
		"database %s\n" % P["db"], "sync normal\n",
		"interval %ds\n" % P["interval"],
		"max-connections %d\n" % a.max_connections,
		"max-per-host %d\n" % a.max_per_host,
		"start-ramp %d\n" % P["start_ramp"], "log-level notice\n"]
	for i in range(c.n):
		lines.append(feed_line(c, i, P["hosts"], port,
			reload_extra if i == 0 and reload_extra else ""))
	tmp = path + ".tmp"
	with open(tmp, "w") as f:
		f.writelines(lines)
	os.replace(tmp, path)


def per_n(values, n, default):
	"""--interval / --hosts: "V" for every N, or "N=V" for one N."""
	out = default
	for v in values or []:
		if "=" in v:
			k, x = v.split("=", 1)
			if int(k) == n:
				return int(x)
		else:
			out = int(v)
	return out


def plan(a, n):
	ivl = per_n(a.interval, n, max(60, round(n / RATE)))
	if a.hosts_ratio:
		dh = max(1, round(n / a.hosts_ratio))
	else:
		dh = HOSTS_TABLE.get(n, max(1, round(n / 10)))
	hosts = min(n, per_n(a.hosts, n, dh))
	return {"n": n, "interval": ivl, "hosts": hosts,
		"start_ramp": max(1, math.ceil(n / ivl * a.ramp_factor)),
		"wanted_polls_s": n / ivl}


# --- nginx (bench/peers/nginx.sh) and /proc -----------------------------------

class Nginx:
	"""A private nginx from bench/peers/nginx.sh, on 0.0.0.0 in the
	namespace, logging `$msec $uri $status` (buffered) and serving
	stub_status at /nginx_status for the server-side request count."""

	def __init__(self, root, work, n, workers):
		self.prefix = os.path.join(work, "nginx")
		self.logpath = os.path.join(self.prefix, "logs", "scale.log")
		try:
			nr_open = int(open("/proc/sys/fs/nr_open").read())
		except OSError:
			nr_open = 1048576
		# open_file_cache keeps a descriptor per cached file: cache every
		# feed when the descriptor limit allows, else leave it off (an LRU
		# smaller than the set polled round-robin only misses).
		want = n + 10000
		# nginx's worker_rlimit_nofile cannot pass the hard limit it
		# inherits unless it may raise it (CAP_SYS_RESOURCE, missing in
		# some containers): raise it here if we can, else plan with it.
		soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
		goal = min(nr_open, want + 20000)
		if hard != resource.RLIM_INFINITY and hard < goal:
			try:
				resource.setrlimit(resource.RLIMIT_NOFILE, (goal, goal))
			except (ValueError, OSError):
				pass
			soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
		if hard != resource.RLIM_INFINITY:
			nr_open = min(nr_open, hard)
		self.cache = want + 20000 <= nr_open
		nofile = min(nr_open, want + 20000) if self.cache else min(nr_open, 200000)
		cache = ("open_file_cache max=%d inactive=1h; "
			"open_file_cache_valid 1s; open_file_cache_min_uses 1; "
			"open_file_cache_errors on;" % want if self.cache else "")
		env = dict(os.environ,
			NGINX_WORKERS=str(workers), NGINX_LISTEN="0.0.0.0",
			NGINX_WORKER_CONNECTIONS="65536",
			NGINX_RLIMIT_NOFILE=str(nofile),
			NGINX_HTTP_EXTRA="\tlog_format scale '$msec $uri $status';",
			NGINX_SERVER_EXTRA=(
				"\t\taccess_log %s scale buffer=256k flush=5s;\n"
				"\t\t%s\n"
				"\t\tlocation = /nginx_status { stub_status; access_log off;"
				" allow 127.0.0.1; deny all; }" % (self.logpath, cache)))
		out = subprocess.run(["sh", "-c",
			'. "$1" && nginx_start "$2" "$3" && echo "$NGINX_PORT $NGINX_PID"',
			"sh", NGINX_SH, root, work], env=env, stdout=subprocess.PIPE,
			check=True, text=True).stdout.split()
		self.port, self.pid = int(out[0]), int(out[1])
		self.workers = []
		self.status_reads = 0
		self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

	def worker_pids(self):
		if not self.workers:
			for d in os.listdir("/proc"):
				if d.isdigit():
					try:
						st = open("/proc/%s/stat" % d).read()
					except OSError:
						continue
					if int(st[st.rindex(")") + 2:].split()[1]) == self.pid:
						self.workers.append(int(d))
		return self.workers

	def cpu_s(self):
		return sum(cpu_of(p) or 0 for p in [self.pid] + self.worker_pids())

	def requests(self):
		"""nginx's request counter (this read is one of them)."""
		self.status_reads += 1
		with self.opener.open("http://127.0.0.1:%d/nginx_status" % self.port,
				timeout=10) as r:
			lines = r.read().decode().split("\n")
		return int(lines[2].split()[2])

	def flush(self):
		"""USR1: reopen the logs, which writes out the buffered lines."""
		os.kill(self.pid, signal.SIGUSR1)
		time.sleep(1)

	def stop(self):
		subprocess.run(["sh", "-c", '. "$1"; NGINX_PID=$2; nginx_stop', "sh",
			NGINX_SH, str(self.pid)])


def cpu_of(pid):
	try:
		with open("/proc/%d/stat" % pid) as f:
			st = f.read()
	except OSError:
		return None
	fields = st[st.rindex(")") + 2:].split()
	return (int(fields[11]) + int(fields[12])) / TCK


def machine_cpu():
	"""(busy, total) jiffies of all CPUs from /proc/stat."""
	with open("/proc/stat") as f:
		v = [int(x) for x in f.readline().split()[1:]]
	idle = v[3] + (v[4] if len(v) > 4 else 0)
	return sum(v) - idle, sum(v)


def loadavg():
	with open("/proc/loadavg") as f:
		return " ".join(f.read().split()[:3])


# --- one N ---------------------------------------------------------------------

class Run:
	"""feedd, the nginx and the samples for one N."""

	def __init__(self, a, P, work):
		self.a, self.P, self.work = a, P, work
		self.samples = []    # (wall, rss_kib, threads, feedd_cpu_s)
		self.p = None
		self.nt = None

	def start_feedd(self, label):
		"""Exec feedd; returns the start-up figures (ready_s, RSS)."""
		sock = os.path.join(self.work, "notify.sock")
		self.nt = soak.Notify(sock)
		env = {k: v for k, v in os.environ.items()
			if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
		env.update(NOTIFY_SOCKET=sock, NO_COLOR="1")
		self.err = os.path.join(self.work, "feedd.log")
		self.out = os.path.join(self.work, "feedd-%s.out" % label.replace(" ", "-"))
		w0, t0 = time.time(), time.monotonic()
		self.p = subprocess.Popen([self.a.feedd, "--config", self.P["conf"],
			"--stats"], stdout=open(self.out, "wb"),
			stderr=open(self.err, "ab"), env=env,
			# Its own session: a Ctrl-C reaches the driver only, which
			# then stops feedd itself.
			start_new_session=True)
		with open(os.path.join(self.a.work, "feedd.pid"), "w") as f:
			f.write("%d\n" % self.p.pid)
		t = self.nt.wait_for("READY=1", self.a.ready_timeout)
		if t is None:
			raise RuntimeError("feedd (%s): no READY=1 within %d s; see %s" % (
				label, self.a.ready_timeout, self.err))
		s = soak.proc_sample(self.p.pid)
		r = {"ready_s": t - t0, "ready_wall": w0 + (t - t0),
			"rss_mib": s[0] / 1024 if s else None,
			"threads": s[2] if s else None}
		log("%s: READY=1 after %.2f s, RSS %s MiB" % (label, r["ready_s"],
			soak.fmt(r["rss_mib"])))
		return r

	def stop_feedd(self):
		stop_s, rc = soak.stop(self.p, self.a.stop_timeout)
		self.nt.close()
		self.nt = None
		self.p = None
		with open(self.out) as f:
			line = [x for x in f if x.startswith("feedd-stats ")]
		stats = dict(kv.split("=", 1) for kv in line[-1].split()[1:]) if line else {}
		return stop_s, rc, stats

	def sample(self):
		s = soak.proc_sample(self.p.pid)
		if s is None or self.p.poll() is not None:
			raise RuntimeError("feedd exited (status %s); see %s" % (
				self.p.poll(), self.err))
		self.samples.append((time.time(), s[0], s[2], s[4]))
		return s

	def run_until(self, wall_end):
		"""Sample every --sample seconds until wall time wall_end."""
		while True:
			self.sample()
			left = wall_end - time.time()
			if left <= 0:
				return
			time.sleep(min(self.a.sample, left))

	def snapshot(self, ng):
		s = self.sample()
		return {"wall": time.time(), "requests": ng.requests(),
			"status_reads": ng.status_reads, "feedd_cpu": s[4],
			"nginx_cpu": ng.cpu_s(), "machine": machine_cpu(),
			"load": loadavg()}


def analyse_log(path, n, I, win0, win1, ready_wall, hup_wall, term_wall,
		ready2_wall):
	"""The access log: per-feed gaps of requests in [win0, win1], status
	mix there, the first poll of every feed (the ramp), the longest gap
	between any two polls in the 5 s around the reload, and the pause
	across the restart."""
	last = array.array("d", bytes(8 * n))
	first = array.array("d", bytes(8 * n))
	seen = bytearray(n)
	gaps = []
	status = {}
	around = []
	calm = []     # the same 5 s span 15 s before the reload: the baseline
	before_term = after_restart = None
	after10 = 0
	polled_in_win = bytearray(n)
	with open(path, errors="replace") as f:
		for line in f:
			parts = line.split()
			if len(parts) != 3 or not parts[1].startswith("/d"):
				continue
			try:
				t = float(parts[0])
				i = int(parts[1][-11:-4])
			except ValueError:
				continue
			if i >= n:
				continue
			if win0 <= t <= win1:
				status[parts[2]] = status.get(parts[2], 0) + 1
				polled_in_win[i] = 1
				if seen[i]:
					gaps.append(t - last[i])
			if not seen[i]:
				seen[i] = 1
				first[i] = t
			last[i] = t
			if hup_wall - 2.5 <= t <= hup_wall + 2.5:
				around.append(t)
			elif hup_wall - 17.5 <= t <= hup_wall - 12.5:
				calm.append(t)
			if t <= term_wall:
				before_term = t if before_term is None else max(before_term, t)
			elif after_restart is None or t < after_restart:
				after_restart = t
			if ready2_wall <= t <= ready2_wall + 10:
				after10 += 1
	res = {}
	nseen = sum(seen)
	res["feeds_polled"] = nseen
	res["ramp_done_s"] = (max(first[i] for i in range(n) if seen[i]) - ready_wall
		if nseen == n else None)
	gaps.sort()
	ng = len(gaps)
	res["gaps"] = ng
	if ng:
		res["on_time_share"] = sum(1 for g in gaps if g <= I + 60) / ng
		res["gap_median_s"] = statistics.median(gaps)
		res["gap_p99_s"] = gaps[min(ng - 1, int(math.ceil(0.99 * ng)) - 1)]
		res["gap_max_s"] = gaps[-1]
		res["gap_min_s"] = gaps[0]
	res["feeds_not_polled_in_window"] = n - sum(polled_in_win)
	tot = sum(status.values())
	res["window_requests_log"] = tot
	res["status"] = status
	res["share_304"] = status.get("304", 0) / tot if tot else None
	res["share_200"] = status.get("200", 0) / tot if tot else None
	def max_gap(ts, t0):
		pts = [t0] + sorted(ts) + [t0 + 5]
		return max(b - a for a, b in zip(pts, pts[1:]))
	res["reload_requests_5s"] = len(around)
	res["reload_max_gap_s"] = max_gap(around, hup_wall - 2.5)
	res["calm_requests_5s"] = len(calm)
	res["calm_max_gap_s"] = max_gap(calm, hup_wall - 17.5)
	res["restart_pause_s"] = (after_restart - before_term
		if before_term is not None and after_restart is not None else None)
	res["restart_polls_10s"] = after10
	return res


def run_n(a, P):
	n, I, K = P["n"], P["interval"], a.intervals
	work = os.path.join(a.work, "n%d" % n)
	os.makedirs(work, exist_ok=True)
	R = {"plan": dict(P), "load_start": loadavg(),
		"shared_links": a.shared_links}
	log("N=%d: %d hosts, interval %d s, start-ramp %d/s, %d measured "
		"interval(s)" % (n, P["hosts"], I, P["start_ramp"], K))
	www = os.path.join(work, "www")
	c = Corpus(www, n, a.shared_links, a.seed)
	gen_s, nbytes = c.generate()
	R["gen_s"], R["corpus_mb"] = gen_s, nbytes / 1e6
	log("N=%d: wrote %d feeds (%.1f MB) in %.1f s" % (n, n, nbytes / 1e6, gen_s))
	ng = Nginx(www, work, n, a.nginx_workers)
	R["nginx_open_file_cache"] = ng.cache
	chg = None
	run = Run(a, P, work)
	try:
		P["db"] = os.path.join(work, "feedd.db")
		P["conf"] = os.path.join(work, "feedd.conf")
		write_conf(P["conf"], c, a, P, ng.port)
		R["plan"]["conf_mb"] = os.path.getsize(P["conf"]) / 1e6
		R["start"] = run.start_feedd("fresh database")
		ready = R["start"]["ready_wall"]
		chg = Changer(c, I, a.change_fraction, a.seed)
		chg.start()
		# The ramp: the first interval after READY=1.
		run.run_until(ready + I)
		s0 = run.snapshot(ng)
		run.run_until(ready + I + K * I)
		s1 = run.snapshot(ng)
		win = [x for x in run.samples if s0["wall"] <= x[0] <= s1["wall"]]
		dt = s1["wall"] - s0["wall"]
		reqs = s1["requests"] - s0["requests"] - (s1["status_reads"] -
			s0["status_reads"])
		cpu = s1["feedd_cpu"] - s0["feedd_cpu"]
		mb = s1["machine"][0] - s0["machine"][0]
		mt = s1["machine"][1] - s0["machine"][1]
		R["window"] = {"seconds": dt, "requests": reqs,
			"polls_s": reqs / dt, "wanted_polls_s": P["wanted_polls_s"],
			"feedd_cpu_s": cpu, "feedd_cpu_pct_of_cores": 100 * cpu / dt / NCPU,
			"feedd_cpu_ms_per_poll": 1000 * cpu / reqs if reqs else None,
			"nginx_cpu_pct_of_core": 100 * (s1["nginx_cpu"] - s0["nginx_cpu"]) / dt,
			"machine_busy_pct": 100 * mb / mt if mt else None,
			"rss_end_mib": win[-1][1] / 1024,
			"rss_max_mib": max(x[1] for x in win) / 1024,
			"bytes_per_feed": win[-1][1] * 1024 / n,
			"threads": max(x[2] for x in win),
			"load_start": s0["load"], "load_end": s1["load"],
			"changes": sum(1 for t in chg.times if s0["wall"] <= t <= s1["wall"]),
			"start_wall": s0["wall"], "end_wall": s1["wall"]}
		log("N=%d: window: %.1f polls/s (wanted %.1f), feedd CPU %.1f%% of %d "
			"cores, nginx %.1f%% of a core" % (n, reqs / dt, P["wanted_polls_s"],
			R["window"]["feedd_cpu_pct_of_cores"], NCPU,
			R["window"]["nginx_cpu_pct_of_core"]))
		# Reload in the busy part of an interval: the 1.2x ramp leaves each
		# interval's last sixth without polls, and the window ended there.
		run.run_until(ready + (K + 1) * I + 0.4 * I)
		R["reload"] = reload(run, c, a, P, ng.port)
		run.run_until(time.time() + 5)
		R["rss_after_reload_mib"] = run.samples[-1][1] / 1024
		# Restart on the same database.
		term_wall = time.time()
		stop_s, rc, stats = run.stop_feedd()
		R["stop_s"], R["exit"], R["stats"] = stop_s, rc, stats
		R["restart"] = run.start_feedd("restart")
		run.run_until(R["restart"]["ready_wall"] + 10)
		R["restart"]["rss_10s_mib"] = run.samples[-1][1] / 1024
		R["restart"]["stop_s"], R["restart"]["exit"], R["restart"]["stats"] = \
			run.stop_feedd()
		chg.stop()
		R["changer_errors"] = chg.errors
		chg = None
		R["load_end"] = loadavg()
		R["db_mb"] = sum(os.path.getsize(P["db"] + x) for x in ("", "-wal")
			if os.path.exists(P["db"] + x)) / 1e6
		R["feeds_in_db"] = soak.count_feeds(P["db"])
		ng.flush()
		R["log"] = analyse_log(ng.logpath, n, I, s0["wall"], s1["wall"], ready,
			R["reload"]["hup_wall"], term_wall, R["restart"]["ready_wall"])
		R["series"] = [{"t": round(x[0] - ready, 1), "rss_mib": round(x[1] / 1024, 1),
			"cpu_s": round(x[3], 2)} for x in run.samples[::max(1,
				len(run.samples) // 40)]]
	finally:
		if chg:
			chg.stop()
		if run.p is not None:
			soak.stop(run.p, 10)
		if run.nt:
			run.nt.close()
		ng.stop()
		if not a.keep:
			shutil.rmtree(www, ignore_errors=True)
	return R


def reload(run, c, a, P, port):
	"""Change feed 0's line (its interval and tags), SIGHUP, and time the
	"reloaded" log line and the READY=1 that follows RELOADING=1."""
	extra = " interval=%ds tags=reloaded" % (2 * P["interval"])
	write_conf(P["conf"], c, a, P, port, reload_extra=extra)
	with open(run.err, "rb") as f:
		f.seek(0, 2)
		pos = f.tell()
	with run.nt.cv:
		run.nt.seen.pop("READY=1", None)
		run.nt.seen.pop("RELOADING=1", None)
	hup_wall, t0 = time.time(), time.monotonic()
	run.p.send_signal(signal.SIGHUP)
	r = {"hup_wall": hup_wall, "line": None, "log_s": None}
	buf = b""
	while time.monotonic() - t0 < a.ready_timeout:
		with open(run.err, "rb") as f:
			f.seek(pos)
			buf += f.read()
			pos = f.tell()
		k = buf.find(b"reloaded ")
		if k >= 0:
			r["log_s"] = time.monotonic() - t0
			r["line"] = buf[buf.rfind(b"\n", 0, k) + 1:].split(b"\n")[0].decode(
				errors="replace")
			break
		time.sleep(0.005)
	t = run.nt.wait_for("READY=1", 5)
	r["ready_s"] = t - t0 if t is not None else None
	log("reload: log line after %s s: %s" % (soak.fmt(r["log_s"], "%.3f"),
		r["line"]))
	return r


# --- report --------------------------------------------------------------------

def pct(x, f="%.1f%%"):
	return "–" if x is None else f % (100 * x)


def fnum(x):
	return "{:,}".format(x)


def markdown(a, results, mach):
	L = ["_Written by `bench/scale.sh` on %s. Do not edit between the markers;"
		" re-run the script._" % mach["date"], "",
		"Machine: %s, %.1f GiB RAM; load average at start / end: %s / %s." % (
			mach["machine"], mach["ram_gib"], mach["load_start"],
			mach["load_end"]), "", "Command: `%s`" % mach["command"]]
	w = L.append
	for R in results:
		P, W, G = R["plan"], R.get("window", {}), R.get("log", {})
		if not W:
			continue
		n, I = P["n"], P["interval"]
		w("")
		w("### %s feeds over %s hosts, interval %d s%s" % (fnum(n),
			fnum(P["hosts"]), I, ", shared links" if R["shared_links"] else ""))
		w("")
		w("`interval %ds`, `max-connections %d`, `max-per-host %d`, "
			"`start-ramp %d`, `sync normal`; a config of %.1f MB, %d feeds per "
			"host (127.A.B.C literals, one nginx socket); %.1f MB of feeds "
			"written in %.1f s. Every interval %.0f%% of the feeds gain an "
			"entry (%d changes in the window). Window: %d interval(s), %.0f s, "
			"after the first interval." % (I, a.max_connections, a.max_per_host,
			P["start_ramp"], P["conf_mb"], round(n / P["hosts"]), R["corpus_mb"],
			R["gen_s"], 100 * a.change_fraction, W["changes"], a.intervals,
			W["seconds"]))
		w("")
		w("| measure | figure |")
		w("|---|---|")
		S = R["start"]
		w("| start-up, fresh database: exec to READY=1; RSS at READY | %.2f s; %s MiB |" % (
			S["ready_s"], soak.fmt(S["rss_mib"])))
		w("| first poll of every feed done (access log) | %s |" % (
			"%.0f s after READY=1" % G["ramp_done_s"] if G.get("ramp_done_s")
			is not None else "%s of %s feeds polled" % (fnum(G["feeds_polled"]),
			fnum(n))))
		w("| polls/s, server-side (stub_status) / wanted (N / interval) | "
			"%.1f / %.1f (%.1f%%) |" % (W["polls_s"], W["wanted_polls_s"],
			100 * W["polls_s"] / W["wanted_polls_s"]))
		if G.get("gaps"):
			w("| on time: a feed's gaps between polls <= interval + 60 s | "
				"%s of %s gaps; median %.1f s, p99 %.1f s, max %.1f s; feeds "
				"not polled in the window: %d |" % (pct(G["on_time_share"], "%.2f%%"),
				fnum(G["gaps"]), G["gap_median_s"], G["gap_p99_s"],
				G["gap_max_s"], G["feeds_not_polled_in_window"]))
		other = G["window_requests_log"] - G["status"].get("304", 0) - \
			G["status"].get("200", 0)
		w("| status mix in the window (access log) | 304 %s, 200 %s, other %d |" % (
			pct(G["share_304"]), pct(G["share_200"]), other))
		w("| feedd CPU: of %d cores; per poll | %.1f%%; %s ms |" % (NCPU,
			W["feedd_cpu_pct_of_cores"], soak.fmt(W["feedd_cpu_ms_per_poll"],
			"%.3f")))
		w("| feedd RSS: end of window, max; per feed | %.1f MiB, %.1f MiB; "
			"%.0f bytes |" % (W["rss_end_mib"], W["rss_max_mib"],
			W["bytes_per_feed"]))
		w("| feedd threads | %d |" % W["threads"])
		w("| nginx CPU (%d worker%s); the machine's CPU busy; load average "
			"window start / end | %.1f%% of a core; %.0f%%; %s / %s |" % (
			a.nginx_workers, "s" if a.nginx_workers > 1 else "",
			W["nginx_cpu_pct_of_core"], W["machine_busy_pct"], W["load_start"],
			W["load_end"]))
		rl = R["reload"]
		w("| reload (SIGHUP, one feed line changed): to the `reloaded` log "
			"line; to READY=1 | %s s; %s s |" % (soak.fmt(rl["log_s"], "%.3f"),
			soak.fmt(rl["ready_s"], "%.3f")))
		w("| longest gap between any two polls in the 5 s around the reload "
			"(%d polls); in 5 s 15 s before it (%d polls) | %.3f s; %.3f s |" % (
			G["reload_requests_5s"], G["calm_requests_5s"],
			G["reload_max_gap_s"], G["calm_max_gap_s"]))
		w("| SIGTERM to exit | %s s, exit %s |" % (soak.fmt(R["stop_s"], "%.2f"),
			R["exit"]))
		T = R["restart"]
		w("| restart on the same database: exec to READY=1; RSS at READY | "
			"%.2f s; %s MiB |" % (T["ready_s"], soak.fmt(T["rss_mib"])))
		w("| restart: no polls for; polls in the 10 s after READY=1 (wanted %.0f) "
			"| %s s; %d |" % (10 * W["wanted_polls_s"],
			soak.fmt(G["restart_pause_s"], "%.2f"), G["restart_polls_10s"]))
		st = R["stats"]
		if st:
			w("| feedd --stats (first run): polls / 200 / 304 / failed; "
				"articles inserted; longest loop stall | %s / %s / %s / %s; %s; %s ms |" % (
				st.get("polls"), st.get("ok"), st.get("not_modified"),
				st.get("failed"), st.get("inserted"), st.get("max_loop_stall_ms")))
		w("| database and WAL at the end; feeds in it | %.1f MB; %s |" % (
			R["db_mb"], R["feeds_in_db"]))
		w("")
		w(verdict(a, R))
	return "\n".join(L)


def verdict(a, R):
	"""One line a reader can act on: was feedd, nginx or the machine the
	limit?"""
	W, G = R["window"], R["log"]
	bits = []
	ok = W["polls_s"] >= 0.97 * W["wanted_polls_s"]
	bits.append("feedd kept the wanted rate" if ok else
		"feedd fell behind the wanted rate (%.1f%%)" % (
			100 * W["polls_s"] / W["wanted_polls_s"]))
	if W["nginx_cpu_pct_of_core"] > 80 * a.nginx_workers:
		bits.append("nginx was near its CPU limit (%.0f%% per worker): rerun "
			"with --nginx-workers 2" % (W["nginx_cpu_pct_of_core"] /
			a.nginx_workers))
	else:
		bits.append("nginx was not the bottleneck (%.1f%% of a core)" %
			W["nginx_cpu_pct_of_core"])
	if W["machine_busy_pct"] is not None and W["machine_busy_pct"] > 90:
		bits.append("the machine was saturated (%.0f%% busy)" %
			W["machine_busy_pct"])
	else:
		bits.append("the machine was %.0f%% busy, feedd's share %.1f%%" % (
			W["machine_busy_pct"], W["feedd_cpu_pct_of_cores"]))
	return "Reading: " + "; ".join(bits) + "."


def write_docs(path, md, command):
	"""Splice md between the scale markers; add the section when absent."""
	with open(path) as f:
		s = f.read()
	if BEGIN not in s:
		sec = ("## Scale (bench/scale.sh)\n\n"
			"feedd with 10,000 and 100,000 feeds (1,000,000 by hand) on one "
			"private nginx in a network namespace, each host a distinct "
			"127.A.B.C address, 5%% of the feeds changing per interval; "
			"`bench/scale/README.md` has the method. Re-run with:\n\n"
			"```\n%s\n```\n\n%s\n%s\n" % (command, BEGIN, END))
		# Before the closing commentary when there is one, else at the end.
		k = s.find("\n## Reading the figures")
		if k >= 0:
			s = s[:k + 1] + sec + "\n" + s[k + 1:]
		else:
			s = s.rstrip("\n") + "\n\n" + sec
		with open(path + ".tmp", "w") as f:
			f.write(s)
		os.replace(path + ".tmp", path)
	splice(path, BEGIN, END, md, "Scale (bench/scale.sh)")


def main():
	if "--from-json" in sys.argv:
		# Only rewrite the report from the --json file of an earlier run.
		p = argparse.ArgumentParser()
		p.add_argument("--from-json", required=True)
		p.add_argument("--write-docs", action="store_true")
		p.add_argument("--root", default=os.path.dirname(BENCH))
		o = p.parse_args()
		with open(o.from_json) as f:
			d = json.load(f)
		md = markdown(argparse.Namespace(**d["args"]), d["results"],
			d["machine"])
		print(md)
		if o.write_docs:
			path = os.path.join(o.root, "docs", "benchmarks.md")
			write_docs(path, md, d["machine"]["command"])
			log("wrote %s" % path)
		return 0
	p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	p.add_argument("--work", required=True)
	p.add_argument("--feedd", required=True)
	p.add_argument("--root", default=os.path.dirname(BENCH),
		help="the checkout (for --write-docs)")
	p.add_argument("--n", type=int, action="append",
		help="feeds (repeatable; default 10000 and 100000)")
	p.add_argument("--hosts", action="append",
		help="hosts: H for every N or N=H (repeatable)")
	p.add_argument("--hosts-ratio", type=float, default=0,
		help="hosts = N / R for every N (default: the issue's table, "
			"10k/2k, 100k/10k, 1M/100k; N/10 otherwise)")
	p.add_argument("--interval", action="append",
		help="seconds: S for every N or N=S (default max(60, N/555))")
	p.add_argument("--intervals", type=int, default=2,
		help="intervals measured after the first (default 2)")
	p.add_argument("--change-fraction", type=float, default=0.05)
	p.add_argument("--shared-links", action="store_true",
		help="all feeds carry the same 20 links (GUIDs stay per feed)")
	p.add_argument("--ramp-factor", type=float, default=1.2,
		help="start-ramp = N / interval * this")
	p.add_argument("--max-connections", type=int, default=64)
	p.add_argument("--max-per-host", type=int, default=2)
	p.add_argument("--nginx-workers", type=int, default=1)
	p.add_argument("--sample", type=float, default=5)
	p.add_argument("--ready-timeout", type=int, default=1800)
	p.add_argument("--stop-timeout", type=int, default=120)
	p.add_argument("--seed", type=int, default=1)
	p.add_argument("--json", default="")
	p.add_argument("--write-docs", action="store_true")
	p.add_argument("--keep", action="store_true", help="keep the feed files")
	p.add_argument("--command", default="bench/scale.sh",
		help="the command line to quote in the report")
	a = p.parse_args()
	ns = a.n or [10000, 100000]
	# SIGTERM unwinds like Ctrl-C, through the finally blocks that stop
	# feedd and nginx.
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
	cpu = "?"
	with open("/proc/cpuinfo") as f:
		for line in f:
			if line.startswith("model name"):
				cpu = line.split(":", 1)[1].strip()
				break
	with open("/proc/meminfo") as f:
		ram = int(f.readline().split()[1]) / 1024 / 1024
	mach = {"machine": "%d CPUs (%s)" % (NCPU, cpu), "ram_gib": ram,
		"load_start": loadavg(), "command": a.command}
	results = []
	try:
		for n in ns:
			results.append(run_n(a, plan(a, n)))
	except KeyboardInterrupt:
		log("interrupted; feedd and nginx stopped")
		return 130
	mach["load_end"] = loadavg()
	mach["date"] = datetime.datetime.now(datetime.timezone.utc).strftime(
		"%Y-%m-%d %H:%M UTC")
	# The figures first, so a failure in the report loses none of them.
	with open(a.json or os.path.join(a.work, "scale.json"), "w") as f:
		json.dump({"machine": mach, "args": vars(a), "results": results}, f,
			indent=1)
	if a.json:
		log("wrote %s" % a.json)
	md = markdown(a, results, mach)
	print(md)
	if a.write_docs:
		path = os.path.join(a.root, "docs", "benchmarks.md")
		write_docs(path, md, a.command)
		log("wrote %s" % path)
	return 0


if __name__ == "__main__":
	sys.exit(main())

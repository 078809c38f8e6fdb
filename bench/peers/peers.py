#!/usr/bin/env python3
"""The measurements behind bench/peers.sh: feedd against sfeed, newsboat,
Python feedparser, curl and a bare libxml2 pass, on one generated corpus
served by one local nginx, in one run. Writes the results between the
`peers:begin` / `peers:end` markers of docs/benchmarks.md (creating the file
when needed) and as JSON beside the work directory.

Run through bench/peers.sh, which installs the peers, builds feedd, makes
the corpus and starts nginx; this script only measures and reports.

Every command is timed the same way: wall time from a monotonic clock
around the child, user/system CPU and peak RSS from wait4(2)'s rusage
(the numbers /usr/bin/time -v prints; they include the child's own
children, e.g. sfeed under a shell loop). Each figure is the median of
the runs.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = "/tmp"   # set from --work
PY = sys.executable


def log(msg):
	print("peers: " + msg, file=sys.stderr, flush=True)


class Res:
	def __init__(self, wall, user, sys_, rss_kb, rc, out):
		self.wall, self.user, self.sys, self.rss_kb = wall, user, sys_, rss_kb
		self.rc, self.out = rc, out

	@property
	def cpu(self):
		return self.user + self.sys


TIME = "/usr/bin/time"


def timed(argv, cwd=None, env=None, stdin_path=None, capture=False,
		errlog=None, ok_codes=(0,)):
	"""Run argv once; wall/CPU/peak RSS of it and its descendants.

	Peak RSS comes from GNU time (%M): a child forked from this Python
	process would count the interpreter's pages in its own high-water
	mark, GNU time's children do not. CPU comes from wait4(2) on GNU
	time, which includes the command (GNU time's own share is ~1 ms)."""
	stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
	err = open(errlog, "ab") if errlog else subprocess.DEVNULL
	tf = os.path.join(WORK, ".time")
	t0 = time.perf_counter()
	p = subprocess.Popen([TIME, "-q", "-f", "%M %x", "-o", tf] + argv,
		cwd=cwd, env=env, stdin=stdin,
		stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
		stderr=err)
	out = p.stdout.read() if capture else b""
	_, status, ru = os.wait4(p.pid, 0)
	wall = time.perf_counter() - t0
	p.returncode = os.waitstatus_to_exitcode(status)
	if capture:
		p.stdout.close()
	if stdin_path:
		stdin.close()
	if errlog:
		err.close()
	with open(tf) as f:
		last = f.read().split()
	rss_kb = int(last[-2]) if len(last) >= 2 else 0
	r = Res(wall, ru.ru_utime, ru.ru_stime, rss_kb, p.returncode, out)
	if r.rc not in ok_codes:
		raise RuntimeError("%s exited %d (see %s)" % (" ".join(argv[:3]),
			r.rc, errlog or "stderr"))
	return r


def med(rs, attr):
	return statistics.median(getattr(r, attr) for r in rs)


def summary(rs):
	return {"runs": len(rs), "wall": med(rs, "wall"), "user": med(rs, "user"),
		"sys": med(rs, "sys"), "cpu": med(rs, "cpu"),
		"rss_mb": med(rs, "rss_kb") / 1024.0,
		"wall_all": [round(r.wall, 4) for r in rs]}


class Bench:
	def __init__(self, a):
		self.a = a
		self.work = a.work
		self.corpus = os.path.realpath(a.corpus)
		self.www = a.www
		with open(os.path.join(self.corpus, "manifest.json")) as f:
			self.man = json.load(f)
		self.files = [x["file"] for x in self.man["files"]]
		self.n = len(self.files)
		self.bytes = self.man["bytes"]
		self.entries = self.man["entries"]
		self.res = {"parse": {}, "fetch": {}, "scale": {}, "notes": [],
			"checks": {}}
		self.errlog = os.path.join(self.work, "stderr.log")
		self.base = "http://127.0.0.1:%d/" % a.port
		self.skip = set(filter(None, a.skip.split(",")))

	def note(self, s):
		log(s)
		self.res["notes"].append(s)

	def series(self, runs, fn):
		rs = []
		for i in range(runs):
			rs.append(fn(i))
		return rs

	# ---------------------------------------------------------- parse
	def parse(self):
		a, R = self.a, self.res["parse"]
		c = self.corpus
		allxml = os.path.join(self.work, "all.xml")
		with open(allxml, "wb") as out:
			for f in self.files:
				with open(os.path.join(c, f), "rb") as g:
					shutil.copyfileobj(g, out)
		# Warm the page cache.
		timed(["cat", allxml], capture=False)

		# feedd's parser: feedctl parse over every file in one process,
		# JSON Lines out (so this includes JSON serialisation).
		fc = [a.feedctl, "parse"] + self.files
		r = timed(fc, cwd=c, capture=True, errlog=self.errlog, ok_codes=(0, 1, 2))
		n_ent = n_doc = n_mal = 0
		for line in r.out.splitlines():
			o = json.loads(line)
			n_doc += 1
			n_ent += len(o.get("entries", []))
			n_mal += bool(o.get("malformed"))
		self.res["checks"]["feedctl_parse"] = {"documents": n_doc,
			"entries": n_ent, "malformed": n_mal, "rc": r.rc}
		if n_ent != self.entries or r.rc != 0:
			self.note("feedctl parse read %d documents / %d entries (exit %d); "
				"the corpus has %d / %d" % (n_doc, n_ent, r.rc, self.n,
				self.entries))
		log("feedctl parse: %d docs, %d entries, %d malformed" % (n_doc,
			n_ent, n_mal))
		R["feedd"] = summary(self.series(a.runs, lambda i: timed(fc, cwd=c,
			errlog=self.errlog, ok_codes=(0, 1, 2))))
		R["feedd"]["cmd"] = "feedctl parse f0000.xml ... f%04d.xml > /dev/null" % (self.n - 1)

		# The bare libxml2 SAX2 pass (counting callbacks only).
		if a.sax_pass:
			sp = [a.sax_pass] + self.files
			r = timed(sp, cwd=c, capture=True, errlog=self.errlog)
			m = re.search(rb"entries=(\d+)", r.out)
			self.res["checks"]["sax_pass"] = r.out.decode().strip()
			if not m or int(m.group(1)) != self.entries:
				self.note("sax_pass: %s" % r.out.decode().strip())
			R["libxml2"] = summary(self.series(a.runs, lambda i: timed(sp,
				cwd=c, errlog=self.errlog)))
			R["libxml2"]["cmd"] = "sax_pass f0000.xml ... f%04d.xml  (bench/peers/sax_pass.c)" % (self.n - 1)

		# bench_parse, when built with a directory mode: its own figures
		# for parse/ without JSON output, quoted as printed.
		if a.bench_parse:
			self.bench_parse()

		# sfeed: one process over the concatenated corpus (its parser
		# does not care about document boundaries; every item comes out)
		# and one process per file in a shell loop.
		if "sfeed" not in self.skip and shutil.which("sfeed"):
			r = timed(["sfeed"], stdin_path=allxml, capture=True)
			n = r.out.count(b"\n")
			self.res["checks"]["sfeed"] = {"entries": n}
			if n != self.entries:
				self.note("sfeed printed %d items for %d entries" % (n, self.entries))
			R["sfeed"] = summary(self.series(a.runs, lambda i: timed(["sfeed"],
				stdin_path=allxml)))
			R["sfeed"]["cmd"] = "sfeed < all.xml > /dev/null  (the %d files concatenated)" % self.n
			loop = 'for f in f*.xml; do sfeed < "$f"; done > /dev/null'
			R["sfeed_loop"] = summary(self.series(a.runs, lambda i: timed(
				["sh", "-c", loop], cwd=c)))
			R["sfeed_loop"]["cmd"] = "sh -c '%s'" % loop
		elif "sfeed" in self.skip:
			self.note("sfeed skipped (--skip)")
		else:
			self.note("sfeed not installed: its rows are missing")

		if "xmllint" not in self.skip and shutil.which("xmllint"):
			xl = ["xmllint", "--stream", "--noout"] + self.files
			R["xmllint"] = summary(self.series(a.runs, lambda i: timed(xl,
				cwd=c, errlog=self.errlog)))
			R["xmllint"]["cmd"] = "xmllint --stream --noout f0000.xml ... f%04d.xml" % (self.n - 1)

		if "feedparser" not in self.skip and a.feedparser_python:
			fp = [a.feedparser_python, os.path.join(HERE, "fp_parse.py")] + self.files
			r = timed(fp, cwd=c, capture=True, errlog=self.errlog)
			m = re.search(rb"entries=(\d+) bozo=(\d+)", r.out)
			self.res["checks"]["feedparser"] = {"entries": int(m.group(1)),
				"bozo": int(m.group(2))}
			runs = max(1, a.slow_runs)
			R["feedparser"] = summary([r] + self.series(runs - 1, lambda i:
				timed(fp, cwd=c, errlog=self.errlog)))
			R["feedparser"]["cmd"] = "python3 bench/peers/fp_parse.py f0000.xml ... (one process)"
		elif "feedparser" in self.skip:
			self.note("feedparser skipped (--skip)")
		else:
			self.note("python3-feedparser not available: its row is missing")

		for k, v in R.items():
			v["mb_s"] = self.bytes / 1e6 / v["wall"]
			v["entries_s"] = self.entries / v["wall"]
		os.unlink(allxml)

	def bench_parse(self):
		"""bench_parse --dir DIR prints lines 'bench_parse: NAME ... MB/s'."""
		a, R = self.a, self.res["parse"]
		argv = [a.bench_parse, "--dir", self.corpus]
		try:
			r = timed(argv, capture=True, errlog=self.errlog)
		except RuntimeError as e:
			self.note("bench_parse --dir failed (%s); its rows are missing" % e)
			return
		self.res["checks"]["bench_parse_out"] = r.out.decode(errors="replace")
		# bench_parse times itself (several passes, in-memory input);
		# its output is quoted as is in the report.

	# ---------------------------------------------------------- fetch
	def urls(self):
		return [self.base + f for f in self.files]

	def feedd_conf(self, path, db, extra=""):
		with open(path, "w") as f:
			f.write("# generated by bench/peers/peers.py\n"
				"database %s\nmax-connections %d\nmax-per-host %d\n"
				"interval 30m\nlog-level warning\n%s" % (db, self.a.conns,
				self.a.conns, extra))
			for i, u in enumerate(self.urls()):
				f.write("feed f%04d %s\n" % (i, u))

	def feedd_run(self, conf, tag):
		r = timed([self.a.feedd, "--config", conf, "--once", "--stats"],
			capture=True, errlog=self.errlog, ok_codes=(0, 2))
		m = re.search(rb"feedd-stats (.*)", r.out)
		st = dict(kv.split("=", 1) for kv in m.group(1).decode().split()) if m else {}
		r.stats = st
		if r.rc != 0:
			self.note("feedd --once (%s) exited %d: %s" % (tag, r.rc,
				m.group(0).decode() if m else "no stats line"))
		return r

	def rmdb(self, db):
		for s in ("", "-wal", "-shm", "-journal"):
			try:
				os.unlink(db + s)
			except FileNotFoundError:
				pass

	def fetch_feedd(self):
		a, F = self.a, self.res["fetch"]
		conf = os.path.join(self.work, "feedd.conf")
		db = os.path.join(self.work, "feedd.db")
		self.feedd_conf(conf, db)
		fresh, same = [], []
		for i in range(a.cycle_runs):
			self.rmdb(db)
			fresh.append(self.feedd_run(conf, "fresh"))
			same.append(self.feedd_run(conf, "unchanged"))
		self.res["checks"]["feedd_fresh_stats"] = fresh[-1].stats
		self.res["checks"]["feedd_unchanged_stats"] = same[-1].stats
		ins = int(fresh[-1].stats.get("inserted", -1))
		if ins != self.entries:
			self.note("feedd --once stored %d articles for %d entries" % (ins,
				self.entries))
		nm = int(same[-1].stats.get("not_modified", -1))
		if nm != self.n:
			self.note("feedd's second cycle: %d of %d feeds answered 304" % (
				nm, self.n))
		F["feedd_fresh"] = summary(fresh)
		F["feedd_unchanged"] = summary(same)
		for k, rs in (("feedd_fresh", fresh), ("feedd_unchanged", same)):
			F[k]["max_loop_stall_ms"] = statistics.median(float(
				r.stats.get("max_loop_stall_ms", "nan")) for r in rs)
		# The same with "sync normal": how much of the cycle is the
		# fsync per refresh that the default "sync full" pays.
		conf_n = os.path.join(self.work, "feedd-normal.conf")
		db_n = os.path.join(self.work, "feedd-normal.db")
		self.feedd_conf(conf_n, db_n, "sync normal\n")
		fn, sn = [], []
		for i in range(a.normal_runs):
			self.rmdb(db_n)
			fn.append(self.feedd_run(conf_n, "fresh, sync normal"))
			sn.append(self.feedd_run(conf_n, "unchanged, sync normal"))
		self.rmdb(db_n)
		F["feedd_fresh_normal"] = summary(fn)
		F["feedd_unchanged_normal"] = summary(sn)
		F["feedd_fresh_normal"]["cmd"] = "feedd --config feedd-normal.conf --once --stats  (same, plus `sync normal`)"
		F["feedd_fresh"]["cmd"] = "feedd --config feedd.conf --once --stats  (database removed first)"
		F["feedd_unchanged"]["cmd"] = "feedd --config feedd.conf --once --stats  (again, same database)"
		self.feedd_db_articles = self.count_articles(db)
		return conf, db

	def store_floor(self, db):
		"""SQLite alone: the rows the fresh cycle stored (articles with
		their full-text index, feeds, change log), inserted by the sqlite3
		shell into an empty database with the same schema and pragmas, in
		one transaction. A floor for any store of these rows: no lookups,
		no dedup, no per-feed transactions, nothing but SQLite's own
		work."""
		F = self.res["fetch"]
		if not shutil.which("sqlite3"):
			self.note("no sqlite3 shell: the store floor is left out")
			return
		src = os.path.join(self.work, "floor-src.db")
		dst = os.path.join(self.work, "floor.db")
		shutil.copyfile(db, src)
		con = sqlite3.connect(src)
		schema = [r[0] for r in con.execute(
			"SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND "
			"name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND NOT (type = 'table' "
			"AND name LIKE 'articles\\_fts\\_%' ESCAPE '\\') ORDER BY rowid")]
		cols = {t: [r[1] for r in con.execute("PRAGMA table_info(%s)" % t)]
			for t in ("feeds", "articles", "changes")}
		con.close()
		script = os.path.join(self.work, "floor.sql")
		with open(script, "w") as f:
			f.write("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n"
				"PRAGMA temp_store=MEMORY;\nPRAGMA cache_size=-16384;\n")
			for q in schema:
				f.write(q + ";\n")
			f.write("ATTACH '%s' AS s;\nBEGIN;\n" % src)
			for t in ("feeds", "articles", "changes"):
				c = ",".join(cols[t])
				f.write("INSERT INTO main.%s(%s) SELECT %s FROM s.%s;\n" % (
					t, c, c, t))
			f.write("COMMIT;\n")

		def one(i):
			self.rmdb(dst)
			return timed(["sqlite3", dst], stdin_path=script,
				errlog=self.errlog)
		F["sqlite_floor"] = summary(self.series(self.a.cycle_runs, one))
		F["sqlite_floor"]["cmd"] = ("sqlite3 floor.db < floor.sql  (the fresh "
			"cycle's rows, same schema, one transaction)")
		self.rmdb(dst)
		self.rmdb(src)

	def count_articles(self, db):
		try:
			con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
			n = con.execute("SELECT count(*) FROM articles_v1").fetchone()[0]
			con.close()
			return n
		except sqlite3.Error as e:
			self.note("cannot count articles in %s: %s" % (db, e))
			return None

	def fetch_curl(self):
		a, F = self.a, self.res["fetch"]
		fresh_cfg = os.path.join(self.work, "curl-fresh.cfg")
		cond_cfg = os.path.join(self.work, "curl-304.cfg")
		check_cfg = os.path.join(self.work, "curl-check.cfg")

		def write(path, cond, wout):
			with open(path, "w") as f:
				for i, fn in enumerate(self.files):
					if i:
						f.write("next\n")
					f.write('url = "%s%s"\noutput = "/dev/null"\ncompressed\nsilent\n' % (
						self.base, fn))
					if wout:
						f.write('write-out = "%{http_code}\\n"\n')
					if cond:
						# nginx's ETag for the .gz it serves (gzip_static):
						# "hex(mtime)-hex(size)".
						p = os.path.join(self.corpus, fn)
						if os.path.exists(p + ".gz"):
							p += ".gz"
						s = os.stat(p)
						f.write('header = "If-None-Match: \\"%x-%x\\""\n' % (
							int(s.st_mtime), s.st_size))
		write(fresh_cfg, False, False)
		write(cond_cfg, True, False)
		write(check_cfg, True, True)
		base = ["curl", "--parallel", "--parallel-max", str(a.conns), "-s",
			"--config"]
		r = timed(base + [check_cfg], capture=True, errlog=self.errlog)
		codes = r.out.decode().split()
		n304 = codes.count("304")
		self.res["checks"]["curl_304"] = n304
		if n304 != self.n:
			self.note("curl's conditional cycle: %d of %d answered 304" % (n304, self.n))
		F["curl_fresh"] = summary(self.series(a.runs, lambda i: timed(base +
			[fresh_cfg], errlog=self.errlog)))
		F["curl_unchanged"] = summary(self.series(a.runs, lambda i: timed(base +
			[cond_cfg], errlog=self.errlog)))
		F["curl_fresh"]["cmd"] = ("curl --parallel --parallel-max %d -s --config curl-fresh.cfg"
			"  (per URL: url, output /dev/null, compressed)" % a.conns)
		F["curl_unchanged"]["cmd"] = ("curl --parallel --parallel-max %d -s --config curl-304.cfg"
			"  (as above plus If-None-Match with nginx's ETag)" % a.conns)

	def fetch_newsboat(self):
		a, F = self.a, self.res["fetch"]
		if "newsboat" in self.skip or not shutil.which("newsboat"):
			self.note("newsboat %s: its rows are missing" % ("skipped (--skip)"
				if "newsboat" in self.skip else "not installed"))
			return
		d = os.path.join(self.work, "newsboat")
		os.makedirs(os.path.join(d, "home"), exist_ok=True)
		with open(os.path.join(d, "urls"), "w") as f:
			f.write("\n".join(self.urls()) + "\n")
		with open(os.path.join(d, "config"), "w") as f:
			f.write("reload-threads %d\n" % a.conns)
		env = dict(os.environ, HOME=os.path.join(d, "home"))
		cache = os.path.join(d, "cache.db")
		argv = ["newsboat", "-u", "urls", "-c", "cache.db", "-C", "config",
			"-x", "reload"]
		c1, c2, c3 = [], [], []
		for i in range(max(1, a.slow_runs)):
			self.rmdb(cache)
			for lst in (c1, c2, c3):
				lst.append(timed(argv, cwd=d, env=env, errlog=self.errlog))
			log("newsboat run %d: %.1f s / %.1f s / %.1f s" % (i + 1,
				c1[-1].wall, c2[-1].wall, c3[-1].wall))
		try:
			con = sqlite3.connect("file:%s?mode=ro" % cache, uri=True)
			n = con.execute("SELECT count(*) FROM rss_item").fetchone()[0]
			ne = con.execute("SELECT count(*) FROM rss_feed WHERE etag != ''").fetchone()[0]
			con.close()
			self.res["checks"]["newsboat"] = {"items": n, "feeds_with_etag": ne}
		except sqlite3.Error as e:
			self.note("cannot read newsboat's cache: %s" % e)
		F["newsboat_fresh"] = summary(c1)
		F["newsboat_second"] = summary(c2)
		F["newsboat_unchanged"] = summary(c3)
		cmd = "newsboat -u urls -c cache.db -C config -x reload  (config: reload-threads %d)" % a.conns
		F["newsboat_fresh"]["cmd"] = cmd + ", cache removed first"
		F["newsboat_second"]["cmd"] = cmd + ", again: 200s (see the note on validators)"
		F["newsboat_unchanged"]["cmd"] = cmd + ", a third time: all 304"

	# ---------------------------------------------------------- 10x database
	def scale(self, conf, db):
		"""The unchanged cycle's per-feed cost with 1x and 10x the articles."""
		a, S = self.a, self.res["scale"]
		if "10x" in self.skip:
			return
		gen = os.path.join(HERE, "gen_feeds.py")
		vroot = os.path.join(self.work, "variants")
		os.makedirs(vroot, exist_ok=True)
		self.rmdb(db)
		# The fill cycles are not measured: they run with "sync normal"
		# (same database file, same rows; only the fsyncs differ).
		fill = os.path.join(self.work, "feedd-fill.conf")
		self.feedd_conf(fill, db, "sync normal\n")
		base1 = []
		# 1x: one fresh cycle and one unchanged one (validators stored),
		# then a copy of that database, measured at the end in turns
		# with the 10x one: two figures taken apart in time would
		# compare the machine's moods (and the kernel writing back the
		# 1.2 GB fill), not the databases.
		self.feedd_run(fill, "fill 1x")
		self.feedd_run(conf, "unchanged 1x, not measured")
		n1 = self.count_articles(db)
		db1 = os.path.join(self.work, "feedd-1x.db")
		conf1 = os.path.join(self.work, "feedd-1x.conf")
		self.rmdb(db1)
		shutil.copyfile(db, db1)
		self.feedd_conf(conf1, db1)
		# Fill with 9 more corpora whose entries are all new (windows
		# at offsets 10000*k), served in turn under the same URLs, then
		# switch back to the measured corpus.
		for k in range(1, 10):
			vd = os.path.join(vroot, "v%d" % k)
			subprocess.run([PY, gen, "generate", vd, "-n", str(self.n),
				"--seed", str(self.man["seed"]), "--offset", str(10000 * k)],
				check=True, stdout=subprocess.DEVNULL)
			self.serve(vd)
			self.feedd_run(fill, "fill %d" % k)
			shutil.rmtree(vd)
		self.serve(self.corpus)
		# The measured corpus again: its files did not change, but
		# the validators stored are the last variant's, so one 200
		# cycle (same entries as stored first: all unchanged) comes
		# before the 304 cycles.
		self.feedd_run(fill, "back to corpus")
		n10 = self.count_articles(db)
		base10 = []
		# Both again once, unmeasured (page cache, validators), then in
		# turns.
		self.feedd_run(conf1, "unchanged 1x, not measured")
		self.feedd_run(conf, "unchanged 10x, not measured")
		for i in range(max(a.cycle_runs, 5)):
			base1.append(self.feedd_run(conf1, "unchanged 1x"))
			base10.append(self.feedd_run(conf, "unchanged 10x"))
		self.rmdb(db1)
		S["articles_1x"] = n1
		S["articles_10x"] = n10
		S["unchanged_1x"] = summary(base1)
		S["unchanged_10x"] = summary(base10)
		S["db_mb_10x"] = os.path.getsize(db) / 1e6
		for k in ("unchanged_1x", "unchanged_10x"):
			S[k]["cpu_ms_per_feed"] = S[k]["cpu"] * 1000 / self.n
			S[k]["wall_ms_per_feed"] = S[k]["wall"] * 1000 / self.n
		nm = int(base10[-1].stats.get("not_modified", -1))
		if nm != self.n:
			self.note("10x unchanged cycle: %d of %d feeds answered 304" % (nm, self.n))

	def serve(self, d):
		tmp = self.www + ".new"
		if os.path.lexists(tmp):
			os.unlink(tmp)
		os.symlink(d, tmp)
		os.replace(tmp, self.www)

	# ---------------------------------------------------------- report
	def machine(self):
		m = {}
		m["nproc"] = os.cpu_count()
		cpu = "?"
		with open("/proc/cpuinfo") as f:
			for line in f:
				if line.startswith("model name"):
					cpu = line.split(":", 1)[1].strip()
					break
		m["cpu"] = cpu
		with open("/proc/meminfo") as f:
			kb = int(f.readline().split()[1])
		m["ram_gib"] = kb / 1024 / 1024
		try:
			m["debian"] = open("/etc/debian_version").read().strip()
		except OSError:
			m["debian"] = "?"
		m["kernel"] = platform.release()
		vers = {}
		for p in ("sfeed", "newsboat", "python3-feedparser", "nginx", "curl",
				"libcurl4", "libxml2", "libsqlite3-0", "libuv1", "libjansson4",
				"gcc-12", "python3"):
			try:
				v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", p],
					capture_output=True, text=True).stdout.strip()
			except OSError:
				v = ""
			vers[p] = v or "not installed"
		m["versions"] = vers
		try:
			m["feedd"] = subprocess.run([self.a.feedd, "--version"],
				capture_output=True, text=True).stdout.strip()
		except OSError:
			m["feedd"] = "?"
		m["fsync_ms"] = fsync_probe(self.work)
		m["load_start"] = self.a.load_start
		m["load_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
		m["date"] = datetime.datetime.now(datetime.timezone.utc).strftime(
			"%Y-%m-%d %H:%M UTC")
		return m

	def targets(self):
		P, F, S = self.res["parse"], self.res["fetch"], self.res["scale"]
		t = []

		def add(name, ok, text):
			t.append({"target": name, "met": ok, "detail": text})
		if "feedd" in P and "sfeed" in P:
			r = P["feedd"]["mb_s"] / P["sfeed"]["mb_s"]
			add("feedd's parser (full normalisation) at least as fast as sfeed",
				r >= 1.0, "%.1f vs %.1f MB/s: %.2fx sfeed%s" % (P["feedd"]["mb_s"],
				P["sfeed"]["mb_s"], r, "" if r >= 1 else
				" (missed by %.0f%%)" % ((1 - r) * 100)))
		if "feedd_fresh" in F and "curl_fresh" in F:
			r = F["feedd_fresh"]["wall"] / F["curl_fresh"]["wall"]
			floor = ""
			if "sqlite_floor" in F:
				floor = ("; SQLite alone storing the same rows in one "
					"transaction: %.2f s = %.1fx curl" % (
					F["sqlite_floor"]["wall"], F["sqlite_floor"]["wall"] /
					F["curl_fresh"]["wall"]))
			add("fresh cycle within 3x of curl --parallel --compressed",
				r <= 3.0, "%.2f s vs %.2f s: %.1fx%s%s" % (F["feedd_fresh"]["wall"],
				F["curl_fresh"]["wall"], r, "" if r <= 3 else
				" (missed by %.0f%%)" % ((r / 3 - 1) * 100), floor))
		if "feedd_fresh" in F and "newsboat_fresh" in F:
			r = F["newsboat_fresh"]["wall"] / F["feedd_fresh"]["wall"]
			add("fresh cycle at least 40x faster than newsboat", r >= 40,
				"%.2f s vs %.1f s: %.0fx%s" % (F["feedd_fresh"]["wall"],
				F["newsboat_fresh"]["wall"], r, "" if r >= 40 else
				" (missed by %.0f%%)" % ((1 - r / 40) * 100)))
		if "feedd_fresh" in F and "feedd_unchanged" in F:
			r = F["feedd_unchanged"]["cpu"] / F["feedd_fresh"]["cpu"]
			add("all-unchanged cycle under 1/4 of the fresh cycle's CPU", r < 0.25,
				"%.3f s vs %.3f s CPU: %.2f%s" % (F["feedd_unchanged"]["cpu"],
				F["feedd_fresh"]["cpu"], r, "" if r < 0.25 else
				" (missed by %.0f%%)" % ((r / 0.25 - 1) * 100)))
		if "unchanged_10x" in S:
			c1 = S["unchanged_1x"]["cpu_ms_per_feed"]
			c10 = S["unchanged_10x"]["cpu_ms_per_feed"]
			w1 = S["unchanged_1x"]["wall_ms_per_feed"]
			w10 = S["unchanged_10x"]["wall_ms_per_feed"]
			r = c10 / c1
			# The target is that the cost does not grow with the database;
			# a cheaper 10x figure is noise, not a miss.
			add("unchanged cycle's per-feed cost flat (within 20%) at 10x the articles",
				r <= 1.2,
				"CPU %.3f -> %.3f ms/feed (%+.0f%%), wall %.3f -> %.3f ms/feed (%+.0f%%), "
				"%s -> %s articles" % (c1, c10, (r - 1) * 100, w1, w10,
				(w10 / w1 - 1) * 100, S["articles_1x"], S["articles_10x"]))
		return t

	def markdown(self):
		m = self.res["machine"]
		P, F, S = self.res["parse"], self.res["fetch"], self.res["scale"]
		L = []
		w = L.append
		w("_Written by `bench/peers.sh` on %s. Do not edit between the markers;"
			" re-run the script._" % m["date"])
		w("")
		w("### Machine")
		w("")
		w("- %d CPUs: %s; %.1f GiB RAM; Debian %s, Linux %s" % (m["nproc"],
			m["cpu"], m["ram_gib"], m["debian"], m["kernel"]))
		w("- Load average at start / end: %s / %s; write(4 KiB)+fsync on the "
			"work directory's file system: %.2f ms (median of 100)" % (
			m["load_start"], m["load_end"], m["fsync_ms"]))
		w("- %s (RelWithDebInfo, gcc); Debian packages: %s" % (m["feedd"],
			", ".join("%s %s" % kv for kv in m["versions"].items())))
		w("")
		w("### Corpus")
		w("")
		fm = self.res["corpus"]["formats"]
		w("%d feeds, %.1f MB (10^6 bytes), %d entries; %s; generated by "
			"`bench/peers/gen_feeds.py generate DIR -n %d --seed %d --gzip`, served by "
			"nginx on 127.0.0.1 (static files, ETag/Last-Modified, gzip_static: "
			"%.1f MB on the wire)." % (self.res["corpus"]["feeds"], self.res["corpus"]["bytes"] / 1e6, self.res["corpus"]["entries"],
			", ".join("%s %d" % kv for kv in sorted(fm.items())), self.res["corpus"]["feeds"],
			self.res["corpus"]["seed"], self.res["corpus"]["wire_bytes"] / 1e6))
		w("")
		w("### Parse throughput (same bytes, one process, median of %d runs; "
			"feedparser %d)" % (self.res["runs"], self.res["slow_runs"]))
		w("")
		w("| parser | wall s | MB/s | entries/s | CPU s | peak RSS MiB | vs sfeed | vs libxml2 |")
		w("|---|---:|---:|---:|---:|---:|---:|---:|")
		ref_s = P.get("sfeed", {}).get("mb_s")
		ref_x = P.get("libxml2", {}).get("mb_s")
		names = {"feedd": "feedd parse/ via `feedctl parse` (JSON out)",
			"feedd_bench": "feedd parse/ (bench_parse, no output)",
			"libxml2": "bare libxml2 SAX2 push pass (`sax_pass`)",
			"xmllint": "xmllint --stream (libxml2 reader)",
			"sfeed": "sfeed, one process, concatenated input",
			"sfeed_loop": "sfeed, one process per file (shell loop)",
			"feedparser": "Python feedparser, one process"}
		for k in ("feedd", "feedd_bench", "libxml2", "xmllint", "sfeed",
				"sfeed_loop", "feedparser"):
			if k not in P:
				continue
			v = P[k]
			w("| %s | %.3f | %.1f | %.0f | %.3f | %.1f | %s | %s |" % (names[k],
				v["wall"], v["mb_s"], v["entries_s"], v["cpu"], v["rss_mb"],
				"%.2fx" % (v["mb_s"] / ref_s) if ref_s else "–",
				"%.2fx" % (v["mb_s"] / ref_x) if ref_x else "–"))
		bp = self.res["checks"].get("bench_parse_out")
		if bp:
			w("")
			w("`bench_parse --dir` over the same files printed:")
			w("")
			w("```")
			w(bp.strip())
			w("```")
		w("")
		w("### Fetch-and-store cycle, %d feeds (medians: curl %d runs, feedd %d, "
			"feedd with `sync normal` %d, newsboat %d)" % (
			self.res["corpus"]["feeds"], self.res["runs"], self.res["cycle_runs"],
			self.res["normal_runs"], self.res["slow_runs"]))
		w("")
		w("| client | cycle | wall s | user s | sys s | CPU s | peak RSS MiB | wall vs curl | wall vs feedd |")
		w("|---|---|---:|---:|---:|---:|---:|---:|---:|")
		rows = [("feedd_fresh", "feedd --once", "fresh DB"),
			("feedd_unchanged", "feedd --once", "all 304"),
			("feedd_fresh_normal", "feedd --once, `sync normal`", "fresh DB"),
			("feedd_unchanged_normal", "feedd --once, `sync normal`", "all 304"),
			("sqlite_floor", "sqlite3 shell", "the fresh cycle's rows, one INSERT ... SELECT each (store floor)"),
			("curl_fresh", "curl --parallel", "fresh (transfer only)"),
			("curl_unchanged", "curl --parallel", "all 304"),
			("newsboat_fresh", "newsboat -x reload", "fresh cache"),
			("newsboat_second", "newsboat -x reload", "second: all 200, unchanged"),
			("newsboat_unchanged", "newsboat -x reload", "third: all 304")]
		for k, who, what in rows:
			if k not in F:
				continue
			v = F[k]
			kind = "fresh" if "fresh" in k or k == "sqlite_floor" else "unchanged"
			cur = F.get("curl_" + kind)
			fd = F.get("feedd_" + kind)
			if k == "newsboat_second":
				cur = fd = None
			w("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.1f | %s | %s |" % (who,
				what, v["wall"], v["user"], v["sys"], v["cpu"], v["rss_mb"],
				"%.1fx" % (v["wall"] / cur["wall"]) if cur else "–",
				"%.1fx" % (v["wall"] / fd["wall"]) if fd else "–"))
		if "feedd_fresh" in F:
			w("")
			w("feedd's longest loop stall (median over runs): %.1f ms in the fresh "
				"cycle, %.1f ms in the unchanged one. Last fresh run: `%s`." % (
				F["feedd_fresh"]["max_loop_stall_ms"],
				F["feedd_unchanged"]["max_loop_stall_ms"],
				" ".join("%s=%s" % kv for kv in self.res["checks"].get(
					"feedd_fresh_stats", {}).items())))
		if S:
			w("")
			w("### Unchanged cycle against a 10x database (median of %d runs each, "
				"the two databases in turns)" % S["unchanged_1x"]["runs"])
			w("")
			w("| articles stored | DB | wall s | CPU s | ms CPU per feed | ms wall per feed | peak RSS MiB |")
			w("|---:|---|---:|---:|---:|---:|---:|")
			for k, x in (("unchanged_1x", "1x"), ("unchanged_10x", "10x")):
				v = S[k]
				w("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.1f |" % (
					S["articles_" + x], x, v["wall"], v["cpu"], v["cpu_ms_per_feed"],
					v["wall_ms_per_feed"], v["rss_mb"]))
			w("")
			w("The 10x database (%.0f MB) was filled by `feedd --once` (with `sync "
				"normal`, to save time; the rows are the same) over nine more "
				"corpora with the same feeds and disjoint entries "
				"(`gen_feeds.py generate --offset 10000*k`), served in turn under "
				"the same URLs, then the measured corpus again; the 1x database is a "
				"copy taken after the first fill. The unchanged cycles use the "
				"default `sync full`." % S["db_mb_10x"])
		w("")
		w("### Targets (issue 6)")
		w("")
		w("| target | result | figures |")
		w("|---|---|---|")
		for t in self.res["targets"]:
			w("| %s | **%s** | %s |" % (t["target"], "met" if t["met"] else "missed",
				t["detail"]))
		if self.res["notes"]:
			w("")
			w("Notes from this run:")
			w("")
			for n in self.res["notes"]:
				w("- " + n)
		w("")
		w("Commands (run in the work directory; the corpus is `f0000.xml` ... ):")
		w("")
		for sec in (P, F):
			for k, v in sec.items():
				if "cmd" in v:
					w("- `%s`" % v["cmd"])
		return "\n".join(L)

	def wire_bytes(self):
		n = 0
		for f in self.files:
			p = os.path.join(self.corpus, f)
			n += os.path.getsize(p + ".gz") if os.path.exists(p + ".gz") else \
				os.path.getsize(p)
		return n


def fsync_probe(d, n=100):
	"""Median latency of write(4 KiB) + fsync on d's file system, in ms:
	what one `sync full` commit pays at least."""
	path = os.path.join(d, ".fsync-probe")
	fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
	ts = []
	try:
		for i in range(n):
			t = time.perf_counter()
			os.pwrite(fd, b"x" * 4096, (i % 16) * 4096)
			os.fsync(fd)
			ts.append(time.perf_counter() - t)
	finally:
		os.close(fd)
		os.unlink(path)
	return statistics.median(ts) * 1000


def splice(path, begin, end, body, title):
	"""Replace the text between the markers in path (create it if absent)."""
	block = "%s\n%s\n%s" % (begin, body, end)
	if os.path.exists(path):
		with open(path) as f:
			s = f.read()
	else:
		s = "# Benchmarks\n"
	if begin in s and end in s:
		i = s.index(begin)
		j = s.index(end) + len(end)
		s = s[:i] + block + s[j:]
	else:
		s = s.rstrip("\n") + "\n\n## %s\n\n%s\n" % (title, block)
	tmp = path + ".tmp"
	with open(tmp, "w") as f:
		f.write(s)
	os.replace(tmp, path)


def main():
	p = argparse.ArgumentParser()
	p.add_argument("--work", required=True)
	p.add_argument("--corpus", required=True)
	p.add_argument("--www", required=True, help="symlink nginx serves as its root")
	p.add_argument("--port", type=int, required=True)
	p.add_argument("--feedd", required=True)
	p.add_argument("--feedctl", required=True)
	p.add_argument("--bench-parse", default="")
	p.add_argument("--sax-pass", default="")
	p.add_argument("--feedparser-python", default="")
	p.add_argument("--runs", type=int, default=5)
	p.add_argument("--slow-runs", type=int, default=3)
	p.add_argument("--cycle-runs", type=int, default=3,
		help="runs of each feedd fetch-and-store cycle")
	p.add_argument("--normal-runs", type=int, default=1,
		help="runs of the feedd cycles with sync normal")
	p.add_argument("--conns", type=int, default=64)
	p.add_argument("--skip", default="", help="comma list: sfeed,xmllint,feedparser,newsboat,10x,parse,fetch")
	p.add_argument("--out", default="")
	p.add_argument("--load-start", default="")
	p.add_argument("--from-json", default="",
		help="only rewrite the report from a peers.json of an earlier run")
	if "--from-json" in sys.argv:
		p2 = argparse.ArgumentParser()
		p2.add_argument("--from-json", required=True)
		p2.add_argument("--out", default="")
		a = p2.parse_args()
		b = Bench.__new__(Bench)
		with open(a.from_json) as f:
			b.res = json.load(f)
		b.res["targets"] = b.targets()
		md = b.markdown()
		print(md)
		if a.out:
			splice(a.out, "<!-- peers:begin -->", "<!-- peers:end -->", md,
				"Against peers (bench/peers.sh)")
		return 0
	a = p.parse_args()
	global WORK
	WORK = a.work
	b = Bench(a)
	log("corpus: %d feeds, %.1f MB, %d entries" % (b.n, b.bytes / 1e6, b.entries))
	if "parse" not in b.skip:
		log("parse throughput ...")
		b.parse()
	if "fetch" not in b.skip:
		log("fetch cycles: feedd ...")
		conf, db = b.fetch_feedd()
		log("store floor: sqlite3 alone ...")
		b.store_floor(db)
		log("fetch cycles: curl ...")
		b.fetch_curl()
		log("fetch cycles: newsboat ...")
		b.fetch_newsboat()
		log("unchanged cycle at 1x and 10x articles ...")
		b.scale(conf, db)
	b.res["machine"] = b.machine()
	b.res["targets"] = b.targets()
	b.res["corpus"] = {k: v for k, v in b.man.items() if k != "files"}
	b.res["corpus"]["wire_bytes"] = b.wire_bytes()
	b.res["runs"], b.res["slow_runs"] = a.runs, a.slow_runs
	b.res["cycle_runs"], b.res["normal_runs"] = a.cycle_runs, a.normal_runs
	with open(os.path.join(a.work, "peers.json"), "w") as f:
		json.dump(b.res, f, indent=1, default=str)
	md = b.markdown()
	print(md)
	if a.out:
		splice(a.out, "<!-- peers:begin -->", "<!-- peers:end -->", md,
			"Against peers (bench/peers.sh)")
		log("wrote %s" % a.out)
	return 0


if __name__ == "__main__":
	sys.exit(main())

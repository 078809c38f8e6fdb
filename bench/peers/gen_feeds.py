#!/usr/bin/env python3
"""Generate a deterministic corpus of realistic feed documents.

    gen_feeds.py generate DIR [-n 2000] [--seed 1] [--offset 0] [--gzip]
    gen_feeds.py mutate DIR [--fraction 0.05] [--step K]
    gen_feeds.py manifest DIR

`generate` writes DIR/f0000.xml ... DIR/f{N-1}.xml and DIR/manifest.json
(with --gzip also f0000.xml.gz ..., for a server's precompressed variants).
The mix follows what a feed reader meets: about 60% RSS 2.0 (escaped HTML in
<description>, the full article in <content:encoded>, dc:creator, categories,
some enclosures), 30% Atom 1.0 (summary and content type="html", xml:base on
some feeds) and 10% RSS 1.0 (RDF with dc: and content:). Entry counts and
article sizes are skewed the way real feeds are: most feeds carry 10 to 30
entries of a few hundred bytes to a few KB, a few are large. At N=2000 the
corpus is about 58 MB and 42,882 entries (the set-up issue 6 quotes); both
scale linearly with N.

Each feed is a sliding window over an endless, deterministic sequence of
entries: entry number i of feed f always has the same id, date and text.
`mutate` moves the window of a random fraction of the feeds forward by one
or two entries (new ones appear, the oldest drop off) and rewrites those
files atomically (write, then rename), so a web server serving DIR sees new
ETag/Last-Modified values; the windows are kept in DIR/state.json.
`--offset K` starts every window at entry K, which makes a corpus whose
entries are all new to a database filled from another offset.

Python 3 standard library only.
"""
import argparse
import gzip
import json
import os
import random
import sys
from xml.sax.saxutils import escape

ENTRIES_PER_FEED = 42882 / 2000   # the reference corpus
BYTES_PER_FEED = 58.0e6 / 2000

SYLL = ["ka", "lo", "mi", "ne", "ta", "ri", "so", "vu", "pe", "da", "gri",
	"sta", "mon", "ver", "lin", "tor", "cha", "bel", "fra", "quo", "zen",
	"har", "wil", "dus", "pro", "ment", "ing", "ed", "er", "al", "ous"]
# A fixed vocabulary: real text repeats words, and word length matters
# for how fast text processing runs.
_vr = random.Random(12345)
VOCAB = ["".join(_vr.choice(SYLL) for _ in range(_vr.choice((1, 1, 2, 2, 2, 3, 4))))
	for _ in range(3000)]
VOCAB += ["the", "a", "of", "and", "to", "in", "is", "for", "on", "with",
	"that", "by", "it", "as", "at", "from"] * 40
NAMES = ["Alice Martin", "Bruno Keller", "Chen Wei", "Dana O'Neil",
	"Émile Durand", "Fatima Zahra", "Günter Groß", "Hiro Tanaka",
	"Ines Ortega", "José Müller", "Kasia Nowak", "Lena Svensson"]
CATS = ["politics", "science", "tech", "sports", "culture", "economy",
	"world", "health", "opinion", "local", "climate", "security"]
DOW = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"]
EPOCH0 = 1735689600   # 2025-01-01T00:00:00Z


def words(r, n):
	return " ".join(r.choice(VOCAB) for _ in range(n))


def sentence(r, lo=6, hi=18):
	s = words(r, r.randint(lo, hi))
	return s[0].upper() + s[1:] + r.choice(".....?!")


def rfc822(t):
	import time
	g = time.gmtime(t)
	return "%s, %02d %s %04d %02d:%02d:%02d +0000" % (DOW[g.tm_wday],
		g.tm_mday, MON[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min,
		g.tm_sec)


def rfc3339(t):
	import time
	return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def html_body(r, size, host):
	"""An article body of about `size` bytes of HTML: paragraphs with
	links, emphasis, the odd list, image, quote and entity."""
	out = []
	n = 0
	while n < size:
		k = r.random()
		if k < 0.08:
			items = "".join("<li>%s</li>" % words(r, r.randint(3, 9))
				for _ in range(r.randint(2, 5)))
			s = "<ul>%s</ul>" % items
		elif k < 0.13:
			s = '<p><img src="/img/%d.jpg" alt="%s" width="640" height="360"></p>' % (
				r.randint(1, 99999), words(r, 3))
		elif k < 0.17:
			s = "<blockquote><p>%s</p></blockquote>" % sentence(r)
		else:
			parts = []
			for _ in range(r.randint(2, 5)):
				t = sentence(r)
				z = r.random()
				if z < 0.25:
					w = t.split(" ")
					i = r.randrange(len(w))
					w[i] = '<a href="https://%s/%s/%d">%s</a>' % (
						host, r.choice(CATS), r.randint(1, 10**6), w[i])
					t = " ".join(w)
				elif z < 0.35:
					t = "<em>%s</em> %s" % (words(r, 2), t)
				elif z < 0.42:
					t = "<strong>%s</strong> &amp; %s" % (words(r, 2), t)
				elif z < 0.45:
					t = t + "&nbsp;&mdash; " + words(r, 3)
				parts.append(t)
			s = "<p>%s</p>" % " ".join(parts)
		out.append(s)
		n += len(s) + 1
	return "\n".join(out)


class Feed:
	"""Static properties of feed number idx (format, size, host, ...)."""

	def __init__(self, seed, idx, nentries):
		r = random.Random("%d/feed/%d" % (seed, idx))
		self.idx = idx
		k = r.random()
		self.fmt = "rss20" if k < 0.6 else ("atom" if k < 0.9 else "rss10")
		self.n = nentries
		self.host = "news%d.example.%s" % (idx, r.choice(["com", "org", "net", "de"]))
		self.title = sentence(r, 2, 5).rstrip(".?!")
		self.desc = sentence(r, 6, 14)
		# Article size scale: lognormal around ~1.2 KB, a few much longer.
		self.body = min(20000, int(r.lognormvariate(6.19, 0.7)))
		self.full = r.random() < 0.8      # carries full content
		self.xmlbase = r.random() < 0.3
		self.every = r.choice([1800, 3600, 3 * 3600, 6 * 3600, 86400])
		self.ttl = r.choice([0, 0, 0, 5, 15, 60])   # RSS <ttl>, minutes
		self.seed = seed

	def entry(self, i):
		r = random.Random("%d/entry/%d/%d" % (self.seed, self.idx, i))
		e = {
			"i": i,
			"title": sentence(r, 4, 12).rstrip(".?!"),
			"author": r.choice(NAMES),
			"cats": r.sample(CATS, r.randint(0, 3)),
			"t": EPOCH0 + i * self.every + r.randint(0, 600),
			"path": "/%s/%d/%s" % (r.choice(CATS), i, "-".join(
				words(r, 4).split())),
		}
		size = max(200, int(self.body * r.uniform(0.4, 1.6)))
		e["summary"] = sentence(r, 15, 40)
		e["content"] = html_body(r, size, self.host) if self.full else None
		e["enclosure"] = r.random() < 0.08
		return e

	def render(self, start):
		"""The document with entries start+n-1 (newest first) .. start."""
		ents = [self.entry(i) for i in range(start + self.n - 1, start - 1, -1)]
		return {"rss20": self.rss20, "atom": self.atom,
			"rss10": self.rss10}[self.fmt](ents)

	def link(self, e):
		return "https://%s%s" % (self.host, e["path"])

	def rss20(self, ents):
		o = ['<?xml version="1.0" encoding="UTF-8"?>\n'
			'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
			' xmlns:dc="http://purl.org/dc/elements/1.1/"'
			' xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
			"<title>%s</title>\n<link>https://%s/</link>\n" % (
				escape(self.title), self.host),
			'<atom:link href="https://%s/feed.xml" rel="self" type="application/rss+xml"/>\n' % self.host,
			"<description>%s</description>\n<language>en</language>\n" % escape(self.desc),
			"<lastBuildDate>%s</lastBuildDate>\n" % rfc822(ents[0]["t"]) if ents else "",
			"<ttl>%d</ttl>\n" % self.ttl if self.ttl else ""]
		for e in ents:
			o.append("<item>\n<title>%s</title>\n<link>%s</link>\n"
				'<guid isPermaLink="false">%s-%d</guid>\n'
				"<pubDate>%s</pubDate>\n<dc:creator>%s</dc:creator>\n" % (
					escape(e["title"]), self.link(e), self.host, e["i"],
					rfc822(e["t"]), escape(e["author"])))
			for c in e["cats"]:
				o.append("<category>%s</category>\n" % c)
			o.append("<description>%s</description>\n" % escape(
				"<p>%s</p>" % e["summary"]))
			if e["content"]:
				o.append("<content:encoded><![CDATA[%s]]></content:encoded>\n" % e["content"])
			if e["enclosure"]:
				o.append('<enclosure url="https://%s/audio/%d.mp3" length="%d" type="audio/mpeg"/>\n' % (
					self.host, e["i"], 1000000 + e["i"]))
			o.append("<comments>%s#comments</comments>\n</item>\n" % self.link(e))
		o.append("</channel>\n</rss>\n")
		return "".join(o)

	def atom(self, ents):
		base = ' xml:base="https://%s/"' % self.host if self.xmlbase else ""
		o = ['<?xml version="1.0" encoding="utf-8"?>\n'
			'<feed xmlns="http://www.w3.org/2005/Atom"%s>\n' % base,
			"<title>%s</title>\n<subtitle>%s</subtitle>\n" % (
				escape(self.title), escape(self.desc)),
			'<link rel="alternate" href="https://%s/"/>\n' % self.host,
			'<link rel="self" href="https://%s/atom.xml"/>\n' % self.host,
			"<id>tag:%s,2025:feed</id>\n" % self.host,
			"<updated>%s</updated>\n" % rfc3339(ents[0]["t"] if ents else EPOCH0)]
		for e in ents:
			href = e["path"][1:] if self.xmlbase else self.link(e)
			o.append("<entry>\n<title>%s</title>\n"
				'<link rel="alternate" type="text/html" href="%s"/>\n'
				"<id>tag:%s,2025:%d</id>\n<published>%s</published>\n"
				"<updated>%s</updated>\n<author><name>%s</name></author>\n" % (
					escape(e["title"]), escape(href), self.host, e["i"],
					rfc3339(e["t"]), rfc3339(e["t"] + 120), escape(e["author"])))
			for c in e["cats"]:
				o.append('<category term="%s"/>\n' % c)
			o.append('<summary type="html">%s</summary>\n' % escape(
				"<p>%s</p>" % e["summary"]))
			if e["content"]:
				o.append('<content type="html">%s</content>\n' % escape(e["content"]))
			if e["enclosure"]:
				o.append('<link rel="enclosure" href="https://%s/audio/%d.mp3" length="%d" type="audio/mpeg"/>\n' % (
					self.host, e["i"], 1000000 + e["i"]))
			o.append("</entry>\n")
		o.append("</feed>\n")
		return "".join(o)

	def rss10(self, ents):
		o = ['<?xml version="1.0" encoding="UTF-8"?>\n'
			'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
			' xmlns="http://purl.org/rss/1.0/"'
			' xmlns:dc="http://purl.org/dc/elements/1.1/"'
			' xmlns:content="http://purl.org/rss/1.0/modules/content/">\n',
			'<channel rdf:about="https://%s/">\n<title>%s</title>\n'
			"<link>https://%s/</link>\n<description>%s</description>\n"
			"<items><rdf:Seq>\n" % (self.host, escape(self.title), self.host,
				escape(self.desc))]
		for e in ents:
			o.append('<rdf:li rdf:resource="%s"/>\n' % self.link(e))
		o.append("</rdf:Seq></items>\n</channel>\n")
		for e in ents:
			o.append('<item rdf:about="%s">\n<title>%s</title>\n<link>%s</link>\n'
				"<dc:date>%s</dc:date>\n<dc:creator>%s</dc:creator>\n" % (
					self.link(e), escape(e["title"]), self.link(e),
					rfc3339(e["t"]), escape(e["author"])))
			for c in e["cats"]:
				o.append("<dc:subject>%s</dc:subject>\n" % c)
			o.append("<description>%s</description>\n" % escape(e["summary"]))
			if e["content"]:
				o.append("<content:encoded><![CDATA[%s]]></content:encoded>\n" % e["content"])
			o.append("</item>\n")
		o.append("</rdf:RDF>\n")
		return "".join(o)


def entry_counts(seed, n):
	"""Entries per feed: a skewed mix (many 10-30, some 1-9, a few 50-150)
	adjusted so the total is exactly round(n * 42882 / 2000)."""
	r = random.Random("%d/counts" % seed)
	raw = []
	for _ in range(n):
		k = r.random()
		if k < 0.12:
			raw.append(r.randint(1, 9))
		elif k < 0.90:
			raw.append(r.randint(10, 30))
		else:
			raw.append(r.randint(40, 120))
	target = round(n * ENTRIES_PER_FEED)
	total = sum(raw)
	while total != target:
		i = r.randrange(n)
		if total < target:
			raw[i] += 1
			total += 1
		elif raw[i] > 1:
			raw[i] -= 1
			total -= 1
	return raw


def write_atomic(path, data):
	tmp = path + ".tmp"
	with open(tmp, "wb") as f:
		f.write(data)
	os.replace(tmp, path)


def write_feed(d, i, text, gz):
	"""Write feed i; with gz also NAME.gz (for nginx's gzip_static), first,
	so the pair is never older on the compressed side."""
	data = text.encode("utf-8")
	path = os.path.join(d, name(i))
	if gz:
		write_atomic(path + ".gz", gzip.compress(data, 6, mtime=0))
	write_atomic(path, data)


def load_state(d):
	with open(os.path.join(d, "state.json")) as f:
		return json.load(f)


def save_state(d, st):
	write_atomic(os.path.join(d, "state.json"),
		json.dumps(st, sort_keys=True).encode())


def name(i):
	return "f%04d.xml" % i


def manifest(d, st):
	files = []
	total_bytes = 0
	total_entries = 0
	fmts = {}
	for i in range(st["n"]):
		sz = os.path.getsize(os.path.join(d, name(i)))
		files.append({"file": name(i), "bytes": sz, "entries": st["counts"][i],
			"format": st["formats"][i]})
		total_bytes += sz
		total_entries += st["counts"][i]
		fmts[st["formats"][i]] = fmts.get(st["formats"][i], 0) + 1
	m = {"feeds": st["n"], "bytes": total_bytes, "entries": total_entries,
		"formats": fmts, "seed": st["seed"], "files": files}
	write_atomic(os.path.join(d, "manifest.json"),
		json.dumps(m, indent=0).encode())
	return m


def cmd_generate(a):
	os.makedirs(a.dir, exist_ok=True)
	counts = entry_counts(a.seed, a.n)
	st = {"n": a.n, "seed": a.seed, "counts": counts,
		"windows": [a.offset] * a.n, "formats": [], "step": 0,
		"gzip": a.gzip}
	for i in range(a.n):
		f = Feed(a.seed, i, counts[i])
		st["formats"].append(f.fmt)
		write_feed(a.dir, i, f.render(a.offset), a.gzip)
	save_state(a.dir, st)
	m = manifest(a.dir, st)
	print("gen_feeds: %d feeds, %.1f MB, %d entries (%s) in %s" % (m["feeds"],
		m["bytes"] / 1e6, m["entries"], ", ".join("%s %d" % kv for kv in
		sorted(m["formats"].items())), a.dir))


def cmd_mutate(a):
	st = load_state(a.dir)
	st["step"] += 1
	step = a.step if a.step is not None else st["step"]
	r = random.Random("%d/mutate/%d" % (st["seed"], step))
	k = max(1, round(st["n"] * a.fraction))
	changed = sorted(r.sample(range(st["n"]), k))
	new_entries = 0
	for i in changed:
		adv = r.choice((1, 1, 2))
		st["windows"][i] += adv
		new_entries += adv
		f = Feed(st["seed"], i, st["counts"][i])
		write_feed(a.dir, i, f.render(st["windows"][i]), st.get("gzip"))
	save_state(a.dir, st)
	print("gen_feeds: step %d: %d feeds changed, %d new entries" % (
		step, len(changed), new_entries))


def main():
	p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	sp = p.add_subparsers(dest="cmd", required=True)
	g = sp.add_parser("generate")
	g.add_argument("dir")
	g.add_argument("-n", type=int, default=2000)
	g.add_argument("--seed", type=int, default=1)
	g.add_argument("--offset", type=int, default=0)
	g.add_argument("--gzip", action="store_true",
		help="also write NAME.xml.gz beside each feed (nginx gzip_static)")
	m = sp.add_parser("mutate")
	m.add_argument("dir")
	m.add_argument("--fraction", type=float, default=0.05)
	m.add_argument("--step", type=int)
	mf = sp.add_parser("manifest")
	mf.add_argument("dir")
	a = p.parse_args()
	if a.cmd == "generate":
		cmd_generate(a)
	elif a.cmd == "mutate":
		cmd_mutate(a)
	else:
		m = manifest(a.dir, load_state(a.dir))
		print(json.dumps({k: v for k, v in m.items() if k != "files"}))
	return 0


if __name__ == "__main__":
	sys.exit(main())

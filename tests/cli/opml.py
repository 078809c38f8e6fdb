#!/usr/bin/env python3
"""feedctl import-opml / export-opml with non-ASCII titles, site links,
counts, --output (atomic, no overwrite without --force) and
export-opml --from-db against a database feedd --once filled.

Environment: FEEDD, FEEDCTL, FEEDD_SOURCE_DIR (tests/cli.cmake).
"""
from html import escape
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
from harness import FEEDCTL, FEEDD, Server, check, main  # noqa: E402

ENV = dict(os.environ, SOURCE_DATE_EPOCH="1795946400")


def fc(*args, want=0):
    p = subprocess.run([FEEDCTL] + list(args), capture_output=True, timeout=30,
                       env=ENV)
    out, err = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        check(bad not in err, "sanitizer report:\n" + err)
    check(p.returncode == want, "feedctl %s: exit %d, want %d: %s"
          % (" ".join(args), p.returncode, want, err))
    return out, err


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def outlines(opml):
    return {o.get("xmlUrl"): o for o in ET.fromstring(opml.encode()).iter("outline")
            if o.get("xmlUrl")}


def feed_lines(text):
    return [line for line in text.splitlines() if line.startswith("feed ")]


def round_trip(tmp):
    empty = os.path.join(tmp, "empty.conf")
    write(empty, "")
    conf = os.path.join(tmp, "feedd.conf")
    write(conf, "database %s/f.db\n"
          'feed cafe https://a.example/cafe.xml title="Café Müller – Außenseiter" '
          "site=https://a.example/ tags=news\n"
          "feed nhk https://www3.nhk.or.jp/rss/news/cat0.xml title=NHKニュース tags=news\n"
          "feed plain https://b.example/feed.xml\n")
    opml, _ = fc("--config", conf, "export-opml")
    o = outlines(opml)
    check(o["https://a.example/cafe.xml"].get("text") == "Café Müller – Außenseiter" and
          o["https://a.example/cafe.xml"].get("title") == "Café Müller – Außenseiter" and
          o["https://a.example/cafe.xml"].get("htmlUrl") == "https://a.example/",
          "export: title= and site= not used:\n" + opml)
    check(o["https://www3.nhk.or.jp/rss/news/cat0.xml"].get("text") == "NHKニュース" and
          o["https://b.example/feed.xml"].get("text") == "plain" and
          o["https://b.example/feed.xml"].get("htmlUrl") is None, "export:\n" + opml)
    src = os.path.join(tmp, "export.opml")
    write(src, opml)

    # Import: readable ASCII names, the original titles and the site kept.
    out, err = fc("--config", empty, "import-opml", src)
    check(feed_lines(out) == [
        'feed cafe-muller-aussenseiter https://a.example/cafe.xml tags=news '
        'title="Café Müller – Außenseiter" site=https://a.example/',
        "feed www3.nhk.or.jp https://www3.nhk.or.jp/rss/news/cat0.xml tags=news "
        "title=NHKニュース",
        "feed plain https://b.example/feed.xml"], "import:\n" + out)
    check(err == "feedctl import-opml: read 3 feeds, skipped 0, wrote 3 to "
          "standard output\n", "import counts: %r" % err)

    # Against the config they came from: all three already there.
    out, err = fc("--config", conf, "import-opml", src)
    check(feed_lines(out) == [] and err.endswith(
        "read 3 feeds, skipped 3 (3 already configured), wrote 0 to standard output\n"),
        "import vs config: %r" % err)

    # --output: the same text, atomically; the config that includes it
    # exports the same OPML again.
    d = os.path.join(tmp, "feeds.d")
    os.mkdir(d)
    dest = os.path.join(d, "imported.conf")
    stdout_text, _ = fc("--config", empty, "import-opml", src)
    old = os.umask(0o022)
    try:
        out, err = fc("--config", empty, "import-opml", "--output", dest, src)
    finally:
        os.umask(old)
    check(out == "" and err == "feedctl import-opml: read 3 feeds, skipped 0, wrote 3 "
          "to %s\n" % dest, "--output: %r %r" % (out, err))
    check(open(dest, encoding="utf-8").read() == stdout_text, "--output content")
    check(os.listdir(d) == ["imported.conf"], "temporary files left: %s" % os.listdir(d))
    check(stat.S_IMODE(os.stat(dest).st_mode) == 0o644, "mode %o"
          % stat.S_IMODE(os.stat(dest).st_mode))
    main_conf = os.path.join(tmp, "main.conf")
    write(main_conf, "database %s/f.db\ninclude feeds.d/*.conf\n" % tmp)
    again, _ = fc("--config", main_conf, "export-opml")
    check(again == opml, "export -> import -> export differs:\n%s\n---\n%s" % (opml, again))

    # No overwrite without --force; --force replaces.
    other = os.path.join(tmp, "other.opml")
    write(other, '<opml version="2.0"><body><outline text="Straße" '
          'xmlUrl="https://c.example/rss"/></body></opml>')
    out, err = fc("--config", empty, "import-opml", "--output", dest, other, want=1)
    check("%s exists (--force replaces it)" % dest in err, "no --force: %r" % err)
    check(open(dest, encoding="utf-8").read() == stdout_text, "overwritten without --force")
    out, err = fc("--config", empty, "import-opml", other, "--output", dest, "--force")
    check(feed_lines(open(dest, encoding="utf-8").read()) ==
          ['feed strasse https://c.example/rss title=Straße'], "--force did not replace")
    check(os.listdir(d) == ["imported.conf"], "temporary files left: %s" % os.listdir(d))
    out, err = fc("--config", empty, "import-opml", "--output",
                  os.path.join(tmp, "nodir", "x.conf"), other, want=1)
    check("nodir/x.conf" in err and "No such file" in err, "missing directory: %r" % err)
    fc("--config", empty, "import-opml", "--force", other, want=2)
    fc("--config", empty, "import-opml", other, other, want=2)


def names(tmp):
    """Names from titles: accents dropped, other scripts named by host."""
    empty = os.path.join(tmp, "empty.conf")
    write(empty, "")
    cases = [("Café", "cafe"), ("Straße & Co.", "strasse-co"), ("Ærø Ål", "aero-al"),
             ("Łódź", "lodz"), ("Новости дня", "news.example.ru"),
             ("Tech 🚀 News", "tech-news"), ("« Le Monde » — À la une", "le-monde-a-la-une"),
             ("Crème brûlée", "creme-brulee"), ("Çağ Şiir", "cag-siir"),
             ("Ελληνικά", "greek.example"), ("", "empty.example"),
             ("Café", "cafe-2")]
    body = "".join('<outline text="%s" xmlUrl="https://%s/feed%d"/>'
                   % (escape(t, quote=True), "news.example.ru" if "Нов" in t else "greek.example"
                      if "Ελλ" in t else "empty.example" if not t else "x.example", i)
                   for i, (t, _) in enumerate(cases))
    src = os.path.join(tmp, "names.opml")
    write(src, '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><body>%s'
          "</body></opml>" % body)
    out, err = fc("--config", empty, "import-opml", src)
    got = [line.split()[1] for line in feed_lines(out)]
    check(got == [n for _, n in cases], "names: %s" % got)
    for line, (title, _) in zip(feed_lines(out), cases):
        check(not title or ("title=" in line and title in line), "title kept: " + line)
    check(err.endswith("read 12 feeds, skipped 0, wrote 12 to standard output\n"), err)


def from_db(tmp):
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    srv = Server(root)
    try:
        for n, title in (("one", "Le Café du Commerce"), ("two", "東京ニュース")):
            srv.write("%s.xml" % n, '<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
                      "<channel><title>%s</title><link>https://%s.example/</link>"
                      "<description>d</description><item><guid>%s-1</guid>"
                      "<title>x</title></item></channel></rss>\n" % (title, n, n))
        conf = os.path.join(tmp, "feedd.conf")
        write(conf, "database %s/f.db\nfeed one %s tags=news\n"
              'feed two %s title="Tokyo news"\n'
              % (tmp, srv.url("/one.xml"), srv.url("/two.xml")))
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        p = subprocess.run([FEEDD, "--config", conf, "--once"], capture_output=True,
                           text=True, timeout=120, env=env)
        check(p.returncode == 0, "feedd --once: %d %s" % (p.returncode, p.stderr))
    finally:
        srv.stop()
    opml, _ = fc("--db", os.path.join(tmp, "f.db"), "export-opml", "--from-db")
    o = outlines(opml)
    one, two = o.get(srv.url("/one.xml")), o.get(srv.url("/two.xml"))
    check(one is not None and two is not None, "from-db outlines:\n" + opml)
    # The document's title and link, a configured title= first; tags.
    check(one.get("text") == "Le Café du Commerce" and
          one.get("htmlUrl") == "https://one.example/" and one.get("category") == "news" and
          two.get("text") == "Tokyo news" and two.get("htmlUrl") == "https://two.example/",
          "from-db titles/site links:\n" + opml)
    # The same through the config's database, and the import of it.
    same, _ = fc("--config", conf, "export-opml", "--from-db")
    check(same == opml, "--from-db via --config differs")
    src = os.path.join(tmp, "db.opml")
    write(src, opml)
    empty = os.path.join(tmp, "empty.conf")
    write(empty, "")
    out, err = fc("--config", empty, "import-opml", src)
    check(feed_lines(out) == [
        'feed le-cafe-du-commerce %s tags=news title="Le Café du Commerce" '
        "site=https://one.example/" % srv.url("/one.xml"),
        'feed tokyo-news %s title="Tokyo news" site=https://two.example/'
        % srv.url("/two.xml")], "import of --from-db:\n" + out)
    _, err = fc("--db", os.path.join(tmp, "absent.db"), "export-opml", "--from-db", want=1)
    check("absent.db" in err, "missing database: %r" % err)


if __name__ == "__main__":
    if not FEEDCTL:
        print("skip: FEEDCTL not set")
        sys.exit(77)
    sys.exit(main([round_trip, names, from_db]))

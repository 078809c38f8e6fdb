#!/usr/bin/env python3
"""feedctl's help against feedctl(1), and the help format.

usage: help_man.py FEEDCTL MANPAGE

- `feedctl help` is "usage: ...", a blank line, "commands:", then one
  line per command ("  NAME  summary"), the format the bash completion
  reads;
- every command answers `CMD --help`, `CMD -h` and `help CMD` with the
  same text on stdout and exit status 0, starting with its synopsis and
  listing one option per line ("  --name ARG  what it does");
- the commands of `feedctl help` are the .SS sections of COMMANDS in the
  man page, and each command's options (name and argument) are exactly
  the .TP entries of its section; the global options are those of
  GLOBAL OPTIONS;
- usage errors exit 2 and name what was wrong.
"""
import re
import subprocess
import sys

feedctl, manpage = sys.argv[1], sys.argv[2]
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL", msg)


def run(*args):
    p = subprocess.run([feedctl] + list(args), capture_output=True, text=True,
                       timeout=20)
    return p.returncode, p.stdout, p.stderr


def sections(text):
    """{heading: [lines]} of a help text: a heading is a line ending in
    ':' without indentation; its lines run to the next blank line."""
    out, cur = {}, None
    for line in text.splitlines():
        if not line.strip():
            cur = None
        elif not line[0].isspace() and line.endswith(":"):
            cur = out.setdefault(line[:-1], [])
        elif cur is not None:
            cur.append(line)
    return out


def help_opts(lines):
    opts = set()
    for line in lines:
        m = re.match(r"^\s+(--[a-z][a-z-]*)( [A-Za-z][A-Za-z_|.-]*)?(  |$)", line)
        if not m:
            fail("option line not in the '  --name ARG  text' form: %r" % line)
            continue
        opts.add(m.group(1) + (m.group(2) or ""))
    return opts


def unroff(s):
    s = s.replace("\\-", "-").replace("\\fB", "").replace("\\fI", "")
    return s.replace("\\fR", "").replace("\\fP", "")


def man_opts(lines):
    """Options of .TP entries: `.B \\-\\-name`, `.BI \\-\\-name " ARG"` or
    `.B \\-\\-name a|b|c` (literal choices)."""
    opts = set()
    for prev, line in zip(lines, lines[1:]):
        if prev.strip() != ".TP":
            continue
        m = re.match(r'^\.BI? (\\-\\-[a-z\\-]+)(?: "\s*([A-Z]+)"| ([a-z|]+))?\s*$', line)
        if m:
            arg = m.group(2) or m.group(3)
            opts.add(unroff(m.group(1)) + (" " + arg if arg else ""))
    return opts


man = open(manpage, encoding="utf-8").read().splitlines()
man_sh, cur = {}, None
man_ss = {}
for line in man:
    if line.startswith(".SH "):
        cur = man_sh.setdefault(line[4:].strip().strip('"'), [])
        sscur = None
        continue
    if line.startswith(".SS "):
        sscur = man_ss.setdefault(unroff(line[4:].strip()), [])
        continue
    if cur is not None:
        cur.append(line)
    if line and 'sscur' in dir() and sscur is not None:
        sscur.append(line)

# The top-level help and its format.
rc, out, err = run("help")
lines = out.splitlines()
if rc != 0:
    fail("feedctl help: exit %d" % rc)
if len(lines) < 4 or not lines[0].startswith("usage: feedctl") or lines[1] != "" \
        or lines[2] != "commands:":
    fail("feedctl help does not start with usage:, a blank line, commands:")
cmds = []
for line in lines[3:]:
    if not line:
        break
    m = re.match(r"^  ([a-z][a-z-]*)  +\S", line)
    if not m:
        fail("command line not '  NAME  summary': %r" % line)
        continue
    cmds.append(m.group(1))
for alias in (("--help",), ("-h",)):
    rc2, out2, _ = run(*alias)
    if rc2 != 0 or out2 != out:
        fail("feedctl %s differs from feedctl help" % alias[0])
if set(cmds) != set(man_ss):
    fail("commands in help %s but in feedctl.1 %s" % (sorted(cmds), sorted(man_ss)))
else:
    print("ok   %d commands, the same in help and feedctl.1" % len(cmds))

g_help = help_opts(sections(out).get("global options (before or after the command)", []))
g_man = man_opts(man_sh.get("GLOBAL OPTIONS", []))
if not g_help or g_help != g_man:
    fail("global options: help %s, feedctl.1 %s" % (sorted(g_help), sorted(g_man)))
else:
    print("ok   global options agree: %s" % " ".join(sorted(g_help)))

for c in cmds:
    rc, out, err = run(c, "--help")
    if rc != 0 or err:
        fail("%s --help: exit %d, stderr %r" % (c, rc, err))
        continue
    for other in ((c, "-h"), ("help", c), ("--db", "/nonexistent.db", c, "--help")):
        r2, o2, _ = run(*other)
        if r2 != 0 or o2 != out:
            fail("feedctl %s differs from feedctl %s --help" % (" ".join(other), c))
    if not out.startswith("usage: feedctl %s" % c):
        fail("%s --help does not start with its synopsis" % c)
    sec = sections(out)
    h = help_opts(sec.get("options", []))
    m = man_opts(man_ss.get(c, []))
    if h != m:
        fail("%s: options in --help but not feedctl.1: %s; in feedctl.1 but not --help: %s"
             % (c, sorted(h - m) or "-", sorted(m - h) or "-"))
    else:
        print("ok   %-12s options agree (%d)" % (c, len(h)))
    gl = help_opts(sec.get("global options", []))
    if not gl or not gl <= g_man or "--db PATH" not in gl:
        fail("%s --help: global options %s" % (c, sorted(gl)))
    # Every listed option appears in the synopsis too.
    syn = out.split("\n\n")[0]
    for o in h:
        if "[%s]" % o not in " ".join(syn.split()):
            fail("%s: %s missing from the synopsis" % (c, o))
    # Usage errors: exit 2, the option named.
    rc, out, err = run(c, "--no-such-option")
    if rc != 2 or "'--no-such-option'" not in err:
        fail("%s --no-such-option: exit %d, %r" % (c, rc, err))
    for o in h:
        if " " in o:
            rc, out, err = run(c, o.split()[0])
            if rc != 2 or "'%s' needs a value" % o.split()[0] not in err:
                fail("%s %s without a value: exit %d, %r" % (c, o.split()[0], rc, err))
        else:
            rc, out, err = run(c, o + "=x")
            if rc != 2 or "takes no value" not in err:
                fail("%s %s=x: exit %d, %r" % (c, o, rc, err))

for args, want, text in (
        (("nosuch",), 2, "unknown command 'nosuch'"),
        (("help", "nosuch"), 2, "unknown command 'nosuch'"),
        (("--nosuch", "articles"), 2, "unknown option '--nosuch'"),
        (("--db",), 2, "'--db' needs a value"),
        (("articles", "--db"), 2, "'--db' needs a value"),
        (("articles", "extra"), 2, "unexpected argument 'extra'"),
        (("show",), 2, "which article"),
        (("search",), 2, "no QUERY"),
        (("parse",), 2, "no input"),
        ((), 2, "usage: feedctl"),
        (("--version",), 0, "")):
    rc, out, err = run(*args)
    if rc != want or text not in err:
        fail("feedctl %s: exit %d (want %d), stderr %r" % (" ".join(args), rc, want, err))
    else:
        print("ok   feedctl %s: exit %d" % (" ".join(args), rc))

if fails:
    print("%d failure(s)" % fails)
    sys.exit(1)
print("all passed")

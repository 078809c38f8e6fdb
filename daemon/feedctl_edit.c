/*
 * feedctl add / remove / enable / disable: edit the feed list without an
 * editor.
 *
 * They edit one file, feeds.d/feedctl.conf beside the main config, which
 * the main config reads through an include of every feeds.d file ending in
 * .conf (the example config has that line). The main file and every other file are never
 * written: a sysadmin's comments and layout stay theirs, and a feed
 * defined elsewhere is reported with its FILE:LINE to edit by hand.
 *
 * Each edit is made in memory, the whole config set is validated with it
 * (conf_load_all_with(), the check `feedd --check-config` makes) before
 * anything is written, and the file is then replaced atomically (a
 * temporary file beside it, fsync, rename, directory fsync) keeping its
 * mode and owner. Edits by concurrent feedctl runs are serialised with a
 * lock on the config's directory. Then the daemon is asked to reload:
 * `systemctl reload feedd` ($FEEDCTL_SYSTEMCTL instead of systemctl), or,
 * when that is not possible, how to do it is printed.
 */
#include "feedctl.h"
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define EDIT_DIR "feeds.d"
#define EDIT_FILE "feedctl.conf"
#define EDIT_MAX_FILE (16 * 1024 * 1024)
#define HOW_TO_RELOAD "systemctl reload feedd, or kill -HUP $(pidof feedd)"

static const char new_file_header[] =
	"# Feeds managed by feedctl add, remove, enable and disable (see feedctl(1)).\n"
	"# Hand edits are kept; the main configuration reads this file through\n"
	"# `include " EDIT_DIR "/*.conf`.\n";

/* Where things are, from the main config's path. */
struct where {
	const char *main;       /* borrowed */
	char *confdir;          /* owned: the main config's directory */
	char *dir;              /* owned: confdir/feeds.d */
	char *file;             /* owned: confdir/feeds.d/feedctl.conf */
	char *key;              /* owned: file as a canonical path */
	int lock_fd;            /* confdir, flock()ed; -1 = none */
};

/* A buffer we build the new file in. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *ns;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(ns = realloc(b->s, cap))) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* s as one config word (conf_print_token()'s quoting), through a memory
 * stream. */
static void
sb_token(struct sbuf *b, const char *s)
{
	char *t = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&t, &n);

	if (!f) {
		b->oom = true;
		return;
	}
	conf_print_token(s, f);
	if (fclose(f) != 0)
		b->oom = true;
	else
		sb_add(b, t, n);
	free(t);
}

/* path as a canonical absolute path, also when it does not exist yet (its
 * directory's realpath and its name); NULL only when out of memory. */
static char *
path_key(const char *path)
{
	char *r = realpath(path, NULL), *dir, *slash, *rd, *out = NULL;

	if (r)
		return r;
	if (!(dir = strdup(path)))
		return NULL;
	slash = strrchr(dir, '/');
	if (slash == dir) {
		out = strdup(path);
	} else if (slash) {
		*slash = '\0';
		rd = path_key(dir);
		if (rd && asprintf(&out, "%s/%s", rd, slash + 1) < 0)
			out = NULL;
		free(rd);
	} else {
		rd = realpath(".", NULL);
		if (rd && asprintf(&out, "%s/%s", rd, path) < 0)
			out = NULL;
		free(rd);
	}
	free(dir);
	return out;
}

static bool
same_file(const char *a, const char *key)
{
	char *k = path_key(a);
	bool same = k && strcmp(k, key) == 0;

	free(k);
	return same;
}

static void
where_free(struct where *w)
{
	if (w->lock_fd >= 0)
		close(w->lock_fd); /* releases the lock */
	free(w->confdir);
	free(w->dir);
	free(w->file);
	free(w->key);
}

/* Fill w for the main config g names and lock its directory. */
static int
where_init(struct where *w, const struct feedctl_global *g, const char *cmd)
{
	const char *slash;

	*w = (struct where){ .lock_fd = -1 };
	w->main = g->config ? g->config : FEEDD_DEFAULT_CONFIG;
	slash = strrchr(w->main, '/');
	if (!slash)
		w->confdir = strdup(".");
	else if (slash == w->main)
		w->confdir = strdup("/");
	else
		w->confdir = strndup(w->main, (size_t)(slash - w->main));
	if (!w->confdir ||
	    asprintf(&w->dir, "%s%s" EDIT_DIR,
		    strcmp(w->confdir, ".") ? w->confdir : "",
		    !strcmp(w->confdir, "/") || !strcmp(w->confdir, ".") ? "" : "/") < 0 ||
	    asprintf(&w->file, "%s/" EDIT_FILE, w->dir) < 0 ||
	    !(w->key = path_key(w->file))) {
		fprintf(stderr, "feedctl %s: out of memory\n", cmd);
		return -ENOMEM;
	}
	w->lock_fd = open(w->confdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->lock_fd < 0) {
		int e = errno;
		fprintf(stderr, "feedctl %s: %s: %s\n", cmd, w->confdir, strerror(e));
		return -e;
	}
	if (flock(w->lock_fd, LOCK_EX) < 0) {
		int e = errno;
		fprintf(stderr, "feedctl %s: cannot lock %s: %s\n", cmd, w->confdir,
			strerror(e));
		return -e;
	}
	return 0;
}

/* The whole of path into *out (NUL-terminated). -ENOENT when missing. */
static int
read_file(const char *path, char **out, size_t *outlen)
{
	FILE *f = fopen(path, "rb");
	struct sbuf b = { 0 };
	char chunk[8192];
	size_t n;
	int rc = 0;

	*out = NULL;
	*outlen = 0;
	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		sb_add(&b, chunk, n);
		if (b.len > EDIT_MAX_FILE) {
			rc = -EFBIG;
			break;
		}
	}
	if (ferror(f) && rc == 0)
		rc = -EIO;
	fclose(f);
	if (rc == 0 && b.oom)
		rc = -ENOMEM;
	if (rc == 0 && !b.s)
		b.s = strdup("");
	if (rc == 0 && !b.s)
		rc = -ENOMEM;
	if (rc < 0) {
		free(b.s);
		return rc;
	}
	*out = b.s;
	*outlen = b.len;
	return 0;
}

/* --- writing ---------------------------------------------------------------- */

/* Make confdir/feeds.d when it is missing: 0750, with the main config's
 * group (so the feedd service that reads feedd.conf reads it too). */
static int
ensure_dir(const struct where *w, const char **what, bool *created)
{
	struct stat st;

	*created = false;
	if (stat(w->dir, &st) == 0) {
		*what = "it is not a directory";
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	*what = "creating it";
	if (mkdir(w->dir, 0750) < 0)
		return errno == EEXIST ? 0 : -errno;
	*created = true;
	(void)chmod(w->dir, 0750); /* whatever the umask */
	if (stat(w->main, &st) == 0)
		(void)chown(w->dir, (uid_t)-1, st.st_gid); /* only where allowed */
	return 0;
}

/*
 * Replace w->file with data, all or nothing: a temporary file in the same
 * directory (a dot name, which `*.conf` does not match), written, synced
 * and renamed over it, then the directory synced. An existing file keeps
 * its mode, owner and group; a new one is 0640 with the main config's
 * group. A symlink is followed: its target is replaced.
 */
static int
write_atomic(const struct where *w, const char *data, size_t len, const char **what)
{
	char *target = NULL, *tmp = NULL, *dir, *slash, *base;
	struct stat st, mst;
	bool exists;
	int fd = -1, dfd, rc = 0;
	size_t off = 0;

	*what = "reading its directory";
	target = realpath(w->file, NULL);
	if (!target && errno != ENOENT)
		return -errno;
	if (!target && !(target = strdup(w->file)))
		return -ENOMEM;
	exists = stat(target, &st) == 0;
	slash = strrchr(target, '/');
	dir = slash ? strndup(target, (size_t)(slash - target)) : strdup(".");
	base = slash ? slash + 1 : target;
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		free(dir);
		free(target);
		return -ENOMEM;
	}
	*what = "creating a temporary file beside it";
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	*what = "setting its mode";
	if (exists) {
		if (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
			rc = -errno;
		if (rc == 0 && fchmod(fd, st.st_mode & 07777) < 0)
			rc = -errno;
	} else {
		if (stat(w->main, &mst) == 0)
			(void)fchown(fd, (uid_t)-1, mst.st_gid); /* only where allowed */
		if (fchmod(fd, 0640) < 0)
			rc = -errno;
	}
	*what = "writing";
	while (rc == 0 && off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else
			off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	fd = -1;
	if (rc == 0) {
		*what = "putting it in place";
		if (rename(tmp, target) < 0)
			rc = -errno;
	}
	if (rc < 0) {
		unlink(tmp);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd); /* the new name survives a crash */
		close(dfd);
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(dir);
	free(target);
	return rc;
}

/* --- reloading ---------------------------------------------------------------- */

/* Ask the running daemon to re-read its config, or say how to. */
static void
reload(const char *cmd, bool no_reload)
{
	const char *prog = getenv("FEEDCTL_SYSTEMCTL");
	char *args[] = { NULL, "reload", "feedd", NULL };
	char cause[160];
	pid_t pid;
	int st, rc;

	if (no_reload) {
		printf("not reloaded (--no-reload); to apply it: " HOW_TO_RELOAD "\n");
		return;
	}
	if (!prog || !*prog)
		prog = "systemctl";
	args[0] = (char *)prog;
	fflush(stdout);
	fflush(stderr);
	rc = posix_spawnp(&pid, prog, NULL, NULL, args, environ);
	if (rc != 0) {
		snprintf(cause, sizeof(cause), "cannot run %s: %s", prog, strerror(rc));
	} else {
		while ((rc = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		if (rc < 0)
			snprintf(cause, sizeof(cause), "%s: %s", prog, strerror(errno));
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("feedd reloaded (%s reload feedd)\n", prog);
			return;
		} else if (WIFEXITED(st))
			snprintf(cause, sizeof(cause), "%s reload feedd exited with status %d",
				prog, WEXITSTATUS(st));
		else
			snprintf(cause, sizeof(cause), "%s reload feedd was killed by signal %d",
				prog, WTERMSIG(st));
	}
	fprintf(stderr, "feedctl %s: feedd was not reloaded (%s); to apply the change: "
		HOW_TO_RELOAD "\n", cmd, cause);
}

/* --- the edit, validated ------------------------------------------------------- */

/* Load the config set as it is now. Returns 0 (with *out, possibly the
 * partial config of a set with errors: those are reported after the
 * edit is validated) or FEEDCTL_ERR (reported). */
static int
load_current(const struct where *w, const char *cmd, struct conf **out)
{
	struct conf_errors errs = { 0 };
	int rc = conf_load_all(out, w->main, &errs);

	if (rc == 0 || (rc == -EINVAL && *out)) {
		conf_errors_free(&errs);
		return 0;
	}
	conf_errors_print(&errs, stderr);
	conf_errors_free(&errs);
	fprintf(stderr, "feedctl %s: cannot read the configuration %s\n", cmd, w->main);
	conf_free(*out);
	*out = NULL;
	return FEEDCTL_ERR;
}

/* The config set with w->file reading as buf; NULL (errors reported)
 * when it has errors. */
static struct conf *
validate(const struct where *w, const char *cmd, const char *buf, size_t len)
{
	struct conf_override ov = { .path = w->file, .buf = buf, .len = len };
	struct conf_errors errs = { 0 };
	struct conf *c = NULL;
	int rc = conf_load_all_with(&c, w->main, &ov, &errs);

	if (rc == 0) {
		conf_errors_free(&errs);
		return c;
	}
	conf_errors_print(&errs, stderr);
	conf_errors_free(&errs);
	conf_free(c);
	fprintf(stderr, "feedctl %s: nothing changed: the configuration would not be valid%s\n",
		cmd, rc == -ENOMEM ? " (out of memory)" : "");
	return NULL;
}

/* Write the validated content, then reload. */
static int
commit(const struct where *w, const char *cmd, const char *buf, size_t len,
	bool no_reload, const char *done)
{
	const char *what = "";
	int rc = write_atomic(w, buf, len, &what);
	if (rc < 0) {
		fprintf(stderr, "feedctl %s: %s: %s: %s (nothing changed)\n", cmd, w->file,
			what, strerror(-rc));
		return FEEDCTL_ERR;
	}
	printf("%s\n", done);
	reload(cmd, no_reload);
	return fflush(stdout) == 0 ? FEEDCTL_OK : FEEDCTL_ERR;
}

/* URLs name the same feed: scheme and host compared without case. */
static bool
same_url(const char *a, const char *b)
{
	size_t na = strcspn(a, ":"), nb;

	if (strncmp(a + na, "://", 3) != 0)
		return strcmp(a, b) == 0;
	na += 3;
	na += strcspn(a + na, "/?#");
	nb = strcspn(b, ":");
	if (strncmp(b + nb, "://", 3) != 0)
		return false;
	nb += 3;
	nb += strcspn(b + nb, "/?#");
	return na == nb && strncasecmp(a, b, na) == 0 && strcmp(a + na, b + nb) == 0;
}

static bool
is_key(const char *s, size_t n)
{
	if (n == 0 || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return false;
	return true;
}

/* --- add ------------------------------------------------------------------------ */

enum { O_NAME = 'n', O_TAGS = 't', O_NO_RELOAD = 'R' };

int
feedctl_add(const struct feedctl_global *g, int argc, char **argv)
{
	struct feedctl_args a;
	const char *val, *url = NULL, *name_opt = NULL, *tags = NULL, *title = NULL;
	const char *why, *kv[64];
	size_t nkv = 0, oldlen = 0;
	char name[80], base[72], *old = NULL, done[1200];
	struct where w;
	struct conf *cur = NULL, *res = NULL;
	struct sbuf b = { 0 };
	const struct conf_feed *cf;
	bool no_reload = false, made_dir = false;
	int k, rc, status = FEEDCTL_ERR;

	feedctl_args_init(&a, argc, argv);
	while ((k = feedctl_opt_next(&a, &val)) != -1) {
		switch (k) {
		case -2:
			return FEEDCTL_USAGE;
		case O_NAME:
			name_opt = val;
			break;
		case O_TAGS:
			tags = val;
			break;
		case O_NO_RELOAD:
			no_reload = true;
			break;
		case 0:
			if (!url) {
				url = val;
				break;
			}
			if (!strchr(val, '=') || !is_key(val, strcspn(val, "="))) {
				fprintf(stderr, "feedctl add: unexpected argument '%s' "
					"(feed keys are KEY=VALUE, e.g. interval=1h)\n", val);
				return FEEDCTL_USAGE;
			}
			if (nkv == sizeof(kv) / sizeof(kv[0])) {
				fprintf(stderr, "feedctl add: too many KEY=VALUE arguments\n");
				return FEEDCTL_USAGE;
			}
			if (strncmp(val, "tags=", 5) == 0 && tags) {
				fprintf(stderr, "feedctl add: --tags and tags= both given\n");
				return FEEDCTL_USAGE;
			}
			if (strncmp(val, "title=", 6) == 0)
				title = val + 6;
			kv[nkv++] = val;
			break;
		}
	}
	if (!url) {
		fprintf(stderr, "feedctl add: which URL? (feedctl add https://example.org/feed.xml)\n");
		return FEEDCTL_USAGE;
	}
	if (conf_url_check(url, &why) < 0) {
		char red[512];
		fprintf(stderr, "feedctl add: bad URL '%s': %s\n",
			conf_redact_url(url, red, sizeof(red)), why);
		return FEEDCTL_USAGE;
	}
	for (size_t i = 0; tags && i < nkv; i++)
		if (strncmp(kv[i], "tags=", 5) == 0) {
			fprintf(stderr, "feedctl add: --tags and tags= both given\n");
			return FEEDCTL_USAGE;
		}

	if (where_init(&w, g, "add") < 0)
		goto out;
	if (load_current(&w, "add", &cur) != 0)
		goto out;
	for (size_t i = 0; i < cur->nfeeds; i++) {
		if (same_url(cur->feeds[i].url, url)) {
			char red[512];
			fprintf(stderr, "feedctl add: %s is already configured as feed '%s' (%s:%d)\n",
				conf_redact_url(url, red, sizeof(red)), cur->feeds[i].name,
				cur->feeds[i].file, cur->feeds[i].line);
			goto out;
		}
	}
	if (name_opt) {
		if ((cf = conf_feed_find(cur, name_opt))) {
			fprintf(stderr, "feedctl add: a feed named '%s' is already configured (%s:%d)\n",
				name_opt, cf->file, cf->line);
			goto out;
		}
		snprintf(name, sizeof(name), "%s", name_opt);
	} else {
		/* As import-opml names feeds: from title=, else the host,
		 * with a suffix when that name is taken. */
		feedctl_feed_name(title, url, base, sizeof(base));
		snprintf(name, sizeof(name), "%s", base);
		for (unsigned n = 2; conf_feed_find(cur, name); n++)
			snprintf(name, sizeof(name), "%s-%u", base, n);
	}

	/* The directory first: the include's pattern is matched against it
	 * when the config set is validated. It goes again if nothing is
	 * written. */
	rc = ensure_dir(&w, &why, &made_dir);
	if (rc < 0) {
		fprintf(stderr, "feedctl add: %s: %s: %s\n", w.dir, why, strerror(-rc));
		goto out;
	}
	rc = read_file(w.file, &old, &oldlen);
	if (rc < 0 && rc != -ENOENT) {
		fprintf(stderr, "feedctl add: %s: %s\n", w.file, strerror(-rc));
		goto out;
	}
	if (rc == -ENOENT)
		sb_str(&b, new_file_header);
	else
		sb_add(&b, old, oldlen);
	if (b.len && b.s[b.len - 1] != '\n')
		sb_str(&b, "\n");
	sb_str(&b, "feed ");
	sb_token(&b, name);
	sb_str(&b, " ");
	sb_token(&b, url);
	if (tags) {
		sb_str(&b, " tags=");
		sb_token(&b, tags);
	}
	for (size_t i = 0; i < nkv; i++) {
		size_t kl = strcspn(kv[i], "=");
		sb_str(&b, " ");
		sb_add(&b, kv[i], kl + 1);
		sb_token(&b, kv[i] + kl + 1);
	}
	sb_str(&b, "\n");
	if (b.oom) {
		fprintf(stderr, "feedctl add: out of memory\n");
		goto out;
	}

	if (!(res = validate(&w, "add", b.s, b.len)))
		goto out;
	cf = conf_feed_find(res, name);
	if (!cf || !same_file(cf->file, w.key)) {
		fprintf(stderr, "feedctl add: %s does not read %s, where feedctl keeps the feeds "
			"it adds; add this line to %s (see feedd.conf(5)):\n"
			"    include " EDIT_DIR "/*.conf\n", w.main, w.file, w.main);
		goto out;
	}
	snprintf(done, sizeof(done), "added feed %s to %s:%d", name, w.file, cf->line);
	status = commit(&w, "add", b.s, b.len, no_reload, done);
	if (status == FEEDCTL_OK)
		made_dir = false;
out:
	if (made_dir)
		(void)rmdir(w.dir); /* empty: we made it and wrote nothing */
	where_free(&w);
	conf_free(cur);
	conf_free(res);
	free(old);
	free(b.s);
	return status;
}

/* --- remove, enable, disable ------------------------------------------------------ */

/* A word of a config line: where it is in the raw text, and what it reads
 * as (quotes undone), as conf's tokenizer reads it. */
struct word {
	size_t start, end;      /* raw span in the line */
	char *text;             /* owned */
};

static bool
sp(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Split line[0..n) into words, up to a comment; -EINVAL on an unterminated
 * quote, -ENOMEM. */
static int
split_words(const char *line, size_t n, struct word *ws, size_t max, size_t *nw)
{
	size_t i = 0;

	*nw = 0;
	for (;;) {
		char *t;
		size_t w = 0;

		while (i < n && sp(line[i]))
			i++;
		if (i >= n || line[i] == '#')
			return 0;
		if (*nw == max)
			return -EINVAL;
		if (!(t = malloc(n - i + 1)))
			return -ENOMEM;
		ws[*nw].start = i;
		while (i < n && !sp(line[i])) {
			if (line[i] != '"') {
				t[w++] = line[i++];
				continue;
			}
			i++;
			while (i < n && line[i] != '"') {
				if (line[i] == '\\' && i + 1 < n &&
				    (line[i + 1] == '"' || line[i + 1] == '\\'))
					i++;
				t[w++] = line[i++];
			}
			if (i >= n) {
				free(t);
				return -EINVAL;
			}
			i++;
		}
		t[w] = '\0';
		ws[*nw].end = i;
		ws[(*nw)++].text = t;
	}
}

enum edit_op { OP_REMOVE, OP_ENABLE, OP_DISABLE };

/*
 * The file text with line `line` (1-based) edited: removed, or its
 * enabled= words taken out (enable: the default is yes) and, to disable,
 * "enabled=no" put after its last word. The line must still be the feed
 * line of `name` (the file may have been edited since it was read).
 */
static int
edit_line(struct sbuf *b, const char *text, size_t len, int line, const char *name,
	enum edit_op op)
{
	const char *p = text, *end = text + len, *ls = NULL, *le = NULL;
	struct word ws[64];
	size_t nw = 0, keep_from = 0;
	int n, rc;

	for (n = 1;; n++) {
		const char *e = memchr(p, '\n', (size_t)(end - p));

		if (!e)
			e = end;
		if (n == line) {
			ls = p;
			le = e;
			break;
		}
		if (e == end)
			break;
		p = e + 1;
	}
	if (!ls)
		return -ESTALE;
	rc = split_words(ls, (size_t)(le - ls), ws, sizeof(ws) / sizeof(ws[0]), &nw);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0 || nw < 3 || strcmp(ws[0].text, "feed") != 0 ||
	    strcmp(ws[1].text, name) != 0) {
		rc = -ESTALE;
		goto out;
	}
	sb_add(b, text, (size_t)(ls - text));
	if (op != OP_REMOVE) {
		/* Copy the line without its enabled= words (and the space
		 * before each). */
		size_t last_end = 0;

		for (size_t i = 0; i < nw; i++) {
			if (i >= 3 && strncmp(ws[i].text, "enabled=", 8) == 0) {
				sb_add(b, ls + keep_from, ws[i - 1].end - keep_from);
				keep_from = ws[i].end;
				continue;
			}
			last_end = ws[i].end;
		}
		if (op == OP_DISABLE) {
			if (keep_from < last_end) {
				sb_add(b, ls + keep_from, last_end - keep_from);
				keep_from = last_end;
			}
			sb_str(b, " enabled=no");
		}
		sb_add(b, ls + keep_from, (size_t)(le - ls) - keep_from);
		sb_add(b, le, (size_t)(end - le));
	} else {
		/* The line and its newline go. */
		if (le < end)
			le++;
		sb_add(b, le, (size_t)(end - le));
	}
	rc = b->oom ? -ENOMEM : 0;
out:
	for (size_t i = 0; i < nw; i++)
		free(ws[i].text);
	return rc;
}

static const char *const op_cmd[] = { "remove", "enable", "disable" };

static int
edit_feed(const struct feedctl_global *g, int argc, char **argv, enum edit_op op)
{
	const char *cmd = op_cmd[op], *val, *name = NULL;
	struct feedctl_args a;
	struct where w;
	struct conf *cur = NULL, *res = NULL;
	const struct conf_feed *cf, *rf;
	struct sbuf b = { 0 };
	char *old = NULL, done[600];
	size_t oldlen = 0;
	bool no_reload = false;
	int k, rc, status = FEEDCTL_ERR;

	feedctl_args_init(&a, argc, argv);
	while ((k = feedctl_opt_next(&a, &val)) != -1) {
		if (k == -2)
			return FEEDCTL_USAGE;
		if (k == O_NO_RELOAD) {
			no_reload = true;
		} else if (k == 0 && !name) {
			name = val;
		} else {
			fprintf(stderr, "feedctl %s: unexpected argument '%s'\n", cmd, val);
			return FEEDCTL_USAGE;
		}
	}
	if (!name) {
		fprintf(stderr, "feedctl %s: which feed? (feedctl %s NAME; feedctl feeds lists them)\n",
			cmd, cmd);
		return FEEDCTL_USAGE;
	}
	if (where_init(&w, g, cmd) < 0)
		goto out;
	if (load_current(&w, cmd, &cur) != 0)
		goto out;
	cf = conf_feed_find(cur, name);
	if (!cf) {
		fprintf(stderr, "feedctl %s: no feed named '%s' in the configuration (%s)\n",
			cmd, name, w.main);
		goto out;
	}
	if (op == OP_ENABLE && cf->enabled) {
		printf("feed %s is already enabled (%s:%d); nothing changed\n", name,
			cf->file, cf->line);
		status = FEEDCTL_OK;
		goto out;
	}
	if (op == OP_DISABLE && !cf->enabled) {
		printf("feed %s is already disabled (%s:%d); nothing changed\n", name,
			cf->file, cf->line);
		status = FEEDCTL_OK;
		goto out;
	}
	if (!same_file(cf->file, w.key)) {
		fprintf(stderr, "feedctl %s: feed '%s' is defined at %s:%d, not in %s "
			"(the only file feedctl edits); edit that line instead\n",
			cmd, name, cf->file, cf->line, w.file);
		goto out;
	}
	rc = read_file(w.file, &old, &oldlen);
	if (rc == 0)
		rc = edit_line(&b, old, oldlen, cf->line, name, op);
	if (rc == -ESTALE) {
		fprintf(stderr, "feedctl %s: %s:%d is no longer the line of feed '%s' "
			"(edited meanwhile?); nothing changed, try again\n", cmd, w.file,
			cf->line, name);
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "feedctl %s: %s: %s\n", cmd, w.file, strerror(-rc));
		goto out;
	}
	if (!(res = validate(&w, cmd, b.s ? b.s : "", b.len)))
		goto out;
	rf = conf_feed_find(res, name);
	if (op == OP_REMOVE ? rf != NULL : !rf || rf->enabled != (op == OP_ENABLE)) {
		/* Would only happen with a second definition the check missed. */
		fprintf(stderr, "feedctl %s: the edit of %s:%d did not take effect; nothing changed\n",
			cmd, w.file, cf->line);
		goto out;
	}
	snprintf(done, sizeof(done), "%s feed %s (%s:%d)", op == OP_REMOVE ? "removed" :
		op == OP_ENABLE ? "enabled" : "disabled", name, w.file, cf->line);
	status = commit(&w, cmd, b.s ? b.s : "", b.len, no_reload, done);
out:
	where_free(&w);
	conf_free(cur);
	conf_free(res);
	free(old);
	free(b.s);
	return status;
}

int
feedctl_remove(const struct feedctl_global *g, int argc, char **argv)
{
	return edit_feed(g, argc, argv, OP_REMOVE);
}

int
feedctl_enable(const struct feedctl_global *g, int argc, char **argv)
{
	return edit_feed(g, argc, argv, OP_ENABLE);
}

int
feedctl_disable(const struct feedctl_global *g, int argc, char **argv)
{
	return edit_feed(g, argc, argv, OP_DISABLE);
}

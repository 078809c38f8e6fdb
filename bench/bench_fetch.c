/*
 * bench_fetch: fetch every URL of a list with fetch/ on one uv loop,
 * discarding the bodies (they are still hashed, as in feedd), and print a
 * summary. bench/fetch_bench.sh drives it next to curl --parallel and
 * measures wall time, CPU and peak RSS from outside with /usr/bin/time.
 *
 *   bench_fetch [-c MAX_TOTAL] [-p MAX_PER_HOST] [-o OUT.tsv] LIST
 *
 * LIST has one URL per line, optionally followed by a tab, the ETag, a tab
 * and the Last-Modified string to send as validators. With -o, each URL
 * is written to OUT.tsv in that same format with the validators the server
 * returned, ready for a second, conditional pass.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct item {
	char *url, *etag, *lm;          /* owned; etag/lm may be NULL */
	char *new_etag, *new_lm;        /* owned: from the response */
	int status;                     /* enum fetch_status, -1 = not done */
};

struct bench {
	struct item *items;
	size_t n;
	size_t ok, not_modified, http_error, failed, cancelled;
	uint64_t bytes, wire;
	int shown;                      /* failures printed */
};

static struct bench b;

static void
on_done(void *ud, const struct fetch_result *r)
{
	struct item *it = ud;

	it->status = (int)r->status;
	switch (r->status) {
	case FETCH_OK:
		b.ok++;
		break;
	case FETCH_NOT_MODIFIED:
		b.not_modified++;
		break;
	case FETCH_HTTP_ERROR:
		b.http_error++;
		break;
	case FETCH_FAILED:
		b.failed++;
		break;
	case FETCH_CANCELLED:
		b.cancelled++;
		break;
	}
	if (r->status != FETCH_OK && r->status != FETCH_NOT_MODIFIED &&
		b.shown++ < 5)
		fprintf(stderr, "bench_fetch: %s: %s (%s)\n", r->url,
			r->error ? r->error : "?", r->stage ? r->stage : "?");
	b.bytes += r->body_bytes;
	b.wire += r->wire_bytes;
	it->new_etag = r->etag ? strdup(r->etag) : NULL;
	it->new_lm = r->last_modified ? strdup(r->last_modified) : NULL;
}

static int
load(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	int rc = 0;

	if (!fp)
		return -errno;
	while ((len = getline(&line, &cap, fp)) > 0) {
		char *f[3] = { NULL, NULL, NULL }, *p = line;
		struct item *it;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (!*line)
			continue;
		for (int i = 0; i < 3 && p; i++) {
			f[i] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (b.n == alloc) {
			size_t na = alloc ? alloc * 2 : 1024;
			struct item *ni = realloc(b.items, na * sizeof(*ni));
			if (!ni) {
				rc = -ENOMEM;
				goto out;
			}
			b.items = ni;
			alloc = na;
		}
		it = &b.items[b.n++];
		memset(it, 0, sizeof(*it));
		it->status = -1;
		it->url = strdup(f[0]);
		it->etag = f[1] && *f[1] ? strdup(f[1]) : NULL;
		it->lm = f[2] && *f[2] ? strdup(f[2]) : NULL;
	}
out:
	free(line);
	fclose(fp);
	return rc;
}

/* CPU seconds used so far by this process, in user mode and in the
 * kernel. */
static void
cpu_s(double *user, double *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct fetch_opts fo = { .max_total = 32, .max_per_host = 32 };
	const char *out = NULL;
	struct fetch *f = NULL;
	uv_loop_t loop;
	double t0, u0, s0, u1, s1;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "c:p:o:")) != -1) {
		switch (c) {
		case 'c':
			fo.max_total = (unsigned)atoi(optarg);
			break;
		case 'p':
			fo.max_per_host = (unsigned)atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_fetch [-c MAX_TOTAL] "
				"[-p MAX_PER_HOST] [-o OUT.tsv] LIST\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "bench_fetch: need one URL list\n");
		return 2;
	}
	rc = load(argv[optind]);
	if (rc < 0) {
		fprintf(stderr, "bench_fetch: %s: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uv_loop_init(&loop);
	rc = fetch_create(&f, &loop, &fo);
	if (rc < 0) {
		fprintf(stderr, "bench_fetch: fetch_create: %s\n", strerror(-rc));
		return 1;
	}
	t0 = now_s();
	cpu_s(&u0, &s0);
	for (size_t i = 0; i < b.n; i++) {
		struct fetch_req_opts o = {
			.url = b.items[i].url,
			.etag = b.items[i].etag,
			.last_modified = b.items[i].lm,
			.on_done = on_done,
			.ud = &b.items[i],
		};
		rc = fetch_start(f, &o, NULL);
		if (rc < 0) {
			fprintf(stderr, "bench_fetch: %s: %s\n", o.url, strerror(-rc));
			b.failed++;
		}
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	cpu_s(&u1, &s1);
	/* loop_cpu leaves out process start-up (dynamic linking, OpenSSL
	 * initialization), which a long-running daemon pays once; it is
	 * loop_user + loop_sys. */
	printf("bench_fetch: %zu urls in %.3f s: ok=%zu not_modified=%zu "
		"http_error=%zu failed=%zu decoded=%" PRIu64 " wire=%" PRIu64
		" loop_cpu=%.3f loop_user=%.3f loop_sys=%.3f\n", b.n,
		now_s() - t0, b.ok, b.not_modified, b.http_error, b.failed,
		b.bytes, b.wire, u1 - u0 + s1 - s0, u1 - u0, s1 - s0);
	fetch_destroy(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		fprintf(stderr, "bench_fetch: loop not closed cleanly\n");
	if (out) {
		FILE *fp = fopen(out, "w");
		if (!fp) {
			fprintf(stderr, "bench_fetch: %s: %s\n", out, strerror(errno));
			rc = -1;
		}
		for (size_t i = 0; fp && i < b.n; i++)
			fprintf(fp, "%s\t%s\t%s\n", b.items[i].url,
				b.items[i].new_etag ? b.items[i].new_etag : "",
				b.items[i].new_lm ? b.items[i].new_lm : "");
		if (fp)
			fclose(fp);
	}
	for (size_t i = 0; i < b.n; i++) {
		free(b.items[i].url);
		free(b.items[i].etag);
		free(b.items[i].lm);
		free(b.items[i].new_etag);
		free(b.items[i].new_lm);
	}
	free(b.items);
	curl_global_cleanup();
	return b.ok + b.not_modified == b.n && rc >= 0 ? 0 : 1;
}

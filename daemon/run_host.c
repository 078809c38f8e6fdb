/*
 * run_host: the host table. One struct host per lower-cased URL host, in
 * a hash of HOST_BUCKETS chains owned by struct run, with the number of
 * feeds polling it and its next free start slot; host_spacing_ms() is the
 * spacing rule of run.h.
 */
#include "run_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <uv.h>

#include "batch.h"
#include "fetch.h"
#include "hook.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "notify.h"
#include "parse.h"
#include "rules.h"
#include "sched.h"
#include "worker.h"

/* --- hosts -------------------------------------------------------------- */

struct host *
host_get(struct run *r, const char *url)
{
	char *name = url_host(url);
	struct host *h = NULL;
	uint32_t b;
	size_t len;

	if (!name)
		return NULL;
	b = fnv1a(name) % HOST_BUCKETS;
	for (h = r->hosts[b]; h; h = h->next)
		if (strcmp(h->name, name) == 0)
			goto out;
	len = strlen(name);
	h = calloc(1, sizeof(*h) + len + 1);
	if (!h)
		goto out;
	memcpy(h->name, name, len + 1);
	h->next = r->hosts[b];
	r->hosts[b] = h;
out:
	free(name);
	return h;
}

void
hosts_free(struct run *r)
{
	for (size_t i = 0; i < HOST_BUCKETS; i++) {
		struct host *h = r->hosts[i], *next;

		for (; h; h = next) {
			next = h->next;
			free(h);
		}
		r->hosts[i] = NULL;
	}
}

/* The spacing rule of run.h: min(1 s, interval / feeds on the host). */
uint64_t
host_spacing_ms(const struct host *h, int64_t interval_s)
{
	uint64_t per = h->nfeeds ? (uint64_t)interval_s * 1000 / h->nfeeds :
		HOST_SPACING_MS;

	return per < HOST_SPACING_MS ? per : HOST_SPACING_MS;
}


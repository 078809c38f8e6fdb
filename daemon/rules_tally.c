/*
 * rules_tally: one refresh's rule verdicts, from the loop (the rules) to
 * the parse thread (the verdicts) to the store worker (the counts) and
 * back to the loop (the in-memory counters). See rules.h.
 */
#include "rules.h"
#include "batch.h"
#include "conf.h"
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rules_tally {
	struct rule_set *rules;   /* a reference */
	char *feed, *tags;        /* owned copies; tags NULL = none */
	size_t n;                 /* entries judged */
	bool *block;              /* owned; per entry */
	int *decider;             /* owned; per entry: rule index or -1 */
	unsigned *counts;         /* owned; per rule of the set, this refresh */
};

void
rules_tally_destroy(struct rules_tally *t)
{
	if (!t)
		return;
	rule_set_unref(t->rules);
	free(t->feed);
	free(t->tags);
	free(t->block);
	free(t->decider);
	free(t->counts);
	free(t);
}

int
rules_tally_create(struct rules_tally **out, struct rule_set *s,
	const struct conf_feed *f)
{
	struct rules_tally *t;
	bool any = false;

	*out = NULL;
	for (size_t i = 0; s && i < s->n && !any; i++)
		any = rule_applies(&s->v[i], f->name, f->tags);
	if (!any)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->rules = rule_set_ref(s);
	t->feed = strdup(f->name);
	t->tags = f->tags ? strdup(f->tags) : NULL;
	t->counts = calloc(s->n, sizeof(*t->counts));
	if (!t->feed || (f->tags && !t->tags) || !t->counts) {
		rules_tally_destroy(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

int
rules_tally_judge(struct rules_tally *t, const struct batch *b)
{
	const struct rule_set *s;
	size_t n;

	if (!t)
		return 0;
	s = t->rules;
	n = batch_count(b);
	free(t->block);
	free(t->decider);
	t->n = 0;
	t->block = calloc(n ? n : 1, sizeof(*t->block));
	t->decider = calloc(n ? n : 1, sizeof(*t->decider));
	if (!t->block || !t->decider)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct store_article *a = batch_article(b, i);
		struct rule_item it = {
			.title = a->title,
			.text = a->text,
			.summary = a->summary,
			.author = a->author,
			.link = a->link,
			.categories_json = a->categories_json,
		};

		t->block[i] = !rules_judge(s->v, s->n, t->feed, t->tags, &it,
			&t->decider[i]);
	}
	t->n = n;
	return 0;
}

bool
rules_tally_blocks(const struct rules_tally *t, size_t i)
{
	return t && i < t->n && t->block[i];
}

void
rules_tally_reset(struct rules_tally *t)
{
	if (t)
		memset(t->counts, 0, t->rules->n * sizeof(*t->counts));
}

void
rules_tally_count(struct rules_tally *t, size_t i, enum store_put_outcome oc)
{
	int d;

	if (!t || i >= t->n || (d = t->decider[i]) < 0)
		return;
	if ((t->block[i] && oc == STORE_PUT_BLOCKED) ||
	    (!t->block[i] && oc == STORE_PUT_NEW))
		t->counts[d]++;
}

int
rules_tally_store(const struct rules_tally *t, struct store_refresh *rf)
{
	for (size_t i = 0; t && i < t->rules->n; i++) {
		const struct rule *r = &t->rules->v[i];
		int rc;

		if (!t->counts[i])
			continue;
		rc = store_refresh_rule_count(rf, r->name,
			rule_action_name(r->action), t->counts[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
rules_tally_apply(const struct rules_tally *t, struct conf *c)
{
	for (size_t i = 0; t && i < t->rules->n; i++) {
		const struct rule *r = &t->rules->v[i];

		if (!t->counts[i])
			continue;
		for (size_t k = 0; k < c->rules->n; k++) {
			if (strcmp(c->rules->v[k].name, r->name) == 0) {
				c->rules->v[k].matched += t->counts[i];
				break;
			}
		}
	}
}

void
rules_carry(struct conf *to, const struct conf *from)
{
	for (size_t i = 0; to && from && i < to->rules->n; i++)
		for (size_t k = 0; k < from->rules->n; k++)
			if (strcmp(to->rules->v[i].name, from->rules->v[k].name) == 0) {
				to->rules->v[i].matched = from->rules->v[k].matched;
				break;
			}
}

static enum metrics_rule_action
metrics_action(enum rule_action a)
{
	return a == RULE_ACTION_KEEP ? METRICS_RULE_KEEP : METRICS_RULE_BLOCK;
}

void
rules_tally_metrics(const struct rules_tally *t, struct metrics *m)
{
	for (size_t i = 0; t && m && i < t->rules->n; i++) {
		const struct rule *r = &t->rules->v[i];

		/* -ENOENT: a rule removed by a reload since this document
		 * was judged; the exported set follows the config. */
		if (t->counts[i])
			(void)metrics_rule_match(m, r->name,
				metrics_action(r->action), t->counts[i]);
	}
}

int
rules_metrics_configure(const struct conf *c, struct metrics *m)
{
	size_t n = c->rules ? c->rules->n : 0;
	struct metrics_rule *v = calloc(n ? n : 1, sizeof(*v));
	int rc;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct metrics_rule){
			.name = c->rules->v[i].name,
			.action = metrics_action(c->rules->v[i].action),
		};
	rc = metrics_rules_configure(m, v, n);
	free(v);
	return rc;
}

/*
 * rules_tally: one refresh's rule verdicts, carried from the loop to the
 * store worker, and the counts back (rules.h).
 */
#include "rules.h"
#include "batch.h"
#include "conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
item_from_article(struct rule_item *it, const struct store_article *a)
{
	*it = (struct rule_item){
		.title = a->title,
		.text = a->text,
		.summary = a->summary,
		.author = a->author,
		.link = a->link,
		.categories_json = a->categories_json,
	};
}

/* --- the tally ------------------------------------------------------------ */

struct rules_tally {
	size_t n;                 /* entries of the batch */
	bool *block;              /* owned; per entry */
	int *decider;             /* owned; per entry: rule index or -1 */
	size_t nrules;
	char **names;             /* owned; copies of the config's rule names */
	enum rule_action *actions; /* owned */
	unsigned *counts;         /* owned; per rule, this refresh */
};

void
rules_tally_destroy(struct rules_tally *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->names && i < t->nrules; i++)
		free(t->names[i]);
	free(t->names);
	free(t->actions);
	free(t->counts);
	free(t->block);
	free(t->decider);
	free(t);
}

int
rules_tally_create(struct rules_tally **out, const struct conf *c,
	const struct conf_feed *f, const struct batch *b)
{
	struct rules_tally *t = NULL;
	size_t n = batch_count(b);
	bool any = false;

	*out = NULL;
	for (size_t i = 0; i < c->nrules && !any; i++)
		any = rule_applies(&c->rules[i], f->name, f->tags);
	if (!any || n == 0)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n = n;
	t->nrules = c->nrules;
	t->block = calloc(n, sizeof(*t->block));
	t->decider = calloc(n, sizeof(*t->decider));
	t->names = calloc(c->nrules, sizeof(*t->names));
	t->actions = calloc(c->nrules, sizeof(*t->actions));
	t->counts = calloc(c->nrules, sizeof(*t->counts));
	if (!t->block || !t->decider || !t->names || !t->actions || !t->counts)
		goto nomem;
	for (size_t i = 0; i < c->nrules; i++) {
		t->names[i] = strdup(c->rules[i].name);
		if (!t->names[i])
			goto nomem;
		t->actions[i] = c->rules[i].action;
	}
	for (size_t i = 0; i < n; i++) {
		struct rule_item it;

		item_from_article(&it, batch_article(b, i));
		t->block[i] = !rules_judge(c->rules, c->nrules, f->name, f->tags,
			&it, &t->decider[i]);
	}
	*out = t;
	return 0;
nomem:
	rules_tally_destroy(t);
	return -ENOMEM;
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
		memset(t->counts, 0, t->nrules * sizeof(*t->counts));
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
	for (size_t i = 0; t && i < t->nrules; i++) {
		int rc;

		if (!t->counts[i])
			continue;
		rc = store_refresh_rule_count(rf, t->names[i],
			rule_action_name(t->actions[i]), t->counts[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
rules_tally_apply(const struct rules_tally *t, struct conf *c)
{
	for (size_t i = 0; t && i < t->nrules; i++) {
		if (!t->counts[i])
			continue;
		/* Metrics hook: metrics_rule_match(t->names[i],
		 * rule_action_name(t->actions[i])) goes here, t->counts[i]
		 * times (or once with the count). */
		for (size_t k = 0; k < c->nrules; k++) {
			if (strcmp(c->rules[k].name, t->names[i]) == 0) {
				c->rules[k].matched += t->counts[i];
				break;
			}
		}
	}
}

void
rules_carry(struct conf *to, const struct conf *from)
{
	for (size_t i = 0; to && from && i < to->nrules; i++)
		for (size_t k = 0; k < from->nrules; k++)
			if (strcmp(to->rules[i].name, from->rules[k].name) == 0) {
				to->rules[i].matched = from->rules[k].matched;
				break;
			}
}

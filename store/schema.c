/*
 * The schema as a list of forward-only migrations. store__migrations[i]
 * turns a database at PRAGMA user_version i into version i + 1; a new
 * database runs them all, so every step is exercised on every fresh file.
 * Never edit a step that has shipped: add a new one. The views named
 * *_v1 are the reader contract (store/SCHEMA.md): a step may add columns
 * at their end, never remove, rename or change the meaning of one.
 */
#include "store_int.h"

/* Version 1: feeds, articles, purged keys, change log, FTS5, views. */
static const char schema_v1[] =
	"CREATE TABLE feeds ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" url TEXT NOT NULL,"
	" url_in_use TEXT,"
	" title TEXT,"
	" site_link TEXT,"
	" etag TEXT,"
	" last_modified TEXT,"
	" body_hash TEXT,"
	" keep_days INTEGER NOT NULL DEFAULT 0,"
	" keep_count INTEGER NOT NULL DEFAULT 0,"
	" last_attempt INTEGER,"
	" last_success INTEGER,"
	" next_due INTEGER,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" last_status INTEGER,"
	" gone INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL"
	");"
	"CREATE TABLE articles ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" feed_id INTEGER NOT NULL REFERENCES feeds(id),"
	" key TEXT NOT NULL,"
	" guid TEXT,"
	" link TEXT,"
	" canon_link TEXT,"
	" title TEXT,"
	" author TEXT,"
	" published TEXT,"
	" updated TEXT,"
	" summary TEXT,"
	" content TEXT,"
	" text TEXT,"
	" categories TEXT,"
	" enclosures TEXT,"
	" hash TEXT NOT NULL,"
	" sort_time INTEGER NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_changed INTEGER NOT NULL,"
	" revision INTEGER NOT NULL DEFAULT 1,"
	" UNIQUE(feed_id, key)"
	");"
	"CREATE INDEX articles_feed_sort ON articles(feed_id, sort_time);"
	"CREATE INDEX articles_sort ON articles(sort_time);"
	"CREATE INDEX articles_canon ON articles(canon_link);"
	"CREATE TABLE purged ("
	" feed_id INTEGER NOT NULL,"
	" key TEXT NOT NULL,"
	" canon_link TEXT,"
	" title TEXT,"
	" at INTEGER NOT NULL,"
	" PRIMARY KEY(feed_id, key)"
	") WITHOUT ROWID;"
	"CREATE INDEX purged_canon ON purged(feed_id, canon_link);"
	"CREATE TABLE changes ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" article_id INTEGER NOT NULL,"
	" feed_id INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('new', 'update', 'purge')),"
	" at INTEGER NOT NULL"
	");"
	"CREATE INDEX changes_at ON changes(at);"
	"CREATE VIRTUAL TABLE articles_fts USING fts5(title, text,"
	" content='articles', content_rowid='id',"
	" tokenize='unicode61 remove_diacritics 2');"
	"CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN"
	" INSERT INTO articles_fts(rowid, title, text)"
	"  VALUES (new.id, new.title, new.text);"
	" END;"
	"CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN"
	" INSERT INTO articles_fts(articles_fts, rowid, title, text)"
	"  VALUES ('delete', old.id, old.title, old.text);"
	" END;"
	"CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, text ON articles"
	" BEGIN"
	" INSERT INTO articles_fts(articles_fts, rowid, title, text)"
	"  VALUES ('delete', old.id, old.title, old.text);"
	" INSERT INTO articles_fts(rowid, title, text)"
	"  VALUES (new.id, new.title, new.text);"
	" END;"
	"CREATE VIEW feeds_v1 AS SELECT"
	" f.id, f.name, f.url, f.url_in_use, f.title, f.site_link,"
	" f.etag, f.last_modified, f.last_attempt, f.last_success,"
	" f.next_due, f.failures, f.last_error, f.last_status, f.gone,"
	" f.keep_days, f.keep_count,"
	" (SELECT count(*) FROM articles a WHERE a.feed_id = f.id) AS articles"
	" FROM feeds f;"
	"CREATE VIEW articles_v1 AS SELECT"
	" a.id, a.feed_id, f.name AS feed, a.key, a.guid, a.link,"
	" a.canon_link AS canonical_link, a.title, a.author, a.published,"
	" a.updated, a.summary, a.content, a.text, a.categories,"
	" a.enclosures, a.hash AS content_hash, a.sort_time, a.first_seen,"
	" a.last_changed, a.revision"
	" FROM articles a JOIN feeds f ON f.id = a.feed_id;"
	"CREATE VIEW changes_v1 AS SELECT"
	" c.seq, c.article_id, c.feed_id, f.name AS feed, c.kind, c.at"
	" FROM changes c LEFT JOIN feeds f ON f.id = c.feed_id;";

/*
 * Version 2: cross-feed story links and retired feeds.
 * articles.story_id groups articles of all feeds that share a canonical
 * link (the id of the first such article); existing rows are backfilled.
 * feeds.active is 0 for a feed no longer in the configuration.
 */
static const char migrate_v2[] =
	"ALTER TABLE articles ADD COLUMN story_id INTEGER;"
	"UPDATE articles SET story_id = coalesce((SELECT min(b.id)"
	" FROM articles b WHERE b.canon_link = articles.canon_link), id);"
	"CREATE INDEX articles_story ON articles(story_id);"
	/* A new article without a story of its own starts one. */
	"CREATE TRIGGER articles_story_ai AFTER INSERT ON articles"
	" WHEN new.story_id IS NULL BEGIN"
	" UPDATE articles SET story_id = new.id WHERE id = new.id;"
	" END;"
	"ALTER TABLE feeds ADD COLUMN active INTEGER NOT NULL DEFAULT 1;"
	"DROP VIEW articles_v1;"
	"CREATE VIEW articles_v1 AS SELECT"
	" a.id, a.feed_id, f.name AS feed, a.key, a.guid, a.link,"
	" a.canon_link AS canonical_link, a.title, a.author, a.published,"
	" a.updated, a.summary, a.content, a.text, a.categories,"
	" a.enclosures, a.hash AS content_hash, a.sort_time, a.first_seen,"
	" a.last_changed, a.revision, a.story_id"
	" FROM articles a JOIN feeds f ON f.id = a.feed_id;"
	"DROP VIEW feeds_v1;"
	"CREATE VIEW feeds_v1 AS SELECT"
	" f.id, f.name, f.url, f.url_in_use, f.title, f.site_link,"
	" f.etag, f.last_modified, f.last_attempt, f.last_success,"
	" f.next_due, f.failures, f.last_error, f.last_status, f.gone,"
	" f.keep_days, f.keep_count,"
	" (SELECT count(*) FROM articles a WHERE a.feed_id = f.id) AS articles,"
	" f.active"
	" FROM feeds f;";

/*
 * Version 3: what the operator sees and searches.
 * feeds: the configured tags (normalized "a,b"), enabled = 0 for a feed
 * the config has with enabled=no, malformed/last_warning for a last
 * document that did not parse or parsed with recovered errors, and the
 * configured title=/site=. feeds_v1 gains tags, a status word (store/
 * SCHEMA.md has the precedence), last_warning, enabled, conf_title and
 * conf_site; articles_v1 the feed's tags. The full-text index is rebuilt
 * over title, summary and text.
 */
static const char migrate_v3[] =
	"ALTER TABLE feeds ADD COLUMN tags TEXT;"
	"ALTER TABLE feeds ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE feeds ADD COLUMN malformed INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE feeds ADD COLUMN last_warning TEXT;"
	"ALTER TABLE feeds ADD COLUMN conf_title TEXT;"
	"ALTER TABLE feeds ADD COLUMN conf_site TEXT;"
	"DROP TRIGGER articles_fts_ai;"
	"DROP TRIGGER articles_fts_ad;"
	"DROP TRIGGER articles_fts_au;"
	"DROP TABLE articles_fts;"
	"CREATE VIRTUAL TABLE articles_fts USING fts5(title, summary, text,"
	" content='articles', content_rowid='id',"
	" tokenize='unicode61 remove_diacritics 2');"
	"INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');"
	"CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN"
	" INSERT INTO articles_fts(rowid, title, summary, text)"
	"  VALUES (new.id, new.title, new.summary, new.text);"
	" END;"
	"CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN"
	" INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)"
	"  VALUES ('delete', old.id, old.title, old.summary, old.text);"
	" END;"
	"CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, summary, text"
	" ON articles BEGIN"
	" INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)"
	"  VALUES ('delete', old.id, old.title, old.summary, old.text);"
	" INSERT INTO articles_fts(rowid, title, summary, text)"
	"  VALUES (new.id, new.title, new.summary, new.text);"
	" END;"
	"DROP VIEW feeds_v1;"
	"CREATE VIEW feeds_v1 AS SELECT"
	" f.id, f.name, f.url, f.url_in_use, f.title, f.site_link,"
	" f.etag, f.last_modified, f.last_attempt, f.last_success,"
	" f.next_due, f.failures, f.last_error, f.last_status, f.gone,"
	" f.keep_days, f.keep_count,"
	" (SELECT count(*) FROM articles a WHERE a.feed_id = f.id) AS articles,"
	" f.active, f.tags,"
	" CASE WHEN f.enabled = 0 THEN 'disabled'"
	"  WHEN f.active = 0 THEN 'removed'"
	"  WHEN f.gone THEN 'gone'"
	"  WHEN f.last_attempt IS NULL THEN 'new'"
	"  WHEN f.malformed THEN 'malformed'"
	"  WHEN f.failures > 0 THEN 'failing'"
	"  ELSE 'ok' END AS status,"
	" f.last_warning, f.enabled, f.conf_title, f.conf_site"
	" FROM feeds f;"
	"DROP VIEW articles_v1;"
	"CREATE VIEW articles_v1 AS SELECT"
	" a.id, a.feed_id, f.name AS feed, a.key, a.guid, a.link,"
	" a.canon_link AS canonical_link, a.title, a.author, a.published,"
	" a.updated, a.summary, a.content, a.text, a.categories,"
	" a.enclosures, a.hash AS content_hash, a.sort_time, a.first_seen,"
	" a.last_changed, a.revision, a.story_id, f.tags"
	" FROM articles a JOIN feeds f ON f.id = a.feed_id;";

/*
 * Version 4: the summary in the full-text index as plain text.
 * Version 3 indexed articles.summary, which is sanitized HTML: tag and
 * attribute names and link targets became searchable words ("strong",
 * "href", every linked host), and snippets of it showed markup. The
 * index now gets the summary's plain text (articles.summary_text, written
 * by the store with the row; NULL when it reads the same as the
 * article's text, which then already has its words), through the view
 * articles_fts_src where it is called summary, so the FTS columns keep
 * their names. feedd_summary_text() is registered by the store on its
 * writable connection (store.c) for this step's backfill only; nothing
 * else in the schema calls it (another writer's connection lacks it).
 */
static const char migrate_v4[] =
	"DROP TRIGGER articles_fts_ai;"
	"DROP TRIGGER articles_fts_ad;"
	"DROP TRIGGER articles_fts_au;"
	"DROP TABLE articles_fts;"
	"ALTER TABLE articles ADD COLUMN summary_text TEXT;"
	"UPDATE articles SET summary_text = feedd_summary_text(summary, text)"
	" WHERE summary IS NOT NULL;"
	"CREATE VIEW articles_fts_src AS"
	" SELECT id, title, summary_text AS summary, text FROM articles;"
	"CREATE VIRTUAL TABLE articles_fts USING fts5(title, summary, text,"
	" content='articles_fts_src', content_rowid='id',"
	" tokenize='unicode61 remove_diacritics 2');"
	"INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');"
	"CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN"
	" INSERT INTO articles_fts(rowid, title, summary, text)"
	"  VALUES (new.id, new.title, new.summary_text, new.text);"
	" END;"
	"CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN"
	" INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)"
	"  VALUES ('delete', old.id, old.title, old.summary_text, old.text);"
	" END;"
	"CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, summary_text, text"
	" ON articles BEGIN"
	" INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)"
	"  VALUES ('delete', old.id, old.title, old.summary_text, old.text);"
	" INSERT INTO articles_fts(rowid, title, summary, text)"
	"  VALUES (new.id, new.title, new.summary_text, new.text);"
	" END;";

/*
 * Version 5: the rewritten-id check on an index of its own.
 * A new article whose key is unknown is looked for by (feed, canonical
 * link, title) before it is stored as new (a feed that rewrote its ids).
 * With only articles_canon to serve it, that lookup read every stored
 * article of every feed sharing the link: at 10,000 feeds re-posting the
 * same stories, each insert read 10,000 rows. This index makes it one
 * seek whatever the data.
 */
static const char migrate_v5[] =
	"CREATE INDEX articles_feed_link ON articles(feed_id, canon_link, title);";

/*
 * Version 6: state that outlives the daemon for push and rules.
 * hook_state holds each configured hook's cursor over the change log
 * (the last seq delivered and acknowledged), its retry state and its
 * health; a hook's backlog is "changes after cursor", read from the
 * store, never queued in memory. rule_counts holds how many articles
 * each keep/block rule has decided, so feedctl can show a rule that
 * never matches. Rows are keyed by the config's names.
 */
static const char migrate_v6[] =
	"CREATE TABLE hook_state ("
	" name TEXT PRIMARY KEY,"
	" cursor INTEGER NOT NULL,"
	" last_attempt INTEGER,"
	" last_success INTEGER,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" next_attempt INTEGER,"
	" disabled TEXT"
	");"
	"CREATE TABLE rule_counts ("
	" name TEXT PRIMARY KEY,"
	" matches INTEGER NOT NULL DEFAULT 0,"
	" last_match INTEGER,"
	" action TEXT"
	");"
	/* Keys of entries a block rule kept out (store_article.block_new):
	 * such an entry is never stored, so without its key it would be
	 * "new" (and counted) again on every poll of a changed document.
	 * Kept for the life of the feed, as purged keys are. */
	"CREATE TABLE blocked_keys ("
	" feed_id INTEGER NOT NULL,"
	" key TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" PRIMARY KEY(feed_id, key)"
	") WITHOUT ROWID;"
	"CREATE VIEW rule_counts_v1 AS"
	" SELECT name, action, matches, last_match FROM rule_counts;";

const char *const store__migrations[] = {
	schema_v1,
	migrate_v2,
	migrate_v3,
	migrate_v4,
	migrate_v5,
	migrate_v6,
};
const int store__nmigrations =
	(int)(sizeof(store__migrations) / sizeof(store__migrations[0]));

/*
 * PostgreSQL: version 6 in one step, in the schema "feedd" (a database
 * has no history to replay; later versions add numbered steps beside
 * SQLite's). The columns are SQLite's, with the same meaning: times are
 * Unix seconds (bigint), flags are integers 0/1, so every reader query in
 * store/SCHEMA.md reads the same on both. Full-text search is a generated
 * tsvector (title weighted A, summary text B, text C) with a GIN index;
 * its text search configuration is the one feedd.settings records, which
 * is the session's feedd.text_search (text-search= in the connection
 * string, db_pg.c) or simple; the search query reads it from there.
 * feedd.instr() is SQLite's instr(), which the store's reader queries use.
 */
const char store__pg_schema[] =
	"CREATE SCHEMA IF NOT EXISTS feedd;"
	"CREATE TABLE feedd.schema_version (version integer NOT NULL);"
	"CREATE FUNCTION feedd.instr(s text, sub text) RETURNS integer"
	" LANGUAGE sql IMMUTABLE PARALLEL SAFE"
	" AS 'SELECT strpos(s, sub)';"
	"CREATE TABLE feedd.feeds ("
	" id bigserial PRIMARY KEY,"
	" name text NOT NULL UNIQUE,"
	" url text NOT NULL,"
	" url_in_use text,"
	" title text,"
	" site_link text,"
	" etag text,"
	" last_modified text,"
	" body_hash text,"
	" keep_days integer NOT NULL DEFAULT 0,"
	" keep_count integer NOT NULL DEFAULT 0,"
	" last_attempt bigint,"
	" last_success bigint,"
	" next_due bigint,"
	" failures integer NOT NULL DEFAULT 0,"
	" last_error text,"
	" last_status integer,"
	" gone integer NOT NULL DEFAULT 0,"
	" created bigint NOT NULL,"
	" active integer NOT NULL DEFAULT 1,"
	" tags text,"
	" enabled integer NOT NULL DEFAULT 1,"
	" malformed integer NOT NULL DEFAULT 0,"
	" last_warning text,"
	" conf_title text,"
	" conf_site text"
	");"
	"CREATE TABLE feedd.articles ("
	" id bigserial PRIMARY KEY,"
	" feed_id bigint NOT NULL REFERENCES feedd.feeds(id),"
	" key text NOT NULL,"
	" guid text,"
	" link text,"
	" canon_link text,"
	" title text,"
	" author text,"
	" published text,"
	" updated text,"
	" summary text,"
	" content text,"
	" text text,"
	" categories text,"
	" enclosures text,"
	" hash text NOT NULL,"
	" sort_time bigint NOT NULL,"
	" first_seen bigint NOT NULL,"
	" last_changed bigint NOT NULL,"
	" revision integer NOT NULL DEFAULT 1,"
	" story_id bigint,"
	" summary_text text,"
	" UNIQUE(feed_id, key)"
	");"
	"CREATE TABLE feedd.settings ("
	" one integer PRIMARY KEY DEFAULT 1 CHECK (one = 1),"
	" text_search text NOT NULL);"
	"INSERT INTO feedd.settings(text_search) VALUES (coalesce(nullif("
	" current_setting('feedd.text_search', true), ''), 'simple'));"
	"DO $$ DECLARE c text := (SELECT text_search FROM feedd.settings);"
	" BEGIN EXECUTE format('ALTER TABLE feedd.articles ADD COLUMN fts"
	" tsvector GENERATED ALWAYS AS ("
	"  setweight(to_tsvector(%1$L, coalesce(title, %2$L)), %3$L) ||"
	"  setweight(to_tsvector(%1$L, coalesce(summary_text, %2$L)), %4$L) ||"
	"  setweight(to_tsvector(%1$L, coalesce(text, %2$L)), %5$L)) STORED',"
	" c, '', 'A', 'B', 'C'); END $$;"
	"CREATE INDEX articles_feed_sort ON feedd.articles(feed_id, sort_time);"
	"CREATE INDEX articles_sort ON feedd.articles(sort_time);"
	"CREATE INDEX articles_canon ON feedd.articles(canon_link);"
	"CREATE INDEX articles_story ON feedd.articles(story_id);"
	"CREATE INDEX articles_feed_link ON feedd.articles(feed_id, canon_link,"
	" title);"
	"CREATE INDEX articles_fts ON feedd.articles USING gin (fts);"
	"CREATE TABLE feedd.purged ("
	" feed_id bigint NOT NULL,"
	" key text NOT NULL,"
	" canon_link text,"
	" title text,"
	" at bigint NOT NULL,"
	" PRIMARY KEY(feed_id, key)"
	");"
	"CREATE INDEX purged_canon ON feedd.purged(feed_id, canon_link);"
	"CREATE TABLE feedd.changes ("
	" seq bigserial PRIMARY KEY,"
	" article_id bigint NOT NULL,"
	" feed_id bigint NOT NULL,"
	" kind text NOT NULL CHECK (kind IN ('new', 'update', 'purge')),"
	" at bigint NOT NULL"
	");"
	"CREATE INDEX changes_at ON feedd.changes(at);"
	"CREATE TABLE feedd.hook_state ("
	" name text PRIMARY KEY,"
	" cursor bigint NOT NULL,"
	" last_attempt bigint,"
	" last_success bigint,"
	" failures integer NOT NULL DEFAULT 0,"
	" last_error text,"
	" next_attempt bigint,"
	" disabled text"
	");"
	"CREATE TABLE feedd.rule_counts ("
	" name text PRIMARY KEY,"
	" matches bigint NOT NULL DEFAULT 0,"
	" last_match bigint,"
	" action text"
	");"
	"CREATE TABLE feedd.blocked_keys ("
	" feed_id bigint NOT NULL,"
	" key text NOT NULL,"
	" at bigint NOT NULL,"
	" PRIMARY KEY(feed_id, key)"
	");"
	"CREATE VIEW feedd.changes_v1 AS SELECT c.seq, c.article_id, c.feed_id,"
	" f.name AS feed, c.kind, c.at"
	" FROM feedd.changes c LEFT JOIN feedd.feeds f ON f.id = c.feed_id;"
	"CREATE VIEW feedd.feeds_v1 AS SELECT f.id, f.name, f.url, f.url_in_use,"
	" f.title, f.site_link, f.etag, f.last_modified, f.last_attempt,"
	" f.last_success, f.next_due, f.failures, f.last_error, f.last_status,"
	" f.gone, f.keep_days, f.keep_count,"
	" (SELECT count(*) FROM feedd.articles a WHERE a.feed_id = f.id)"
	" AS articles, f.active, f.tags,"
	" CASE WHEN f.enabled = 0 THEN 'disabled'"
	" WHEN f.active = 0 THEN 'removed'"
	" WHEN f.gone <> 0 THEN 'gone'"
	" WHEN f.last_attempt IS NULL THEN 'new'"
	" WHEN f.malformed <> 0 THEN 'malformed'"
	" WHEN f.failures > 0 THEN 'failing'"
	" ELSE 'ok' END AS status,"
	" f.last_warning, f.enabled, f.conf_title, f.conf_site"
	" FROM feedd.feeds f;"
	"CREATE VIEW feedd.articles_v1 AS SELECT a.id, a.feed_id, f.name AS feed,"
	" a.key, a.guid, a.link, a.canon_link AS canonical_link, a.title,"
	" a.author, a.published, a.updated, a.summary, a.content, a.text,"
	" a.categories, a.enclosures, a.hash AS content_hash, a.sort_time,"
	" a.first_seen, a.last_changed, a.revision, a.story_id, f.tags"
	" FROM feedd.articles a JOIN feedd.feeds f ON f.id = a.feed_id;"
	"CREATE VIEW feedd.rule_counts_v1 AS"
	" SELECT name, action, matches, last_match FROM feedd.rule_counts;";

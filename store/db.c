/*
 * Which driver a database string selects (db.h). Nothing above store/
 * learns the answer: store_open() takes the string as it came from
 * feedd.conf or feedctl --db.
 */
#include "store_int.h"

#include <ctype.h>
#include <string.h>

/* "key=" at the start: a libpq keyword string (host=... dbname=...). */
static bool
is_pg_keywords(const char *s)
{
	const char *p = s;

	while (isspace((unsigned char)*p))
		p++;
	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
		p++;
	while (isspace((unsigned char)*p))
		p++;
	return *p == '=';
}

const struct db_driver *
db_driver_for(const char *s, const char **target)
{
	if (strncmp(s, "sqlite:", 7) == 0) {
		*target = s + 7;
		return &db_sqlite_driver;
	}
	if (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0 || is_pg_keywords(s)) {
		*target = s;
		return &db_pg_driver;
	}
	*target = s;
	return &db_sqlite_driver;
}

const char *
store_db_file(const char *s)
{
	const char *target;

	if (!s)
		return NULL;
	return db_driver_for(s, &target) == &db_sqlite_driver ? target : NULL;
}

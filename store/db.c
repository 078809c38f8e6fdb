/*
 * Which driver a database string selects (db.h). Nothing above store/
 * learns the answer: store_open() takes the string as it came from
 * feedd.conf or feedctl --db.
 */
#include "store_int.h"

#include <string.h>

const struct db_driver *
db_driver_for(const char *s, const char **target)
{
	if (strncmp(s, "sqlite:", 7) == 0) {
		*target = s + 7;
		return &db_sqlite_driver;
	}
	*target = s;
	return &db_sqlite_driver;
}

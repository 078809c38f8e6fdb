/*
 * log: the only place that writes log lines. Under journald (JOURNAL_STREAM
 * set and matching stderr) lines are "<N>[grp] msg"; on a terminal or file
 * "YYYY-mm-ddTHH:MM:SSZ LEVEL [grp] msg". Levels are syslog priorities.
 * The macros test the level before evaluating their arguments.
 */
#ifndef FEEDD_DAEMON_LOG_H
#define FEEDD_DAEMON_LOG_H

#include <stdarg.h>

enum { LOG_L_ERR = 3, LOG_L_WARNING = 4, LOG_L_NOTICE = 5, LOG_L_INFO = 6, LOG_L_DEBUG = 7 };

extern int log_level; /* threshold, default LOG_L_NOTICE */

void log_init(void);  /* detect journald vs terminal; reads JOURNAL_STREAM */
void log_msg(int level, const char *grp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(grp, ...) do { if (log_level >= LOG_L_ERR) log_msg(LOG_L_ERR, grp, __VA_ARGS__); } while (0)
#define log_warn(grp, ...) do { if (log_level >= LOG_L_WARNING) log_msg(LOG_L_WARNING, grp, __VA_ARGS__); } while (0)
#define log_notice(grp, ...) do { if (log_level >= LOG_L_NOTICE) log_msg(LOG_L_NOTICE, grp, __VA_ARGS__); } while (0)
#define log_info(grp, ...) do { if (log_level >= LOG_L_INFO) log_msg(LOG_L_INFO, grp, __VA_ARGS__); } while (0)
#define log_debug(grp, ...) do { if (log_level >= LOG_L_DEBUG) log_msg(LOG_L_DEBUG, grp, __VA_ARGS__); } while (0)

/* Parse "err", "warning", "notice", "info", "debug" (or 3-7). -1 if unknown. */
int log_level_parse(const char *s);

/* The name log_level_parse() accepts for a level 3-7 ("notice"). */
const char *log_level_name(int level);

/* Called before each line is written (NULL: none): a progress line on the
 * terminal clears itself so log lines never run into it. */
void log_set_tty_hook(void (*fn)(void *ud), void *ud);

/* Copy url into buf with any userinfo ("user:pass@") removed. */
const char *log_url(const char *url, char *buf, unsigned long len);

#endif

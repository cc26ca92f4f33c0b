/*! \file logging.h
 *  Category logging for the daemons (style.md practice 5): every line carries its category, its level and, through
 *  the LOG_EIS / LOG_TXN wrappers, the EID or transaction it concerns. Output goes to stderr (one line per event,
 *  no colour) or syslog. `fatal` exists only for startup.
 *
 *  Contract: never pass key material or deciphered payloads to these functions; log lengths, status words and
 *  public identifiers instead.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum smsr_log_cat {
	DMAIN,		/*!< start, stop, configuration */
	DDB,		/*!< EIS store, journal, counters */
	DOTA,		/*!< SCP80/SCP81 packets, PoRs */
	DPROTO,		/*!< ES5 procedures and their state machines */
	DSOAP,		/*!< ES1/ES3/ES4 SOAP, callbacks */
	DKANNEL,	/*!< sendsms, MO and DLR callbacks */
	DZMQ,		/*!< ES3 over ZeroMQ */
	_SMSR_LOG_CAT_NUM
};

enum smsr_log_level {
	LOGL_DEBUG,
	LOGL_INFO,
	LOGL_NOTICE,
	LOGL_ERROR,
	LOGL_FATAL,
};

/*! Category and level names ("DOTA", "info"), and their parsers (0 or -EINVAL; case-insensitive). */
const char *smsr_log_cat_name(enum smsr_log_cat c);
const char *smsr_log_cat_desc(enum smsr_log_cat c);
int smsr_log_cat_parse(const char *s, enum smsr_log_cat *out);
const char *smsr_log_level_name(enum smsr_log_level l);
int smsr_log_level_parse(const char *s, enum smsr_log_level *out);

/*! Where lines go. ident is the program name (syslog ident, stderr prefix). */
void smsr_log_init(const char *ident, bool use_syslog, bool timestamps);
/*! Minimum level of one category, or of all with cat < 0. */
void smsr_log_set_level(int cat, enum smsr_log_level level);
bool smsr_log_enabled(enum smsr_log_cat cat, enum smsr_log_level level);
/*! Redirect stderr output into a caller buffer (tests): each line appended, NUL-terminated, truncated at cap. */
void smsr_log_capture(char *buf, size_t cap);

void smsr_log(enum smsr_log_cat cat, enum smsr_log_level level, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void smsr_logv(enum smsr_log_cat cat, enum smsr_log_level level, const char *subject, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/*! "EID 89049032123451234512345678901235" from 16 bytes, in a per-thread rotating buffer (4 slots). */
const char *smsr_log_eid(const uint8_t eid[16]);

#define LOGP(cat, level, fmt, ...) \
	do { if (smsr_log_enabled(cat, level)) smsr_log(cat, level, NULL, fmt, ##__VA_ARGS__); } while (0)
/*! A line about one eUICC. */
#define LOG_EIS(eid, cat, level, fmt, ...) \
	do { if (smsr_log_enabled(cat, level)) smsr_log(cat, level, smsr_log_eid(eid), fmt, ##__VA_ARGS__); } while (0)
/*! A line about one transaction (operation id / FunctionCallIdentifier). */
#define LOG_TXN(txn, cat, level, fmt, ...) \
	do { if (smsr_log_enabled(cat, level)) smsr_log(cat, level, txn, fmt, ##__VA_ARGS__); } while (0)

/*! Write a one-line reason into err (when err is not NULL and err_len > 0) and return rc: the "fail with a
 *  reason" step of functions that report why to their caller's log line. */
int smsr_errf(char *err, size_t err_len, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

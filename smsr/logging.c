/* Category logging (see logging.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include "smsr/logging.h"
#include "proto/hex.h"

static const struct {
	const char *name;
	const char *desc;
} cats[_SMSR_LOG_CAT_NUM] = {
	[DMAIN] = { "DMAIN", "start, stop, configuration" },
	[DDB] = { "DDB", "EIS store, operation journal, OTA counters" },
	[DOTA] = { "DOTA", "SCP80/SCP81 secured packets and PoRs" },
	[DPROTO] = { "DPROTO", "ES5 procedures and their state machines" },
	[DSOAP] = { "DSOAP", "ES1/ES3/ES4 SOAP requests, responses and callbacks" },
	[DKANNEL] = { "DKANNEL", "Kannel sendsms, MO and DLR callbacks" },
	[DZMQ] = { "DZMQ", "ES3 over ZeroMQ" },
};

static const char *const levels[] = {
	[LOGL_DEBUG] = "debug", [LOGL_INFO] = "info", [LOGL_NOTICE] = "notice", [LOGL_ERROR] = "error",
	[LOGL_FATAL] = "fatal",
};

static enum smsr_log_level min_level[_SMSR_LOG_CAT_NUM] = {
	LOGL_INFO, LOGL_INFO, LOGL_INFO, LOGL_INFO, LOGL_INFO, LOGL_INFO, LOGL_INFO,
};
static const char *log_ident = "m2m-sm";
static bool log_syslog, log_ts = true;
static char *cap_buf;
static size_t cap_len, cap_cap;

const char *smsr_log_cat_name(enum smsr_log_cat c)
{
	return (unsigned)c < _SMSR_LOG_CAT_NUM ? cats[c].name : "D?";
}

const char *smsr_log_cat_desc(enum smsr_log_cat c)
{
	return (unsigned)c < _SMSR_LOG_CAT_NUM ? cats[c].desc : "";
}

int smsr_log_cat_parse(const char *s, enum smsr_log_cat *out)
{
	unsigned i;

	for (i = 0; i < _SMSR_LOG_CAT_NUM; i++) {
		if (!strcasecmp(s, cats[i].name) || !strcasecmp(s, cats[i].name + 1)) {
			*out = (enum smsr_log_cat)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *smsr_log_level_name(enum smsr_log_level l)
{
	return (unsigned)l <= LOGL_FATAL ? levels[l] : "?";
}

int smsr_log_level_parse(const char *s, enum smsr_log_level *out)
{
	unsigned i;

	for (i = 0; i <= LOGL_FATAL; i++) {
		if (!strcasecmp(s, levels[i])) {
			*out = (enum smsr_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void smsr_log_init(const char *ident, bool use_syslog, bool timestamps)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_ts = timestamps;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void smsr_log_set_level(int cat, enum smsr_log_level level)
{
	int i;

	for (i = 0; i < _SMSR_LOG_CAT_NUM; i++)
		if (cat < 0 || cat == i)
			min_level[i] = level;
}

bool smsr_log_enabled(enum smsr_log_cat cat, enum smsr_log_level level)
{
	return (unsigned)cat < _SMSR_LOG_CAT_NUM && level >= min_level[cat];
}

void smsr_log_capture(char *buf, size_t cap)
{
	cap_buf = buf;
	cap_cap = cap;
	cap_len = 0;
	if (buf && cap)
		buf[0] = '\0';
}

void smsr_logv(enum smsr_log_cat cat, enum smsr_log_level level, const char *subject, const char *fmt, va_list ap)
{
	char msg[1024], line[1200], ts[40] = "";
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog && !cap_buf) {
		static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_ERR, LOG_CRIT };
		syslog(prio[level <= LOGL_FATAL ? level : LOGL_ERROR], "%s %s%s%s", smsr_log_cat_name(cat),
		       subject ? subject : "", subject ? ": " : "", msg);
		return;
	}
	if (log_ts && !cap_buf) {
		struct timespec t;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &t);
		gmtime_r(&t.tv_sec, &tm);
		n = (int)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + n, sizeof(ts) - (size_t)n, ".%03ldZ ", t.tv_nsec / 1000000);
	}
	n = snprintf(line, sizeof(line), "%s%s %s <%s> %s%s%s\n", ts, log_ident, smsr_log_cat_name(cat),
		     smsr_log_level_name(level), subject ? subject : "", subject ? ": " : "", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (cap_buf) {
		if (cap_len + (size_t)n < cap_cap) {
			memcpy(cap_buf + cap_len, line, (size_t)n + 1);
			cap_len += (size_t)n;
		}
		return;
	}
	fwrite(line, 1, (size_t)n, stderr);
}

void smsr_log(enum smsr_log_cat cat, enum smsr_log_level level, const char *subject, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smsr_logv(cat, level, subject, fmt, ap);
	va_end(ap);
}

const char *smsr_log_eid(const uint8_t eid[16])
{
	static __thread char buf[4][4 + 33];
	static __thread unsigned slot;
	char *b = buf[slot++ % 4];

	memcpy(b, "EID ", 4);
	proto_hex_encode(eid, 16, b + 4);
	return b;
}

int smsr_errf(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/*! \file smsrd.h
 *  The SM-SR daemon's state: one struct holding the event loop and every component, passed explicitly (no
 *  globals, style.md anti-pattern 4). smsr_main.c only parses the command line and calls these.
 */
#pragma once
#include <stdbool.h>
#include "smsr/config.h"

struct event_base;
struct smsr_db;
struct smsr_https;
struct smsr_kannel;
struct smsr_ota;
struct smsr_es4;
struct smsr_proc;
struct smsr_es3_zmq;
struct ota_key;
struct ota_wrap_master;

struct smsrd {
	struct smsr_config cfg;
	struct event_base *base;
	struct smsr_db *db;
	struct ota_wrap_master *master;
	struct smsr_https *es4;		/*!< ES1/ES4 SOAP endpoint (mutual TLS) */
	struct smsr_https *mo;		/*!< Kannel MO/DLR listener (plain HTTP on loopback) */
	struct smsr_kannel *kannel;
	struct smsr_ota *ota;
	struct smsr_es4 *es4srv;	/*!< ES1/ES4 dispatcher */
	struct smsr_proc *proc;		/*!< asynchronous ES4 procedures */
	struct smsr_es3_zmq *es3z;	/*!< ES3 over ZeroMQ (NULL when not configured) */
	struct ota_key *transport_key;
	struct event *sigterm, *sigint;
};

/*! Open the store, load the master key, bind the listeners and start the ES5 layer. On failure everything opened
 *  so far is closed again (the daemon is a talloc child of ctx). */
int smsrd_start(void *ctx, const struct smsr_config *cfg, struct smsrd **out);

/*! Run until SIGTERM/SIGINT; returns 0 after a clean shutdown. */
int smsrd_run(struct smsrd *d);

/*! `smsrd --db-check`: open the store read-write (running the schema upgrades), verify it, print a report. */
int smsrd_db_check(const struct smsr_config *cfg, FILE *out);

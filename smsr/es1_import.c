/* Bulk EIS onboarding from an EUM file (see es1_import.h): streaming libxml2 reader, batch verification on
 * threads, one LMDB transaction per batch. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <libxml/xmlreader.h>
#include "smsr/es1_import.h"
#include "smsr/db.h"
#include "smsr/eis_xml.h"
#include "smsr/logging.h"
#include "proto/hex.h"

#define IMPORT_BATCH_DEFAULT 512
#define IMPORT_JOBS_MAX 64

struct s_item {
	uint64_t no;	      /* 1-based position in the file */
	struct smsr_eis *eis; /* NULL: refused at decode */
	struct smsr_es_result res;
	char why[256];
	int rc; /* 0 accepted so far */
};

struct s_imp;

struct s_job {
	struct s_imp *imp;
	struct s_batch *b;
	unsigned first, step;
};

/* A batch of EIS: decoded by the reading thread, verified by `jobs` threads while the next batch is decoded,
 * then stored by the reading thread. */
struct s_batch {
	struct s_item *items;
	unsigned n;
	void *ctx;			/* owns the batch's EIS */
	pthread_t th[IMPORT_JOBS_MAX];
	struct s_job job[IMPORT_JOBS_MAX];
	bool started[IMPORT_JOBS_MAX];
	bool verifying;
};

struct s_imp {
	struct smsr_db *db;
	const struct smsr_es1_sig_ctx *sig;
	const struct smsr_es1_import_opts *o;
	struct smsr_es1_import_stats *st;
	struct s_batch b[2];
	unsigned cur, cap;		/* b[cur] is being decoded */
};

static bool s_is_eis(xmlTextReaderPtr rd)
{
	const xmlChar *ns, *name;

	if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT)
		return false;
	ns = xmlTextReaderConstNamespaceUri(rd);
	name = xmlTextReaderConstLocalName(rd);
	return ns && name && !strcmp((const char *)ns, SMSR_NS_RPS) && !strcmp((const char *)name, "Eis");
}

/* libxml2's messages would go to stderr; the reader's return code and line number say enough */
static void s_quiet(void *arg, const char *msg, xmlParserSeverities sev, xmlTextReaderLocatorPtr loc)
{
	(void)arg;
	(void)msg;
	(void)sev;
	(void)loc;
}

static xmlTextReaderPtr s_open(const char *path, int *rc)
{
	xmlTextReaderPtr rd;
	FILE *f = fopen(path, "r");

	if (!f) {
		*rc = -errno;
		return NULL;
	}
	fclose(f);
	rd = xmlReaderForFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	*rc = rd ? 0 : -ENOMEM;
	if (rd)
		xmlTextReaderSetErrorHandler(rd, s_quiet, NULL);
	return rd;
}

/* first pass: the whole file is well-formed and has no DOCTYPE; counts the Eis elements */
static int s_precheck(const char *path, uint64_t *n_eis, char *err, size_t err_len)
{
	xmlTextReaderPtr rd;
	int ret, rc;

	*n_eis = 0;
	rd = s_open(path, &rc);
	if (!rd)
		return smsr_errf(err, err_len, rc, "%s: %s", path, strerror(-rc));
	while ((ret = xmlTextReaderRead(rd)) == 1) {
		if (xmlTextReaderNodeType(rd) == XML_READER_TYPE_DOCUMENT_TYPE) {
			ret = -2;
			break;
		}
		if (s_is_eis(rd))
			(*n_eis)++;
	}
	if (ret == -2)
		rc = smsr_errf(err, err_len, -EBADMSG, "%s: DOCTYPE not allowed (line %d)", path,
			       xmlTextReaderGetParserLineNumber(rd));
	else if (ret < 0)
		rc = smsr_errf(err, err_len, -EBADMSG, "%s: not well-formed XML (near line %d)", path,
			       xmlTextReaderGetParserLineNumber(rd));
	xmlFreeTextReader(rd);
	return rc;
}

static void s_refuse(struct s_item *it, enum smsr_sc code, const char *subject_id, const char *message)
{
	it->rc = -EBADMSG;
	smsr_es_result_fail(&it->res, code, subject_id, message);
}

static void s_report(struct s_imp *imp, struct s_item *it)
{
	const struct smsr_es_result *r = &it->res;
	char eid[2 * SMSR_EID_LEN + 1] = "-";

	imp->st->refused++;
	if (it->eis)
		proto_hex_encode_upper(it->eis->eid, SMSR_EID_LEN, eid);
	if (it->eis)
		LOG_EIS(it->eis->eid, DDB, LOGL_NOTICE, "import: EIS #%llu refused (%s): %s",
			(unsigned long long)it->no, smsr_sc_name(r->code), it->why);
	else
		LOGP(DDB, LOGL_NOTICE, "import: EIS #%llu refused (%s): %s", (unsigned long long)it->no,
		     smsr_sc_name(r->code), it->why);
	if (!imp->o->report)
		return;
	fprintf(imp->o->report, "refused eis=%llu eid=%s status=FAILED subject=%s reason=%s id=%s msg=\"%s\"\n",
		(unsigned long long)it->no, eid, smsr_sc_subject(r->code), smsr_sc_reason(r->code),
		r->subject_id ? r->subject_id : "-", it->why);
}

static void *s_verify_job(void *arg)
{
	struct s_job *j = arg;
	struct s_imp *imp = j->imp;
	unsigned i;

	for (i = j->first; i < j->b->n; i += j->step) {
		struct s_item *it = &j->b->items[i];

		if (it->rc == 0)
			it->rc = smsr_es1_register_check(imp->sig, it->eis, imp->o->eum_id, imp->o->smsr_id, &it->res,
							 it->why, sizeof(it->why));
	}
	return NULL;
}

/* verification of batch b on o->jobs threads, in the background */
static void s_verify_start(struct s_imp *imp, struct s_batch *b)
{
	unsigned jobs = imp->o->jobs ? imp->o->jobs : 1, k;

	if (jobs > IMPORT_JOBS_MAX)
		jobs = IMPORT_JOBS_MAX;
	for (k = 0; k < IMPORT_JOBS_MAX; k++)
		b->started[k] = false;
	for (k = 0; k < jobs; k++) {
		b->job[k] = (struct s_job){imp, b, k, jobs};
		b->started[k] = pthread_create(&b->th[k], NULL, s_verify_job, &b->job[k]) == 0;
		if (!b->started[k])
			s_verify_job(&b->job[k]);	/* no thread: verify here */
	}
	b->verifying = true;
}

static void s_verify_wait(struct s_batch *b)
{
	unsigned k;

	if (!b->verifying)
		return;
	for (k = 0; k < IMPORT_JOBS_MAX; k++)
		if (b->started[k])
			pthread_join(b->th[k], NULL);
	b->verifying = false;
}

/* an EIS whose EID (or ICCID/MSISDN) is taken: unchanged if the stored EIS has the same EumSignedInfo */
static bool s_unchanged(struct s_imp *imp, const struct smsr_eis *e)
{
	void *tmp = talloc_new(NULL);
	struct smsr_eis *old;
	bool same = tmp && smsr_db_eis_get(imp->db, NULL, tmp, e->eid, &old) == 0 && old->signed_info_xml &&
		    e->signed_info_xml && !strcmp(old->signed_info_xml, e->signed_info_xml);

	talloc_free(tmp);
	return same;
}

/* store the accepted EIS of the batch; records the store refuses are reported, the rest resubmitted */
static int s_store_batch(struct s_imp *imp, struct s_batch *b, char *err, size_t err_len)
{
	const struct smsr_eis **eis = talloc_array(b->ctx, const struct smsr_eis *, b->n);
	unsigned *idx = talloc_array(b->ctx, unsigned, b->n);
	int *rcs = talloc_array(b->ctx, int, b->n);
	unsigned i, m;
	int rc;

	if (!eis || !idx || !rcs)
		return -ENOMEM;
	for (;;) {
		for (i = 0, m = 0; i < b->n; i++)
			if (b->items[i].rc == 0) {
				idx[m] = i;
				eis[m++] = b->items[i].eis;
			}
		if (!m)
			break;
		rc = smsr_db_eis_import(imp->db, (const struct smsr_eis *const *)eis, m, rcs);
		if (rc == 0) {
			imp->st->imported += m;
			break;
		}
		if (rc != -EEXIST && rc != -EINVAL)
			return smsr_errf(err, err_len, rc, "store: %s", strerror(-rc));
		for (i = 0; i < m; i++)
			if (rcs[i] < 0)
				b->items[idx[i]].rc = rcs[i]; /* decided after the others are stored */
	}
	for (i = 0; i < b->n; i++) {
		struct s_item *it = &b->items[i];

		if (it->rc == -EEXIST && s_unchanged(imp, it->eis)) {
			imp->st->unchanged++;
			continue;
		}
		if (it->rc == -EEXIST || it->rc == -EINVAL) {
			smsr_es1_register_store_result(it->rc, &it->res);
			snprintf(it->why, sizeof(it->why), "%s", it->res.message);
		}
		if (it->rc < 0)
			s_report(imp, it);
	}
	return 0;
}

/* the batch being decoded is complete: store the one verified meanwhile, start verifying this one */
static int s_rotate(struct s_imp *imp, char *err, size_t err_len)
{
	struct s_batch *cur = &imp->b[imp->cur], *prev = &imp->b[imp->cur ^ 1];
	int rc = 0;

	s_verify_wait(prev);
	if (prev->n) {
		rc = s_store_batch(imp, prev, err, err_len);
		talloc_free_children(prev->ctx);
		prev->n = 0;
	}
	if (rc == 0 && cur->n) {
		s_verify_start(imp, cur);
		imp->cur ^= 1;
	}
	return rc;
}

static void s_decode(struct s_batch *b, const struct smsr_es1_keys *keys, xmlNode *node, struct s_item *it)
{
	struct smsr_eis_xml_in in = {.key_import = smsr_es1_key_import, .key_data = (void *)keys};
	struct smsr_soap_field_err fe = {0};
	int rc;

	if (!node) {
		snprintf(it->why, sizeof(it->why), "Eis element cannot be expanded");
		s_refuse(it, SMSR_SC_EIS_INVALID, "Eis", "EIS content invalid");
		return;
	}
	rc = smsr_eis_xml_decode(b->ctx, node, &in, &it->eis, &fe);
	if (rc == 0)
		return;
	it->eis = NULL;
	if (fe.internal) {
		snprintf(it->why, sizeof(it->why), "%s", fe.msg[0] ? fe.msg : "internal error");
		s_refuse(it, SMSR_SC_PROVIDER_ERROR, NULL, "EIS could not be processed");
		return;
	}
	snprintf(it->why, sizeof(it->why), "%.100s: %.150s", fe.path[0] ? fe.path : fe.elem, fe.msg);
	s_refuse(it,
		 fe.missing		   ? SMSR_SC_MISSING_ELEMENT
		 : !strcmp(fe.elem, "Eid") ? SMSR_SC_EID_INVALID
					   : SMSR_SC_EIS_INVALID,
		 "Eis", "EIS content invalid");
}

int smsr_es1_import_file(struct smsr_db *db, const struct smsr_es1_sig_ctx *sig, const struct smsr_es1_keys *keys,
			 const char *path, const struct smsr_es1_import_opts *o, struct smsr_es1_import_stats *st,
			 char *err, size_t err_len)
{
	struct s_imp imp = {.db = db, .sig = sig, .o = o, .st = st};
	void *holder = talloc_new(NULL);
	xmlTextReaderPtr rd;
	uint64_t n_eis;
	unsigned i;
	int ret, rc;

	memset(st, 0, sizeof(*st));
	if (err && err_len)
		err[0] = '\0';
	rc = s_precheck(path, &n_eis, err, err_len);
	if (rc < 0 || !holder) {
		talloc_free(holder);
		return rc < 0 ? rc : -ENOMEM;
	}
	imp.cap = o->batch ? o->batch : IMPORT_BATCH_DEFAULT;
	for (i = 0; i < 2; i++) {
		imp.b[i].items = talloc_zero_array(holder, struct s_item, imp.cap);
		imp.b[i].ctx = talloc_new(holder);
		if (!imp.b[i].items || !imp.b[i].ctx)
			rc = -ENOMEM;
	}
	rd = rc ? NULL : s_open(path, &rc);
	if (!rd) {
		talloc_free(holder);
		return smsr_errf(err, err_len, rc ? rc : -ENOMEM, "%s: %s", path, strerror(rc ? -rc : ENOMEM));
	}
	ret = xmlTextReaderRead(rd);
	while (ret == 1) {
		struct s_batch *b = &imp.b[imp.cur];
		struct s_item *it;

		if (!s_is_eis(rd)) {
			ret = xmlTextReaderRead(rd);
			continue;
		}
		it = &b->items[b->n++];
		*it = (struct s_item){.no = ++st->seen, .res = {.status = SMSR_EXEC_SUCCESS}};
		s_decode(b, keys, xmlTextReaderExpand(rd), it);
		if (b->n == imp.cap && (rc = s_rotate(&imp, err, err_len)) < 0)
			break;
		ret = xmlTextReaderNext(rd);
	}
	if (rc == 0 && ret < 0)
		rc = smsr_errf(err, err_len, -EBADMSG, "%s: changed while being read (near line %d)", path,
			       xmlTextReaderGetParserLineNumber(rd));
	/* the last partial batch, then the one still being verified */
	if (rc == 0)
		rc = s_rotate(&imp, err, err_len);
	if (rc == 0)
		rc = s_rotate(&imp, err, err_len);
	s_verify_wait(&imp.b[0]);
	s_verify_wait(&imp.b[1]);
	xmlFreeTextReader(rd);
	talloc_free(holder);
	if (rc == 0 && st->seen != n_eis)
		rc = smsr_errf(err, err_len, -EBADMSG, "%s: changed while being read", path);
	return rc;
}

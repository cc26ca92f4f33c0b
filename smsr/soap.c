/* SOAP 1.2 + WS-Addressing 2005/08 envelope for the SM-SR (sgp02.md §5.1, §5.2): hardened parsing, builders for
 * responses, requests/callbacks/notifications and Faults, and the XML cursor/builder helpers of the ES codecs.
 * The one place where the libxml2 parser is driven and its errors are mapped (style.md practice 4). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <talloc.h>
#include <libxml/c14n.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>
#include "smsr/soap.h"
#include "proto/hex.h"

#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_MAX_ELEMENTS 20000
#define DEFAULT_MAX_DEPTH 32
#define DEFAULT_MAX_TEXT (64 * 1024)

static const char *const s_err_names[] = {
	[SMSR_SOAP_E_TOO_BIG - SMSR_SOAP_E_BASE] = "request too large",
	[SMSR_SOAP_E_LIMIT - SMSR_SOAP_E_BASE] = "XML size limit exceeded",
	[SMSR_SOAP_E_DTD - SMSR_SOAP_E_BASE] = "DOCTYPE/entity declarations not allowed",
	[SMSR_SOAP_E_MALFORMED - SMSR_SOAP_E_BASE] = "malformed XML",
	[SMSR_SOAP_E_VERSION - SMSR_SOAP_E_BASE] = "not a SOAP 1.2 envelope",
	[SMSR_SOAP_E_ENVELOPE - SMSR_SOAP_E_BASE] = "invalid SOAP envelope",
	[SMSR_SOAP_E_MUST_UNDERSTAND - SMSR_SOAP_E_BASE] = "mandatory header not understood",
	[SMSR_SOAP_E_WSA_MISSING - SMSR_SOAP_E_BASE] = "WS-Addressing header missing",
	[SMSR_SOAP_E_WSA_INVALID - SMSR_SOAP_E_BASE] = "invalid WS-Addressing header",
	[SMSR_SOAP_E_ACTION_MISMATCH - SMSR_SOAP_E_BASE] = "wsa:Action does not match the body",
	[SMSR_SOAP_E_ACTION_UNKNOWN - SMSR_SOAP_E_BASE] = "function not supported",
	[SMSR_SOAP_E_NAMESPACE - SMSR_SOAP_E_BASE] = "body element not in the GSMA namespace",
};

const char *smsr_soap_strerror(int rc)
{
	int e = -rc;

	if (rc == 0)
		return "success";
	if (e > SMSR_SOAP_E_BASE && e < SMSR_SOAP_E_MAX)
		return s_err_names[e - SMSR_SOAP_E_BASE];
	if (e > 0 && e < 4000)
		return strerror(e);
	return "unknown error";
}

void smsr_soap_limits_default(struct smsr_soap_limits *l)
{
	l->max_body = DEFAULT_MAX_BODY;
	l->max_elements = DEFAULT_MAX_ELEMENTS;
	l->max_depth = DEFAULT_MAX_DEPTH;
	l->max_text = DEFAULT_MAX_TEXT;
}

static void s_limits(const struct smsr_soap_limits *in, struct smsr_soap_limits *l)
{
	smsr_soap_limits_default(l);
	if (!in)
		return;
	if (in->max_body)
		l->max_body = in->max_body < INT_MAX ? in->max_body : INT_MAX;
	if (in->max_elements)
		l->max_elements = in->max_elements;
	if (in->max_depth)
		l->max_depth = in->max_depth;
	if (in->max_text)
		l->max_text = in->max_text;
}

static void s_err(struct smsr_soap_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_err(struct smsr_soap_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

static void s_err_problem(struct smsr_soap_error *err, const char *ns, const char *local, const char *wsa_detail)
{
	if (!err)
		return;
	snprintf(err->problem_ns, sizeof(err->problem_ns), "%s", ns ? ns : "");
	snprintf(err->problem_local, sizeof(err->problem_local), "%s", local ? local : "");
	err->wsa_detail = wsa_detail;
}

/*
 * Hardened parsing
 */

struct s_pstate {
	struct smsr_soap_limits lim;
	unsigned n_elem, depth;
	int rc;			/* first refusal by our SAX hooks */
	char why[200];
	int xml_code;		/* first libxml2 error (level >= error) */
	int xml_line;
	char xml_msg[160];
};

static void s_refuse(xmlParserCtxtPtr ctxt, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_refuse(xmlParserCtxtPtr ctxt, int rc, const char *fmt, ...)
{
	struct s_pstate *st = ctxt->_private;
	va_list ap;

	if (!st->rc) {
		st->rc = rc;
		va_start(ap, fmt);
		vsnprintf(st->why, sizeof(st->why), fmt, ap);
		va_end(ap);
	}
	xmlStopParser(ctxt);
}

static void s_sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	s_refuse(ctx, -SMSR_SOAP_E_DTD, "DOCTYPE declaration not allowed");
}

static void s_sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pub_id, const xmlChar *sys_id,
			      xmlChar *content)
{
	s_refuse(ctx, -SMSR_SOAP_E_DTD, "entity declaration not allowed");
}

static xmlParserInputPtr s_sax_resolve_entity(void *ctx, const xmlChar *pub_id, const xmlChar *sys_id)
{
	s_refuse(ctx, -SMSR_SOAP_E_DTD, "external entity not allowed");
	return NULL;
}

static void s_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
			const xmlChar **namespaces, int nb_attr, int nb_defaulted, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct s_pstate *st = ctxt->_private;
	int i;

	if (++st->n_elem > st->lim.max_elements) {
		s_refuse(ctxt, -SMSR_SOAP_E_LIMIT, "more than %u elements", st->lim.max_elements);
		return;
	}
	if (++st->depth > st->lim.max_depth) {
		s_refuse(ctxt, -SMSR_SOAP_E_LIMIT, "element <%s> nested deeper than %u", (const char *)localname,
			 st->lim.max_depth);
		return;
	}
	for (i = 0; i < nb_attr; i++) {
		/* attrs: localname, prefix, URI, value start, value end */
		if ((size_t)(attrs[i * 5 + 4] - attrs[i * 5 + 3]) > st->lim.max_text) {
			s_refuse(ctxt, -SMSR_SOAP_E_LIMIT, "attribute %s of <%s> longer than %zu bytes",
				 (const char *)attrs[i * 5], (const char *)localname, st->lim.max_text);
			return;
		}
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_ns, namespaces, nb_attr, nb_defaulted, attrs);
}

static void s_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct s_pstate *st = ctxt->_private;

	if (st->depth)
		st->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void s_sax_serror(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct s_pstate *st = ctxt ? ctxt->_private : NULL;
	size_t n;

	if (!st || !e || e->level < XML_ERR_ERROR || st->xml_code)
		return;
	st->xml_code = e->code ? e->code : -1;
	st->xml_line = e->line;
	snprintf(st->xml_msg, sizeof(st->xml_msg), "%s", e->message ? e->message : "parser error");
	n = strlen(st->xml_msg);
	while (n && (st->xml_msg[n - 1] == '\n' || st->xml_msg[n - 1] == ' '))
		st->xml_msg[--n] = '\0';
}

/* libxml2 error -> our code, once (style.md practice 4) */
static int s_map_xml_error(int code)
{
	switch (code) {
	case XML_ERR_NO_MEMORY:
		return -ENOMEM;
	case XML_ERR_ENTITY_LOOP:
	case XML_ERR_ENTITY_BOUNDARY:
	case XML_ERR_EXT_ENTITY_STANDALONE:
	case XML_WAR_UNDECLARED_ENTITY:
	case XML_ERR_UNDECLARED_ENTITY:
		return -SMSR_SOAP_E_MALFORMED;	/* no DTD is allowed: an entity reference is ill-formed */
	case XML_ERR_INTERNAL_ERROR:	/* "Excessive depth", "Huge input lookup" */
		return -SMSR_SOAP_E_LIMIT;
	default:
		return -SMSR_SOAP_E_MALFORMED;
	}
}

static bool s_is_ws(const xmlChar *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

/* Bound every text node, comment and PI; refuse PIs in SOAP messages (SOAP 1.2 Part 1 §5). Iterative walk. */
static int s_walk_limits(xmlDoc *doc, const struct smsr_soap_limits *lim, bool no_pi, struct smsr_soap_error *err)
{
	xmlNode *n = doc->children;

	while (n) {
		switch (n->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
		case XML_COMMENT_NODE:
			if ((size_t)xmlStrlen(n->content) > lim->max_text) {
				s_err(err, "text in <%s> longer than %zu bytes",
				      n->parent && n->parent->name ? (const char *)n->parent->name : "?",
				      lim->max_text);
				return -SMSR_SOAP_E_LIMIT;
			}
			break;
		case XML_PI_NODE:
			if (no_pi) {
				s_err(err, "processing instruction not allowed in a SOAP message");
				return -SMSR_SOAP_E_ENVELOPE;
			}
			break;
		case XML_ENTITY_REF_NODE:
		case XML_ENTITY_NODE:
		case XML_DTD_NODE:
		case XML_ENTITY_DECL:
			s_err(err, "entity or DTD node in document");
			return -SMSR_SOAP_E_DTD;
		default:
			break;
		}
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n && !n->next)
			n = n->parent && n->parent->type != XML_DOCUMENT_NODE ? n->parent : NULL;
		if (n)
			n = n->next;
	}
	return 0;
}

/* The thread's libxml2 error handlers, silenced for a call: libxml2 reports some problems (c14n, the encoding
 * conversion of a document in an unexpected encoding) there rather than to the parser context, and would print
 * them on stderr, outside our log; the caller reports the failure itself. */
struct s_quiet {
	xmlStructuredErrorFunc s;
	xmlGenericErrorFunc g;
	void *sctx, *gctx;
};

static void s_quiet_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

static void s_quiet_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static void s_quiet_begin(struct s_quiet *q)
{
	q->s = xmlStructuredError;
	q->g = xmlGenericError;
	q->sctx = xmlStructuredErrorContext;
	q->gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(NULL, s_quiet_structured);
	xmlSetGenericErrorFunc(NULL, s_quiet_generic);
}

static void s_quiet_end(const struct s_quiet *q)
{
	xmlSetStructuredErrorFunc(q->sctx, q->s);
	xmlSetGenericErrorFunc(q->gctx, q->g);
}

static int s_parse_doc(const void *buf, size_t len, const struct smsr_soap_limits *lim, bool soap, xmlDoc **out,
		       struct smsr_soap_error *err)
{
	struct s_pstate st = { .lim = *lim };
	struct s_quiet q;
	xmlParserCtxtPtr ctxt;
	xmlDoc *doc;
	int wf, nswf, rc;

	*out = NULL;
	if (!buf || len == 0) {
		s_err(err, "empty request");
		return -SMSR_SOAP_E_MALFORMED;
	}
	if (len > lim->max_body) {
		s_err(err, "request of %zu bytes exceeds the limit of %zu", len, lim->max_body);
		return -SMSR_SOAP_E_TOO_BIG;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		s_err(err, "out of memory");
		return -ENOMEM;
	}
	ctxt->_private = &st;
	ctxt->sax->internalSubset = s_sax_internal_subset;
	ctxt->sax->externalSubset = s_sax_internal_subset;
	ctxt->sax->entityDecl = s_sax_entity_decl;
	ctxt->sax->resolveEntity = s_sax_resolve_entity;
	ctxt->sax->startElementNs = s_sax_start;
	ctxt->sax->endElementNs = s_sax_end;
	ctxt->sax->serror = s_sax_serror;
	ctxt->sax->warning = NULL;
	ctxt->sax->error = NULL;
	ctxt->sax->fatalError = NULL;

	s_quiet_begin(&q);
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
	s_quiet_end(&q);
	wf = ctxt->wellFormed;
	nswf = ctxt->nsWellFormed;
	xmlFreeParserCtxt(ctxt);

	if (st.rc) {
		xmlFreeDoc(doc);
		s_err(err, "%s", st.why);
		return st.rc;
	}
	if (!doc || !wf) {
		xmlFreeDoc(doc);
		rc = st.xml_code ? s_map_xml_error(st.xml_code) : -SMSR_SOAP_E_MALFORMED;
		if (st.xml_code)
			s_err(err, "line %d: %s", st.xml_line, st.xml_msg);
		else
			s_err(err, "not well-formed XML");
		return rc;
	}
	if (!nswf) {
		xmlFreeDoc(doc);
		s_err(err, "not namespace-well-formed: line %d: %s", st.xml_line, st.xml_code ? st.xml_msg : "?");
		return -SMSR_SOAP_E_MALFORMED;
	}
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		s_err(err, "DOCTYPE declaration not allowed");
		return -SMSR_SOAP_E_DTD;
	}
	rc = s_walk_limits(doc, lim, soap, err);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

struct s_doc_holder {
	xmlDoc *doc;
};

static int s_doc_holder_free(struct s_doc_holder *h)
{
	xmlFreeDoc(h->doc);
	h->doc = NULL;
	return 0;
}

int smsr_soap_parse_fragment(void *ctx, const char *xml, size_t len, const struct smsr_soap_limits *lim,
			     void **holder, xmlDoc **doc, struct smsr_soap_error *err)
{
	struct smsr_soap_limits l;
	struct s_doc_holder *h;
	int rc;

	*holder = NULL;
	*doc = NULL;
	s_limits(lim, &l);
	h = talloc_zero(ctx, struct s_doc_holder);
	if (!h)
		return -ENOMEM;
	talloc_set_destructor(h, s_doc_holder_free);
	rc = s_parse_doc(xml, len, &l, false, &h->doc, err);
	if (rc) {
		talloc_free(h);
		return rc;
	}
	*holder = h;
	*doc = h->doc;
	return 0;
}

/*
 * Envelope checks
 */

static bool s_ns_is(const xmlNode *n, const char *ns)
{
	if (!ns)
		return !n->ns || !n->ns->href;
	return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ns);
}

static bool s_is(const xmlNode *n, const char *ns, const char *local)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, local) && s_ns_is(n, ns);
}

static const char *s_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Text content of an element holding only text; NULL if it has element children (or on OOM, *oom set). */
static char *s_node_text(void *ctx, const xmlNode *n, bool trim, bool *oom)
{
	const xmlNode *c;
	char *s = talloc_strdup(ctx, "");

	if (!s) {
		*oom = true;
		return NULL;
	}
	for (c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			talloc_free(s);
			return NULL;
		}
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
			s = talloc_strdup_append(s, (const char *)c->content);
			if (!s) {
				*oom = true;
				return NULL;
			}
		}
	}
	if (trim) {
		const char *t = s_trim(s);
		if (t != s)
			memmove(s, t, strlen(t) + 1);
	}
	return s;
}

/* Value of query parameter `key` of a URI (percent-decoded), or NULL. Returns -ENOMEM on allocation failure. */
static int s_uri_param(void *ctx, const char *uri, const char *key, char **out)
{
	const char *q = strchr(uri, '?'), *p, *end;
	size_t klen = strlen(key);
	char *v, *w;

	*out = NULL;
	if (!q)
		return 0;
	for (p = q + 1; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "&#");
		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			const char *s = p + klen + 1;
			v = w = talloc_strndup(ctx, s, (size_t)(end - s));
			if (!v)
				return -ENOMEM;
			for (s = v; *s; s++) {
				int hi, lo;
				if (*s == '%' && (hi = proto_hex_digit(s[1])) >= 0 &&
				    (lo = proto_hex_digit(s[2])) >= 0) {
					*w++ = (char)(hi << 4 | lo);
					s += 2;
				} else {
					*w++ = *s;
				}
			}
			*w = '\0';
			*out = v;
			return 0;
		}
		if (*end == '#')
			break;
	}
	return 0;
}

static int s_msg_free(struct smsr_soap_msg *m)
{
	xmlFreeDoc(m->doc);
	m->doc = NULL;
	return 0;
}

static bool s_must_understand(const xmlNode *h)
{
	xmlChar *v = xmlGetNsProp(h, BAD_CAST "mustUnderstand", BAD_CAST SMSR_NS_SOAP12);
	xmlChar *role = xmlGetNsProp(h, BAD_CAST "role", BAD_CAST SMSR_NS_SOAP12);
	bool mu = false;

	if (v) {
		const char *t = (const char *)v;
		mu = !strcmp(t, "true") || !strcmp(t, "1");
	}
	/* a header targeted at the "none" role is never processed (SOAP 1.2 Part 1 §2.2) */
	if (role && !strcmp((const char *)role, "http://www.w3.org/2003/05/soap-envelope/role/none"))
		mu = false;
	xmlFree(v);
	xmlFree(role);
	return mu;
}

/* A wsa:* header holding a URI: trimmed, non-empty. */
static int s_wsa_uri(struct smsr_soap_msg *m, const xmlNode *h, char **dst, struct smsr_soap_error *err)
{
	bool oom = false;
	char *v;

	if (*dst) {
		s_err(err, "duplicate wsa:%s header", (const char *)h->name);
		s_err_problem(err, SMSR_NS_WSA, (const char *)h->name, "InvalidCardinality");
		return -SMSR_SOAP_E_WSA_INVALID;
	}
	v = s_node_text(m, h, true, &oom);
	if (oom)
		return -ENOMEM;
	if (!v || !*v) {
		s_err(err, "wsa:%s must hold a non-empty URI", (const char *)h->name);
		s_err_problem(err, SMSR_NS_WSA, (const char *)h->name, "InvalidAddress");
		return -SMSR_SOAP_E_WSA_INVALID;
	}
	*dst = v;
	return 0;
}

/* wsa:From / wsa:ReplyTo: an EndpointReference whose wsa:Address is required. */
static int s_wsa_epr(struct smsr_soap_msg *m, const xmlNode *h, char **dst, struct smsr_soap_error *err)
{
	const xmlNode *c;

	if (*dst) {
		s_err(err, "duplicate wsa:%s header", (const char *)h->name);
		s_err_problem(err, SMSR_NS_WSA, (const char *)h->name, "InvalidCardinality");
		return -SMSR_SOAP_E_WSA_INVALID;
	}
	for (c = h->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			break;
	if (!s_is(c, SMSR_NS_WSA, "Address")) {
		s_err(err, "wsa:%s has no wsa:Address", (const char *)h->name);
		s_err_problem(err, SMSR_NS_WSA, (const char *)h->name, "MissingAddressInEPR");
		return -SMSR_SOAP_E_WSA_INVALID;
	}
	return s_wsa_uri(m, c, dst, err);
}

static int s_headers(struct smsr_soap_msg *m, const xmlNode *hdr, struct smsr_soap_error *err)
{
	const xmlNode *h;
	int rc = 0;

	for (h = hdr->children; h && !rc; h = h->next) {
		if (h->type == XML_TEXT_NODE && !s_is_ws(h->content)) {
			s_err(err, "text content in env:Header");
			return -SMSR_SOAP_E_ENVELOPE;
		}
		if (h->type != XML_ELEMENT_NODE)
			continue;
		if (s_ns_is(h, SMSR_NS_WSA)) {
			const char *n = (const char *)h->name;
			if (!strcmp(n, "Action"))
				rc = s_wsa_uri(m, h, &m->action, err);
			else if (!strcmp(n, "MessageID"))
				rc = s_wsa_uri(m, h, &m->message_id, err);
			else if (!strcmp(n, "RelatesTo"))
				rc = s_wsa_uri(m, h, &m->relates_to, err);
			else if (!strcmp(n, "To"))
				rc = s_wsa_uri(m, h, &m->to, err);
			else if (!strcmp(n, "From"))
				rc = s_wsa_epr(m, h, &m->from_address, err);
			else if (!strcmp(n, "ReplyTo"))
				rc = s_wsa_epr(m, h, &m->reply_to, err);
			else if (!strcmp(n, "FaultTo"))
				continue;	/* faults go back on the HTTP response */
			else if (s_must_understand(h))
				goto not_understood;
			continue;
		}
		if (s_must_understand(h))
			goto not_understood;
	}
	return rc;

not_understood:
	s_err(err, "header {%s}%s with mustUnderstand is not supported", h->ns ? (const char *)h->ns->href : "",
	      (const char *)h->name);
	s_err_problem(err, h->ns ? (const char *)h->ns->href : NULL, (const char *)h->name, NULL);
	return -SMSR_SOAP_E_MUST_UNDERSTAND;
}

static int s_required(const char *v, const char *name, struct smsr_soap_error *err)
{
	if (v)
		return 0;
	s_err(err, "required header wsa:%s missing", name);
	s_err_problem(err, SMSR_NS_WSA, name, NULL);
	return -SMSR_SOAP_E_WSA_MISSING;
}

static int s_envelope(struct smsr_soap_msg *m, struct smsr_soap_error *err)
{
	xmlNode *root = xmlDocGetRootElement(m->doc), *n, *hdr = NULL, *body = NULL;
	int rc;

	if (!s_is(root, SMSR_NS_SOAP12, "Envelope")) {
		if (s_is(root, SMSR_NS_SOAP11, "Envelope"))
			s_err(err, "SOAP 1.1 envelope; only SOAP 1.2 is supported");
		else
			s_err(err, "root element {%s}%s is not a SOAP 1.2 env:Envelope",
			      root && root->ns ? (const char *)root->ns->href : "",
			      root ? (const char *)root->name : "");
		return -SMSR_SOAP_E_VERSION;
	}
	for (n = root->children; n; n = n->next) {
		if (n->type == XML_TEXT_NODE && !s_is_ws(n->content)) {
			s_err(err, "text content in env:Envelope");
			return -SMSR_SOAP_E_ENVELOPE;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!hdr && !body && s_is(n, SMSR_NS_SOAP12, "Header")) {
			hdr = n;
		} else if (!body && s_is(n, SMSR_NS_SOAP12, "Body")) {
			body = n;
		} else {
			s_err(err, "unexpected element <%s> in env:Envelope", (const char *)n->name);
			return -SMSR_SOAP_E_ENVELOPE;
		}
	}
	if (!body) {
		s_err(err, "env:Body missing");
		return -SMSR_SOAP_E_ENVELOPE;
	}
	if (hdr) {
		rc = s_headers(m, hdr, err);
		if (rc)
			return rc;
	}
	for (n = body->children; n; n = n->next) {
		if (n->type == XML_TEXT_NODE && !s_is_ws(n->content)) {
			s_err(err, "text content in env:Body");
			return -SMSR_SOAP_E_ENVELOPE;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (m->body) {
			s_err(err, "env:Body holds more than one element");
			return -SMSR_SOAP_E_ENVELOPE;
		}
		m->body = n;
	}
	if (!m->body) {
		s_err(err, "env:Body is empty");
		return -SMSR_SOAP_E_ENVELOPE;
	}
	m->body_name = (const char *)m->body->name;
	m->body_ns = m->body->ns ? (const char *)m->body->ns->href : NULL;

	if ((rc = s_required(m->action, "Action", err)) || (rc = s_required(m->message_id, "MessageID", err)) ||
	    (rc = s_required(m->from_address, "From", err)))
		return rc;

	if (s_uri_param(m, m->from_address, "EntityId", &m->from_entity_id) ||
	    s_uri_param(m, m->from_address, "EntityName", &m->from_entity_name) ||
	    (m->to && s_uri_param(m, m->to, "EntityId", &m->to_entity_id)) ||
	    s_uri_param(m, m->message_id, "TransactionId", &m->transaction_id) ||
	    s_uri_param(m, m->message_id, "MessageDate", &m->message_date))
		return -ENOMEM;
	if (m->from_entity_id && !smsr_soap_is_oid(m->from_entity_id)) {
		s_err(err, "EntityId of wsa:From is not an OID");
		s_err_problem(err, SMSR_NS_WSA, "From", "InvalidAddress");
		return -SMSR_SOAP_E_WSA_INVALID;
	}
	return 0;
}

int smsr_soap_parse(void *ctx, const void *buf, size_t len, const struct smsr_soap_limits *lim,
		    struct smsr_soap_msg **out, struct smsr_soap_error *err)
{
	struct smsr_soap_limits l;
	struct smsr_soap_msg *m;
	int rc;

	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	s_limits(lim, &l);
	m = talloc_zero(ctx, struct smsr_soap_msg);
	if (!m) {
		s_err(err, "out of memory");
		return -ENOMEM;
	}
	talloc_set_destructor(m, s_msg_free);
	rc = s_parse_doc(buf, len, &l, true, &m->doc, err);
	if (!rc)
		rc = s_envelope(m, err);
	if (rc) {
		if (rc == -ENOMEM)
			s_err(err, "out of memory");
		talloc_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/*
 * Builders
 */

char *smsr_soap_datetime(time_t t, char *out, size_t cap)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		if (cap)
			out[0] = '\0';
	}
	return out;
}

static int s_uuid4(char out[37])
{
	uint8_t r[16];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		got += (size_t)n;
	}
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	return 0;
}

/* Percent-encode a query parameter value: keep RFC 3986 unreserved characters and ':' '/' '@' (legal in a
 * query), escape the rest ('&', '=', '#', '+', space, ...). */
static char *s_pct(void *ctx, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = talloc_array(ctx, char, 3 * strlen(s) + 1), *w = o;

	if (!o)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~:/@", c)) {
			*w++ = (char)c;
		} else {
			*w++ = '%';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 15];
		}
	}
	*w = '\0';
	return o;
}

struct s_env {
	void *tmp;		/* talloc scratch for strings */
	xmlDoc *doc;
	xmlNode *env, *hdr, *body;
	xmlNs *ns_env, *ns_wsa;
	char *message_id;
	bool oom;
};

static void s_env_free(struct s_env *e)
{
	xmlFreeDoc(e->doc);
	e->doc = NULL;
	talloc_free(e->tmp);
	e->tmp = NULL;
}

static xmlNode *s_env_hdr(struct s_env *e, const char *name, const char *text, bool must_understand)
{
	xmlNode *h;

	if (e->oom)
		return NULL;
	h = xmlNewTextChild(e->hdr, e->ns_wsa, BAD_CAST name, BAD_CAST text);
	if (!h || (must_understand && !xmlNewNsProp(h, e->ns_env, BAD_CAST "mustUnderstand", BAD_CAST "true")))
		e->oom = true;
	return h;
}

static void s_env_epr(struct s_env *e, const char *name, const char *address)
{
	xmlNode *h;

	if (e->oom)
		return;
	h = xmlNewChild(e->hdr, e->ns_wsa, BAD_CAST name, NULL);
	if (!h || !xmlNewTextChild(h, e->ns_wsa, BAD_CAST "Address", BAD_CAST address))
		e->oom = true;
}

static char *s_self_address(void *ctx, const struct smsr_soap_entity *self)
{
	const char *sep = strchr(self->address, '?') ? "&" : "?";
	char *a = talloc_asprintf(ctx, "%s%sEntityId=%s", self->address, sep, self->entity_id);

	if (a && self->entity_name) {
		char *n = s_pct(ctx, self->entity_name);
		a = n ? talloc_asprintf_append(a, "&EntityName=%s", n) : NULL;
	}
	return a;
}

/* Envelope with From, To, MessageID, Action and (optionally) RelatesTo headers, and an empty Body. */
static int s_env_new(struct s_env *e, const struct smsr_soap_entity *self, const char *to, const char *action,
		     const char *relates_to, const char *transaction_id)
{
	char uuid[37], date[32], *from, *tid = NULL;
	int rc;

	memset(e, 0, sizeof(*e));
	if (!self || !self->address || !self->entity_id || !action || !to)
		return -EINVAL;
	rc = s_uuid4(uuid);
	if (rc)
		return rc;
	e->tmp = talloc_new(NULL);
	if (!e->tmp)
		return -ENOMEM;
	smsr_soap_datetime(time(NULL), date, sizeof(date));
	if (transaction_id && !(tid = s_pct(e->tmp, transaction_id)))
		goto oom;
	e->message_id = talloc_asprintf(e->tmp, "//%s/urn:uuid:%s?%s%s%sMessageDate=%s", self->entity_id, uuid,
					tid ? "TransactionId=" : "", tid ? tid : "", tid ? "&" : "", date);
	from = s_self_address(e->tmp, self);
	if (!e->message_id || !from)
		goto oom;

	e->doc = xmlNewDoc(BAD_CAST "1.0");
	if (!e->doc)
		goto oom;
	e->env = xmlNewDocNode(e->doc, NULL, BAD_CAST "Envelope", NULL);
	if (!e->env)
		goto oom;
	xmlDocSetRootElement(e->doc, e->env);
	e->ns_env = xmlNewNs(e->env, BAD_CAST SMSR_NS_SOAP12, BAD_CAST "env");
	e->ns_wsa = xmlNewNs(e->env, BAD_CAST SMSR_NS_WSA, BAD_CAST "wsa");
	if (!e->ns_env || !e->ns_wsa)
		goto oom;
	xmlSetNs(e->env, e->ns_env);
	e->hdr = xmlNewChild(e->env, e->ns_env, BAD_CAST "Header", NULL);
	e->body = e->hdr ? xmlNewChild(e->env, e->ns_env, BAD_CAST "Body", NULL) : NULL;
	if (!e->body)
		goto oom;
	s_env_hdr(e, "MessageID", e->message_id, false);
	if (relates_to)
		s_env_hdr(e, "RelatesTo", relates_to, false);
	s_env_epr(e, "From", from);
	s_env_hdr(e, "To", to, true);
	s_env_hdr(e, "Action", action, true);
	if (e->oom)
		goto oom;
	return 0;
oom:
	s_env_free(e);
	return -ENOMEM;
}

static int s_env_add_body(struct s_env *e, xmlNode *body)
{
	xmlNode *copy;

	if (!body || body->type != XML_ELEMENT_NODE)
		return -EINVAL;
	if (body->doc && xmlDocGetRootElement(body->doc) == body) {
		/* the root of a document built for this message: move it (with its namespace declarations) instead
		 * of copying every node and string */
		xmlDoc *from = body->doc;

		xmlUnlinkNode(body);
		if (xmlDOMWrapAdoptNode(NULL, from, body, e->doc, e->body, 0) != 0) {
			xmlFreeNode(body);
			return -ENOMEM;
		}
		xmlAddChild(e->body, body);
		return 0;
	}
	copy = xmlDocCopyNode(body, e->doc, 1);
	if (!copy)
		return -ENOMEM;
	if (!xmlAddChild(e->body, copy)) {
		xmlFreeNode(copy);
		return -ENOMEM;
	}
	return 0;
}

static int s_env_finish(void *ctx, struct s_env *e, uint8_t **out, size_t *out_len, char **message_id)
{
	xmlChar *mem = NULL;
	int size = 0;
	uint8_t *o;

	*out = NULL;
	*out_len = 0;
	xmlDocDumpMemoryEnc(e->doc, &mem, &size, "UTF-8");
	if (!mem || size <= 0) {
		xmlFree(mem);
		s_env_free(e);
		return -ENOMEM;
	}
	o = talloc_array(ctx, uint8_t, (size_t)size + 1);
	if (o) {
		memcpy(o, mem, (size_t)size);
		o[size] = '\0';
	}
	xmlFree(mem);
	if (o && message_id && !(*message_id = talloc_strdup(ctx, e->message_id))) {
		talloc_free(o);
		o = NULL;
	}
	s_env_free(e);
	if (!o)
		return -ENOMEM;
	*out = o;
	*out_len = (size_t)size;
	return 0;
}

/* Where a reply to req goes: ReplyTo unless anonymous/absent, else the requester's From address. */
static const char *s_reply_to(const struct smsr_soap_msg *req)
{
	if (!req)
		return SMSR_WSA_ANONYMOUS;
	if (req->reply_to && strcmp(req->reply_to, SMSR_WSA_ANONYMOUS))
		return req->reply_to;
	return req->from_address ? req->from_address : SMSR_WSA_ANONYMOUS;
}

int smsr_soap_build_response(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *req,
			     const char *action, xmlNode *body, uint8_t **out, size_t *out_len, char **message_id)
{
	struct s_env e;
	int rc;

	if (!req || !req->message_id)
		return -EINVAL;
	rc = s_env_new(&e, self, s_reply_to(req), action, req->message_id, req->transaction_id);
	if (rc)
		return rc;
	rc = s_env_add_body(&e, body);
	if (rc) {
		s_env_free(&e);
		return rc;
	}
	return s_env_finish(ctx, &e, out, out_len, message_id);
}

int smsr_soap_build_request(void *ctx, const struct smsr_soap_entity *self, const char *to, const char *action,
			    const char *relates_to, const char *transaction_id, xmlNode *body, uint8_t **out,
			    size_t *out_len, char **message_id)
{
	return smsr_soap_build_request_ex(ctx, self, to, NULL, action, relates_to, transaction_id, body, out, out_len,
					  message_id);
}

int smsr_soap_build_request_ex(void *ctx, const struct smsr_soap_entity *self, const char *to, const char *reply_to,
			       const char *action, const char *relates_to, const char *transaction_id, xmlNode *body,
			       uint8_t **out, size_t *out_len, char **message_id)
{
	struct s_env e;
	int rc;

	rc = s_env_new(&e, self, to, action, relates_to, transaction_id);
	if (rc)
		return rc;
	if (reply_to) {
		s_env_epr(&e, "ReplyTo", reply_to);
		if (e.oom) {
			s_env_free(&e);
			return -ENOMEM;
		}
	}
	rc = s_env_add_body(&e, body);
	if (rc) {
		s_env_free(&e);
		return rc;
	}
	return s_env_finish(ctx, &e, out, out_len, message_id);
}

/*
 * Faults
 */

void smsr_soap_fault_from_error(int rc, const struct smsr_soap_error *err, const char *action,
				struct smsr_soap_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->code = SMSR_SOAP_FAULT_SENDER;
	f->subcode_ns = SMSR_NS_M2M_FAULT;
	f->reason = err && err->text[0] ? err->text : smsr_soap_strerror(rc);
	if (err && err->problem_local[0]) {
		f->problem_ns = err->problem_ns[0] ? err->problem_ns : NULL;
		f->problem_local = err->problem_local;
	}
	switch (-rc) {
	case SMSR_SOAP_E_TOO_BIG:
		f->subcode = "MessageTooLarge";
		break;
	case SMSR_SOAP_E_LIMIT:
		f->subcode = "LimitExceeded";
		break;
	case SMSR_SOAP_E_DTD:
		f->subcode = "DtdNotAllowed";
		break;
	case SMSR_SOAP_E_MALFORMED:
		f->subcode = "MalformedXml";
		break;
	case SMSR_SOAP_E_VERSION:
		f->code = SMSR_SOAP_FAULT_VERSION_MISMATCH;
		f->subcode_ns = NULL;
		break;
	case SMSR_SOAP_E_ENVELOPE:
		f->subcode = "InvalidEnvelope";
		break;
	case SMSR_SOAP_E_MUST_UNDERSTAND:
		f->code = SMSR_SOAP_FAULT_MUST_UNDERSTAND;
		f->subcode_ns = NULL;
		break;
	case SMSR_SOAP_E_WSA_MISSING:
		f->subcode_ns = SMSR_NS_WSA;
		f->subcode = "MessageAddressingHeaderRequired";
		break;
	case SMSR_SOAP_E_WSA_INVALID:
		f->subcode_ns = SMSR_NS_WSA;
		f->subcode = "InvalidAddressingHeader";
		f->subcode2 = err ? err->wsa_detail : NULL;
		break;
	case SMSR_SOAP_E_ACTION_MISMATCH:
		f->subcode_ns = SMSR_NS_WSA;
		f->subcode = "InvalidAddressingHeader";
		f->subcode2 = "ActionMismatch";
		f->problem_ns = SMSR_NS_WSA;
		f->problem_local = "Action";
		break;
	case SMSR_SOAP_E_ACTION_UNKNOWN:
		f->subcode_ns = SMSR_NS_WSA;
		f->subcode = "ActionNotSupported";
		f->problem_action = action;
		f->problem_ns = NULL;
		f->problem_local = NULL;
		break;
	case SMSR_SOAP_E_NAMESPACE:
		f->subcode = "WrongNamespace";
		break;
	default:
		f->code = SMSR_SOAP_FAULT_RECEIVER;
		f->subcode = "InternalError";
		break;
	}
}

int smsr_soap_fault_http_status(const struct smsr_soap_fault *f)
{
	return f->code == SMSR_SOAP_FAULT_SENDER ? 400 : 500;
}

static const char *s_fault_code_name(enum smsr_soap_fault_code c)
{
	switch (c) {
	case SMSR_SOAP_FAULT_VERSION_MISMATCH:
		return "env:VersionMismatch";
	case SMSR_SOAP_FAULT_MUST_UNDERSTAND:
		return "env:MustUnderstand";
	case SMSR_SOAP_FAULT_DATA_ENCODING_UNKNOWN:
		return "env:DataEncodingUnknown";
	case SMSR_SOAP_FAULT_SENDER:
		return "env:Sender";
	default:
		return "env:Receiver";
	}
}

/* A QName for ns:local usable at node n: an existing prefix in scope, or a new declaration on n. */
static char *s_qname(void *ctx, xmlDoc *doc, xmlNode *n, const char *ns, const char *local, const char *pfx)
{
	xmlNs *x = xmlSearchNsByHref(doc, n, BAD_CAST ns);

	if (!x)
		x = xmlNewNs(n, BAD_CAST ns, BAD_CAST pfx);
	if (!x)
		return NULL;
	return x->prefix ? talloc_asprintf(ctx, "%s:%s", (const char *)x->prefix, local) : talloc_strdup(ctx, local);
}

int smsr_soap_build_fault(void *ctx, const struct smsr_soap_entity *self, const struct smsr_soap_msg *req,
			  const struct smsr_soap_fault *f, uint8_t **out, size_t *out_len)
{
	xmlNode *fault, *code, *sub, *reason, *text, *det;
	struct s_env e;
	char *q;
	int rc;

	rc = s_env_new(&e, self, s_reply_to(req), SMSR_WSA_FAULT_ACTION, req ? req->message_id : NULL,
		       req ? req->transaction_id : NULL);
	if (rc)
		return rc;
	if (f->code == SMSR_SOAP_FAULT_VERSION_MISMATCH) {
		xmlNode *up = xmlNewChild(e.hdr, e.ns_env, BAD_CAST "Upgrade", NULL);
		xmlNode *se = up ? xmlNewChild(up, e.ns_env, BAD_CAST "SupportedEnvelope", NULL) : NULL;
		if (!se || !xmlNewProp(se, BAD_CAST "qname", BAD_CAST "env:Envelope"))
			goto oom;
	}
	if (f->code == SMSR_SOAP_FAULT_MUST_UNDERSTAND && f->problem_local && f->problem_local[0]) {
		xmlNode *nu = xmlNewChild(e.hdr, e.ns_env, BAD_CAST "NotUnderstood", NULL);
		if (!nu)
			goto oom;
		q = f->problem_ns ? s_qname(e.tmp, e.doc, nu, f->problem_ns, f->problem_local, "h")
				  : talloc_strdup(e.tmp, f->problem_local);
		if (!q || !xmlNewProp(nu, BAD_CAST "qname", BAD_CAST q))
			goto oom;
	}
	fault = xmlNewChild(e.body, e.ns_env, BAD_CAST "Fault", NULL);
	code = fault ? xmlNewChild(fault, e.ns_env, BAD_CAST "Code", NULL) : NULL;
	if (!code || !xmlNewTextChild(code, e.ns_env, BAD_CAST "Value", BAD_CAST s_fault_code_name(f->code)))
		goto oom;
	if (f->subcode && f->subcode_ns) {
		sub = xmlNewChild(code, e.ns_env, BAD_CAST "Subcode", NULL);
		q = sub ? s_qname(e.tmp, e.doc, fault, f->subcode_ns, f->subcode, "m2m") : NULL;
		if (!q || !xmlNewTextChild(sub, e.ns_env, BAD_CAST "Value", BAD_CAST q))
			goto oom;
		if (f->subcode2) {
			sub = xmlNewChild(sub, e.ns_env, BAD_CAST "Subcode", NULL);
			q = sub ? s_qname(e.tmp, e.doc, fault, f->subcode_ns, f->subcode2, "m2m") : NULL;
			if (!q || !xmlNewTextChild(sub, e.ns_env, BAD_CAST "Value", BAD_CAST q))
				goto oom;
		}
	}
	reason = xmlNewChild(fault, e.ns_env, BAD_CAST "Reason", NULL);
	text = reason ? xmlNewTextChild(reason, e.ns_env, BAD_CAST "Text",
					BAD_CAST(f->reason ? f->reason : "error")) : NULL;
	if (!text)
		goto oom;
	xmlNodeSetLang(text, BAD_CAST "en");
	if (f->code != SMSR_SOAP_FAULT_MUST_UNDERSTAND && f->problem_ns && f->problem_local && f->problem_local[0]) {
		det = xmlNewChild(fault, e.ns_env, BAD_CAST "Detail", NULL);
		q = det ? s_qname(e.tmp, e.doc, det, f->problem_ns, f->problem_local, "h") : NULL;
		if (!q || !xmlNewTextChild(det, e.ns_wsa, BAD_CAST "ProblemHeaderQName", BAD_CAST q))
			goto oom;
	} else if (f->problem_action) {
		xmlNode *pa;
		det = xmlNewChild(fault, e.ns_env, BAD_CAST "Detail", NULL);
		pa = det ? xmlNewChild(det, e.ns_wsa, BAD_CAST "ProblemAction", NULL) : NULL;
		if (!pa || !xmlNewTextChild(pa, e.ns_wsa, BAD_CAST "Action", BAD_CAST f->problem_action))
			goto oom;
	}
	return s_env_finish(ctx, &e, out, out_len, NULL);
oom:
	s_env_free(&e);
	return -ENOMEM;
}

/*
 * Cursor and typed getters for the ES codecs
 */

static void s_path(const xmlNode *n, char *buf, size_t cap)
{
	const xmlNode *chain[16];
	size_t k = 0, used = 0;

	buf[0] = '\0';
	/* stop below env:Body (or at the document root for standalone fragments) */
	for (; n && n->type == XML_ELEMENT_NODE && k < 16; n = n->parent) {
		if (n->parent && s_is(n->parent, SMSR_NS_SOAP12, "Body"))
			break;
		chain[k++] = n;
	}
	while (k-- > 0 && used < cap) {
		int w = snprintf(buf + used, cap - used, "%s%s", used ? "/" : "", (const char *)chain[k]->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int smsr_soap_field_fail(struct smsr_soap_field_err *e, const xmlNode *at, const char *elem, bool missing,
			 const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -EBADMSG;
	if (e->set)
		return e->internal ? e->rc : -EBADMSG;
	e->set = true;
	e->missing = missing;
	snprintf(e->elem, sizeof(e->elem), "%s", elem ? elem : (at ? (const char *)at->name : ""));
	if (at)
		s_path(at, e->path, sizeof(e->path));
	if (missing && elem) {
		size_t l = strlen(e->path);
		snprintf(e->path + l, sizeof(e->path) - l, "%s%s", l ? "/" : "", elem);
	}
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int s_internal(struct smsr_soap_field_err *e, int rc, const char *what)
{
	if (e && !e->set) {
		e->set = true;
		e->internal = true;
		e->rc = rc;
		snprintf(e->msg, sizeof(e->msg), "%s: %s", what, smsr_soap_strerror(rc));
	}
	return rc;
}

static void s_cur_advance(struct smsr_soap_cur *c, const xmlNode *from)
{
	const xmlNode *n;

	for (n = from; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			break;
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && !s_is_ws(n->content)) {
			smsr_soap_field_fail(c->err, c->parent, NULL, false, "text content not allowed in <%s>",
					     (const char *)c->parent->name);
			n = NULL;
			break;
		}
	}
	c->next = n;
}

int smsr_soap_cur_init(struct smsr_soap_cur *c, void *ctx, const xmlNode *parent, const char *ns,
		       struct smsr_soap_field_err *err)
{
	c->parent = parent;
	c->ns = ns;
	c->ctx = ctx;
	c->err = err;
	c->next = NULL;
	s_cur_advance(c, parent->children);
	return err->set ? -EBADMSG : 0;
}

const xmlNode *smsr_soap_cur_opt(struct smsr_soap_cur *c, const char *name)
{
	const xmlNode *n = c->next;

	if (!n || c->err->set || strcmp((const char *)n->name, name))
		return NULL;
	if (!s_ns_is(n, c->ns)) {
		smsr_soap_field_fail(c->err, n, NULL, false, "element %s is not in namespace %s", name,
				     c->ns ? c->ns : "(none)");
		return NULL;
	}
	s_cur_advance(c, n->next);
	return n;
}

const xmlNode *smsr_soap_cur_req(struct smsr_soap_cur *c, const char *name)
{
	const xmlNode *n = smsr_soap_cur_opt(c, name);

	if (!n && !c->err->set) {
		if (c->next)
			smsr_soap_field_fail(c->err, c->parent, name, true,
					     "mandatory element %s missing in %s (found %s)", name,
					     (const char *)c->parent->name, (const char *)c->next->name);
		else
			smsr_soap_field_fail(c->err, c->parent, name, true, "mandatory element %s missing in %s", name,
					     (const char *)c->parent->name);
	}
	return n;
}

int smsr_soap_cur_end(struct smsr_soap_cur *c)
{
	if (c->err->set)
		return c->err->internal ? c->err->rc : -EBADMSG;
	if (c->next) {
		smsr_soap_field_fail(c->err, c->next, NULL, false, "unexpected element %s in %s",
				     (const char *)c->next->name, (const char *)c->parent->name);
		c->err->unexpected = true;
		return -EBADMSG;
	}
	return 0;
}

char *smsr_soap_text(struct smsr_soap_cur *c, const xmlNode *n, bool preserve)
{
	bool oom = false;
	char *s;

	if (!n || c->err->set)
		return NULL;
	s = s_node_text(c->ctx, n, !preserve, &oom);
	if (oom) {
		s_internal(c->err, -ENOMEM, "text");
		return NULL;
	}
	if (!s)
		smsr_soap_field_fail(c->err, n, NULL, false, "element %s must hold text only", (const char *)n->name);
	return s;
}

int smsr_soap_get_hex(struct smsr_soap_cur *c, const xmlNode *n, uint8_t *out, size_t min, size_t max)
{
	char *s = smsr_soap_text(c, n, false);
	int len;

	if (!s)
		return -EBADMSG;
	len = strlen(s) / 2 <= max ? proto_hex_decode(s, out, max) : -1;
	if (len < 0 || (size_t)len < min) {
		talloc_free(s);
		return smsr_soap_field_fail(c->err, n, NULL, false, "%s: hexBinary of %zu..%zu bytes expected",
					    (const char *)n->name, min, max);
	}
	talloc_free(s);
	return len;
}

int smsr_soap_get_hex_alloc(struct smsr_soap_cur *c, const xmlNode *n, uint8_t **out, size_t *len)
{
	char *s = smsr_soap_text(c, n, false);
	size_t l;
	int r;

	*out = NULL;
	*len = 0;
	if (!s)
		return -EBADMSG;
	l = strlen(s) / 2;
	*out = talloc_array(c->ctx, uint8_t, l ? l : 1);
	if (!*out) {
		talloc_free(s);
		return s_internal(c->err, -ENOMEM, "hex");
	}
	r = proto_hex_decode(s, *out, l);
	talloc_free(s);
	if (r < 0) {
		TALLOC_FREE(*out);
		return smsr_soap_field_fail(c->err, n, NULL, false, "%s: invalid hexBinary", (const char *)n->name);
	}
	*len = l;
	return 0;
}

int smsr_soap_get_uint(struct smsr_soap_cur *c, const xmlNode *n, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *s = smsr_soap_text(c, n, false);
	const char *p;
	uint64_t v = 0;

	if (!s)
		return -EBADMSG;
	p = s;
	if (*p == '+')
		p++;
	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < lo || v > hi)
		goto bad;
	talloc_free(s);
	*out = v;
	return 0;
bad:
	talloc_free(s);
	return smsr_soap_field_fail(c->err, n, NULL, false, "%s: integer %llu..%llu expected", (const char *)n->name,
				    (unsigned long long)lo, (unsigned long long)hi);
}

int smsr_soap_get_bool(struct smsr_soap_cur *c, const xmlNode *n, bool *out)
{
	char *s = smsr_soap_text(c, n, false);
	int rc = 0;

	if (!s)
		return -EBADMSG;
	if (!strcmp(s, "true") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "0"))
		*out = false;
	else
		rc = smsr_soap_field_fail(c->err, n, NULL, false, "%s: boolean expected", (const char *)n->name);
	talloc_free(s);
	return rc;
}

bool smsr_soap_is_oid(const char *s)
{
	bool digit = false;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digit = true;
		} else if (*s == '.' && digit) {
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

static bool s_digits(const char **p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
	*p += n;
	return true;
}

static int s_num(const char *p, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* xs:dateTime: -?YYYY-MM-DDThh:mm:ss(.s+)?(Z|(+|-)hh:mm)? with field ranges */
bool smsr_soap_is_datetime(const char *s)
{
	const char *p = s, *y;

	if (!s)
		return false;
	if (*p == '-')
		p++;
	y = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p - y < 4 || (p - y > 4 && *y == '0'))
		return false;
	if (*p++ != '-' || !s_digits(&p, 2) || s_num(p - 2, 2) < 1 || s_num(p - 2, 2) > 12)
		return false;
	if (*p++ != '-' || !s_digits(&p, 2) || s_num(p - 2, 2) < 1 || s_num(p - 2, 2) > 31)
		return false;
	if (*p++ != 'T' || !s_digits(&p, 2) || s_num(p - 2, 2) > 24)
		return false;
	if (*p++ != ':' || !s_digits(&p, 2) || s_num(p - 2, 2) > 59)
		return false;
	if (*p++ != ':' || !s_digits(&p, 2) || s_num(p - 2, 2) > 60)
		return false;
	if (*p == '.') {
		p++;
		if (!s_digits(&p, 1))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-') {
		p++;
		if (!s_digits(&p, 2) || s_num(p - 2, 2) > 14 || *p++ != ':' || !s_digits(&p, 2) ||
		    s_num(p - 2, 2) > 59)
			return false;
	}
	return *p == '\0';
}

static bool is_version(const char *p)
{
	int part;

	for (part = 0; part < 3; part++) {
		const char *d = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == d || (part < 2 && *p++ != '.'))
			return false;
	}
	return *p == '\0';
}

/* the text of n, refused with a field fault naming the expected form when ok() says no */
static char *get_checked(struct smsr_soap_cur *c, const xmlNode *n, bool (*ok)(const char *), const char *form)
{
	char *s = smsr_soap_text(c, n, false);

	if (s && !ok(s)) {
		talloc_free(s);
		smsr_soap_field_fail(c->err, n, NULL, false, "%s: %s expected", (const char *)n->name, form);
		return NULL;
	}
	return s;
}

char *smsr_soap_get_oid(struct smsr_soap_cur *c, const xmlNode *n)
{
	return get_checked(c, n, smsr_soap_is_oid, "object identifier");
}

char *smsr_soap_get_datetime(struct smsr_soap_cur *c, const xmlNode *n)
{
	return get_checked(c, n, smsr_soap_is_datetime, "xs:dateTime");
}

char *smsr_soap_get_version(struct smsr_soap_cur *c, const xmlNode *n)
{
	return get_checked(c, n, is_version, "version d.d.d");
}

char *smsr_soap_get_string100(struct smsr_soap_cur *c, const xmlNode *n)
{
	char *s = smsr_soap_text(c, n, true);
	size_t chars = 0;
	const char *p;

	if (!s)
		return NULL;
	for (p = s; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			chars++;
	if (chars > 100) {
		talloc_free(s);
		smsr_soap_field_fail(c->err, n, NULL, false, "%s: at most 100 characters", (const char *)n->name);
		return NULL;
	}
	return s;
}

int smsr_soap_get_iccid(struct smsr_soap_cur *c, const xmlNode *n, char *out, size_t cap)
{
	char *s = smsr_soap_text(c, n, false);
	size_t len, i;
	bool ok;

	if (!s)
		return -EBADMSG;
	len = strlen(s);
	ok = len >= 6 && len <= 20 && len < cap && s[0] == '8' && s[1] == '9';
	for (i = 2; ok && i < len; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || s[i] == 'f' || s[i] == 'F';
	if (!ok) {
		talloc_free(s);
		return smsr_soap_field_fail(c->err, n, NULL, false, "%s: ICCID 89[0-9fF]{4,18} expected",
					    (const char *)n->name);
	}
	memcpy(out, s, len + 1);
	talloc_free(s);
	return 0;
}

int smsr_soap_get_digits(struct smsr_soap_cur *c, const xmlNode *n, size_t min, size_t max, char *out, size_t cap)
{
	char *s = smsr_soap_text(c, n, false);
	size_t len, i;
	bool ok;

	if (!s)
		return -EBADMSG;
	len = strlen(s);
	ok = len >= min && len <= max && len < cap;
	for (i = 0; ok && i < len; i++)
		ok = s[i] >= '0' && s[i] <= '9';
	if (!ok) {
		talloc_free(s);
		return smsr_soap_field_fail(c->err, n, NULL, false, "%s: %zu..%zu digits expected",
					    (const char *)n->name, min, max);
	}
	memcpy(out, s, len + 1);
	talloc_free(s);
	return 0;
}

int smsr_soap_get_enum(struct smsr_soap_cur *c, const xmlNode *n, const char *const *names)
{
	char *s = smsr_soap_text(c, n, false);
	int i;

	if (!s)
		return -EBADMSG;
	for (i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			talloc_free(s);
			return i;
		}
	}
	talloc_free(s);
	return smsr_soap_field_fail(c->err, n, NULL, false, "%s: unknown value", (const char *)n->name);
}

/*
 * Builder helpers
 */

xmlNode *smsr_soap_add(struct smsr_soap_bld *b, xmlNode *parent, const char *name, const char *text)
{
	xmlNode *n;

	if (!parent || b->oom)
		return NULL;
	n = xmlNewTextChild(parent, b->ns, BAD_CAST name, BAD_CAST text);
	if (!n)
		b->oom = true;
	return n;
}

xmlNode *smsr_soap_add_hex(struct smsr_soap_bld *b, xmlNode *parent, const char *name, const uint8_t *v, size_t len)
{
	char *h;
	xmlNode *n;

	if (!parent || b->oom)
		return NULL;
	h = talloc_array(NULL, char, 2 * len + 1);
	if (!h) {
		b->oom = true;
		return NULL;
	}
	proto_hex_encode_upper(v, len, h);
	n = smsr_soap_add(b, parent, name, h);
	talloc_free(h);
	return n;
}

xmlNode *smsr_soap_add_uint(struct smsr_soap_bld *b, xmlNode *parent, const char *name, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return smsr_soap_add(b, parent, name, s);
}

void smsr_soap_set_attr(struct smsr_soap_bld *b, xmlNode *n, const char *name, const char *value)
{
	if (!n || b->oom)
		return;
	if (!xmlSetProp(n, BAD_CAST name, BAD_CAST value))
		b->oom = true;
}

void smsr_soap_set_attr_hex(struct smsr_soap_bld *b, xmlNode *n, const char *name, const uint8_t *v, size_t len)
{
	char *h;

	if (!n || b->oom)
		return;
	h = talloc_array(NULL, char, 2 * len + 1);
	if (!h) {
		b->oom = true;
		return;
	}
	proto_hex_encode_upper(v, len, h);
	smsr_soap_set_attr(b, n, name, h);
	talloc_free(h);
}

xmlNode *smsr_soap_body_new(void *ctx, const char *name, struct smsr_soap_bld *b, void **holder)
{
	struct s_doc_holder *h = talloc_zero(ctx, struct s_doc_holder);
	xmlNode *root;

	memset(b, 0, sizeof(*b));
	*holder = NULL;
	if (!h)
		goto oom;
	talloc_set_destructor(h, s_doc_holder_free);
	h->doc = xmlNewDoc(BAD_CAST "1.0");
	root = h->doc ? xmlNewDocNode(h->doc, NULL, BAD_CAST name, NULL) : NULL;
	if (!root)
		goto oom;
	xmlDocSetRootElement(h->doc, root);
	b->ns = xmlNewNs(root, BAD_CAST SMSR_NS_RPS, BAD_CAST "rps");
	if (!b->ns)
		goto oom;
	xmlSetNs(root, b->ns);
	*holder = h;
	return root;
oom:
	talloc_free(h);
	b->oom = true;
	return NULL;
}

/*
 * Canonical XML of a subtree
 */

static int s_c14n_visible(void *root, xmlNodePtr node, xmlNodePtr parent)
{
	/* namespace nodes are passed as (xmlNs *, owner element); xmlNs and xmlNode share the `type` offset */
	xmlNodePtr n = (node && node->type != XML_NAMESPACE_DECL) ? node : parent;

	for (; n; n = n->parent)
		if (n == root)
			return 1;
	return 0;
}

int smsr_soap_c14n(void *ctx, xmlNode *n, int mode, char **out, size_t *out_len)
{
	struct s_quiet q;
	xmlOutputBufferPtr ob;
	const xmlChar *content;
	size_t size;
	char *s;
	int rc;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (!n || !n->doc)
		return -EINVAL;
	ob = xmlAllocOutputBuffer(NULL);
	if (!ob)
		return -ENOMEM;
	/* libxml2's c14n reports through the thread's error handlers: silence them for the call */
	s_quiet_begin(&q);
	rc = xmlC14NExecute(n->doc, s_c14n_visible, n, mode, NULL, 0, ob);
	s_quiet_end(&q);
	content = xmlOutputBufferGetContent(ob);
	size = xmlOutputBufferGetSize(ob);
	if (rc < 0 || !content) {
		xmlOutputBufferClose(ob);
		return -EBADMSG;
	}
	s = talloc_array(ctx, char, size + 1);
	if (s) {
		memcpy(s, content, size);
		s[size] = '\0';
	}
	xmlOutputBufferClose(ob);
	if (!s)
		return -ENOMEM;
	*out = s;
	if (out_len)
		*out_len = size;
	return 0;
}

/* EIS <-> XML (GSMA EISType, euicc.common.types.xsd; sgp02.md §3) with FULL / MNO / SM-DP views. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <libxml/c14n.h>
#include <libxml/dict.h>
#include <libxml/globals.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include "smsr/eis_xml.h"
#include "proto/hex.h"

/* wire names, indexed by the eis.h enums (private: eis.c is written separately) */
static const char *const s_state_names[] = { "Created", "Disabled", "Enabled", NULL };
static const char *const s_action_names[] = { "ENABLE", "DISABLE", "DELETE", NULL };
static const char *const s_qual_names[] = { "Not-Allowed", "Auto-Delete", NULL };
static const char *const s_role_names[] = { "ISD-R", "ECASD", NULL };
static const char *const s_status_names[] = { "EXECUTED_SUCCESS", "EXECUTED_WITHWARNING", "FAILED", "EXPIRED", NULL };
/* KeysetUsageType; index + 1 = enum smsr_keyset_usage (0 is "Type absent") */
static const char *const s_usage_names[] = { "SCP03", "SCP80", "SCP81", "TokenGeneration", "ReceiptVerification",
					     "CA", NULL };
static const char *const s_subject_names[] = { "PROFILE", NULL };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *s_name(const char *const *names, size_t n, unsigned v)
{
	return v < n - 1 ? names[v] : NULL;
}

/*
 * Encoder
 */

struct s_enc {
	struct smsr_soap_bld *b;
	const struct smsr_eis *e;
	const struct smsr_eis_xml_opts *o;
	char *err;
	size_t cap;
};

static int s_efail(struct s_enc *x, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int s_efail(struct s_enc *x, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!x->b->rc) {
		x->b->rc = rc;
		if (x->err && x->cap) {
			va_start(ap, fmt);
			vsnprintf(x->err, x->cap, fmt, ap);
			va_end(ap);
		}
	}
	return rc;
}

static bool s_keys_allowed(const struct s_enc *x)
{
	return x->o->view == SMSR_EIS_VIEW_FULL;
}

static bool s_streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static bool s_profile_owned(const struct s_enc *x, const struct smsr_profile *p)
{
	switch (x->o->view) {
	case SMSR_EIS_VIEW_FULL:
		return true;
	case SMSR_EIS_VIEW_MNO:
		return s_streq(p->mno_id, x->o->viewer_id);
	case SMSR_EIS_VIEW_SMDP:
		if (x->o->mno_id)
			return s_streq(p->mno_id, x->o->mno_id);
		return s_streq(p->smdp_id, x->o->viewer_id);
	}
	return false;
}

static bool s_profile_visible(const struct s_enc *x, const struct smsr_profile *p)
{
	unsigned i;

	if (!s_profile_owned(x, p))
		return false;
	if (!x->o->n_iccids)
		return true;
	for (i = 0; i < x->o->n_iccids; i++)
		if (s_streq(p->iccid, x->o->iccids[i]))
			return true;
	return false;
}

static bool s_record_visible(const struct s_enc *x, const struct smsr_audit_record *r)
{
	unsigned i;

	if (x->o->view == SMSR_EIS_VIEW_FULL)
		return true;
	if (r->iccid[0]) {
		for (i = 0; i < x->e->n_profiles; i++)
			if (!strcmp(x->e->profiles[i].iccid, r->iccid) && s_profile_owned(x, &x->e->profiles[i]))
				return true;
	}
	return s_streq(r->requester_id, x->o->viewer_id);
}

static xmlNode *s_req_str(struct s_enc *x, xmlNode *parent, const char *name, const char *v)
{
	if (!v) {
		s_efail(x, -EINVAL, "EIS lacks %s", name);
		return NULL;
	}
	return smsr_soap_add(x->b, parent, name, v);
}

static void s_enc_key(struct s_enc *x, xmlNode *ks, const struct smsr_sd *sd, const struct smsr_keyset *set,
		      const struct smsr_key *k)
{
	struct smsr_eis_key_ref ref = {
		.eid = x->e->eid, .sd = sd->role, .kvn = set->version, .usage = set->type, .key_index = k->index,
	};
	xmlNode *kn = smsr_soap_add(x->b, ks, "Key", NULL);
	unsigned i;

	if (!kn)
		return;
	smsr_soap_set_attr_hex(x->b, kn, "kcv", k->kcv, k->kcv_len);
	smsr_soap_add_uint(x->b, kn, "Index", k->index);
	if (!k->n_comp) {
		s_efail(x, -EINVAL, "key %u of keyset %u has no component", k->index, set->version);
		return;
	}
	if (!x->o->key_export) {
		s_efail(x, -EINVAL, "FULL view needs a key_export callback");
		return;
	}
	for (i = 0; i < k->n_comp && !x->b->oom && !x->b->rc; i++) {
		const struct smsr_key_component *c = &k->comp[i];
		xmlNode *kc = smsr_soap_add(x->b, kn, "KeyComponents", NULL);
		uint8_t *val = NULL;
		size_t len = 0;
		void *tmp = talloc_new(NULL);
		int rc;

		if (!tmp) {
			x->b->oom = true;
			return;
		}
		ref.comp_type = c->type;
		ref.comp_no = i;
		rc = x->o->key_export(x->o->key_data, &ref, c->wrapped, c->wrapped_len, tmp, &val, &len);
		if (rc < 0) {
			s_efail(x, rc, "key export failed for keyset %u key %u", set->version, k->index);
		} else {
			smsr_soap_set_attr_hex(x->b, kc, "type", &c->type, 1);
			smsr_soap_set_attr_hex(x->b, kc, "value", val, len);
		}
		if (val)
			explicit_bzero(val, len);
		talloc_free(tmp);
	}
}

static void s_enc_sd(struct s_enc *x, xmlNode *parent, const char *name, const struct smsr_sd *sd)
{
	xmlNode *sdn = smsr_soap_add(x->b, parent, name, NULL);
	unsigned i, j;

	if (!sdn)
		return;
	if (sd->aid.len < 5) {
		s_efail(x, -EINVAL, "%s has no AID", name);
		return;
	}
	smsr_soap_add_hex(x->b, sdn, "Aid", sd->aid.b, sd->aid.len);
	for (i = 0; i < sd->n_tars; i++)
		smsr_soap_add_hex(x->b, sdn, "Tar", sd->tars[i], 3);
	smsr_soap_add_hex(x->b, sdn, "Sin", sd->sin, sd->sin_len);
	smsr_soap_add_hex(x->b, sdn, "Sdin", sd->sdin, sd->sdin_len);
	smsr_soap_add(x->b, sdn, "Role", s_name(s_role_names, ARRAY_SIZE(s_role_names), sd->role));
	if (!sd->n_keysets) {
		s_efail(x, -EINVAL, "%s has no keyset", name);
		return;
	}
	for (i = 0; i < sd->n_keysets; i++) {
		const struct smsr_keyset *set = &sd->keysets[i];
		xmlNode *ks = smsr_soap_add(x->b, sdn, "Keyset", NULL);

		smsr_soap_add_uint(x->b, ks, "Version", set->version);
		if (set->type != SMSR_KEYSET_UNSPECIFIED)
			smsr_soap_add(x->b, ks, "Type",
				      s_name(s_usage_names, ARRAY_SIZE(s_usage_names), (unsigned)set->type - 1));
		smsr_soap_add_uint(x->b, ks, "Cntr", set->cntr);
		if (s_keys_allowed(x))
			for (j = 0; j < set->n_keys; j++)
				s_enc_key(x, ks, sd, set, &set->keys[j]);
		/* certificates are public; the SM-DP needs CERT.ECASD.ECKA for ES8 key establishment (crypto.md §A.1)
		 */
		for (j = 0; x->o->view != SMSR_EIS_VIEW_MNO && j < set->n_certs; j++) {
			const struct smsr_certificate *c = &set->certs[j];
			xmlNode *cn = smsr_soap_add(x->b, ks, "Certificate", NULL);
			smsr_soap_add_uint(x->b, cn, "Index", c->index);
			s_req_str(x, cn, "CaId", c->ca_id);
			smsr_soap_add_hex(x->b, cn, "Value", c->value, c->len);
		}
	}
}

/* Re-read stored canonical XML and append a copy of its root under parent; the root must be `expect` (or `alt`). */
static xmlNode *s_enc_stored(struct s_enc *x, xmlNode *parent, const char *text, const char *expect, const char *alt)
{
	struct smsr_soap_error perr;
	void *holder;
	xmlDoc *doc;
	xmlNode *root, *copy;
	int rc;

	if (!parent || x->b->oom)
		return NULL;
	rc = smsr_soap_parse_fragment(NULL, text, strlen(text), NULL, &holder, &doc, &perr);
	if (rc == -ENOMEM) {
		x->b->oom = true;
		return NULL;
	}
	if (rc) {
		s_efail(x, -EINVAL, "stored %s does not parse: %s", expect, perr.text);
		return NULL;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || (strcmp((const char *)root->name, expect) && (!alt || strcmp((const char *)root->name, alt)))) {
		talloc_free(holder);
		s_efail(x, -EINVAL, "stored XML is not %s", expect);
		return NULL;
	}
	copy = xmlDocCopyNode(root, parent->doc, 1);
	if (!copy || !xmlAddChild(parent, copy)) {
		xmlFreeNode(copy);
		copy = NULL;
		x->b->oom = true;
	}
	talloc_free(holder);
	return copy;
}

static void s_enc_signed_info(struct s_enc *x, xmlNode *eis)
{
	const struct smsr_eis *e = x->e;
	xmlNode *si, *cap;

	if (x->o->view == SMSR_EIS_VIEW_FULL && e->signed_info_xml) {
		s_enc_stored(x, eis, e->signed_info_xml, "EumSignedInfo", NULL);
		return;
	}
	si = smsr_soap_add(x->b, eis, "EumSignedInfo", NULL);
	smsr_soap_add_hex(x->b, si, "Eid", e->eid, SMSR_EID_LEN);
	s_req_str(x, si, "Eum-id", e->eum_id);
	s_req_str(x, si, "ProductionDate", e->production_date);
	s_req_str(x, si, "PlatformType", e->platform_type);
	s_req_str(x, si, "PlatformVersion", e->platform_version);
	smsr_soap_add_hex(x->b, si, "Isd-p-loadfile-aid", e->isdp_loadfile_aid.b, e->isdp_loadfile_aid.len);
	smsr_soap_add_hex(x->b, si, "Isd-p-module-aid", e->isdp_module_aid.b, e->isdp_module_aid.len);
	s_enc_sd(x, si, "Ecasd", &e->ecasd);
	cap = smsr_soap_add(x->b, si, "EuiccCapabilities", NULL);
	smsr_soap_add(x->b, cap, "CattpSupport", e->cattp_support ? "true" : "false");
	if (e->cattp_version)
		smsr_soap_add(x->b, cap, "CattpVersion", e->cattp_version);
	smsr_soap_add(x->b, cap, "HttpSupport", e->http_support ? "true" : "false");
	if (e->http_version)
		smsr_soap_add(x->b, cap, "HttpVersion", e->http_version);
	s_req_str(x, cap, "SecurePacketVersion", e->secure_packet_version);
	s_req_str(x, cap, "RemoteProvisioningVersion", e->remote_provisioning_version);
}

static void s_enc_profile(struct s_enc *x, xmlNode *eis, const struct smsr_profile *p)
{
	xmlNode *pi = smsr_soap_add(x->b, eis, "ProfileInfo", NULL);

	smsr_soap_add(x->b, pi, "Iccid", p->iccid);
	smsr_soap_add_hex(x->b, pi, "Isd-p-aid", p->isdp_aid.b, p->isdp_aid.len);
	s_req_str(x, pi, "Mno-id", p->mno_id);
	smsr_soap_add(x->b, pi, "FallbackAttribute", p->fallback ? "true" : "false");
	smsr_eis_xml_subaddr_encode(x->b, pi, "SubscriptionAddress", p->imsi, p->msisdn);
	smsr_soap_add(x->b, pi, "State", s_name(s_state_names, ARRAY_SIZE(s_state_names), p->state));
	if (p->smdp_id)
		smsr_soap_add(x->b, pi, "Smdp-id", p->smdp_id);
	if (p->profile_type)
		smsr_soap_add(x->b, pi, "ProfileType", p->profile_type);
	smsr_soap_add_uint(x->b, pi, "AllocatedMemory", p->allocated_memory);
	if (p->has_free_memory)
		smsr_soap_add_uint(x->b, pi, "FreeMemory", p->free_memory);
	smsr_eis_xml_pol2_encode(x->b, pi, "pol2", p->pol2, p->n_pol2);
}

static void s_enc_record(struct s_enc *x, xmlNode *at, const struct smsr_audit_record *r)
{
	xmlNode *rec = smsr_soap_add(x->b, at, "Record", NULL), *st;
	uint8_t op[2] = { (uint8_t)(r->operation_type >> 8), (uint8_t)r->operation_type };

	smsr_soap_add_hex(x->b, rec, "Eid", x->e->eid, SMSR_EID_LEN);
	/* the record's own Smsr-id is not kept in struct smsr_audit_record: the EIS's current SM-SR is emitted */
	s_req_str(x, rec, "Smsr-id", x->e->smsr_id);
	s_req_str(x, rec, "OperationDate", r->operation_date);
	smsr_soap_add_hex(x->b, rec, "OperationType", op, 2);
	if (r->requester_id)
		smsr_soap_add(x->b, rec, "RequesterId", r->requester_id);
	if (r->status >= 0) {
		st = smsr_soap_add(x->b, rec, "OperationExecutionStatus", NULL);
		smsr_soap_add(x->b, st, "Status",
			      s_name(s_status_names, ARRAY_SIZE(s_status_names), (unsigned)r->status));
	}
	if (r->isdp_aid.len)
		smsr_soap_add_hex(x->b, rec, "Isd-p-aid", r->isdp_aid.b, r->isdp_aid.len);
	if (r->iccid[0])
		smsr_soap_add(x->b, rec, "Iccid", r->iccid);
	if (r->imei_len)
		smsr_soap_add_hex(x->b, rec, "Imei", r->imei, r->imei_len);
	if (r->meid_len)
		smsr_soap_add_hex(x->b, rec, "Meid", r->meid, r->meid_len);
}

/* Enum values outside the tables would produce an element with NULL text: refuse them up front. */
static int s_enc_check_enums(struct s_enc *x)
{
	const struct smsr_eis *e = x->e;
	unsigned i, j;

	if ((unsigned)e->ecasd.role >= ARRAY_SIZE(s_role_names) - 1 ||
	    (unsigned)e->isdr.role >= ARRAY_SIZE(s_role_names) - 1)
		return s_efail(x, -EINVAL, "invalid SD role");
	for (i = 0; i < 2; i++) {
		const struct smsr_sd *sd = i ? &e->isdr : &e->ecasd;
		for (j = 0; j < sd->n_keysets; j++)
			if ((unsigned)sd->keysets[j].type > ARRAY_SIZE(s_usage_names) - 1)
				return s_efail(x, -EINVAL, "invalid keyset type");
	}
	for (i = 0; i < e->n_profiles; i++) {
		const struct smsr_profile *p = &e->profiles[i];
		if ((unsigned)p->state >= ARRAY_SIZE(s_state_names) - 1)
			return s_efail(x, -EINVAL, "invalid profile state");
		for (j = 0; j < p->n_pol2; j++)
			if ((unsigned)p->pol2[j].action >= ARRAY_SIZE(s_action_names) - 1 ||
			    (unsigned)p->pol2[j].qualification >= ARRAY_SIZE(s_qual_names) - 1)
				return s_efail(x, -EINVAL, "invalid POL2 rule");
	}
	for (i = 0; i < e->n_audit; i++)
		if (e->audit[i].status >= (int)ARRAY_SIZE(s_status_names) - 1)
			return s_efail(x, -EINVAL, "invalid audit status");
	return 0;
}

int smsr_eis_xml_encode(struct smsr_soap_bld *b, xmlNode *parent, const char *elem, const struct smsr_eis *e,
			const struct smsr_eis_xml_opts *o, char *err_text, size_t err_cap)
{
	struct s_enc x = { .b = b, .e = e, .o = o, .err = err_text, .cap = err_cap };
	xmlNode *eis, *n;
	unsigned i, shown;

	if (err_text && err_cap)
		err_text[0] = '\0';
	if (!b || !parent || !e || !o)
		return -EINVAL;
	if (o->view != SMSR_EIS_VIEW_FULL && !o->viewer_id && !(o->view == SMSR_EIS_VIEW_SMDP && o->mno_id))
		return s_efail(&x, -EINVAL, "MNO/SM-DP view needs viewer_id");
	if (s_enc_check_enums(&x))
		return b->rc;

	eis = smsr_soap_add(b, parent, elem, NULL);
	s_enc_signed_info(&x, eis);
	/* stored as rps:EumSignature (what smsr_eis_xml_decode keeps); a bare ds:Signature is renamed */
	n = e->signature_xml ? s_enc_stored(&x, eis, e->signature_xml, "EumSignature", "Signature") : NULL;
	if (!e->signature_xml)
		s_efail(&x, -EINVAL, "EIS has no EumSignature");
	if (n && strcmp((const char *)n->name, "EumSignature")) {
		xmlNodeSetName(n, BAD_CAST "EumSignature");
		xmlSetNs(n, b->ns);
	}
	smsr_soap_add_uint(b, eis, "RemainingMemory", e->remaining_memory);
	smsr_soap_add_uint(b, eis, "AvailableMemoryForProfiles", e->available_memory);
	if (e->last_audit_date)
		smsr_soap_add(b, eis, "LastAuditDate", e->last_audit_date);
	s_req_str(&x, eis, "Smsr-id", e->smsr_id);
	for (i = 0; i < e->n_profiles; i++)
		if (s_profile_visible(&x, &e->profiles[i]))
			s_enc_profile(&x, eis, &e->profiles[i]);
	s_enc_sd(&x, eis, "Isd-r", &e->isdr);
	for (i = 0, shown = 0; i < e->n_audit; i++)
		shown += s_record_visible(&x, &e->audit[i]);
	if (shown) {
		xmlNode *at = smsr_soap_add(b, eis, "AuditTrail", NULL);
		for (i = 0; i < e->n_audit; i++)
			if (s_record_visible(&x, &e->audit[i]))
				s_enc_record(&x, at, &e->audit[i]);
	}
	if (e->n_props) {
		xmlNode *ap = smsr_soap_add(b, eis, "AdditionalProperties", NULL);
		for (i = 0; i < e->n_props; i++) {
			xmlNode *p = smsr_soap_add(b, ap, "Property", NULL);
			if (!e->props[i].key || !e->props[i].key[0])
				s_efail(&x, -EINVAL, "property without key");
			smsr_soap_set_attr(b, p, "key", e->props[i].key ? e->props[i].key : "");
			smsr_soap_set_attr(b, p, "value", e->props[i].value ? e->props[i].value : "");
		}
	}
	if (b->oom)
		return -ENOMEM;
	return b->rc;
}

/*
 * Decoder
 */

struct s_dec {
	struct smsr_eis *e;
	const struct smsr_eis_xml_in *in;
	struct smsr_soap_field_err *err;
};

static int s_internal(struct smsr_soap_field_err *err, int rc, const char *what)
{
	if (!err->set) {
		err->set = true;
		err->internal = true;
		err->rc = rc;
		snprintf(err->msg, sizeof(err->msg), "%s failed (%d)", what, rc);
	}
	return rc;
}

static int s_status(const struct smsr_soap_field_err *err)
{
	return err->set ? (err->internal ? err->rc : -EBADMSG) : 0;
}

/* Number of consecutive children named `name` from the cursor position. */
static unsigned s_count(const struct smsr_soap_cur *c, const char *name)
{
	const xmlNode *n;
	unsigned k = 0;

	for (n = c->next; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, name))
			break;
		k++;
	}
	return k;
}

static int s_aid(struct smsr_soap_cur *c, const xmlNode *n, struct smsr_aid *aid)
{
	int len = smsr_soap_get_hex(c, n, aid->b, 5, SMSR_AID_MAX);

	if (len < 0)
		return len;
	aid->len = (uint8_t)len;
	return 0;
}

static const xmlAttr *s_attr(const xmlNode *n, const char *name)
{
	const xmlAttr *a;

	for (a = n->properties; a; a = a->next)
		if (!a->ns && !strcmp((const char *)a->name, name))
			return a;
	return NULL;
}

/* The attribute's text node (attributes hold one text child; entity references cannot occur: no DTD). */
static xmlNode *s_attr_text(const xmlAttr *a)
{
	xmlNode *t = a ? a->children : NULL;

	if (!t)
		return NULL;
	if (t->type != XML_TEXT_NODE || t->next)
		return NULL;
	return t;
}

/* Decode hex (white space collapsed at both ends) into out (cap bytes). Returns length or -1. */
static long s_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t len;
	int n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	n = proto_hex_decode_n(s, len, out, cap);
	return n < 0 ? -1 : n;
}

static int s_attr_hex(struct s_dec *d, const xmlNode *n, const char *name, uint8_t *out, size_t min, size_t max)
{
	const xmlAttr *a = s_attr(n, name);
	xmlNode *t = s_attr_text(a);
	long len;

	if (!a)
		return smsr_soap_field_fail(d->err, n, NULL, true, "%s: attribute %s missing", (const char *)n->name,
					    name);
	len = t ? s_hex((const char *)t->content, out, max) : 0;
	if (len < 0 || (size_t)len < min)
		return smsr_soap_field_fail(d->err, n, NULL, false, "%s: attribute %s: hexBinary of %zu..%zu bytes",
					    (const char *)n->name, name, min, max);
	return (int)len;
}

/* Overwrite the text of an attribute in the parsed document (unless it is interned in the dictionary). */
static void s_wipe_attr(xmlNode *t)
{
	if (!t || !t->content)
		return;
	if (t->doc && t->doc->dict && xmlDictOwns(t->doc->dict, t->content))
		return;
	explicit_bzero(t->content, strlen((const char *)t->content));
}

static int s_dec_key(struct s_dec *d, const xmlNode *kn, const struct smsr_sd *sd, const struct smsr_keyset *set,
		     struct smsr_key *k)
{
	struct smsr_soap_cur c;
	const xmlNode *n;
	uint64_t v;
	unsigned i, cnt;
	int len;

	len = s_attr_hex(d, kn, "kcv", k->kcv, 0, sizeof(k->kcv));
	if (len < 0)
		return len;
	k->kcv_len = (uint8_t)len;
	if (smsr_soap_cur_init(&c, d->e, kn, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	if (smsr_soap_get_uint(&c, smsr_soap_cur_req(&c, "Index"), 0, 127, &v))
		return s_status(d->err);
	k->index = (uint8_t)v;
	cnt = s_count(&c, "KeyComponents");
	if (!cnt) {
		smsr_soap_cur_req(&c, "KeyComponents");
		return s_status(d->err);
	}
	if (!d->in->key_import)
		return smsr_soap_field_fail(d->err, kn, NULL, false, "key values are not accepted here");
	k->comp = talloc_zero_array(d->e, struct smsr_key_component, cnt);
	if (!k->comp)
		return s_internal(d->err, -ENOMEM, "allocation");
	for (i = 0; i < cnt; i++) {
		struct smsr_key_component *kc = &k->comp[i];
		struct smsr_eis_key_ref ref = {
			.eid = d->e->eid, .sd = sd->role, .kvn = set->version, .usage = set->type,
			.key_index = k->index, .comp_no = i,
		};
		xmlNode *t;
		uint8_t *val;
		size_t vlen;
		long got;
		int rc;

		n = smsr_soap_cur_req(&c, "KeyComponents");
		if (!n)
			return s_status(d->err);
		if (s_attr_hex(d, n, "type", &kc->type, 1, 1) < 0)
			return s_status(d->err);
		ref.comp_type = kc->type;
		if (!s_attr(n, "value"))
			return smsr_soap_field_fail(d->err, n, NULL, true, "KeyComponents: attribute value missing");
		t = s_attr_text(s_attr(n, "value"));
		vlen = t ? strlen((const char *)t->content) / 2 : 0;
		val = talloc_array(NULL, uint8_t, vlen ? vlen : 1);
		if (!val)
			return s_internal(d->err, -ENOMEM, "allocation");
		got = t ? s_hex((const char *)t->content, val, vlen) : 0;
		s_wipe_attr(t);
		if (got < 0 || !got) {
			explicit_bzero(val, vlen);
			talloc_free(val);
			return smsr_soap_field_fail(d->err, n, NULL, false, "KeyComponents: value must be hexBinary");
		}
		rc = d->in->key_import(d->in->key_data, &ref, val, (size_t)got, d->e, &kc->wrapped, &kc->wrapped_len);
		explicit_bzero(val, vlen);
		talloc_free(val);
		if (rc < 0)
			return s_internal(d->err, rc, "key import");
		if (!kc->wrapped)
			return s_internal(d->err, -EINVAL, "key import");
		k->n_comp++;
		/* KeyComponents is an empty element */
		if (n->children) {
			struct smsr_soap_cur cc;
			if (smsr_soap_cur_init(&cc, d->e, n, SMSR_NS_RPS, d->err) || smsr_soap_cur_end(&cc))
				return s_status(d->err);
		}
	}
	return smsr_soap_cur_end(&c);
}

static int s_dec_cert(struct s_dec *d, const xmlNode *cn, struct smsr_certificate *ct)
{
	struct smsr_soap_cur c;
	uint64_t v;

	if (smsr_soap_cur_init(&c, d->e, cn, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	if (smsr_soap_get_uint(&c, smsr_soap_cur_req(&c, "Index"), 0, 127, &v))
		return s_status(d->err);
	ct->index = (uint8_t)v;
	ct->ca_id = smsr_soap_get_oid(&c, smsr_soap_cur_req(&c, "CaId"));
	if (!ct->ca_id)
		return s_status(d->err);
	if (smsr_soap_get_hex_alloc(&c, smsr_soap_cur_req(&c, "Value"), &ct->value, &ct->len))
		return s_status(d->err);
	return smsr_soap_cur_end(&c);
}

static int s_dec_keyset(struct s_dec *d, const xmlNode *kn, const struct smsr_sd *sd, struct smsr_keyset *set)
{
	struct smsr_soap_cur c;
	const xmlNode *n;
	unsigned nk = 0, nc = 0, total = 0;
	uint64_t v;
	int t;

	if (smsr_soap_cur_init(&c, d->e, kn, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	if (smsr_soap_get_uint(&c, smsr_soap_cur_req(&c, "Version"), 1, 127, &v))
		return s_status(d->err);
	set->version = (uint8_t)v;
	n = smsr_soap_cur_opt(&c, "Type");
	if (n) {
		t = smsr_soap_get_enum(&c, n, s_usage_names);
		if (t < 0)
			return t;
		set->type = (enum smsr_keyset_usage)(t + 1);
	}
	n = smsr_soap_cur_opt(&c, "Cntr");
	if (n && smsr_soap_get_uint(&c, n, 0, UINT64_MAX, &set->cntr))
		return s_status(d->err);
	/* (Key | Certificate){0,128}: count both, then decode in document order */
	for (n = c.next; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)n->name, "Key"))
			nk++;
		else if (!strcmp((const char *)n->name, "Certificate"))
			nc++;
		else
			break;
	}
	if (nk + nc > 128)
		return smsr_soap_field_fail(d->err, kn, NULL, false, "Keyset: more than 128 keys and certificates");
	if ((nk && !(set->keys = talloc_zero_array(d->e, struct smsr_key, nk))) ||
	    (nc && !(set->certs = talloc_zero_array(d->e, struct smsr_certificate, nc))))
		return s_internal(d->err, -ENOMEM, "allocation");
	for (total = 0; total < nk + nc; total++) {
		if ((n = smsr_soap_cur_opt(&c, "Key"))) {
			if (s_dec_key(d, n, sd, set, &set->keys[set->n_keys]))
				return s_status(d->err);
			set->n_keys++;
		} else if ((n = smsr_soap_cur_opt(&c, "Certificate"))) {
			if (s_dec_cert(d, n, &set->certs[set->n_certs]))
				return s_status(d->err);
			set->n_certs++;
		} else {
			return s_status(d->err) ? s_status(d->err) : smsr_soap_cur_end(&c);
		}
	}
	return smsr_soap_cur_end(&c);
}

static int s_dec_sd(struct s_dec *d, const xmlNode *sdn, struct smsr_sd *sd, enum smsr_sd_role role)
{
	struct smsr_soap_cur c;
	const xmlNode *n;
	unsigned i, cnt;
	int len, r;

	if (!sdn)
		return s_status(d->err);
	if (smsr_soap_cur_init(&c, d->e, sdn, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	if (s_aid(&c, smsr_soap_cur_req(&c, "Aid"), &sd->aid))
		return s_status(d->err);
	cnt = s_count(&c, "Tar");
	if (cnt && !(sd->tars = (uint8_t(*)[3])talloc_zero_size(d->e, 3 * (size_t)cnt)))
		return s_internal(d->err, -ENOMEM, "allocation");
	for (i = 0; i < cnt; i++) {
		if (smsr_soap_get_hex(&c, smsr_soap_cur_req(&c, "Tar"), sd->tars[i], 3, 3) < 0)
			return s_status(d->err);
		sd->n_tars++;
	}
	len = smsr_soap_get_hex(&c, smsr_soap_cur_req(&c, "Sin"), sd->sin, 0, SMSR_SIN_MAX);
	if (len < 0)
		return s_status(d->err);
	sd->sin_len = (uint8_t)len;
	len = smsr_soap_get_hex(&c, smsr_soap_cur_req(&c, "Sdin"), sd->sdin, 0, SMSR_SIN_MAX);
	if (len < 0)
		return s_status(d->err);
	sd->sdin_len = (uint8_t)len;
	n = smsr_soap_cur_req(&c, "Role");
	r = smsr_soap_get_enum(&c, n, s_role_names);
	if (r < 0)
		return s_status(d->err);
	if ((enum smsr_sd_role)r != role)
		return smsr_soap_field_fail(d->err, n, NULL, false, "Role %s in %s", s_role_names[r],
					    (const char *)sdn->name);
	sd->role = role;
	cnt = s_count(&c, "Keyset");
	if (!cnt) {
		smsr_soap_cur_req(&c, "Keyset");
		return s_status(d->err);
	}
	if (cnt > 127)
		return smsr_soap_field_fail(d->err, sdn, NULL, false, "more than 127 keysets");
	sd->keysets = talloc_zero_array(d->e, struct smsr_keyset, cnt);
	if (!sd->keysets)
		return s_internal(d->err, -ENOMEM, "allocation");
	for (i = 0; i < cnt; i++) {
		if (s_dec_keyset(d, smsr_soap_cur_req(&c, "Keyset"), sd, &sd->keysets[i]))
			return s_status(d->err);
		sd->n_keysets++;
	}
	return smsr_soap_cur_end(&c);
}

static int s_dec_signed_info(struct s_dec *d, const xmlNode *si)
{
	struct smsr_eis *e = d->e;
	struct smsr_soap_cur c, cc;
	const xmlNode *cap, *n;

	if (smsr_soap_cur_init(&c, e, si, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	n = smsr_soap_cur_req(&c, "Eid");
	if (n && smsr_soap_get_hex(&c, n, e->eid, SMSR_EID_LEN, SMSR_EID_LEN) < 0)
		return s_status(d->err);
	e->eum_id = smsr_soap_get_oid(&c, smsr_soap_cur_req(&c, "Eum-id"));
	e->production_date = smsr_soap_get_datetime(&c, smsr_soap_cur_req(&c, "ProductionDate"));
	e->platform_type = smsr_soap_get_string100(&c, smsr_soap_cur_req(&c, "PlatformType"));
	e->platform_version = smsr_soap_get_version(&c, smsr_soap_cur_req(&c, "PlatformVersion"));
	if (d->err->set)
		return s_status(d->err);
	if (s_aid(&c, smsr_soap_cur_req(&c, "Isd-p-loadfile-aid"), &e->isdp_loadfile_aid) ||
	    s_aid(&c, smsr_soap_cur_req(&c, "Isd-p-module-aid"), &e->isdp_module_aid))
		return s_status(d->err);
	n = smsr_soap_cur_req(&c, "Ecasd");
	if (!n || s_dec_sd(d, n, &e->ecasd, SMSR_SD_ECASD))
		return s_status(d->err);
	cap = smsr_soap_cur_req(&c, "EuiccCapabilities");
	if (!cap || smsr_soap_cur_init(&cc, e, cap, SMSR_NS_RPS, d->err))
		return s_status(d->err);
	if (smsr_soap_get_bool(&cc, smsr_soap_cur_req(&cc, "CattpSupport"), &e->cattp_support))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&cc, "CattpVersion")) && !(e->cattp_version = smsr_soap_get_version(&cc, n)))
		return s_status(d->err);
	if (smsr_soap_get_bool(&cc, smsr_soap_cur_req(&cc, "HttpSupport"), &e->http_support))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&cc, "HttpVersion")) && !(e->http_version = smsr_soap_get_version(&cc, n)))
		return s_status(d->err);
	e->secure_packet_version = smsr_soap_get_version(&cc, smsr_soap_cur_req(&cc, "SecurePacketVersion"));
	e->remote_provisioning_version =
		smsr_soap_get_version(&cc, smsr_soap_cur_req(&cc, "RemoteProvisioningVersion"));
	if (d->err->set || smsr_soap_cur_end(&cc))
		return s_status(d->err);
	return smsr_soap_cur_end(&c);
}

/* EumSignature (ds:SignatureType): check the ds:SignedInfo / ds:SignatureValue skeleton only; the XML-DSig module
 * verifies it. */
static int s_dec_signature(struct s_dec *d, const xmlNode *sig)
{
	struct smsr_soap_cur c;

	if (smsr_soap_cur_init(&c, d->e, sig, SMSR_NS_DSIG, d->err))
		return -EBADMSG;
	if (!smsr_soap_cur_req(&c, "SignedInfo") || !smsr_soap_cur_req(&c, "SignatureValue"))
		return s_status(d->err);
	smsr_soap_cur_opt(&c, "KeyInfo");
	while (smsr_soap_cur_opt(&c, "Object"))
		;
	return smsr_soap_cur_end(&c);
}

static int s_dec_profile(struct s_dec *d, const xmlNode *pn, struct smsr_profile *p)
{
	struct smsr_soap_cur c;
	const xmlNode *n;
	int v;

	if (smsr_soap_cur_init(&c, d->e, pn, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	if (smsr_soap_get_iccid(&c, smsr_soap_cur_req(&c, "Iccid"), p->iccid, sizeof(p->iccid)) ||
	    s_aid(&c, smsr_soap_cur_req(&c, "Isd-p-aid"), &p->isdp_aid))
		return s_status(d->err);
	p->mno_id = smsr_soap_get_oid(&c, smsr_soap_cur_req(&c, "Mno-id"));
	if (!p->mno_id || smsr_soap_get_bool(&c, smsr_soap_cur_req(&c, "FallbackAttribute"), &p->fallback))
		return s_status(d->err);
	n = smsr_soap_cur_req(&c, "SubscriptionAddress");
	if (!n || smsr_eis_xml_subaddr_decode(d->e, n, p->imsi, p->msisdn, d->err))
		return s_status(d->err);
	v = smsr_soap_get_enum(&c, smsr_soap_cur_req(&c, "State"), s_state_names);
	if (v < 0)
		return s_status(d->err);
	p->state = (enum smsr_profile_state)v;
	if ((n = smsr_soap_cur_opt(&c, "Smdp-id")) && !(p->smdp_id = smsr_soap_get_oid(&c, n)))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&c, "ProfileType")) && !(p->profile_type = smsr_soap_get_string100(&c, n)))
		return s_status(d->err);
	if (smsr_soap_get_uint(&c, smsr_soap_cur_req(&c, "AllocatedMemory"), 0, UINT64_MAX, &p->allocated_memory))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&c, "FreeMemory"))) {
		if (smsr_soap_get_uint(&c, n, 0, UINT64_MAX, &p->free_memory))
			return s_status(d->err);
		p->has_free_memory = true;
	}
	n = smsr_soap_cur_req(&c, "pol2");
	if (!n || smsr_eis_xml_pol2_decode(d->e, n, &p->pol2, &p->n_pol2, d->err))
		return s_status(d->err);
	return smsr_soap_cur_end(&c);
}

int smsr_eis_xml_pol2_decode(void *ctx, const xmlNode *pol2, struct smsr_pol2_rule **rules, unsigned *n_rules,
			     struct smsr_soap_field_err *err)
{
	struct smsr_soap_cur sc, rc;
	const xmlNode *n;
	unsigned i, cnt;
	int a, q;

	*rules = NULL;
	*n_rules = 0;
	if (smsr_soap_cur_init(&sc, ctx, pol2, SMSR_NS_RPS, err))
		return -EBADMSG;
	cnt = s_count(&sc, "Rule");
	if (cnt && !(*rules = talloc_zero_array(ctx, struct smsr_pol2_rule, cnt)))
		return s_internal(err, -ENOMEM, "allocation");
	for (i = 0; i < cnt; i++) {
		n = smsr_soap_cur_req(&sc, "Rule");
		if (!n || smsr_soap_cur_init(&rc, ctx, n, SMSR_NS_RPS, err))
			return s_status(err);
		if (smsr_soap_get_enum(&rc, smsr_soap_cur_req(&rc, "Subject"), s_subject_names) < 0)
			return s_status(err);
		a = smsr_soap_get_enum(&rc, smsr_soap_cur_req(&rc, "Action"), s_action_names);
		q = a < 0 ? a : smsr_soap_get_enum(&rc, smsr_soap_cur_req(&rc, "Qualification"), s_qual_names);
		if (q < 0 || smsr_soap_cur_end(&rc))
			return s_status(err);
		(*rules)[i].action = (enum smsr_pol2_action)a;
		(*rules)[i].qualification = (enum smsr_pol2_qual)q;
		(*n_rules)++;
	}
	return smsr_soap_cur_end(&sc);
}

xmlNode *smsr_eis_xml_pol2_encode(struct smsr_soap_bld *b, xmlNode *parent, const char *elem,
				  const struct smsr_pol2_rule *rules, unsigned n_rules)
{
	xmlNode *pol = smsr_soap_add(b, parent, elem, NULL);
	unsigned i;

	for (i = 0; i < n_rules; i++) {
		const char *a = s_name(s_action_names, ARRAY_SIZE(s_action_names), rules[i].action);
		const char *q = s_name(s_qual_names, ARRAY_SIZE(s_qual_names), rules[i].qualification);
		xmlNode *r = smsr_soap_add(b, pol, "Rule", NULL);

		if (!a || !q) {
			if (!b->rc)
				b->rc = -EINVAL;
			return NULL;
		}
		smsr_soap_add(b, r, "Subject", "PROFILE");
		smsr_soap_add(b, r, "Action", a);
		smsr_soap_add(b, r, "Qualification", q);
	}
	return pol;
}

int smsr_eis_xml_subaddr_decode(void *ctx, const xmlNode *sa, char imsi[SMSR_IMSI_MAX + 1],
				char msisdn[SMSR_MSISDN_MAX + 1], struct smsr_soap_field_err *err)
{
	struct smsr_soap_cur sc;
	const xmlNode *n;

	imsi[0] = msisdn[0] = '\0';
	if (smsr_soap_cur_init(&sc, ctx, sa, SMSR_NS_RPS, err))
		return -EBADMSG;
	if ((n = smsr_soap_cur_opt(&sc, "Imsi")) &&
	    smsr_soap_get_digits(&sc, n, 0, SMSR_IMSI_MAX, imsi, SMSR_IMSI_MAX + 1))
		return s_status(err);
	if ((n = smsr_soap_cur_opt(&sc, "Msisdn")) &&
	    smsr_soap_get_digits(&sc, n, 3, SMSR_MSISDN_MAX, msisdn, SMSR_MSISDN_MAX + 1))
		return s_status(err);
	return smsr_soap_cur_end(&sc);
}

xmlNode *smsr_eis_xml_subaddr_encode(struct smsr_soap_bld *b, xmlNode *parent, const char *elem, const char *imsi,
				     const char *msisdn)
{
	xmlNode *sa = smsr_soap_add(b, parent, elem, NULL);

	if (imsi && imsi[0])
		smsr_soap_add(b, sa, "Imsi", imsi);
	if (msisdn && msisdn[0])
		smsr_soap_add(b, sa, "Msisdn", msisdn);
	return sa;
}

static int s_dec_record(struct s_dec *d, const xmlNode *rn, struct smsr_audit_record *r)
{
	struct smsr_soap_cur c, sc;
	uint8_t eid[SMSR_EID_LEN], op[2];
	const xmlNode *n;
	int v, len;

	r->status = -1;
	if (smsr_soap_cur_init(&c, d->e, rn, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	n = smsr_soap_cur_req(&c, "Eid");
	if (!n || smsr_soap_get_hex(&c, n, eid, SMSR_EID_LEN, SMSR_EID_LEN) < 0)
		return s_status(d->err);
	if (memcmp(eid, d->e->eid, SMSR_EID_LEN))
		return smsr_soap_field_fail(d->err, n, NULL, false, "audit record of another eUICC");
	/* Smsr-id of the record: checked, not kept (struct smsr_audit_record has no field for it) */
	n = smsr_soap_cur_req(&c, "Smsr-id");
	if (n) {
		char *s = smsr_soap_get_oid(&c, n);
		talloc_free(s);
	}
	r->operation_date = smsr_soap_get_datetime(&c, smsr_soap_cur_req(&c, "OperationDate"));
	if (!r->operation_date)
		return s_status(d->err);
	if (smsr_soap_get_hex(&c, smsr_soap_cur_req(&c, "OperationType"), op, 2, 2) < 0)
		return s_status(d->err);
	r->operation_type = (uint16_t)(op[0] << 8 | op[1]);
	if ((n = smsr_soap_cur_opt(&c, "RequesterId")) && !(r->requester_id = smsr_soap_get_oid(&c, n)))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&c, "OperationExecutionStatus"))) {
		if (smsr_soap_cur_init(&sc, d->e, n, SMSR_NS_RPS, d->err))
			return -EBADMSG;
		v = smsr_soap_get_enum(&sc, smsr_soap_cur_req(&sc, "Status"), s_status_names);
		if (v < 0)
			return s_status(d->err);
		r->status = v;
		/* StatusCodeData is checked but not kept (struct smsr_audit_record keeps the status only) */
		if ((n = smsr_soap_cur_opt(&sc, "StatusCodeData"))) {
			struct smsr_soap_cur dc;
			char *s;
			if (smsr_soap_cur_init(&dc, d->e, n, SMSR_NS_RPS, d->err))
				return -EBADMSG;
			s = smsr_soap_get_oid(&dc, smsr_soap_cur_req(&dc, "Subject"));
			talloc_free(s);
			s = smsr_soap_get_oid(&dc, smsr_soap_cur_req(&dc, "Reason"));
			talloc_free(s);
			if ((n = smsr_soap_cur_opt(&dc, "SubjectIdentifier")))
				talloc_free(smsr_soap_text(&dc, n, true));
			if ((n = smsr_soap_cur_opt(&dc, "Message")))
				talloc_free(smsr_soap_text(&dc, n, true));
			if (smsr_soap_cur_end(&dc))
				return s_status(d->err);
		}
		if (smsr_soap_cur_end(&sc))
			return s_status(d->err);
	}
	if ((n = smsr_soap_cur_opt(&c, "Isd-p-aid")) && s_aid(&c, n, &r->isdp_aid))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&c, "Iccid")) && smsr_soap_get_iccid(&c, n, r->iccid, sizeof(r->iccid)))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&c, "Imei"))) {
		len = smsr_soap_get_hex(&c, n, r->imei, 1, sizeof(r->imei));
		if (len < 0)
			return s_status(d->err);
		r->imei_len = (uint8_t)len;
	}
	if ((n = smsr_soap_cur_opt(&c, "Meid"))) {
		len = smsr_soap_get_hex(&c, n, r->meid, 1, sizeof(r->meid));
		if (len < 0)
			return s_status(d->err);
		r->meid_len = (uint8_t)len;
	}
	return smsr_soap_cur_end(&c);
}

static int s_dec_eis(struct s_dec *d, xmlNode *eis_node)
{
	struct smsr_eis *e = d->e;
	struct smsr_soap_cur c, sc;
	const xmlNode *n, *si, *sig;
	unsigned i, cnt;
	int rc;

	if (smsr_soap_cur_init(&c, e, eis_node, SMSR_NS_RPS, d->err))
		return -EBADMSG;
	si = smsr_soap_cur_req(&c, "EumSignedInfo");
	if (!si)
		return s_status(d->err);
	/* canonical text first: decoding the ECASD keys wipes their values in the document */
	rc = smsr_soap_c14n(e, (xmlNode *)si, XML_C14N_EXCLUSIVE_1_0, &e->signed_info_xml, NULL);
	if (rc == -EBADMSG)
		return smsr_soap_field_fail(d->err, si, NULL, false, "EumSignedInfo cannot be canonicalised");
	if (rc)
		return s_internal(d->err, rc, "canonicalisation");
	if (s_dec_signed_info(d, si))
		return s_status(d->err);
	sig = smsr_soap_cur_req(&c, "EumSignature");
	if (!sig || s_dec_signature(d, sig))
		return s_status(d->err);
	rc = smsr_soap_c14n(e, (xmlNode *)sig, XML_C14N_EXCLUSIVE_1_0, &e->signature_xml, NULL);
	if (rc == -EBADMSG)
		return smsr_soap_field_fail(d->err, sig, NULL, false, "EumSignature cannot be canonicalised");
	if (rc)
		return s_internal(d->err, rc, "canonicalisation");
	if (smsr_soap_get_uint(&c, smsr_soap_cur_req(&c, "RemainingMemory"), 0, UINT64_MAX, &e->remaining_memory) ||
	    smsr_soap_get_uint(&c, smsr_soap_cur_req(&c, "AvailableMemoryForProfiles"), 0, UINT64_MAX,
			       &e->available_memory))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&c, "LastAuditDate")) && !(e->last_audit_date = smsr_soap_get_datetime(&c, n)))
		return s_status(d->err);
	e->smsr_id = smsr_soap_get_oid(&c, smsr_soap_cur_req(&c, "Smsr-id"));
	if (!e->smsr_id)
		return s_status(d->err);
	cnt = s_count(&c, "ProfileInfo");
	if (cnt && !(e->profiles = talloc_zero_array(e, struct smsr_profile, cnt)))
		return s_internal(d->err, -ENOMEM, "allocation");
	for (i = 0; i < cnt; i++) {
		unsigned j;
		n = smsr_soap_cur_req(&c, "ProfileInfo");
		if (!n || s_dec_profile(d, n, &e->profiles[i]))
			return s_status(d->err);
		for (j = 0; j < i; j++) {
			if (!strcmp(e->profiles[j].iccid, e->profiles[i].iccid))
				return smsr_soap_field_fail(d->err, n, "Iccid", false, "duplicate ICCID %s",
							    e->profiles[i].iccid);
		}
		e->n_profiles++;
	}
	n = smsr_soap_cur_req(&c, "Isd-r");
	if (!n || s_dec_sd(d, n, &e->isdr, SMSR_SD_ISDR))
		return s_status(d->err);
	if ((n = smsr_soap_cur_opt(&c, "AuditTrail"))) {
		if (smsr_soap_cur_init(&sc, e, n, SMSR_NS_RPS, d->err))
			return -EBADMSG;
		cnt = s_count(&sc, "Record");
		if (cnt && !(e->audit = talloc_zero_array(e, struct smsr_audit_record, cnt)))
			return s_internal(d->err, -ENOMEM, "allocation");
		for (i = 0; i < cnt; i++) {
			if (s_dec_record(d, smsr_soap_cur_req(&sc, "Record"), &e->audit[i]))
				return s_status(d->err);
			e->n_audit++;
		}
		if (smsr_soap_cur_end(&sc))
			return s_status(d->err);
	}
	if ((n = smsr_soap_cur_opt(&c, "AdditionalProperties"))) {
		if (smsr_soap_cur_init(&sc, e, n, SMSR_NS_RPS, d->err))
			return -EBADMSG;
		cnt = s_count(&sc, "Property");
		if (!cnt) {
			smsr_soap_cur_req(&sc, "Property");
			return s_status(d->err);
		}
		if (!(e->props = talloc_zero_array(e, struct smsr_property, cnt)))
			return s_internal(d->err, -ENOMEM, "allocation");
		for (i = 0; i < cnt; i++) {
			const xmlAttr *k, *v;
			xmlNode *kt, *vt;
			struct smsr_soap_cur pc;
			n = smsr_soap_cur_req(&sc, "Property");
			if (!n || smsr_soap_cur_init(&pc, e, n, SMSR_NS_RPS, d->err) || smsr_soap_cur_end(&pc))
				return s_status(d->err);
			k = s_attr(n, "key");
			v = s_attr(n, "value");
			if (!k || !v)
				return smsr_soap_field_fail(d->err, n, NULL, true, "Property: attribute %s missing",
							    k ? "value" : "key");
			kt = s_attr_text(k);
			vt = s_attr_text(v);
			if (!kt || !kt->content[0] || (v->children && !vt))
				return smsr_soap_field_fail(d->err, n, NULL, false, "Property: empty key");
			e->props[i].key = talloc_strdup(e, (const char *)kt->content);
			e->props[i].value = talloc_strdup(e, vt ? (const char *)vt->content : "");
			if (!e->props[i].key || !e->props[i].value)
				return s_internal(d->err, -ENOMEM, "allocation");
			e->n_props++;
		}
		if (smsr_soap_cur_end(&sc))
			return s_status(d->err);
	}
	return smsr_soap_cur_end(&c);
}

int smsr_eis_xml_decode(void *ctx, xmlNode *eis, const struct smsr_eis_xml_in *in, struct smsr_eis **out,
			struct smsr_soap_field_err *err)
{
	static const struct smsr_eis_xml_in no_keys;
	const struct smsr_profile *p;
	struct s_dec d;
	int rc;

	*out = NULL;
	if (!eis || !err)
		return -EINVAL;
	d.e = talloc_zero(ctx, struct smsr_eis);
	if (!d.e)
		return s_internal(err, -ENOMEM, "allocation");
	d.in = in ? in : &no_keys;
	d.err = err;
	rc = s_dec_eis(&d, eis);
	if (!rc)
		rc = s_status(err);
	if (rc) {
		talloc_free(d.e);
		return rc;
	}
	/* EISType has no ISD-R address: the eUICC is reached at the MSISDN of its enabled profile until an
	 * enable with a known MSISDN (or UpdateSubscriptionAddress) changes it */
	if (!d.e->isdr_msisdn[0] && (p = smsr_eis_profile_enabled(d.e)))
		snprintf(d.e->isdr_msisdn, sizeof(d.e->isdr_msisdn), "%s", p->msisdn);
	*out = d.e;
	return 0;
}

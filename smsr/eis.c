/* The in-memory EIS (SGP.02 EISType): enum names in the wire spelling of euicc.common.types.xsd, lookups, the
 * POL2 checks and a deep copy / deep comparison of the talloc tree. */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include "smsr/eis.h"

/* Value-string tables: index = enum value, entry = exact xs:enumeration value. */
static const char *const profile_state_names[] = {
	[SMSR_PROFILE_CREATED] = "Created",
	[SMSR_PROFILE_DISABLED] = "Disabled",
	[SMSR_PROFILE_ENABLED] = "Enabled",
};

static const char *const pol2_action_names[] = {
	[SMSR_POL2_ENABLE] = "ENABLE",
	[SMSR_POL2_DISABLE] = "DISABLE",
	[SMSR_POL2_DELETE] = "DELETE",
};

static const char *const pol2_qual_names[] = {
	[SMSR_POL2_NOT_ALLOWED] = "Not-Allowed",
	[SMSR_POL2_AUTO_DELETE] = "Auto-Delete",
};

/* SMSR_KEYSET_UNSPECIFIED has no wire spelling: the Type element is absent */
static const char *const keyset_usage_names[] = {
	[SMSR_KEYSET_UNSPECIFIED] = NULL,
	[SMSR_KEYSET_SCP03] = "SCP03",
	[SMSR_KEYSET_SCP80] = "SCP80",
	[SMSR_KEYSET_SCP81] = "SCP81",
	[SMSR_KEYSET_TOKEN] = "TokenGeneration",
	[SMSR_KEYSET_RECEIPT] = "ReceiptVerification",
	[SMSR_KEYSET_CA] = "CA",
};

static const char *const sd_role_names[] = {
	[SMSR_SD_ISDR] = "ISD-R",
	[SMSR_SD_ECASD] = "ECASD",
};

static const char *const exec_status_names[] = {
	[SMSR_EXEC_SUCCESS] = "EXECUTED_SUCCESS",
	[SMSR_EXEC_WITH_WARNING] = "EXECUTED_WITHWARNING",
	[SMSR_EXEC_FAILED] = "FAILED",
	[SMSR_EXEC_EXPIRED] = "EXPIRED",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *vs_name(const char *const *tab, size_t n, unsigned v)
{
	return v < n ? tab[v] : NULL;
}

static int vs_parse(const char *const *tab, size_t n, const char *s, unsigned *out)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (tab[i] && !strcmp(tab[i], s)) {
			*out = (unsigned)i;
			return 0;
		}
	}
	return -EINVAL;
}

#define VS_FUNCS(prefix, type, tab)                                                                             \
	const char *prefix##_name(type v)                                                                       \
	{                                                                                                       \
		return vs_name(tab, ARRAY_SIZE(tab), (unsigned)v);                                              \
	}                                                                                                       \
	int prefix##_parse(const char *s, type *out)                                                            \
	{                                                                                                       \
		unsigned v;                                                                                     \
		int rc = vs_parse(tab, ARRAY_SIZE(tab), s, &v);                                                 \
		if (rc == 0)                                                                                    \
			*out = (type)v;                                                                         \
		return rc;                                                                                      \
	}

VS_FUNCS(smsr_profile_state, enum smsr_profile_state, profile_state_names)
VS_FUNCS(smsr_pol2_action, enum smsr_pol2_action, pol2_action_names)
VS_FUNCS(smsr_pol2_qual, enum smsr_pol2_qual, pol2_qual_names)
VS_FUNCS(smsr_keyset_usage, enum smsr_keyset_usage, keyset_usage_names)
VS_FUNCS(smsr_sd_role, enum smsr_sd_role, sd_role_names)
VS_FUNCS(smsr_exec_status, enum smsr_exec_status, exec_status_names)

struct smsr_profile *smsr_eis_profile_by_iccid(const struct smsr_eis *e, const char *iccid)
{
	unsigned i;

	if (!e || !iccid || !iccid[0])
		return NULL;
	for (i = 0; i < e->n_profiles; i++) {
		if (!strcmp(e->profiles[i].iccid, iccid))
			return &e->profiles[i];
	}
	return NULL;
}

struct smsr_profile *smsr_eis_profile_by_aid(const struct smsr_eis *e, const uint8_t *aid, size_t aid_len)
{
	unsigned i;

	if (!e || !aid || !aid_len || aid_len > SMSR_AID_MAX)
		return NULL;
	for (i = 0; i < e->n_profiles; i++) {
		const struct smsr_aid *a = &e->profiles[i].isdp_aid;

		if (a->len == aid_len && !memcmp(a->b, aid, aid_len))
			return &e->profiles[i];
	}
	return NULL;
}

struct smsr_profile *smsr_eis_profile_enabled(const struct smsr_eis *e)
{
	unsigned i;

	if (!e)
		return NULL;
	for (i = 0; i < e->n_profiles; i++) {
		if (e->profiles[i].state == SMSR_PROFILE_ENABLED)
			return &e->profiles[i];
	}
	return NULL;
}

static bool pol2_has(const struct smsr_profile *p, enum smsr_pol2_action a, enum smsr_pol2_qual q)
{
	unsigned i;

	if (!p)
		return false;
	for (i = 0; i < p->n_pol2; i++) {
		if (p->pol2[i].action == a && p->pol2[i].qualification == q)
			return true;
	}
	return false;
}

bool smsr_profile_pol2_forbids(const struct smsr_profile *p, enum smsr_pol2_action a)
{
	return pol2_has(p, a, SMSR_POL2_NOT_ALLOWED);
}

bool smsr_profile_pol2_auto_delete(const struct smsr_profile *p, enum smsr_pol2_action a)
{
	return pol2_has(p, a, SMSR_POL2_AUTO_DELETE);
}

/*
 * Deep copy. Every helper returns false on allocation failure; the caller frees the partial copy.
 */

static bool dup_str(void *ctx, char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return true;
	}
	*dst = talloc_strdup(ctx, src);
	return *dst != NULL;
}

static bool dup_mem(void *ctx, uint8_t **dst, const uint8_t *src, size_t len)
{
	if (!src || !len) {
		*dst = NULL;
		return true;
	}
	*dst = talloc_memdup(ctx, src, len);
	return *dst != NULL;
}

/* Copy an array of n elements of size sz (shallow); the caller then fixes up the pointers inside. */
static bool dup_array(void *ctx, void **dst, const void *src, size_t sz, unsigned n)
{
	if (!src || !n) {
		*dst = NULL;
		return true;
	}
	*dst = talloc_memdup(ctx, src, sz * n);
	return *dst != NULL;
}

static bool dup_keyset(void *ctx, struct smsr_keyset *ks)
{
	unsigned i, j;

	if (!dup_array(ctx, (void **)&ks->keys, ks->keys, sizeof(*ks->keys), ks->n_keys))
		return false;
	for (i = 0; i < ks->n_keys; i++) {
		struct smsr_key *k = &ks->keys[i];

		if (!dup_array(ctx, (void **)&k->comp, k->comp, sizeof(*k->comp), k->n_comp))
			return false;
		for (j = 0; j < k->n_comp; j++) {
			if (!dup_mem(ctx, &k->comp[j].wrapped, k->comp[j].wrapped, k->comp[j].wrapped_len))
				return false;
		}
	}
	if (!dup_array(ctx, (void **)&ks->certs, ks->certs, sizeof(*ks->certs), ks->n_certs))
		return false;
	for (i = 0; i < ks->n_certs; i++) {
		struct smsr_certificate *c = &ks->certs[i];

		if (!dup_str(ctx, &c->ca_id, c->ca_id) || !dup_mem(ctx, &c->value, c->value, c->len))
			return false;
	}
	return true;
}

static bool dup_sd(void *ctx, struct smsr_sd *sd)
{
	unsigned i;

	if (!dup_array(ctx, (void **)&sd->tars, sd->tars, sizeof(*sd->tars), sd->n_tars))
		return false;
	if (!dup_array(ctx, (void **)&sd->keysets, sd->keysets, sizeof(*sd->keysets), sd->n_keysets))
		return false;
	for (i = 0; i < sd->n_keysets; i++) {
		if (!dup_keyset(ctx, &sd->keysets[i]))
			return false;
	}
	return true;
}

struct smsr_eis *smsr_eis_dup(void *ctx, const struct smsr_eis *e)
{
	struct smsr_eis *d;
	unsigned i;

	if (!e)
		return NULL;
	d = talloc_memdup(ctx, e, sizeof(*e));
	if (!d)
		return NULL;
	talloc_set_name_const(d, "struct smsr_eis");
	/* the shallow copy still points at e's children: replace each pointer in turn */
	if (!dup_str(d, &d->eum_id, e->eum_id) || !dup_str(d, &d->production_date, e->production_date) ||
	    !dup_str(d, &d->platform_type, e->platform_type) ||
	    !dup_str(d, &d->platform_version, e->platform_version) ||
	    !dup_str(d, &d->cattp_version, e->cattp_version) || !dup_str(d, &d->http_version, e->http_version) ||
	    !dup_str(d, &d->secure_packet_version, e->secure_packet_version) ||
	    !dup_str(d, &d->remote_provisioning_version, e->remote_provisioning_version) ||
	    !dup_str(d, &d->signed_info_xml, e->signed_info_xml) ||
	    !dup_str(d, &d->signature_xml, e->signature_xml) ||
	    !dup_str(d, &d->last_audit_date, e->last_audit_date) || !dup_str(d, &d->smsr_id, e->smsr_id) ||
	    !dup_str(d, &d->last_attach, e->last_attach))
		goto fail;
	if (!dup_sd(d, &d->ecasd) || !dup_sd(d, &d->isdr))
		goto fail;

	if (!dup_array(d, (void **)&d->profiles, e->profiles, sizeof(*e->profiles), e->n_profiles))
		goto fail;
	for (i = 0; i < d->n_profiles; i++) {
		struct smsr_profile *p = &d->profiles[i];

		if (!dup_str(d, &p->mno_id, p->mno_id) || !dup_str(d, &p->smdp_id, p->smdp_id) ||
		    !dup_str(d, &p->profile_type, p->profile_type) ||
		    !dup_array(d, (void **)&p->pol2, p->pol2, sizeof(*p->pol2), p->n_pol2))
			goto fail;
	}
	if (!dup_array(d, (void **)&d->audit, e->audit, sizeof(*e->audit), e->n_audit))
		goto fail;
	for (i = 0; i < d->n_audit; i++) {
		struct smsr_audit_record *r = &d->audit[i];

		if (!dup_str(d, &r->operation_date, r->operation_date) ||
		    !dup_str(d, &r->requester_id, r->requester_id))
			goto fail;
	}
	if (!dup_array(d, (void **)&d->props, e->props, sizeof(*e->props), e->n_props))
		goto fail;
	for (i = 0; i < d->n_props; i++) {
		struct smsr_property *pr = &d->props[i];

		if (!dup_str(d, &pr->key, pr->key) || !dup_str(d, &pr->value, pr->value))
			goto fail;
	}
	return d;

fail:
	/* pointers not yet replaced still alias e's children; talloc_free(d) only frees d's own children */
	talloc_free(d);
	return NULL;
}

/*
 * Equality: field by field; NULL and "" are different strings; a byte array compares by length and content.
 */

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static bool mem_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (!alen || !memcmp(a, b, alen));
}

static bool aid_eq(const struct smsr_aid *a, const struct smsr_aid *b)
{
	return a->len <= SMSR_AID_MAX && mem_eq(a->b, a->len, b->b, b->len);
}

/* fixed char arrays: compare as strings bounded by the array */
static bool fixstr_eq(const char *a, const char *b, size_t cap)
{
	return !strncmp(a, b, cap);
}

static bool keyset_eq(const struct smsr_keyset *a, const struct smsr_keyset *b)
{
	unsigned i, j;

	if (a->version != b->version || a->type != b->type || a->cntr != b->cntr || a->n_keys != b->n_keys ||
	    a->n_certs != b->n_certs)
		return false;
	for (i = 0; i < a->n_keys; i++) {
		const struct smsr_key *ka = &a->keys[i], *kb = &b->keys[i];

		if (ka->index != kb->index || !mem_eq(ka->kcv, ka->kcv_len, kb->kcv, kb->kcv_len) ||
		    ka->n_comp != kb->n_comp || ka->kcv_len > sizeof(ka->kcv))
			return false;
		for (j = 0; j < ka->n_comp; j++) {
			const struct smsr_key_component *ca = &ka->comp[j], *cb = &kb->comp[j];

			if (ca->type != cb->type || !mem_eq(ca->wrapped, ca->wrapped_len, cb->wrapped, cb->wrapped_len))
				return false;
		}
	}
	for (i = 0; i < a->n_certs; i++) {
		const struct smsr_certificate *ca = &a->certs[i], *cb = &b->certs[i];

		if (ca->index != cb->index || !str_eq(ca->ca_id, cb->ca_id) ||
		    !mem_eq(ca->value, ca->len, cb->value, cb->len))
			return false;
	}
	return true;
}

static bool sd_eq(const struct smsr_sd *a, const struct smsr_sd *b)
{
	unsigned i;

	if (!aid_eq(&a->aid, &b->aid) || a->n_tars != b->n_tars || a->role != b->role ||
	    a->sin_len > SMSR_SIN_MAX || a->sdin_len > SMSR_SIN_MAX ||
	    !mem_eq(a->sin, a->sin_len, b->sin, b->sin_len) ||
	    !mem_eq(a->sdin, a->sdin_len, b->sdin, b->sdin_len) || a->n_keysets != b->n_keysets)
		return false;
	if (a->n_tars && memcmp(a->tars, b->tars, sizeof(*a->tars) * a->n_tars))
		return false;
	for (i = 0; i < a->n_keysets; i++) {
		if (!keyset_eq(&a->keysets[i], &b->keysets[i]))
			return false;
	}
	return true;
}

static bool profile_eq(const struct smsr_profile *a, const struct smsr_profile *b)
{
	unsigned i;

	if (!fixstr_eq(a->iccid, b->iccid, sizeof(a->iccid)) || !aid_eq(&a->isdp_aid, &b->isdp_aid) ||
	    !str_eq(a->mno_id, b->mno_id) || a->fallback != b->fallback ||
	    !fixstr_eq(a->imsi, b->imsi, sizeof(a->imsi)) || !fixstr_eq(a->msisdn, b->msisdn, sizeof(a->msisdn)) ||
	    a->state != b->state || !str_eq(a->smdp_id, b->smdp_id) || !str_eq(a->profile_type, b->profile_type) ||
	    a->allocated_memory != b->allocated_memory || a->has_free_memory != b->has_free_memory ||
	    (a->has_free_memory && a->free_memory != b->free_memory) || a->n_pol2 != b->n_pol2)
		return false;
	for (i = 0; i < a->n_pol2; i++) {
		if (a->pol2[i].action != b->pol2[i].action || a->pol2[i].qualification != b->pol2[i].qualification)
			return false;
	}
	return true;
}

static bool audit_eq(const struct smsr_audit_record *a, const struct smsr_audit_record *b)
{
	return str_eq(a->operation_date, b->operation_date) && a->operation_type == b->operation_type &&
	       str_eq(a->requester_id, b->requester_id) && a->status == b->status &&
	       aid_eq(&a->isdp_aid, &b->isdp_aid) && fixstr_eq(a->iccid, b->iccid, sizeof(a->iccid)) &&
	       a->imei_len <= sizeof(a->imei) && a->meid_len <= sizeof(a->meid) &&
	       mem_eq(a->imei, a->imei_len, b->imei, b->imei_len) && mem_eq(a->meid, a->meid_len, b->meid, b->meid_len);
}

bool smsr_eis_equal(const struct smsr_eis *a, const struct smsr_eis *b)
{
	unsigned i;

	if (!a || !b)
		return a == b;
	if (memcmp(a->eid, b->eid, SMSR_EID_LEN) || !str_eq(a->eum_id, b->eum_id) ||
	    !str_eq(a->production_date, b->production_date) || !str_eq(a->platform_type, b->platform_type) ||
	    !str_eq(a->platform_version, b->platform_version) ||
	    !aid_eq(&a->isdp_loadfile_aid, &b->isdp_loadfile_aid) ||
	    !aid_eq(&a->isdp_module_aid, &b->isdp_module_aid) || !sd_eq(&a->ecasd, &b->ecasd) ||
	    a->cattp_support != b->cattp_support || !str_eq(a->cattp_version, b->cattp_version) ||
	    a->http_support != b->http_support || !str_eq(a->http_version, b->http_version) ||
	    !str_eq(a->secure_packet_version, b->secure_packet_version) ||
	    !str_eq(a->remote_provisioning_version, b->remote_provisioning_version) ||
	    !str_eq(a->signed_info_xml, b->signed_info_xml) || !str_eq(a->signature_xml, b->signature_xml) ||
	    a->remaining_memory != b->remaining_memory || a->available_memory != b->available_memory ||
	    !str_eq(a->last_audit_date, b->last_audit_date) || !str_eq(a->smsr_id, b->smsr_id) ||
	    a->n_profiles != b->n_profiles || !sd_eq(&a->isdr, &b->isdr) || a->n_audit != b->n_audit ||
	    a->n_props != b->n_props)
		return false;
	for (i = 0; i < a->n_profiles; i++) {
		if (!profile_eq(&a->profiles[i], &b->profiles[i]))
			return false;
	}
	for (i = 0; i < a->n_audit; i++) {
		if (!audit_eq(&a->audit[i], &b->audit[i]))
			return false;
	}
	for (i = 0; i < a->n_props; i++) {
		if (!str_eq(a->props[i].key, b->props[i].key) || !str_eq(a->props[i].value, b->props[i].value))
			return false;
	}
	return fixstr_eq(a->isdr_msisdn, b->isdr_msisdn, sizeof(a->isdr_msisdn)) &&
	       a->has_notif_seq == b->has_notif_seq && (!a->has_notif_seq || a->last_notif_seq == b->last_notif_seq) &&
	       a->imei_len <= sizeof(a->imei) && mem_eq(a->imei, a->imei_len, b->imei, b->imei_len) &&
	       str_eq(a->last_attach, b->last_attach) && a->handover_pending == b->handover_pending;
}

uint32_t smsr_eid_hash(const uint8_t eid[SMSR_EID_LEN])
{
	uint32_t h = 2166136261u;
	unsigned i;

	for (i = 0; i < SMSR_EID_LEN; i++)
		h = (h ^ eid[i]) * 16777619u;
	return h;
}

/*! \file es1_import.h
 *  Bulk onboarding of EIS from an EUM file (`smsr-ctl eis import FILE`): every rps:Eis element of the file is
 *  registered as ES1.RegisterEIS would register it (es1_register.h: EumSignature, ECASD certificate, Eum-id,
 *  transport-key import, uniqueness), without the SOAP round trip.
 *
 *  The file: any XML document; each rps:Eis element (namespace http://namespaces.gsma.org/esim-messaging/3) found
 *  in document order is one EIS, at any depth: a bare Eis, an ES1-RegisterEISRequest envelope, or a list of Eis
 *  under any root element. It is read twice with libxml2's streaming reader (no network, no DTD: a DOCTYPE is
 *  refused, so no entity can be declared; libxml2's default size limits): the first pass checks that the whole
 *  file is well-formed, so a truncated or corrupt file stores nothing; the second decodes EIS one batch at a
 *  time, verifies the batch on `jobs` threads and stores it in one LMDB transaction.
 *
 *  Per EIS: accepted and stored (imported); already stored with the same EumSignedInfo (unchanged: a rerun of
 *  the same file, e.g. after an interruption, is harmless); or refused with the status code RegisterEIS would
 *  answer (malformed content, signature, ECASD, Eum-id, EID/ICCID/MSISDN already registered with other content),
 *  one report line each:
 *      refused eis=<n> eid=<EID or -> status=FAILED subject=<s> reason=<r> id=<SubjectIdentifier> msg="<why>"
 *  Refusals do not stop the import. Nothing else is printed per EIS.
 */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "smsr/es1_register.h"

struct smsr_db;

struct smsr_es1_import_opts {
	const char *eum_id;  /*!< the EUM delivering the file (Eum-id binding); NULL: any CI-chained EUM */
	const char *smsr_id; /*!< our entity id, written as Smsr-id */
	unsigned jobs;	     /*!< verification threads (0 or 1: the calling thread only) */
	unsigned batch;	     /*!< EIS per transaction (0: 512) */
	FILE *report;	     /*!< refusal lines (NULL: none) */
};

struct smsr_es1_import_stats {
	uint64_t seen; /*!< Eis elements in the file */
	uint64_t imported;
	uint64_t unchanged;
	uint64_t refused;
};

/*! Import path into db. Returns 0 when the file was processed (refusals are counted in st, not errors);
 *  -ENOENT/-EACCES the file cannot be opened; -EBADMSG it is not well-formed XML or has a DOCTYPE (nothing
 *  stored); -ENOMEM; -EIO/-ENOSPC a store failure (batches before it stay stored; rerun the file). */
int smsr_es1_import_file(struct smsr_db *db, const struct smsr_es1_sig_ctx *sig, const struct smsr_es1_keys *keys,
			 const char *path, const struct smsr_es1_import_opts *o, struct smsr_es1_import_stats *st,
			 char *err, size_t err_len);

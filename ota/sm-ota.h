/*! \file sm-ota.h
 *  Internal interface between the sm-ota sub-command files. Exit codes: 0 done, 2 usage or malformed input,
 *  3 integrity or signature check failed.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

enum smota_exit {
	SMOTA_OK = 0,
	SMOTA_USAGE = 2,
	SMOTA_MALFORMED = 2,
	SMOTA_INTEGRITY = 3,
};

/*! Print the usage text to stderr and exit(2). */
void smota_usage(void) __attribute__((noreturn));

/*! Parse a hex option value into out (max cap bytes); exact_len 0 = any length. Calls smota_usage() on error. */
size_t smota_hex_arg(const char *opt, const char *val, uint8_t *out, size_t cap, size_t exact_len);

/* sub-commands in sm-ota-crypto.c; argv[0] is the sub-command name */
int smota_scp03_derive(int argc, char **argv);
int smota_cert_verify(int argc, char **argv);
/* in sm-ota-cert.c */
int smota_cert_issue(int argc, char **argv);

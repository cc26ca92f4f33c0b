/* fuzz_replay_test: every fuzz target over its seed corpus (tests/fuzz/corpus/<target>/) and over deterministic
 * mutations of it (bit flips, byte values, truncations, insertions, splices), without libFuzzer, so that
 * `make check` (built with ASan/UBSan) exercises the same properties on every run. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tests/fuzz/fuzz.h"

int fuzz_tlv(const uint8_t *data, size_t size);
int fuzz_spkt(const uint8_t *data, size_t size);
int fuzz_por(const uint8_t *data, size_t size);
int fuzz_rcmd(const uint8_t *data, size_t size);
int fuzz_cert(const uint8_t *data, size_t size);
int fuzz_sms(const uint8_t *data, size_t size);
int fuzz_soap(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} targets[] = {
	{ "tlv", fuzz_tlv }, { "spkt", fuzz_spkt }, { "por", fuzz_por },
	{ "rcmd", fuzz_rcmd }, { "cert", fuzz_cert }, { "sms", fuzz_sms }, { "soap", fuzz_soap },
};

#define MAX_INPUTS 256
#define MAX_LEN 16384

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int load_corpus(const char *dir, uint8_t **in, size_t *len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < MAX_INPUTS) {
		char path[2048];
		FILE *f;
		if (e->d_name[0] == '.' || snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		f = fopen(path, "rb");
		if (!f)
			continue;
		in[n] = malloc(MAX_LEN);
		len[n] = fread(in[n], 1, MAX_LEN, f);
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	const char *base = getenv("FUZZ_CORPUS_DIR");
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	uint8_t *in[MAX_INPUTS], *buf = malloc(2 * MAX_LEN);
	size_t len[MAX_INPUTS];
	unsigned t;
	int failures = 0;

	if (!base)
		base = "fuzz/corpus";
	for (t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		char dir[1024];
		int n, i;
		long k;

		n = snprintf(dir, sizeof(dir), "%s/%s", base, targets[t].name) < (int)sizeof(dir)
			    ? load_corpus(dir, in, len)
			    : -1;
		if (n <= 0) {
			fprintf(stderr, "FAIL %s: no seed corpus in %s\n", targets[t].name, dir);
			failures++;
			continue;
		}
		for (i = 0; i < n; i++)
			targets[t].fn(in[i], len[i]);
		for (k = 0; k < iters; k++) {
			int src = (int)(next() % (uint64_t)n);
			size_t l = len[src], pos;
			memcpy(buf, in[src], l);
			switch (next() % 6) {
			case 0:	/* flip a bit */
				if (l)
					buf[next() % l] ^= (uint8_t)(1u << (next() % 8));
				break;
			case 1:	/* set a byte */
				if (l)
					buf[next() % l] = (uint8_t)next();
				break;
			case 2:	/* truncate */
				l = l ? next() % l : 0;
				break;
			case 3:	/* insert a byte */
				if (l < MAX_LEN) {
					pos = l ? next() % (l + 1) : 0;
					memmove(buf + pos + 1, buf + pos, l - pos);
					buf[pos] = (uint8_t)next();
					l++;
				}
				break;
			case 4:	/* splice with another input */
			{
				int o = (int)(next() % (uint64_t)n);
				size_t cut = l ? next() % l : 0, from = len[o] ? next() % len[o] : 0;
				memcpy(buf + cut, in[o] + from, len[o] - from);
				l = cut + len[o] - from;
				break;
			}
			default: /* several byte changes */
				for (pos = 0; l && pos < 4; pos++)
					buf[next() % l] = (uint8_t)next();
				break;
			}
			targets[t].fn(buf, l);
		}
		printf("%s: %d seeds, %ld mutations\n", targets[t].name, n, iters);
		for (i = 0; i < n; i++)
			free(in[i]);
	}
	free(buf);
	printf("fuzz_replay_test: %u checks passed, %d failed\n",
	       (unsigned)(sizeof(targets) / sizeof(targets[0])) - failures, failures);
	return failures ? 1 : 0;
}

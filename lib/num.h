/*
 * num.h: strict number parsing.
 *
 * Every function accepts only the whole string: decimal digits (a
 * leading '-' for the signed variant), no spaces, no '+', no trailing
 * junk, no empty string, nothing outside [min, max].  On failure it
 * returns -1 and leaves *out untouched; on success 0.
 *
 * num_parse_size also takes a unit suffix k, m, g (or K, M, G; powers of
 * 1024), so "16M" is 16777216.
 */
#ifndef BF_NUM_H
#define BF_NUM_H

#include <stdint.h>

int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int num_parse_int(const char *s, int min, int max, int *out);
int num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif

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
 *
 * num_parse_duration reads a duration in seconds: a number alone, or a
 * number with one unit suffix s, m, h or d (seconds, minutes, hours,
 * days); "90" and "90s" are 90, "2h" is 7200.  min and max are seconds.
 * num_format_duration appends secs in the largest unit that divides it
 * ("2h", "90s", "0s"), the form num_parse_duration reads back.
 */
#ifndef BF_NUM_H
#define BF_NUM_H

#include <stdint.h>

struct strbuf;

int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int num_parse_int(const char *s, int min, int max, int *out);
int num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int num_parse_duration(const char *s, int64_t min, int64_t max,
    int64_t *out);
void num_format_duration(struct strbuf *out, int64_t secs);

#endif

/*
 * workitem.h: the work items of the spools (spool(5)), one C type for
 * their producers (pollgerrit, scripts through tools) and consumers
 * (schedule).
 *
 * An item is one JSON object.  workitem_parse checks it as spool(5)
 * says and fills a struct work_item; workitem_encode writes the
 * canonical form: compact JSON, keys sorted, one newline.  Parsing the
 * canonical form of an item gives the same item, and encoding that
 * gives the same bytes.  Fields a parser does not know are ignored and
 * not kept.
 *
 * Strings are NUL-terminated copies owned by the item; NULL means the
 * field is absent.  builder is always written ("" when NULL): an empty
 * builder in a try item means every try builder of the repository.
 *
 * Calling sequence:
 *   struct work_item wi = WORK_ITEM_INIT;
 *   if (workitem_parse(&wi, buf, len, &err) != RC_OK) ...  (RC_PERM)
 *   ... use wi ...
 *   workitem_release(&wi);
 */
#ifndef BF_WORKITEM_H
#define BF_WORKITEM_H

#include <stddef.h>
#include <stdint.h>

struct json;
struct strbuf;

#define WORK_ITEM_MAX 65536	/* bytes of an item, at most */

enum work_kind {
	WORK_POST,		/* "post": a commit of a watched branch */
	WORK_TRY,		/* "try": a Gerrit patch set */
	WORK_MANUAL,		/* "manual": asked for by hand */
};

struct work_item {
	enum work_kind kind;
	char *repo;		/* required: a [repo] name, or Gerrit project */
	char *rev;		/* required: 40 or 64 lowercase hex digits */
	char *builder;		/* required but for try items */
	char *branch;		/* the target branch */
	int64_t change;		/* try: required, > 0; else 0 or > 0 */
	int64_t patchset;	/* likewise */
	char *change_id;	/* Gerrit's Change-Id */
	char *subject;		/* first line of the commit message */
	char *gerrit;		/* the [gerrit "NAME"] of the server */
	char *server;		/* the server's URL */
	int64_t prio;		/* -1000 to 1000, higher first; 0 when absent */
};
#define WORK_ITEM_INIT { WORK_POST, NULL, NULL, NULL, NULL, 0, 0, NULL, \
	NULL, NULL, NULL, 0 }

/* "post", "try", "manual". */
const char *workitem_kind_name(enum work_kind k);

/*
 * Replace wi with the item in buf[0..len): RC_OK, or RC_PERM with err
 * saying what is wrong ("missing field 'repo'", "field 'patchset': not
 * a positive integer", ...) and wi released.
 */
int workitem_parse(struct work_item *wi, const char *buf, size_t len,
    struct strbuf *err);

/* The item as a new JSON object (the caller frees it with json_free). */
struct json *workitem_json(const struct work_item *wi);
/* Append the canonical text of wi, newline included, to out. */
void workitem_encode(const struct work_item *wi, struct strbuf *out);

void workitem_release(struct work_item *wi);

#endif

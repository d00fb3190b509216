/* extension: the JSON bodies of the signature extension API that containers/image uses for simple
 * (OpenPGP) signatures on a registry announcing "X-Registry-Supports-Signatures: 1":
 *
 *   GET /extensions/v2/<name>/signatures/<digest>
 *       200 {"signatures":[{"schemaVersion":2,"name":"<digest>@<id>","type":"atomic","content":"<base64>"}]}
 *   PUT /extensions/v2/<name>/signatures/<digest>   one such object -> 201
 *
 * Readers use only entries with schemaVersion 2 and type "atomic"; a new signature gets the name
 * "<digest>@<32 random hex>". Both directions are here, for the client and for the registry.
 *
 *   struct sign_ext_list l; sign_ext_list_parse(body, n, &l, why, sizeof why);
 *   for (i...) if (sign_ext_sig_is_atomic(&l.v[i])) -> l.v[i].content is a simple signature
 */
#ifndef BERTH_SIGN_EXTENSION_H
#define BERTH_SIGN_EXTENSION_H

#include <stddef.h>

#include "base/buf.h"
#include "base/digest.h"

#define SIGN_EXT_LIST_MAX (4u << 20) /* containers/image's limit on a signature list body */
#define SIGN_EXT_SCHEMA_VERSION 2
#define SIGN_EXT_TYPE_ATOMIC "atomic"

struct sign_ext_sig {
	long long version;
	char *name; /* may be NULL when absent */
	char *type; /* may be NULL when absent */
	unsigned char *content; /* decoded; may be NULL when absent */
	size_t content_len;
};

struct sign_ext_list {
	struct sign_ext_sig *v;
	size_t n;
};

/* Parses a GET answer. Like the Go decoder upstream, unknown members are ignored and a member of the
 * wrong type fails the whole list (-BERTH_EINVAL + why). Release with sign_ext_list_release(). */
int sign_ext_list_parse(const void *body, size_t n, struct sign_ext_list *out, char *why, size_t whyn);
void sign_ext_list_release(struct sign_ext_list *l);
/* 1 when s is a signature readers use (schemaVersion 2, type "atomic", content present). */
int sign_ext_sig_is_atomic(const struct sign_ext_sig *s);

/* Parses one PUT body for the manifest digest d (the one in the URL): schemaVersion 2, type "atomic",
 * name "<d>@<non-empty id>", content non-empty base64. -BERTH_EINVAL + why otherwise. */
int sign_ext_sig_parse(const void *body, size_t n, const struct digest *d, struct sign_ext_sig *out, char *why,
		       size_t whyn);
void sign_ext_sig_release(struct sign_ext_sig *s);

/* A PUT body for signature sig[0..n) of manifest d, with a fresh random name, appended to out. */
int sign_ext_sig_create(const struct digest *d, const void *sig, size_t n, struct buf *out);
/* A GET answer listing v[0..n), appended to out. */
int sign_ext_list_create(const struct sign_ext_sig *v, size_t n, struct buf *out);
/* "/extensions/v2/<repository path>/signatures/<alg>:<hex>" appended to out. */
int sign_ext_path(const char *repository_path, const struct digest *d, struct buf *out);

#endif

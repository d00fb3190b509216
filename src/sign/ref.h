/* ref: Docker image references with the normalisation containers/image and Docker use
 * ("busybox" is "docker.io/library/busybox"), as needed by signature identities and policy scopes.
 * A parsed reference is a value type (fixed buffers, nothing to release). Its name is
 * "<domain>/<path>"; it may carry a tag, a digest, both or neither.
 *
 *   struct sign_ref r; char why[256];
 *   if (sign_ref_parse("busybox:1", &r, why, sizeof why) < 0) ...   // r.name "docker.io/library/busybox"
 *   sign_ref_string(&r, out);                                         // "docker.io/library/busybox:1"
 */
#ifndef BERTH_SIGN_REF_H
#define BERTH_SIGN_REF_H

#include <stddef.h>

#include "base/digest.h"

#define SIGN_REF_NAME_MAX 255 /* the reference grammar's limit on "<domain>/<path>" */
#define SIGN_REF_TAG_MAX 128
#define SIGN_REF_STR_MAX (SIGN_REF_NAME_MAX + 1 + SIGN_REF_TAG_MAX + 1 + DIGEST_STR_MAX + 1)

struct sign_ref {
	char name[SIGN_REF_NAME_MAX + 1]; /* "<domain>/<path>", fully expanded */
	size_t domain_len; /* name[0..domain_len) is the domain, then '/' */
	char tag[SIGN_REF_TAG_MAX + 1]; /* "" when none */
	char digest[DIGEST_STR_MAX]; /* "alg:hex" or "" when none */
};

/* Parses s like Docker's ParseNormalizedNamed: a missing domain becomes docker.io, a one-component
 * docker.io path gets "library/", index.docker.io becomes docker.io. Returns 0, or -BERTH_EINVAL with
 * a one-line reason in why (upper-case repository, a 64-hex "name", bad tag, over-long name, a digest
 * that is not sha256/sha512 of the right length...). */
int sign_ref_parse(const char *s, struct sign_ref *r, char *why, size_t whyn);

/* Parses s as the docker transport names an image (skopeo's docker://<s>): sign_ref_parse, then
 * ":latest" when neither tag nor digest is given; a reference with both a tag and a digest is refused. */
int sign_ref_parse_docker(const char *s, struct sign_ref *r, char *why, size_t whyn);

/* Parses s and requires it to be already in the fully expanded form (Docker's ParseNamed):
 * "busybox" is refused, "docker.io/library/busybox" accepted. */
int sign_ref_parse_canonical(const char *s, struct sign_ref *r, char *why, size_t whyn);

/* 1 when r has neither tag nor digest. */
int sign_ref_is_name_only(const struct sign_ref *r);
/* The path after the domain ("library/busybox"); borrowed from r. */
const char *sign_ref_path(const struct sign_ref *r);
/* "<name>[:tag][@digest]" into out (SIGN_REF_STR_MAX bytes); returns out. */
char *sign_ref_string(const struct sign_ref *r, char out[SIGN_REF_STR_MAX]);

/* The policy scopes of r, most specific first, as containers/image looks them up for the docker
 * transport: the identity ("<name>:<tag>" or "<name>@<digest>"), then each parent namespace up to the
 * bare host[:port], then "*.<domain suffix>" wildcards ("*.example.com", "*.com"). The transport
 * default "" is not included. *out is a NULL-terminated array; free it with sign_ref_scopes_free(). */
int sign_ref_scopes(const struct sign_ref *r, char ***out, size_t *n);
void sign_ref_scopes_free(char **scopes);

/* Grammar checks used by the policy parser. 1 when s matches the whole rule, else 0. */
int sign_ref_valid_domain(const char *s, size_t n);
/* host[:port], or a host[:port]/namespace[/repository] without tag or digest (remapIdentity prefixes). */
int sign_ref_valid_remap_prefix(const char *s);

#endif

/* auth: the pieces of registry authentication that need no network.
 *
 * Challenges: a registry answers 401 with `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`
 * (the Docker token spec) or `Basic realm="..."`. client_challenge_parse() reads one header value, which
 * may hold several challenges; it keeps Bearer over Basic.
 *
 * Credentials: the containers auth file (containers-auth.json(5)): {"auths": {"HOST[:PORT]": {"auth":
 * base64("user:password")}}}. Reading looks at --authfile, else $REGISTRY_AUTH_FILE, else
 * ${XDG_RUNTIME_DIR}/containers/auth.json, $HOME/.config/containers/auth.json and $HOME/.docker/config.json,
 * in that order; login/logout write the first of these (never the docker file). Keys may carry a scheme
 * ("https://host") or a repository namespace ("host/team"); the most specific namespace wins.
 *
 *   struct client_authfile af; client_authfile_load(path, &af, &e);
 *   client_authfile_set(&af, "127.0.0.1:5000", "me", "secret"); client_authfile_save(&af, &e);
 *   client_authfile_release(&af);
 */
#ifndef BERTH_CLIENT_AUTH_H
#define BERTH_CLIENT_AUTH_H

#include <stddef.h>

#include "client/client.h"

enum client_auth_scheme { AUTH_NONE = 0, AUTH_BASIC, AUTH_BEARER };

struct client_challenge {
	enum client_auth_scheme scheme;
	char *realm, *service, *scope, *error; /* owned; NULL when absent */
};

/* Parses a WWW-Authenticate value. Returns 0 with the Bearer challenge when there is one, else the
 * Basic one; -BERTH_EINVAL when the header is malformed or names neither scheme. c is zeroed first and
 * needs client_challenge_release() after success. A Bearer challenge without a realm is invalid. */
int client_challenge_parse(const char *hdr, struct client_challenge *c);
void client_challenge_release(struct client_challenge *c);

/* base64 of "user:password"; caller free()s. NULL when either is NULL. */
char *client_basic_encode(const char *user, const char *pass);
/* Decodes base64("user:password") into two strings the caller free()s; -BERTH_EINVAL when the text is
 * not base64 or has no ':'. */
int client_basic_decode(const char *b64, char **user, char **pass);

struct client_authfile {
	char *path; /* owned */
	void *root; /* the parsed JSON document (json_t *), other keys kept as they were */
};

/* The file login/logout write: flag, else $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/
 * auth.json, else $HOME/.config/containers/auth.json. Caller free()s; NULL when none can be named. */
char *client_authfile_default(const char *flag);

/* Loads path; a missing file is an empty document. -BERTH_EINVAL (e set) when the file is not a JSON
 * object or its "auths" is not an object; -BERTH_EIO when it cannot be read. */
int client_authfile_load(const char *path, struct client_authfile *af, struct client_err *e);
void client_authfile_release(struct client_authfile *af);

/* Credentials for host (and optionally repository repo, for namespace keys). 0 and two strings the
 * caller free()s; -BERTH_ENOENT when there is no entry; -BERTH_EINVAL when the entry is malformed. */
int client_authfile_get(const struct client_authfile *af, const char *host, const char *repo, char **user, char **pass);
/* Sets host's entry (keys equal to host, with or without a scheme, are replaced). */
int client_authfile_set(struct client_authfile *af, const char *host, const char *user, const char *pass);
/* Removes host's entries; -BERTH_ENOENT when there were none. */
int client_authfile_remove(struct client_authfile *af, const char *host);
/* Removes every entry of "auths". */
void client_authfile_clear(struct client_authfile *af);
/* Writes the document back atomically (temp file, mode 0600, rename; the folder is made 0700). */
int client_authfile_save(const struct client_authfile *af, struct client_err *e);

/* Looks host's credentials up: opts->creds first, then the files in the reading order above.
 * 0 with two strings the caller free()s; -BERTH_ENOENT when nothing is stored; other errors set e. */
int client_creds_lookup(const struct client_opts *o, const char *host, const char *repo, char **user, char **pass,
			struct client_err *e);

#endif

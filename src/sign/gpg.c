/* gpg: GPGME signing and ephemeral-keyring verification (see gpg.h). */
#include "sign/gpg.h"

#include <errno.h>
#include <ftw.h>
#include <gpgme.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/err.h"
#include "sign/internal.h"

#define SIG_MAX (4u << 20)

struct sign_gpg_keyring {
	gpgme_ctx_t ctx;
	char *home;
	char **fprs; /* trusted primary-key fingerprints */
	size_t nfprs;
};

static pthread_once_t gpgme_once = PTHREAD_ONCE_INIT;
static int gpgme_ok;

static void gpgme_setup(void)
{
	gpgme_ok =
	    gpgme_check_version(NULL) != NULL && gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) == GPG_ERR_NO_ERROR;
}

/* A context for OpenPGP in home (NULL: the default home), binary output. */
static int ctx_new(const char *home, gpgme_ctx_t *out, char *why, size_t whyn)
{
	gpgme_error_t e;

	*out = NULL;
	pthread_once(&gpgme_once, gpgme_setup);
	if (!gpgme_ok)
		return sign__why(why, whyn, -BERTH_EIO, "GPGME could not find a usable gpg engine");
	e = gpgme_new(out);
	if (!e)
		e = gpgme_set_protocol(*out, GPGME_PROTOCOL_OpenPGP);
	if (!e && home)
		e = gpgme_ctx_set_engine_info(*out, GPGME_PROTOCOL_OpenPGP, NULL, home);
	if (e) {
		if (*out)
			gpgme_release(*out);
		*out = NULL;
		return sign__why(why, whyn, -BERTH_EIO, "gpgme: %s", gpgme_strerror(e));
	}
	gpgme_set_armor(*out, 0);
	gpgme_set_textmode(*out, 0);
	return 0;
}

/* Moves the bytes of d to out and releases d. */
static int data_take(gpgme_data_t d, struct buf *out)
{
	size_t n = 0;
	char *p = gpgme_data_release_and_get_mem(d, &n);
	int rc = p || n == 0 ? buf_add(out, p ? p : "", n) : -BERTH_ENOMEM;

	gpgme_free(p);
	return rc;
}

static gpgme_error_t passphrase_cb(void *hook, const char *uid_hint, const char *info, int prev_bad, int fd)
{
	const char *pass = hook;

	if (prev_bad)
		return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
	if (gpgme_io_writen(fd, pass, strlen(pass)) < 0 || gpgme_io_writen(fd, "\n", 1) < 0)
		return gpgme_error_from_errno(errno);
	return 0;
}

int sign_gpg_sign(const char *gnupg_home, const char *key_id, const char *passphrase, const void *payload, size_t n,
		  struct buf *sig, char *why, size_t whyn)
{
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_error_t e;
	int rc;

	rc = ctx_new(gnupg_home, &ctx, why, whyn);
	if (rc < 0)
		goto out;
	e = gpgme_get_key(ctx, key_id, &key, 1);
	if (e) {
		rc = sign__why(why, whyn, -BERTH_ENOENT, "no secret key \"%s\": %s", key_id, gpgme_strerror(e));
		goto out;
	}
	e = gpgme_signers_add(ctx, key);
	if (!e && passphrase) {
		e = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
		gpgme_set_passphrase_cb(ctx, passphrase_cb, (void *)passphrase);
	}
	if (!e)
		e = gpgme_data_new_from_mem(&in, payload, n, 0);
	if (!e)
		e = gpgme_data_new(&out);
	if (!e)
		e = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_NORMAL);
	if (e) {
		rc = sign__why(why, whyn, -BERTH_EIO, "signing with \"%s\": %s", key_id, gpgme_strerror(e));
		goto out;
	}
	rc = data_take(out, sig);
	out = NULL;
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_key_unref(key);
	if (ctx)
		gpgme_release(ctx);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

int sign_gpg_keyring_new(struct sign_gpg_keyring **out, char *why, size_t whyn)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	struct sign_gpg_keyring *kr;
	int rc;

	*out = NULL;
	if (!tmp || !*tmp || strlen(tmp) > 64) /* gpg-agent socket paths must stay short */
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/berth-gpg-XXXXXX", tmp);
	if (!mkdtemp(path))
		return sign__why(why, whyn, berth_from_errno(errno), "creating a temporary GnuPG home: %s",
				 strerror(errno));
	kr = xcalloc(1, sizeof(*kr));
	kr->home = xstrdup(path);
	/* Verification needs no secret keys: keep gpg from starting an agent that would outlive the home. */
	snprintf(path, sizeof(path), "%s/gpg.conf", kr->home);
	{
		FILE *f = fopen(path, "w");
		int bad = !f || fputs("no-autostart\n", f) < 0;
		if (f && fclose(f) != 0)
			bad = 1;
		if (bad) {
			rc = sign__why(why, whyn, -BERTH_EIO, "writing %s: %s", path, strerror(errno));
			sign_gpg_keyring_free(kr);
			return rc;
		}
	}
	rc = ctx_new(kr->home, &kr->ctx, why, whyn);
	if (rc < 0) {
		sign_gpg_keyring_free(kr);
		return rc;
	}
	*out = kr;
	return 0;
}

static int has_fpr(const struct sign_gpg_keyring *kr, const char *fpr)
{
	for (size_t i = 0; fpr && i < kr->nfprs; i++)
		if (strcasecmp(kr->fprs[i], fpr) == 0)
			return 1;
	return 0;
}

int sign_gpg_keyring_import(struct sign_gpg_keyring *kr, const void *data, size_t n, size_t *nimported, char *why,
			    size_t whyn)
{
	gpgme_data_t d = NULL;
	gpgme_import_result_t res;
	gpgme_error_t e;
	size_t cnt = 0;

	if (nimported)
		*nimported = 0;
	e = gpgme_data_new_from_mem(&d, data, n, 0);
	if (!e)
		e = gpgme_op_import(kr->ctx, d);
	gpgme_data_release(d);
	if (e)
		return sign__why(why, whyn, -BERTH_EINVAL, "importing keys: %s", gpgme_strerror(e));
	res = gpgme_op_import_result(kr->ctx);
	for (gpgme_import_status_t s = res ? res->imports : NULL; s; s = s->next) {
		if (gpgme_err_code(s->result) != GPG_ERR_NO_ERROR || !s->fpr)
			continue;
		cnt++;
		if (has_fpr(kr, s->fpr))
			continue;
		kr->fprs = xrealloc(kr->fprs, (kr->nfprs + 1) * sizeof(char *));
		kr->fprs[kr->nfprs++] = xstrdup(s->fpr);
	}
	if (nimported)
		*nimported = cnt;
	return 0;
}

size_t sign_gpg_keyring_count(const struct sign_gpg_keyring *kr)
{
	return kr->nfprs;
}

void sign_gpg_keyring_free(struct sign_gpg_keyring *kr)
{
	if (!kr)
		return;
	if (kr->ctx)
		gpgme_release(kr->ctx);
	if (kr->home) {
		nftw(kr->home, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(kr->home);
	}
	for (size_t i = 0; i < kr->nfprs; i++)
		free(kr->fprs[i]);
	free(kr->fprs);
	free(kr);
}

int sign_gpg_verify(struct sign_gpg_keyring *kr, const void *sig, size_t n, struct buf *contents,
		    char fpr[SIGN_GPG_FPR_MAX], char *why, size_t whyn)
{
	gpgme_data_t sd = NULL, plain = NULL;
	gpgme_verify_result_t res;
	gpgme_signature_t s;
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	size_t count = 0;
	struct buf tmp;
	int rc;

	fpr[0] = '\0';
	buf_init(&tmp, SIG_MAX);
	if (n > SIG_MAX) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "signature over %u bytes", SIG_MAX);
		goto out;
	}
	e = gpgme_data_new_from_mem(&sd, sig, n, 0);
	if (!e)
		e = gpgme_data_new(&plain);
	if (!e)
		e = gpgme_op_verify(kr->ctx, sd, NULL, plain);
	if (e) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "Invalid GPG signature data: %s", gpgme_strerror(e));
		goto out;
	}
	res = gpgme_op_verify_result(kr->ctx);
	for (s = res ? res->signatures : NULL; s; s = s->next)
		count++;
	if (count != 1) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "Unexpected GPG signature count %zu", count);
		goto out;
	}
	s = res->signatures;
	if (gpgme_err_code(s->status) == GPG_ERR_NO_PUBKEY) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "Signature by key %s is not accepted (not a trusted key)",
			       s->fpr ? s->fpr : "(unknown)");
		goto out;
	}
	if (gpgme_err_code(s->status) != GPG_ERR_NO_ERROR || s->validity == GPGME_VALIDITY_NEVER ||
	    s->validity_reason != 0 || s->wrong_key_usage) {
		rc = sign__why(why, whyn, -BERTH_EDENIED, "Invalid GPG signature by key %s: %s",
			       s->fpr ? s->fpr : "(unknown)",
			       gpgme_strerror(s->status ? s->status : s->validity_reason));
		goto out;
	}
	if (!has_fpr(kr, s->fpr)) {
		/* A signing subkey of a trusted primary key is accepted. */
		if (gpgme_get_key(kr->ctx, s->fpr, &key, 0) || !key || !key->subkeys ||
		    !has_fpr(kr, key->subkeys->fpr)) {
			rc = sign__why(why, whyn, -BERTH_EDENIED, "Signature by key %s is not accepted",
				       s->fpr ? s->fpr : "?");
			goto out;
		}
	}
	snprintf(fpr, SIGN_GPG_FPR_MAX, "%s", s->fpr);
	rc = data_take(plain, &tmp);
	plain = NULL;
	if (rc == 0)
		rc = buf_add(contents, tmp.ptr, tmp.len);
out:
	gpgme_key_unref(key);
	gpgme_data_release(sd);
	gpgme_data_release(plain);
	buf_release(&tmp);
	return rc;
}

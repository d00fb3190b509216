/* err: berth's error codes.
 * Functions return 0 on success and a negative BERTH_E* on failure; berth_strerror() names the code.
 * The HTTP layer maps codes to the spec's error bodies, the CLI to one plain line.
 *
 *   int rc = store_blob_stat(s, &d, &size);
 *   if (rc < 0) fprintf(stderr, "berth: %s\n", berth_strerror(rc));
 */
#ifndef BERTH_BASE_ERR_H
#define BERTH_BASE_ERR_H

enum berth_err {
	BERTH_OK = 0,
	BERTH_ENOMEM, /* out of memory */
	BERTH_EINVAL, /* malformed input */
	BERTH_ENOENT, /* no such object */
	BERTH_EEXIST, /* already exists */
	BERTH_EIO, /* I/O error */
	BERTH_ENOSPC, /* storage full */
	BERTH_ETOOBIG, /* over a size limit */
	BERTH_EDIGEST, /* content does not hash to the expected digest */
	BERTH_ERANGE, /* offset or range out of order */
	BERTH_EDB, /* metadata database error */
	BERTH_EBUSY, /* resource in use by another request */
	BERTH_EUNSUPPORTED, /* valid but not supported (digest algorithm, media type) */
	BERTH_EDENIED, /* not allowed by policy */
	BERTH_EMAX
};

/* Text for a code, positive or negative; never NULL. */
const char *berth_strerror(int err);

/* Maps an errno value to a negative BERTH_E* (ENOSPC and EDQUOT to -BERTH_ENOSPC, ENOENT to -BERTH_ENOENT, ...). */
int berth_from_errno(int e);

#endif

#include "base/err.h"

#include <errno.h>

static const char *const texts[BERTH_EMAX] = {
    [BERTH_OK] = "success",
    [BERTH_ENOMEM] = "out of memory",
    [BERTH_EINVAL] = "invalid input",
    [BERTH_ENOENT] = "not found",
    [BERTH_EEXIST] = "already exists",
    [BERTH_EIO] = "input/output error",
    [BERTH_ENOSPC] = "no space left on storage",
    [BERTH_ETOOBIG] = "too large",
    [BERTH_EDIGEST] = "digest mismatch",
    [BERTH_ERANGE] = "range out of order",
    [BERTH_EDB] = "metadata database error",
    [BERTH_EBUSY] = "busy",
    [BERTH_EUNSUPPORTED] = "unsupported",
    [BERTH_EDENIED] = "denied",
};

const char *berth_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= BERTH_EMAX)
		return "unknown error";
	return texts[err];
}

int berth_from_errno(int e)
{
	switch (e) {
	case 0:
		return 0;
	case ENOMEM:
		return -BERTH_ENOMEM;
	case ENOENT:
		return -BERTH_ENOENT;
	case EEXIST:
		return -BERTH_EEXIST;
	case ENOSPC:
	case EDQUOT:
		return -BERTH_ENOSPC;
	case EFBIG:
		return -BERTH_ETOOBIG;
	case EINVAL:
		return -BERTH_EINVAL;
	default:
		return -BERTH_EIO;
	}
}

/* Unit tests for base/: buf, digest, config, util, fault. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/digest.h"
#include "base/err.h"
#include "base/fault.h"
#include "base/util.h"
#include "harness.h"

TEST(buf_add_and_cap)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK_STR(b.ptr, "");
	CHECK_EQ(buf_add(&b, "abcd", 4), 0);
	CHECK_EQ(buf_addf(&b, "%d", 123), 0);
	CHECK_STR(b.ptr, "abcd123");
	CHECK_EQ(buf_add(&b, "xy", 2), -BERTH_ETOOBIG);
	CHECK_STR(b.ptr, "abcd123");
	CHECK_EQ(buf_add(&b, "x", 1), 0);
	CHECK_EQ(b.len, 8);
	buf_release(&b);
	CHECK_EQ(b.len, 0);
}

TEST(buf_detach_owns)
{
	struct buf b;
	size_t n = 0;
	char *p;

	buf_init(&b, BUF_UNLIMITED);
	p = buf_detach(&b, &n);
	CHECK_EQ(n, 0);
	CHECK_STR(p, "");
	free(p);
	buf_adds(&b, "hello");
	p = buf_detach(&b, &n);
	CHECK_EQ(n, 5);
	CHECK_STR(p, "hello");
	CHECK_STR(b.ptr, "");
	free(p);
}

TEST(buf_overflow_size)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_adds(&b, "x");
	CHECK_EQ(buf_grow(&b, (size_t)-1), -BERTH_ETOOBIG);
	buf_release(&b);
}

TEST(str_copy_truncates)
{
	char d[4];

	CHECK_EQ(str_copy(d, sizeof(d), "abc"), 0);
	CHECK_STR(d, "abc");
	CHECK_EQ(str_copy(d, sizeof(d), "abcd"), -BERTH_ETOOBIG);
	CHECK_STR(d, "abc");
}

#define EMPTY256 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

TEST(digest_parse_valid)
{
	struct digest d;
	char s[DIGEST_STR_MAX];

	CHECK_EQ(digest_parse_cstr(EMPTY256, &d), 0);
	CHECK_EQ(d.alg, DIGEST_SHA256);
	CHECK_STR(digest_str(&d, s), EMPTY256);
}

TEST(digest_parse_invalid)
{
	struct digest d;

	CHECK_EQ(digest_parse_cstr("", &d), -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("sha256", &d), -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("sha256:", &d), -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr(":abc", &d), -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("sha256:xyz", &d), -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", &d),
		 -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", &d),
		 -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("SHA256:abc", &d), -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("sha256+:abc", &d), -BERTH_EINVAL);
	CHECK_EQ(digest_parse_cstr("md5:d41d8cd98f00b204e9800998ecf8427e", &d), -BERTH_EUNSUPPORTED);
	CHECK_EQ(digest_parse_cstr("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", &d),
		 -BERTH_EUNSUPPORTED);
}

TEST(digest_of_known_vectors)
{
	struct digest d;

	digest_of(DIGEST_SHA256, "", 0, &d);
	CHECK_STR(d.hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_of(DIGEST_SHA512, "abc", 3, &d);
	CHECK_STR(d.hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(hasher_streams_and_copies)
{
	struct hasher h, c;
	struct digest a, b, whole;

	hasher_init(&h, DIGEST_SHA256);
	hasher_update(&h, "hello ", 6);
	CHECK_EQ(hasher_copy(&c, &h), 0);
	hasher_update(&h, "world", 5);
	hasher_final(&h, &a);
	hasher_update(&c, "world", 5);
	hasher_final(&c, &b);
	digest_of(DIGEST_SHA256, "hello world", 11, &whole);
	CHECK(digest_eq(&a, &whole));
	CHECK(digest_eq(&b, &whole));
	hasher_release(&h);
	hasher_release(&c);
	hasher_release(&c);
}

static char *write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/berth-cfg-XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
	return path;
}

TEST(config_file_env_and_defaults)
{
	struct config c;
	char err[256] = "";
	char *p = write_tmp("version: 0.1\nlog:\n  level: debug\nhttp:\n  addr: 127.0.0.1:6000\n"
			    "storage:\n  filesystem:\n    rootdirectory: /srv/x\n  delete:\n    enabled: false\n");
	int ok = 1;

	config_init(&c);
	CHECK_EQ(config_load_file(&c, p, err, sizeof(err)), 0);
	CHECK_STR(config_get(&c, "log.level"), "debug");
	CHECK_STR(config_get(&c, "http.addr"), "127.0.0.1:6000");
	CHECK_STR(config_get(&c, "storage.filesystem.rootdirectory"), "/srv/x");
	CHECK_EQ(config_get_bool(&c, "storage.delete.enabled", 1, &ok), 0);
	CHECK_EQ(config_get_int(&c, "limits.manifest_bytes", 0, &ok), 4194304);
	CHECK_EQ(ok, 1);
	setenv("BERTH_HTTP_ADDR", "127.0.0.1:7000", 1);
	config_apply_env(&c);
	CHECK_STR(config_get(&c, "http.addr"), "127.0.0.1:7000");
	config_set(&c, "http.threads", "x");
	config_get_int(&c, "http.threads", 0, &ok);
	CHECK_EQ(ok, 0);
	config_release(&c);
	unlink(p);
	free(p);
}

TEST(config_bad_yaml_names_position)
{
	struct config c;
	char err[256] = "";
	char *p = write_tmp("http:\n  addr: [1, 2\n");

	config_init(&c);
	CHECK(config_load_file(&c, p, err, sizeof(err)) < 0);
	CHECK(strstr(err, p) != NULL);
	config_release(&c);
	CHECK_EQ(config_load_file(&c, "/nonexistent/berth.yml", err, sizeof(err)), -BERTH_ENOENT);
	unlink(p);
	free(p);
}

TEST(uuid_format)
{
	char a[37], b[37];

	CHECK_EQ(uuid_new(a), 0);
	CHECK_EQ(uuid_new(b), 0);
	CHECK(uuid_valid(a));
	CHECK(strcmp(a, b) != 0);
	CHECK_EQ(a[14], '4');
	CHECK(!uuid_valid("not-a-uuid"));
	CHECK(!uuid_valid("../../etc/passwd"));
	CHECK(!uuid_valid("AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA"));
}

TEST(time_iso_format)
{
	char s[40];

	time_format_iso(1764181800123LL, s, sizeof(s));
	CHECK_STR(s, "2025-11-26T18:30:00.123Z");
	time_format_iso(0, s, sizeof(s));
	CHECK_STR(s, "1970-01-01T00:00:00.000Z");
	time_format_iso(951782400999LL, s, sizeof(s)); /* a leap day */
	CHECK_STR(s, "2000-02-29T00:00:00.999Z");
	time_format_iso(4107542399001LL, s, sizeof(s));
	CHECK_STR(s, "2100-02-28T23:59:59.001Z");
	time_format_iso(-1, s, sizeof(s));
	CHECK_STR(s, "1969-12-31T23:59:59.999Z");
}

TEST(errors_have_text)
{
	CHECK_STR(berth_strerror(-BERTH_ENOSPC), "no space left on storage");
	CHECK_STR(berth_strerror(9999), "unknown error");
	CHECK_EQ(berth_from_errno(ENOSPC), -BERTH_ENOSPC);
}

TEST(fault_nth_call_fails_once)
{
	CHECK_EQ(fault_armed(), 0);
	CHECK_EQ(fault_hit(FAULT_FSYNC), 0);
	fault_set(FAULT_FSYNC, 3, 0);
	CHECK_EQ(fault_armed(), 1);
	CHECK_EQ(fault_hit(FAULT_WRITE), 0); /* other points are not counted */
	CHECK_EQ(fault_hit(FAULT_FSYNC), 0);
	CHECK_EQ(fault_hit(FAULT_FSYNC), 0);
	CHECK_EQ(fault_fired(FAULT_FSYNC), 0);
	CHECK_EQ(fault_hit(FAULT_FSYNC), EIO);
	CHECK_EQ(fault_fired(FAULT_FSYNC), 1);
	CHECK_EQ(fault_hit(FAULT_FSYNC), 0); /* once */
	CHECK_EQ(fault_calls(FAULT_FSYNC), 4);
	CHECK_EQ(fault_calls(FAULT_WRITE), 0);
	fault_set(FAULT_WRITE, 1, ENOSPC);
	CHECK_EQ(fault_hit(FAULT_WRITE), ENOSPC);
	fault_clear();
	CHECK_EQ(fault_armed(), 0);
	CHECK_EQ(fault_fired(FAULT_FSYNC), 0);
	CHECK_STR(fault_name(FAULT_DB), "db");
	CHECK_STR(fault_name(FAULT_RENAME), "rename");
}

TEST(fault_spec_parse)
{
	CHECK_EQ(fault_parse(NULL), 0);
	CHECK_EQ(fault_parse(""), 0);
	CHECK_EQ(fault_armed(), 0);
	CHECK_EQ(fault_parse("fsync:2,db:1:enospc,write:3:eio"), 0);
	CHECK_EQ(fault_hit(FAULT_DB), ENOSPC);
	CHECK_EQ(fault_hit(FAULT_FSYNC), 0);
	CHECK_EQ(fault_hit(FAULT_FSYNC), EIO);
	CHECK_EQ(fault_hit(FAULT_RENAME), 0);
	fault_clear();
	/* malformed: nothing armed */
	const char *bad[] = {"fsync",    "fsync:",   "fsync:0",       "fsync:-1",
			     "fsync:x",  "disk:1",   "fsync:1:eperm", "fsync:1,",
			     ",fsync:1", "fsync:1:", "FSYNC:1",       "fsync:99999999999999999999",
			     "fsync:1 ", NULL};
	for (int i = 0; bad[i]; i++) {
		if (fault_parse(bad[i]) != -BERTH_EINVAL)
			FAIL_AT("fault_parse(\"%s\") accepted", bad[i]);
		CHECK_EQ(fault_armed(), 0);
	}
}

TEST(duration_grammar)
{
	int64_t ms = -1;

	CHECK_EQ(config_duration_parse("30s", &ms), 0);
	CHECK_EQ(ms, 30000);
	CHECK_EQ(config_duration_parse("15m", &ms), 0);
	CHECK_EQ(ms, 900000);
	CHECK_EQ(config_duration_parse("24h", &ms), 0);
	CHECK_EQ(ms, 86400000);
	CHECK_EQ(config_duration_parse("250ms", &ms), 0);
	CHECK_EQ(ms, 250);
	CHECK_EQ(config_duration_parse("2d", &ms), 0);
	CHECK_EQ(ms, 172800000);
	CHECK_EQ(config_duration_parse("0", &ms), 0);
	CHECK_EQ(ms, 0);
	CHECK_EQ(config_duration_parse("0s", &ms), 0);
	CHECK_EQ(ms, 0);
	ms = 7;
	CHECK_EQ(config_duration_parse("", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("30", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("-1s", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("1.5h", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse(" 1s", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("1s ", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("1hh", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("h", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("1H", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("99999999999999999999s", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse("9223372036854775807d", &ms), -BERTH_EINVAL);
	CHECK_EQ(config_duration_parse(NULL, &ms), -BERTH_EINVAL);
	CHECK_EQ(ms, 7);
}

static const struct test tests[] = {
    T(duration_grammar),
    T(buf_add_and_cap),
    T(buf_detach_owns),
    T(buf_overflow_size),
    T(str_copy_truncates),
    T(digest_parse_valid),
    T(digest_parse_invalid),
    T(digest_of_known_vectors),
    T(hasher_streams_and_copies),
    T(config_file_env_and_defaults),
    T(config_bad_yaml_names_position),
    T(uuid_format),
    T(time_iso_format),
    T(errors_have_text),
    T(fault_nth_call_fails_once),
    T(fault_spec_parse),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}

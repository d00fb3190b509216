/* Unit tests of the client's parsers: image references (every transport, hostile input), registry
 * authentication challenges, the auth file, platforms and descriptors. */
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
/* the registry client's helpers are static: test them from inside (h2o-style) */
#include "client/remote.c"

#include "client/auth.h"
#include "client/client.h"
#include "client/transport.h"
#include "harness.h"
#include "image/desc.h"
#include "image/manifest.h"
#include "image/ref.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct image_ref parse_ok(const char *s)
{
	struct image_ref r;
	char why[256] = "";
	int rc = image_ref_parse(s, &r, why, sizeof(why));
	if (rc != 0)
		FAIL_AT("image_ref_parse(%s) = %d: %s", s, rc, why);
	return r;
}

static int parse_rc(const char *s, char *why, size_t n)
{
	struct image_ref r;
	int rc = image_ref_parse(s, &r, why, n);
	if (rc == 0)
		image_ref_release(&r);
	return rc;
}

TEST(ref_docker_full)
{
	struct image_ref r = parse_ok("docker://127.0.0.1:5000/team/app:v1.2-rc");
	char *s;
	CHECK_EQ(r.transport, REF_DOCKER);
	CHECK_STR(r.host, "127.0.0.1:5000");
	CHECK_STR(r.repo, "team/app");
	CHECK_STR(r.tag, "v1.2-rc");
	CHECK_EQ(r.has_digest, 0);
	CHECK_EQ(r.tag_default, 0);
	CHECK(r.path == NULL);
	s = image_ref_format(&r);
	CHECK_STR(s, "docker://127.0.0.1:5000/team/app:v1.2-rc");
	free(s);
	image_ref_release(&r);
}

TEST(ref_docker_default_tag_latest)
{
	struct image_ref r = parse_ok("docker://registry.example.com/app");
	CHECK_STR(r.host, "registry.example.com");
	CHECK_STR(r.repo, "app");
	CHECK_STR(r.tag, "latest");
	CHECK_EQ(r.tag_default, 1);
	image_ref_release(&r);
	r = parse_ok("docker://localhost/a/b/c");
	CHECK_STR(r.host, "localhost");
	CHECK_STR(r.repo, "a/b/c");
	CHECK_STR(r.tag, "latest");
	image_ref_release(&r);
}

TEST(ref_docker_digest)
{
	struct image_ref r = parse_ok("docker://h.io:443/app@" D64);
	char ds[DIGEST_STR_MAX], *s;
	CHECK_EQ(r.has_digest, 1);
	CHECK_STR(digest_str(&r.digest, ds), D64);
	CHECK_STR(r.repo, "app");
	s = image_ref_format(&r);
	CHECK_STR(s, "docker://h.io:443/app@" D64);
	free(s);
	image_ref_release(&r);
	/* tag and digest together: both kept */
	r = parse_ok("docker://h.io/app:v1@" D64);
	CHECK_STR(r.tag, "v1");
	CHECK_EQ(r.has_digest, 1);
	CHECK_EQ(r.tag_default, 0);
	image_ref_release(&r);
}

TEST(ref_docker_ipv6_host)
{
	struct image_ref r = parse_ok("docker://[::1]:5000/app:x");
	CHECK_STR(r.host, "[::1]:5000");
	CHECK_STR(r.repo, "app");
	CHECK_STR(r.tag, "x");
	image_ref_release(&r);
}

TEST(ref_docker_hostile)
{
	char why[256];
	static const char *bad[] = {
	    "docker://", /* nothing */
	    "docker://127.0.0.1:5000", /* no repository */
	    "docker://127.0.0.1:5000/", /* empty repository */
	    "docker://library/busybox", /* no registry host (no normalization) */
	    "docker://h.io/App", /* upper case */
	    "docker://h.io/a//b", /* empty component */
	    "docker://h.io/../etc", /* dot-dot */
	    "docker://h.io/a/", /* trailing slash */
	    "docker://h.io/a:", /* empty tag */
	    "docker://h.io/a:-x", /* tag starting with '-' */
	    "docker://h.io/a:x/y", /* slash in tag */
	    "docker://h.io/a@sha256:abc", /* short digest */
	    "docker://h.io/a@sha256:"
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", /* upper hex */
	    "docker://h.io:0/a", /* port 0 */
	    "docker://h.io:65536/a", /* port too large */
	    "docker://h.io:5x/a", /* port not a number */
	    "docker://-h.io/a", /* label starts with '-' */
	    "docker://h_io.x/a", /* underscore in host */
	    "docker://h.io/a b", /* space */
	    "docker://h.io/a\tb", /* control */
	    "docker://h.io/a__-b", /* bad separator */
	    "docker://h.io/a:"
	    "0123456789012345678901234567890123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789012345678901234567890", /* 129-char tag */
	    "docker://[::1/a", /* unclosed IPv6 */
	    "docker//h.io/a", /* no transport */
	    "h.io/a:v1", /* no transport */
	    "dokker://h.io/a", /* unknown transport */
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_rc(bad[i], why, sizeof(why));
		if (rc >= 0)
			FAIL_AT("'%s' parsed but should not", bad[i]);
		CHECK(why[0] != '\0');
	}
	CHECK_EQ(parse_rc("docker://h.io/a@md5:0123456789abcdef0123456789abcdef", why, sizeof(why)),
		 -BERTH_EUNSUPPORTED);
}

TEST(ref_docker_long_names)
{
	char name[400], why[256];
	struct buf b;

	memset(name, 'a', 255);
	name[255] = '\0';
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "docker://h.io/%s", name);
	CHECK_EQ(parse_rc(b.ptr, why, sizeof(why)), 0);
	buf_reset(&b);
	name[255] = 'a';
	name[256] = '\0';
	buf_addf(&b, "docker://h.io/%s", name);
	CHECK_EQ(parse_rc(b.ptr, why, sizeof(why)), -BERTH_EINVAL);
	buf_release(&b);
	/* a huge reference is refused before any work */
	{
		char *huge = xmalloc(70000);
		memcpy(huge, "docker://h.io/", 14);
		memset(huge + 14, 'a', 69985);
		huge[69999] = '\0';
		CHECK_EQ(parse_rc(huge, why, sizeof(why)), -BERTH_EINVAL);
		free(huge);
	}
}

TEST(ref_oci)
{
	struct image_ref r = parse_ok("oci:/tmp/lay:v1");
	char why[256];
	CHECK_EQ(r.transport, REF_OCI);
	CHECK_STR(r.path, "/tmp/lay");
	CHECK_STR(r.tag, "v1");
	CHECK(r.host == NULL && r.repo == NULL);
	image_ref_release(&r);
	r = parse_ok("oci:relative/dir");
	CHECK_STR(r.path, "relative/dir");
	CHECK(r.tag == NULL); /* no default for layouts */
	image_ref_release(&r);
	/* the path ends at the first colon; the rest is the name (which may hold ':' and '@') */
	r = parse_ok("oci:/x:my:name@1");
	CHECK_STR(r.path, "/x");
	CHECK_STR(r.tag, "my:name@1");
	image_ref_release(&r);
	r = parse_ok("oci-archive:/tmp/a.tar:latest");
	CHECK_EQ(r.transport, REF_OCI_ARCHIVE);
	CHECK_STR(r.path, "/tmp/a.tar");
	CHECK_STR(r.tag, "latest");
	image_ref_release(&r);
	CHECK_EQ(parse_rc("oci:", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("oci::v1", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("oci:/x:", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("oci:/x:-v", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("oci:/x:a..b", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("oci:/x:a/b", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("oci-archive:", why, sizeof(why)), -BERTH_EINVAL);
}

TEST(ref_docker_archive)
{
	struct image_ref r = parse_ok("docker-archive:/tmp/i.tar");
	char why[256], *s;
	CHECK_EQ(r.transport, REF_DOCKER_ARCHIVE);
	CHECK_STR(r.path, "/tmp/i.tar");
	CHECK(r.repo == NULL && r.tag == NULL);
	image_ref_release(&r);
	r = parse_ok("docker-archive:/tmp/i.tar:app:v2");
	CHECK_STR(r.repo, "app");
	CHECK_STR(r.tag, "v2");
	s = image_ref_format(&r);
	CHECK_STR(s, "docker-archive:/tmp/i.tar:app:v2");
	free(s);
	image_ref_release(&r);
	r = parse_ok("docker-archive:i.tar:127.0.0.1:5000/team/app");
	CHECK_STR(r.repo, "127.0.0.1:5000/team/app");
	CHECK_STR(r.tag, "latest");
	image_ref_release(&r);
	CHECK_EQ(parse_rc("docker-archive:i.tar:", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("docker-archive:i.tar:App", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("docker-archive:i.tar:app@" D64, why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("docker-archive:i.tar:bad host:1/x", why, sizeof(why)), -BERTH_EINVAL);
}

TEST(ref_local)
{
	struct image_ref r = parse_ok("local:app");
	char why[256];
	CHECK_EQ(r.transport, REF_LOCAL);
	CHECK_STR(r.repo, "app");
	CHECK_STR(r.tag, "latest");
	image_ref_release(&r);
	r = parse_ok("local:h.io:5000/team/app:v3");
	CHECK_STR(r.repo, "h.io:5000/team/app");
	CHECK_STR(r.tag, "v3");
	image_ref_release(&r);
	CHECK_EQ(parse_rc("local:", why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(parse_rc("local:UP", why, sizeof(why)), -BERTH_EINVAL);
}

TEST(ref_grammar_helpers)
{
	CHECK_EQ(image_ref_name_valid("a"), 1);
	CHECK_EQ(image_ref_name_valid("a.b_c__d-e---f/g0"), 1);
	CHECK_EQ(image_ref_name_valid("a___b"), 0);
	CHECK_EQ(image_ref_name_valid("a.-b"), 0);
	CHECK_EQ(image_ref_name_valid("-a"), 0);
	CHECK_EQ(image_ref_tag_valid("_x"), 1);
	CHECK_EQ(image_ref_tag_valid(".x"), 0);
	CHECK_EQ(image_ref_host_valid("a-b.c"), 1);
	CHECK_EQ(image_ref_host_valid("a-.c"), 0);
	CHECK_EQ(image_ref_host_valid("a..c"), 0);
	CHECK_EQ(image_ref_host_valid("h:65535"), 1);
	CHECK_EQ(image_ref_host_valid("h:01"), 0);
	CHECK_EQ(image_ref_host_valid("[]:1"), 0);
	CHECK_EQ(image_ref_host_valid("[::1]x"), 0);
}

/* ---------------------------------------------------------------- challenges */

TEST(challenge_bearer)
{
	struct client_challenge c;
	CHECK_EQ(
	    client_challenge_parse("Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
				   "scope=\"repository:team/app:pull,push\"",
				   &c),
	    0);
	CHECK_EQ(c.scheme, AUTH_BEARER);
	CHECK_STR(c.realm, "https://auth.example.com/token");
	CHECK_STR(c.service, "registry.example.com");
	CHECK_STR(c.scope, "repository:team/app:pull,push");
	CHECK(c.error == NULL);
	client_challenge_release(&c);
}

TEST(challenge_case_spaces_escapes_tokens)
{
	struct client_challenge c;
	CHECK_EQ(client_challenge_parse(
		     "bEaReR  REALM = \"http://a/t?x=\\\"1\\\"\" , Service=reg.io,error=insufficient_scope", &c),
		 0);
	CHECK_EQ(c.scheme, AUTH_BEARER);
	CHECK_STR(c.realm, "http://a/t?x=\"1\"");
	CHECK_STR(c.service, "reg.io");
	CHECK_STR(c.error, "insufficient_scope");
	CHECK(c.scope == NULL);
	client_challenge_release(&c);
}

TEST(challenge_basic_and_several)
{
	struct client_challenge c;
	CHECK_EQ(client_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
	CHECK_EQ(c.scheme, AUTH_BASIC);
	CHECK_STR(c.realm, "Registry Realm");
	client_challenge_release(&c);
	/* Bearer wins wherever it is */
	CHECK_EQ(client_challenge_parse("Basic realm=\"r\", Bearer realm=\"https://t/x\",service=\"s\"", &c), 0);
	CHECK_EQ(c.scheme, AUTH_BEARER);
	CHECK_STR(c.realm, "https://t/x");
	CHECK_STR(c.service, "s");
	client_challenge_release(&c);
	/* an unknown scheme beside a known one is skipped */
	CHECK_EQ(client_challenge_parse("Negotiate, Basic realm=x", &c), 0);
	CHECK_EQ(c.scheme, AUTH_BASIC);
	CHECK_STR(c.realm, "x");
	client_challenge_release(&c);
}

TEST(challenge_hostile)
{
	struct client_challenge c;
	static const char *bad[] = {
	    NULL,
	    "",
	    "   ",
	    "Negotiate",
	    "Bearer", /* no realm */
	    "Bearer service=\"x\"", /* no realm */
	    "Bearer realm=\"\"", /* empty realm */
	    "Bearer realm=\"unterminated",
	    "Bearer realm=\"x\\", /* escape at the end */
	    "Bearer realm=", /* no value */
	    "Bearer realm=\"x\" junk", /* garbage after a parameter */
	    "Bearer =\"x\"",
	    "Bearer realm=\"a\x01b\"", /* control character */
	    "@@@",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (client_challenge_parse(bad[i], &c) == 0)
			FAIL_AT("challenge %zu parsed but should not", i);
		CHECK(c.realm == NULL && c.scheme == AUTH_NONE);
	}
	/* a value past the 4 KiB cap */
	{
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		buf_adds(&b, "Bearer realm=\"");
		for (int i = 0; i < 5000; i++)
			buf_adds(&b, "a");
		buf_adds(&b, "\"");
		CHECK_EQ(client_challenge_parse(b.ptr, &c), -BERTH_EINVAL);
		buf_release(&b);
	}
}

/* ---------------------------------------------------------------- credentials */

TEST(basic_roundtrip)
{
	char *b64 = client_basic_encode("user", "pa:ss word"), *u, *p;
	CHECK_STR(b64, "dXNlcjpwYTpzcyB3b3Jk");
	CHECK_EQ(client_basic_decode(b64, &u, &p), 0);
	CHECK_STR(u, "user");
	CHECK_STR(p, "pa:ss word"); /* only the first ':' separates */
	free(u);
	free(p);
	free(b64);
	CHECK_EQ(client_basic_decode("bm9jb2xvbg==", &u, &p), -BERTH_EINVAL); /* "nocolon" */
	CHECK_EQ(client_basic_decode("!!!!", &u, &p), -BERTH_EINVAL);
	CHECK_EQ(client_basic_decode("abc", &u, &p), -BERTH_EINVAL);
	CHECK_EQ(client_basic_decode("", &u, &p), -BERTH_EINVAL);
	CHECK_EQ(client_basic_decode("YT=6Yg==", &u, &p), -BERTH_EINVAL); /* '=' inside */
	CHECK(u == NULL && p == NULL);
}

static char *write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/berth-authfile-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		FAIL_AT("mkstemp");
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		FAIL_AT("write");
	close(fd);
	return path;
}

TEST(authfile_lookup)
{
	/* alice:secret, bob:pw, carol:team */
	char *path = write_tmp("{\"auths\":{"
			       "\"https://reg.io:5000\":{\"auth\":\"YWxpY2U6c2VjcmV0\"},"
			       "\"other.io\":{\"auth\":\"Ym9iOnB3\"},"
			       "\"other.io/team\":{\"auth\":\"Y2Fyb2w6dGVhbQ==\"},"
			       "\"plain.io\":{\"username\":\"u\",\"password\":\"p\"},"
			       "\"broken.io\":{\"auth\":\"%%%%\"}},"
			       "\"credHelpers\":{\"x\":\"y\"}}");
	struct client_authfile af;
	struct client_err e = {0};
	char *u = NULL, *p = NULL;

	CHECK_EQ(client_authfile_load(path, &af, &e), 0);
	CHECK_EQ(client_authfile_get(&af, "reg.io:5000", NULL, &u, &p), 0);
	CHECK_STR(u, "alice");
	CHECK_STR(p, "secret");
	free(u);
	free(p);
	CHECK_EQ(client_authfile_get(&af, "reg.io", NULL, &u, &p), -BERTH_ENOENT); /* port matters */
	CHECK_EQ(client_authfile_get(&af, "other.io", "team/app", &u, &p), 0); /* namespace wins */
	CHECK_STR(u, "carol");
	free(u);
	free(p);
	CHECK_EQ(client_authfile_get(&af, "other.io", "teams/app", &u, &p), 0); /* not a namespace of "team" */
	CHECK_STR(u, "bob");
	free(u);
	free(p);
	CHECK_EQ(client_authfile_get(&af, "plain.io", NULL, &u, &p), 0);
	CHECK_STR(p, "p");
	free(u);
	free(p);
	CHECK_EQ(client_authfile_get(&af, "broken.io", NULL, &u, &p), -BERTH_EINVAL);
	client_authfile_release(&af);
	unlink(path);
	free(path);
}

TEST(authfile_set_remove_save_keeps_other_keys)
{
	char *path = write_tmp("{\"auths\":{\"https://a.io\":{\"auth\":\"Ym9iOnB3\"}},\"credHelpers\":{\"x\":\"y\"}}");
	struct client_authfile af;
	struct client_err e = {0};
	struct stat st;
	char *u, *p;
	json_t *root;

	CHECK_EQ(client_authfile_load(path, &af, &e), 0);
	CHECK_EQ(client_authfile_set(&af, "a.io", "new", "pw2"), 0); /* replaces the schemed key */
	CHECK_EQ(client_authfile_set(&af, "b.io:1", "x", "y"), 0);
	CHECK_EQ(client_authfile_save(&af, &e), 0);
	client_authfile_release(&af);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	root = json_load_file(path, 0, NULL);
	CHECK(root != NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(root, "credHelpers"), "x")), "y");
	CHECK(json_object_get(json_object_get(root, "auths"), "https://a.io") == NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(root, "auths"), "a.io"), "auth")),
		  "bmV3OnB3Mg==");
	json_decref(root);
	CHECK_EQ(client_authfile_load(path, &af, &e), 0);
	CHECK_EQ(client_authfile_get(&af, "a.io", NULL, &u, &p), 0);
	CHECK_STR(u, "new");
	free(u);
	free(p);
	CHECK_EQ(client_authfile_remove(&af, "a.io"), 0);
	CHECK_EQ(client_authfile_remove(&af, "a.io"), -BERTH_ENOENT);
	CHECK_EQ(client_authfile_get(&af, "a.io", NULL, &u, &p), -BERTH_ENOENT);
	client_authfile_clear(&af);
	CHECK_EQ(client_authfile_get(&af, "b.io:1", NULL, &u, &p), -BERTH_ENOENT);
	client_authfile_release(&af);
	unlink(path);
	free(path);
}

TEST(authfile_missing_and_malformed)
{
	struct client_authfile af;
	struct client_err e = {0};
	char *u, *p, *path;

	CHECK_EQ(client_authfile_load("/nonexistent/berth/auth.json", &af, &e), 0); /* empty document */
	CHECK_EQ(client_authfile_get(&af, "a.io", NULL, &u, &p), -BERTH_ENOENT);
	client_authfile_release(&af);
	path = write_tmp("[1,2]");
	CHECK_EQ(client_authfile_load(path, &af, &e), -BERTH_EINVAL);
	CHECK(strstr(e.msg, "not a JSON object") != NULL);
	unlink(path);
	free(path);
	path = write_tmp("{\"auths\":[]}");
	CHECK_EQ(client_authfile_load(path, &af, &e), -BERTH_EINVAL);
	unlink(path);
	free(path);
	path = write_tmp("{\"auths\":{},\"auths\":{}}"); /* duplicate keys */
	CHECK_EQ(client_authfile_load(path, &af, &e), -BERTH_EINVAL);
	unlink(path);
	free(path);
}

TEST(authfile_default_path_and_lookup_order)
{
	char dir[] = "/tmp/berth-xdg-XXXXXX", *p, *u, *pw, file[256];
	struct client_opts o;
	struct client_err e = {0};

	CHECK(mkdtemp(dir) != NULL);
	unsetenv("REGISTRY_AUTH_FILE");
	setenv("XDG_RUNTIME_DIR", dir, 1);
	setenv("HOME", dir, 1);
	p = client_authfile_default(NULL);
	snprintf(file, sizeof(file), "%s/containers/auth.json", dir);
	CHECK_STR(p, file);
	free(p);
	p = client_authfile_default("/x/y.json");
	CHECK_STR(p, "/x/y.json");
	free(p);
	setenv("REGISTRY_AUTH_FILE", "/r/a.json", 1);
	p = client_authfile_default(NULL);
	CHECK_STR(p, "/r/a.json");
	free(p);
	unsetenv("REGISTRY_AUTH_FILE");
	/* nothing stored */
	client_opts_init(&o);
	CHECK_EQ(client_creds_lookup(&o, "h.io", NULL, &u, &pw, &e), -BERTH_ENOENT);
	/* the docker file is the fallback */
	snprintf(file, sizeof(file), "%s/.docker", dir);
	mkdir(file, 0700);
	snprintf(file, sizeof(file), "%s/.docker/config.json", dir);
	{
		FILE *f = fopen(file, "w");
		fputs("{\"auths\":{\"h.io\":{\"auth\":\"Ym9iOnB3\"}}}", f);
		fclose(f);
	}
	CHECK_EQ(client_creds_lookup(&o, "h.io", NULL, &u, &pw, &e), 0);
	CHECK_STR(u, "bob");
	free(u);
	free(pw);
	/* --creds wins over files */
	o.creds = "me:x:y";
	CHECK_EQ(client_creds_lookup(&o, "h.io", NULL, &u, &pw, &e), 0);
	CHECK_STR(u, "me");
	CHECK_STR(pw, "x:y");
	free(u);
	free(pw);
	client__rmtree(dir);
}

/* ---------------------------------------------------------------- platforms and descriptors */

TEST(platform_parse_and_pick)
{
	struct image_platform p;
	struct image_doc d;
	char why[256], out[96];
	const char *idx = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
			  "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D64 "\",\"size\":1,"
			  "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
			  "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D64 "\",\"size\":2,"
			  "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
			  "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D64 "\",\"size\":3,"
			  "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
			  "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D64 "\",\"size\":4,"
			  "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";

	CHECK_EQ(image_platform_parse("linux/arm/v7", &p), 0);
	CHECK_STR(p.os, "linux");
	CHECK_STR(p.arch, "arm");
	CHECK_STR(p.variant, "v7");
	image_platform_format(&p, out, sizeof(out));
	CHECK_STR(out, "linux/arm/v7");
	CHECK_EQ(image_doc_parse(idx, strlen(idx), NULL, &d, why, sizeof(why)), 0);
	CHECK_EQ(d.is_index, 1);
	CHECK_EQ(d.nmanifests, 4);
	CHECK_EQ(image_doc_pick(&d, &p), 1);
	image_platform_release(&p);
	CHECK_EQ(image_platform_parse("linux/arm64/v8", &p), 0);
	CHECK_EQ(image_doc_pick(&d, &p), 2); /* no variant given for arm64 means v8 */
	image_platform_release(&p);
	CHECK_EQ(image_platform_parse("linux/amd64", &p), 0);
	CHECK_EQ(image_doc_pick(&d, &p), 3);
	image_platform_release(&p);
	CHECK_EQ(image_platform_parse("linux/arm", &p), 0);
	CHECK_EQ(image_doc_pick(&d, &p), 0); /* the first arm */
	image_platform_release(&p);
	CHECK_EQ(image_platform_parse("linux/arm/v5", &p), 0);
	CHECK_EQ(image_doc_pick(&d, &p), -BERTH_ENOENT);
	image_platform_release(&p);
	CHECK_EQ(image_platform_parse("windows/amd64", &p), 0);
	CHECK_EQ(image_doc_pick(&d, &p), -BERTH_ENOENT);
	image_platform_release(&p);
	image_doc_release(&d);
	CHECK_EQ(image_platform_parse("linux", &p), -BERTH_EINVAL);
	CHECK_EQ(image_platform_parse("/amd64", &p), -BERTH_EINVAL);
	CHECK_EQ(image_platform_parse("linux/", &p), -BERTH_EINVAL);
	CHECK_EQ(image_platform_parse("linux/arm/v7/x", &p), -BERTH_EINVAL);
	CHECK_EQ(image_platform_parse("Linux/amd64", &p), -BERTH_EINVAL);
	image_platform_host(&p);
	CHECK_STR(p.os, "linux");
	CHECK(p.arch && *p.arch);
	image_platform_release(&p);
}

TEST(doc_parse_manifest_and_hostile)
{
	struct image_doc d;
	char why[256];
	const char *m = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\"" D64 "\",\"size\":7},"
			"\"layers\":[{\"mediaType\":\"l\",\"digest\":\"" D64 "\",\"size\":9,\"urls\":[\"http://x\"]}]}";
	CHECK_EQ(image_doc_parse(m, strlen(m), NULL, &d, why, sizeof(why)), 0);
	CHECK_EQ(d.is_index, 0);
	CHECK_STR(d.media_type, MT_OCI_MANIFEST);
	CHECK_EQ(d.config.size, 7);
	CHECK_EQ(d.nlayers, 1);
	CHECK_EQ(d.layers[0].foreign, 1);
	image_doc_release(&d);
	CHECK_EQ(image_doc_parse("{\"schemaVersion\":1}", 19, NULL, &d, why, sizeof(why)), -BERTH_EUNSUPPORTED);
	CHECK_EQ(image_doc_parse("[]", 2, NULL, &d, why, sizeof(why)), -BERTH_EINVAL);
	CHECK_EQ(image_doc_parse("{\"layers\":[]}", 13, NULL, &d, why, sizeof(why)), -BERTH_EINVAL); /* no config */
	{
		const char *neg = "{\"config\":{\"digest\":\"" D64 "\",\"size\":-1},\"layers\":[]}";
		CHECK_EQ(image_doc_parse(neg, strlen(neg), NULL, &d, why, sizeof(why)), -BERTH_EINVAL);
		CHECK(strstr(why, "size") != NULL);
	}
	{
		const char *bad = "{\"config\":{\"digest\":\"sha256:xyz\",\"size\":1},\"layers\":[]}";
		CHECK_EQ(image_doc_parse(bad, strlen(bad), NULL, &d, why, sizeof(why)), -BERTH_EINVAL);
	}
	{
		const char *bad = "{\"manifests\":{}}";
		CHECK_EQ(image_doc_parse(bad, strlen(bad), MT_OCI_INDEX, &d, why, sizeof(why)), -BERTH_EINVAL);
	}
}

/* ---------------------------------------------------------------- transports without a network */

TEST(local_transport_errors_are_clear)
{
	struct client_opts o;
	struct client_image *im = NULL;
	struct client_err e = {0};

	client_opts_init(&o);
	/* source and destination (tested against a store in test_pull.py); no tags or delete */
	CHECK_EQ(client_image_open("local:app:v1", CLIENT_ADMIN, &o, &im, &e), -BERTH_EUNSUPPORTED);
	CHECK(im == NULL);
	CHECK_STR(e.msg, "local: has no tags and cannot be deleted here (berth images, berth rmi)");
	/* a store that cannot be opened is a clear error, and nothing is left open */
	o.store_root = "/nonexistent-berth-parent/store";
	o.store_driver = "zfs";
	CHECK(client_image_open("local:app:v1", CLIENT_DST, &o, &im, &e) < 0);
	CHECK(im == NULL);
	CHECK(strstr(e.msg, "zfs") != NULL);
}

TEST(oci_missing_layout)
{
	struct client_opts o;
	struct client_image *im = NULL;
	struct client_err e = {0};

	client_opts_init(&o);
	CHECK_EQ(client_image_open("oci:/nonexistent/berth-layout:v1", CLIENT_SRC, &o, &im, &e), -BERTH_ENOENT);
	CHECK(strstr(e.msg, "not an OCI image layout") != NULL);
}

TEST(tar_extract_refuses_escapes)
{
	char dir[] = "/tmp/berth-tar-XXXXXX", tarpath[300], out[300], cmd[1200];
	struct client_err e = {0};

	CHECK(mkdtemp(dir) != NULL);
	/* a tar whose entry climbs out with ".." */
	snprintf(tarpath, sizeof(tarpath), "%s/evil.tar", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	mkdir(out, 0755);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p a && echo hi > a/x && tar --transform 's,^a/x,../escaped,' -cf evil.tar a/x "
		 "2>/dev/null",
		 dir);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(client__tar_extract(tarpath, out, NULL, &e), -BERTH_EINVAL);
	CHECK(strstr(e.msg, "unsafe") != NULL);
	snprintf(cmd, sizeof(cmd), "%s/escaped", dir);
	CHECK_EQ(access(cmd, F_OK), -1);
	client__rmtree(dir);
}

/* ---------------------------------------------------------------- remote.c internals */

TEST(remote_content_range_and_link)
{
	char *n;
	CHECK_EQ(content_range_start("bytes 100-199/200"), 100);
	CHECK_EQ(content_range_start("100-199"), 100);
	CHECK_EQ(content_range_start("bytes=5-"), 5);
	CHECK_EQ(content_range_start("bytes */200"), -1);
	CHECK_EQ(content_range_start("abc"), -1);
	CHECK_EQ(content_range_start("bytes 7"), -1);
	CHECK_EQ(content_range_start(NULL), -1);
	n = link_next("</v2/a/tags/list?n=2&last=b>; rel=\"next\"");
	CHECK_STR(n, "/v2/a/tags/list?n=2&last=b");
	free(n);
	CHECK(link_next("</v2/a/tags/list?n=2>; rel=\"prev\"") == NULL);
	CHECK(link_next("<unclosed; rel=\"next\"") == NULL);
	CHECK(link_next(NULL) == NULL);
}

TEST(remote_media_type_and_urls)
{
	struct client_remote r;
	char *m, *u;

	m = media_type_clean("application/vnd.oci.image.manifest.v1+json ; charset=utf-8");
	CHECK_STR(m, "application/vnd.oci.image.manifest.v1+json");
	free(m);
	CHECK(media_type_clean("application/octet-stream") == NULL);
	CHECK(media_type_clean("text/plain; charset=utf-8") == NULL);
	CHECK(media_type_clean("") == NULL);
	CHECK(media_type_clean(NULL) == NULL);
	memset(&r, 0, sizeof(r));
	snprintf(r.base, sizeof(r.base), "https://h.io:5000");
	u = url_for(&r, "/v2/a/blobs/uploads/x");
	CHECK_STR(u, "https://h.io:5000/v2/a/blobs/uploads/x");
	free(u);
	u = url_for(&r, "http://storage.example/upload?sig=1");
	CHECK_STR(u, "http://storage.example/upload?sig=1");
	free(u);
	u = with_digest(&r, "/v2/a/blobs/uploads/x?_state=s", "sha256:ab");
	CHECK_STR(u, "https://h.io:5000/v2/a/blobs/uploads/x?_state=s&digest=sha256:ab");
	free(u);
	u = with_digest(&r, "/v2/a/blobs/uploads/x", "sha256:ab");
	CHECK_STR(u, "https://h.io:5000/v2/a/blobs/uploads/x?digest=sha256:ab");
	free(u);
}

TEST(remote_status_errors)
{
	struct client_remote r;
	struct resp s;
	struct client_err e = {0};
	char text[256];

	memset(&r, 0, sizeof(r));
	r.host = "h.io";
	resp_init(&s, 0);
	s.status = 404;
	buf_adds(&s.body, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\"}]}");
	CHECK_EQ(status_error(&r, &s, "GET blob", &e), -BERTH_ENOENT);
	CHECK_STR(e.msg, "GET blob: h.io answered HTTP 404 (BLOB_UNKNOWN: blob unknown to registry)");
	s.status = 401;
	CHECK_EQ(status_error(&r, &s, "PUT", &e), -BERTH_EDENIED);
	CHECK_STR(e.msg, "PUT: authentication required by h.io (log in with: berth login h.io)");
	s.status = 400;
	buf_reset(&s.body);
	buf_adds(&s.body, "{\"errors\":[{\"code\":\"DIGEST_INVALID\"}]}");
	CHECK_EQ(status_error(&r, &s, "PUT", &e), -BERTH_EDIGEST);
	s.status = 502;
	buf_reset(&s.body);
	buf_add(&s.body, "bad\x01\xff gateway", 13);
	error_body_text(&s, text, sizeof(text));
	CHECK_STR(text, "bad   gateway"); /* control bytes never reach the terminal */
	CHECK_EQ(status_error(&r, &s, "GET", &e), -BERTH_EIO);
	resp_release(&s);
}

/* Feeds header lines through the curl header callback. */
static void feed_header(struct perform *pf, const char *line)
{
	char *copy = xstrdup(line);
	CHECK_EQ(on_header(copy, 1, strlen(copy), pf), strlen(line));
	free(copy);
}

TEST(remote_headers_reset_per_response)
{
	struct req q;
	struct resp s;
	struct perform pf;

	req_init(&q, "GET");
	resp_init(&s, 0);
	memset(&pf, 0, sizeof(pf));
	pf.q = &q;
	pf.s = &s;
	feed_header(&pf, "HTTP/1.1 307 Temporary Redirect\r\n");
	feed_header(&pf, "Location: http://other/blob\r\n");
	feed_header(&pf, "Docker-Content-Digest: sha256:old\r\n");
	CHECK_EQ(s.status, 307);
	CHECK_STR(s.location, "http://other/blob");
	feed_header(&pf, "HTTP/2 401 \r\n");
	CHECK_EQ(s.status, 401);
	CHECK(s.location == NULL && s.digest == NULL); /* headers of the earlier answer are gone */
	feed_header(&pf, "WWW-Authenticate: Bearer realm=\"https://t/x\"\r\n");
	feed_header(&pf, "www-authenticate:   Basic realm=y  \r\n");
	CHECK_STR(s.www.ptr, "Bearer realm=\"https://t/x\", Basic realm=y");
	feed_header(&pf, "Content-Range: bytes 5-9/10\r\n");
	CHECK_STR(s.content_range, "bytes 5-9/10");
	feed_header(&pf, "no colon here\r\n");
	resp_release(&s);
	req_release(&q);
}

/* The download sink: a 206 must continue at our offset; a 200 after a partial download starts over;
 * bytes beyond the descriptor's size stop the transfer. */
TEST(remote_download_sink_resume_rules)
{
	char path[] = "/tmp/berth-sink-XXXXXX", data[32];
	struct req q;
	struct resp s;
	struct perform pf;
	struct hasher h;
	struct digest got, want;
	uint64_t off = 0;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	hasher_init(&h, DIGEST_SHA256);
	req_init(&q, "GET");
	resp_init(&s, 0);
	q.sink_fd = fd;
	q.sink_off = &off;
	q.sink_max = 10;
	q.sink_hash = &h;
	memset(&pf, 0, sizeof(pf));
	pf.q = &q;
	pf.s = &s;
	/* first attempt: 200, 4 bytes arrive, then the connection breaks */
	s.status = 200;
	CHECK_EQ(on_write("abcd", 1, 4, &pf), 4);
	CHECK_EQ(off, 4);
	/* resumed: 206 at the wrong offset is refused */
	memset(&pf, 0, sizeof(pf));
	pf.q = &q;
	pf.s = &s;
	s.status = 206;
	s.content_range = xstrdup("bytes 3-9/10");
	CHECK_EQ(on_write("defghij", 1, 7, &pf), 0);
	CHECK_EQ(pf.bad_range, 1);
	CHECK_EQ(off, 4);
	/* resumed: 206 at 4 continues */
	memset(&pf, 0, sizeof(pf));
	pf.q = &q;
	pf.s = &s;
	free(s.content_range);
	s.content_range = xstrdup("bytes 4-9/10");
	CHECK_EQ(on_write("efghij", 1, 6, &pf), 6);
	CHECK_EQ(off, 10);
	hasher_final(&h, &got);
	digest_of(DIGEST_SHA256, "abcdefghij", 10, &want);
	CHECK(digest_eq(&got, &want));
	CHECK_EQ(pread(fd, data, sizeof(data), 0), 10);
	CHECK_MEM(data, "abcdefghij", 10);
	hasher_release(&h);
	/* a server that ignores Range: the file and the hash start over */
	hasher_init(&h, DIGEST_SHA256);
	off = 4;
	memset(&pf, 0, sizeof(pf));
	pf.q = &q;
	pf.s = &s;
	s.status = 200;
	CHECK_EQ(on_write("0123456789", 1, 10, &pf), 10);
	CHECK_EQ(off, 10);
	hasher_final(&h, &got);
	digest_of(DIGEST_SHA256, "0123456789", 10, &want);
	CHECK(digest_eq(&got, &want));
	CHECK_EQ(lseek(fd, 0, SEEK_END), 10);
	hasher_release(&h);
	/* one byte too many */
	hasher_init(&h, DIGEST_SHA256);
	off = 0;
	CHECK_EQ(ftruncate(fd, 0), 0);
	memset(&pf, 0, sizeof(pf));
	pf.q = &q;
	pf.s = &s;
	CHECK_EQ(on_write("0123456789X", 1, 11, &pf), 0);
	CHECK_EQ(pf.overflow, 1);
	CHECK_EQ(off, 0);
	/* a non-2xx body goes to the capped error buffer, never to the file */
	memset(&pf, 0, sizeof(pf));
	pf.q = &q;
	pf.s = &s;
	s.status = 404;
	CHECK_EQ(on_write("{\"errors\":[]}", 1, 13, &pf), 13);
	CHECK_EQ(s.body.len, 13);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 0);
	hasher_release(&h);
	resp_release(&s);
	req_release(&q);
	close(fd);
}

static const struct test tests[] = {
    T(ref_docker_full),
    T(ref_docker_default_tag_latest),
    T(ref_docker_digest),
    T(ref_docker_ipv6_host),
    T(ref_docker_hostile),
    T(ref_docker_long_names),
    T(ref_oci),
    T(ref_docker_archive),
    T(ref_local),
    T(ref_grammar_helpers),
    T(challenge_bearer),
    T(challenge_case_spaces_escapes_tokens),
    T(challenge_basic_and_several),
    T(challenge_hostile),
    T(basic_roundtrip),
    T(authfile_lookup),
    T(authfile_set_remove_save_keeps_other_keys),
    T(authfile_missing_and_malformed),
    T(authfile_default_path_and_lookup_order),
    T(platform_parse_and_pick),
    T(doc_parse_manifest_and_hostile),
    T(local_transport_errors_are_clear),
    T(oci_missing_layout),
    T(tar_extract_refuses_escapes),
    T(remote_content_range_and_link),
    T(remote_media_type_and_urls),
    T(remote_status_errors),
    T(remote_headers_reset_per_response),
    T(remote_download_sink_resume_rules),
    {NULL, NULL},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}

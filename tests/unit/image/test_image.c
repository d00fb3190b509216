/* Unit tests for image/manifest: what a registry must accept, reject and index. */
#include <stdlib.h>

#include "base/err.h"
#include "image/manifest.h"
#include "harness.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static int parse(const char *body, const char *ct, struct manifest *m, char *why)
{
	return manifest_parse(body, strlen(body), ct, m, why, 200);
}

TEST(oci_manifest_blobs_subject_annotations)
{
	const char *b =
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
	    "\"artifactType\":\"application/vnd.example+type\","
	    "\"config\":{\"mediaType\":\"" MT_OCI_EMPTY "\",\"digest\":\"" D1 "\",\"size\":2},"
	    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D2 "\",\"size\":5}],"
	    "\"subject\":{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D3 "\",\"size\":7},"
	    "\"annotations\":{\"b\":\"2\",\"a\":\"1\"}}";
	struct manifest m;
	char why[200] = "";

	CHECK_EQ(parse(b, MT_OCI_MANIFEST, &m, why), 0);
	CHECK_EQ(m.kind, MANIFEST_IMAGE);
	CHECK_EQ(m.nblobs, 2);
	CHECK_STR(m.blobs[0].hex, D1 + 7);
	CHECK_STR(m.blobs[1].hex, D2 + 7);
	CHECK_EQ(m.has_subject, 1);
	CHECK_STR(m.subject.hex, D3 + 7);
	CHECK_STR(m.artifact_type, "application/vnd.example+type");
	CHECK_STR(m.annotations_json, "{\"a\":\"1\",\"b\":\"2\"}");
	manifest_release(&m);
}

TEST(artifact_type_falls_back_to_config_media_type)
{
	const char *b = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.x.config\",\"digest\":\"" D1
			"\",\"size\":2},\"layers\":[]}";
	struct manifest m;
	char why[200];

	CHECK_EQ(parse(b, MT_OCI_MANIFEST, &m, why), 0);
	CHECK_STR(m.media_type, MT_OCI_MANIFEST);
	CHECK_STR(m.artifact_type, "application/vnd.x.config");
	manifest_release(&m);
}

TEST(index_children)
{
	const char *b = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
			"{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":1,"
			"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
			"{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":1}]}";
	struct manifest m;
	char why[200];

	CHECK_EQ(parse(b, MT_DOCKER_LIST "; charset=utf-8", &m, why), 0);
	CHECK_EQ(m.kind, MANIFEST_INDEX);
	CHECK_EQ(m.nmanifests, 2);
	CHECK_EQ(m.nblobs, 0);
	manifest_release(&m);
}

TEST(foreign_layers_not_required)
{
	const char *b =
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
	    "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D1
	    "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
	    "\"digest\":\"" D2 "\",\"size\":5,\"urls\":[\"https://example.invalid/x\"]}]}";
	struct manifest m;
	char why[200];

	CHECK_EQ(parse(b, MT_DOCKER_MANIFEST, &m, why), 0);
	CHECK_EQ(m.nblobs, 1);
	manifest_release(&m);
}

TEST(rejects_bad_manifests)
{
	struct manifest m;
	char why[200];

	CHECK_EQ(parse("{", MT_OCI_MANIFEST, &m, why), -BERTH_EINVAL);
	CHECK(strstr(why, "invalid JSON") != NULL);
	CHECK_EQ(parse("[]", MT_OCI_MANIFEST, &m, why), -BERTH_EINVAL);
	CHECK_EQ(parse("{\"schemaVersion\":1}", MT_OCI_MANIFEST, &m, why), -BERTH_EINVAL);
	/* no media type anywhere */
	CHECK_EQ(parse("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" D1
		       "\",\"size\":1},\"layers\":[]}",
		       NULL, &m, why),
		 -BERTH_EINVAL);
	/* body and header disagree */
	CHECK_EQ(parse("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[]}", MT_OCI_MANIFEST, &m,
		       why),
		 -BERTH_EINVAL);
	CHECK(strstr(why, "does not match") != NULL);
	/* unknown type */
	CHECK_EQ(parse("{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}", "text/plain", &m, why), -BERTH_EINVAL);
	/* descriptor problems */
	CHECK_EQ(parse("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:zz\",\"size\":1},"
		       "\"layers\":[]}",
		       MT_OCI_MANIFEST, &m, why),
		 -BERTH_EINVAL);
	CHECK_EQ(parse("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" D1
		       "\",\"size\":-1},\"layers\":[]}",
		       MT_OCI_MANIFEST, &m, why),
		 -BERTH_EINVAL);
	CHECK_EQ(parse("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" D1 "\",\"size\":1}}",
		       MT_OCI_MANIFEST, &m, why),
		 -BERTH_EINVAL);
	CHECK_EQ(parse("{\"schemaVersion\":2,\"layers\":[]}", MT_OCI_MANIFEST, &m, why), -BERTH_EINVAL);
	CHECK_EQ(parse("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"md5:abc\",\"size\":1},"
		       "\"layers\":[]}",
		       MT_OCI_MANIFEST, &m, why),
		 -BERTH_EUNSUPPORTED);
	/* duplicate keys are ambiguous: reject */
	CHECK_EQ(parse("{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}", MT_OCI_INDEX, &m, why),
		 -BERTH_EINVAL);
}

static const struct test tests[] = {
    T(oci_manifest_blobs_subject_annotations),
    T(artifact_type_falls_back_to_config_media_type),
    T(index_children),
    T(foreign_layers_not_required),
    T(rejects_bad_manifests),
    {0},
};

int main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}

/* harness: a one-header unit test runner.
 * Each test runs in its own process with a timeout; a failed CHECK prints both values with file:line.
 * The runner prints one line per test and ends with "N passed, N failed" (", N skipped" when a test
 * called SKIP: a skipped check is never counted as passed).
 *
 *   TEST(buf_grows) { struct buf b; buf_init(&b, 10); CHECK_EQ(buf_add(&b, "x", 1), 0); }
 *   static const struct test tests[] = { T(buf_grows), {0} };
 *   int main(int argc, char **argv) { return test_main(tests, argc, argv); }
 */
#ifndef BERTH_TEST_HARNESS_H
#define BERTH_TEST_HARNESS_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct test {
	const char *name;
	void (*fn)(void);
};

#define TEST(name) static void test_##name(void)
#define T(name)                    \
	{                          \
#name, test_##name \
	}

static int harness_failures;

#define FAIL_AT(...)                                              \
	do {                                                      \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                     \
		fputc('\n', stderr);                              \
		harness_failures++;                               \
		exit(1);                                          \
	} while (0)

/* Ends the test as skipped (not passed): the runner prints "skip NAME: reason" and counts it apart.
 * For checks this machine cannot make (no root, no overlayfs), never for a failure. */
#define HARNESS_SKIP_STATUS 77
#define SKIP(...)                          \
	do {                               \
		printf("  skipped: ");     \
		printf(__VA_ARGS__);       \
		putchar('\n');             \
		fflush(stdout);            \
		exit(HARNESS_SKIP_STATUS); \
	} while (0)

#define CHECK(cond)                                         \
	do {                                                \
		if (!(cond))                                \
			FAIL_AT("CHECK(%s) failed", #cond); \
	} while (0)

#define CHECK_EQ(a, b)                                                             \
	do {                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                \
		if (a_ != b_)                                                      \
			FAIL_AT("CHECK_EQ(%s, %s): %lld != %lld", #a, #b, a_, b_); \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
			FAIL_AT("CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", \
				b_ ? b_ : "(null)");                                               \
	} while (0)

#define CHECK_MEM(a, b, n)                                                          \
	do {                                                                        \
		if (memcmp((a), (b), (n)) != 0)                                     \
			FAIL_AT("CHECK_MEM(%s, %s, %s): bytes differ", #a, #b, #n); \
	} while (0)

/* Runs every test (or only those named on the command line), each in a child with a 60 s alarm. */
static inline int test_main(const struct test *tests, int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;
	const char *to = getenv("BERTH_TEST_TIMEOUT");
	unsigned timeout = to ? (unsigned)atoi(to) : 60;

	for (const struct test *t = tests; t->name; t++) {
		int want = argc < 2, status = 0;
		pid_t pid;

		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], t->name) == 0)
				want = 1;
		if (!want)
			continue;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			alarm(timeout);
			t->fn();
			exit(harness_failures ? 1 : 0);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == HARNESS_SKIP_STATUS) {
			skipped++;
			printf("skip %s\n", t->name);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			passed++;
			printf("ok   %s\n", t->name);
		} else {
			failed++;
			if (WIFSIGNALED(status))
				printf("FAIL %s (signal %d%s)\n", t->name, WTERMSIG(status),
				       WTERMSIG(status) == SIGALRM ? ", timeout" : "");
			else
				printf("FAIL %s\n", t->name);
		}
	}
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif

/* cli: the command table. Each command lives in its own cmd_<name>.c, parses its options, calls
 * library functions and maps errors to exit codes (0 ok, 1 failure, 2 usage). */
#ifndef BERTH_CLI_CLI_H
#define BERTH_CLI_CLI_H

#include <stdint.h>
#include <stddef.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

int cmd_serve(int argc, char **argv);
int cmd_errata(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_tags(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_layers(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_prune(int argc, char **argv);

/* The host-store commands' shared options (cmd_store.c): --root DIR (default /var/lib/berth),
 * --driver NAME, --json, --name NAME (mount only), and the positional arguments. */
struct graph_store;
struct store_cli {
	const char *root, *driver, *name;
	int json;
	char **args;
	size_t nargs;
	struct graph_store *store;
};
/* 0 when parsed, 2 on a usage error (printed), -1 after printing --help. */
int store_cli_parse(int argc, char **argv, struct store_cli *o, int allow_name, const char *usage);
/* Opens o->store; 0, or 1 after printing why. */
int store_cli_open(struct store_cli *o);
void store_cli_release(struct store_cli *o);
void store_cli_size(unsigned long long n, char *out, size_t outn);
void store_cli_age(long long ms, char *out, size_t outn);

/* A duration of at least one second, as config_duration_parse() writes it ("90s", "30m", "6h"), in
 * whole seconds. 0 or -BERTH_EINVAL. */
int cli_duration_parse(const char *s, int64_t *secs);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Signature configuration for sign/verify/copy/pull (cmd_sign.c): the trust policy from policy_path,
 * else /etc/containers/policy.json when policy_required or when that file exists (*policy stays NULL
 * otherwise: no enforcement), and registries.d from regd (default /etc/containers/registries.d).
 * 0, or 1 after printing why. */
struct policy;
struct registries;
int cli_sig_config_load(const char *policy_path, int policy_required, const char *regd, struct policy **policy,
			struct registries **regs);
int cmd_custody(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_grade(int argc, char **argv);
/* Prints "berth: <msg>" on stderr; returns 1 so callers can `return cli_fail(...)`. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The configuration every server-side command reads: the YAML file path (NULL: defaults), then the
 * BERTH_* environment, then --data (NULL: keep) as storage.filesystem.rootdirectory. 0, or 1 after
 * printing why. */
struct config;
int cli_config_load(struct config *cfg, const char *path, const char *data);

#define BERTH_VERSION "0.1.0"

#endif

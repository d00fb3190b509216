/* cli: the command table. Each command lives in its own cmd_<name>.c, parses its options, calls
 * library functions and maps errors to exit codes (0 ok, 1 failure, 2 usage). */
#ifndef BERTH_CLI_CLI_H
#define BERTH_CLI_CLI_H

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

int cmd_serve(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_tags(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);

/* Prints "berth: <msg>" on stderr; returns 1 so callers can `return cli_fail(...)`. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define BERTH_VERSION "0.1.0"

#endif

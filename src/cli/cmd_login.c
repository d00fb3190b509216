/* berth login HOST, berth logout HOST|--all: credentials in the containers auth file
 * (containers-auth.json(5)). login checks the credentials against the registry (Basic retry or a
 * token fetch, whichever its challenge asks for) before saving them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"
#include "cli/clientcli.h"
#include "client/auth.h"
#include "client/remote.h"
#include "image/ref.h"

static const char login_usage[] = "usage: berth login [-u USER] [-p PASSWORD | --password-stdin] [--authfile FILE] "
				  "[--tls-verify=BOOL] [--cert-dir DIR] HOST[:PORT]";
static const char logout_usage[] = "usage: berth logout [--authfile FILE] HOST[:PORT] | --all";

/* "docker://host:5000/x", "https://host:5000" -> "host:5000"; NULL when no valid host remains. */
static char *host_of(const char *s)
{
	const char *p = s, *slash;
	char *h;

	if (!strncmp(p, "docker://", 9))
		p += 9;
	else if (!strncmp(p, "https://", 8))
		p += 8;
	else if (!strncmp(p, "http://", 7))
		p += 7;
	slash = strchr(p, '/');
	h = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
	if (!image_ref_host_valid(h)) {
		free(h);
		return NULL;
	}
	return h;
}

/* One line from stdin (without its newline), echo off when it is a terminal. */
static char *read_line(const char *prompt, int secret)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), changed = 0;
	struct buf b;
	int ch;

	if (tty && prompt) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
	}
	if (tty && secret && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		changed = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	buf_init(&b, 64 << 10);
	while ((ch = getchar()) != EOF && ch != '\n') {
		char c = (char)ch;
		if (buf_add(&b, &c, 1) < 0)
			break;
	}
	if (changed) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	while (b.len && b.ptr[b.len - 1] == '\r')
		b.ptr[--b.len] = '\0';
	return buf_detach(&b, NULL);
}

int cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"username", required_argument, NULL, 'u'},
	    {"password", required_argument, NULL, 'p'},
	    {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
	    {"help", no_argument, NULL, 'h'},
	    CLIENT_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct client_opts o;
	struct client_remote *r = NULL;
	struct client_authfile af = {0};
	struct client_err e = {0};
	char *host = NULL, *user = NULL, *pass = NULL, *path = NULL, *creds = NULL;
	int c, from_stdin = 0, rc = 2, loaded = 0;

	client_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
		int r1 = cli_client_flag(c, optarg, &o);
		if (r1 < 0)
			goto out;
		if (r1 == 1)
			continue;
		switch (c) {
		case 'u':
			free(user);
			user = xstrdup(optarg);
			break;
		case 'p':
			free(pass);
			pass = xstrdup(optarg);
			break;
		case OPT_PASSWORD_STDIN:
			from_stdin = 1;
			break;
		case 'h':
			printf("%s\n", login_usage);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "%s\n", login_usage);
			goto out;
		}
	}
	if (argc - optind != 1 || (from_stdin && pass)) {
		fprintf(stderr, "%s\n", login_usage);
		goto out;
	}
	host = host_of(argv[optind]);
	if (!host) {
		cli_fail("login: '%s' is not a registry host", argv[optind]);
		goto out;
	}
	if (!user) {
		if (from_stdin || !isatty(STDIN_FILENO)) {
			cli_fail("login: give the user name with --username");
			goto out;
		}
		user = read_line("Username: ", 0);
	}
	if (from_stdin) {
		pass = read_line(NULL, 0);
	} else if (!pass) {
		if (!isatty(STDIN_FILENO)) {
			cli_fail("login: give the password with --password-stdin or -p");
			goto out;
		}
		pass = read_line("Password: ", 1);
	}
	if (!*user || strchr(user, ':') || !*pass) {
		cli_fail("login: the user name must be non-empty without ':' and the password non-empty");
		goto out;
	}
	rc = 1;
	{
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		buf_addf(&b, "%s:%s", user, pass);
		creds = buf_detach(&b, NULL);
	}
	o.creds = creds;
	if (client_remote_open(host, &o, &r, &e) < 0 || client_remote_login_check(r, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	path = client_authfile_default(o.authfile);
	if (!path) {
		rc = cli_fail("login: no place for the auth file (set REGISTRY_AUTH_FILE or use --authfile)");
		goto out;
	}
	if (client_authfile_load(path, &af, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	loaded = 1;
	if (client_authfile_set(&af, host, user, pass) < 0 || client_authfile_save(&af, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	printf("Login Succeeded!\n");
	rc = 0;
out:
	if (loaded)
		client_authfile_release(&af);
	client_remote_free(r);
	if (pass)
		memset(pass, 0, strlen(pass));
	if (creds)
		memset(creds, 0, strlen(creds));
	free(creds);
	free(pass);
	free(user);
	free(host);
	free(path);
	return rc;
}

int cmd_logout(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"authfile", required_argument, NULL, OPT_AUTHFILE},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct client_authfile af;
	struct client_err e = {0};
	const char *authfile = NULL;
	char *path = NULL, *host = NULL;
	int c, all = 0, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case OPT_AUTHFILE:
			authfile = optarg;
			break;
		case 'h':
			printf("%s\n", logout_usage);
			return 0;
		default:
			fprintf(stderr, "%s\n", logout_usage);
			return 2;
		}
	}
	if (argc - optind != (all ? 0 : 1)) {
		fprintf(stderr, "%s\n", logout_usage);
		return 2;
	}
	if (!all) {
		host = host_of(argv[optind]);
		if (!host) {
			cli_fail("logout: '%s' is not a registry host", argv[optind]);
			return 2;
		}
	}
	rc = 1;
	path = client_authfile_default(authfile);
	if (!path) {
		rc = cli_fail("logout: no auth file (set REGISTRY_AUTH_FILE or use --authfile)");
		goto out;
	}
	if (client_authfile_load(path, &af, &e) < 0) {
		rc = cli_client_fail(&e);
		goto out;
	}
	if (all) {
		client_authfile_clear(&af);
	} else if (client_authfile_remove(&af, host) < 0) {
		client_authfile_release(&af);
		rc = cli_fail("not logged in to %s", host);
		goto out;
	}
	if (client_authfile_save(&af, &e) < 0) {
		client_authfile_release(&af);
		rc = cli_client_fail(&e);
		goto out;
	}
	client_authfile_release(&af);
	if (all)
		printf("Removed all login credentials\n");
	else
		printf("Removed login credentials for %s\n", host);
	rc = 0;
out:
	free(path);
	free(host);
	return rc;
}

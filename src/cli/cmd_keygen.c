/* berth keygen: writes a sigstore (cosign) key pair, P.key (encrypted private key, mode 0600) and
 * P.pub (public key), that cosign, skopeo --sign-by-sigstore-private-key and policy.json
 * sigstoreSigned keyPath read. The passphrase comes from --passphrase-file (its first line), else the
 * COSIGN_PASSWORD environment variable (cosign's), else the terminal (asked twice). Existing files are
 * never overwritten. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"
#include "sign/sigstore.h"

#define PASS_MAX 4096

/* The first line of path, without its line ending. */
static int read_passphrase_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	char line[PASS_MAX];

	if (!f)
		return cli_fail("cannot read passphrase file %s: %s", path, strerror(errno));
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	buf_adds(out, line);
	return 0;
}

/* Asks on the terminal with echo off; 0, or 1 after printing why. */
static int ask(const char *prompt, char *out, size_t n)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int rc = 0, restore = 0;

	if (!tty)
		return cli_fail("no terminal to ask for a passphrase: use --passphrase-file or COSIGN_PASSWORD");
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fileno(tty), TCSANOW, &quiet) == 0;
	}
	if (!fgets(out, (int)n, tty)) {
		out[0] = '\0';
		rc = cli_fail("no passphrase read");
	}
	if (restore)
		tcsetattr(fileno(tty), TCSANOW, &old);
	fputc('\n', tty);
	fclose(tty);
	out[strcspn(out, "\r\n")] = '\0';
	return rc;
}

/* Creates path exclusively with mode and writes data; 0 or 1 after printing why. */
static int write_new(const char *path, const struct buf *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t off = 0;

	if (fd < 0)
		return cli_fail("cannot create %s: %s", path, strerror(errno));
	while (off < data->len) {
		ssize_t w = write(fd, data->ptr + off, data->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cli_fail("writing %s: %s", path, strerror(errno));
			close(fd);
			unlink(path);
			return 1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		cli_fail("writing %s: %s", path, strerror(errno));
		unlink(path);
		return 1;
	}
	return 0;
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output-prefix", required_argument, NULL, 'o'},
	    {"passphrase-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *prefix = "cosign", *passfile = NULL, *env;
	char keypath[4096], pubpath[4096], a[PASS_MAX], b[PASS_MAX];
	struct buf pass, priv, pub;
	struct sign_key *k = NULL;
	struct stat st;
	int c, rc = 1;

	buf_init(&pass, PASS_MAX);
	buf_init(&priv, 1 << 16);
	buf_init(&pub, 1 << 16);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			prefix = optarg;
			break;
		case 'p':
			passfile = optarg;
			break;
		case 'h':
			printf("usage: berth keygen [--output-prefix P] [--passphrase-file F]\n"
			       "writes P.key (encrypted sigstore private key) and P.pub; P defaults to \"cosign\"\n");
			rc = 0;
			goto out;
		default:
			rc = 2;
			goto out;
		}
	}
	if (optind != argc) {
		rc = 2;
		cli_fail("keygen takes no arguments (see berth keygen --help)");
		goto out;
	}
	if (snprintf(keypath, sizeof(keypath), "%s.key", prefix) >= (int)sizeof(keypath) ||
	    snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix) >= (int)sizeof(pubpath)) {
		cli_fail("output prefix too long");
		goto out;
	}
	if (stat(keypath, &st) == 0 || stat(pubpath, &st) == 0) {
		cli_fail("%s already exists; refusing to overwrite", stat(keypath, &st) == 0 ? keypath : pubpath);
		goto out;
	}
	env = getenv("COSIGN_PASSWORD");
	if (passfile) {
		if (read_passphrase_file(passfile, &pass) != 0)
			goto out;
	} else if (env) {
		buf_adds(&pass, env);
	} else {
		if (ask("Enter password for private key: ", a, sizeof(a)) != 0 ||
		    ask("Enter password for private key again: ", b, sizeof(b)) != 0)
			goto out;
		if (strcmp(a, b) != 0) {
			cli_fail("passwords do not match");
			goto out;
		}
		buf_adds(&pass, a);
	}
	if (sign_key_generate(&k) < 0 || sign_key_private_pem(k, pass.ptr, pass.len, &priv) < 0 ||
	    sign_key_public_pem(k, &pub) < 0) {
		cli_fail("generating the key pair failed");
		goto out;
	}
	if (write_new(keypath, &priv, 0600) != 0)
		goto out;
	if (write_new(pubpath, &pub, 0644) != 0) {
		unlink(keypath);
		goto out;
	}
	fprintf(stderr, "Private key written to %s\nPublic key written to %s\n", keypath, pubpath);
	rc = 0;
out:
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	if (pass.ptr)
		memset(pass.ptr, 0, pass.len);
	sign_key_free(k);
	buf_release(&pass);
	buf_release(&priv);
	buf_release(&pub);
	return rc;
}

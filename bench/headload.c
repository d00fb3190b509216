/*
 * headload: a tiny closed-loop HTTP/1.1 keep-alive load generator, used by
 * bench/run.sh for manifest HEAD requests because wrk 4.1 cannot benchmark
 * HEAD: its response parser waits for the Content-Length body that a HEAD
 * response never carries, so every connection stalls after one request.
 *
 * Same model as wrk: T threads, C connections in total, one request in flight
 * per connection, fixed duration; latency from the first byte written to the
 * last byte of the response.  Output imitates `wrk --latency` (the lines
 * run.sh parses: percentiles, "N requests in", "Non-2xx or 3xx responses",
 * "Socket errors", "Requests/sec").
 *
 * usage: headload [-t threads] [-c connections] [-d seconds] [-m METHOD]
 *                 [-H "Name: value"]... http://HOST:PORT/PATH
 * Responses must use Content-Length (or be HEAD/1xx/204/304); chunked bodies
 * are counted as read errors.
 *
 * build: cc -O2 -pthread -o headload bench/headload.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 32
#define RBUF 16384
/* histogram: 1 us resolution below 100 ms, 1 ms resolution up to 100 s */
#define FINE 100000
#define COARSE 100000
#define NBUCKET (FINE + COARSE)

enum { ST_DEAD, ST_CONNECTING, ST_SEND, ST_READ };

struct conn {
	int fd;
	int state;
	size_t sent;
	uint64_t t_start;
	char hdr[RBUF];
	size_t hlen;
	int in_body;
	long long body_left;
	int close_after;
	int status;
};

struct worker {
	pthread_t tid;
	int nconn;
	struct conn *conns;
	uint64_t *hist;
	uint64_t done, bad, e_connect, e_read, e_write;
};

static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static char *g_req;
static size_t g_reqlen;
static int g_is_head;
static uint64_t g_deadline;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void record(struct worker *w, uint64_t ns)
{
	uint64_t us = ns / 1000;
	size_t b;
	if (us < FINE)
		b = (size_t)us;
	else {
		uint64_t ms = (us - FINE) / 1000;
		b = FINE + (ms < COARSE ? (size_t)ms : COARSE - 1);
	}
	w->hist[b]++;
}

static uint64_t bucket_us(size_t b)
{
	return b < FINE ? b : FINE + (uint64_t)(b - FINE) * 1000;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = ST_DEAD;
}

static void start_request(struct conn *c)
{
	c->state = ST_SEND;
	c->sent = 0;
	c->hlen = 0;
	c->in_body = 0;
	c->body_left = 0;
	c->close_after = 0;
	c->status = 0;
	c->t_start = now_ns();
}

static void conn_open(struct worker *w, int ep, struct conn *c)
{
	int one = 1;
	struct epoll_event ev;
	int fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		w->e_connect++;
		c->state = ST_DEAD;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		w->e_connect++;
		conn_close(c);
		return;
	}
	if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) == 0) {
		start_request(c);
	} else if (errno == EINPROGRESS) {
		c->state = ST_CONNECTING;
	} else {
		w->e_connect++;
		conn_close(c);
	}
}

/* Header block complete in c->hdr[0..end): parse status and framing. */
static int parse_head(struct conn *c, size_t end)
{
	char *p = c->hdr, *lim = c->hdr + end, *eol;
	long long clen = -1;
	int chunked = 0;

	if (end < 12 || strncmp(p, "HTTP/1.", 7) != 0)
		return -1;
	c->status = atoi(p + 9);
	eol = memmem(p, (size_t)(lim - p), "\r\n", 2);
	while (eol && eol + 2 < lim) {
		char *line = eol + 2;
		eol = memmem(line, (size_t)(lim - line), "\r\n", 2);
		if (!eol)
			break;
		size_t n = (size_t)(eol - line);
		if (n > 15 && strncasecmp(line, "content-length:", 15) == 0)
			clen = atoll(line + 15);
		else if (n > 11 && strncasecmp(line, "connection:", 11) == 0 &&
			 memmem(line, n, "close", 5))
			c->close_after = 1;
		else if (n > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0 &&
			 memmem(line, n, "chunked", 7))
			chunked = 1;
	}
	if (g_is_head || c->status < 200 || c->status == 204 || c->status == 304) {
		c->body_left = 0;
		return 0;
	}
	if (chunked || clen < 0)
		return -1;
	c->body_left = clen;
	return 0;
}

/* Advance one connection as far as it goes without blocking. */
static void drive(struct worker *w, int ep, struct conn *c)
{
	char scratch[RBUF];
	(void)ep;
	for (int guard = 0; guard < 1000000; guard++) {
		if (c->state == ST_CONNECTING) {
			int err = 0;
			socklen_t len = sizeof err;
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err != 0) {
				w->e_connect++;
				conn_close(c);
				return;
			}
			/* still pending if not yet writable: try to send, EAGAIN waits */
			start_request(c);
		} else if (c->state == ST_SEND) {
			ssize_t n = write(c->fd, g_req + c->sent, g_reqlen - c->sent);
			if (n < 0) {
				if (errno == EAGAIN || errno == ENOTCONN)
					return;
				w->e_write++;
				conn_close(c);
				return;
			}
			c->sent += (size_t)n;
			if (c->sent == g_reqlen)
				c->state = ST_READ;
		} else if (c->state == ST_READ) {
			ssize_t n;
			if (!c->in_body) {
				n = read(c->fd, c->hdr + c->hlen, sizeof c->hdr - c->hlen);
			} else {
				size_t want = c->body_left < (long long)sizeof scratch ?
						      (size_t)c->body_left : sizeof scratch;
				n = read(c->fd, scratch, want);
			}
			if (n < 0) {
				if (errno == EAGAIN)
					return;
				w->e_read++;
				conn_close(c);
				return;
			}
			if (n == 0) {
				w->e_read++;
				conn_close(c);
				return;
			}
			if (!c->in_body) {
				size_t old = c->hlen;
				c->hlen += (size_t)n;
				size_t from = old > 3 ? old - 3 : 0;
				char *e = memmem(c->hdr + from, c->hlen - from, "\r\n\r\n", 4);
				if (!e) {
					if (c->hlen == sizeof c->hdr) {
						w->e_read++;
						conn_close(c);
						return;
					}
					continue;
				}
				size_t end = (size_t)(e - c->hdr) + 4;
				if (parse_head(c, end) < 0) {
					w->e_read++;
					conn_close(c);
					return;
				}
				c->in_body = 1;
				long long extra = (long long)(c->hlen - end);
				if (extra > c->body_left) {
					/* bytes beyond this response: protocol error for us */
					w->e_read++;
					conn_close(c);
					return;
				}
				c->body_left -= extra;
			} else {
				c->body_left -= n;
			}
			if (c->body_left == 0) {
				uint64_t t = now_ns();
				record(w, t - c->t_start);
				w->done++;
				if (c->status > 399)
					w->bad++;
				if (t >= g_deadline) {
					conn_close(c);
					return;
				}
				if (c->close_after) {
					conn_close(c);
					return;
				}
				start_request(c);
			}
		} else {
			return;
		}
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return NULL;
	for (int i = 0; i < w->nconn; i++) {
		w->conns[i].fd = -1;
		conn_open(w, ep, &w->conns[i]);
		if (w->conns[i].state == ST_SEND)
			drive(w, ep, &w->conns[i]);
	}
	while (now_ns() < g_deadline) {
		int n = epoll_wait(ep, evs, 256, 10);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->state != ST_DEAD)
				drive(w, ep, c);
		}
		if (now_ns() >= g_deadline)
			break;
		for (int i = 0; i < w->nconn; i++) {
			struct conn *c = &w->conns[i];
			if (c->state == ST_DEAD) {
				conn_open(w, ep, c);
				if (c->state == ST_SEND)
					drive(w, ep, c);
			}
		}
	}
	for (int i = 0; i < w->nconn; i++)
		if (w->conns[i].fd >= 0)
			close(w->conns[i].fd);
	close(ep);
	return NULL;
}

static void fmt_lat(char *out, size_t n, uint64_t us)
{
	if (us < 1000)
		snprintf(out, n, "%.2fus", (double)us);
	else if (us < 1000000)
		snprintf(out, n, "%.2fms", us / 1000.0);
	else
		snprintf(out, n, "%.2fs", us / 1e6);
}

static void usage(void)
{
	fprintf(stderr, "usage: headload [-t threads] [-c conns] [-d secs] [-m METHOD] "
			"[-H 'Name: value']... http://HOST:PORT/PATH\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int threads = 2, conns = 64, secs = 10, opt, nh = 0;
	const char *method = "HEAD", *hdrs[MAX_HEADERS];
	while ((opt = getopt(argc, argv, "t:c:d:m:H:")) != -1) {
		switch (opt) {
		case 't': threads = atoi(optarg); break;
		case 'c': conns = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 'm': method = optarg; break;
		case 'H':
			if (nh == MAX_HEADERS)
				usage();
			hdrs[nh++] = optarg;
			break;
		default: usage();
		}
	}
	if (optind != argc - 1 || threads < 1 || conns < threads || secs < 1)
		usage();
	const char *url = argv[optind];
	if (strncmp(url, "http://", 7) != 0)
		usage();
	const char *hp = url + 7, *path = strchr(hp, '/');
	if (!path)
		path = "/";
	size_t hplen = strchr(hp, '/') ? (size_t)(strchr(hp, '/') - hp) : strlen(hp);
	char host[256], port[16] = "80";
	if (hplen >= sizeof host)
		usage();
	memcpy(host, hp, hplen);
	host[hplen] = 0;
	char *colon = strrchr(host, ':');
	if (colon) {
		snprintf(port, sizeof port, "%s", colon + 1);
		*colon = 0;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		fprintf(stderr, "headload: cannot resolve %s\n", host);
		return 1;
	}
	memcpy(&g_addr, ai->ai_addr, ai->ai_addrlen);
	g_addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);

	size_t cap = 1024 + strlen(path) + strlen(method);
	for (int i = 0; i < nh; i++)
		cap += strlen(hdrs[i]) + 2;
	g_req = malloc(cap);
	if (!g_req)
		return 1;
	int len = snprintf(g_req, cap, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n", method, path, host, port);
	for (int i = 0; i < nh; i++)
		len += snprintf(g_req + len, cap - (size_t)len, "%s\r\n", hdrs[i]);
	len += snprintf(g_req + len, cap - (size_t)len, "\r\n");
	g_reqlen = (size_t)len;
	g_is_head = strcasecmp(method, "HEAD") == 0;

	printf("Running %ds test @ %s\n  %d threads and %d connections (%s)\n", secs, url, threads,
	       conns, method);
	struct worker *ws = calloc((size_t)threads, sizeof *ws);
	if (!ws)
		return 1;
	uint64_t t0 = now_ns();
	g_deadline = t0 + (uint64_t)secs * 1000000000ull;
	for (int i = 0; i < threads; i++) {
		ws[i].nconn = conns / threads + (i < conns % threads);
		ws[i].conns = calloc((size_t)ws[i].nconn, sizeof(struct conn));
		ws[i].hist = calloc(NBUCKET, sizeof(uint64_t));
		if (!ws[i].conns || !ws[i].hist)
			return 1;
		pthread_create(&ws[i].tid, NULL, run, &ws[i]);
	}
	uint64_t done = 0, bad = 0, ec = 0, er = 0, ew = 0;
	uint64_t *hist = calloc(NBUCKET, sizeof(uint64_t));
	if (!hist)
		return 1;
	for (int i = 0; i < threads; i++) {
		pthread_join(ws[i].tid, NULL);
		done += ws[i].done;
		bad += ws[i].bad;
		ec += ws[i].e_connect;
		er += ws[i].e_read;
		ew += ws[i].e_write;
		for (size_t b = 0; b < NBUCKET; b++)
			hist[b] += ws[i].hist[b];
	}
	double elapsed = (now_ns() - t0) / 1e9;

	printf("  Latency Distribution\n");
	static const double pcts[] = {50, 75, 90, 99};
	for (size_t k = 0; k < sizeof pcts / sizeof pcts[0]; k++) {
		uint64_t target = (uint64_t)(pcts[k] / 100.0 * (double)done + 0.999999), acc = 0;
		size_t b = 0;
		for (; b < NBUCKET; b++) {
			acc += hist[b];
			if (acc >= target && target > 0)
				break;
		}
		char lat[32];
		fmt_lat(lat, sizeof lat, done ? bucket_us(b < NBUCKET ? b : NBUCKET - 1) : 0);
		printf("  %3.0f%%   %s\n", pcts[k], lat);
	}
	printf("  %llu requests in %.2fs\n", (unsigned long long)done, elapsed);
	if (ec || er || ew)
		printf("  Socket errors: connect %llu, read %llu, write %llu, timeout 0\n",
		       (unsigned long long)ec, (unsigned long long)er, (unsigned long long)ew);
	if (bad)
		printf("  Non-2xx or 3xx responses: %llu\n", (unsigned long long)bad);
	printf("Requests/sec: %10.2f\n", done / elapsed);
	return 0;
}

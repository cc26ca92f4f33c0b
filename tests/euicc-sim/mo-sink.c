/* mo-sink: the tiny MO/DLR listener of the Kannel tests (kannel.md §10): an evhttp server on 127.0.0.1 that appends
 * every request URI (path and query, exactly as received) as one line to a file and answers 200 with an empty body
 * at once. Listen backlog 1024, so that smsbox's bursts of parallel callbacks are never refused.
 *
 *   mo-sink --out FILE [--port P] [--port-file FILE] [--duration SECONDS]
 * --port 0 (default) picks a free port; the port is printed as "port=N" on stdout and written to --port-file. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <event2/http.h>

struct sink {
	struct event_base *base;
	FILE *out;
	unsigned long requests;
};

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct sink *s = arg;
	const char *uri = evhttp_request_get_uri(req);

	fprintf(s->out, "%s\n", uri ? uri : "");
	fflush(s->out);
	s->requests++;
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fputs("usage: mo-sink --out FILE [--port P] [--port-file FILE] [--duration SECONDS]\n", stderr);
	exit(2);
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "duration", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL, *port_file = NULL;
	unsigned long port = 0, duration = 600;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct event *sig_term, *sig_int, *stop;
	struct timeval tv;
	struct evhttp *http;
	struct sink s = { 0 };
	int c, fd, one = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case 'p':
			port = strtoul(optarg, &end, 10);
			if (*end || port > 65535)
				usage();
			break;
		case 'f':
			port_file = optarg;
			break;
		case 'd':
			duration = strtoul(optarg, &end, 10);
			if (*end)
				usage();
			break;
		default:
			usage();
		}
	}
	if (!out_path || optind != argc)
		usage();
	s.out = fopen(out_path, "a");
	if (!s.out) {
		fprintf(stderr, "mo-sink: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) < 0 || evutil_make_socket_nonblocking(fd) < 0) {
		fprintf(stderr, "mo-sink: listen on 127.0.0.1:%lu: %s\n", port, strerror(errno));
		return 1;
	}
	s.base = event_base_new();
	http = s.base ? evhttp_new(s.base) : NULL;
	if (!http || evhttp_accept_socket(http, fd) < 0) {
		fprintf(stderr, "mo-sink: evhttp setup failed\n");
		return 1;
	}
	evhttp_set_gencb(http, request_cb, &s);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);

	sig_term = evsignal_new(s.base, SIGTERM, stop_cb, s.base);
	sig_int = evsignal_new(s.base, SIGINT, stop_cb, s.base);
	stop = evtimer_new(s.base, stop_cb, s.base);
	event_add(sig_term, NULL);
	event_add(sig_int, NULL);
	tv.tv_sec = (time_t)duration;
	tv.tv_usec = 0;
	if (duration)
		evtimer_add(stop, &tv);

	printf("port=%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	if (port_file && write_port_file(port_file, ntohs(sin.sin_port)) < 0) {
		fprintf(stderr, "mo-sink: %s: %s\n", port_file, strerror(errno));
		return 1;
	}
	event_base_dispatch(s.base);

	fprintf(stderr, "mo-sink: %lu requests\n", s.requests);
	event_free(sig_term);
	event_free(sig_int);
	event_free(stop);
	evhttp_free(http);
	event_base_free(s.base);
	fclose(s.out);
	return 0;
}

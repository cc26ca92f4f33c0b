/* HTTP(S) servers on evhttp with bufferevent_openssl (see https.h). OpenSSL and libevent errors are mapped here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "smsr/https.h"
#include "smsr/logging.h"
#include "proto/hex.h"

struct smsr_https {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	SSL_CTX *ssl;
	size_t max_body;
	smsr_https_handler handler;
	void *data;
	int port;
};

static int https_destructor(struct smsr_https *s)
{
	if (s->http)
		evhttp_free(s->http);
	SSL_CTX_free(s->ssl);
	return 0;
}

static struct bufferevent *bev_ssl(struct event_base *base, void *arg)
{
	SSL_CTX *ctx = arg;
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *tls_ctx(const struct smsr_https_tls *tls)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, tls->key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		unsigned long e = ERR_get_error();
		LOGP(DMAIN, LOGL_ERROR, "TLS: cannot load certificate %s / key %s: %s", tls->cert, tls->key,
		     e ? ERR_reason_error_string(e) : "unreadable");
		goto fail;
	}
	if (tls->ca) {
		if (SSL_CTX_load_verify_locations(ctx, tls->ca, NULL) != 1) {
			unsigned long e = ERR_get_error();
			LOGP(DMAIN, LOGL_ERROR, "TLS: cannot load CA %s: %s", tls->ca,
			     e ? ERR_reason_error_string(e) : "unreadable");
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	ERR_clear_error();
	return ctx;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

/* the peer certificate's subject and fingerprint, into talloc strings under ctx */
static void peer_identity(void *ctx, struct evhttp_request *req, struct smsr_https_req *r)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *cert;
	BIO *mem;
	char *p;
	long n;
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);

	if (!ssl || !(cert = SSL_get1_peer_certificate(ssl)))
		return;
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		X509_free(cert);
		return;
	}
	mem = BIO_new(BIO_s_mem());
	if (mem && X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(mem, &p)) >= 0)
		r->peer_subject = talloc_strndup(ctx, p, (size_t)n);
	BIO_free(mem);
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1) {
		char *hex = talloc_size(ctx, 2 * mdlen + 1);
		if (hex)
			r->peer_fingerprint = proto_hex_encode(md, mdlen, hex);
	}
	X509_free(cert);
}

/* the client went away before a deferred reply: the request is gone with its connection */
static void on_conn_close(struct evhttp_connection *conn, void *arg)
{
	struct smsr_https_req *r = arg;

	r->ev = NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct smsr_https *s = arg;
	struct smsr_https_req *r = talloc_zero(s, struct smsr_https_req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	const char *ct, *q, *path;
	size_t len = evbuffer_get_length(in);
	char *peer_host = NULL;
	ev_uint16_t peer_port = 0;

	if (!r) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	r->ev = req;
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		r->method = "GET";
		break;
	case EVHTTP_REQ_POST:
		r->method = "POST";
		break;
	default:
		r->method = "OTHER";
		break;
	}
	r->uri = evhttp_request_get_uri(req);
	path = u ? evhttp_uri_get_path(u) : NULL;
	if (path && *path) {
		char *d = evhttp_uridecode(path, 0, NULL);
		r->path = d ? talloc_strdup(r, d) : "";
		free(d);
	} else {
		r->path = "/";
	}
	q = u ? evhttp_uri_get_query(u) : NULL;
	r->query = q ? talloc_strdup(r, q) : "";
	ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	r->content_type = ct ? ct : "";
	if (len) {
		uint8_t *b = talloc_size(r, len + 1);
		if (!b) {
			talloc_free(r);
			evhttp_send_error(req, HTTP_INTERNAL, NULL);
			return;
		}
		evbuffer_copyout(in, b, len);
		b[len] = 0;
		r->body = b;
		r->body_len = len;
	}
	if (conn) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
		evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
		int one = 1;
		/* the response goes out in pieces (headers, body, TLS records): without this, Nagle and the peer's
		 * delayed ACK add 40 ms to every answer on a kept-alive connection */
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		evhttp_connection_get_peer(conn, &peer_host, &peer_port);
		r->peer_addr = talloc_asprintf(r, "%s:%u", peer_host ? peer_host : "?", peer_port);
	}
	if (s->ssl)
		peer_identity(r, req, r);
	/* a handler may answer later (an ES2 function relayed over ES3): until then, a closed connection only
	 * marks the request dead */
	if (conn)
		evhttp_connection_set_closecb(conn, on_conn_close, r);
	s->handler(r, s->data);
}

int smsr_https_new(void *ctx, struct event_base *base, const char *listen, const struct smsr_https_tls *tls,
		   size_t max_body, smsr_https_handler handler, void *data, struct smsr_https **out)
{
	struct smsr_https *s;
	char host[128];
	const char *colon = strrchr(listen, ':');
	struct sockaddr_in sin;
	evutil_socket_t fd;
	socklen_t slen = sizeof(sin);
	int port;

	*out = NULL;
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	{
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || p < 0 || p > 65535)
			return -EINVAL;
		port = (int)p;
	}
	s = talloc_zero(ctx, struct smsr_https);
	if (!s)
		return -ENOMEM;
	talloc_set_destructor(s, https_destructor);
	s->base = base;
	s->max_body = max_body;
	s->handler = handler;
	s->data = data;
	s->http = evhttp_new(base);
	if (!s->http) {
		talloc_free(s);
		return -ENOMEM;
	}
	if (tls && tls->cert) {
		s->ssl = tls_ctx(tls);
		if (!s->ssl) {
			talloc_free(s);
			return -EINVAL;
		}
		evhttp_set_bevcb(s->http, bev_ssl, s->ssl);
	}
	evhttp_set_max_body_size(s->http, max_body);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_timeout(s->http, 30);
	evhttp_set_gencb(s->http, on_request, s);
	{
		/* our own listener: a backlog of 1024 (evhttp_bind_socket uses 128) */
		struct evconnlistener *l;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
			talloc_free(s);
			return -EINVAL;
		}
		l = evconnlistener_new_bind(base, NULL, NULL,
					    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
					    (struct sockaddr *)&sin, sizeof(sin));
		if (!l) {
			int e = errno;
			talloc_free(s);
			return e ? -e : -EADDRINUSE;
		}
		s->sock = evhttp_bind_listener(s->http, l);
		if (!s->sock) {
			evconnlistener_free(l);
			talloc_free(s);
			return -ENOMEM;
		}
		fd = evconnlistener_get_fd(l);
	}
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) == 0)
		s->port = ntohs(sin.sin_port);
	*out = s;
	return 0;
}

int smsr_https_port(const struct smsr_https *s)
{
	return s->port;
}

const char *smsr_https_header(const struct smsr_https_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev), name);
}

void smsr_https_reply(struct smsr_https_req *r, int code, const char *content_type, const void *body, size_t len,
		      const char *const *headers)
{
	struct evkeyvalq *oh;
	struct evbuffer *buf;
	struct evhttp_connection *conn;

	if (!r->ev) {
		talloc_free(r);
		return;
	}
	conn = evhttp_request_get_connection(r->ev);
	if (conn)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	oh = evhttp_request_get_output_headers(r->ev);
	buf = evbuffer_new();

	if (content_type)
		evhttp_add_header(oh, "Content-Type", content_type);
	for (; headers && headers[0] && headers[1]; headers += 2)
		evhttp_add_header(oh, headers[0], headers[1]);
	if (buf && len)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(r->ev, code, NULL, buf);
	if (buf)
		evbuffer_free(buf);
	talloc_free(r);
}

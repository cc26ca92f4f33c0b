#!/usr/bin/env python3
"""Callback sink for the SM-SR tests: an MNO endpoint on 127.0.0.1 that accepts SOAP POSTs, answers 202 and
appends each body (one line, newlines removed) to a file. Exits after `seconds`.
    cb_sink.py PORT OUTFILE SECONDS [CERT KEY CA]
With CERT KEY CA it serves HTTPS and requires a client certificate issued by CA (mutual TLS, as an MNO
endpoint would); the subject of each client certificate is appended to OUTFILE.peers."""
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if len(sys.argv) > 6:
            cert = self.connection.getpeercert()
            subject = ",".join("%s=%s" % kv for rdn in cert.get("subject", ()) for kv in rdn)
            with open(sys.argv[2] + ".peers", "a") as f:
                f.write(subject + "\n")
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    ctx.load_verify_locations(sys.argv[6])
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
threading.Timer(float(sys.argv[3]), srv.shutdown).start()
srv.serve_forever()

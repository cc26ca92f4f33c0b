#!/usr/bin/env python3
"""Callback sink for the SM-SR tests: an MNO endpoint on 127.0.0.1 that accepts SOAP POSTs, answers 202 and
appends each body (one line, newlines removed) to a file. Exits after `seconds`.
    cb_sink.py PORT OUTFILE SECONDS"""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
threading.Timer(float(sys.argv[3]), srv.shutdown).start()
srv.serve_forever()

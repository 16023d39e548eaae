"""fake_https.py - a fake HTTPS report receiver on 127.0.0.1 for the delivery tests.

    sys.path.insert(0, "tests/lib"); from fake_https import FakeHTTPS
    h = FakeHTTPS(workdir)        # self-signed certificate made with the openssl CLI
    url = h.url + "/some/path"    # https://127.0.0.1:PORT/some/path

Every POST is answered 200 unless self.plan[path] holds a list of status codes (popped
per request).  Every POST answered with a 2xx is kept in self.accepted as
(time.monotonic(), path, body) at the moment the server decides to accept it;
self.delay (seconds) then delays the response (crash tests widen the time between
acceptance and the client's own record of it); a POST whose body ends early is not
accepted.  self.active counts the POSTs being handled.
"""
import http.server
import os
import ssl
import subprocess
import threading
import time


class FakeHTTPS:
    def __init__(self, workdir):
        cert = os.path.join(workdir, "fake_https_cert.pem")
        key = os.path.join(workdir, "fake_https_key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                        cert, "-days", "2", "-subj", "/CN=localhost"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.plan = {}
        self.accepted = []  # (monotonic time, path, body)
        self.delay = 0.0
        self.active = 0  # POSTs being handled
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                with outer.lock:
                    outer.active += 1
                try:
                    self.post()
                finally:
                    with outer.lock:
                        outer.active -= 1

            def post(self):
                want = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(want)
                if len(body) != want:  # the client went away mid-body
                    self.close_connection = True
                    return
                with outer.lock:
                    q = outer.plan.get(self.path, [])
                    code = q.pop(0) if q else 200
                    if 200 <= code < 300:
                        outer.accepted.append((time.monotonic(), self.path, body))
                if outer.delay:
                    time.sleep(outer.delay)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

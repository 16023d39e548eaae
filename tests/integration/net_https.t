#!/usr/bin/python3
# net_https.t - http_post() (src/net/http_client) against a local TLS server.
#
# The server (http.server + ssl, self-signed certificate made with the openssl CLI at
# test time, 127.0.0.1 only) records method, path, headers and body of each request
# and answers the status named in the path (/s/<code>), sleeps (/sleep/<s>), or sends
# a large body (/big).  The driver is $B/tests/tools/net_http_post.
import http.server
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
work = os.path.join(TMP, "net_https.%d" % os.getpid())
os.makedirs(work, exist_ok=True)
DRIVER = os.path.join(B, "tests/tools/net_http_post")

n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


cert = os.path.join(work, "cert.pem")
key = os.path.join(work, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

requests = []
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            requests.append({"method": self.command, "path": self.path,
                             "headers": dict(self.headers.items()), "body": body})
        m = re.match(r"^/s/(\d+)", self.path)
        if m:
            code = int(m.group(1))
            reply = b"status %d\n" % code
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "/s/200")
        elif self.path.startswith("/sleep/"):
            time.sleep(float(self.path[7:]))
            reply = b"late\n"
            self.send_response(200)
        elif self.path == "/big":
            reply = bytes(range(256)) * 40
            self.send_response(200)
        else:
            reply = b"no\n"
            self.send_response(404)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        try:
            self.wfile.write(reply)
        except OSError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # failed handshakes are part of the test


srv = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = "https://127.0.0.1:%d" % port

# a report-like body: gzip magic, NUL bytes, CR/LF, high bytes
body = b"\x1f\x8b\x08\x00" + bytes(range(256)) + b"\r\n.\r\n" + b"\x00" * 10
body_file = os.path.join(work, "body.bin")
with open(body_file, "wb") as f:
    f.write(body)


def post(url, *opts):
    out_file = os.path.join(work, "resp.bin")
    if os.path.exists(out_file):
        os.unlink(out_file)
    p = subprocess.run([DRIVER, "--url", url, "--body-out", out_file] + list(opts) +
                       [body_file], capture_output=True, text=True, timeout=60)
    lines = p.stdout.splitlines()
    res = {"exit": p.returncode, "stdout": p.stdout, "stderr": p.stderr}
    if lines:
        for kv in lines[0].split():
            k, _, v = kv.partition("=")
            res[k] = v
    res["error"] = lines[1][6:] if len(lines) > 1 else ""
    try:
        with open(out_file, "rb") as f:
            res["body"] = f.read()
    except OSError:
        res["body"] = None
    return res


def reset():
    with lock:
        requests.clear()


def ok_want(res, name, **kw):
    bad = ["%s: got %s, want %s" % (k, res.get(k), v) for k, v in kw.items()
           if res.get(k) != str(v)]
    ok(not bad, name, "\n".join(bad) + "\n" + res["stdout"] + res["stderr"])


print("1..30")

# 1-8: 200 with ignore-cert: what the server saw, byte for byte
reset()
r = post(base + "/s/200", "--insecure")
ok_want(r, "200 is delivered", rc=0, outcome="delivered", retry=0, status=200)
ok(r["exit"] == 0, "driver exit 0 on delivery", r)
ok(len(requests) == 1, "exactly one request", "got %d, want 1" % len(requests))
req = requests[0] if requests else {"method": None, "path": None, "headers": {}, "body": None}
ok(req["method"] == "POST" and req["path"] == "/s/200", "method POST, path as given",
   "got %s %s" % (req["method"], req["path"]))
h = {k.lower(): v for k, v in req["headers"].items()}
ok(h.get("content-type") == "application/tlsrpt+gzip", "Content-Type application/tlsrpt+gzip",
   "got %r" % h.get("content-type"))
ok(re.fullmatch(r"tlsrptd/\d+\.\d+\.\d+", h.get("user-agent", "")) is not None,
   "User-Agent tlsrptd/<version>", "got %r" % h.get("user-agent"))
ok(req["body"] == body and h.get("content-length") == str(len(body)),
   "body bytes exact", "got %r, want %r" % (req["body"], body))
ok(r["body"] == b"status 200\n", "response body captured", "got %r" % r["body"])

# 9: 201
r = post(base + "/s/201", "--insecure")
ok_want(r, "201 is delivered", rc=0, outcome="delivered", status=201)

# 10-12: 302 not followed
reset()
r = post(base + "/s/302", "--insecure")
ok_want(r, "302 is a failure worth retrying", rc=-6, outcome="failed", retry=1, status=302)
ok(len(requests) == 1, "redirect not followed", "got %d requests, want 1" % len(requests))
ok("HTTP 302 (redirects are not followed)" in r["error"], "302 error text", r["error"])

# 13-16: 4xx, 5xx
r = post(base + "/s/404", "--insecure")
ok_want(r, "404 failed, retry", rc=-6, outcome="failed", retry=1, status=404)
ok(r["error"] == base + "/s/404: HTTP 404", "404 error text",
   "got %r, want %r" % (r["error"], base + "/s/404: HTTP 404"))
r = post(base + "/s/500", "--insecure")
ok_want(r, "500 failed, retry", rc=-6, outcome="failed", retry=1, status=500)
ok(r["exit"] == 1, "driver exit 1 on failure", r)

# 17-18: total timeout
t0 = time.monotonic()
r = post(base + "/sleep/3", "--insecure", "--timeout-ms", "500")
dt = time.monotonic() - t0
ok_want(r, "timeout is a net error", outcome="net-error", retry=1, timed_out=1, status=0)
ok(dt < 2.5, "timeout honoured", "took %.2f s, want < 2.5" % dt)

# 19-21: verification on by default fails on the self-signed certificate
reset()
r = post(base + "/s/200")
ok_want(r, "self-signed rejected by default", rc=-6, outcome="net-error", retry=1, status=0)
ok("certificate" in r["error"].lower() or "ssl" in r["error"].lower(),
   "error names the certificate problem", r["error"])
ok(len(requests) == 0, "nothing posted without a trusted certificate",
   "got %d requests" % len(requests))

# 22-23: verification on with our certificate as CA succeeds (the check is real)
r = post(base + "/s/200", "--ca-file", cert)
ok_want(r, "verified against the given CA", rc=0, outcome="delivered")
r = post("https://localhost:%d/s/200" % port, "--ca-file", cert)
ok_want(r, "verified by host name", rc=0, outcome="delivered")

# 24-25: response body cap
r = post(base + "/big", "--insecure", "--max-response", "100")
ok_want(r, "response body capped", rc=0, outcome="delivered", body_len=100, truncated=1)
ok(r["body"] == bytes(range(100)), "first 100 bytes kept", "got %r" % r["body"])

# 26-28: URLs that never work
r = post("ftp://127.0.0.1/x", "--insecure")
ok_want(r, "ftp URL refused", rc=-1, outcome="bad-url", retry=0)
r = post("http://127.0.0.1:%d/s/200" % port)
ok_want(r, "http URL refused without allow-http", rc=-1, outcome="bad-url", retry=0)
ok(r["error"].endswith("not an https URL"), "bad-url error text", r["error"])

# 29-30: connection refused
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = s.getsockname()[1]
s.close()
r = post("https://127.0.0.1:%d/x" % dead, "--insecure", "--connect-timeout-ms", "2000")
ok_want(r, "connection refused: net error", rc=-6, outcome="net-error", retry=1, status=0)
ok(r["error"].startswith("https://127.0.0.1:%d/x: " % dead) and len(r["error"]) > 30,
   "connection error text", r["error"])

srv.shutdown()
sys.exit(1 if failed else 0)

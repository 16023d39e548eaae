#!/usr/bin/python3
"""alerts_webhook.t - alerts end to end with a local webhook receiver (http.server on
127.0.0.1:0) and the fake SMTP relay (tests/lib/fake_smtp.py):
  - `tlsrpt alerts test --rule rate` POSTs the sample JSON and mails the sample alert;
  - the daemon (alerts.interval 1s) fires a failure-rate rule once a corpus report with
    5.38 % failures (dated today) is uploaded: exact JSON fields and mail headers;
  - later passes within the cool-down send nothing, also after a restart (state file);
  - `tlsrpt alerts check` shows the alert within its cool-down."""
import email
import http.server
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.request

sys.path.insert(0, "tests/lib")
from fake_smtp import FakeSMTP  # noqa: E402
from tap import check, finish, ok, run  # noqa: E402
from tlsrpt_daemon import B, daemon_config, start_daemon  # noqa: E402

SHARED = os.environ.get("SHARED", "../shared")
T = os.path.join(os.environ.get("TLSRPT_TEST_TMP", "/tmp"), "alerts_webhook.%d" % os.getpid())
os.makedirs(T, exist_ok=True)

posts = []
lock = threading.Lock()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            posts.append((self.path, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=hook.serve_forever, daemon=True).start()
smtp = FakeSMTP()
url = "http://127.0.0.1:%d/hook" % hook.server_address[1]

sock = os.path.join(T, "collector.sock")
conf = daemon_config(T, sock, os.path.join(T, "db.sqlite"), "1s")
with open(conf, "a") as f:
    f.write('[report]\nsubmitter = "mx.example.net"\n'
            '[delivery]\nrelay = "smtp://127.0.0.1:%d"\n'
            '[alerts]\ninterval = "1s"\n'
            '[alert.rate]\ntype = "failure-rate"\ndomain = "company-y.example"\n'
            'threshold = 0.05\nwindow = "1d"\ncooldown = "6h"\nwebhook = "%s"\n'
            'email = "ops@example.org"\n' % (smtp.port, url))


def wait_posts(n, seconds):
    for _ in range(int(seconds * 20)):
        with lock:
            if len(posts) >= n:
                break
        time.sleep(0.05)
    with lock:
        return list(posts)


def message(session):
    """The message of one SMTP session (between DATA and the final dot)."""
    data = session.split(b"DATA\r\n", 1)[1].rsplit(b"\r\n.\r\n", 1)[0]
    return email.message_from_bytes(data)


# ---- tlsrpt alerts test
r = run(B + "/tlsrpt", "alerts", "test", "--config", conf, "--rule", "rate")
check("alerts test: exit 0", r.returncode, 0)
ok(r.stdout.startswith("webhook %s: sent (HTTP 200)\n{" % url) and
   "email to ops@example.org via smtp://127.0.0.1:%d: sent\n" % smtp.port in r.stdout,
   "alerts test prints what was sent", r.stdout + r.stderr)
got = wait_posts(1, 5)
check("alerts test: one POST to the webhook path, as JSON",
      [(p, c) for p, c, _ in got], [("/hook", "application/json")])
sample = json.loads(got[0][2]) if got else {}
for k in ("since", "until", "fired_at"):
    ok(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", sample.pop(k, "")), "test JSON: " + k)
check("test JSON: exact fields", sample, {
    "source": "tlsrptd", "version": 1, "alert": "rate:test", "rule": "rate", "type": "test",
    "rule_type": "failure-rate", "domain": "company-y.example", "subject": "company-y.example",
    "value": 0.05, "threshold": 0.05, "count": 0, "total": 0,
    "summary": "test alert of rule rate (failure-rate): tlsrpt alerts test sent this; "
               "nothing is wrong",
    "text": "tlsrptd alert rate:test: test alert of rule rate (failure-rate): tlsrpt alerts "
            "test sent this; nothing is wrong"})
mails = smtp.of("ops@example.org")
check("alerts test: one mail to ops@example.org", len(mails), 1)
if mails:
    m = message(mails[0])
    check("test mail: headers", [(k, m[k]) for k in ("From", "To", "Subject", "Auto-Submitted",
                                                     "Content-Type", "X-Tlsrptd-Alert")],
          [("From", "tlsrptd alerts <noreply-tls@example.net>"), ("To", "<ops@example.org>"),
           ("Subject", "[tlsrptd] test: company-y.example"),
           ("Auto-Submitted", "auto-generated"),
           ("Content-Type", "text/plain; charset=utf-8"), ("X-Tlsrptd-Alert", "rate:test")])
    ok(re.fullmatch(r"<alert\.[0-9a-f]{16}\.\d+@example\.net>", m["Message-ID"] or ""),
       "test mail: Message-ID", m["Message-ID"])
r = run(B + "/tlsrpt", "alerts", "test", "--config", conf, "--rule", "nope")
check("alerts test --rule with an unknown id: exit 1 and why",
      (r.returncode, r.stderr), (1, "tlsrpt: alerts test: no rule [alert.nope] in the "
                                    "configuration\n"))

# ---- the daemon fires the rule once the failing report is there
proc, ready = start_daemon(conf, os.path.join(T, "d.err"))
ok(ready, "daemon starts with the alert rule", open(os.path.join(T, "d.err")).read())
port = None
for line in open(os.path.join(T, "d.err")):
    if "report upload endpoint listening=" in line:
        port = line.split(" port=")[1].split()[0]
doc = json.load(open(os.path.join(SHARED, "corpus/real/danmarg_tlsrpt_processor/sample.json")))
today = time.strftime("%Y-%m-%d", time.gmtime())
doc["date-range"] = {"start-datetime": today + "T00:00:00Z",
                     "end-datetime": today + "T23:59:59Z"}
doc["report-id"] = "alerts-webhook-%d" % os.getpid()
req = urllib.request.Request("http://127.0.0.1:%s/tlsrpt" % port, method="POST",
                             data=json.dumps(doc).encode(),
                             headers={"Content-Type": "application/tlsrpt+json"})
with urllib.request.urlopen(req, timeout=10) as resp:
    check("report with 303 of 5629 sessions failed uploaded", resp.status, 200)
got = wait_posts(2, 15)
check("the daemon POSTs one alert", len(got), 2)
fired = json.loads(got[1][2]) if len(got) > 1 else {}
times = [fired.pop(k, "") for k in ("since", "until", "fired_at")]
ok(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in times),
   "alert JSON: since/until/fired_at are RFC 3339", times)
check("alert JSON: exact fields", fired, {
    "source": "tlsrptd", "version": 1, "alert": "rate:company-y.example", "rule": "rate",
    "type": "failure-rate", "domain": "company-y.example", "subject": "company-y.example",
    "value": 0.053828, "threshold": 0.05, "count": 303, "total": 5629,
    "summary": "failure rate 5.38% for company-y.example over the last 1d (303 of 5629 "
               "sessions failed; threshold 5.00%)",
    "text": "tlsrptd alert rate:company-y.example: failure rate 5.38% for company-y.example "
            "over the last 1d (303 of 5629 sessions failed; threshold 5.00%)"})
for _ in range(100):
    if len(smtp.of("ops@example.org")) >= 2:
        break
    time.sleep(0.05)
mails = smtp.of("ops@example.org")
check("the daemon mails the alert once", len(mails), 2)
if len(mails) > 1:
    m = message(mails[1])
    check("alert mail: headers", [(k, m[k]) for k in ("From", "To", "Subject", "TLS-Required",
                                                      "X-Tlsrptd-Alert")],
          [("From", "tlsrptd alerts <noreply-tls@example.net>"), ("To", "<ops@example.org>"),
           ("Subject", "[tlsrptd] failure-rate: company-y.example"), ("TLS-Required", "No"),
           ("X-Tlsrptd-Alert", "rate:company-y.example")])
    ok(m.get_payload().startswith("failure rate 5.38% for company-y.example over the last 1d"),
       "alert mail: the summary opens the body", m.get_payload())
# three more passes (1 s apart): within the 6 h cool-down nothing more is sent
time.sleep(3.5)
check("no second alert within the cool-down", (len(posts), len(smtp.of("ops@example.org"))),
      (2, 2))
proc.send_signal(signal.SIGTERM)
check("daemon exits 0", proc.wait(timeout=20), 0)
state = open(os.path.join(T, "db.sqlite.alerts")).read().splitlines()
ok(len(state) == 2 and state[1].startswith("rate:company-y.example\t"),
   "the state file records the alert", state)

# ---- a restart keeps the cool-down
proc, ready = start_daemon(conf, os.path.join(T, "d2.err"))
ok(ready, "daemon restarts")
time.sleep(3.5)
check("no alert after the restart within the cool-down", len(posts), 2)
proc.send_signal(signal.SIGTERM)
check("daemon exits 0 again", proc.wait(timeout=20), 0)
r = run(B + "/tlsrpt", "alerts", "check", "--config", conf)
ok(r.returncode == 0 and re.match(r"cooldown until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t"
                                  r"rate:company-y.example\tfailure rate 5.38% ", r.stdout)
   and r.stdout.endswith("rules=1 fired=1 send=0 cooldown=1\n"),
   "alerts check shows the alert within its cool-down", r.stdout + r.stderr)
finish()

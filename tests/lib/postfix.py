"""postfix.py - a private, throw-away Postfix instance for integration tests.

    import sys; sys.path.insert(0, "tests/lib")
    import postfix

    postfix.require()            # prints a TAP skip (or, with CI=true, a failure) and
                                 # exits when Debian's postfix is not installed
    pf = postfix.Postfix(os.path.join(tmp, "pf"),
                         domains=["example.net"],
                         transports={"reports@example.net": "tlsrpt:"},
                         services=postfix.pipe_service("tlsrpt", ["/abs/tlsrpt", "ingest"]))
    with pf:                     # start() ... stop(), also when the test raises
        port = pf.port           # smtpd on 127.0.0.1:port (mynetworks 127.0.0.0/8)
        ... send with smtplib.SMTP("127.0.0.1", pf.port) ...
        msgs = pf.wait_messages(1)   # raw bytes of the messages in the mailbox
        pf.wait_queue_empty()        # every message left the queue
        print(pf.log())              # the instance's maillog

Everything lives under the directory given to the constructor (created if missing):
  etc/     config_directory: main.cf and master.cf written by this module
  queue/   queue_directory (pid/, incoming/, deferred/, ...; created by `postfix check`)
  data/    data_directory
  mail/    virtual_mailbox_base; the one Maildir is mail/mailbox/ (new/ holds the mail)
  maillog  the instance's log (postlogd; no syslog needed)
No system-wide Postfix file is written (the package's /etc/postfix/postfix-files is only
read as the meta_directory) and the system instance is never started.

Mail routing: every recipient in `domains` is accepted by smtpd and delivered by the
virtual(8) agent into the Maildir (as `mailbox_user`, nobody by default). Maildir rather
than mbox so the delivered bytes are the message plus Postfix's Return-Path/Delivered-To
(no ">From " quoting that would break a DKIM body hash). `transports` maps an address or a
domain to a transport (transport_maps as an inline: table), e.g. "tlsrpt:" for a pipe
service given in `services`, "lmtp:unix:/abs/path.sock" or "lmtp:inet:[127.0.0.1]:2003".
(Both LMTP forms were checked against a small LMTP server: the lmtp client runs as
the postfix user, so a Unix socket must be mode 0666 in a directory made traversable
with make_traversable(); main={"virtual_transport": "lmtp:unix:/abs/path"} sends every
recipient of the test domains there, like mailbox_transport on a real system.)
`services` is extra master.cf text (see pipe_service()). `main` is a dict of extra
main.cf settings that override the defaults below.

No mail can leave the machine: inet_interfaces = 127.0.0.1, relayhost is empty, DNS is
off (smtp/lmtp_dns_support_level = disabled, *_host_lookup = native), and default_transport
/ relay_transport are error: transports, so a message for any other domain (a bounce to a
foreign sender, say) fails inside the instance instead of being sent.

Running as root (as CI does): master runs as root, the daemons as mail_owner = postfix,
setgid_group = postdrop; `postfix -c DIR check` creates the queue and data directories
with the right owners. The instance directory and its parents inside the scratch folder
are made world-traversable (o+x) so the postfix and nobody users can reach them.
A pipe(8) command runs as an unprivileged user (`user=nobody`; root and mail_owner are
refused), so whatever it writes (a store, say) must be writable by that user: chown it
with chown_for_pipe(); and it may not reach the checkout, so run a copy of the program
made with copy_for_pipe() (e.g. copy_for_pipe(B + "/tlsrpt", tmp + "/bin")).
"""
import atexit
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
DAEMON_DIR = "/usr/lib/postfix/sbin"


class PostfixError(Exception):
    pass


def missing_reason():
    """Returns None when a private instance can run here, else why it cannot."""
    for path in (POSTFIX, POSTCONF, DAEMON_DIR + "/master", DAEMON_DIR + "/virtual",
                 DAEMON_DIR + "/pipe"):
        if not os.path.exists(path):
            return "postfix is not installed (%s missing; scripts/install-deps)" % path
    if os.geteuid() != 0:
        return "a private postfix instance needs root (running as uid %d)" % os.geteuid()
    try:
        pwd.getpwnam("postfix")
        grp.getgrnam("postdrop")
        pwd.getpwnam("nobody")
    except KeyError as ex:
        return "missing user or group: %s" % ex
    return None


def require():
    """Exits the test when postfix cannot run: a TAP skip, or a failure when CI=true."""
    why = missing_reason()
    if why is None:
        return
    if os.environ.get("CI") == "true":
        print("1..1")
        print("not ok 1 - postfix available")
        print("# " + why + " (CI=true: postfix is required)")
        sys.exit(1)
    print("1..0 # SKIP " + why)
    sys.exit(0)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pipe_service(name, argv, user="nobody", flags="", extra=""):
    """master.cf text for a pipe(8) service `name` running argv as user.

    argv is a list; Postfix expands ${sender}, ${recipient}, ... in its elements.
    extra is appended to the attribute list (e.g. "size=1000000")."""
    attrs = "user=%s" % user
    if flags:
        attrs = "flags=%s %s" % (flags, attrs)
    if extra:
        attrs += " " + extra
    return "%s unix - n n - - pipe\n  %s argv=%s\n" % (name, attrs, " ".join(argv))


def chown_for_pipe(path, user="nobody"):
    """Makes path (a file or a directory tree) owned by user, so a pipe command can write."""
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(root, f), pw.pw_uid, pw.pw_gid)
    if not os.path.isdir(path):
        os.chown(path, pw.pw_uid, pw.pw_gid)
    make_traversable(os.path.dirname(os.path.abspath(path)))


def copy_for_pipe(program, directory):
    """Copies an executable into directory (created) and returns the copy's path.

    A pipe command runs as nobody, who may not reach the build folder (a checkout under
    /root, say); the scratch folder is made traversable, so run a copy from there."""
    os.makedirs(directory, exist_ok=True)
    dest = os.path.join(directory, os.path.basename(program))
    shutil.copy(program, dest)
    os.chmod(dest, 0o755)
    make_traversable(directory)
    return dest


def make_traversable(path):
    """Adds o+x to path and its parents inside the scratch/temp folders (never above)."""
    roots = [os.path.realpath(tempfile.gettempdir())]
    if os.environ.get("TLSRPT_TEST_TMP"):
        roots.append(os.path.realpath(os.environ["TLSRPT_TEST_TMP"]))
    p = os.path.realpath(path)
    while True:
        inside = any(p == r or p.startswith(r + os.sep) for r in roots)
        if not inside or p == os.path.realpath(tempfile.gettempdir()):
            break
        st = os.stat(p)
        if st.st_uid == os.geteuid() and not st.st_mode & 0o001:
            os.chmod(p, (st.st_mode & 0o7777) | 0o011)
        p = os.path.dirname(p)


MASTER_CF = """\
# master.cf of a private test instance (tests/lib/postfix.py). chroot n everywhere.
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def _inline(table):
    """A Postfix inline: table from a dict (keys and values without spaces or commas)."""
    if not table:
        return ""
    return "inline:{ " + ", ".join("%s=%s" % (k, v) for k, v in table.items()) + " }"


class Postfix:
    def __init__(self, base, domains=("example.net",), transports=None, services="",
                 main=None, mailbox_user="nobody", port=None):
        self.base = os.path.abspath(base)
        self.etc = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "queue")
        self.data = os.path.join(self.base, "data")
        self.mailbase = os.path.join(self.base, "mail")
        self.maildir = os.path.join(self.mailbase, "mailbox")
        self.logfile = os.path.join(self.base, "maillog")
        self.domains = list(domains)
        self.transports = dict(transports or {})
        self.services = services
        self.main_extra = dict(main or {})
        self.mailbox_user = mailbox_user
        self.fixed_port = port is not None
        self.port = port or free_port()
        self.running = False

    # ---------------------------------------------------------------- config
    def main_cf(self):
        pw = pwd.getpwnam(self.mailbox_user)
        conf = {
            "compatibility_level": "3.6",
            "config_directory": self.etc,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "command_directory": "/usr/sbin",
            "daemon_directory": DAEMON_DIR,
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": self.logfile,
            "maillog_file_prefixes": self.base,
            "myhostname": "mx.postfix.test",
            "mydomain": "postfix.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "relayhost": "",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "smtpd_banner": "$myhostname ESMTP private test instance",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "biff": "no",
            "smtp_dns_support_level": "disabled",
            "lmtp_dns_support_level": "disabled",
            "smtp_host_lookup": "native",
            "lmtp_host_lookup": "native",
            "default_transport": "error:5.7.1 no delivery outside the test instance",
            "relay_transport": "error:5.7.1 no relaying from the test instance",
            "virtual_mailbox_domains": " ".join(self.domains),
            "virtual_mailbox_base": self.mailbase,
            "virtual_mailbox_maps": "static:mailbox/",
            "virtual_uid_maps": "static:%d" % pw.pw_uid,
            "virtual_gid_maps": "static:%d" % pw.pw_gid,
            "virtual_minimum_uid": "1",
            "transport_maps": _inline(self.transports),
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "delay_warning_time": "0",
            "smtpd_tls_security_level": "none",
            "smtp_tls_security_level": "none",
            "import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C",
        }
        conf.update(self.main_extra)
        return "".join("%s = %s\n" % (k, v) for k, v in conf.items())

    def write_config(self):
        for d in (self.base, self.etc, self.queue, self.mailbase):
            os.makedirs(d, exist_ok=True)
        make_traversable(self.base)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(self.main_cf())
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))
            f.write(self.services)
        pw = pwd.getpwnam(self.mailbox_user)
        os.chown(self.mailbase, pw.pw_uid, pw.pw_gid)

    # ---------------------------------------------------------------- control
    def cmd(self, *args, check=True):
        """Runs a Postfix command (postfix, postqueue, ...) against this instance."""
        argv = list(args)
        argv[1:1] = ["-c", self.etc]
        r = subprocess.run(argv, capture_output=True, text=True,
                           env=dict(os.environ, MAIL_CONFIG=self.etc))
        if check and r.returncode != 0:
            raise PostfixError("%s: exit %d\n%s%s\n%s" % (" ".join(argv), r.returncode,
                               r.stdout, r.stderr, self.log()))
        return r

    def start(self, timeout=20):
        """Writes the config, checks it, starts master and waits for the SMTP banner.

        When the free port was taken meanwhile (and the port was not given by the
        caller), tries again on another port, up to three times."""
        atexit.register(self.stop)
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        why = "not started"
        for attempt in range(3):
            self.write_config()
            self.cmd(POSTFIX, "check")
            mark = len(self.log())
            r = self.cmd(POSTFIX, "start", check=False)
            self.running = True
            why = self._wait_banner(timeout, mark) if r.returncode == 0 else \
                "postfix start: exit %d %s" % (r.returncode, r.stderr.strip())
            if why is None:
                return self
            in_use = "Address already in use" in self.log()[mark:]
            self.stop()
            if not in_use or self.fixed_port:
                break
            self.port = free_port()
        raise PostfixError("postfix did not accept SMTP on 127.0.0.1:%d in %ds (%s)\n%s"
                           % (self.port, timeout, why, self.log()))

    def _wait_banner(self, timeout, mark):
        """None once our smtpd greets on self.port, else the last problem seen."""
        deadline = time.time() + timeout
        last = "no answer"
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.settimeout(5)
                    banner = s.recv(512)
                    s.sendall(b"QUIT\r\n")
                    custom = "smtpd_banner" in self.main_extra or \
                        "myhostname" in self.main_extra
                    if banner.startswith(b"220 mx.postfix.test ESMTP private test instance") \
                            or (custom and banner.startswith(b"220")):
                        return None
                    last = "banner %r" % banner
            except OSError as ex:
                last = str(ex)
            if "Address already in use" in self.log()[mark:]:
                return "address in use"
            time.sleep(0.1)
        return last

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        """Stops the instance (idempotent); kills master by its pid if stop hangs."""
        if not self.running:
            return
        self.running = False
        pid = self.master_pid()
        self.cmd(POSTFIX, "stop", check=False)
        for _ in range(100):
            if pid is None or not _alive(pid):
                return
            time.sleep(0.05)
        self.cmd(POSTFIX, "abort", check=False)
        for _ in range(40):
            if not _alive(pid):
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def master_running(self):
        """Whether this instance's master process is alive."""
        pid = self.master_pid()
        return pid is not None and _alive(pid)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---------------------------------------------------------------- inspection
    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def messages(self):
        """The raw bytes of every message delivered to the Maildir, oldest first."""
        new = os.path.join(self.maildir, "new")
        if not os.path.isdir(new):
            return []
        names = sorted(os.listdir(new), key=lambda n: os.stat(os.path.join(new, n)).st_mtime)
        out = []
        for n in names:
            with open(os.path.join(new, n), "rb") as f:
                out.append(f.read())
        return out

    def wait_messages(self, n, timeout=20):
        """Waits until the Maildir holds at least n messages; returns them."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = self.messages()
            if len(msgs) >= n:
                return msgs
            time.sleep(0.1)
        return self.messages()

    def queue_ids(self):
        """Queue IDs of the messages still in the queue (postqueue -j)."""
        r = self.cmd(POSTQUEUE, "-j", check=False)
        ids = []
        for line in r.stdout.splitlines():
            if '"queue_id"' in line:
                ids.append(json.loads(line)["queue_id"])
        return ids

    def wait_queue_empty(self, timeout=20):
        """Waits until no message is queued; returns True when the queue emptied."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.queue_ids():
                return True
            time.sleep(0.2)
        return False

    def wait_log(self, text, timeout=20):
        """Waits until the maillog contains text; returns True when it does."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log():
                return True
            time.sleep(0.1)
        return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""dovecot.py - a throw-away Dovecot IMAP server for integration tests.

    sys.path.insert(0, "tests/lib"); from dovecot import Dovecot, available

    d = Dovecot(workdir, user="rpt", password="secret")   # starts; d.port, d.ssl_port
    d.deliver("INBOX", raw_bytes)        # drops a message into Maildir new/ (unseen)
    d.messages("INBOX")                  # [(name, flags, bytes)] of new/ and cur/
    d.stop()

Everything lives under workdir: configuration, base_dir, state, log, the Maildir
(maildir:workdir/mail/USER/Maildir), a self-signed certificate (d.cert, for
127.0.0.1 and localhost).  Listens on free ports of 127.0.0.1 only: IMAP (STARTTLS
offered) and IMAPS.  As root, the login processes run as dovenull and the mail as the
dovecot user (Debian's package creates both), and the folders above workdir get o+x
(search, not read) so that they can reach it; otherwise everything runs as the caller.
"""
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def available():
    return os.path.exists(DOVECOT)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dovecot:
    def __init__(self, work, user="rpt", password="secret", folders=()):
        self.work = os.path.abspath(work)
        self.user = user
        for d in ("run", "state", "mail"):
            os.makedirs(os.path.join(self.work, d), exist_ok=True)
        self.cert = os.path.join(self.work, "cert.pem")
        self.key = os.path.join(self.work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", self.key, "-out", self.cert, "-days", "2",
                        "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
        with open(os.path.join(self.work, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s::::::\n" % (user, password))
        os.chmod(os.path.join(self.work, "passwd"), 0o644)
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        if os.getuid() == 0:
            login, internal, igroup = "dovenull", "dovecot", "dovecot"
            mail_uid, mail_gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
        else:
            login, internal, igroup = me, me, group
            mail_uid, mail_gid = os.getuid(), os.getgid()
        self.mail_uid, self.mail_gid = mail_uid, mail_gid
        if os.getuid() == 0:
            # the dovecot users must reach work: scratch folders are often mode 0700
            p = self.work
            while p != os.path.dirname(p):
                mode = os.stat(p).st_mode
                if not mode & 0o001:
                    os.chmod(p, (mode & 0o7777) | 0o001)
                p = os.path.dirname(p)
        self.maildir = os.path.join(self.work, "mail", user, "Maildir")
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        for folder in folders:
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(self.maildir, "." + folder, sub), exist_ok=True)
        self.port, self.ssl_port = free_port(), free_port()
        conf = os.path.join(self.work, "dovecot.conf")
        w = self.work
        with open(conf, "w") as f:
            f.write("""base_dir = {w}/run
state_dir = {w}/state
log_path = {w}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{w}/cert.pem
ssl_key = <{w}/key.pem
default_internal_user = {internal}
default_internal_group = {igroup}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
auth_mechanisms = plain login
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {w}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={w}/mail/%u
}}
mail_location = maildir:{w}/mail/%u/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {internal}
}}
service auth-worker {{
  user = {internal}
}}
""".format(w=w, internal=internal, igroup=igroup, login=login, uid=mail_uid, gid=mail_gid,
           port=self.port, ssl_port=self.ssl_port))
        self.conf = conf
        self.chown()
        # the master forks into the background: its output goes to a file, not a pipe
        with open(os.path.join(self.work, "start.out"), "w") as out:
            r = subprocess.run([DOVECOT, "-c", conf], stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("dovecot did not start: " +
                               open(os.path.join(self.work, "start.out")).read() + self.log())
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.ssl_port), 0.2).close()
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot does not listen: " + self.log())

    def log(self):
        try:
            return open(os.path.join(self.work, "dovecot.log")).read()
        except OSError:
            return ""

    def chown(self):
        if os.getuid() != 0:
            return
        for root, dirs, files in os.walk(os.path.join(self.work, "mail")):
            for name in [root] + [os.path.join(root, x) for x in files]:
                os.chown(name, self.mail_uid, self.mail_gid)

    def folder(self, name):
        return self.maildir if name == "INBOX" else os.path.join(self.maildir, "." + name)

    def deliver(self, folder, raw, name):
        """Puts raw into folder's new/ as an unseen message called name."""
        d = self.folder(folder)
        tmp = os.path.join(d, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(raw)
        os.rename(tmp, os.path.join(d, "new", name))
        self.chown()

    def messages(self, folder):
        """[(Subject, flags)] of the messages in folder, sorted; flags are the Maildir
        info letters ("S" seen, "T" deleted, ...), "" for messages in new/."""
        d = self.folder(folder)
        out = []
        for sub in ("new", "cur"):
            p = os.path.join(d, sub)
            if not os.path.isdir(p):
                continue
            for n in os.listdir(p):
                flags = n.partition(":2,")[2]
                subject = ""
                with open(os.path.join(p, n), "rb") as f:
                    for line in f:
                        if line.lower().startswith(b"subject:"):
                            subject = line[8:].strip().decode("utf-8", "replace")
                            break
                out.append((subject, flags))
        return sorted(out)

    def stop(self):
        pid = open(os.path.join(self.work, "run", "master.pid")).read().strip()
        os.kill(int(pid), 15)
        for _ in range(200):
            try:
                os.kill(int(pid), 0)
            except OSError:
                return
            time.sleep(0.05)

"""fake_smtp.py - a fake SMTP server on 127.0.0.1 for the delivery tests.

It records every line of every session, answers RCPT per recipient from a plan of
replies (then 250), and keeps the received sessions per recipient.  Every message it
accepted (the moment it decides to answer 250 to the end of DATA) is also kept in
self.accepted as (time.monotonic(), rcpt, message bytes); quit_delay (seconds) delays
the answer to QUIT (crash tests widen the time between acceptance and the client's
own record of it); self.active counts the open sessions.
"""
import socket
import threading
import time


class FakeSMTP:
    """Records every line per session; RCPT replies per recipient from self.plan
    (a list of replies popped per attempt, then 250)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.plan = {}
        self.sessions = []  # (rcpt, bytes)
        self.accepted = []  # (monotonic time, rcpt, message bytes)
        self.quit_delay = 0.0
        self.active = 0  # sessions open
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            with self.lock:
                self.active += 1
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        rec = bytearray()
        rcpt = [None]
        conn.settimeout(10)
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line + b"\r\n")
        try:
            send(b"220 relay.test ESMTP")
            while True:
                line = f.readline()
                if not line:
                    return
                rec += line
                verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
                if verb == b"EHLO":
                    send(b"250-relay.test")
                    send(b"250 8BITMIME")
                elif verb == b"MAIL":
                    send(b"250 2.1.0 ok")
                elif verb == b"RCPT":
                    addr = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                    rcpt[0] = addr
                    with self.lock:
                        q = self.plan.get(addr, [])
                        reply = q.pop(0) if q else b"250 2.1.5 ok"
                    send(reply)
                elif verb == b"DATA":
                    send(b"354 go ahead")
                    data = bytearray()
                    while True:
                        dl = f.readline()
                        if not dl:
                            return
                        rec += dl
                        if dl == b".\r\n":
                            break
                        data += dl
                    with self.lock:
                        self.accepted.append((time.monotonic(), rcpt[0], bytes(data)))
                    send(b"250 2.0.0 queued")
                elif verb == b"QUIT":
                    if self.quit_delay:
                        time.sleep(self.quit_delay)
                    send(b"221 2.0.0 bye")
                    return
                else:
                    send(b"250 ok")
        except OSError:
            return
        finally:
            with self.lock:
                self.sessions.append((rcpt[0], bytes(rec)))
                self.active -= 1
            conn.close()

    def of(self, rcpt):
        with self.lock:
            return [s for r, s in self.sessions if r == rcpt]

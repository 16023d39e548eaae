"""tlsrpt_daemon.py - helpers for integration tests that run the real daemon.

    import sys; sys.path.insert(0, "tests/lib"); from tlsrpt_daemon import ...

Tests run from the top of the checkout (tests/run-tests cds there).
"""
import os
import subprocess
import time

B = os.environ.get("B", "build")


def daemon_config(work, sock, db, flush):
    """Writes a configuration for tlsrptd with its socket and store in work."""
    path = os.path.join(work, "tlsrptd.toml")
    with open(path, "w") as f:
        f.write('[collector]\nsocket = "%s"\nflush-interval = "%s"\n'
                '[store]\nbackend = "sqlite"\npath = "%s"\n'
                '[web]\nlisten = "127.0.0.1:0"\n'
                '[log]\ndestination = "stderr"\n' % (sock, flush, db))
    return path


def start_daemon(conf, errpath):
    """Starts tlsrptd in the foreground with stderr to errpath.

    Returns (process, ready): ready is True once the daemon logged "ready"."""
    err = open(errpath, "w")
    p = subprocess.Popen([B + "/tlsrptd", "--foreground", "--config", conf],
                         stdout=subprocess.DEVNULL, stderr=err)
    for _ in range(400):
        with open(errpath) as f:
            if " ready" in f.read():
                return p, True
        if p.poll() is not None:
            break
        time.sleep(0.025)
    return p, False

"""pgcluster.py - a throw-away PostgreSQL cluster for Python tests (wraps pgcluster.sh).

    import sys; sys.path.insert(0, "tests/lib"); from pgcluster import Cluster

    c = Cluster.start_or_exit(plan_hint)   # exits with a TAP skip (not in CI) or a failure
    c.url   -> "postgresql:///tlsrpt?host=<dir>/sock"
    c.psql("SELECT ...") -> stdout text (unaligned, tuples only)
    c.down(); c.up()       # an outage, keeping the data
    c.stop()               # stops and removes (also done at exit)
"""
import atexit
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgcluster.sh")


class Cluster:
    def __init__(self, path):
        self.path = path
        self.sock = os.path.join(path, "sock")
        self.url = "postgresql:///tlsrpt?host=" + self.sock
        atexit.register(self.stop)

    @classmethod
    def start_or_exit(cls):
        r = subprocess.run(["sh", SCRIPT, "start"], capture_output=True, text=True)
        if r.returncode == 0:
            return cls(r.stdout.strip())
        in_ci = os.environ.get("CI", "") not in ("", "false", "0")
        if r.returncode == 2 and not in_ci:
            print("1..0 # SKIP PostgreSQL server not installed (%s)" % r.stderr.strip())
            sys.exit(0)
        print("1..1")
        print("not ok 1 - the throw-away PostgreSQL cluster starts")
        for line in r.stderr.splitlines():
            print("# " + line)
        sys.exit(1)

    def psql(self, sql, db="tlsrpt"):
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-h", self.sock, "-d", db,
                            "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: " + r.stderr.strip())
        return r.stdout.strip()

    def down(self):
        subprocess.run(["sh", SCRIPT, "down", self.path], check=True)

    def up(self):
        subprocess.run(["sh", SCRIPT, "up", self.path], check=True)

    def stop(self):
        if self.path and os.path.isdir(self.path):
            subprocess.run(["sh", SCRIPT, "stop", self.path])
        self.path = None

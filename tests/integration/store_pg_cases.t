#!/usr/bin/python3
# store_pg_cases.t - the store's test cases (tests/tools/store_cases.c, one source) run
# against SQLite and against PostgreSQL (a throw-away cluster, Unix socket only):
# window_open, interning, accumulating adds, list_counts/list_due order and contents,
# mark_reported, rollback, reopen, three concurrent flushers adding to the same rows,
# the outbox, delivery claims (three racing processes), window_claim, purge.
# Without PostgreSQL installed the test skips, except in CI ($CI set) where it fails.
import os, shutil, subprocess, sys

sys.path.insert(0, "tests/lib")
from pgcluster import Cluster

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
work = os.path.join(TMP, "store_pg_cases")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

cluster = Cluster.start_or_exit()
runs = [("sqlite", os.path.join(work, "cases.sqlite")), ("postgresql", cluster.url)]
outs = []
for backend, where in runs:
    r = subprocess.run([B + "/tests/tools/store_cases", backend, where],
                       capture_output=True, text=True, timeout=300)
    outs.append((backend, r))
plans = [int(r.stdout.split("\n", 1)[0][3:]) if r.stdout.startswith("1..") else 1
         for _, r in outs]
print("1..%d" % sum(plans))
n = fails = 0
for (backend, r), plan in zip(outs, plans):
    seen = 0
    for line in r.stdout.splitlines():
        if line.startswith("ok ") or line.startswith("not ok "):
            good = line.startswith("ok ")
            name = line.split(" - ", 1)[1] if " - " in line else line
            n += 1
            seen += 1
            fails += 0 if good else 1
            print("%s %d - %s: %s" % ("ok" if good else "not ok", n, backend, name))
        elif line.startswith("#") or line.startswith("Bail"):
            print("# %s: %s" % (backend, line.lstrip("# ")))
    for line in r.stderr.splitlines():
        print("# %s stderr: %s" % (backend, line))
    while seen < plan:
        n += 1
        seen += 1
        fails += 1
        print("not ok %d - %s: case did not run (exit %d)" % (n, backend, r.returncode))
sys.exit(1 if fails else 0)

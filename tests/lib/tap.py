"""tap.py - TAP output for the Python integration tests.

    sys.path.insert(0, "tests/lib"); from tap import ok, okn, check, run, finish

ok() prints one numbered test point (with the detail as # lines when it fails);
finish() prints the plan and exits 1 when any point failed.
"""
import subprocess
import sys

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


def okn(name, cond, detail=""):
    ok(cond, name, detail)


def check(name, got, want):
    ok(got == want, name, "got %r, want %r" % (got, want))


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


def finish():
    print("1..%d" % n)
    sys.exit(1 if failed else 0)

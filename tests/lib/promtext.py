"""promtext.py - a strict parser of the Prometheus text exposition format 0.0.4.

    sys.path.insert(0, "tests/lib"); from promtext import parse, PromError

parse(text) returns {family: {"type": t, "help": h, "samples": {(name, labels): value}}}
with labels a tuple of (name, value) pairs sorted by name, or raises PromError naming
the line.  Stricter than Prometheus itself where our output must be exact:
  - every family has exactly one HELP and one TYPE line, both before its samples;
  - a family's lines are contiguous and a family appears once;
  - metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not
    starting with "__", no label repeated in a sample;
  - label values are quoted with only the escapes \\\\, \\" and \\n, no raw newline;
  - values are floats (Go ParseFloat forms: digits, exponents, NaN, +Inf, -Inf);
  - no series appears twice; counters end in _total and are >= 0;
  - histograms: _bucket samples carry le, buckets are cumulative, a +Inf bucket
    exists and equals _count, and _sum is present;
  - the text ends with a newline and has no blank lines or trailing spaces.
"""
import math
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|NaN)")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(Exception):
    pass


def _labels(s, i, lineno):
    """Parses {a="b",...} from s[i] == '{'; returns (labels, index after '}')."""
    out = []
    i += 1
    while True:
        if s[i:i + 1] == "}":
            return out, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise PromError("line %d: bad label name at %r" % (lineno, s[i:i + 20]))
        name = m.group(0)
        if name.startswith("__"):
            raise PromError("line %d: reserved label name %s" % (lineno, name))
        i = m.end()
        if s[i:i + 2] != '="':
            raise PromError("line %d: expected =\" after %s" % (lineno, name))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise PromError("line %d: unterminated label value" % lineno)
            c = s[i]
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ("\\", '"', "n"):
                    raise PromError("line %d: bad escape \\%s" % (lineno, e))
                val.append("\n" if e == "n" else e)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        if any(n == name for n, _ in out):
            raise PromError("line %d: label %s repeated" % (lineno, name))
        out.append((name, "".join(val)))
        if s[i:i + 1] == ",":
            i += 1
            if s[i:i + 1] == "}":
                return out, i + 1
        elif s[i:i + 1] != "}":
            raise PromError("line %d: expected , or } in labels" % lineno)


def _value(tok, lineno):
    if not FLOAT.fullmatch(tok):
        raise PromError("line %d: bad value %r" % (lineno, tok))
    return float(tok.replace("Inf", "inf"))


def parse(text):
    if not text.endswith("\n"):
        raise PromError("text does not end with a newline")
    fams = {}
    cur = None  # family whose lines are being read
    done = set()  # families closed (another family started after them)
    series = set()
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if line == "" or line != line.rstrip(" \t"):
            raise PromError("line %d: blank line or trailing white space" % lineno)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                continue  # a comment
            kind, name = parts[1], parts[2]
            if not NAME.fullmatch(name):
                raise PromError("line %d: bad metric name %r" % (lineno, name))
            if name != cur:
                if name in done or name in fams:
                    raise PromError("line %d: family %s appears twice" % (lineno, name))
                if cur is not None:
                    done.add(cur)
                cur = name
                fams[name] = {"type": None, "help": None, "samples": {}}
            f = fams[name]
            if f["samples"]:
                raise PromError("line %d: %s after samples of %s" % (lineno, kind, name))
            if kind == "HELP":
                if f["help"] is not None:
                    raise PromError("line %d: second HELP for %s" % (lineno, name))
                help_text = parts[3] if len(parts) > 3 else ""
                if re.search(r"\\[^\\n]", help_text.replace("\\\\", "")):
                    raise PromError("line %d: bad escape in HELP" % lineno)
                f["help"] = help_text
            else:
                if f["type"] is not None:
                    raise PromError("line %d: second TYPE for %s" % (lineno, name))
                if len(parts) != 4 or parts[3] not in TYPES:
                    raise PromError("line %d: bad TYPE line" % lineno)
                f["type"] = parts[3]
            continue
        m = NAME.match(line)
        if not m:
            raise PromError("line %d: bad sample name" % lineno)
        name = m.group(0)
        i = m.end()
        labels = []
        if line[i:i + 1] == "{":
            labels, i = _labels(line, i, lineno)
        rest = line[i:]
        if not rest.startswith(" "):
            raise PromError("line %d: expected a space before the value" % lineno)
        toks = rest[1:].split(" ")
        if len(toks) not in (1, 2) or (len(toks) == 2 and not re.fullmatch(r"-?\d+", toks[1])):
            raise PromError("line %d: bad value/timestamp %r" % (lineno, rest))
        value = _value(toks[0], lineno)
        if cur is None:
            raise PromError("line %d: sample before HELP/TYPE" % lineno)
        f = fams[cur]
        if f["help"] is None or f["type"] is None:
            raise PromError("line %d: sample of %s before its HELP and TYPE" % (lineno, cur))
        allowed = {cur}
        if f["type"] == "histogram":
            allowed = {cur + "_bucket", cur + "_sum", cur + "_count"}
        if name not in allowed:
            raise PromError("line %d: sample %s outside its family (%s)" % (lineno, name, cur))
        key = (name, tuple(sorted(labels)))
        if key in series:
            raise PromError("line %d: duplicate series %s%s" % (lineno, name, labels))
        series.add(key)
        f["samples"][key] = value
    for name, f in fams.items():
        if f["type"] is None or f["help"] is None:
            raise PromError("family %s lacks HELP or TYPE" % name)
        if f["type"] == "counter":
            if not name.endswith("_total"):
                raise PromError("counter %s does not end in _total" % name)
            for k, v in f["samples"].items():
                if v < 0 or math.isnan(v):
                    raise PromError("counter %s has value %r" % (k, v))
        if f["type"] == "histogram":
            _check_histogram(name, f["samples"])
    return fams


def _check_histogram(name, samples):
    groups = {}
    for (sname, labels), v in samples.items():
        rest = tuple(l for l in labels if l[0] != "le")
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            le = [l[1] for l in labels if l[0] == "le"]
            if len(le) != 1:
                raise PromError("%s_bucket without le" % name)
            g["buckets"].append((_value(le[0], 0), v))
        elif sname == name + "_sum":
            g["sum"] = v
        else:
            g["count"] = v
    for rest, g in groups.items():
        b = sorted(g["buckets"])
        if not b or b[-1][0] != math.inf:
            raise PromError("%s: no +Inf bucket" % name)
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            raise PromError("%s: buckets are not cumulative" % name)
        if g["count"] is None or g["sum"] is None or g["count"] != b[-1][1]:
            raise PromError("%s: _count/_sum missing or _count != +Inf bucket" % name)


def value(fams, family, sample=None, **labels):
    """The value of one series (sample defaults to the family name), or None."""
    f = fams.get(family)
    if f is None:
        return None
    key = (sample or family, tuple(sorted(labels.items())))
    return f["samples"].get(key)

#!/usr/bin/python3
"""A small parser and validator of the Prometheus text exposition format
(version 0.0.4), for tests where promtool is not installed.

    fams = parse(text)          # raises PromError listing every problem
    value(fams, "smb3d_requests_total", command="READ", status="success")
    problems = lint(fams)       # promtool-style advice (names, HELP), a list

Checked: line syntax (names, label names, quoting and escapes, values,
timestamps), one HELP and one TYPE per family, TYPE before the samples, known
types, samples of a family contiguous, no duplicate series, counters >= 0,
histograms (le labels, cumulative buckets, +Inf bucket == _count, _sum and
_count per series), summaries (quantile labels, _sum/_count), trailing newline.

Run as a program: promparse.py [FILE|-]  prints the problems, exit 1 if any.
"""

import math
import re
import sys

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(ValueError):
    def __init__(self, problems):
        self.problems = problems
        super().__init__("invalid Prometheus text:\n  " + "\n  ".join(problems))


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = []  # (sample name, {label: value}, float value, timestamp or None)

    def __repr__(self):
        return "<Family %s %s %d samples>" % (self.name, self.type, len(self.samples))


def _parse_value(s):
    if s in ("+Inf", "Inf", "+inf", "inf"):
        return math.inf
    if s in ("-Inf", "-inf"):
        return -math.inf
    if s in ("NaN", "nan"):
        return math.nan
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        raise ValueError("bad value %r" % s)
    return float(s)


def _parse_labels(s, i, where, problems):
    """s[i] == '{'; returns (labels, index after '}')"""
    labels = {}
    i += 1
    while True:
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LABEL_RE.match(s, i)
        if not m:
            raise ValueError("bad label name at column %d" % (i + 1))
        lname = m.group(0)
        if lname.startswith("__"):
            problems.append("%s: label name %r is reserved" % (where, lname))
        i = m.end()
        while i < len(s) and s[i] in " \t":
            i += 1
        if i >= len(s) or s[i] != "=":
            raise ValueError("expected '=' after label %r" % lname)
        i += 1
        while i < len(s) and s[i] in " \t":
            i += 1
        if i >= len(s) or s[i] != '"':
            raise ValueError("label value of %r is not quoted" % lname)
        i += 1
        v = []
        while True:
            if i >= len(s):
                raise ValueError("unterminated label value of %r" % lname)
            c = s[i]
            if c == "\\":
                n = s[i + 1:i + 2]
                if n == "n":
                    v.append("\n")
                elif n in ('"', "\\"):
                    v.append(n)
                else:
                    raise ValueError("bad escape \\%s in label value of %r" % (n, lname))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            v.append(c)
            i += 1
        if lname in labels:
            raise ValueError("label %r repeated" % lname)
        labels[lname] = "".join(v)
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        raise ValueError("expected ',' or '}' at column %d" % (i + 1))


def _family_of(sname, fams):
    """The family a sample belongs to (histogram/summary suffixes)."""
    for suf in ("_bucket", "_sum", "_count"):
        if sname.endswith(suf):
            base = sname[:-len(suf)]
            f = fams.get(base)
            if f is not None and f.type in ("histogram", "summary"):
                if suf == "_bucket" and f.type != "histogram":
                    break
                return base
    return sname


def parse(text, strict=True):
    """Parse exposition text; returns {family name: Family} (in order).
    Raises PromError listing every problem found, unless strict is False.
    parse_with_problems returns (families, problems) instead."""
    fams, problems = parse_with_problems(text)
    if problems and strict:
        raise PromError(problems)
    return fams


def parse_with_problems(text):
    problems = []
    fams = {}
    seen_series = set()
    finished = set()  # families whose samples are complete (another family started)
    current = None
    if text and not text.endswith("\n"):
        problems.append("the text does not end with a newline")
    for no, line in enumerate(text.split("\n"), 1):
        where = "line %d" % no
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line[1:].strip().split(None, 2)
            if len(parts) >= 2 and parts[0] in ("HELP", "TYPE"):
                kw, name = parts[0], parts[1]
                rest = parts[2] if len(parts) > 2 else ""
                if not NAME_RE.fullmatch(name):
                    problems.append("%s: bad metric name %r in %s" % (where, name, kw))
                    continue
                f = fams.get(name)
                if f is None:
                    f = fams[name] = Family(name)
                if kw == "HELP":
                    if f.help is not None:
                        problems.append("%s: second HELP for %s" % (where, name))
                    if re.search(r"\\[^n\\]", rest) or rest.endswith("\\") and not rest.endswith("\\\\"):
                        problems.append("%s: bad escape in HELP of %s" % (where, name))
                    f.help = rest
                else:
                    if f.type is not None:
                        problems.append("%s: second TYPE for %s" % (where, name))
                    if f.samples:
                        problems.append("%s: TYPE of %s after its samples" % (where, name))
                    if rest.strip() not in TYPES:
                        problems.append("%s: unknown type %r for %s" % (where, rest, name))
                    f.type = rest.strip()
                if name in finished:
                    problems.append("%s: %s for %s after other families' samples started"
                                    % (where, kw, name))
            continue  # other comments are fine
        # sample line
        m = NAME_RE.match(line)
        if not m:
            problems.append("%s: bad sample line %r" % (where, line))
            continue
        sname = m.group(0)
        i = m.end()
        labels = {}
        try:
            if i < len(line) and line[i] == "{":
                labels, i = _parse_labels(line, i, where, problems)
            if i >= len(line) or line[i] not in " \t":
                raise ValueError("expected a blank before the value")
            fields = line[i:].split()
            if len(fields) not in (1, 2):
                raise ValueError("expected 'value [timestamp]', got %r" % line[i:])
            val = _parse_value(fields[0])
            ts = None
            if len(fields) == 2:
                if not re.fullmatch(r"-?\d+", fields[1]):
                    raise ValueError("bad timestamp %r" % fields[1])
                ts = int(fields[1])
        except ValueError as e:
            problems.append("%s: %s: %r" % (where, e, line))
            continue
        fname = _family_of(sname, fams)
        f = fams.get(fname)
        if f is None:
            f = fams[fname] = Family(fname)
        if current is not None and current != fname:
            finished.add(current)
        if fname in finished and current != fname:
            problems.append("%s: samples of %s are not contiguous" % (where, fname))
        current = fname
        key = (sname, tuple(sorted(labels.items())))
        if key in seen_series:
            problems.append("%s: duplicate series %s%s" % (where, sname, labels))
        seen_series.add(key)
        f.samples.append((sname, labels, val, ts))
    for f in fams.values():
        problems += _check_family(f)
    return fams, problems


def _series_key(labels, drop):
    return tuple(sorted((k, v) for k, v in labels.items() if k != drop))


def _check_family(f):
    p = []
    t = f.type or "untyped"
    if not f.samples and f.type is not None:
        return p  # a family without samples is allowed
    if t in ("counter", "gauge", "untyped"):
        for sname, labels, v, _ in f.samples:
            if sname != f.name:
                p.append("%s: sample %s does not belong to %s %s" % (f.name, sname, t, f.name))
            if t == "counter" and (v < 0 or math.isnan(v)):
                p.append("%s: counter value %r is negative or NaN" % (f.name, v))
    elif t == "histogram":
        series = {}
        for sname, labels, v, _ in f.samples:
            s = series.setdefault(_series_key(labels, "le"), {"buckets": [], "sum": None, "count": None})
            if sname == f.name + "_bucket":
                if "le" not in labels:
                    p.append("%s: bucket without le %s" % (f.name, labels))
                    continue
                try:
                    le = _parse_value(labels["le"])
                except ValueError:
                    p.append("%s: bad le %r" % (f.name, labels["le"]))
                    continue
                s["buckets"].append((le, v))
            elif sname == f.name + "_sum":
                s["sum"] = v
            elif sname == f.name + "_count":
                s["count"] = v
            else:
                p.append("%s: sample %s does not belong to histogram %s" % (f.name, sname, f.name))
        for key, s in series.items():
            d = dict(key)
            b = s["buckets"]
            if not b:
                p.append("%s%s: no buckets" % (f.name, d))
                continue
            les = [x[0] for x in b]
            if les != sorted(les) or len(set(les)) != len(les):
                p.append("%s%s: le values not increasing %s" % (f.name, d, les))
            if les[-1] != math.inf:
                p.append("%s%s: no le=\"+Inf\" bucket" % (f.name, d))
            cnt = [x[1] for x in sorted(b)]
            if any(a > c for a, c in zip(cnt, cnt[1:])):
                p.append("%s%s: buckets not cumulative %s" % (f.name, d, cnt))
            if s["count"] is None or s["sum"] is None:
                p.append("%s%s: _sum or _count missing" % (f.name, d))
            elif les[-1] == math.inf and s["count"] != dict(b)[math.inf]:
                p.append("%s%s: _count %r != +Inf bucket %r" % (f.name, d, s["count"], dict(b)[math.inf]))
    elif t == "summary":
        series = {}
        for sname, labels, v, _ in f.samples:
            s = series.setdefault(_series_key(labels, "quantile"), {"sum": None, "count": None})
            if sname == f.name:
                if "quantile" not in labels:
                    p.append("%s: summary sample without quantile" % f.name)
                else:
                    try:
                        q = _parse_value(labels["quantile"])
                        if not 0 <= q <= 1:
                            raise ValueError
                    except ValueError:
                        p.append("%s: bad quantile %r" % (f.name, labels["quantile"]))
            elif sname == f.name + "_sum":
                s["sum"] = v
            elif sname == f.name + "_count":
                s["count"] = v
            else:
                p.append("%s: sample %s does not belong to summary %s" % (f.name, sname, f.name))
        for key, s in series.items():
            if s["count"] is None or s["sum"] is None:
                p.append("%s%s: _sum or _count missing" % (f.name, dict(key)))
    return p


def lint(fams):
    """promtool check metrics style advice: HELP present, counter names end
    in _total, no unit-less 'milliseconds' etc."""
    p = []
    for f in fams.values():
        if f.help is None or not f.help.strip():
            p.append("%s: no HELP text" % f.name)
        if f.type == "counter" and not f.name.endswith("_total"):
            p.append("%s: counter names should end in _total" % f.name)
        if f.type != "counter" and f.name.endswith("_total"):
            p.append("%s: non-counter named _total" % f.name)
        if re.search(r"_(milliseconds|microseconds|nanoseconds|kilobytes|megabytes)(_|$)", f.name):
            p.append("%s: use base units (seconds, bytes)" % f.name)
        if f.name != f.name.lower() and not re.fullmatch(r"[a-z0-9_:]+", f.name):
            p.append("%s: metric names should be snake_case" % f.name)
    return p


def value(fams, name, **labels):
    """The value of the one sample `name` whose labels include `labels`
    (sample name may be a histogram's _bucket/_sum/_count); None if absent."""
    vals = values(fams, name, **labels)
    if not vals:
        return None
    if len(vals) > 1:
        raise KeyError("%s%s matches %d samples" % (name, labels, len(vals)))
    return vals[0]


def values(fams, name, **labels):
    out = []
    for f in fams.values():
        for sname, l, v, _ in f.samples:
            if sname == name and all(l.get(k) == str(x) for k, x in labels.items()):
                out.append(v)
    return out


def total(fams, name, **labels):
    """Sum of the samples `name` whose labels include `labels`."""
    return sum(values(fams, name, **labels))


def main(argv):
    src = argv[1] if len(argv) > 1 else "-"
    text = sys.stdin.read() if src == "-" else open(src, encoding="utf-8").read()
    fams, problems = parse_with_problems(text)
    problems += ["lint: " + x for x in lint(fams)]
    for x in problems:
        print(x)
    print("%d families, %d samples, %d problems"
          % (len(fams), sum(len(f.samples) for f in fams.values()), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

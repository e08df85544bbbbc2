#!/usr/bin/python3
"""Summarise a bench results TSV as Markdown: medians per (bench, case, server),
ratios smb3d / Samba default and smb3d / Samba best, server CPU seconds per GiB
(and smb3d's CPU / Samba default's and / the lowest of the Samba configs').

    report.py RESULTS.tsv

TSV columns: bench case server run value unit cpu_s bytes
"""
import statistics
import sys
from collections import OrderedDict

LOWER_IS_BETTER_UNITS = ("PSS-KiB/sess", "RSS-KiB/sess")
GIB = 1 << 30


def num(x):
    try:
        return float(x)
    except ValueError:
        return None


def main():
    rows = OrderedDict()
    for line in open(sys.argv[1]):
        f = line.rstrip("\n").split("\t")
        if len(f) < 6:
            continue
        bench, case, server, _run, value, unit = f[:6]
        cpu = num(f[6]) if len(f) > 6 else None
        nbytes = num(f[7]) if len(f) > 7 else None
        r = rows.setdefault((bench, case), {"unit": unit, "servers": OrderedDict()})
        s = r["servers"].setdefault(server, {"v": [], "cpu": [], "cpug": [], "bad": 0})
        v = num(value)
        if v is None:
            s["bad"] += 1
            continue
        s["v"].append(v)
        if cpu is not None:
            s["cpu"].append(cpu)
            if nbytes:
                s["cpug"].append(cpu / (nbytes / GIB))
    order = ["samba-default", "samba-uring", "samba-sendfile", "smb3d-uring", "smb3d-threads"]
    def key(sv):
        return order.index(sv) if sv in order else len(order)
    benches = []
    for (bench, _c) in rows:
        if bench not in benches:
            benches.append(bench)
    cur = None
    for (bench, case), r in sorted(rows.items(), key=lambda kv: benches.index(kv[0][0])):
        unit = r["unit"]
        lower = unit in LOWER_IS_BETTER_UNITS
        if bench != cur:
            cur = bench
            print("\n#### %s\n" % bench)
            print("| case | server | median | unit | runs | server CPU s | CPU s/GiB | vs Samba default | vs Samba best | CPU vs Samba default | CPU vs Samba lowest |")
            print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        med = {}
        for sv, s in r["servers"].items():
            if s["v"]:
                med[sv] = statistics.median(s["v"])
        samba = {k: v for k, v in med.items() if k.startswith("samba")}
        base = samba.get("samba-default")
        best = (min if lower else max)(samba.values()) if samba else None
        best_name = [k for k, v in samba.items() if v == best][0] if samba else ""
        cpu_base = None
        d = r["servers"].get("samba-default")
        if d and d["cpug"]:
            cpu_base = statistics.median(d["cpug"])
        elif d and d["cpu"]:
            cpu_base = statistics.median(d["cpu"])
        # lowest server CPU (per GiB if known) among the Samba configurations
        cpu_low, cpu_low_name = None, ""
        for sv, s in r["servers"].items():
            if not sv.startswith("samba"):
                continue
            c = statistics.median(s["cpug"]) if s["cpug"] else (statistics.median(s["cpu"]) if s["cpu"] else None)
            if c is not None and (cpu_low is None or c < cpu_low):
                cpu_low, cpu_low_name = c, sv
        for sv in sorted(r["servers"], key=key):
            s = r["servers"][sv]
            m = med.get(sv)
            cpu = statistics.median(s["cpu"]) if s["cpu"] else None
            cpug = statistics.median(s["cpug"]) if s["cpug"] else None
            mine = cpug if cpug is not None else cpu
            cpu_ratio = ("%.2fx" % (mine / cpu_base)) if sv.startswith("smb3d") and mine is not None and cpu_base else ""
            cpu_ratio_low = ("%.2fx (%s)" % (mine / cpu_low, cpu_low_name.replace("samba-", ""))) \
                if sv.startswith("smb3d") and mine is not None and cpu_low else ""
            def ratio(ref):
                if m is None or not ref:
                    return ""
                return "%.2fx" % (m / ref)
            vs_def = ratio(base) if sv.startswith("smb3d") else ""
            vs_best = (ratio(best) + " (%s)" % best_name.replace("samba-", "")) if sv.startswith("smb3d") and best else ""
            runs = "%d" % len(s["v"]) + (" (+%d failed)" % s["bad"] if s["bad"] else "")
            fmt = "%.0f" if m is not None and m >= 100 else "%.2f"
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                case, sv, (fmt % m) if m is not None else "FAIL", unit, runs,
                "%.2f" % cpu if cpu is not None else "",
                "%.2f" % cpug if cpug is not None else "",
                vs_def, vs_best, cpu_ratio, cpu_ratio_low))
    # CPU ratio summary for transfers
    print()


if __name__ == "__main__":
    main()

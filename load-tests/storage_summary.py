#!/usr/bin/env python3
"""Turns one storage-bench.sh run (JMH JSON + dd timings) into the summary table, as Markdown and JSON.

Every figure is MiB/s (2^20 bytes per second). A Millrace figure is the median over all JMH measurement iterations
(each one SingleShotTime invocation that writes or reads the whole data size); a dd figure is the median over all dd
repetitions of that command. Ratio = Millrace median / dd median.
"""
import argparse
import json
import statistics
import sys

MIB = 1 << 20
PKG = "io.millrace.loadtests.storage."

# Scenario rows: (label, JMH benchmark, JMH params to match, dd reference key, goal ratio or None, note).
ROWS = [
    ("append, no fsync, group commit (16 batches per write)", "AppendBenchmark.append",
     {"fsync": "never", "batchesPerAppend": "16"}, "dd-pagecache-16KiB", 0.80, "issue goal"),
    ("append, fsync every 1 MiB, group commit", "AppendBenchmark.append",
     {"fsync": "every-MiB", "batchesPerAppend": "16"}, "dd-fdatasync-16KiB", 0.80,
     "issue goal (dd: one fdatasync at the end)"),
    ("append, fsync every 1 MiB, group commit", "AppendBenchmark.append",
     {"fsync": "every-MiB", "batchesPerAppend": "16"}, "dd-dsync-1MiB", 0.80, "like for like (a sync per MiB)"),
    ("append, fsync every 1 MiB, 1 MiB per write", "AppendBenchmark.append",
     {"fsync": "every-MiB", "batchesPerAppend": "64"}, "dd-fdatasync-16KiB", 0.80,
     "issue goal (dd: one fdatasync at the end)"),
    ("append, fsync every 1 MiB, 1 MiB per write", "AppendBenchmark.append",
     {"fsync": "every-MiB", "batchesPerAppend": "64"}, "dd-dsync-1MiB", 0.80, "like for like (a sync per MiB)"),
    ("append, no fsync, 1 MiB per write", "AppendBenchmark.append",
     {"fsync": "never", "batchesPerAppend": "64"}, "dd-pagecache-16KiB", None, "heavy load"),
    ("append, no fsync, one batch per write", "AppendBenchmark.append",
     {"fsync": "never", "batchesPerAppend": "1"}, "dd-pagecache-16KiB", None, "a lone producer, no load"),
    ("append, fsync every 1 MiB, one batch per write", "AppendBenchmark.append",
     {"fsync": "every-MiB", "batchesPerAppend": "1"}, "dd-dsync-1MiB", None, "a lone producer, no load"),
    ("append, fsync every batch", "AppendBenchmark.append", {"fsync": "every-batch", "batchesPerAppend": "1"},
     "dd-dsync-16KiB", None, "like for like (a sync per ~16 KiB)"),
    ("read, copying (readFully)", "ReadBenchmark.readCopying", {}, "dd-read-1MiB", None,
     "page cache warm; F written bs=16k"),
    ("read, zero-copy (transferTo /dev/null)", "ReadBenchmark.readZeroCopy", {}, "dd-read-1MiB", None,
     "sendfile: no copy to user space, unlike dd"),
    # Controls: where the gap to dd comes from.
    ("control: append, no fsync, one batch per write", "AppendBenchmark.append",
     {"fsync": "never", "batchesPerAppend": "1"}, "dd-pagecache-batch", None, "dd with Millrace's write size"),
    ("control: FileChannel.write, no fsync", "FileChannelBaselineBenchmark.write", {"fsync": "never"},
     "dd-pagecache-16KiB", None, "bare JVM, batch-size writes"),
    ("control: FileChannel.write, fsync every 1 MiB", "FileChannelBaselineBenchmark.write", {"fsync": "every-MiB"},
     "dd-dsync-1MiB", None, "bare JVM"),
    ("control: FileChannel.write, fsync every batch", "FileChannelBaselineBenchmark.write",
     {"fsync": "every-batch"}, "dd-dsync-16KiB", None, "bare JVM"),
    ("control: read, copying (readFully)", "ReadBenchmark.readCopying", {}, "dd-read-batch-written", None,
     "dd reads a file written in Millrace-size writes"),
]

DD_LABELS = {
    "dd-pagecache-16KiB": "dd bs=16k",
    "dd-pagecache-batch": "dd bs={batch}",
    "dd-fdatasync-16KiB": "dd bs=16k conv=fdatasync",
    "dd-dsync-1MiB": "dd bs=1M oflag=dsync",
    "dd-dsync-16KiB": "dd bs=16k oflag=dsync",
    "dd-read-1MiB": "dd if=F of=/dev/null bs=1M",
    "dd-read-batch-written": "dd if=F of=/dev/null bs=1M (F written bs={batch})",
}


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def load_dd(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            key, nbytes, seconds = line.split("\t")
            runs.setdefault(key, []).append(int(nbytes) / float(seconds) / MIB)
    return {key: spread(values) for key, values in runs.items()}


def load_jmh(paths, batch_bytes):
    """Every benchmark with its params, its iterations merged across files (one file per JMH fork round)."""
    merged = {}
    for path in paths:
        with open(path) as f:
            results = json.load(f)
        for result in results:
            params = result.get("params", {})
            metric = result["primaryMetric"]
            if metric["scoreUnit"] != "ms/op":
                sys.exit(f"unexpected JMH unit {metric['scoreUnit']} for {result['benchmark']}")
            key = (result["benchmark"], tuple(sorted(params.items())))
            entry = merged.setdefault(key, {"benchmark": result["benchmark"].removeprefix(PKG), "params": params,
                                            "ms_per_fork": []})
            entry["ms_per_fork"].extend(metric["rawData"])
    found = []
    for entry in merged.values():
        data_mib = int(entry["params"]["dataMiB"])
        batches = -(-data_mib * MIB // batch_bytes)
        nbytes = batches * batch_bytes
        iterations = [ms for fork in entry["ms_per_fork"] for ms in fork]
        entry["bytes"] = nbytes
        entry["mib_s"] = spread([nbytes / (ms / 1000.0) / MIB for ms in iterations])
        found.append(entry)
    return found


def find(jmh, benchmark, params):
    for result in jmh:
        if result["benchmark"] == benchmark and all(result["params"].get(k) == v for k, v in params.items()):
            return result
    return None


def fmt(s):
    return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f}, n={s['n']})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jmh", required=True, nargs="+", help="JMH JSON result files")
    ap.add_argument("--dd", required=True)
    ap.add_argument("--batch-bytes", type=int, required=True)
    ap.add_argument("--env", required=True, help="JSON object describing the run")
    ap.add_argument("--md", required=True)
    ap.add_argument("--json", required=True)
    args = ap.parse_args()

    env = json.loads(args.env)
    dd = load_dd(args.dd)
    jmh = load_jmh(args.jmh, args.batch_bytes)
    rows = []
    for label, benchmark, params, ref, goal, note in ROWS:
        result = find(jmh, benchmark, params)
        reference = dd.get(ref)
        if result is None or reference is None:
            continue
        ratio = result["mib_s"]["median"] / reference["median"]
        verdict = "info" if goal is None else ("PASS" if ratio >= goal else "FAIL")
        rows.append({
            "scenario": label, "benchmark": benchmark, "params": result["params"],
            "millrace_mib_s": result["mib_s"], "reference": ref,
            "reference_command": DD_LABELS[ref].format(batch=args.batch_bytes), "dd_mib_s": reference,
            "ratio": ratio, "goal": goal, "result": verdict, "note": note,
        })

    header = ["Scenario", "Millrace MiB/s median (min–max, n)", "Reference", "dd MiB/s median (min–max, n)",
              "Ratio", "Goal", "Result", "Note"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        goal = "—" if r["goal"] is None else f"≥ {r['goal']:.0%}"
        lines.append("| " + " | ".join([r["scenario"], fmt(r["millrace_mib_s"]), f"`{r['reference_command']}`",
                                        fmt(r["dd_mib_s"]), f"{r['ratio']:.0%}", goal, r["result"], r["note"]]) + " |")
    table = "\n".join(lines)

    dd_lines = ["| dd command | MiB/s median (min–max, n) |", "|---|---|"]
    for key, label in DD_LABELS.items():
        if key in dd:
            dd_lines.append(f"| `{label.format(batch=args.batch_bytes)}` | {fmt(dd[key])} |")

    own = ["| fsync | Millrace append MiB/s | bare FileChannel.write MiB/s | Millrace / bare |", "|---|---|---|---|"]
    for policy in ("never", "every-MiB", "every-batch"):
        millrace = find(jmh, "AppendBenchmark.append", {"fsync": policy, "batchesPerAppend": "1"})
        bare = find(jmh, "FileChannelBaselineBenchmark.write", {"fsync": policy})
        if millrace and bare:
            ratio = millrace["mib_s"]["median"] / bare["mib_s"]["median"]
            own.append(f"| {policy} | {fmt(millrace['mib_s'])} | {fmt(bare['mib_s'])} | {ratio:.0%} |")

    env_lines = [f"- {k}: {v}" for k, v in env.items()]
    md = "\n".join([
        f"# Storage benchmark, {env.get('timestamp', '')}",
        "",
        *env_lines,
        f"- batch: {args.batch_bytes} bytes (16 records of 1 KiB, no key)",
        "- units: MiB/s (2^20 bytes/s); Millrace = median over JMH measurement iterations (one whole write or "
        "read each), dd = median over repetitions; ratio = Millrace / dd",
        "",
        table,
        "",
        "## Millrace's own cost: the same writes without Millrace",
        "",
        *own,
        "",
        "## dd alone",
        "",
        *dd_lines,
        "",
    ])
    with open(args.md, "w") as f:
        f.write(md)
    with open(args.json, "w") as f:
        json.dump({"env": env, "batch_bytes": args.batch_bytes, "rows": rows, "dd": dd, "jmh": jmh}, f, indent=2)
    print(table)
    print()
    print("\n".join(own))
    failed = [r for r in rows if r["result"] == "FAIL"]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} rows met their goal or have none; {len(failed)} FAIL")
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

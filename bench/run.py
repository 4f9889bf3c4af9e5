#!/usr/bin/env python3
"""Benchmarks strata against `kubectl kustomize` on generated repositories.

For each size (see bench/gen.py) it generates the repository twice (strata's
layout and plain kustomize overlays, same objects), then times, as the median
of several runs with the peak resident memory of the largest process:

  strata bundle --out DIR        the whole repository (when the command exists)
  strata render                  every target to stdout
  strata render TARGET           12 random targets, each its own series (median and worst)
  strata check                   every rule, JSON report
  strata bundle --cache DIR      cold (empty cache), and warm after a commit that
                                 changes one target (cache filled at the commit before)
  strata diff --from REV --to REV  two commits differing in one component's
                                 version in one environment / in all environments
  kubectl kustomize              every environment's bundle, two at a time (the CI loop)
  kubectl kustomize OVERLAY      one component in one environment
  floor                          reading, parsing and writing strata's output with
                                 yaml_serde, single-threaded (benches/yaml_floor.rs)

and checks on a sample of environments that strata's objects and kustomize's
are the same (parsed, compared as JSON). Commands strata does not have yet
print "not available yet". Figures go to stdout and WORK/results-SIZE.json,
with the 1-minute load average before and after every series and the CPU that
other processes used meanwhile (/proc/stat's busy time less the measured
commands' own, in cores: the load average also counts strata's own threads), then
the goals of the performance issue, met or not. With --readme each size's goal
table is written into docs/performance.md, unless other work used more than
--max-load cores during a series (figures from a busy machine are not published).

Usage: python3 bench/run.py [--sizes small,medium,large,extra-large] [--runs 5] [--work DIR] [--readme [--max-load 0.25]]
Needs: cargo (builds strata and yaml_floor in release mode unless --no-build),
kubectl, git, /usr/bin/time. Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
from collections import Counter
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRATE = HERE.parent


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Building

def cargo_executable(cmd: list[str], name: str) -> Path:
    """Builds with cargo and returns the executable of target `name`."""
    out = subprocess.run(cmd + ["--message-format=json"], cwd=CRATE, check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    exe = None
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == name \
                and msg.get("executable"):
            exe = Path(msg["executable"])
    if exe is None:
        sys.exit(f"error: cargo did not report an executable for `{name}`")
    return exe


def build(bin_dir: Path) -> tuple[Path, Path]:
    """Release builds of `strata` and the `yaml_floor` bench, copied to `bin_dir`
    at once: the target directory may be shared with other checkouts."""
    log("building strata and yaml_floor (release) ...")
    strata = cargo_executable(["cargo", "build", "--release", "--bin", "strata"], "strata")
    bin_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(strata, bin_dir / "strata")
    floor = cargo_executable(["cargo", "bench", "--bench", "yaml_floor", "--no-run"], "yaml_floor")
    shutil.copy2(floor, bin_dir / "yaml_floor")
    return bin_dir / "strata", bin_dir / "yaml_floor"


# ---------------------------------------------------------------------------
# Timing

class Result:
    def __init__(self, name: str):
        self.name = name
        self.times: list[float] = []
        self.rss_kb: list[int] = []
        self.cpu: list[float] = []
        self.error: str | None = None
        self.unavailable = False
        self.resources = 0
        self.bytes = 0
        # The 1-minute load average before and after the series (strata's own threads count in it).
        self.load: list[float] = []
        # Cores other processes kept busy during the series, on average.
        self.other: float | None = None
        # Wall seconds the series took, warm-up included (weights `other` in `combine`).
        self.span = 0.0
        self.note = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def as_json(self) -> dict:
        return {"name": self.name, "median_s": self.median, "runs": len(self.times), "times_s": self.times,
                "cpu_s": statistics.median(self.cpu) if self.cpu else None,
                "peak_rss_kb": max(self.rss_kb) if self.rss_kb else None, "resources": self.resources,
                "bytes": self.bytes, "error": self.error, "unavailable": self.unavailable,
                "rss_kb_runs": self.rss_kb, "load": self.load, "other_cores": self.other, "note": self.note}


def measure(name: str, cmd: list[str], runs: int, budget: float, *, cwd: Path | None = None,
            stdout: Path | None = None, ok: tuple[int, ...] = (0,), before=None, warmup: bool = True) -> Result:
    """Runs `cmd` up to `runs` times (after one warm-up run when it is quick) and
    keeps wall times and peak RSS. A run longer than `budget` seconds ends the series."""
    r = Result(name)
    r.load.append(os.getloadavg()[0])
    busy0, own0, start = busy_seconds(), children_seconds(), time.perf_counter()
    with tempfile.NamedTemporaryFile(prefix="bench-rss-", delete=False) as f:
        rss_file = f.name
    try:
        i = 0
        total = runs + (1 if warmup else 0)
        while i < total:
            if before:
                before()
            out = open(stdout, "wb") if stdout else subprocess.DEVNULL
            t0 = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file, *cmd], cwd=cwd, stdout=out,
                               stderr=subprocess.PIPE)
            dt = time.perf_counter() - t0
            if stdout:
                out.close()
            if p.returncode not in ok:
                r.error = f"exit {p.returncode}: " + p.stderr.decode(errors="replace").strip()[-2000:]
                return r
            is_warmup = warmup and i == 0
            if is_warmup and dt > budget / 4:
                # Slow enough that the warm-up is a measurement.
                is_warmup = False
                total -= 1
            if not is_warmup:
                r.times.append(dt)
                try:
                    rss, user, system = Path(rss_file).read_text().split()[-3:]
                    r.rss_kb.append(int(rss))
                    r.cpu.append(float(user) + float(system))
                except ValueError:
                    pass
            i += 1
            if dt > budget:
                break
    finally:
        os.unlink(rss_file)
        r.load.append(os.getloadavg()[0])
        span = r.span = time.perf_counter() - start
        if busy0 is not None and span > 0:
            r.other = max(0.0, (busy_seconds() - busy0) - (children_seconds() - own0)) / span
    return r


def busy_seconds() -> float | None:
    """CPU seconds every process has used since boot (/proc/stat), or None off Linux."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_seconds() -> float:
    """CPU seconds (user + system) of this script and the commands it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def combine(name: str, parts: list[Result]) -> Result:
    """One row from several series (one per sampled target): the median of the
    series' medians; `note` the worst."""
    r = Result(name)
    ok = [p for p in parts if p.times]
    r.error = next((p.error for p in parts if p.error), None)
    if ok:
        r.times = sorted(p.median for p in ok)
        r.rss_kb = [max(p.rss_kb) for p in ok if p.rss_kb]
        r.cpu = [statistics.median(p.cpu) for p in ok if p.cpu]
        r.load = [parts[0].load[0], parts[-1].load[-1]]
        # Over the whole combined series: each part is short (a dozen runs of a few
        # milliseconds), and /proc/stat counts in 10 ms ticks, so the worst part's figure
        # says more about the tick than about other work.
        timed = [p for p in parts if p.other is not None and p.span > 0]
        span = sum(p.span for p in timed)
        r.other = sum(p.other * p.span for p in timed) / span if span > 0 else None
        r.note = f"worst {fmt_time(max(r.times))}"
    return r


# ---------------------------------------------------------------------------
# Comparing objects

def identity(o: dict) -> tuple:
    api = o.get("apiVersion", "")
    meta = o.get("metadata") or {}
    return (api.rsplit("/", 1)[0] if "/" in api else "", o.get("kind"), meta.get("namespace"), meta.get("name"))


def first_difference(a, b, path: str = "") -> tuple[str, str]:
    """The first path where two objects differ, and what each side has there."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k, "<absent>") != b.get(k, "<absent>"):
                return first_difference(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}/{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}/{i}")
    return path or "/", f"strata {json.dumps(a)[:100]} vs kustomize {json.dumps(b)[:100]}"


def compare(strata_objs: list[dict], kustomize_objs: list[dict]) -> list[tuple[str, str, str]]:
    """Differences as (object, where, what)."""
    s = {identity(o): o for o in strata_objs}
    k = {identity(o): o for o in kustomize_objs}
    problems = []
    if len(s) != len(strata_objs):
        problems.append(("", "duplicates", f"strata output has {len(strata_objs) - len(s)} duplicate identities"))
    for key in sorted(set(s) | set(k), key=str):
        name = "/".join(x for x in key if x)
        if key not in k:
            problems.append((name, "only in strata", ""))
        elif key not in s:
            problems.append((name, "only in kustomize", ""))
        elif s[key] != k[key]:
            problems.append((name, *first_difference(s[key], k[key])))
    return problems


def yaml_to_json(floor: Path, path: Path) -> list[dict]:
    out = subprocess.run([str(floor), "to-json", str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# ---------------------------------------------------------------------------
# One size

def has_command(strata: Path, name: str) -> bool:
    p = subprocess.run([str(strata), name, "--help"], capture_output=True)
    return p.returncode == 0


def has_flag(strata: Path, command: str, flag: str) -> bool:
    p = subprocess.run([str(strata), command, "--help"], capture_output=True, text=True)
    return p.returncode == 0 and flag in p.stdout


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def run_size(size: str, a, strata: Path, floor: Path) -> dict:
    load_before = os.getloadavg()[0]
    work = a.work / size
    meta_path = work / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    if a.regenerate or meta.get("seed") != a.seed or not meta.get("history") or meta.get("patches") != a.patches:
        log(f"[{size}] generating ...")
        cmd = [sys.executable, str(HERE / "gen.py"), "--size", size, "--seed", str(a.seed), "--out", str(work), "--git"]
        if not a.patches:
            cmd.append("--no-patches")
        subprocess.run(cmd, check=True)
        meta = json.loads(meta_path.read_text())
    repo = work / "strata"
    kust = work / "kustomize"
    scratch = work / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    # The benchmarked tree is the base commit; the diff compares tagged commits.
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "bench-base"], check=True)
    envs: list[str] = meta["environments"]
    comps: list[str] = meta["components"]
    one_target = f"{comps[len(comps) // 2]}/{envs[-1]}"
    results: dict[str, Result] = {}
    runs, budget = a.runs, a.budget
    S = str(strata)

    # strata render, everything: also the floor's input and the check's strata side.
    log(f"[{size}] strata render (everything) ...")
    render_out = scratch / "render-all.yaml"
    r = measure("strata render (everything, to a file)", [S, "render", "--repo", str(repo)], runs, budget,
                stdout=render_out)
    r.resources = meta["resources"]
    r.bytes = render_out.stat().st_size if render_out.exists() else 0
    total_bytes = r.bytes
    results["render_all"] = r

    if has_command(strata, "bundle"):
        log(f"[{size}] strata bundle ...")
        out_dir = scratch / "bundle"
        r = measure("strata bundle --out DIR (everything)", [S, "bundle", "--repo", str(repo), "--out", str(out_dir)],
                    runs, budget, before=lambda: shutil.rmtree(out_dir, ignore_errors=True))
        r.resources = meta["resources"]
        r.bytes = sum(f.stat().st_size for f in out_dir.rglob("*.yaml")) if out_dir.exists() else 0
    else:
        r = Result("strata bundle --out DIR (everything)")
        r.unavailable = True
    results["bundle"] = r

    # One target: a sample of 12, each its own series (a target whose component depends on
    # others used to cost far more than one without).
    rng = random.Random(f"{size}/{a.seed}/targets")
    sample_targets = [f"{rng.choice(comps)}/{rng.choice(envs)}" for _ in range(12)]
    log(f"[{size}] strata render TARGET, {len(sample_targets)} random targets ...")
    one_out = scratch / "render-one.yaml"
    per_target = [measure(f"strata render {t}", [S, "render", "--repo", str(repo), t], runs, budget, stdout=one_out)
                  for t in sample_targets]
    r = combine(f"strata render TARGET, {len(sample_targets)} random targets", per_target)
    r.resources = 5
    results["render_one"] = r

    if has_command(strata, "check"):
        log(f"[{size}] strata check (all rules) ...")
        r = measure("strata check (all rules)", [S, "check", "--repo", str(repo), "--format", "json"], runs, budget,
                    ok=(0, 1))
        r.resources = meta["resources"]
    else:
        r = Result("strata check (all rules)")
        r.unavailable = True
    results["check"] = r

    # The render cache: a cold bundle (empty cache), and a warm one after a commit that
    # changes one target (the cache filled at the commit before).
    cache, pristine, out_dir = scratch / "cache", scratch / "cache-base", scratch / "bundle-cached"
    bundle_cached = [S, "bundle", "--repo", str(repo), "--out", str(out_dir), "--cache", str(cache)]
    if results["bundle"].times and has_flag(strata, "bundle", "--cache"):
        log(f"[{size}] strata bundle --cache, cold and warm ...")

        def cold():
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(out_dir, ignore_errors=True)
        results["bundle_cold"] = measure("strata bundle --cache DIR, cold (empty cache)", bundle_cached, runs, budget,
                                         before=cold)
        cold()
        subprocess.run(bundle_cached, check=True, capture_output=True)
        shutil.rmtree(pristine, ignore_errors=True)
        shutil.copytree(cache, pristine)
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "bench-one"], check=True)

        def warm():
            shutil.rmtree(cache, ignore_errors=True)
            shutil.copytree(pristine, cache)
            shutil.rmtree(out_dir, ignore_errors=True)
        results["bundle_warm"] = measure("strata bundle --cache DIR, warm, after a one-target change",
                                         bundle_cached, runs, budget, before=warm)
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", "bench-base"], check=True)
    else:
        for key in ("bundle_cold", "bundle_warm"):
            results[key] = Result(f"strata bundle --cache DIR ({key.split('_')[1]})")
            results[key].unavailable = True

    for key, to in (("diff_one", "bench-one"), ("diff_all", "bench-all")):
        label = {"diff_one": "1 target", "diff_all": "1 component, all envs"}[key]
        name = f"strata diff --from bench-base --to {to} ({label})"
        if has_command(strata, "diff"):
            log(f"[{size}] {name} ...")
            r = measure(name, [S, "diff", "--repo", str(repo), "--from", "bench-base", "--to", to], runs, budget,
                        ok=(0, 1))
        else:
            r = Result(name)
            r.unavailable = True
        results[key] = r

    # kubectl kustomize: every environment's bundle, two at a time.
    log(f"[{size}] kubectl kustomize, {len(envs)} environment bundles, {a.jobs} at a time ...")
    kout = scratch / "kustomize"
    kout.mkdir()
    jobs = scratch / "kustomize-jobs.txt"
    jobs.write_text("".join(f"{kust / 'envs' / e} {kout / (e.replace('/', '_') + '.yaml')}\n" for e in envs))
    loop = ["sh", "-c", f"xargs -P{a.jobs} -n2 sh -c 'kubectl kustomize \"$0\" > \"$1\"' < {jobs}"]
    r = measure(f"kubectl kustomize, {len(envs)} environment bundles, {a.jobs} at a time", loop,
                a.kustomize_runs or runs, budget)
    r.resources = meta["resources"]
    r.bytes = sum(f.stat().st_size for f in kout.glob("*.yaml"))
    results["kustomize_all"] = r

    kustomize_one = []
    for t in sample_targets:
        comp_one, env_one = t.split("/", 1)
        kustomize_one.append(measure(f"kubectl kustomize {t} (one overlay)",
                                     ["kubectl", "kustomize", str(kust / "overlays" / env_one / comp_one)], runs,
                                     budget))
    r = combine(f"kubectl kustomize OVERLAY, the same {len(sample_targets)} targets", kustomize_one)
    r.resources = 5
    results["kustomize_one"] = r
    # Per target: how many times faster strata renders it than kustomize builds its overlay.
    speedups = [k.median / s_.median for s_, k in zip(per_target, kustomize_one) if s_.times and k.times]

    # The floor: yaml_serde parse + emit of strata's output, one thread.
    log(f"[{size}] floor ...")
    floor_in = [str(p) for p in sorted((scratch / "bundle").rglob("*.yaml"))] if results["bundle"].times else []
    if not floor_in:
        floor_in = [str(render_out)]
    r = measure("floor: yaml_serde parse+emit of the same output, 1 thread",
                [str(floor), "parse-emit", "--out", str(scratch / "floor.yaml"), *floor_in], runs, budget)
    r.resources = meta["resources"]
    r.bytes = sum(Path(p).stat().st_size for p in floor_in)
    results["floor"] = r

    # Same objects? A sample of environments: first, middle, last.
    sample = sorted({envs[0], envs[len(envs) // 2], envs[-1]}, key=envs.index)
    check = {"environments": sample, "targets": len(sample) * len(comps), "problems": []}
    log(f"[{size}] checking strata against kustomize on {', '.join(sample)} ...")
    for e in sample:
        p = subprocess.run([S, "render", "--repo", str(repo), f"@{e}", "--format", "json"], capture_output=True, text=True)
        if p.returncode != 0:
            check["problems"].append((f"@{e}", "strata render failed", p.stderr.strip()[-500:]))
            continue
        kfile = kout / (e.replace("/", "_") + ".yaml")
        if not kfile.exists() or kfile.stat().st_size == 0:
            check["problems"].append((f"@{e}", "no kustomize output", ""))
            continue
        check["problems"] += [(f"@{e} {o}", w, x) for o, w, x in compare(json.loads(p.stdout), yaml_to_json(floor, kfile))]
        if results["bundle"].times:
            # The bundle's files for this environment hold the same objects.
            files = sorted((scratch / "bundle").glob(f"{e}/**/*.yaml")) or sorted((scratch / "bundle").glob(f"{e}*.yaml"))
            objs = [o for f in files for o in yaml_to_json(floor, f)]
            check["problems"] += [(f"@{e} (bundle) {o}", w, x) for o, w, x in compare(objs, yaml_to_json(floor, kfile))]
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "main"], check=True)
    return {"size": size, "meta": meta, "one_target": one_target, "total_bytes": total_bytes,
            "sample_targets": sample_targets, "speedups": speedups,
            "load": [load_before, os.getloadavg()[0]],
            "results": {k: v.as_json() for k, v in results.items()}, "check": check}


# ---------------------------------------------------------------------------
# Report

ROWS = ["bundle", "render_all", "render_one", "check", "diff_one", "diff_all", "bundle_cold", "bundle_warm",
        "kustomize_all", "kustomize_one", "floor"]


def goals(res: dict) -> list[tuple[str, bool | None, str]]:
    """The issue's table: (goal, met, figure); met is None when not measured."""
    R = res["results"]

    def t(key):
        r = R.get(key)
        return r["median_s"] if r and not r["unavailable"] and not r["error"] else None

    def goal(name, value, ok, detail):
        return (name, None, "not measured") if value is None else (name, ok(value), detail(value))

    bundle, floor, out = t("bundle"), t("floor"), R["bundle"]["bytes"]
    ratio = lambda a, b: a / b if a and b else None  # noqa: E731
    rss = R["bundle"].get("rss_kb_runs") or []
    mem = [kb * 1024 / out for kb in rss] if out else []
    one = R["render_one"]
    worst = max(one["times_s"]) if one["times_s"] else None
    speedups = res.get("speedups") or []
    check_rss, bundle_rss = R.get("check", {}).get("peak_rss_kb"), R["bundle"].get("peak_rss_kb")
    return [
        goal("bundle ≤ 0.6× the floor", ratio(bundle, floor), lambda x: x <= 0.6, lambda x: f"{x:.2f}×"),
        goal("bundle ≥ 60× faster than the kubectl kustomize loop", ratio(t("kustomize_all"), bundle),
             lambda x: x >= 60, lambda x: f"{x:.0f}×"),
        goal("bundle peak memory ≤ 2.5× its output on every run", max(mem) if mem else None, lambda x: x <= 2.5,
             lambda x: f"{min(mem):.2f}–{x:.2f}× over {len(mem)} runs"),
        goal("render TARGET ≤ 5 ms median, ≤ 10 ms worst", worst, lambda x: x <= 0.010 and t("render_one") <= 0.005,
             lambda x: f"{fmt_time(t('render_one'))} median, {fmt_time(x)} worst"),
        goal("render TARGET ≥ 20× kubectl kustomize of its overlay, every target", min(speedups) if speedups else None,
             lambda x: x >= 20, lambda x: f"{statistics.median(speedups):.1f}× median, {x:.1f}× worst"),
        goal("check (all rules) ≤ 1.0× bundle, within bundle's memory", ratio(t("check"), bundle),
             lambda x: x <= 1.0 and bool(check_rss and bundle_rss and check_rss <= bundle_rss),
             lambda x: f"{x:.2f}×, {(check_rss or 0) / 1024:.0f} MB vs {(bundle_rss or 0) / 1024:.0f} MB"),
        goal("diff, one target changed, ≤ 0.1× bundle", ratio(t("diff_one"), bundle), lambda x: x <= 0.1,
             lambda x: f"{x:.2f}×"),
        goal("warm-cache bundle after a one-target change ≤ 0.1× a cold bundle", ratio(t("bundle_warm"), bundle),
             lambda x: x <= 0.1,
             lambda x: f"{x:.2f}× (cache cold: {ratio(t('bundle_cold'), bundle) or 0:.2f}× a bundle without cache)"),
    ]


def high_load(res: dict, max_load: float) -> list[str]:
    """The series during which other processes kept more than `max_load` cores busy."""
    return [f"{r['name']} (other work {r['other_cores']:.2f} cores, load {max(r['load']):.1f})"
            for r in res["results"].values() if r.get("other_cores") is not None and r["other_cores"] > max_load]


def readme_table(res: dict) -> str:
    """The figures of docs/performance.md for one size: the issue's table, dated."""
    m = res["meta"]
    lines = [f"<!-- bench:{res['size']}:begin -->",
             f"{res['size']}: {len(m['components']):,} components × {len(m['environments'])} environments = "
             f"{m['targets']:,} targets, {m['resources']:,} objects, {res['total_bytes'] / 1e6:.1f} MB of YAML; "
             f"`bench/run.py` on {time.strftime('%Y-%m-%d')}, {res['machine']}", "",
             "| goal | measured | |", "| --- | --: | --- |"]
    for name, ok, detail in goals(res):
        lines.append(f"| {name} | {detail} | {'met' if ok else 'not met' if ok is False else '—'} |")
    lines.append(f"<!-- bench:{res['size']}:end -->")
    return "\n".join(lines)


def write_readme(res: dict, readme: Path) -> None:
    text = readme.read_text()
    block = readme_table(res)
    begin, end = f"<!-- bench:{res['size']}:begin -->", f"<!-- bench:{res['size']}:end -->"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    readme.write_text(text)


def report(res: dict) -> str:
    m = res["meta"]
    R = res["results"]
    lines = [f"## {res['size']}: {len(m['components'])} components × {len(m['environments'])} environments = "
             f"{m['targets']:,} targets, {m['resources']:,} resources, {res['total_bytes'] / 1e6:.1f} MB of YAML",
             ""]
    w = 66
    lines.append(f"{'':<{w}} {'median':>10} {'CPU':>9} {'runs':>4} {'peak RSS':>9} {'resources/s':>12} {'MB/s':>7}"
                 f" {'load (other)':>16}")
    for key in ROWS:
        r = R.get(key)
        if r is None:
            continue
        if r["unavailable"]:
            lines.append(f"{r['name']:<{w}} not available yet")
            continue
        if r["error"]:
            lines.append(f"{r['name']:<{w}} FAILED: {r['error'].splitlines()[-1] if r['error'] else ''}")
            continue
        t = r["median_s"]
        rss = f"{r['peak_rss_kb'] / 1024:.0f} MB" if r["peak_rss_kb"] else "—"
        rps = fmt_int(r["resources"] / t) if r["resources"] and t else "—"
        mbs = f"{r['bytes'] / 1e6 / t:.1f}" if r["bytes"] and t else "—"
        load = "→".join(f"{x:.1f}" for x in r["load"]) if r.get("load") else "—"
        if r.get("other_cores") is not None:
            load += f" ({r['other_cores']:.2f})"
        note = f"  ({r['note']})" if r.get("note") else ""
        lines.append(f"{r['name']:<{w}} {fmt_time(t):>10} {fmt_time(r['cpu_s']):>9} {r['runs']:>4} {rss:>9} {rps:>12} "
                     f"{mbs:>7} {load:>16}{note}")
    lines.append(f"(median wall time, median CPU time user+sys, peak RSS of the largest process; load: the 1-minute "
                 f"load average before→after each series, which counts strata's own threads, and in parentheses the cores other "
                 f"processes kept busy meanwhile; whole size "
                 f"{res['load'][0]:.1f} before, {res['load'][1]:.1f} after)")
    lines.append("")

    for name, ok, detail in goals(res):
        mark = {True: "met", False: "NOT met", None: "—"}[ok]
        lines.append(f"  [{mark:>7}] {name}: {detail}")
    c = res["check"]
    lines.append("")
    if c["problems"]:
        lines.append(f"  check: strata and kustomize DIFFER on {len(c['problems'])} objects "
                     f"(environments {', '.join(c['environments'])}); where, how often, an example:")
        where = Counter(w for _, w, _ in c["problems"])
        for w, n in where.most_common(8):
            obj, _, what = next(p for p in c["problems"] if p[1] == w)
            lines.append(f"    {w} ×{n}  e.g. {obj}: {what}")
    else:
        lines.append(f"  check: same objects from strata and kustomize for {c['targets']} targets "
                     f"(environments {', '.join(c['environments'])})")
    return "\n".join(lines)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    kubectl = subprocess.run(["kubectl", "version", "--client"], capture_output=True, text=True).stdout
    kz = next((l.split(":", 1)[1].strip() for l in kubectl.splitlines() if l.startswith("Kustomize")), "?")
    commit = subprocess.run(["git", "-C", str(CRATE), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return (f"machine: {cpu or platform.processor()}, {os.cpu_count()} cores, {platform.system()}; "
            f"strata {commit}; kustomize {kz}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small,medium,large")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5, help="measured runs per command (median reported)")
    ap.add_argument("--kustomize-runs", type=int, default=0, help="runs of the kustomize loop (default: --runs)")
    ap.add_argument("--budget", type=float, default=60.0, help="a run longer than this (seconds) ends its series")
    ap.add_argument("--jobs", type=int, default=2, help="kubectl kustomize processes at a time")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "strata-bench")
    ap.add_argument("--no-build", action="store_true", help="use the binaries of the last run (WORK/bin)")
    ap.add_argument("--regenerate", action="store_true", help="generate the repositories even if present")
    ap.add_argument("--no-patches", dest="patches", action="store_false",
                    help="generate repositories without kustomization.yaml patches")
    ap.add_argument("--readme", action="store_true",
                    help="write each size's figures into docs/performance.md (refused when the load was high)")
    ap.add_argument("--max-load", type=float, default=0.25,
                    help="--readme refuses figures of a series during which other processes kept more than this many "
                         "cores busy")
    a = ap.parse_args()
    for tool in ("kubectl", "git"):
        if not shutil.which(tool):
            sys.exit(f"error: `{tool}` is needed")
    if not Path("/usr/bin/time").exists():
        sys.exit("error: /usr/bin/time (GNU time) is needed for peak memory")
    a.work.mkdir(parents=True, exist_ok=True)
    if a.no_build:
        strata, floor = a.work / "bin" / "strata", a.work / "bin" / "yaml_floor"
        if not (strata.exists() and floor.exists()):
            sys.exit(f"error: no binaries in {a.work / 'bin'}; run once without --no-build")
    else:
        strata, floor = build(a.work / "bin")
    print(machine())
    print(f"command: python3 bench/run.py --sizes {a.sizes} --seed {a.seed} --runs {a.runs}"
          + (f" --kustomize-runs {a.kustomize_runs}" if a.kustomize_runs else "")
          + ("" if a.patches else " --no-patches"))
    print()
    status = 0
    for size in a.sizes.split(","):
        res = run_size(size, a, strata, floor)
        res["machine"] = machine()
        (a.work / f"results-{size}.json").write_text(json.dumps(res, indent=1) + "\n")
        print(report(res))
        print(flush=True)
        if a.readme:
            busy = high_load(res, a.max_load)
            if busy:
                print(f"refusing to write {size}'s figures into docs/performance.md: measured under load above "
                      f"{a.max_load}: {'; '.join(busy)}", file=sys.stderr)
                status = 1
            else:
                write_readme(res, CRATE / "docs" / "performance.md")
                log(f"[{size}] figures written into docs/performance.md")
    return status


if __name__ == "__main__":
    sys.exit(main())

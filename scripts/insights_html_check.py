#!/usr/bin/env python3
"""Renders an `idp insights --html` report in headless Chromium and checks that its charts drew.

Usage: python3 scripts/insights_html_check.py REPORT.html EXPECT.json

EXPECT.json maps figure ids to the exact number of marks (elements with class "mark") that each
figure must hold after the page's script ran, e.g. {"chart-weekly-deployments": 14, ...}.

Passes (exit 0, one OK line per chart) when the dumped DOM has <body data-ready="true"> and no
data-error, every expected figure has data-drawn="true", data-marks equal to the expected count
and that many class="mark" elements inside it, and every <figure> holds an <svg>.
Exit 1: a check failed. Exit 2: bad usage, or no Chromium ($CHROMIUM, chromium, chromium-browser,
google-chrome) found. Python 3 standard library only.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser

TIMEOUT_S = 60
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def find_chromium():
    env = os.environ.get("CHROMIUM")
    if env:
        return shutil.which(env) or (env if os.access(env, os.X_OK) else None)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def dump_dom(chromium, report):
    profile = tempfile.mkdtemp(prefix="idp-insights-chromium-")
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom",
           "file://" + os.path.abspath(report)]
    try:
        # Own process group, so that a timeout ends Chromium's helper processes too.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise CheckError(f"chromium did not finish within {TIMEOUT_S} s")
        if proc.returncode != 0 or not out.strip():
            tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
            raise CheckError(f"chromium exited {proc.returncode} without a DOM: " + " | ".join(tail))
        return out.decode("utf-8", "replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class CheckError(Exception):
    pass


class DomScan(HTMLParser):
    """Collects <body> attributes and, per <figure>, its attributes, its marks and its <svg> count."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.body = None
        self.figures = {}  # id -> {"attrs", "marks", "svgs"}
        self.order = []
        self.current = None  # id of the open figure
        self.depth = 0  # open elements inside the current figure

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "body" and self.body is None:
            self.body = a
        if self.current is None:
            if tag == "figure":
                fid = a.get("id") or f"(figure #{len(self.order) + 1} without id)"
                self.figures[fid] = {"attrs": a, "marks": 0, "svgs": 0}
                self.order.append(fid)
                self.current, self.depth = fid, 0
            return
        fig = self.figures[self.current]
        if "mark" in a.get("class", "").split():
            fig["marks"] += 1
        if tag == "svg":
            fig["svgs"] += 1
        if tag not in VOID:
            self.depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.current is not None and tag not in VOID and self.depth > 0:
            self.depth -= 1

    def handle_endtag(self, tag):
        if self.current is None:
            return
        if self.depth == 0:
            if tag == "figure":
                self.current = None
            return
        self.depth -= 1


def check(dom, expect):
    scan = DomScan()
    scan.feed(dom)
    scan.close()
    problems, oks = [], []
    body = scan.body or {}
    if "data-error" in body:
        problems.append(f"the page's script failed: body data-error={body['data-error']!r}")
    if body.get("data-ready") != "true":
        problems.append(f"body data-ready is {body.get('data-ready')!r}, not 'true' (the page's script did not "
                        "finish: a syntax error, or an error before its try block)")
    for fid, want in expect.items():
        fig = scan.figures.get(fid)
        if fig is None:
            problems.append(f"{fid}: no <figure id={fid!r}> in the page")
            continue
        a, errs = fig["attrs"], []
        if a.get("data-drawn") != "true":
            errs.append(f"data-drawn={a.get('data-drawn')!r}")
        if a.get("data-marks") != str(want):
            errs.append(f"data-marks={a.get('data-marks')!r}, expected {want}")
        if fig["marks"] != want:
            errs.append(f"{fig['marks']} elements with class 'mark' in the DOM, expected {want}")
        if fig["svgs"] == 0:
            errs.append("no <svg>")
        if errs:
            problems.append(f"{fid}: " + "; ".join(errs))
        else:
            oks.append(f"OK {fid}: drawn, {want} marks")
    for fid in scan.order:
        if fid not in expect and scan.figures[fid]["svgs"] == 0:
            problems.append(f"{fid}: no <svg>")
    return oks, problems


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    report, expect_path = argv[1], argv[2]
    try:
        with open(expect_path, encoding="utf-8") as f:
            expect = json.load(f)
        if not isinstance(expect, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in expect.values()):
            raise ValueError("expected an object of figure id -> non-negative integer")
        if not os.path.isfile(report):
            raise ValueError(f"{report}: no such file")
    except (OSError, ValueError) as e:
        print(f"insights_html_check: {e}", file=sys.stderr)
        return 2
    chromium = find_chromium()
    if not chromium:
        print("insights_html_check: no Chromium found ($CHROMIUM, chromium, chromium-browser, google-chrome); "
              "scripts/install-tools.sh installs Debian's chromium", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        dom = dump_dom(chromium, report)
        oks, problems = check(dom, expect)
    except CheckError as e:
        print(f"FAIL {report}: {e}", file=sys.stderr)
        return 1
    for line in oks:
        print(line)
    if problems:
        for p in problems:
            print(f"FAIL {p}", file=sys.stderr)
        return 1
    print(f"insights_html_check: {report}: {len(oks)} charts OK ({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

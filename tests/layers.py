#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""tests/layers.py: the structure docs/architecture.md describes, checked on the sources.

One PASS/FAIL line per rule:
  layers-one-way        no cycle of calls between the files of agent/ and lib/ (a file
                        calling a function another file defines, comments left out)
  layers-lib-no-daemon  lib/ includes no sd-event, no libbpf and no agent/ header
  layers-functions-80   no function in agent/, lib/ or cli/ longer than 80 lines
Exits non-zero if any rule fails.
"""
import glob
import os
import re
import sys

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(SRC)
failed = 0


def report(name, problems):
    global failed
    if problems:
        failed += 1
        print("FAIL %s: %s" % (name, "; ".join(problems[:10])))
    else:
        print("PASS %s" % name)


def text(path):
    with open(path) as f:
        return re.sub(r"/\*.*?\*/|//[^\n]*", "", f.read(), flags=re.S)


files = sorted(glob.glob("agent/*.c") + glob.glob("lib/*.c"))
defs = {}
for f in files:
    for m in re.finditer(r"^(?!static)[a-z][\w \*]*?\b(\w+)\(", text(f), re.M):
        defs[m.group(1)] = f
edges = {f: set() for f in files}
for f in files:
    s = text(f)
    # calls through a pointer (a->ops.name(...)) are not calls of the file defining name
    s = re.sub(r"(->|\.)\s*\w+\s*\(", "(", s)
    for name, df in defs.items():
        if df != f and re.search(r"\b" + name + r"\s*\(", s):
            edges[f].add(df)


def cycles():
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(" <-> ".join(sorted(comp)))

    for v in files:
        if v not in index:
            visit(v)
    return out


report("layers-one-way", cycles())

bad = []
for f in sorted(glob.glob("lib/*.[ch]")):
    for m in re.finditer(r'#include [<"]([^>"]+)[>"]', open(f).read()):
        inc = m.group(1)
        if "sd-event" in inc or inc.startswith("bpf/") or \
                os.path.exists(os.path.join("agent", inc)):
            bad.append("%s includes %s" % (f, inc))
report("layers-lib-no-daemon", bad)

long_ones = []
for f in sorted(glob.glob("agent/*.c") + glob.glob("lib/*.c") + glob.glob("cli/*.c")):
    lines = open(f).read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if line == "{":
            start = i
        elif line == "}" and start is not None:
            if i - start > 80:
                long_ones.append("%s:%d (%d lines)" % (f, start + 1, i - start))
            start = None
report("layers-functions-80", long_ones)
sys.exit(1 if failed else 0)

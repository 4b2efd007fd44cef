#!/usr/bin/env python3
"""Report source files over a line limit and pairs of modules of one crate that import each
other (`use crate::a` in b and `use crate::b` in a; `super::` in a child counts as its parent).
Test modules (tests.rs, *_tests.rs, tests/) are skipped. Exit status 1 if any is found.

    python3 scripts/check/cycles.py [--max-lines N]
"""
import re
import sys
from pathlib import Path

limit = 600
if "--max-lines" in sys.argv:
    limit = int(sys.argv[sys.argv.index("--max-lines") + 1])
root = Path(__file__).resolve().parents[2]
bad = False
for crate in sorted((root / "crates").iterdir()):
    src = crate / "src"
    if not src.is_dir():
        continue
    deps = {}
    for f in sorted(src.rglob("*.rs")):
        rel = f.relative_to(src)
        if f.name == "tests.rs" or f.name.endswith("_tests.rs") or "tests" in rel.parts[:-1]:
            continue
        text = f.read_text()
        n = text.count("\n")
        if n > limit:
            print(f"{f.relative_to(root)}: {n} lines (over {limit})")
            bad = True
        parts = list(rel.with_suffix("").parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        me = "::".join(parts)
        # Code outside inline test modules only.
        code = re.split(r"#\[cfg\(test\)\]\s*mod \w+ \{", text)[0]
        code = "\n".join(l for l in code.split("\n") if not l.lstrip().startswith("//"))
        used = set()
        for m in re.finditer(r"\bcrate::([a-z_][a-z0-9_]*)", code):
            used.add(m.group(1))
        if re.search(r"\bsuper::", code) and len(parts) > 1:
            used.add(parts[-2] if len(parts) > 1 else "")
        deps[me] = {u for u in used if u != me and u}
    for a, ua in deps.items():
        for b in ua:
            top_a = a.split("::")[0]
            if b in deps and top_a in deps.get(b, set()) and a < b:
                print(f"{crate.name}: {a} and {b} import each other")
                bad = True
sys.exit(1 if bad else 0)

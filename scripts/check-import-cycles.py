#!/usr/bin/env python3
"""Fails when the source files of one crate refer to each other in a cycle.

For every crate root under crates/*/src (lib.rs, main.rs, bin/*.rs) the module tree is
followed through its `mod x;` declarations, and every path a file names (`use crate::a::b`,
`use super::x`, `crate::a::f()` in code, `child::f()` for a child module) becomes an edge
from that file to the file defining the module the path lands in. Names re-exported with
`pub use` are followed to the file that defines them. A module's references into its own
descendants (the `mod` declarations, the `pub use` facade, calls like `child::f()`) are not
edges: the module tree already orders parent above child, so only references that go up or
sideways can close a cycle. A cycle is printed as `a.rs -> b.rs -> a.rs`.

Usage: scripts/check-import-cycles.py [--allow CRATE:FILE,FILE ...] [ROOT]
       scripts/check-import-cycles.py --self-test
Python 3 standard library only.
"""

import argparse
import os
import re
import sys

TOKEN = re.compile(
    r"""
    (?P<ident>r\#[A-Za-z_]\w*|[A-Za-z_]\w*)
  | (?P<path>::)
  | (?P<punct>[{}();,*<>=\#\[\]!&.:'-])
  | (?P<other>\S)
    """,
    re.VERBOSE,
)


def strip(text):
    """Source with comments, string and char literals blanked out (lengths kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "rb" and re.match(r"(?:br|r)#*\"", text[i:i + 260]) and (
            i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            m = re.match(r"(?:br|r)(#*)\"", text[i:])
            end = text.find('"' + m.group(1), i + m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"' or (c == "b" and text.startswith('b"', i)):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'", text[i:])
            if m:
                out.append(" " * m.end())
                i += m.end()
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokens(text):
    return [(m.lastgroup, m.group()) for m in TOKEN.finditer(strip(text))]


class Crate:
    def __init__(self, name, root):
        self.name = name
        self.root = root
        self.modules = {}  # module path (tuple) -> file
        self.files = {}  # file -> module path of the file
        self.reexports = {}  # module path -> {name: absolute target path}
        self.uses = []  # (file, module path, segments, is_pub_use)

    def load(self, path, module):
        if module in self.modules or not os.path.isfile(path):
            return
        self.modules[module] = path
        self.files[path] = module
        with open(path, encoding="utf-8") as f:
            toks = tokens(f.read())
        base = os.path.dirname(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        if module and stem not in ("mod",):
            base = os.path.join(base, stem)
        stack = []  # inline modules: (name, depth at which it opened)
        depth = 0
        i = 0
        while i < len(toks):
            kind, tok = toks[i]
            here = module + tuple(name for name, _ in stack)
            if tok == "{":
                depth += 1
            elif tok == "}":
                depth -= 1
                if stack and stack[-1][1] == depth:
                    stack.pop()
            elif kind == "ident" and tok == "mod" and i + 2 < len(toks) and toks[i + 1][0] == "ident":
                name = toks[i + 1][1]
                if toks[i + 2][1] == ";":
                    sub = os.path.join(base, *[n for n, _ in stack])
                    for cand in (os.path.join(sub, name + ".rs"), os.path.join(sub, name, "mod.rs")):
                        if os.path.isfile(cand):
                            self.load(cand, here + (name,))
                            break
                    i += 3
                    continue
                if toks[i + 2][1] == "{":
                    self.modules.setdefault(here + (name,), path)
                    stack.append((name, depth))
                    depth += 1
                    i += 3
                    continue
            elif kind == "ident" and tok == "use" and not (i > 0 and toks[i - 1][1] == "::"):
                is_pub = is_pub_before(toks, i)
                j = i + 1
                while j < len(toks) and toks[j][1] != ";":
                    j += 1
                for segs, alias in expand(toks[i + 1:j]):
                    self.uses.append((path, here, segs, is_pub, alias))
                i = j + 1
                continue
            elif kind == "ident" and i + 1 < len(toks) and toks[i + 1][0] == "path" and not (
                i > 0 and toks[i - 1][0] == "path"
            ):
                segs = [tok]
                j = i + 1
                while j + 1 < len(toks) and toks[j][0] == "path" and toks[j + 1][0] == "ident":
                    segs.append(toks[j + 1][1])
                    j += 2
                self.uses.append((path, here, segs, False, None))
                i = j
                continue
            i += 1

    def base(self, here, segs):
        """The absolute module path a path starts from, or None for external crates."""
        first = segs[0]
        if first == "crate":
            return (), segs[1:]
        if first in ("super", "self"):
            mod = list(here)
            rest = list(segs)
            while rest and rest[0] in ("super", "self"):
                if rest.pop(0) == "super" and mod:
                    mod.pop()
            return tuple(mod), rest
        if here + (first,) in self.modules:
            return here, segs
        return None, segs

    def resolve(self, here, segs, hops=0):
        start, rest = self.base(here, segs)
        if start is None:
            return None
        mod = start
        for i, seg in enumerate(rest):
            if mod + (seg,) in self.modules:
                mod = mod + (seg,)
                continue
            exported = self.reexports.get(mod, {})
            if seg in exported and exported[seg] is None:
                return None
            target = exported.get(seg)
            if target is not None and hops < 16:
                return self.resolve(mod, ["crate", *target, *rest[i + 1:]], hops + 1) or self.modules[mod]
            break
        return self.modules.get(mod)

    def descends(self, target, path):
        """Whether file `target` holds a module below the module of file `path`."""
        outer, inner = self.files[path], self.files[target]
        return len(inner) > len(outer) and inner[: len(outer)] == outer

    def absolute(self, here, segs):
        start, rest = self.base(here, segs)
        return None if start is None else start + tuple(rest)

    def graph(self):
        for _, here, segs, is_pub, alias in self.uses:
            if is_pub and segs and segs[-1] != "*":
                # None: re-exported from another crate, so a path through it leaves this one.
                target = self.absolute(here, segs)
                self.reexports.setdefault(here, {})[alias or segs[-1]] = target
        edges = {f: set() for f in self.files}
        for path, here, segs, is_pub, _ in self.uses:
            segs = [s for s in segs if s != "*"]
            if not segs:
                continue
            target = self.resolve(here, segs)
            if target and target != path and not self.descends(target, path):
                edges.setdefault(path, set()).add(target)
        return edges


def is_pub_before(toks, i):
    j = i - 1
    if j >= 0 and toks[j][1] == ")":
        while j >= 0 and toks[j][1] != "(":
            j -= 1
        j -= 1
    return j >= 0 and toks[j][1] == "pub"


def expand(toks):
    """The paths of one use tree: `a::{b, c::d as e}` -> [(a,b), None], [(a,c,d), e]."""
    out = []

    def tree(i, prefix):
        segs = list(prefix)
        while i < len(toks):
            kind, tok = toks[i]
            if tok == "{":
                i += 1
                while i < len(toks) and toks[i][1] != "}":
                    i = tree(i, segs)
                    if i < len(toks) and toks[i][1] == ",":
                        i += 1
                return i + 1
            if tok in (",", "}"):
                break
            if kind == "ident" and tok == "as":
                out.append((segs, toks[i + 1][1] if i + 1 < len(toks) else None))
                return i + 2
            if kind == "ident" or tok == "*":
                if tok != "self" or not segs:
                    segs.append(tok)
            i += 1
        if segs:
            out.append((segs, None))
        return i

    tree(0, [])
    return out


def cycles(edges):
    """One cycle per strongly connected component of more than one file (Tarjan)."""
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    found = []
    for comp in comps:
        members = set(comp)
        start = comp[0]
        # Shortest cycle through `start` inside the component (breadth first).
        prev = {start: None}
        queue = [start]
        end = None
        while queue and end is None:
            nxt = []
            for v in queue:
                for w in sorted(edges.get(v, ())):
                    if w == start:
                        end = v
                        break
                    if w in members and w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if end is not None:
                    break
            queue = nxt
        path = [start]
        v = end
        while v is not None and v != start:
            path.append(v)
            v = prev[v]
        path = [start] + list(reversed(path[1:])) + [start]
        found.append((comp, path))
    return found


def self_test():
    """Small crates with and without cycles: the checker's own regression test."""
    import tempfile

    cases = {
        # A sideways cycle through a `use` and a path in code.
        "sideways": ({"lib.rs": "mod a;\nmod b;\n", "a.rs": "use crate::b::B;\npub struct A;\n",
                      "b.rs": "pub struct B;\nfn f() { crate::a::A; }\n"}, True),
        # Up through `super` inside a directory module, grouped imports.
        "grouped": ({"lib.rs": "mod k;\n", "k/mod.rs": "mod p;\nmod w;\npub struct O;\n",
                     "k/p.rs": "use super::{w::{cap, X}, O};\n",
                     "k/w.rs": "pub fn cap() {}\nfn g() { super::p::check(); }\n"}, True),
        # A parent using its children, children using the parent's items: a tree, no cycle.
        "tree": ({"lib.rs": "mod a;\npub use a::A;\npub fn helper() {}\nfn f() { a::g(); }\n",
                  "a.rs": "use crate::helper;\npub struct A;\npub fn g() {}\n"}, False),
        # A re-export is followed to the defining file; comments and strings are not code.
        "reexport": ({"lib.rs": "mod a;\nmod b;\nmod c;\npub use c::C;\n",
                      "a.rs": "use crate::C;\n// crate::b::B\nconst S: &str = \"crate::b::B\";\n",
                      "b.rs": "use crate::a;\n", "c.rs": "pub struct C;\n"}, False),
        # `use super::*` in an inline test module is the file itself.
        "inline": ({"lib.rs": "mod a;\nmod b;\n", "a.rs": "use crate::b;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
                    "b.rs": "pub fn f() {}\n"}, False),
    }
    failures = 0
    for name, (files, has_cycle) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            for rel, text in files.items():
                path = os.path.join(root, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
            crate = Crate(name, os.path.join(root, "lib.rs"))
            crate.load(os.path.join(root, "lib.rs"), ())
            found = bool(cycles(crate.graph()))
            if found != has_cycle:
                print(f"self-test {name}: expected cycle={has_cycle}, found cycle={found}")
                failures += 1
    print(f"self-test: {len(cases) - failures}/{len(cases)} cases pass")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(__file__), ".."))
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        help="CRATE:FILE[,FILE...]: a known cycle among these files (paths relative to the "
        "crate's src) is reported but does not fail",
    )
    args = parser.parse_args()
    allowed = []
    for spec in args.allow:
        crate, files = spec.split(":", 1)
        allowed.append((crate, set(files.split(","))))
    crates_dir = os.path.join(args.root, "crates")
    failed = False
    for name in sorted(os.listdir(crates_dir)):
        src = os.path.join(crates_dir, name, "src")
        if not os.path.isdir(src):
            continue
        roots = [os.path.join(src, r) for r in ("lib.rs", "main.rs")]
        bins = os.path.join(src, "bin")
        if os.path.isdir(bins):
            roots += [os.path.join(bins, f) for f in sorted(os.listdir(bins)) if f.endswith(".rs")]
        for root in roots:
            if not os.path.isfile(root):
                continue
            crate = Crate(name, root)
            crate.load(root, ())
            for comp, path in cycles(crate.graph()):
                rel = [os.path.relpath(p, src) for p in path]
                members = {os.path.relpath(p, src) for p in comp}
                ok = any(c == name and members <= files for c, files in allowed)
                label = "allowed" if ok else "error"
                print(f"{label}: import cycle in {name}: {' -> '.join(rel)}"
                      + (f" (component: {', '.join(sorted(members))})" if len(members) > len(rel) - 1 else ""))
                failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""MAAS's API handler list (every handler, every action, every documented parameter), read from a
MAAS checkout's source, written as JSON (docs/maas-api-3.7.json; scripts/maas-compat.ts reads it).

Usage:
  python3 scripts/maas-api-list.py --git-dir /path/to/maas/.git --rev 3.7.3 > docs/maas-api-3.7.json
  python3 scripts/maas-api-list.py --checkout /path/to/maas > docs/maas-api-3.7.json

MAAS cannot be imported here (Django, piston3, its database), so this reads the source with
Python's `ast` and applies the rules MAAS applies at import time:
- src/maasserver/urls_api.py: each `x_handler = RestrictedResource(XHandler, ...)` (or
  AdminRestrictedResource / OperationsResource) and the `re_path(regex, x_handler, ...)` that
  routes to it; describe/ lists a handler only when it has `resource_uri` and is not `hidden`
  (maasserver/api/doc.py, _accumulate_api_resources);
- maasserver/api/support.py, OperationsHandlerType: the actions are the CRUD methods
  (read=GET, create=POST, update=PUT, delete=DELETE) the class still has (piston's BaseHandler
  defines all four; a class removes one by setting it to None) and every method decorated with
  `@operation(idempotent, exported_as)` (GET when idempotent, else POST) defined on the class or
  directly on one of its bases and not set to None on the class;
- an action's parameters are the names of its docstring's `@param (type) "name"` lines (MAAS's
  annotated docstrings) or `:param name:` lines, minus URI parameters such as `{system_id}`.
"""

import argparse
import ast
import json
import os
import re
import subprocess
import sys

CRUD = {"read": "GET", "create": "POST", "update": "PUT", "delete": "DELETE"}
RESOURCE_TYPES = {
    "RestrictedResource": "user",
    "AdminRestrictedResource": "admin",
    "OperationsResource": "any",
}
# piston3.handler: BaseHandler defines read/create/update/delete; AnonymousBaseHandler is one.
PISTON_BASES = {"BaseHandler", "AnonymousBaseHandler"}


class Source:
    """Files of one MAAS revision, from a checkout or from a git directory at a revision."""

    def __init__(self, checkout=None, git_dir=None, rev=None):
        self.checkout, self.git_dir, self.rev = checkout, git_dir, rev

    def read(self, path):
        if self.checkout:
            full = os.path.join(self.checkout, path)
            if not os.path.exists(full):
                return None
            with open(full, encoding="utf-8") as f:
                return f.read()
        done = subprocess.run(
            ["git", f"--git-dir={self.git_dir}", "show", f"{self.rev}:{path}"],
            capture_output=True,
            text=True,
        )
        return done.stdout if done.returncode == 0 else None

    def commit(self):
        if self.checkout:
            args = ["git", "-C", self.checkout, "rev-parse", "HEAD"]
        else:
            args = ["git", f"--git-dir={self.git_dir}", "rev-parse", f"{self.rev}^{{commit}}"]
        done = subprocess.run(args, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None


class ClassInfo:
    def __init__(self, module, node):
        self.module = module
        self.name = node.name
        self.node = node
        self.base_names = [base_name(b) for b in node.bases]
        self.bases = []  # resolved ClassInfo objects or piston names (str)
        # attribute name -> ("none",) | ("export", method, op, doc) | ("func", doc) | ("value",)
        self.attrs = {}
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                export = operation_export(stmt)
                doc = ast.get_docstring(stmt) or ""
                self.attrs[stmt.name] = ("export", *export, doc) if export else ("func", doc)
            elif isinstance(stmt, ast.Assign):
                is_none = isinstance(stmt.value, ast.Constant) and stmt.value.value is None
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.attrs[target.id] = ("none",) if is_none else ("value", stmt.value)
        self.doc = ast.get_docstring(node) or ""


def base_name(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def operation_export(func):
    """(method, op) when the function is decorated with @operation(...)."""
    for dec in func.decorator_list:
        if isinstance(dec, ast.Call) and base_name(dec.func) == "operation":
            kw = {k.arg: k.value for k in dec.keywords}
            idempotent = kw.get("idempotent", dec.args[0] if dec.args else None)
            exported_as = kw.get("exported_as", dec.args[1] if len(dec.args) > 1 else None)
            method = "GET" if isinstance(idempotent, ast.Constant) and idempotent.value else "POST"
            op = exported_as.value if isinstance(exported_as, ast.Constant) else func.name
            return method, op
    return None


class Modules:
    """Parsed maasserver modules, with imports followed to resolve base classes."""

    def __init__(self, source):
        self.source = source
        self.trees = {}
        self.classes = {}

    def tree(self, module):
        if module not in self.trees:
            text = self.source.read("src/" + module.replace(".", "/") + ".py")
            if text is None:
                text = self.source.read("src/" + module.replace(".", "/") + "/__init__.py")
            self.trees[module] = ast.parse(text) if text is not None else None
        return self.trees[module]

    def lookup(self, module, name, depth=0):
        """The ClassInfo named `name` as seen from `module`, following `from x import y`."""
        key = (module, name)
        if key in self.classes:
            return self.classes[key]
        tree = self.tree(module)
        if tree is None or depth > 10:
            return None
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == name:
                info = ClassInfo(module, stmt)
                self.classes[key] = info
                info.bases = [self.resolve_base(module, b, depth) for b in info.base_names]
                return info
        for stmt in tree.body:
            if isinstance(stmt, ast.ImportFrom) and stmt.module:
                for alias in stmt.names:
                    if (alias.asname or alias.name) == name:
                        if not stmt.module.startswith(("maasserver", "metadataserver")):
                            return None
                        return self.lookup(stmt.module, alias.name, depth + 1)
        return None

    def resolve_base(self, module, name, depth):
        if name in PISTON_BASES:
            return name
        found = self.lookup(module, name, depth + 1)
        return found if found is not None else name


def mro(info):
    """C3 linearisation over resolved classes (piston's bases stay as names)."""

    def linearise(c):
        if isinstance(c, str):
            return [c]
        seqs = [linearise(b) for b in c.bases] + [list(c.bases)]
        result = [c]
        while any(seqs):
            seqs = [s for s in seqs if s]
            for s in seqs:
                head = s[0]
                if not any(head in t[1:] for t in seqs):
                    break
            else:
                raise ValueError(f"inconsistent MRO for {info.name}")
            result.append(head)
            seqs = [t[1:] if t and t[0] is head else t for t in seqs]
        return result

    return linearise(info)


def getattr_kind(info, name):
    """What `getattr(cls, name)` finds: the attr tuple, ("piston",) for BaseHandler's CRUD, or None."""
    for c in mro(info):
        if isinstance(c, str):
            if c in PISTON_BASES and name in CRUD:
                return ("piston",)
            continue
        if name in c.attrs:
            return c.attrs[name]
    return None


def exports(info):
    """OperationsHandlerType's exports: {(method, op or None): docstring}."""
    result = {}
    for base in info.bases:
        if isinstance(base, str):
            continue
        for key, attr in base.attrs.items():
            if attr[0] == "export":
                found = getattr_kind(info, key)
                if found is not None and found[0] != "none":
                    result[(attr[1], attr[2])] = found[-1] if found[0] in ("export", "func") else ""
    for key, attr in info.attrs.items():
        if attr[0] == "export":
            result[(attr[1], attr[2])] = attr[3]
    for name, method in CRUD.items():
        found = getattr_kind(info, name)
        if found is not None and found[0] != "none":
            result[(method, None)] = found[-1] if found[0] in ("export", "func") else ""
    return result


PARAM_ANNOTATED = re.compile(r'@param\s*\(([^)]*)\)\s*"([^"]+)"')
PARAM_PLAIN = re.compile(r"^\s*:param\s+([^:\s]+)\s*:", re.M)


def params_of(doc):
    names = [m.group(2) for m in PARAM_ANNOTATED.finditer(doc)] or PARAM_PLAIN.findall(doc)
    seen = []
    for n in names:
        if "{" not in n and "}" not in n and n not in seen:
            seen.append(n)
    return sorted(seen)


def class_attr_value(info, name):
    for c in mro(info):
        if isinstance(c, str):
            continue
        if name in c.attrs:
            return c.attrs[name]
    return None


def resource_uri_name(info):
    """The URL name resource_uri() returns (its first string), or None when it has none."""
    for c in mro(info):
        if isinstance(c, str) or "resource_uri" not in c.attrs:
            continue
        for stmt in c.node.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "resource_uri":
                # The last return: describe/ calls resource_uri() without an instance, which
                # takes the final (documentation) branch, e.g. VlanHandler's "vlan_handler".
                names = [
                    node.value.elts[0].value
                    for node in ast.walk(stmt)
                    if isinstance(node, ast.Return)
                    and isinstance(node.value, ast.Tuple)
                    and isinstance(node.value.elts[0], ast.Constant)
                ]
                return names[-1] if names else "(computed)"
        if c.attrs["resource_uri"][0] == "none":
            return None
        return "(computed)"
    return None


def url_template(regex):
    """'^nodes/(?P<system_id>[^/]+)/blockdevices/$' -> '/MAAS/api/2.0/nodes/{system_id}/blockdevices/'."""
    path = regex.lstrip("^").rstrip("$")
    out, i = "", 0
    while i < len(path):
        m = re.match(r"\(\?P<(\w+)>", path[i:])
        if m:  # skip to the group's closing parenthesis (groups may nest)
            depth, j = 0, i
            while True:
                if path[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(path[j], 0)
                j += 1
                if depth == 0:
                    break
            out += "{" + m.group(1) + "}"
            i = j
        else:
            out += path[i]
            i += 1
    out = re.sub(r"\[(\w)\]\?", "", out)  # partition[s]? -> partition
    out = out.replace("/*/", "/")  # discovery/{discovery_id}/*/ -> discovery/{discovery_id}/
    return "/MAAS/api/2.0/" + out


def string_value(node):
    """A string literal, including implicitly concatenated ones."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return None
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout")
    parser.add_argument("--git-dir")
    parser.add_argument("--rev")
    args = parser.parse_args()
    if not args.checkout and not (args.git_dir and args.rev):
        parser.error("give --checkout DIR, or --git-dir DIR with --rev REV")
    source = Source(args.checkout, args.git_dir, args.rev)
    modules = Modules(source)
    urls = modules.tree("maasserver.urls_api")
    if urls is None:
        sys.exit("src/maasserver/urls_api.py not found")

    # x_handler = RestrictedResource(XHandler, authentication=...)
    resources = {}
    for stmt in urls.body:
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Call)
            and base_name(stmt.value.func) in RESOURCE_TYPES
        ):
            call = stmt.value
            authenticated = any(k.arg == "authentication" for k in call.keywords)
            resources[stmt.targets[0].id] = {
                "handler": base_name(call.args[0]),
                "access": RESOURCE_TYPES[base_name(call.func)] if authenticated else "anonymous",
            }

    # re_path(regex, x_handler, name=...) in the patterns lists
    routes = {}
    for node in ast.walk(urls):
        if isinstance(node, ast.Call) and base_name(node.func) == "re_path" and len(node.args) >= 2:
            regex = string_value(node.args[0])
            target = base_name(node.args[1])
            name = next((string_value(k.value) for k in node.keywords if k.arg == "name"), None)
            if regex is not None and target in resources:
                routes.setdefault(target, []).append({"regex": regex, "name": name})

    handlers = []
    for var, res in resources.items():
        if var not in routes:
            continue
        info = modules.lookup("maasserver.urls_api", res["handler"])
        if info is None:
            sys.exit(f"cannot find class {res['handler']}")
        uri_name = resource_uri_name(info)
        hidden = class_attr_value(info, "hidden")
        is_hidden = hidden is not None and hidden[0] == "value" and getattr(hidden[1], "value", False) is True
        route = next((r for r in routes[var] if r["name"] == uri_name), routes[var][0])
        handler = {
            "name": info.name,
            "path": url_template(route["regex"]),
            "access": res["access"],
            "in_describe": uri_name is not None and not is_hidden,
            "module": info.module,
            "actions": [],
        }
        anonymous = class_attr_value(info, "anonymous")
        if anonymous is not None and anonymous[0] == "value" and isinstance(anonymous[1], ast.Name):
            anon = modules.lookup(info.module, anonymous[1].id)
            if anon is not None:
                handler["anonymous_handler"] = anon.name
                handler["anonymous_actions"] = describe_exports(anon)
        handler["actions"] = describe_exports(info)
        handlers.append(handler)

    handlers.sort(key=lambda h: h["name"])
    json.dump(
        {
            "source": "canonical/maas",
            "rev": args.rev or "HEAD",
            "commit": source.commit(),
            "generator": "scripts/maas-api-list.py",
            "handlers": handlers,
        },
        sys.stdout,
        indent=1,
        sort_keys=True,
    )
    sys.stdout.write("\n")


def describe_exports(info):
    actions = []
    for (method, op), doc in exports(info).items():
        name = op if op is not None else {v: k for k, v in CRUD.items()}[method]
        actions.append({"method": method, "op": op, "name": name, "params": params_of(doc)})
    return sorted(actions, key=lambda a: (a["name"], a["method"]))


if __name__ == "__main__":
    main()

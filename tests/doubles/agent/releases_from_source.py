#!/usr/bin/env python
"""The agent part of tests/vectors/mesos_releases.json, read from each release's Mesos source.

For every tag given, the flags of the agent as `mesos-agent` loads them on Linux: `slave::Flags`
(src/slave/flags.cpp, src/slave/flags.hpp), its base `logging::Flags` (src/logging/flags.cpp) and
stout's `help` (3rdparty/stout/include/stout/flags/flags.hpp, FlagsBase::FlagsBase). For each flag:
- `boolean`: stout's `flag.boolean` (`typeid(T) == typeid(bool)`, for `Option<bool>` too);
- `default`: what `/flags` shows when the flag is not given (`Http::_flags` stringifies every flag
  that has a value): null for an `Option<>` flag, which has none; the default's `stringify` when it
  is a literal, a stout Duration or Bytes, or a constant this script can evaluate; absent when the
  default is an expression it cannot evaluate (the flag then has a value, unknown here);
- `requires`: the build option (`ENABLE_SECCOMP_ISOLATOR`, ...) whose `#if` the flag is under.
Deprecated names (`flags::DeprecatedName`) go to `flag_aliases`. `endpoints`: the agent's HTTP routes
(path -> the `Http` method answering it and its authentication realm); `state_while_recovering`: what
`/state` answers until recovery ends.

Usage: releases_from_source.py --git-dir /work/.mirror/apache+mesos/repo --tags 1.4.3,1.5.3,1.6.2,1.7.3,1.8.1,1.9.0,1.10.0,1.11.0 FILE
Merges into FILE (keeps every other key of each release) and writes it back. Reads no Mesos code
into the repository: only flag names, kinds and default values.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

# Platform macros on a Linux build; build options are kept as `requires`.
PLATFORM = {"__linux__": True, "__WINDOWS__": False}
NANOSECONDS = {"Nanoseconds": 1, "Microseconds": 10**3, "Milliseconds": 10**6, "Seconds": 10**9,
               "Minutes": 60 * 10**9, "Hours": 3600 * 10**9, "Days": 86400 * 10**9, "Weeks": 7 * 86400 * 10**9}
DURATION_UNITS = [("Weeks", "weeks"), ("Days", "days"), ("Hours", "hrs"), ("Minutes", "mins"),
                  ("Seconds", "secs"), ("Milliseconds", "ms"), ("Microseconds", "us"), ("Nanoseconds", "ns")]
BYTES = {"Bytes": 1, "Kilobytes": 1 << 10, "Megabytes": 1 << 20, "Gigabytes": 1 << 30, "Terabytes": 1 << 40}


def show(git_dir: str, tag: str, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{tag}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def strip_comments(text: str) -> str:
    """C++ comments removed, string and character literals kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            i = text.find("*/", i) + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def condition_of(line: str) -> tuple[str, bool | str]:
    """(directive, value): True/False for platform conditions, the option's name for build options."""
    match = re.match(r"\s*#\s*(ifdef|ifndef|if|elif)\s+(?:defined\s*\(\s*)?(\w+)", line)
    directive, macro = match.group(1), match.group(2)
    if macro in PLATFORM:
        value: bool | str = PLATFORM[macro]
        return directive, (not value) if directive == "ifndef" else value
    return directive, macro if directive != "ifndef" else "!" + macro


def preprocess(text: str) -> list[tuple[str, str | None]]:
    """Lines a Linux build compiles, each with the build option it needs (or None)."""
    kept: list[tuple[str, str | None]] = []
    stack: list[tuple[bool | str, bool]] = []  # (condition of this branch, any earlier branch taken)
    for line in text.splitlines():
        stripped = line.strip()
        if re.match(r"#\s*(ifdef|ifndef|if)\b", stripped):
            _directive, value = condition_of(stripped)
            stack.append((value, value is True))
        elif re.match(r"#\s*elif\b", stripped):
            _directive, value = condition_of(stripped)
            _previous, taken = stack.pop()
            stack.append((False if taken else value, taken or value is True))
        elif re.match(r"#\s*else\b", stripped):
            previous, taken = stack.pop()
            value = (not taken) if isinstance(previous, bool) else "!" + previous
            stack.append((value, True))
        elif re.match(r"#\s*endif\b", stripped):
            stack.pop()
        elif not stripped.startswith("#"):
            if all(value is not False for value, _taken in stack):
                options = [value for value, _taken in stack if isinstance(value, str)]
                kept.append((line, ",".join(options) or None))
    return kept


def split_arguments(text: str) -> list[str]:
    """The top-level, comma-separated arguments of a call's argument text."""
    arguments, depth, current, i = [], 0, [], 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while text[j] != c:
                j += 2 if text[j] == "\\" else 1
            current.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        if c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            arguments.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    if "".join(current).strip():
        arguments.append("".join(current).strip())
    return arguments


def add_calls(lines: list[tuple[str, str | None]]) -> list[tuple[list[str], str | None]]:
    """Each `add(&Flags::member, ...)` call's arguments, with the build option it needs."""
    text = "\n".join(line for line, _option in lines)
    options = []
    for line, option in lines:
        options.extend([option] * (len(line) + 1))
    calls = []
    for match in re.finditer(r"\badd\(\s*&(?:\w+::)*Flags::", text):
        start = match.end() - len(match.group(0)) + match.group(0).index("(") + 1
        depth, i = 1, start
        while depth:
            c = text[i]
            if c in "\"'":
                j = i + 1
                while text[j] != c:
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
                continue
            depth += {"(": 1, ")": -1}.get(c, 0)
            i += 1
        calls.append((split_arguments(text[start:i - 1]), options[match.start()]))
    return calls


def member_types(lines: list[tuple[str, str | None]]) -> dict[str, str]:
    types = {}
    for line, _option in lines:
        match = re.match(r"\s*([A-Za-z_][\w:<>, ]*?)\s+(\w+)\s*;\s*$", line)
        if match and not match.group(1).startswith(("return", "using", "class", "struct")):
            types[match.group(2)] = " ".join(match.group(1).split())
    return types


def string_literal(argument: str) -> str | None:
    """Adjacent C++ string literals as one string, or None."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', argument)
    if not parts or re.sub(r'"((?:[^"\\]|\\.)*)"', "", argument).strip():
        return None
    return "".join(bytes(part, "utf-8").decode("unicode_escape") for part in parts)


def duration_text(ns: int) -> str:
    """stout's operator<<(ostream&, const Duration&) for a whole number of nanoseconds."""
    if ns == 0:
        return "0ns"
    for index, (unit, suffix) in enumerate(DURATION_UNITS):
        size = NANOSECONDS[unit]
        if ns >= size:
            if ns % size == 0:
                return f"{ns // size}{suffix}"
            lower, lower_suffix = DURATION_UNITS[index + 1]
            if ns % NANOSECONDS[lower] == 0:
                return f"{ns // NANOSECONDS[lower]}{lower_suffix}"
            return f"{ns / size:.15g}{suffix}"
    return f"{ns}ns"


def bytes_text(count: int) -> str:
    """stout's operator<<(ostream&, const Bytes&): the largest unit without loss."""
    if count == 0:
        return "0B"
    for shift, suffix in ((10, "B"), (20, "KB"), (30, "MB"), (40, "GB")):
        if count % (1 << shift):
            return f"{count >> (shift - 10)}{suffix}" if shift > 10 else f"{count}B"
    return f"{count >> 40}TB"


def evaluate(expression: str, constants: dict[str, str]) -> tuple[str, object] | None:
    """(kind, value) of a default: ("duration", ns), ("bytes", n), ("text", str), or None."""
    expression = expression.strip()
    literal = string_literal(expression)
    if literal is not None:
        return "text", literal
    if expression in ("true", "false"):
        return "text", expression
    if re.fullmatch(r"-?\d+[uUlL]*", expression):
        return "number", int(re.sub(r"[uUlL]", "", expression))
    if re.fullmatch(r"-?\d+\.\d*", expression):
        return "text", f"{float(expression):g}"
    match = re.fullmatch(r"(\w+)\((.+)\)", expression)
    if match and match.group(1) in NANOSECONDS:
        inner = evaluate(match.group(2), constants)
        return ("duration", inner[1] * NANOSECONDS[match.group(1)]) if inner and inner[0] == "number" else None
    if match and match.group(1) in BYTES:
        inner = evaluate(match.group(2), constants)
        return ("bytes", inner[1] * BYTES[match.group(1)]) if inner and inner[0] == "number" else None
    match = re.fullmatch(r"path::join\(os::temp\(\),\s*(.+)\)", expression)
    if match:  # os::temp(): TMPDIR, else /tmp
        parts = [string_literal(part) for part in split_arguments(match.group(1))]
        return ("text", "/".join(["/tmp", *parts])) if None not in parts else None
    name = expression if expression in constants else expression.split("::")[-1]
    if name in constants:
        return evaluate(constants[name], {k: v for k, v in constants.items() if k != name})
    return None


def default_text(value: tuple[str, object]) -> str:
    kind, data = value
    if kind == "duration":
        return duration_text(int(data))
    if kind == "bytes":
        return bytes_text(int(data))
    return str(data)


def constants_of(git_dir: str, tag: str) -> dict[str, str]:
    """Name -> initialiser of the agent's constants on Linux (src/slave/constants.hpp, .cpp)."""
    constants = {}
    for path in ("src/slave/constants.hpp", "src/slave/constants.cpp"):
        try:
            lines = preprocess(strip_comments(show(git_dir, tag, path)))
        except subprocess.CalledProcessError:
            continue
        text = "\n".join(line for line, _option in lines)
        for match in re.finditer(r"\b([A-Z][A-Z0-9_]*)\s*(?:\[\])?\s*=\s*([^;]+);", text):
            constants[match.group(1)] = " ".join(match.group(2).split())
    return constants


def proto_default(git_dir: str, tag: str, message: str, field: str) -> str | None:
    """A field's [default = …] in include/mesos/mesos.proto (e.g. SlaveInfo().port())."""
    text = strip_comments(show(git_dir, tag, "include/mesos/mesos.proto"))
    body = re.search(r"\bmessage\s+" + message + r"\s*\{(.*?)\n\}", text, re.S)
    match = body and re.search(r"\b" + field + r"\s*=\s*\d+\s*\[\s*default\s*=\s*([^\]]+)\]", body.group(1))
    return match.group(1).strip() if match else None


def calls(text: str, function: str) -> list[list[str]]:
    """The arguments of every call of `function(` in `text`."""
    found = []
    for match in re.finditer(r"\b" + re.escape(function) + r"\(", text):
        depth, i = 1, match.end()
        while depth:
            c = text[i]
            if c in "\"'":
                j = i + 1
                while text[j] != c:
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
                continue
            depth += {"(": 1, ")": -1}.get(c, 0)
            i += 1
        found.append(split_arguments(text[match.end():i - 1]))
    return found


def agent_endpoints(git_dir: str, tag: str, constants: dict[str, str]) -> dict:
    """The agent's routes (Slave::initialize, src/slave/slave.cpp): path -> the Http method that
    answers it and its authentication realm (null: none), plus /version (VersionProcess, spawned by
    src/slave/main.cpp)."""
    text = strip_comments(show(git_dir, tag, "src/slave/slave.cpp"))
    endpoints = {}
    for arguments in calls(text, "route"):
        path = string_literal(arguments[0]) if arguments else None
        if not path or not path.startswith("/"):
            continue
        realm = arguments[1] if arguments[1].endswith("_REALM") else None
        handler = re.search(r"\bhttp\.(\w+)\(", ",".join(arguments[1:]))
        endpoints[path] = {"handler": handler.group(1) if handler else None,
                           "realm": string_literal(constants[realm]) if realm in constants else None}
    if "VersionProcess" in show(git_dir, tag, "src/slave/main.cpp"):
        endpoints["/version"] = {"handler": "version", "realm": None}
    return dict(sorted(endpoints.items()))


def state_while_recovering(git_dir: str, tag: str) -> dict | None:
    """What Http::state (src/slave/http.cpp) answers while the agent is RECOVERING."""
    text = strip_comments(show(git_dir, tag, "src/slave/http.cpp"))
    body = re.search(r"\nFuture<Response> Http::state\((.*?)\n\}\n", text, re.S)
    match = body and re.search(r"RECOVERING\)\s*\{\s*return\s+ServiceUnavailable\((\"[^\"]*\")\)", body.group(1))
    return {"status": 503, "body": string_literal(match.group(1))} if match else None


def agent_flags(git_dir: str, tag: str) -> dict:
    constants = constants_of(git_dir, tag)
    for message, field in (("SlaveInfo", "port"),):
        constants[f"{message}().{field}()"] = proto_default(git_dir, tag, message, field) or "?"
    flags: dict[str, dict] = {"help": {"boolean": True, "default": "false"}}
    aliases: dict[str, str] = {}
    for source, header in (("src/logging/flags.cpp", "src/logging/flags.hpp"),
                           ("src/slave/flags.cpp", "src/slave/flags.hpp")):
        types = member_types(preprocess(strip_comments(show(git_dir, tag, header))))
        for arguments, option in add_calls(preprocess(strip_comments(show(git_dir, tag, source)))):
            member = arguments[0].split("::")[-1]
            name = string_literal(arguments[1])
            rest = arguments[2:]
            if rest and rest[0].startswith("flags::DeprecatedName"):
                aliases[string_literal(rest[0][rest[0].index("(") + 1:-1])] = name
                rest = rest[1:]
            kind = types.get(member, "")
            optional = kind.startswith("Option<")
            flag: dict = {"boolean": kind in ("bool", "Option<bool>")}
            if optional:
                flag["default"] = None
            elif len(rest) > 1 and (not rest[1].startswith("[") or rest[1].endswith("}()")):
                value = evaluate(rest[1], constants)  # a lambda called at once: a default, not evaluated here
                if value is not None:
                    flag["default"] = default_text(value)
            else:
                flag["required"] = True  # no default: stout's "Flag '…' is required"
            if option:
                flag["requires"] = option
            flags[name] = flag
    return {"flags": dict(sorted(flags.items())), "flag_aliases": dict(sorted(aliases.items())),
            "endpoints": agent_endpoints(git_dir, tag, constants),
            "state_while_recovering": state_while_recovering(git_dir, tag)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", required=True, help="a bare mirror of apache/mesos")
    parser.add_argument("--tags", required=True, help="comma-separated release tags, e.g. 1.10.0,1.11.0")
    parser.add_argument("file", help="the releases table to update (tests/vectors/mesos_releases.json)")
    args = parser.parse_args()
    table = {"releases": {}}
    if os.path.exists(args.file):
        with open(args.file, encoding="utf-8") as existing:
            table = json.load(existing)
    for tag in args.tags.split(","):
        release = table.setdefault("releases", {}).setdefault(tag, {})
        release.setdefault("agent", {}).update(agent_flags(args.git_dir, tag))
    table["releases"] = dict(sorted(table["releases"].items(), key=lambda item: [int(p) for p in item[0].split(".")]))
    text = json.dumps(table, indent=1)
    # an object of plain values on one line: one flag per line
    text = re.sub(r"\{\n\s+([^{}\[\]]*?)\n\s+\}", lambda m: "{" + re.sub(r",\n\s+", ", ", m.group(1)) + "}", text)
    with open(args.file, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

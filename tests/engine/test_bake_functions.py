"""bake's functions: `BAKE_FUNCTIONS` gives what the real `docker buildx bake --print`
prints for the same calls.

Each call is written once, as Python data (`Call`), and both rendered into a bake file
(one target whose args hold every call: a list or a map through `jsonencode`, a scalar
as itself and through `jsonencode`, which tells a number from a string) and evaluated
with `BAKE_FUNCTIONS`. Calls bake refuses are refused by `BAKE_FUNCTIONS` too. On the
oldest buildx leg, a function that bake lacks is skipped, with bake's reason.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from buildgraph.render.escaping import hcl_string
from buildgraph.resolve import template_limits
from buildgraph.resolve.bake_functions import BAKE_FUNCTIONS

pytestmark = pytest.mark.engine


class Call(NamedTuple):
    """`name(args...)`, in HCL and in Python."""

    name: str
    args: tuple[Any, ...]


def c(name: str, *args: Any) -> Call:
    return Call(name, args)


def hcl(value: Any) -> str:
    """The HCL expression for a value of a case."""
    if isinstance(value, Call):
        return f"{value.name}({', '.join(hcl(a) for a in value.args)})"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{hcl_string(k)} = {hcl(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def evaluate(value: Any) -> Any:
    if isinstance(value, Call):
        return BAKE_FUNCTIONS[value.name](*(evaluate(a) for a in value.args))
    if isinstance(value, list | tuple):
        return [evaluate(v) for v in value]
    if isinstance(value, dict):
        return {k: evaluate(v) for k, v in value.items()}
    return value


def functions_of(value: Any) -> set[str]:
    if isinstance(value, Call):
        return {value.name}.union(*(functions_of(a) for a in value.args))
    if isinstance(value, list | tuple):
        return set().union(*(functions_of(v) for v in value))
    if isinstance(value, dict):
        return set().union(*(functions_of(v) for v in value.values()))
    return set()


# Calls bake answers, by function. (Values from cty's and buildx's docs and tests, and
# the corners of each function.)
CASES: list[Call] = [
    # strings
    c("split", ",", "a,b,c"),
    c("split", "", "abc"),
    c("split", ",", ""),
    c("split", "::", "a::b::"),
    c("join", "-", c("split", ",", "a,b,c")),
    c("join", "-", ["a", 1, True, 1.5]),
    c("join", ", ", ["a"], ["b", "c"], []),
    c("join", "", []),
    c("replace", "hello world", "o", "0"),
    c("replace", "abc", "/b/", "x"),
    c("replace", "abc", "", "-"),
    c("regex_replace", "hello world", "(o)", "[$1]"),
    c("regex_replace", "abxd", "x*", "-"),
    c("regex_replace", "héllo", "", "-"),
    c("regex_replace", "abc", "b|", "X"),
    c("regex_replace", "hello", "(?P<x>l)", "${x}$$x$1a$x"),
    c("regex_replace", "v1.2.3-rc1", "[^a-z0-9]", "-"),
    c("regex_replace", "aaa", "a", "${0}${0}"),
    c("regex_replace", "abc", "(b)", "$2$10$(1"),
    c("regex", "[a-z]+", "123abc456"),
    c("regex", "(\\d+)-(\\d+)", "a 12-34 b"),
    c("regex", "(?P<a>\\d+)-(?P<b>x)?", "a 12- b"),
    c("regex", "^(\\d+)\\.(\\d+)(?:\\.(\\d+))?$", "1.2"),
    c("regex", "(?i)ÉTÉ", "un été"),
    c("regexall", "a*", "baaac"),
    c("regexall", "(a)(b)?", "a ab"),
    c("regexall", "[0-9]+", "a1b22c333"),
    c("regexall", "x", "abc"),
    c("regexall", "", "héllo"),
    c("regexall", "\\b\\w", "one two_three four"),
    c("upper", "straße ǆ ᾀ ﬁ ŉ"),
    c("upper", 1),
    c("lower", "ΑΣ İ ǅ Hello"),
    c("title", "hello wORLD-foo_bar 1a"),
    c("title", "ǆemal ßa été-été"),
    c("trimprefix", "helloworld", "hello"),
    c("trimprefix", "hello", "x"),
    c("trimsuffix", "helloworld", "world"),
    c("trimsuffix", "hello", ""),
    c("trimspace", "  \n hi \t \u00a0"),
    c("trim", "?!hello?!", "!?"),
    c("trim", "abc", ""),
    c("chomp", "hi\r\n\n\r\n"),
    c("chomp", "hi\n x"),
    c("indent", 2, "a\nb\n"),
    c("indent", 0, "a\nb"),
    c("strlen", "héllo👍🏽"),
    c("strlen", "e\u0301\r\n🇫🇷🇫👩\u200d👩\u200d👧a"),
    c("strlen", ""),
    c("substr", "hello world", 1, 4),
    c("substr", "hello", -3, -1),
    c("substr", "hello", -3, 0),
    c("substr", "hello", 10, 2),
    c("substr", "hello", 5, 1),
    c("substr", "hello", -10, 2),
    c("substr", "héllo👍🏽x", 5, 1),
    c("reverse", "abc"),
    c("reverse", "héllo👍🏽"),
    c("sanitize", "a.b/c-d_é"),
    c("basename", "/a/b/"),
    c("basename", ""),
    c("basename", "/"),
    c("dirname", "/a/b/"),
    c("dirname", "a"),
    c("dirname", "a/../../b//c"),
    # format
    c("format", "Hello, %s!", "Ander"),
    c("format", "There are %d lights", 4),
    c("format", "%v|%v|%v|%v", 1000000, 123456, 0.00001, c("divide", 1, 3)),
    c(
        "format",
        "%g|%e|%.3e|%f|%.0f|%.0f",
        c("divide", 1, 3),
        c("divide", 1, 3),
        1234.5678,
        c("divide", 1, 3),
        2.5,
        3.5,
    ),
    c(
        "format",
        "%5.1f|%-8.2f|%08.3f|%+d|% d|%x|%X|%o|%b|%#x",
        3.14159,
        2.5,
        -1.5,
        5,
        5,
        255,
        255,
        8,
        5,
        255,
    ),
    c("format", "%05d|%-5d|%.3d|%5.3d|%.0d|%.0d", 42, 42, 42, 42, 0, 1),
    c("format", "%s|%s|%t|%v|%v", True, 1.5, "true", True, None),
    c("format", "%q|%#v|%v", "<a&b>\u2028", "x", {"a": 1, "b": "x"}),
    c("format", "%[2]s %[1]s %s", "a", "b"),
    c("format", "%-5s|%5s|%.2s|%.0s|%5.1q", "héllo", "ab", "héllo", "x", "héllo"),
    c("format", "%-05s|%05s|%10v|%-6v|%06v", "ab", "ab", "ab", 1.5, 2),
    c("format", "%08.3f|%-08.3f|%+.2e|%G|%E|%.f", -3.14159, 3.14159, 12345.678, 1e20, 0.5, 2.567),
    c("format", "%x|%#o|%#b|%#X|%d", -255, 8, 5, 255, "12"),
    c("format", "%g|%g|%.3g|% d|%+ d|% 5d", 100000, 1000000, 1234.5678, 5, 5, -5),
    c("format", "100%%"),
    c("format", "%v", [c("divide", 1, 3), "x", None, True]),
    c("formatlist", "%s-%s", ["a", "b"], "x"),
    c("formatlist", "%s", []),
    c("formatlist", "x"),
    c("formatlist", "Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"]),
    c("formatlist", "%s, %s!", "Salutations", ["Valentina", "Ander"]),
    # numbers
    c("add", 1, 2),
    c("add", 0.1, 0.2),
    c("add", "1", 2),
    c("add", "1p3", 0),
    c("add", ".5", "5."),
    c("add", c("divide", 1, 3), c("divide", 1, 3)),
    c("subtract", 1, 0.9),
    c("subtract", 5, 7),
    c("multiply", 0.1, 3),
    c("multiply", c("divide", 1, 3), 3),
    c("multiply", 1e300, 1e300),
    c("multiply", 12345678901234567890, 98765432109876543210),
    c("divide", 1, 3),
    c("divide", 10, 4),
    c("divide", 2, 3),
    c("divide", -7, 3),
    c("divide", 1, 0),
    c("divide", 1e-300, 3),
    c("modulo", 7, 3),
    c("modulo", -7, 3),
    c("modulo", 7.5, 2),
    c("modulo", 7, 0),
    c("modulo", 1, c("divide", 1, 3)),
    c("absolute", -2.5),
    c("absolute", 3),
    c("negate", 3),
    c("negate", c("divide", 1, 3)),
    c("ceil", 2.1),
    c("ceil", -2.1),
    c("ceil", 5),
    c("floor", -2.1),
    c("floor", 2),
    c("floor", 4.9),
    c("int", -2.7),
    c("int", 2.7),
    c("int", c("divide", 10, 3)),
    c("signum", -3),
    c("signum", 0),
    c("signum", 7),
    c("min", 3, 1.5, 2),
    c("min", 12, 54, 3),
    c("max", 3, 1.5, 2),
    c("max", c("divide", 1, 3), 0.3),
    c("pow", 2, 0.5),
    c("pow", 2, 10),
    c("pow", 3, 2),
    c("pow", 2, -2),
    c("pow", 10, 0.3),
    c("pow", 1.5, 3.7),
    c("pow", 2, 60),
    c("log", 8, 2),
    c("log", 50, 10),
    c("log", 16, 2),
    c("log", 0, 10),
    c("log", 2, 3),
    c("log", 1000, 10),
    c("log", 7.5, 1.1),
    c("parseint", "100", 10),
    c("parseint", "FF", 16),
    c("parseint", "-10", 16),
    c("parseint", "1011111011101111", 2),
    c("parseint", "aA", 62),
    c("parseint", "12", 2 + 1),
    c("parseint", "+10", 10),
    c("greaterthan", 2, 1),
    c("greaterthanorequalto", 1, 2),
    c("lessthan", 1, 2),
    c("lessthanorequalto", 2, 2),
    c("lessthanorequalto", c("divide", 1, 3), 0.3333333333333333),
    c("max", 12345678901234567890),
    c("max", 0.1),
    c("max", 1e-7),
    c("max", 1e20),
    c("max", 1e22),
    c("max", 1e300),
    c("min", -0.5),
    c("max", 2**600),
    # collections
    c("concat", ["a", ""], ["b", "c"]),
    c("concat", ["a"], [1]),
    c("concat", c("split", ",", "a"), [1]),
    c("concat", [], []),
    c("flatten", [["a", "b"], [], ["c"]]),
    c("flatten", [[["a", "b"], []], ["c"]]),
    c("flatten", [[1, [2]], "x", [], None]),
    c("compact", ["a", "", "b", "", "c"]),
    c("compact", ["a", "", None, "b"]),
    c("coalesce", "a", "b"),
    c("coalesce", "", "b"),
    c("coalesce", 1, 2),
    c("coalesce", None, 1, "a"),
    c("coalesce", [1], ["a"]),
    c("coalescelist", ["a", "b"], ["c", "d"]),
    c("coalescelist", [], ["c", "d"]),
    c("contains", ["a", "b", "c"], "a"),
    c("contains", ["a", "b", "c"], "d"),
    c("contains", [1, 2], "1"),
    c("contains", ["1", 2], 2),
    c("contains", [[1], {"a": 1}], {"a": 1}),
    c("distinct", ["a", "b", "a", "c", "d", "b"]),
    c("distinct", [1, "1"]),
    c("distinct", ["a", None, "a"]),
    c("distinct", [[1], ["1"]]),
    c("distinct", [1, 1.0, 2]),
    c("element", ["a", "b", "c"], 1),
    c("element", ["a", "b", "c"], 4),
    c("element", [1, ["x"], {"k": "v"}], 5),
    c("index", ["a", "b"], 1),
    c("hasindex", ["a"], "0"),
    c("hasindex", ["a"], 0.5),
    c("indexof", ["a", "b", "c"], "b"),
    c("indexof", [1, "2", 3], 3),
    c("hasindex", ["a"], 0),
    c("hasindex", ["a"], 1),
    c("length", []),
    c("length", ["a", "b"]),
    c("length", ["a", None]),
    c("keys", {"b": 1, "a": 2, "c": 3}),
    c("keys", {}),
    c("values", {"b": 1, "a": "x", "c": [3]}),
    c("lookup", {"a": "ay", "b": "bee"}, "a", "what?"),
    c("lookup", {"a": "ay", "b": "bee"}, "c", "what?"),
    c("lookup", {"a": 1}, "b", 2),
    c("lookup", {"a": {"b": 1}}, "a", {}),
    c("merge", {"a": "b", "c": "d"}, {"e": "f", "c": "z"}),
    c("merge", {"a": 1}, {"b": "x"}, {"a": 3}),
    c("merge"),
    c("merge", {"a": 1}, None),
    c("reverselist", [1, 2, 3]),
    c("reverselist", []),
    c("slice", ["a", "b", "c", "d"], 1, 3),
    c("slice", ["a"], 1, 1),
    c("sort", ["e", "d", "a", "x"]),
    c("sort", ["b", "a", "B", "10", "9", "é", "z"]),
    c("sort", [3, 1, 2]),
    c("chunklist", ["a", "b", "c"], 2),
    c("chunklist", ["a", "b", "c"], 0),
    c("chunklist", [], 3),
    c("chunklist", [1, "x", True], 1),
    c("zipmap", ["a", "b"], [1, 2]),
    c("zipmap", ["a", "b", "a"], [1, "x", 3]),
    c("setproduct", ["development", "staging", "production"], ["app1", "app2"]),
    c("setproduct", ["a", "b"], [1, 2]),
    c("setproduct", ["a"], []),
    c("setunion", ["a", "b"], ["b", "c"], ["d"]),
    c("setunion", ["b", "a"], ["c", "a"]),
    c("setunion", [3, 1], [2, 10]),
    c("setunion", [[1], [2]], [["a"]]),
    c("setunion", [True, False], [True]),
    c("setunion", [{"b": 1}, {"a": 2}], [{"b": 1}]),
    c("setunion", [{"b": 1}, {"b": 2}], [{"b": 10}]),
    c("setunion", [["<"], ["a"], ["B"], ["é"], ["\t"]]),
    c("setunion", [[1.5], [10], [2], [1e21]]),
    c("distinct", [{"a": 1}, {"a": "1"}]),
    c("concat", [{"a": 1}], [{"a": "1"}]),
    c("coalesce", {"a": 1}, {"b": "x"}),
    c("setintersection", ["a", "b"], ["b", "c"], ["b", "d"]),
    c("setsubtract", ["a", "b", "c"], ["a", "c"]),
    c("setsymmetricdifference", ["a", "b"], ["b", "c"], ["c", "d"]),
    c("sethaselement", ["a", "b"], "a"),
    c("sethaselement", ["a", "b"], "c"),
    c("equal", 1, 1.0),
    c("equal", [1], ["1"]),
    c("equal", {"a": 1}, {"a": 1}),
    c("equal", None, None),
    c("equal", "a", "a"),
    c("equal", "e\u0301", "é"),
    c("notequal", 1, "1"),
    c("notequal", [1, [2]], [1, [2]]),
    # encodings and hashes
    c("jsonencode", {"hello": "world", "list": [1, 2.5, True, None]}),
    c("jsonencode", 'a<b>&\u2028\u0008\u000c\u0001\u007f"\\é'),
    c("jsonencode", c("divide", 1, 3)),
    c("jsondecode", '{"hello": "world"}'),
    c("jsondecode", "true"),
    c("jsondecode", '{"a": [1, 2.5, true, null, "x"], "b": 1e3, "c": {"d": -0.5e-3}}'),
    c("jsondecode", "12345678901234567890123"),
    c("jsondecode", '{"a":1,"a":2}'),
    c("jsondecode", "[1.0, 1e400]"),
    c("jsondecode", '"x\\u00e9\\ud83d\\udc4d"'),
    c("csvdecode", "a,b,c\n1,2,3\n4,5,6"),
    c("csvdecode", 'a,b\n1,2\n"x,y",3\n\n"q""uote","multi\nline"\r\n'),
    c("csvdecode", "a,b\n"),
    c("base64encode", "Hello World"),
    c("base64encode", "héllo"),
    c("base64decode", "SGVsbG8gV29ybGQ="),
    c("base64decode", "aMOpbGxv"),
    c("base64decode", "aG\nk="),
    c("urlencode", "Hello World!"),
    c("urlencode", "a b/c?d=é&~_.-*'()"),
    c("md5", "hello world"),
    c("md5", "x"),
    c("md5", "é"),
    c("md5", "e\u0301"),
    c("sha1", "hello world"),
    c("sha256", "hello world"),
    c("sha512", "hello world"),
    c("sha256", ""),
    c("uuidv5", "dns", "www.terraform.io"),
    c("uuidv5", "url", "https://www.terraform.io/"),
    c("uuidv5", "oid", "1.2.3"),
    c("uuidv5", "x500", "CN=x"),
    c("uuidv5", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "x"),
    c("uuidv5", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}", "x"),
    c("uuidv5", "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "x"),
    c("uuidv5", "6ba7b8109dad11d180b400c04fd430c8", "x"),
    # times
    c("formatdate", "DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"),
    c("formatdate", "EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"),
    c("formatdate", "EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"),
    c("formatdate", "MMM DD, YYYY", "2018-01-02T23:12:01Z"),
    c("formatdate", "HH:mmaa", "2018-01-02T23:12:01Z"),
    c("formatdate", "YYYY-MM-DD'T'hh:mm:ssZ", "2024-03-05T10:00:00Z"),
    c("formatdate", "YYYY-MM-DD", "2024-03-05T10:00:00Z"),
    c("formatdate", "EEEE, MMMM D, YY H:m:s aa AA ZZZZ ZZZZZ", "2024-03-05T00:05:09+05:30"),
    c("formatdate", "h 'o''clock' ''", "2024-03-05T10:00:00Z"),
    c("formatdate", "Z ZZZ ZZZZ", "2024-03-05T10:00:00.123456789+00:00"),
    c("formatdate", "YYYY-MM-DD EEE", "0001-01-01T00:00:00Z"),
    c("formatdate", "YYYY-MM-DD EEE H AA", "2000-02-29T12:30:00-11:59"),
    c("formatdate", "YY M D EEEE", "1999-12-31T23:59:59Z"),
    c("timeadd", "2024-03-05T10:00:00Z", "1h30m"),
    c("timeadd", "2024-03-05T10:00:00+01:00", "-1.5h"),
    c("timeadd", "2024-03-05T10:00:00.5Z", "1.5s"),
    c("timeadd", "2017-11-22T00:00:00Z", "10m"),
    c("timeadd", "2024-02-28T23:00:00Z", "25h"),
    c("timeadd", "2024-03-05T10:00:00Z", "0"),
    c("timeadd", "2024-03-05T10:00:00Z", "-1h2m3.5s4ms5us6µs7ns"),
    c("timeadd", "2024-12-31T23:59:59-05:00", "1.0000000001h"),
    c("formattimestamp", "YYYY-MM-DD", 1709632800),
    c("formattimestamp", "X", "2024-03-05T10:00:00+01:00"),
    c("unixtimestampparse", 1709632800),
    # networks
    c("cidrhost", "10.12.112.0/20", 16),
    c("cidrhost", "10.12.112.0/20", 268),
    c("cidrhost", "fd00:fd12:3456:7890:00a2::/72", 34),
    c("cidrhost", "10.0.0.0/30", -1),
    c("cidrhost", "10.0.0.0/8", 2),
    c("cidrnetmask", "172.16.0.0/12"),
    c("cidrnetmask", "10.1.2.3/32"),
    c("cidrsubnet", "172.16.0.0/12", 4, 2),
    c("cidrsubnet", "10.1.2.0/24", 4, 15),
    c("cidrsubnet", "fd00:fd12:3456:7890::/56", 16, 162),
    c("cidrsubnets", "10.1.0.0/16", 4, 4, 8, 4),
    c("cidrsubnets", "fd00:fd12:3456:7890::/56", 16, 16, 16, 32),
    c("cidrsubnets", "10.0.0.0/8"),
]

# Calls bake refuses, each one by itself: BAKE_FUNCTIONS refuses them too.
REFUSED: list[Call] = [
    c("split", ","),
    c("join", "-"),
    c("join", "-", ["a", None]),
    c("join", "-", [["a"]]),
    c("upper", None),
    c("upper", ["a"]),
    c("add", True, 2),
    c("add", "1_0", 0),
    c("add", " 5", 0),
    c("add", "0x10", 0),
    c("divide", 0, 0),
    c("pow", -8, 0.5),
    c("log", -1, 10),
    c("signum", 0.5),
    c("parseint", "-0x1f", 16),
    c("parseint", "1_0", 10),
    c("parseint", 10, 10),
    c("parseint", "12", 63),
    c("min"),
    c("format", "%s"),
    c("format", "%s", "a", "b"),
    c("format", "%z", 1),
    c("format", "%d", 1.5),
    c("format", "%!", 1),
    c("format", "%5", 1),
    c("format", "%s", [1]),
    c("format", "%t", 1),
    c("format", "%e", "abc"),
    c("format", "%c", 65),
    c("format", "%[1]5s", "x"),
    c("formatlist", "%s", ["a", "b"], ["c"]),
    c("regex", "x", "abc"),
    c("regex", "(a)(?P<b>b)", "ab"),
    c("regex", "(a", "a"),
    c("regex", "\\C", "a"),
    c("regex", "a{1001}", "a"),
    c("regex_replace", "a", "(", "x"),
    c("element", ["a", "b", "c"], -1),
    c("element", [], 0),
    c("index", ["a"], 1),
    c("index", ["a", "b"], "1"),
    c("index", ["a"], 0.5),
    c("index", "abc", 1),
    c("indexof", ["a"], "b"),
    c("indexof", [], "b"),
    c("length", "abc"),
    c("length", None),
    c("lookup", {"a": 1}, "b"),
    c("distinct", [1, True]),
    c("coalesce", 1, True),
    c("coalesce", None),
    c("coalescelist", [], []),
    c("concat"),
    c("contains", ["a"], None),
    c("chunklist", ["a"], -1),
    c("slice", ["a", "b"], 2, 1),
    c("slice", ["a", "b"], 0, 3),
    c("slice", ["a", "b"], -1, 1),
    c("zipmap", ["a"], [1, 2]),
    c("setproduct", ["a"]),
    c("keys", ["a"]),
    c("merge", ["a"]),
    c("jsondecode", "[1,"),
    c("jsondecode", "NaN"),
    c("jsonencode", c("divide", 1, 0)),
    c("base64decode", "aGk"),
    c("base64decode", "/w=="),
    c("uuidv5", "nope", "x"),
    c("csvdecode", "a,b\n1\n"),
    c("csvdecode", 'a,b\n1,x"y\n'),
    c("csvdecode", ""),
    c("csvdecode", "a,a\n1,2\n"),
    c("formatdate", "YYY", "2024-03-05T10:00:00Z"),
    c("formatdate", "x", "2024-03-05T10:00:00Z"),
    c("formatdate", "'abc", "2024-03-05T10:00:00Z"),
    c("formatdate", "a", "2024-03-05T10:00:00Z"),
    c("formatdate", "YYYY", "2024-3-05T10:00:00Z"),
    c("formatdate", "YYYY", "2024-02-30T10:00:00Z"),
    c("formatdate", "YYYY", "2024-03-05 10:00:00Z"),
    c("formatdate", "YYYY", "2024-03-05T10:00:00"),
    c("formatdate", "YYYY", "2024-03-05T10:00:00.Z"),
    c("formatdate", "YYYY", "2024-03-05T24:00:00Z"),
    c("timeadd", "2024-03-05T10:00:00Z", "1d"),
    c("timeadd", "2024-03-05T10:00:00Z", "1"),
    c("timeadd", "2024-03-05T10:00:00Z", ".h"),
    c("timeadd", "2024-03-05T10:00:00Z", ""),
    c("cidrhost", "10.0.0.0/30", 4),
    c("cidrhost", "10.0.0.0/33", 1),
    c("cidrhost", "10.0.0/8", 1),
    c("cidrsubnet", "10.0.0.0/30", 3, 0),
    c("cidrsubnet", "10.0.0.0/24", 2, 4),
    c("cidrsubnets", "10.0.0.0/24", 1, 1, 1),
    c("cidrsubnets", "10.0.0.0/24", 0),
]

# Calls bake refuses only because an HCL literal `{...}` is an object, where bake takes a
# map: a template's dict may be either, and BAKE_FUNCTIONS takes it as the map.
LENIENT: list[tuple[Call, Any]] = [
    (c("length", {"a": 1, "b": 2}), 2),
    (c("index", {"a": "x"}, "a"), "x"),
    (c("hasindex", {"a": 1}, "a"), True),
    (c("hasindex", {"a": 1}, 1), False),
]

# What may differ between two runs: checked for their form only.
UNPREDICTABLE = {"uuidv4", "timestamp"}


def bake_file(directory: Path, args: dict[str, str]) -> Path:
    lines = ['target "t" {', "  args = {"]
    lines += [f"    {name} = {expression}" for name, expression in args.items()]
    lines += ["  }", "}", ""]
    path = directory / "docker-bake.hcl"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def bake_print(docker: str, directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [docker, "buildx", "bake", "--print", "t"],
        cwd=directory,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )


_UNKNOWN = re.compile(r'There is no function named "([a-z_0-9]+)"')


def ours(call: Call) -> Any:
    template_limits.start()
    return evaluate(call)


def json_of(value: Any) -> str | None:
    """Our jsonencode of the value, or None where it refuses (as bake does an infinity)."""
    try:
        return BAKE_FUNCTIONS["jsonencode"](value)  # type: ignore[no-any-return]
    except ValueError:
        return None


def is_collection(value: Any) -> bool:
    return isinstance(value, list | dict)


class Printed(NamedTuple):
    """What bake printed for each case (by its arg's name), the functions it lacks (with
    the line bake refused each with), and the cases it refused (likewise)."""

    args: dict[str, str]
    lacking: dict[str, str]
    refused: dict[int, str]


_LINE = re.compile(r"docker-bake\.hcl:(\d+),")


@pytest.fixture(scope="module")
def printed(buildx: str) -> Printed:
    """One bake print of every case, less those of a function this bake lacks and those
    it refuses (which the tests report)."""
    expected = {}
    for i, case in enumerate(CASES):
        try:
            expected[i] = ours(case)
        except Exception:  # the test of its function says so
            continue
    lacking: dict[str, str] = {}
    refused: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        while True:
            args: dict[str, str] = {}
            lines: dict[int, int] = {}  # the file's line -> the case
            for i, case in enumerate(CASES):
                if functions_of(case) & lacking.keys() or i not in expected or i in refused:
                    continue
                names = [f"C{i}"] if is_collection(expected[i]) else [f"S{i}"]
                if not is_collection(expected[i]) and json_of(expected[i]) is not None:
                    names.append(f"J{i}")
                for name in names:
                    lines[3 + len(args)] = i
                    args[name] = hcl(case) if name[0] == "S" else f"jsonencode({hcl(case)})"
            bake_file(directory, args)
            result = bake_print(buildx, directory)
            if result.returncode == 0:
                values = json.loads(result.stdout)["target"]["t"]["args"]
                return Printed(values, lacking, refused)
            errors = [ln.strip() for ln in result.stderr.splitlines() if ln.startswith("ERROR")]
            unknown = set(_UNKNOWN.findall(result.stderr)) - lacking.keys()
            for name in unknown:
                lacking[name] = next(ln for ln in errors if f'"{name}"' in ln)
            if not unknown:
                at = _LINE.search(errors[0]) if errors else None
                assert at and int(at[1]) in lines, f"bake fails:\n{result.stderr[-3000:]}"
                refused[lines[int(at[1])]] = errors[0]


def case_ids(cases: list[Call]) -> list[str]:
    return [hcl(case)[:80] for case in cases]


FUNCTIONS = sorted({call.name for call in CASES})


@pytest.mark.parametrize("function", FUNCTIONS)
def test_bake_functions_give_what_bake_prints(
    printed: Printed, buildx_version: tuple[int, int, int], function: str
) -> None:
    if function in printed.lacking:
        version = ".".join(map(str, buildx_version))
        pytest.skip(f"buildx {version} has no function {function}: {printed.lacking[function]}")
    mismatches = []
    for i, case in enumerate(CASES):
        if case.name != function or functions_of(case) & printed.lacking.keys():
            continue
        if i in printed.refused:
            mismatches.append(f"{hcl(case)}: bake refuses it: {printed.refused[i]}")
            continue
        try:
            value = ours(case)
        except Exception as exc:
            mismatches.append(f"{hcl(case)}: ours fails: {exc!r}")
            continue
        if is_collection(value):
            pairs = [(printed.args[f"C{i}"], json_of(value))]
        else:
            pairs = [(printed.args[f"S{i}"], BAKE_FUNCTIONS["join"]("", [value]))]
            if f"J{i}" in printed.args:
                pairs.append((printed.args[f"J{i}"], json_of(value)))
        for theirs, mine in pairs:
            if theirs != mine:
                mismatches.append(f"{hcl(case)}:\n  bake:   {theirs!r}\n  ours:   {mine!r}")
    assert not mismatches, "\n".join(mismatches)


def test_every_case_is_checked_somewhere() -> None:
    assert set(FUNCTIONS) <= set(BAKE_FUNCTIONS)
    untested = set(BAKE_FUNCTIONS) - set(FUNCTIONS) - UNPREDICTABLE
    assert not untested, f"functions with no case: {sorted(untested)}"


def _refusal(docker: str, call: Call) -> str | None:
    """bake's error for the call, or None when bake answers it."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        bake_file(directory, {"A": f"jsonencode({hcl(call)})"})
        result = bake_print(docker, directory)
    if result.returncode == 0:
        return None
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    return errors[0] if errors else result.stderr[-500:]


@pytest.fixture(scope="module")
def refusals(buildx: str) -> list[str | None]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda call: _refusal(buildx, call), REFUSED))


@pytest.mark.parametrize("index", range(len(REFUSED)), ids=case_ids(REFUSED))
def test_what_bake_refuses_is_refused(
    refusals: list[str | None], buildx_version: tuple[int, int, int], index: int
) -> None:
    call = REFUSED[index]
    refusal = refusals[index]
    if refusal is not None and "There is no function named" in refusal:
        version = ".".join(map(str, buildx_version))
        pytest.skip(f"buildx {version} has no function {call.name}: {refusal}")
    assert refusal is not None, f"bake answers {hcl(call)}"
    with pytest.raises((TypeError, ValueError)):
        ours(call)


@pytest.mark.parametrize(("call", "answer"), LENIENT, ids=[hcl(c) for c, _ in LENIENT])
def test_a_dict_is_taken_as_a_map_where_bake_refuses_an_object(
    buildx: str, call: Call, answer: Any
) -> None:
    refusal = _refusal(buildx, call)
    assert refusal is not None and "collection must be a list, a map or a tuple" in refusal
    assert ours(call) == answer


def _printed_alone(docker: str, expression: str) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        bake_file(directory, {"A": expression})
        result = bake_print(docker, directory)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["target"]["t"]["args"]["A"]  # type: ignore[no-any-return]


UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_uuidv4_is_a_random_uuid_as_bakes(buildx: str) -> None:
    assert UUID_V4.fullmatch(_printed_alone(buildx, "uuidv4()"))
    mine = BAKE_FUNCTIONS["uuidv4"]()
    assert UUID_V4.fullmatch(mine)
    assert mine != BAKE_FUNCTIONS["uuidv4"]()


def test_timestamp_is_now_in_utc_as_bakes(buildx: str) -> None:
    theirs = _printed_alone(buildx, "timestamp()")
    mine = BAKE_FUNCTIONS["timestamp"]()
    form = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert form.fullmatch(theirs) and form.fullmatch(mine)

    def moment(text: str) -> datetime:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    assert abs((moment(mine) - moment(theirs)).total_seconds()) < 120
    assert abs((datetime.now(timezone.utc) - moment(mine)).total_seconds()) < 5

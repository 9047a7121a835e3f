"""bake's standard library of functions, for templates: `{{ split(',', PLATFORMS) }}`.

`docker buildx bake` evaluates HCL with the functions of its bake/hclparser/stdlib.go:
most are go-cty's (cty/function/stdlib), some HashiCorp's go-cty-funcs, a few bake's own.
`BAKE_FUNCTIONS` holds a Python version of each one a template can use, giving bake's
result for the same arguments, so that a bake file translated to buildgraph.toml renders
as bake renders it. What that takes, beyond the obvious:

- Numbers are cty's: binary floating point of 512 bits for what HCL parses (a literal, a
  string, a template's int or float, read as the decimal it prints as), exact while they
  fit, and printed in the fewest digits that read back the same: `divide(1, 3)` is the
  155-digit number bake prints, `add(0.1, 0.2)` is `0.3`. `pow` and `log` compute in
  float64, as cty does. A whole result is an int; any other is a `BakeNumber`, a float
  that prints as bake prints it and keeps its exact value for the next function.
- Strings are NFC-normalised, as cty normalises every string; `strlen`, `substr`,
  `reverse` and the widths of `format` count grapheme clusters (user-perceived
  characters), as cty does; `upper`, `lower`, `title` map one character to one, as Go.
- Regexes are Go's syntax, matched by RE2 (as Go's regexp matches) on the UTF-8 text,
  with Go's rules for empty matches next to a match and for `$1`/`${name}` in
  replacements. (bake's `replace` is cty's: its search string is text, never a regex.)
- Where a function takes a list of strings (`join`, `sort`, ...), numbers and booleans
  in it become strings, as HCL converts them; lists whose items cty unifies (`distinct`,
  `coalesce`, `setunion`, ...) are unified as cty does: `distinct([1, "1"])` is `["1"]`.
- A template's lists are HCL's tuples and its dicts HCL's objects; where bake would take
  the value only as a list or a map (`length` and `index` of a map, ...), these take it so.

Values reaching a function are a template's: str, int, float, bool (and the scope's
BakeBool/BakeFloat), lists and tuples, dicts and other mappings, None (HCL's null).
Results are plain: str, int, `BakeNumber`, bool, list, dict (keys sorted, as cty orders
them). A wrong argument raises TypeError or ValueError with a message naming the
function; none echoes an argument's value beyond what locates the fault.

Bounds (template_limits): no function makes a value of more than MAX_VALUE characters or
items, and each charges work for what it reads and makes, before it makes it where its
result could be far larger than its arguments.

Left out of bake's list: `can` and `try` (they take expressions, not values), `convert`
(it takes a type expression), `homedir` (it reads the machine), `range` (Jinja's bounded
`range` keeps that name), `and`, `or`, `not` (Jinja keywords: use the operators),
`bcrypt` (a random salt: never the same result), `rsadecrypt`, `byteslen`, `bytesslice`
(they take values HCL cannot write).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NoReturn

from buildgraph.resolve.template_limits import MAX_INT_BITS, MAX_VALUE, TemplateLimit, charge

BakeFunction = Callable[..., Any]
_FUNCTIONS: dict[str, BakeFunction] = {}

# --------------------------------------------------------------------------- calls


def _register(name: str, minimum: int, maximum: int | None = None) -> Callable[[Any], Any]:
    """Register the function as bake's `name`, taking `minimum` to `maximum` positional
    arguments (None: any number), charged one unit of work per 256 characters or items
    of its arguments."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                raise TypeError(f"{name}: arguments are positional, as in bake")
            count = len(args)
            if count < minimum or (maximum is not None and count > maximum):
                raise TypeError(f"{name}: {_arity(minimum, maximum)}, not {count}")
            units = 0
            for arg in args:
                if isinstance(arg, str | list | tuple | Mapping):
                    units += len(arg) >> 8
            if units:
                charge(units)
            return function(*args)

        call.__name__ = call.__qualname__ = name
        call.__doc__ = function.__doc__
        _FUNCTIONS[name] = call
        return function

    return register


def _arity(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"takes at least {minimum} argument{'s' if minimum != 1 else ''}"
    if minimum == maximum:
        return f"takes {minimum} argument{'s' if minimum != 1 else ''}"
    return f"takes {minimum} to {maximum} arguments"


def _fail(function: str, message: str) -> NoReturn:
    raise ValueError(f"{function}: {message}")


def _wrong(function: str, message: str) -> NoReturn:
    raise TypeError(f"{function}: {message}")


def _bounded(function: str, size: int) -> None:
    """Refuse, before making it, a value of `size` characters or items over the bound."""
    if size > MAX_VALUE:
        raise TemplateLimit(f"{function} would make a value of {size:,} characters or items")


def _charged(size: int, per: int = 8) -> None:
    """Work for `size` steps done one by one in Python: a unit each 2**per of them."""
    if size >> per:
        charge(size >> per)


# --------------------------------------------------------------------------- values

_NULL, _STRING, _NUMBER, _BOOL, _SEQUENCE, _MAPPING = range(6)
_KIND_NAMES = ("null", "string", "number", "bool", "list", "map")


def _kind(value: Any) -> int:
    """Which of HCL's kinds of value a template's value is."""
    kind = type(value)
    if kind is str:
        return _STRING
    if kind is bool:
        return _BOOL
    if kind is int or kind is float or kind is BakeNumber:
        return _NUMBER
    if kind is list or kind is tuple:
        return _SEQUENCE
    if kind is dict:
        return _MAPPING
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        # the scope's BakeBool (templates.py) prints `true`: a boolean, as in bake
        return _BOOL if type(value).__name__ == "BakeBool" else _NUMBER
    if isinstance(value, float):
        return _NUMBER
    if isinstance(value, str):
        return _STRING
    if isinstance(value, Mapping):
        return _MAPPING
    if isinstance(value, list | tuple):
        return _SEQUENCE
    if value == None:  # noqa: E711 (the scope's null, equal to None)
        return _NULL
    raise TypeError(f"a value of type {type(value).__name__} is not one bake functions take")


def _nfc(text: str) -> str:
    """`text` as cty holds every string: NFC-normalised."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _no_surrogates(text))


def _no_surrogates(text: str) -> str:
    """A lone surrogate (an undecodable byte of a file) as U+FFFD, as Go reads one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return re.sub("[\ud800-\udfff]", "\ufffd", text)
    return text


def _utf8(text: str) -> bytes:
    return text.encode("ascii") if text.isascii() else _no_surrogates(text).encode("utf-8")


# --------------------------------------------------------------------------- numbers

_PREC = 512  # the precision of the numbers HCL parses (cty.ParseNumberVal)
_FLOAT_PREC = 53  # cty.NumberFloatVal's


class _Num:
    """A cty number: m * 2**e held to `prec` bits (Go's big.Float), or an infinity."""

    __slots__ = ("e", "inf", "m", "prec")

    def __init__(self, m: int, e: int, prec: int, inf: int = 0) -> None:
        self.m, self.e, self.prec, self.inf = m, e, prec, inf

    @staticmethod
    def rounded(m: int, e: int, prec: int) -> _Num:
        """m * 2**e rounded to `prec` bits, to nearest, ties to even."""
        if m == 0:
            return _Num(0, 0, prec)
        sign = -1 if m < 0 else 1
        m = abs(m)
        shift = m.bit_length() - prec
        if shift > 0:
            rest = m & ((1 << shift) - 1)
            m >>= shift
            e += shift
            half = 1 << (shift - 1)
            if rest > half or (rest == half and m & 1):
                m += 1
                if m.bit_length() > prec:
                    m >>= 1
                    e += 1
        zeros = (m & -m).bit_length() - 1
        return _Num(sign * (m >> zeros), e + zeros, prec)

    @staticmethod
    def quotient(a: int, b: int, e: int, prec: int) -> _Num:
        """(a / b) * 2**e rounded to `prec` bits (b > 0)."""
        if a == 0:
            return _Num(0, 0, prec)
        sign = -1 if a < 0 else 1
        a = abs(a)
        k = prec + 2 - (a.bit_length() - b.bit_length()) + 1
        q, r = divmod(a << k, b) if k >= 0 else divmod(a, b << -k)
        shift = q.bit_length() - prec
        rest = q & ((1 << shift) - 1)
        q >>= shift
        half = 1 << (shift - 1)
        if rest > half or (rest == half and (r or q & 1)):
            q += 1
        return _Num.rounded(sign * q, e - k + shift, prec)

    def is_int(self) -> bool:
        return not self.inf and (self.m == 0 or self.e >= 0)

    def sign(self) -> int:
        if self.inf:
            return self.inf
        return (self.m > 0) - (self.m < 0)

    def compare(self, other: _Num) -> int:
        if self.inf or other.inf:
            a, b = self.inf, other.inf
            return (a > b) - (a < b)
        e = min(self.e, other.e)
        a = self.m << (self.e - e)
        b = other.m << (other.e - e)
        return (a > b) - (a < b)

    def key(self) -> tuple[int, int, int]:
        """Equal numbers, equal keys."""
        return (self.inf, self.m, self.e if self.m else 0)

    def truncated(self) -> int:
        """The integer part (toward zero), as big.Float.Int gives it."""
        if self.e >= 0:
            return self.m << self.e
        magnitude = abs(self.m) >> -self.e
        return magnitude if self.m >= 0 else -magnitude

    def to_float(self) -> float:
        """The nearest float64, ±inf beyond its range (big.Float.Float64)."""
        if self.inf:
            return math.inf * self.inf
        try:
            return math.ldexp(float(self.m), self.e) if abs(self.m) < 2**53 else _ratio_float(self)
        except OverflowError:
            return math.inf if self.m > 0 else -math.inf


def _ratio_float(number: _Num) -> float:
    from fractions import Fraction

    return float(Fraction(number.m) * Fraction(2) ** number.e)


def _num_of_int(value: int, prec: int = _PREC) -> _Num:
    return _Num.rounded(value, 0, prec)


def _num_of_float(value: float) -> _Num:
    """A float as HCL reads the decimal it prints as."""
    if math.isinf(value):
        return _Num(0, 0, _PREC, 1 if value > 0 else -1)
    if math.isnan(value):
        raise ValueError("NaN is not a number bake has")
    if value.is_integer() and abs(value) < 2**53:
        return _num_of_int(int(value))
    parsed = _parse_decimal(repr(value))
    assert parsed is not None
    return parsed


_DECIMAL = re.compile(r"([+-]?)(?:(inf|Inf)|(\d*)(?:\.(\d*))?(?:([eEpP])([+-]?\d+))?)")


def _parse_decimal(text: str) -> _Num | None:
    """cty.ParseNumberVal: Go's big.ParseFloat(text, 10, 512, ToNearestEven), or None."""
    found = _DECIMAL.fullmatch(text)
    if found is None:
        return None
    sign, infinity, whole, fraction, exponent_kind, exponent = found.groups()
    if infinity:
        return _Num(0, 0, _PREC, -1 if sign == "-" else 1)
    whole, fraction = whole or "", fraction or ""
    if not whole and not fraction:
        return None
    if len(whole) + len(fraction) > 100_000 or (exponent and len(exponent) > 7):
        raise TemplateLimit("a number of that many digits is too large")
    digits = int(whole + fraction) if len(whole + fraction) < 4000 else _big_int(whole + fraction)
    power10 = -len(fraction)
    power2 = 0
    if exponent_kind in ("e", "E"):
        power10 += int(exponent)
    elif exponent_kind in ("p", "P"):
        power2 += int(exponent)
    if abs(power10) > 40_000 or abs(power2) > 140_000:
        raise TemplateLimit("a number with that exponent is too large")
    if sign == "-":
        digits = -digits
    if power10 >= 0:
        return _Num.rounded(digits * 10**power10, power2, _PREC)
    return _Num.quotient(digits, 10**-power10, power2, _PREC)


def _big_int(digits: str) -> int:
    """int(digits) past Python's limit on the digits int() converts."""
    return int(Decimal(digits))


def _num(function: str, what: str, value: Any) -> _Num:
    """An argument HCL converts to a number."""
    kind = _kind(value)
    if kind == _NUMBER:
        if type(value) is BakeNumber:
            return value._exact
        if isinstance(value, float):
            return _num_of_float(float(value))
        return _num_of_int(int(value))
    if kind == _STRING:
        parsed = _parse_decimal(value)
        if parsed is None:
            _wrong(function, f"{what}: a number is required")
        return parsed
    if kind == _NULL:
        _wrong(function, f"{what} must not be null")
    _wrong(function, f"{what}: number required, not a {_KIND_NAMES[kind]}")


def _whole(function: str, what: str, value: Any) -> int:
    """An argument as Go's int (gocty.FromCtyValue): a whole number of 64 bits."""
    number = _num(function, what, value)
    if not number.is_int() or not -(2**63) <= number.truncated() < 2**63:
        _fail(
            function,
            f"{what}: value must be a whole number, between -9223372036854775808 and "
            "9223372036854775807",
        )
    return number.truncated()


class BakeNumber(float):
    """A number bake computed that is not whole: a float, printed as bake prints it (the
    shortest decimal that reads back as the same 512-bit number, `0.1`, not `0.1000...`),
    keeping that number for the next bake function."""

    __slots__ = ("_exact", "_text")

    _exact: _Num
    _text: str

    def __new__(cls, exact: _Num, text: str) -> BakeNumber:
        number = super().__new__(cls, exact.to_float())
        number._exact = exact
        number._text = text
        return number

    def __str__(self) -> str:
        return self._text

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return self._text if not spec else format(float(self), spec)

    def __reduce__(self) -> Any:
        return (float, (float(self),))


def _out_num(number: _Num) -> Any:
    """A cty number as a template's value: an int when whole, else a BakeNumber."""
    if number.inf:
        return BakeNumber(number, "+Inf" if number.inf > 0 else "-Inf")
    if number.is_int():
        if abs(number.m).bit_length() + number.e <= number.prec:
            if number.e > MAX_INT_BITS:
                raise TemplateLimit(f"an integer of more than {MAX_INT_BITS:,} bits is too large")
            return number.truncated()
        if abs(number.m).bit_length() + number.e > MAX_INT_BITS:
            raise TemplateLimit(f"an integer of more than {MAX_INT_BITS:,} bits is too large")
        return _big_int(_text(number))  # past its precision: the digits bake prints
    return BakeNumber(number, _text(number))


# Go's math/big decimal conversion, for printing numbers as bake prints them.


def _digits_of(value: int) -> str:
    if value.bit_length() < 10_000:
        return str(value)
    charge(value.bit_length() >> 8)
    return format(Decimal(value), "f")


class _Decimal:
    """math/big's decimal: 0.digits * 10**exp, no trailing zeros (digits '' for zero)."""

    __slots__ = ("digits", "exp")

    def __init__(self, m: int, e: int) -> None:
        m = abs(m)
        if m == 0:
            self.digits, self.exp = "", 0
            return
        if e >= 0:
            text = _digits_of(m << e)
            exp = len(text)
        else:
            if -e > 2_000_000:
                raise TemplateLimit("the number is too small to print")
            text = _digits_of(m * 5**-e)
            exp = len(text) + e
        stripped = text.rstrip("0")
        self.digits, self.exp = stripped, exp

    def at(self, i: int) -> str:
        return self.digits[i] if 0 <= i < len(self.digits) else "0"

    def round(self, n: int) -> None:
        if n < 0 or n >= len(self.digits):
            return
        if self._should_round_up(n):
            self.round_up(n)
        else:
            self.round_down(n)

    def _should_round_up(self, n: int) -> bool:
        if self.digits[n] == "5" and n + 1 == len(self.digits):
            return n > 0 and int(self.digits[n - 1]) % 2 == 1
        return self.digits[n] >= "5"

    def round_up(self, n: int) -> None:
        if n < 0 or n >= len(self.digits):
            return
        while n > 0 and self.digits[n - 1] >= "9":
            n -= 1
        if n == 0:
            self.digits = "1"
            self.exp += 1
            return
        self.digits = self.digits[: n - 1] + chr(ord(self.digits[n - 1]) + 1)

    def round_down(self, n: int) -> None:
        if n < 0 or n >= len(self.digits):
            return
        self.digits = self.digits[:n].rstrip("0")


def _round_shortest(d: _Decimal, number: _Num) -> None:
    """math/big's roundShortest: the fewest digits that read back as `number`."""
    if not d.digits:
        return
    mant = abs(number.m)
    exp = number.e
    s = mant.bit_length() - (number.prec + 1)
    if s < 0:
        mant <<= -s
    elif s > 0:
        mant >>= s
    exp += s
    lower = _Decimal(mant - 1, exp)
    upper = _Decimal(mant + 1, exp)
    inclusive = (mant & 2) == 0
    for i, m in enumerate(d.digits):
        low, up = lower.at(i), upper.at(i)
        okdown = low != m or (inclusive and i + 1 == len(lower.digits))
        okup = m != up and (inclusive or chr(ord(m) + 1) < up or i + 1 < len(upper.digits))
        if okdown and okup:
            d.round(i + 1)
            return
        if okdown:
            d.round_down(i + 1)
            return
        if okup:
            d.round_up(i + 1)
            return


def _fmt_e(verb: str, prec: int, d: _Decimal) -> str:
    out = [d.digits[0] if d.digits else "0"]
    if prec > 0:
        out.append(".")
        out.append(d.digits[1 : prec + 1])
        out.append("0" * (prec + 1 - max(len(d.digits), 1)))
    exp = d.exp - 1 if d.digits else 0
    out.append(verb)
    out.append("-" if exp < 0 else "+")
    out.append(f"{abs(exp):02d}")
    return "".join(out)


def _fmt_f(prec: int, d: _Decimal) -> str:
    whole = d.digits[: d.exp] + "0" * max(d.exp - len(d.digits), 0) if d.exp > 0 else "0"
    if prec <= 0:
        return whole
    start = d.exp
    fraction = "0" * min(max(-start, 0), prec) + d.digits[max(start, 0) :]
    return whole + "." + (fraction + "0" * (prec - len(fraction)))[:prec]


def _float_text(number: _Num, verb: str, prec: int) -> str:
    """Go's (*big.Float).Text(verb, prec): verb one of e E f g G; prec < 0 for the
    fewest digits that read back the same."""
    sign = "-" if number.m < 0 or number.inf < 0 else ""
    if number.inf:
        return sign + ("+" if number.inf > 0 else "") + "Inf"
    d = _Decimal(number.m, number.e)
    shortest = prec < 0
    if shortest:
        _round_shortest(d, number)
        if verb in "eE":
            prec = len(d.digits) - 1
        elif verb == "f":
            prec = max(len(d.digits) - d.exp, 0)
        else:
            prec = len(d.digits)
    elif verb in "eE":
        d.round(1 + prec)
    elif verb == "f":
        d.round(d.exp + prec)
    else:
        prec = prec or 1
        d.round(prec)
    if verb in "eE":
        return sign + _fmt_e(verb, prec, d)
    if verb == "f":
        return sign + _fmt_f(prec, d)
    eprec = prec
    if eprec > len(d.digits) and len(d.digits) >= d.exp:
        eprec = len(d.digits)
    if shortest:
        eprec = 6
    exp = d.exp - 1
    if exp < -4 or exp >= eprec:
        if prec > len(d.digits):
            prec = len(d.digits)
        return sign + _fmt_e("e" if verb == "g" else "E", prec - 1, d)
    if prec > d.exp:
        prec = len(d.digits)
    return sign + _fmt_f(max(prec - d.exp, 0), d)


def _text(number: _Num) -> str:
    """A number as bake prints it (cty: Text('f', -1))."""
    if not number.inf and number.is_int() and abs(number.m).bit_length() + number.e <= number.prec:
        return _digits_of(number.truncated())
    return _float_text(number, "f", -1)


def _number_text(value: Any) -> str:
    """A template's number as bake prints it."""
    kind = type(value)
    if kind is int:
        return str(value) if value.bit_length() < 10_000 else _digits_of(value)
    if kind is BakeNumber:
        return str(value._text)
    return _text(_num("tostring", "the number", value))


def _finite_float(function: str, value: float) -> _Num:
    """A float64 result as cty.NumberFloatVal makes it (53 bits); NaN is refused."""
    if math.isnan(value):
        _fail(function, "the result is not a number")
    if math.isinf(value):
        return _Num(0, 0, _FLOAT_PREC, 1 if value > 0 else -1)
    mantissa, exponent = math.frexp(value)
    return _Num.rounded(int(mantissa * 2**53), exponent - 53, _FLOAT_PREC)


# --------------------------------------------------------------------------- conversions


def _string(function: str, what: str, value: Any) -> str:
    """An argument HCL converts to a string: numbers and booleans print as bake prints."""
    kind = _kind(value)
    if kind == _STRING:
        return _nfc(value)
    if kind == _NUMBER:
        return _number_text(value)
    if kind == _BOOL:
        return "true" if value else "false"
    if kind == _NULL:
        _wrong(function, f"{what} must not be null")
    _wrong(function, f"{what} must be a string, not a {_KIND_NAMES[kind]}")


def _boolean(function: str, what: str, value: Any) -> bool:
    kind = _kind(value)
    if kind == _BOOL:
        return bool(value)
    if kind == _STRING:
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        _wrong(function, f"{what}: a bool is required")
    if kind == _NULL:
        _wrong(function, f"{what} must not be null")
    _wrong(function, f"{what}: bool required, not a {_KIND_NAMES[kind]}")


def _items(function: str, what: str, value: Any) -> Sequence[Any]:
    """A list argument (a list, a tuple, or a set: a template's list or tuple)."""
    kind = _kind(value)
    if kind == _SEQUENCE:
        return value  # type: ignore[no-any-return]
    if kind == _NULL:
        _wrong(function, f"{what} must not be null")
    _wrong(function, f"{what} must be a list, not a {_KIND_NAMES[kind]}")


def _entries(function: str, what: str, value: Any) -> Mapping[str, Any]:
    kind = _kind(value)
    if kind == _MAPPING:
        return value  # type: ignore[no-any-return]
    if kind == _NULL:
        _wrong(function, f"{what} must not be null")
    _wrong(function, f"{what} must be a map, not a {_KIND_NAMES[kind]}")


def _strings(function: str, what: str, value: Any, nulls: bool = False) -> list[str | None]:
    """A list(string) argument: each item converted to a string (None for a null item
    where `nulls`)."""
    out: list[str | None] = []
    items = _items(function, what, value)
    _charged(len(items), 4)
    for index, item in enumerate(items):
        kind = _kind(item)
        if kind == _NULL:
            if not nulls:
                _fail(function, f"{what}: item {index} is null; cannot concatenate null values")
            out.append(None)
            continue
        if kind not in (_STRING, _NUMBER, _BOOL):
            _wrong(function, f"{what}: item {index} must be a string, not a {_KIND_NAMES[kind]}")
        out.append(_string(function, what, item))
    return out


# cty types, for unification: "string", "number", "bool", "dynamic" (what a null has, or
# anything), ("list", T), ("map", T), ("tuple", (T, ...)), ("object", ((name, T), ...)).
_DYNAMIC = "dynamic"
_PRIMITIVE_TYPES = ("string", "number", "bool")


def _type(value: Any) -> Any:
    kind = _kind(value)
    if kind == _SEQUENCE:
        return ("tuple", tuple(_type(item) for item in value))
    if kind == _MAPPING:
        return ("object", tuple(sorted((_key_text(k), _type(v)) for k, v in value.items())))
    return (_DYNAMIC, "string", "number", "bool")[kind]


def _unify(types: Sequence[Any]) -> Any:
    """cty's convert.UnifyUnsafe, for the types values have: the type all convert to, or
    None when there is none."""
    known = [t for t in types if t != _DYNAMIC]
    if not known:
        return _DYNAMIC
    first = known[0]
    if all(t == first for t in known):
        return first
    if all(t in _PRIMITIVE_TYPES for t in known):
        return "string" if "string" in known else None  # a number and a bool: none
    if any(t in _PRIMITIVE_TYPES for t in known):
        return None
    heads = {t[0] for t in known}
    if heads <= {"list", "tuple"}:
        elements: list[Any] = []
        for t in known:
            elements.extend(t[1] if t[0] == "tuple" else (t[1],))
        if all(t[0] == "tuple" for t in known) and len({len(t[1]) for t in known}) == 1:
            columns = [_unify(column) for column in zip(*(t[1] for t in known), strict=True)]
            if all(c is not None for c in columns):
                return ("tuple", tuple(columns))
            return None
        element = _unify(elements)
        return None if element is None else ("list", element)
    if heads <= {"map", "object"}:
        if (
            all(t[0] == "object" for t in known)
            and len({tuple(n for n, _ in t[1]) for t in known}) == 1
        ):
            names = [n for n, _ in known[0][1]]
            columns = [_unify([dict(t[1])[n] for t in known]) for n in names]
            if all(c is not None for c in columns):
                return ("object", tuple(zip(names, columns, strict=True)))
            return None
        elements = []
        for t in known:
            if t[0] == "object":
                elements.extend(v for _, v in t[1])
            else:
                elements.append(t[1])
        element = _unify(elements)
        return None if element is None else ("map", element)
    return None


def _convert(value: Any, target: Any) -> Any:
    """`value` converted to the cty type `target` (one `_unify` gave); ValueError when it
    does not convert."""
    if _kind(value) == _NULL:
        return None
    if target == _DYNAMIC:
        return value
    if target == "string":
        return _string("convert", "the value", value)
    if target == "number":
        return _out_num(_num("convert", "the value", value))
    if target == "bool":
        return _boolean("convert", "the value", value)
    head = target[0]
    if head == "list":
        return [_convert(item, target[1]) for item in _items("convert", "the value", value)]
    if head == "tuple":
        return [_convert(item, t) for item, t in zip(value, target[1], strict=True)]
    if head == "map":
        return {_key_text(k): _convert(v, target[1]) for k, v in sorted(_pairs(value))}
    types = dict(target[1])
    return {k: _convert(v, types[k]) for k, v in sorted(_pairs(value))}


def _unified(function: str, what: str, values: Sequence[Any]) -> list[Any]:
    """Values unified as cty unifies the items of a list: all of one type."""
    charge(len(values) >> 3)
    target = _unify([_type(v) for v in values])
    if target is None:
        _wrong(function, f"{what}: all items must have the same type")
    try:
        return [_convert(v, target) for v in values]
    except (TypeError, ValueError):
        _wrong(function, f"{what}: all items must have the same type")


def _key_text(key: Any) -> str:
    """A key of a map: HCL's keys are strings."""
    kind = _kind(key)
    if kind in (_STRING, _NUMBER, _BOOL):
        return _string("map", "a key", key)
    _wrong("map", f"a key must be a string, not a {_KIND_NAMES[kind]}")


def _pairs(mapping: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    return [(_key_text(k), v) for k, v in mapping.items()]


def _sorted_map(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A map as cty orders it: by key (later pairs win)."""
    merged = dict(pairs)
    return {k: merged[k] for k in sorted(merged)}


def _equal(a: Any, b: Any) -> bool:
    """cty's Value.Equals: values of one type, equal (numbers by value)."""
    ka, kb = _kind(a), _kind(b)
    if ka == _NULL or kb == _NULL:
        return ka == kb
    if ka != kb:
        return False
    if ka == _STRING:
        return _nfc(a) == _nfc(b)
    if ka == _NUMBER:
        return _num("equal", "a", a).compare(_num("equal", "b", b)) == 0
    if ka == _BOOL:
        return bool(a) == bool(b)
    if ka == _SEQUENCE:
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    pa, pb = dict(_pairs(a)), dict(_pairs(b))
    return pa.keys() == pb.keys() and all(_equal(pa[k], pb[k]) for k in pa)


def _key(value: Any) -> Any:
    """A hashable key: equal (`_equal`) values, equal keys."""
    kind = _kind(value)
    if kind == _STRING:
        return (kind, _nfc(value))
    if kind == _NUMBER:
        return (kind, _num("key", "value", value).key())
    if kind == _BOOL:
        return (kind, bool(value))
    if kind == _SEQUENCE:
        return (kind, tuple(_key(v) for v in value))
    if kind == _MAPPING:
        return (kind, tuple(sorted((k, _key(v)) for k, v in _pairs(value))))
    return (kind,)


def _set_order(values: list[Any], element: Any) -> list[Any]:
    """A set's items (of the cty type `element`) in cty's order: strings, numbers and
    booleans sorted, others by their hash text; nulls last."""
    nulls = [v for v in values if _kind(v) == _NULL]
    rest = [v for v in values if _kind(v) != _NULL]
    if element == "string":
        rest.sort(key=_nfc)
    elif element == "number":
        from functools import cmp_to_key

        rest.sort(key=cmp_to_key(lambda x, y: _num("set", "x", x).compare(_num("set", "y", y))))
    elif element == "bool":
        rest.sort(key=bool)
    else:
        rest.sort(key=lambda v: _utf8(_hash_text(v, element)))
    return rest + nulls


def _hash_text(value: Any, of: Any) -> str:
    """cty's set hash text of a value of the type `of` (orders a set's collections)."""
    kind = _kind(value)
    if kind == _NULL:
        return "~"
    if of == _DYNAMIC:
        of = _type(value)
    if of == "string" or kind == _STRING:
        return _go_quote(_string("set", "an item", value))
    if of == "number" or kind == _NUMBER:
        return _float_text(_num("set", "an item", value), "g", 10)
    if of == "bool" or kind == _BOOL:
        return "T" if value else "F"
    head = of[0]
    if kind == _SEQUENCE:
        types = of[1] if head == "tuple" else [of[1]] * len(value)
        inner = "".join(_hash_text(v, t) + ";" for v, t in zip(value, types, strict=False))
        return f"<{inner}>" if head == "tuple" else f"[{inner}]"
    pairs = sorted(_pairs(value))
    if head == "map":
        return "{" + "".join(f"{_go_quote(k)}:{_hash_text(v, of[1])};" for k, v in pairs) + "}"
    types = dict(of[1]) if head == "object" else {}
    return "<" + "".join(_hash_text(v, types.get(k, _DYNAMIC)) + ";" for k, v in pairs) + ">"


_GO_QUOTES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def _go_quote(text: str) -> str:
    """Go's %q (strconv.Quote) of a string."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code in _GO_QUOTES:
            out.append(_GO_QUOTES[code])
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _distinct(values: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for value in values:
        key = _key(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


# --------------------------------------------------------------------------- JSON

_JSON_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_JSON_ESCAPES.update(
    {
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
        0x08: "\\b",
        0x0C: "\\f",
        ord("<"): "\\u003c",
        ord(">"): "\\u003e",
        ord("&"): "\\u0026",
        0x2028: "\\u2028",
        0x2029: "\\u2029",
    }
)


def _json_string(text: str) -> str:
    """A string as Go's encoding/json writes it (HTML-safe: `<` as \\u003c)."""
    return '"' + _no_surrogates(text).translate(_JSON_ESCAPES) + '"'


def _json(value: Any, function: str = "jsonencode") -> str:
    """A value as cty's JSON: maps by key, numbers as bake prints them."""
    out: list[str] = []
    size = 0
    steps = 0

    def write(piece: str) -> None:
        nonlocal size
        size += len(piece)
        if size > MAX_VALUE:
            raise TemplateLimit(f"{function} would make more than {MAX_VALUE:,} characters")
        out.append(piece)

    stack: list[Any] = [value]
    marker = object()
    while stack:
        item = stack.pop()
        steps += 1
        if steps & 15 == 0:
            charge(1)
        if type(item) is tuple and item and item[0] is marker:
            write(item[1])
            continue
        kind = _kind(item)
        if kind == _STRING:
            write(_json_string(_nfc(item)))
        elif kind == _NUMBER:
            number = _num(function, "a number", item)
            if number.inf:
                _fail(function, "cannot serialize infinity as JSON")
            write(_number_text(item))
        elif kind == _BOOL:
            write("true" if item else "false")
        elif kind == _NULL:
            write("null")
        elif kind == _SEQUENCE:
            write("[")
            stack.append((marker, "]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append(item[index])
                if index:
                    stack.append((marker, ","))
        else:
            pairs = sorted(_pairs(item))
            write("{")
            stack.append((marker, "}"))
            for index in range(len(pairs) - 1, -1, -1):
                k, v = pairs[index]
                stack.append(v)
                stack.append((marker, _json_string(_nfc(k)) + ":"))
                if index:
                    stack.append((marker, ","))
    return "".join(out)


def _json_value(text: str) -> Any:
    import json

    def number(digits: str) -> Any:
        charge(1)
        parsed = _parse_decimal(digits)
        assert parsed is not None
        return _out_num(parsed)

    def constant(name: str) -> NoReturn:
        raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")

    return json.loads(text, parse_float=number, parse_int=number, parse_constant=constant)


# --------------------------------------------------------------------------- graphemes

_CR, _LF, _CONTROL, _EXTEND, _ZWJ, _RI, _PREPEND, _SPACING, _L, _V, _T, _LV, _LVT = range(13)
_PICTOGRAPHIC, _OTHER = 13, 14

_OTHER_EXTEND = frozenset(
    (0x09BE, 0x09D7, 0x0B3E, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6, 0x0D3E,
     0x0D57, 0x0DCF, 0x0DDF, 0x1B35, 0x200C, 0x302E, 0x302F, 0xFF9E, 0xFF9F, 0x1133E,
     0x11357, 0x114B0, 0x114BD, 0x115AF, 0x11930, 0x1D165, *range(0x1D16E, 0x1D173))
)  # fmt: skip
_NOT_SPACING = frozenset(
    (0x102B, 0x102C, 0x1038, 0x1062, 0x1063, 0x1064, *range(0x1067, 0x106E), 0x1083,
     *range(0x1087, 0x108D), 0x108F, 0x109A, 0x109B, 0x109C, 0x1A61, 0x1A63, 0x1A64,
     0xAA7B, 0xAA7D, 0x11720, 0x11721)
)  # fmt: skip
_PREPENDS = frozenset(
    (*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD,
     0x110CD, 0x111C2, 0x111C3, 0x1193F, 0x11941, 0x11A3A, *range(0x11A84, 0x11A8A),
     0x11D46)
)  # fmt: skip
_PICTOGRAPHS = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x2388, 0x2388), (0x23CF, 0x23CF),
    (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB),
    (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x27BF),
    (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50),
    (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297),
    (0x3299, 0x3299), (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F), (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171), (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A), (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA), (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F), (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F), (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945), (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)  # fmt: skip
_BREAK_CACHE: dict[str, int] = {}


def _break_property(char: str) -> int:
    """The character's Grapheme_Cluster_Break (with Extended_Pictographic), as far as
    Python's unicodedata tells it."""
    found = _BREAK_CACHE.get(char)
    if found is not None:
        return found
    cp = ord(char)
    category = unicodedata.category(char)
    if cp == 0x0D:
        prop = _CR
    elif cp == 0x0A:
        prop = _LF
    elif cp == 0x200D:
        prop = _ZWJ
    elif 0x1F1E6 <= cp <= 0x1F1FF:
        prop = _RI
    elif cp in _PREPENDS:
        prop = _PREPEND
    elif (
        category in ("Mn", "Me")
        or cp in _OTHER_EXTEND
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    ):
        prop = _EXTEND
    elif category in ("Cc", "Zl", "Zp", "Cf"):
        prop = _CONTROL
    elif (category == "Mc" and cp not in _NOT_SPACING) or cp in (0x0E33, 0x0EB3):
        prop = _SPACING
    elif 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        prop = _L
    elif 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        prop = _V
    elif 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        prop = _T
    elif 0xAC00 <= cp <= 0xD7A3:
        prop = _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    elif any(low <= cp <= high for low, high in _PICTOGRAPHS):
        prop = _PICTOGRAPHIC
    else:
        prop = _OTHER
    if len(_BREAK_CACHE) < 65536:
        _BREAK_CACHE[char] = prop
    return prop


_BREAKS_AFTER = frozenset({_CONTROL, _CR, _LF})
_HANGUL_JOINS = {_L: (_L, _V, _LV, _LVT), _LV: (_V, _T), _V: (_V, _T), _LVT: (_T,), _T: (_T,)}


def _joined(previous: int, prop: int, zwj_after_pictograph: bool, regional: int) -> bool:
    """Whether UAX #29 keeps the two characters in one cluster (rules GB3 to GB13)."""
    if previous == _CR and prop == _LF:
        return True
    if previous in _BREAKS_AFTER or prop in _BREAKS_AFTER:
        return False
    if prop in _HANGUL_JOINS.get(previous, ()):
        return True
    if prop in (_EXTEND, _ZWJ, _SPACING) or previous == _PREPEND:
        return True
    if previous == _ZWJ and prop == _PICTOGRAPHIC:
        return zwj_after_pictograph
    if previous == _RI and prop == _RI:
        return regional % 2 == 1
    return False


def _cluster_starts(text: str) -> list[int]:
    """Where each grapheme cluster of `text` starts (UAX #29's extended clusters, as
    go-textseg finds them)."""
    if text.isascii():
        if "\r\n" not in text:
            return list(range(len(text)))
        return [i for i in range(len(text)) if not (text[i] == "\n" and i and text[i - 1] == "\r")]
    _charged(len(text), 4)
    starts = [0] if text else []
    previous = _break_property(text[0]) if text else _OTHER
    pictographic_run = previous == _PICTOGRAPHIC  # ExtPict Extend* so far
    zwj_after_pictograph = False
    regional = 1 if previous == _RI else 0  # RIs in a row before this one
    for index in range(1, len(text)):
        prop = _break_property(text[index])
        joined = _joined(previous, prop, zwj_after_pictograph, regional)
        if not joined:
            starts.append(index)
        # the state the next character's rules read
        zwj_after_pictograph = prop == _ZWJ and pictographic_run
        if prop == _PICTOGRAPHIC:
            pictographic_run = True
        elif prop != _EXTEND:
            pictographic_run = False
        regional = regional + 1 if prop == _RI else 0
        previous = prop
    return starts


def _clusters(text: str) -> list[str]:
    starts = _cluster_starts(text)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _cluster_count(text: str) -> int:
    if text.isascii():
        return len(text) - text.count("\r\n")
    return len(_cluster_starts(text))


def _cluster_prefix(text: str, count: int) -> str:
    """The first `count` grapheme clusters of `text`."""
    if count <= 0:
        return ""
    starts = _cluster_starts(text)
    return text if count >= len(starts) else text[: starts[count]]


# --------------------------------------------------------------------------- strings


@_register("upper", 1, 1)
def upper(text: Any) -> str:
    """The string with each letter upper case (Go's strings.ToUpper)."""
    return _mapped(_string("upper", "the string", text), "upper")


@_register("lower", 1, 1)
def lower(text: Any) -> str:
    """The string with each letter lower case (Go's strings.ToLower)."""
    return _mapped(_string("lower", "the string", text), "lower")


_CASE_CACHE: dict[tuple[str, str], str] = {}


def _one_to_one(char: str, how: str) -> str:
    """Go's unicode.ToUpper/ToLower/ToTitle: a character's simple case mapping, one
    character to one (Python's str methods give the full mappings: `ß` to `SS`)."""
    found = _CASE_CACHE.get((char, how))
    if found is not None:
        return found
    if how == "lower":
        mapped = "i" if char == "\u0130" else char.lower()
        candidates = [mapped]
    elif how == "upper":
        candidates = [char.upper(), char.title()]
    else:
        candidates = [char.title(), char.upper()]
    mapped = next((c for c in candidates if len(c) == 1), char)
    if len(_CASE_CACHE) < 65536:
        _CASE_CACHE[(char, how)] = mapped
    return mapped


def _mapped(text: str, how: str) -> str:
    if text.isascii():
        return text.upper() if how == "upper" else text.lower()
    _charged(len(text), 4)
    return _nfc("".join([_one_to_one(c, how) for c in text]))


_ASCII_WORD_START = re.compile(r"(?<![0-9A-Za-z_])[a-z]")


@_register("title", 1, 1)
def title(text: Any) -> str:
    """The string with the first letter of each word title case (Go's strings.Title: a
    word follows anything but a letter, a digit or `_`)."""
    text = _string("title", "the string", text)
    if text.isascii():
        return _ASCII_WORD_START.sub(lambda found: found.group().upper(), text)
    _charged(len(text), 4)
    out = []
    previous = " "
    for char in text:
        out.append(_one_to_one(char, "title") if _separates_words(previous) else char)
        previous = char
    return _nfc("".join(out))


def _separates_words(char: str) -> bool:
    if char.isascii():
        return not (char.isalnum() or char == "_")
    if char.isalpha() or char.isdecimal():
        return False
    return char.isspace()


@_register("strlen", 1, 1)
def strlen(text: Any) -> int:
    """The number of characters (grapheme clusters) in the string."""
    return _cluster_count(_string("strlen", "the string", text))


@_register("substr", 3, 3)
def substr(text: object, offset: object, length: object) -> str:
    """`length` characters (grapheme clusters) from `offset`: a negative offset counts
    from the end, a negative length takes the rest."""
    text = _string("substr", "the string", text)
    start = _whole("substr", "the offset", offset)
    count = _whole("substr", "the length", length)
    starts = _cluster_starts(text)
    total = len(starts)
    if start < 0:
        start += total  # (still negative: from the start; then a length 0 takes all)
    elif count == 0:
        return ""
    first = max(start, 0)
    if first and first >= total:
        return ""
    begin = starts[first] if first else 0
    if count <= 0 or first + count >= total:
        return text[begin:]
    return text[begin : starts[first + count]]


@_register("reverse", 1, 1)
def reverse(text: object) -> str:
    """The string's characters (grapheme clusters) in reverse order."""
    text = _string("reverse", "the string", text)
    if text.isascii() and "\r\n" not in text:
        return text[::-1]
    return _nfc("".join(reversed(_clusters(text))))


@_register("split", 2, 2)
def split(separator: object, text: object) -> list[str]:
    """The parts of `text` between the separators (every character when it is empty)."""
    separator = _string("split", "the separator", separator)
    text = _string("split", "the string", text)
    if separator == "":
        return list(text)  # Go splits into UTF-8 sequences: code points
    return text.split(separator)


@_register("join", 1)
def join(separator: object, *lists: object) -> str:
    """The items of the lists, in order, with the separator between them."""
    separator = _string("join", "the separator", separator)
    if not lists:
        _fail("join", "at least one list is required")
    items: list[str] = []
    for index, listed in enumerate(lists, 1):
        what = "the list" if len(lists) == 1 else f"list {index}"
        strings = _strings("join", what, listed)
        items.extend(s for s in strings if s is not None)
    _bounded("join", sum(map(len, items)) + len(separator) * max(len(items) - 1, 0))
    return separator.join(items)


@_register("replace", 3, 3)
def replace(text: object, search: object, replacement: object) -> str:
    """`text` with every `search` in it replaced: cty's replace, whose search string is
    always text (Terraform's reads `/.../` as a regex; bake's does not)."""
    text = _string("replace", "the string", text)
    search = _string("replace", "the search string", search)
    replacement = _string("replace", "the replacement", replacement)
    count = text.count(search) if search else len(text) + 1
    _bounded("replace", len(text) + count * (len(replacement) - len(search)))
    return text.replace(search, replacement)


_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
_GO_SPACE += "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


@_register("trimspace", 1, 1)
def trimspace(text: Any) -> str:
    """The string without the white space (Unicode's) at its start and end."""
    return _string("trimspace", "the string", text).strip(_GO_SPACE)


@_register("trim", 2, 2)
def trim(text: object, characters: object) -> str:
    """The string without the given characters at its start and end."""
    text = _string("trim", "the string", text)
    return text.strip(_string("trim", "the characters", characters))


@_register("trimprefix", 2, 2)
def trimprefix(text: object, prefix: object) -> str:
    """The string without the prefix, when it starts with it."""
    text = _string("trimprefix", "the string", text)
    prefix = _string("trimprefix", "the prefix", prefix)
    return text[len(prefix) :] if text.startswith(prefix) else text


@_register("trimsuffix", 2, 2)
def trimsuffix(text: object, suffix: object) -> str:
    """The string without the suffix, when it ends with it."""
    text = _string("trimsuffix", "the string", text)
    suffix = _string("trimsuffix", "the suffix", suffix)
    return text[: len(text) - len(suffix)] if suffix and text.endswith(suffix) else text


@_register("chomp", 1, 1)
def chomp(text: Any) -> str:
    """The string without the line breaks at its end."""
    return _string("chomp", "the string", text).rstrip("\r\n")


@_register("indent", 2, 2)
def indent(spaces: object, text: object) -> str:
    """The string with `spaces` spaces before each line but the first."""
    count = _whole("indent", "the number of spaces", spaces)
    text = _string("indent", "the string", text)
    if count < 0:
        _fail("indent", "the number of spaces must not be negative")
    _bounded("indent", len(text) + text.count("\n") * count)
    return text.replace("\n", "\n" + " " * count)


@_register("sanitize", 1, 1)
def sanitize(name: Any) -> str:
    """The string with each character but ASCII letters, digits, `_` and `-` as `_`: a
    name bake takes for a target."""
    return _UNSAFE_NAME.sub("_", _string("sanitize", "the name", name))


_UNSAFE_NAME = re.compile(r"[^a-zA-Z0-9_-]")


@_register("basename", 1, 1)
def basename(path: Any) -> str:
    """The last element of a slash-separated path (Go's path.Base)."""
    text = _string("basename", "the path", path)
    if text == "":
        return "."
    text = text.rstrip("/")
    if text == "":
        return "/"
    return text[text.rfind("/") + 1 :]


@_register("dirname", 1, 1)
def dirname(path: Any) -> str:
    """All but the last element of a slash-separated path (Go's path.Dir)."""
    text = _string("dirname", "the path", path)
    return _clean_path(text[: text.rfind("/") + 1])


def _clean_path(path: str) -> str:
    """Go's path.Clean."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


# --------------------------------------------------------------------------- encodings


def _hash(name: str, algorithm: str) -> None:
    def digest(text: Any) -> str:
        data = _utf8(_string(name, "the string", text))
        _charged(len(data), 10)
        return hashlib.new(algorithm, data).hexdigest()

    digest.__doc__ = f"The {algorithm.upper()} hash of the string's UTF-8, in hex."
    _register(name, 1, 1)(digest)


for _algorithm in ("md5", "sha1", "sha256", "sha512"):
    _hash(_algorithm, _algorithm)


@_register("base64encode", 1, 1)
def base64encode(text: Any) -> str:
    """The string's UTF-8 in base64 (padded)."""
    data = _utf8(_string("base64encode", "the string", text))
    _bounded("base64encode", (len(data) + 2) // 3 * 4)
    return base64.b64encode(data).decode("ascii")


@_register("base64decode", 1, 1)
def base64decode(text: Any) -> str:
    """The string base64 holds (padded; line breaks are skipped), which must be UTF-8."""
    encoded = _string("base64decode", "the string", text)
    encoded = encoded.replace("\r", "").replace("\n", "")
    try:
        data = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        _fail("base64decode", "the string is not valid base64 (padded, standard alphabet)")
    try:
        return _nfc(data.decode("utf-8"))
    except UnicodeDecodeError:
        _fail("base64decode", "the decoded bytes are not valid UTF-8")


@_register("urlencode", 1, 1)
def urlencode(text: Any) -> str:
    """The string escaped for a URL's query (Go's url.QueryEscape: a space as `+`)."""
    from urllib.parse import quote_plus

    data = _utf8(_string("urlencode", "the string", text))
    _bounded("urlencode", len(data) * 3)
    return quote_plus(data, safe="")


@_register("uuidv4", 0, 0)
def uuidv4() -> str:
    """A random UUID (version 4)."""
    import uuid

    return str(uuid.uuid4())


_UUID_NAMESPACES = {
    "dns": "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "url": "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
    "oid": "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
    "x500": "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
}
_UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


@_register("uuidv5", 2, 2)
def uuidv5(namespace: Any, name: Any) -> str:
    """The UUID (version 5) of `name` in the namespace: dns, url, oid, x500 or a UUID."""
    import uuid

    space = _string("uuidv5", "the namespace", namespace)
    text = _UUID_NAMESPACES.get(space)
    if text is None:
        text = _go_uuid(space)
    return str(uuid.uuid5(uuid.UUID(text), _string("uuidv5", "the name", name)))


def _go_uuid(text: str) -> str:
    """The UUID google/uuid's Parse reads in `text` (its four spellings)."""
    if len(text) == 36 + 9 and text[:9].lower() == "urn:uuid:":
        text = text[9:]
    elif len(text) == 38 and text[0] == "{" and text[-1] == "}":
        text = text[1:-1]
    elif len(text) == 32 and re.fullmatch(r"[0-9a-fA-F]{32}", text):
        return text
    if len(text) != 36 or not _UUID_TEXT.fullmatch(text):
        _fail("uuidv5", "the namespace must be dns, url, oid, x500 or a UUID")
    return text


# --------------------------------------------------------------------------- regexes


class _GoRegexp:
    """A regex of Go's syntax, compiled by RE2 for the UTF-8 of the text."""

    __slots__ = ("anchor", "compiled", "groups", "match", "names")

    def __init__(self, function: str, pattern: str) -> None:
        import re2

        if _has_byte_escape(pattern):
            _fail(function, "invalid regexp pattern: invalid escape sequence: `\\C`")
        options = re2.Options()
        options.log_errors = False
        try:
            self.compiled = re2.compile(_utf8(pattern), options)
        except re2.error as exc:
            detail = exc.args[0] if exc.args else ""
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            _fail(function, f"invalid regexp pattern: {detail}")
        self.groups: int = self.compiled.groups
        names: list[str] = [""] * (self.groups + 1)
        for group_name, index in self.compiled.groupindex.items():
            names[index] = (
                group_name.decode("utf-8") if isinstance(group_name, bytes) else group_name
            )
        self.names = names
        # RE2's own search, without the re-like wrapper's objects: a match is a list of
        # (start, end) spans, (-1, -1) for a group that took no part
        inner = getattr(self.compiled, "_regexp", None)
        anchors = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
        self.match = getattr(inner, "Match", None)
        self.anchor = getattr(anchors, "UNANCHORED", None)

    def search(self, text: bytes, pos: int) -> list[tuple[int, int]] | None:
        """The spans of the first match at or after `pos` (of the whole text: `^` and
        `\\b` read what comes before `pos`), or None."""
        if self.match is not None and self.anchor is not None:
            spans: list[tuple[int, int]] = self.match(self.anchor, text, pos, len(text))
            return None if spans[0][0] < 0 else spans
        found = self.compiled.search(text, pos)
        if found is None:
            return None
        return [found.span(i) for i in range(self.groups + 1)]


def _has_byte_escape(pattern: str) -> bool:
    """Whether the pattern has `\\C`, which RE2 reads (any byte) and Go refuses."""
    index = pattern.find("\\")
    while index != -1:
        if pattern[index + 1 : index + 2] == "C":
            return True
        index = pattern.find("\\", index + 2)
    return False


def _utf8_width(data: bytes, pos: int) -> int:
    """The width of the UTF-8 sequence at `pos` (0 at the end)."""
    if pos >= len(data):
        return 0
    lead = data[pos]
    if lead < 0x80:
        return 1
    width = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    return min(width, len(data) - pos)


def _matches(regexp: _GoRegexp, data: bytes) -> Iterator[Any]:
    """Go's FindAll: the matches, an empty one right after a match left out."""
    pos, previous_end, end = 0, -1, len(data)
    count = 0
    while pos <= end:
        found = regexp.search(data, pos)
        if found is None:
            return
        start, stop = found[0]
        accept = True
        if stop == pos:
            if start == previous_end:
                accept = False
            width = _utf8_width(data, pos)
            pos = pos + width if width else end + 1
        else:
            pos = stop
        previous_end = stop
        if accept:
            count += 1
            if count & 3 == 0:
                charge(1)
            yield found


def _captures(regexp: _GoRegexp, data: bytes, found: list[tuple[int, int]], function: str) -> Any:
    """What cty's regex gives for a match: the text, or the groups (a list, or a map of
    the named ones)."""
    if regexp.groups == 0:
        return data[found[0][0] : found[0][1]].decode("utf-8", "replace")
    spans = found[1:]
    values = [None if a < 0 else data[a:b].decode("utf-8", "replace") for a, b in spans]
    named = [n for n in regexp.names[1:] if n]
    if not named:
        return values
    if len(named) != regexp.groups:
        _fail(function, "invalid regexp pattern: cannot mix both named and unnamed capture groups")
    return _sorted_map(zip(regexp.names[1:], values, strict=True))


def _regex_arguments(function: str, pattern: Any, text: Any) -> tuple[_GoRegexp, bytes]:
    regexp = _GoRegexp(function, _string(function, "the pattern", pattern))
    named = [n for n in regexp.names[1:] if n]
    if named and len(named) != regexp.groups:
        _fail(function, "invalid regexp pattern: cannot mix both named and unnamed capture groups")
    return regexp, _utf8(_string(function, "the string", text))


@_register("regex", 2, 2)
def regex(pattern: Any, text: Any) -> Any:
    """The first match of the pattern in the string: the text matched, or with capture
    groups their texts (a list; a map when they are named; null for a group that took
    no part). Fails when the pattern does not match."""
    regexp, data = _regex_arguments("regex", pattern, text)
    found = regexp.search(data, 0)
    if found is None:
        _fail("regex", "pattern did not match any part of the given string")
    return _captures(regexp, data, found, "regex")


@_register("regexall", 2, 2)
def regexall(pattern: Any, text: Any) -> list[Any]:
    """Every match of the pattern in the string, each as `regex` gives it."""
    regexp, data = _regex_arguments("regexall", pattern, text)
    return [_captures(regexp, data, found, "regexall") for found in _matches(regexp, data)]


def _template(regexp: _GoRegexp, template: bytes) -> list[bytes | int]:
    """A replacement of Go's Expand, read once: literal bytes, and group numbers (-1 for
    a name no group has)."""
    pieces: list[bytes | int] = []
    literal = bytearray()
    rest = template
    while rest:
        before, dollar, after = rest.partition(b"$")
        literal += before
        if not dollar:
            break
        rest = after
        if rest[:1] == b"$":
            literal += b"$"
            rest = rest[1:]
            continue
        name, remaining = _template_name(rest)
        if name is None:
            literal += b"$"
            continue
        rest = remaining
        if literal:
            pieces.append(bytes(literal))
            literal = bytearray()
        pieces.append(_group_number(regexp, name))
    if literal:
        pieces.append(bytes(literal))
    return pieces


def _template_name(text: bytes) -> tuple[str | None, bytes]:
    """Go's extract: the name after a `$` (`name` or `{name}`), and the rest."""
    brace = text[:1] == b"{"
    body = text[1:] if brace else text
    decoded = body.decode("utf-8", "replace")
    length = 0
    for char in decoded:
        if not (char.isalpha() or char.isdecimal() or char == "_"):
            break
        length += 1
    if length == 0:
        return None, text
    name = decoded[:length]
    used = len(name.encode("utf-8"))
    if brace:
        if body[used : used + 1] != b"}":
            return None, text
        used += 1
    return name, body[used:]


def _group_number(regexp: _GoRegexp, name: str) -> int:
    if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
        number = int(name) if len(name) < 10 else 10**9
        return number if number <= regexp.groups else -1
    for index, group in enumerate(regexp.names):
        if index and group == name:
            return index
    return -1


@_register("regex_replace", 3, 3)
def regex_replace(text: Any, pattern: Any, replacement: Any) -> str:
    """`text` with each match of the pattern replaced: `$1`, `${1}` or `${name}` in the
    replacement stand for what a group matched, `$$` for a `$` (Go's ReplaceAllString)."""
    regexp = _GoRegexp("regex_replace", _string("regex_replace", "the pattern", pattern))
    data = _utf8(_string("regex_replace", "the string", text))
    pieces = _template(regexp, _utf8(_string("regex_replace", "the replacement", replacement)))
    out = bytearray()
    last = pos = 0
    end = len(data)
    steps = 0
    while pos <= end:
        found = regexp.search(data, pos)
        if found is None:
            break
        start, stop = found[0]
        out += data[last:start]
        if stop > last or start == 0:
            for piece in pieces:
                if isinstance(piece, bytes):
                    out += piece
                elif piece >= 0:
                    a, b = found[piece]
                    if a >= 0:
                        out += data[a:b]
            if len(out) > MAX_VALUE * 4:
                raise TemplateLimit("regex_replace would make a value too large")
        last = stop
        width = _utf8_width(data, pos)
        if pos + width > stop:
            pos += width
        elif pos + 1 > stop:
            pos += 1
        else:
            pos = stop
        steps += 1
        if steps & 7 == 0:
            charge(1)
    out += data[last:]
    result = out.decode("utf-8", "replace")
    _bounded("regex_replace", len(result))
    return _nfc(result)


# --------------------------------------------------------------------------- format


class _Verb:
    __slots__ = ("arg", "flags", "mode", "offset", "precision", "raw", "width")

    def __init__(self) -> None:
        self.flags = ""
        self.width: int | None = None
        self.precision: int | None = None
        self.arg = 0
        self.mode = ""
        self.raw = ""
        self.offset = 0


def _parse_verb(text: str, start: int, next_arg: int) -> tuple[_Verb, int]:
    """The verb at text[start] (a `%`), as cty's format scanner reads it: flags, width,
    precision, an argument index `[n]`, a letter; and where the text goes on."""
    verb = _Verb()
    verb.arg = next_arg
    verb.offset = start
    i = start + 1

    def bad(at: int) -> NoReturn:
        if at >= len(text):
            _fail("format", f"invalid format string starting at offset {len(_utf8(text))}")
        offset = len(_utf8(text[:at]))
        _fail("format", f"unrecognized format character {text[at]!r} at offset {offset}")

    while i < len(text) and text[i] in "0#-+ ":
        verb.flags += text[i]
        i += 1
    if i < len(text) and text[i] in "123456789":
        j = i
        while j < len(text) and text[j].isdigit() and text[j].isascii():
            j += 1
        verb.width = int(text[i:j]) if j - i < 10 else MAX_VALUE + 1
        i = j
    if i < len(text) and text[i] == ".":
        j = i + 1
        while j < len(text) and text[j].isdigit() and text[j].isascii():
            j += 1
        verb.precision = int(text[i + 1 : j] or "0") if j - i < 11 else MAX_VALUE + 1
        i = j
    if i < len(text) and text[i] == "[":
        j = i + 1
        if j >= len(text) or text[j] not in "123456789":
            bad(j)
        while j < len(text) and text[j].isdigit() and text[j].isascii():
            j += 1
        if j >= len(text) or text[j] != "]":
            bad(j)
        verb.arg = int(text[i + 1 : j]) if j - i < 10 else 10**9
        i = j + 1
    if i >= len(text) or not (text[i].isascii() and text[i].isalpha()):
        bad(i)
    verb.mode = text[i]
    verb.raw = text[start : i + 1]
    for size in (verb.width, verb.precision):
        if size is not None and size > MAX_VALUE:
            raise TemplateLimit("a width or precision in the format is too large")
    return verb, i + 1


def _format(function: str, template: str, args: Sequence[Any]) -> str:
    """cty's format: Go-like verbs over HCL values."""
    out: list[str] = []
    size = 0
    next_arg, highest = 1, 0
    i = 0
    while i < len(template):
        percent = template.find("%", i)
        if percent == -1:
            out.append(template[i:])
            break
        out.append(template[i:percent])
        if template[percent + 1 : percent + 2] == "%":
            out.append("%")
            i = percent + 2
            continue
        verb, i = _parse_verb(template, percent, next_arg)
        charge(1)
        highest = max(highest, verb.arg)
        piece = _format_verb(function, verb, args)
        size += len(piece)
        _bounded(function, size)
        out.append(piece)
        next_arg = verb.arg + 1
    if highest < len(args):
        if highest == 0:
            _wrong(function, "too many arguments; no verbs in format string")
        _wrong(function, f"too many arguments; only {highest} used by format string")
    text = "".join(out)
    _bounded(function, len(text))
    return text


def _format_verb(function: str, verb: _Verb, args: Sequence[Any]) -> str:
    if verb.arg - 1 >= len(args):
        _fail(
            function,
            f"not enough arguments for {verb.raw!r} at {verb.offset}: need index {verb.arg} "
            f"but have {len(args)} total",
        )
    arg = args[verb.arg - 1]
    kind = _kind(arg)
    where = f"{verb.raw!r} at {verb.offset}"
    if verb.mode != "v" and kind == _NULL:
        _fail(function, f"unsupported value for {where}: null value cannot be formatted")
    mode = verb.mode
    try:
        if mode == "v":
            if "#" not in verb.flags and kind == _STRING:
                return _pad(verb, _nfc(arg))
            if "#" not in verb.flags and kind == _NUMBER:
                return _pad(verb, _float_text(_num(function, "the value", arg), "g", -1))
            return _pad(verb, _json(arg, function))
        if mode == "t":
            return "true" if _boolean(function, "the value", arg) else "false"
        if mode in "bdoxX":
            number = _num(function, "the value", arg)
            if not number.is_int():
                _fail(function, f"unsupported value for {where}: an integer is required")
            return _format_integer(verb, number.truncated())
        if mode in "eEfFgG":
            return _format_float(verb, _num(function, "the value", arg))
        if mode in "sq":
            text = _string(function, "the value", arg)
            if verb.precision:
                text = _cluster_prefix(text, verb.precision)
            return _pad(verb, _json_string(text) if mode == "q" else text)
    except TypeError as exc:
        detail = str(exc).split(": ")[-1]
        _fail(function, f"unsupported value for {where}: {detail}")
    _fail(function, f"unsupported format verb {mode!r} in {verb.raw!r} at offset {verb.offset}")


def _pad(verb: _Verb, text: str) -> str:
    """cty's padding to the verb's width, counted in grapheme clusters."""
    if verb.width is None:
        return text
    missing = verb.width - _cluster_count(text)
    if missing <= 0:
        return text
    pad = ("0" if "0" in verb.flags else " ") * missing
    return text + pad if "-" in verb.flags else pad + text


def _format_integer(verb: _Verb, value: int) -> str:
    """Go's fmt of a *big.Int."""
    mode, flags = verb.mode, verb.flags
    base = {"b": 2, "o": 8, "d": 10, "x": 16, "X": 16}[mode]
    sign = "-" if value < 0 else "+" if "+" in flags else " " if " " in flags else ""
    prefix = ""
    if "#" in flags:
        prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(mode, "")
    magnitude = abs(value)
    if magnitude.bit_length() > 20_000:
        raise TemplateLimit("the number is too large to format")
    digits = str(magnitude) if base == 10 else format(magnitude, {2: "b", 8: "o", 16: "x"}[base])
    if mode == "X":
        digits = digits.upper()
    zeros = left = right = 0
    if verb.precision is not None:
        if len(digits) < verb.precision:
            zeros = verb.precision - len(digits)
        elif digits == "0" and verb.precision == 0:
            return ""
    length = len(sign) + len(prefix) + zeros + len(digits)
    if verb.width is not None and length < verb.width:
        missing = verb.width - length
        if "-" in flags:
            right = missing
        elif "0" in flags and verb.precision is None:
            zeros = missing
        else:
            left = missing
    return " " * left + sign + prefix + "0" * zeros + digits + " " * right


def _format_float(verb: _Verb, number: _Num) -> str:
    """Go's fmt of a *big.Float (its Format method)."""
    mode = "f" if verb.mode == "F" else verb.mode
    precision = verb.precision
    if precision is None:
        precision = -1 if mode in "gG" else 6
    text = _float_text(number, mode, precision)
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    elif text[0] == "+":
        sign = " " if " " in verb.flags else "+"
        text = text[1:]
    elif "+" in verb.flags:
        sign = "+"
    elif " " in verb.flags:
        sign = " "
    missing = 0
    if verb.width is not None and verb.width > len(sign) + len(text):
        missing = verb.width - len(sign) - len(text)
    if "0" in verb.flags and not number.inf:
        return sign + "0" * missing + text
    if "-" in verb.flags:
        return sign + text + " " * missing
    return " " * missing + sign + text


@_register("format", 1)
def format_(template: Any, *args: Any) -> str:
    """The arguments formatted by the template's verbs: %v (any value; lists and maps as
    JSON), %#v (JSON), %s, %q (a JSON string), %d %b %o %x %X (whole numbers), %e %E %f
    %g %G (numbers), %t (booleans); flags, widths, precisions and `%[n]s` as Go's."""
    return _format("format", _string("format", "the format", template), args)


@_register("formatlist", 1)
def formatlist(template: Any, *args: Any) -> list[str]:
    """`format` once per item of the list arguments (all of one length), each other
    argument the same every time."""
    text = _string("formatlist", "the format", template)
    if not args:
        return [_format("formatlist", text, ())]
    length, chooser = -1, -1
    for index, arg in enumerate(args):
        if _kind(arg) == _SEQUENCE:
            if length == -1:
                length, chooser = len(arg), index
            elif len(arg) != length:
                _fail(
                    "formatlist",
                    f"argument {index + 1} has length {len(arg)}, which is inconsistent "
                    f"with argument {chooser + 1} of length {length}",
                )
    if length == 0:
        return []
    out = []
    total = 0
    for iteration in range(max(length, 1)):
        values = [arg[iteration] if _kind(arg) == _SEQUENCE else arg for arg in args]
        try:
            piece = _format("formatlist", text, values)
        except TemplateLimit:
            raise
        except (TypeError, ValueError) as exc:
            message = str(exc).removeprefix("formatlist: ")
            _fail("formatlist", f"error on format iteration {iteration}: {message}")
        total += len(piece) + 1
        _bounded("formatlist", total)
        charge(1)
        out.append(piece)
    return out


# --------------------------------------------------------------------------- numbers


def _number_function(name: str, operation: Callable[[_Num, _Num], _Num]) -> None:
    def call(a: Any, b: Any) -> Any:
        return _out_num(
            operation(_num(name, "the first number", a), _num(name, "the second number", b))
        )

    call.__doc__ = f"bake's {name} of two numbers."
    _register(name, 2, 2)(call)


def _add(a: _Num, b: _Num, function: str = "add", negate: bool = False) -> _Num:
    prec = max(a.prec, b.prec)
    b_inf = -b.inf if negate else b.inf
    if a.inf or b_inf:
        if a.inf and b_inf and a.inf != b_inf:
            _fail(
                function,
                "can't subtract infinity from itself"
                if negate
                else "can't compute sum of opposing infinities",
            )
        return _Num(0, 0, prec, a.inf or b_inf)
    bm = -b.m if negate else b.m
    e = min(a.e, b.e)
    return _Num.rounded((a.m << (a.e - e)) + (bm << (b.e - e)), e, prec)


def _multiply(a: _Num, b: _Num) -> _Num:
    if a.inf or b.inf:
        if a.sign() == 0 or b.sign() == 0:
            _fail("multiply", "can't multiply zero by infinity")
        return _Num(0, 0, max(a.prec, b.prec), a.sign() * b.sign())
    product = _Num.rounded(a.m * b.m, a.e + b.e, _PREC)
    needed = abs(product.m).bit_length()
    product.prec = max(a.prec, b.prec, needed)
    return product


def _divide(a: _Num, b: _Num) -> _Num:
    prec = max(a.prec, b.prec)
    if (a.inf and b.inf) or (a.sign() == 0 and b.sign() == 0):
        _fail("divide", "can't divide zero by zero or infinity by infinity")
    if a.inf:
        return _Num(0, 0, prec, a.inf * (b.sign() or 1))
    if b.inf:
        return _Num(0, 0, prec)
    if b.m == 0:
        return _Num(0, 0, prec, a.sign())
    sign = -1 if b.m < 0 else 1
    return _Num.quotient(sign * a.m, abs(b.m), a.e - b.e, prec)


def _modulo(a: _Num, b: _Num) -> _Num:
    if a.inf or b.inf:
        if a.sign() == 0 or b.sign() == 0:
            _fail("modulo", "can't use modulo with zero and infinity")
        return _Num(0, 0, max(a.prec, b.prec), a.sign() * b.sign())
    if b.m == 0:
        return a
    whole = _divide(a, b).truncated()
    work = _Num.rounded(whole, 0, a.prec)
    work = _Num.rounded(work.m * b.m, work.e + b.e, a.prec)
    e = min(a.e, work.e)
    return _Num.rounded((a.m << (a.e - e)) - (work.m << (work.e - e)), e, a.prec)


_number_function("add", _add)
_number_function("subtract", lambda a, b: _add(a, b, "subtract", negate=True))
_number_function("multiply", _multiply)
_number_function("divide", _divide)
_number_function("modulo", _modulo)


def _comparison(name: str, test: Callable[[int], bool]) -> None:
    def call(a: Any, b: Any) -> bool:
        return test(_num(name, "the first number", a).compare(_num(name, "the second number", b)))

    call.__doc__ = (
        f"Whether the first number is {name[:-2] if name.endswith('to') else name} the second."
    )
    _register(name, 2, 2)(call)


_comparison("greaterthan", lambda c: c > 0)
_comparison("greaterthanorequalto", lambda c: c >= 0)
_comparison("lessthan", lambda c: c < 0)
_comparison("lessthanorequalto", lambda c: c <= 0)


@_register("absolute", 1, 1)
def absolute(number: Any) -> Any:
    """The number without its sign."""
    n = _num("absolute", "the number", number)
    return _out_num(_Num(abs(n.m), n.e, n.prec, abs(n.inf)))


@_register("negate", 1, 1)
def negate(number: Any) -> Any:
    """The number with the opposite sign."""
    n = _num("negate", "the number", number)
    return _out_num(_Num(-n.m, n.e, n.prec, -n.inf))


@_register("ceil", 1, 1)
def ceil(number: Any) -> Any:
    """The least whole number not less than the number."""
    n = _num("ceil", "the number", number)
    if n.inf:
        return _out_num(n)
    whole = n.truncated()
    if not n.is_int() and n.m > 0:
        whole += 1
    return _out_num(_Num.rounded(whole, 0, n.prec))


@_register("floor", 1, 1)
def floor(number: Any) -> Any:
    """The greatest whole number not greater than the number."""
    n = _num("floor", "the number", number)
    if n.inf:
        return _out_num(n)
    whole = n.truncated()
    if not n.is_int() and n.m < 0:
        whole -= 1
    return _out_num(_Num.rounded(whole, 0, n.prec))


@_register("int", 1, 1)
def int_(number: Any) -> Any:
    """The whole part of the number (toward zero)."""
    n = _num("int", "the number", number)
    if n.inf:
        _fail("int", "can't truncate infinity to an integer")
    return _out_num(_Num.rounded(n.truncated(), 0, max(n.prec, 64)))


@_register("signum", 1, 1)
def signum(number: Any) -> int:
    """-1, 0 or 1: the sign of the (whole) number."""
    value = _whole("signum", "the number", number)
    return (value > 0) - (value < 0)


@_register("min", 0)
def min_(*numbers: Any) -> Any:
    """The least of the numbers."""
    if not numbers:
        _fail("min", "must pass at least one number")
    values = [_num("min", f"number {i + 1}", n) for i, n in enumerate(numbers)]
    least = values[0]
    for value in values[1:]:
        if value.compare(least) < 0:
            least = value
    return _out_num(least)


@_register("max", 0)
def max_(*numbers: Any) -> Any:
    """The greatest of the numbers."""
    if not numbers:
        _fail("max", "must pass at least one number")
    values = [_num("max", f"number {i + 1}", n) for i, n in enumerate(numbers)]
    greatest = values[0]
    for value in values[1:]:
        if value.compare(greatest) > 0:
            greatest = value
    return _out_num(greatest)


@_register("log", 2, 2)
def log(number: Any, base: Any) -> Any:
    """The logarithm of the number in the base (in float64, as cty)."""
    x = _num("log", "the number", number).to_float()
    b = _num("log", "the base", base).to_float()
    return _out_num(_finite_float("log", _float_divide(_go_log(x), _go_log(b))))


@_register("pow", 2, 2)
def pow_(number: Any, power: Any) -> Any:
    """The number raised to the power (in float64, as cty)."""
    x = _num("pow", "the number", number).to_float()
    y = _num("pow", "the power", power).to_float()
    return _out_num(_finite_float("pow", _go_pow(x, y)))


def _float_divide(a: float, b: float) -> float:
    """a / b in IEEE arithmetic (Python raises where Go gives an infinity or NaN)."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _go_log(x: float) -> float:
    """Go's math.Log (FreeBSD's e_log.c), bit for bit."""
    if math.isnan(x) or x == math.inf:
        return x
    if x < 0:
        return math.nan
    if x == 0:
        return -math.inf
    f1, ki = math.frexp(x)
    if f1 < math.sqrt(2) / 2:
        f1 *= 2
        ki -= 1
    f = f1 - 1
    k = float(ki)
    s = f / (2 + f)
    s2 = s * s
    s4 = s2 * s2
    l1, l2, l3, l4, l5, l6, l7 = _LOG_COEFFICIENTS
    t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)))
    t2 = s4 * (l2 + s4 * (l4 + s4 * l6))
    r = t1 + t2
    hfsq = 0.5 * f * f
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG_COEFFICIENTS = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)


def _is_odd_int(x: float) -> bool:
    if abs(x) >= 2**53:
        return False
    whole, fraction = math.modf(x)
    return fraction == 0 and int(whole) & 1 == 1


def _go_pow(x: float, y: float) -> float:
    """Go's math.Pow."""
    if y == 0 or x == 1:
        return 1.0
    if y == 1:
        return x
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x == 0:
        if y < 0:
            return -math.inf if math.copysign(1, x) < 0 and _is_odd_int(y) else math.inf
        return x if math.copysign(1, x) < 0 and _is_odd_int(y) else 0.0
    if math.isinf(y):
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else math.inf
    if math.isinf(x):
        if x < 0:
            return _go_pow(1 / x, -y)
        return 0.0 if y < 0 else math.inf
    if y == 0.5:
        return math.sqrt(x) if x >= 0 else math.nan
    if y == -0.5:
        return 1 / math.sqrt(x) if x > 0 else (math.inf if x == 0 else math.nan)
    yf, yi = math.modf(abs(y))
    if yf != 0 and x < 0:
        return math.nan
    if yi >= 2**63:
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else math.inf
    a1, ae = 1.0, 0
    if yf != 0:
        if yf > 0.5:
            yf -= 1
            yi += 1
        a1 = math.exp(yf * _go_log(x))
    x1, xe = math.frexp(x)
    i = int(yi)
    while i != 0:
        if xe < -(1 << 12) or xe > (1 << 12):
            ae += xe
            break
        if i & 1 == 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    if y < 0:
        a1 = 1 / a1
        ae = -ae
    try:
        return math.ldexp(a1, ae)
    except OverflowError:
        return math.copysign(math.inf, a1)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@_register("parseint", 2, 2)
def parseint(number: Any, base: Any) -> Any:
    """The whole number the string writes in the base (2 to 62; letters after the digits,
    lower case before upper case past base 36)."""
    if _kind(number) != _STRING:
        _wrong("parseint", f"the number must be a string, not a {_KIND_NAMES[_kind(number)]}")
    radix = _whole("parseint", "the base", base)
    if not 2 <= radix <= 62:
        _fail("parseint", "base must be a whole number between 2 and 62 inclusive")
    text = _nfc(number)
    body = text[1:] if text[:1] in ("+", "-") else text
    values = _DIGITS if radix > 36 else _DIGITS[:36]
    folded = body if radix > 36 else body.lower()
    if not body or any(values.find(c) >= radix or values.find(c) < 0 for c in folded):
        _fail("parseint", f"cannot parse the string as a base {radix} integer")
    _charged(len(body), 6)
    if radix <= 36 and (len(body) < 4000 or radix in (2, 4, 8, 16, 32)):
        value = int(folded, radix)
    else:
        value = 0
        for char in folded:
            value = value * radix + values.index(char)
    return _out_num(_num_of_int(-value if text[:1] == "-" else value))


# --------------------------------------------------------------------------- collections


@_register("length", 1, 1)
def length(collection: Any) -> int:
    """The number of items of a list or a map."""
    kind = _kind(collection)
    if kind in (_SEQUENCE, _MAPPING):
        return len(collection)
    if kind == _NULL:
        _wrong("length", "the collection must not be null")
    _wrong("length", "collection must be a list, a map or a tuple")


@_register("concat", 1)
def concat(*lists: Any) -> list[Any]:
    """The items of the lists, one list after the other."""
    items = [_items("concat", f"argument {i + 1}", listed) for i, listed in enumerate(lists)]
    _bounded("concat", sum(map(len, items)))
    return [item for listed in items for item in listed]


@_register("flatten", 1, 1)
def flatten(value: Any) -> list[Any]:
    """The list with each list in it (at any depth) replaced by its items."""
    items = _items("flatten", "the list", value)
    out: list[Any] = []
    stack: list[Iterator[Any]] = [iter(items)]
    steps = 0
    while stack:
        for item in stack[-1]:
            steps += 1
            if steps & 15 == 0:
                charge(1)
            if _kind(item) == _SEQUENCE:
                stack.append(iter(item))
                break
            out.append(item)
            if len(out) > MAX_VALUE:
                raise TemplateLimit("flatten would make a list too large")
        else:
            stack.pop()
    return out


@_register("compact", 1, 1)
def compact(value: Any) -> list[str]:
    """The list of strings without its empty (and null) items."""
    return [s for s in _strings("compact", "the list", value, nulls=True) if s]


@_register("coalesce", 1)
def coalesce(*values: Any) -> Any:
    """The first argument that is not null (all of one type, as cty unifies them)."""
    target = _unify([_type(v) for v in values])
    if target is None:
        _fail("coalesce", "all arguments must have the same type")
    for value in values:
        if _kind(value) != _NULL:
            return _convert(value, target)
    _fail("coalesce", "no non-null arguments")


@_register("coalescelist", 1)
def coalescelist(*lists: Any) -> list[Any]:
    """The first of the lists that is not empty."""
    for index, listed in enumerate(lists):
        kind = _kind(listed)
        if kind not in (_SEQUENCE, _NULL):
            _wrong("coalescelist", "coalescelist arguments must be lists or tuples")
        if kind == _SEQUENCE and len(listed) and index >= 0:
            return list(listed)
    _fail("coalescelist", "no non-null arguments")


@_register("contains", 2, 2)
def contains(listed: Any, value: Any) -> bool:
    """Whether the list has an item equal to the value (of its type: `1` is not `"1"`)."""
    items = _items("contains", "the list", listed)
    if _kind(value) == _NULL:
        _wrong("contains", "the value must not be null")
    _charged(len(items), 3)
    return any(_equal(value, item) for item in items)


@_register("distinct", 1, 1)
def distinct(listed: Any) -> list[Any]:
    """The list without its repeated items (the first of each kept)."""
    items = _unified("distinct", "the list", _items("distinct", "the list", listed))
    return _distinct(items)


@_register("chunklist", 2, 2)
def chunklist(listed: Any, size: Any) -> list[list[Any]]:
    """The list in lists of `size` items (the last one shorter); size 0: the whole list."""
    items = _items("chunklist", "the list", listed)
    count = _whole("chunklist", "the size", size)
    if count < 0:
        _fail("chunklist", "the size argument must be positive")
    items = _unified("chunklist", "the list", items)
    if not items:
        return []
    if count == 0:
        return [items]
    return [items[i : i + count] for i in range(0, len(items), count)]


@_register("element", 2, 2)
def element(listed: Any, index: Any) -> Any:
    """The item at the index, which wraps around past the end."""
    kind = _kind(listed)
    if kind != _SEQUENCE:
        if kind == _NULL:
            _wrong("element", "the list must not be null")
        _wrong("element", f"cannot read elements from a {_KIND_NAMES[kind]}")
    position = _whole("element", "the index", index)
    if not listed:
        _fail("element", "cannot use element function with an empty list")
    if position < 0:
        _fail("element", "cannot use element function with a negative index")
    return listed[position % len(listed)]


def _collection(function: str, collection: Any) -> int:
    kind = _kind(collection)
    if kind in (_SEQUENCE, _MAPPING):
        return kind
    if kind == _NULL:
        _wrong(function, "the collection must not be null")
    _wrong(function, "collection must be a list, a map or a tuple")


@_register("hasindex", 2, 2)
def hasindex(collection: Any, key: Any) -> bool:
    """Whether the list has an item at the index, or the map the key."""
    if _collection("hasindex", collection) == _SEQUENCE:
        if _kind(key) != _NUMBER:
            return False
        number = _num("hasindex", "the key", key)
        return number.is_int() and 0 <= number.truncated() < len(collection)
    if _kind(key) != _STRING:
        return False
    wanted = _nfc(key)
    return any(_key_text(k) == wanted for k in collection)


@_register("index", 2, 2)
def index(collection: Any, key: Any) -> Any:
    """The item of the list at the index, or of the map at the key (bake's index: not
    Terraform's, which finds an item; that is `indexof`)."""
    if _collection("index", collection) == _SEQUENCE:
        if _kind(key) != _NUMBER:
            _wrong("index", "key for tuple must be number")
        try:
            position = _whole("index", "the key", key)
        except ValueError as exc:
            _fail("index", "invalid key for tuple: " + str(exc).split(": ", 2)[-1])
        if not 0 <= position < len(collection):
            _fail("index", "invalid index")
        return collection[position]
    if _kind(key) != _STRING:
        _wrong("index", "key for map must be string")
    wanted = _nfc(key)
    for k, v in collection.items():
        if _key_text(k) == wanted:
            return v
    _fail("index", "invalid index")


@_register("indexof", 2, 2)
def indexof(listed: Any, value: Any) -> int:
    """The index of the first item of the list equal to the value."""
    if _kind(listed) != _SEQUENCE:
        _fail("indexof", "argument must be a list or tuple")
    if not listed:
        _fail("indexof", "cannot search an empty list")
    _charged(len(listed), 3)
    for position, item in enumerate(listed):
        if _equal(item, value):
            return position
    _fail("indexof", "item not found")


@_register("keys", 1, 1)
def keys(mapping: Any) -> list[str]:
    """The map's keys, sorted."""
    if _kind(mapping) != _MAPPING:
        _wrong("keys", "must have map or object type")
    return sorted(_key_text(k) for k in mapping)


@_register("values", 1, 1)
def values(mapping: Any) -> list[Any]:
    """The map's values, in the order of its sorted keys."""
    if _kind(mapping) != _MAPPING:
        _wrong("values", "values() requires a map as the first argument")
    return [v for _, v in sorted(_pairs(mapping), key=lambda pair: pair[0])]


@_register("lookup", 3, 3)
def lookup(mapping: Any, key: Any, default: Any) -> Any:
    """The map's value at the key, or the default."""
    if _kind(mapping) != _MAPPING:
        _wrong("lookup", "lookup() requires a map as the first argument")
    wanted = _string("lookup", "the key", key)
    for k, v in mapping.items():
        if _key_text(k) == wanted:
            return v
    return default


@_register("merge", 0)
def merge(*mappings: Any) -> dict[str, Any]:
    """One map of the maps' entries: a key's value is the last map's that has it."""
    pairs: list[tuple[str, Any]] = []
    for position, mapping in enumerate(mappings):
        kind = _kind(mapping)
        if kind == _NULL:
            continue
        if kind != _MAPPING:
            _wrong(
                "merge",
                f"argument {position + 1}: arguments must be maps or objects, not a "
                f"{_KIND_NAMES[kind]}",
            )
        pairs.extend(_pairs(mapping))
    _bounded("merge", len(pairs))
    return _sorted_map(pairs)


@_register("reverselist", 1, 1)
def reverselist(listed: Any) -> list[Any]:
    """The list's items in reverse order."""
    kind = _kind(listed)
    if kind != _SEQUENCE:
        _wrong("reverselist", f"can only reverse list or tuple values, not a {_KIND_NAMES[kind]}")
    return list(reversed(listed))


@_register("slice", 3, 3)
def slice_(listed: Any, start: Any, end: Any) -> list[Any]:
    """The list's items from the start index up to (not including) the end index."""
    kind = _kind(listed)
    if kind != _SEQUENCE:
        _wrong("slice", "must be a list or tuple value")
    first = _whole("slice", "the start index", start)
    last = _whole("slice", "the end index", end)
    if first < 0:
        _fail("slice", "start index must not be less than zero")
    if first > len(listed):
        _fail("slice", "start index must not be greater than the length of the list")
    if last < 0:
        _fail("slice", "end index must not be less than zero")
    if last > len(listed):
        _fail("slice", "end index must not be greater than the length of the list")
    if first > last:
        _fail("slice", "start index must not be greater than end index")
    return list(listed[first:last])


@_register("sort", 1, 1)
def sort(listed: Any) -> list[str]:
    """The list of strings sorted (by their code points: `B` before `a`, `10` before `9`)."""
    strings = _strings("sort", "the list", listed)
    _charged(len(strings), 5)
    return sorted(s for s in strings if s is not None)


@_register("zipmap", 2, 2)
def zipmap(names: Any, items: Any) -> dict[str, Any]:
    """The map of each key to the value at its index."""
    keys_ = _strings("zipmap", "the keys", names, nulls=True)
    values_ = _items("zipmap", "the values", items)
    if len(keys_) != len(values_):
        _fail(
            "zipmap",
            f"number of keys ({len(keys_)}) does not match number of values ({len(values_)})",
        )
    pairs = []
    for position, (k, v) in enumerate(zip(keys_, values_, strict=True)):
        if k is None:
            _fail("zipmap", f"keys list has null value at index {position}")
        pairs.append((k, v))
    return _sorted_map(pairs)


# sets: a template's lists, their items unified and without repeats, in cty's order


def _sets(function: str, sets: Sequence[Any]) -> tuple[list[list[Any]], Any]:
    listed = [_items(function, f"set {i + 1}", s) for i, s in enumerate(sets)]
    charge(sum(map(len, listed)) >> 3)
    types = [_unify([_type(v) for v in items]) for items in listed if items]
    if any(t is None for t in types):
        _wrong(function, "all items of a set must have the same type")
    target = _unify(types) if types else _DYNAMIC
    if target is None:
        _wrong(function, "given sets must all have compatible element types")
    return [_distinct(_convert(v, target) for v in items) for items in listed], target


@_register("setunion", 1)
def setunion(*sets: Any) -> list[Any]:
    """The items that are in any of the sets."""
    converted, element = _sets("setunion", sets)
    _bounded("setunion", sum(map(len, converted)))
    return _set_order(_distinct(v for items in converted for v in items), element)


@_register("setintersection", 1)
def setintersection(*sets: Any) -> list[Any]:
    """The items that are in every one of the sets."""
    (first, *others), element = _sets("setintersection", sets)
    for other in others:
        present = {_key(v) for v in other}
        first = [v for v in first if _key(v) in present]
    return _set_order(first, element)


@_register("setsubtract", 2, 2)
def setsubtract(a: Any, b: Any) -> list[Any]:
    """The items of the first set that are not in the second."""
    (first, second), element = _sets("setsubtract", (a, b))
    present = {_key(v) for v in second}
    return _set_order([v for v in first if _key(v) not in present], element)


@_register("setsymmetricdifference", 1)
def setsymmetricdifference(*sets: Any) -> list[Any]:
    """The items that are in an odd number of the sets."""
    (first, *others), element = _sets("setsymmetricdifference", sets)
    for other in others:
        mine = {_key(v) for v in first}
        theirs = {_key(v) for v in other}
        first = [v for v in first if _key(v) not in theirs] + [
            v for v in other if _key(v) not in mine
        ]
    return _set_order(first, element)


@_register("sethaselement", 2, 2)
def sethaselement(given: Any, value: Any) -> bool:
    """Whether the set has the value."""
    (items,), _ = _sets("sethaselement", (given,))
    return any(_equal(item, value) for item in items)


@_register("setproduct", 0)
def setproduct(*sets: Any) -> list[list[Any]]:
    """Every combination of one item of each list, in order (the first list's items
    varying slowest)."""
    if len(sets) < 2:
        _fail("setproduct", "at least two arguments are required")
    listed = [
        _unified("setproduct", f"argument {i + 1}", _items("setproduct", f"argument {i + 1}", s))
        for i, s in enumerate(sets)
    ]
    total = 1
    for items in listed:
        total *= len(items)
        _bounded("setproduct", total * len(sets))
    import itertools

    charge(total * len(sets) >> 8)
    return [list(combination) for combination in itertools.product(*listed)]


# --------------------------------------------------------------------------- JSON, CSV


@_register("jsonencode", 1, 1)
def jsonencode(value: Any) -> str:
    """The value as JSON (maps by key, `<`, `>`, `&` escaped as Go escapes them)."""
    return _json(value)


@_register("jsondecode", 1, 1)
def jsondecode(text: Any) -> Any:
    """The value the JSON text holds."""
    document = _string("jsondecode", "the string", text)
    try:
        return _json_value(document)
    except ValueError as exc:
        if isinstance(exc, TemplateLimit):
            raise
        message = str(exc).split(":")[0]
        _fail("jsondecode", f"the string is not valid JSON: {message}")


@_register("csvdecode", 1, 1)
def csvdecode(text: Any) -> list[dict[str, str]]:
    """The rows of the CSV text, each a map from the names its first line gives."""
    records = _csv_records(_string("csvdecode", "the string", text))
    try:
        header, line = next(records)
    except StopIteration:
        _fail("csvdecode", "missing header line")
    if len(set(header)) != len(header):
        duplicate = next(name for name in header if header.count(name) > 1)
        _fail("csvdecode", f"duplicate column name {duplicate!r}")
    rows = []
    for record, line in records:
        if len(record) != len(header):
            _fail("csvdecode", f"CSV parse error on line {line}: wrong number of fields")
        rows.append(_sorted_map(zip(header, record, strict=True)))
    return rows


_CSV_QUOTE = 'extraneous or missing " in quoted-field'


def _csv_records(text: str) -> Iterator[tuple[list[str], int]]:
    """Go's encoding/csv records (and the line each starts on): `,` separated, `"`
    quoted with `""` for a quote, \\r\\n read as \\n, empty lines skipped."""
    text = text.replace("\r\n", "\n")
    _charged(len(text), 4)
    i, line, end = 0, 1, len(text)
    while i < end:
        if text[i] == "\n":
            i += 1
            line += 1
            continue
        record: list[str] = []
        start_line = line
        while True:
            if i < end and text[i] == '"':
                i += 1
                field: list[str] = []
                while True:
                    quote = text.find('"', i)
                    if quote == -1:
                        _fail(
                            "csvdecode",
                            f"CSV parse error on line {line}: {_CSV_QUOTE}",
                        )
                    field.append(text[i:quote])
                    line += text.count("\n", i, quote)
                    i = quote + 1
                    if i < end and text[i] == '"':
                        field.append('"')
                        i += 1
                        continue
                    if i < end and text[i] not in ",\n":
                        _fail(
                            "csvdecode",
                            f"CSV parse error on line {line}: {_CSV_QUOTE}",
                        )
                    break
                record.append("".join(field))
            else:
                stop = i
                while stop < end and text[stop] not in ",\n":
                    stop += 1
                value = text[i:stop]
                if '"' in value:
                    _fail(
                        "csvdecode", f'CSV parse error on line {line}: bare " in non-quoted-field'
                    )
                record.append(value)
                i = stop
            if i < end and text[i] == ",":
                i += 1
                continue
            if i < end:  # a line break
                i += 1
                line += 1
            break
        charge(1)
        yield record, start_line


# --------------------------------------------------------------------------- times

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


class _Time:
    """A moment as Go's time.Time holds one: its fields in a fixed offset from UTC."""

    __slots__ = ("day", "hour", "minute", "month", "nanosecond", "offset", "second", "year")

    def __init__(self, seconds: int, nanosecond: int, offset: int) -> None:
        local = seconds + offset
        days, rest = divmod(local, 86400)
        self.year, self.month, self.day = _civil(days)
        self.hour, rest = divmod(rest, 3600)
        self.minute, self.second = divmod(rest, 60)
        self.nanosecond = nanosecond
        self.offset = offset

    def unix(self) -> int:
        days = _days(self.year, self.month, self.day)
        return days * 86400 + self.hour * 3600 + self.minute * 60 + self.second - self.offset

    def weekday(self) -> int:
        return (_days(self.year, self.month, self.day) + 4) % 7  # 1970-01-01: a Thursday

    def zone(self, layout: str) -> str:
        """The offset as Go's layouts write it: `Z07:00`, `-0700`, `-07:00`."""
        if layout == "Z07:00" and self.offset == 0:
            return "Z"
        sign = "-" if self.offset < 0 else "+"
        hours, minutes = divmod(abs(self.offset) // 60, 60)
        colon = ":" if layout != "-0700" else ""
        return f"{sign}{hours:02d}{colon}{minutes:02d}"

    def rfc3339(self) -> str:
        year = f"{self.year:04d}" if self.year >= 0 else f"-{-self.year:04d}"
        return (
            f"{year}-{self.month:02d}-{self.day:02d}T{self.hour:02d}:{self.minute:02d}:"
            f"{self.second:02d}{self.zone('Z07:00')}"
        )


def _days(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to the date (proleptic Gregorian)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil(days: int) -> tuple[int, int, int]:
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def _timestamp(function: str, text: str) -> _Time:
    """cty's strict RFC 3339: `2006-01-02T15:04:05Z` or with `.999` and `+07:00`."""
    found = _RFC3339.fullmatch(text)
    if found is None:
        _fail(function, f"not a valid RFC3339 timestamp: {_timestamp_fault(text)}")
    year, month, day, hour, minute, second = (int(g) for g in found.groups()[:6])
    fraction, sign, zone_hours, zone_minutes = found.groups()[6:]
    if not 1 <= month <= 12:
        _fail(function, "not a valid RFC3339 timestamp: month out of range")
    if not 1 <= day <= _days_in(month, year):
        _fail(function, "not a valid RFC3339 timestamp: day out of range")
    if hour > 23 or minute > 59 or second > 59:
        _fail(function, "not a valid RFC3339 timestamp: a time field is out of range")
    offset = 0
    if sign:
        if int(zone_hours) > 23 or int(zone_minutes) > 59:
            _fail(function, "not a valid RFC3339 timestamp: timezone out of range")
        offset = (int(zone_hours) * 60 + int(zone_minutes)) * 60 * (-1 if sign == "-" else 1)
    nanosecond = int((fraction or "")[:9].ljust(9, "0"))
    days = _days(year, month, day)
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    return _Time(seconds, nanosecond, offset)


def _timestamp_fault(text: str) -> str:
    if "T" not in text:
        return "missing required time introducer 'T'"
    return "it must look like 2006-01-02T15:04:05Z or 2006-01-02T15:04:05+07:00"


_DATE_TOKENS = re.compile(r"'(?:[^']|'')*'?|''|([a-zA-Z])\1*|[^a-zA-Z']+")


def _format_date(function: str, layout: str, moment: _Time) -> str:
    """cty's formatdate verbs: YYYY YY MMMM MMM MM M DD D EEEE EEE hh h HH H AA aa mm m
    ss s ZZZZZ ZZZZ ZZZ Z, literal text between quotes ('' for a quote)."""
    out: list[str] = []
    for found in _DATE_TOKENS.finditer(layout):
        token = found.group()
        if token[0] == "'":
            if len(token) == 1 or token[-1] != "'":
                _fail(function, "unterminated literal '")
            out.append("'" if token == "''" else token[1:-1].replace("''", "'"))
        elif token[0].isalpha():
            out.append(_date_verb(function, token, moment))
        else:
            out.append(token)
    return "".join(out)


def _date_verb(function: str, token: str, t: _Time) -> str:
    letter, n = token[0], len(token)
    twelve = t.hour % 12 or 12
    choices: dict[str, dict[int, Callable[[], str]]] = {
        "Y": {2: lambda: f"{t.year % 100:02d}", 4: lambda: f"{t.year:04d}"},
        "M": {
            1: lambda: str(t.month),
            2: lambda: f"{t.month:02d}",
            3: lambda: _MONTHS[t.month - 1][:3],
            4: lambda: _MONTHS[t.month - 1],
        },
        "D": {1: lambda: str(t.day), 2: lambda: f"{t.day:02d}"},
        "E": {3: lambda: _WEEKDAYS[t.weekday()][:3], 4: lambda: _WEEKDAYS[t.weekday()]},
        "h": {1: lambda: str(t.hour), 2: lambda: f"{t.hour:02d}"},
        "H": {1: lambda: str(twelve), 2: lambda: f"{twelve:02d}"},
        "A": {2: lambda: "AM" if t.hour < 12 else "PM"},
        "a": {2: lambda: "am" if t.hour < 12 else "pm"},
        "m": {1: lambda: str(t.minute), 2: lambda: f"{t.minute:02d}"},
        "s": {1: lambda: str(t.second), 2: lambda: f"{t.second:02d}"},
        "Z": {
            1: lambda: t.zone("Z07:00"),
            3: lambda: "UTC" if t.offset == 0 else t.zone("-0700"),
            4: lambda: t.zone("-0700"),
            5: lambda: t.zone("-07:00"),
        },
    }
    rules = {
        "Y": 'year must either be "YY" or "YYYY"',
        "M": 'month must be "M", "MM", "MMM", or "MMMM"',
        "D": 'day of month must either be "D" or "DD"',
        "E": 'day of week must either be "EEE" or "EEEE"',
        "h": '24-hour must either be "h" or "hh"',
        "H": '12-hour must either be "H" or "HH"',
        "A": 'must be "AA"',
        "a": 'must be "aa"',
        "m": 'minute must either be "m" or "mm"',
        "s": 'second must either be "s" or "ss"',
        "Z": "timezone must be Z, ZZZZ, or ZZZZZ",
    }
    verb = choices.get(letter, {}).get(n)
    if verb is not None:
        return verb()
    if letter in rules:
        _fail(function, f"invalid date format verb {token!r}: {rules[letter]}")
    _fail(function, f"invalid date format verb {token!r}")


@_register("formatdate", 2, 2)
def formatdate(layout: Any, time: Any) -> str:
    """The RFC 3339 timestamp written in the layout: `YYYY-MM-DD'T'hh:mm:ssZ`."""
    spec = _string("formatdate", "the format", layout)
    _bounded("formatdate", len(spec) * 9)
    moment = _timestamp("formatdate", _string("formatdate", "the time", time))
    return _format_date("formatdate", spec, moment)


@_register("formattimestamp", 2, 2)
def formattimestamp(layout: Any, time: Any) -> str:
    """`formatdate` of an RFC 3339 timestamp or a unix time (whole seconds); the layout
    `X` gives the unix time. (bake's newer than 0.29.)"""
    spec = _string("formattimestamp", "the format", layout)
    kind = _kind(time)
    if kind == _STRING:
        moment = _timestamp("formattimestamp", _nfc(time))
    elif kind == _NUMBER:
        moment = _Time(_unix_seconds("formattimestamp", time), 0, 0)
    else:
        _wrong("formattimestamp", "the time must be a string timestamp or a unix timestamp number")
    if spec == "X":
        return str(moment.unix())
    _bounded("formattimestamp", len(spec) * 9)
    return _format_date("formattimestamp", spec, moment)


def _unix_seconds(function: str, value: Any) -> int:
    number = _num(function, "the unix timestamp", value)
    if not number.is_int() or not -(2**63) <= number.truncated() < 2**63:
        _fail(function, "unix timestamp must be an integer")
    return number.truncated()


@_register("unixtimestampparse", 1, 1)
def unixtimestampparse(seconds: Any) -> dict[str, Any]:
    """The parts of a unix time (UTC): year, month, day, hour, ..., rfc3339. (bake's
    newer than 0.29.)"""
    moment = _Time(_unix_seconds("unixtimestampparse", seconds), 0, 0)
    days = _days(moment.year, moment.month, moment.day)
    year_day = days - _days(moment.year, 1, 1) + 1
    iso_year, iso_week = _iso_week(moment.year, days)
    return _sorted_map(
        [
            ("year", moment.year),
            ("year_day", year_day),
            ("day", moment.day),
            ("month", moment.month),
            ("month_name", _MONTHS[moment.month - 1]),
            ("weekday", moment.weekday()),
            ("weekday_name", _WEEKDAYS[moment.weekday()]),
            ("hour", moment.hour),
            ("minute", moment.minute),
            ("second", moment.second),
            ("rfc3339", moment.rfc3339()),
            ("iso_year", iso_year),
            ("iso_week", iso_week),
        ]
    )


def _iso_week(year: int, days: int) -> tuple[int, int]:
    """Go's ISOWeek: the year and week of the Thursday of the date's week."""
    weekday = (days + 3) % 7  # Monday 0
    thursday = days - weekday + 3
    iso_year, _, _ = _civil(thursday)
    return iso_year, (thursday - _days(iso_year, 1, 1)) // 7 + 1


@_register("timestamp", 0, 0)
def timestamp() -> str:
    """The current time, UTC, in RFC 3339: `2024-03-05T10:00:00Z`."""
    import time

    return _Time(int(time.time()), 0, 0).rfc3339()


_DURATION_UNITS = {
    "ns": 1,
    "us": 1000,
    "\u00b5s": 1000,
    "\u03bcs": 1000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def _duration(function: str, text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds: `1h30m`, `-1.5h`, `300ms`."""
    original = text
    invalid = f"time: invalid duration {_go_quote(original)}"
    negative = False
    if text[:1] in ("-", "+"):
        negative = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if text == "":
        _fail(function, invalid)
    total = 0
    while text:
        if not (text[0] == "." or "0" <= text[0] <= "9"):
            _fail(function, invalid)
        digits = re.match(r"[0-9]*", text).group()  # type: ignore[union-attr]
        whole = 0
        for char in digits:
            if whole > (1 << 63) // 10:
                _fail(function, invalid)
            whole = whole * 10 + int(char)
            if whole > 1 << 63:
                _fail(function, invalid)
        text = text[len(digits) :]
        fraction, scale, post = 0, 1.0, False
        if text[:1] == ".":
            text = text[1:]
            digits_after = re.match(r"[0-9]*", text).group()  # type: ignore[union-attr]
            post = bool(digits_after)
            overflow = False
            for char in digits_after:
                if overflow:
                    continue
                if fraction > ((1 << 63) - 1) // 10:
                    overflow = True
                    continue
                candidate = fraction * 10 + int(char)
                if candidate > 1 << 63:
                    overflow = True
                    continue
                fraction = candidate
                scale *= 10
            text = text[len(digits_after) :]
        if not digits and not post:
            _fail(function, invalid)
        unit_end = 0
        while unit_end < len(text) and not (text[unit_end] == "." or "0" <= text[unit_end] <= "9"):
            unit_end += 1
        if unit_end == 0:
            _fail(function, f"time: missing unit in duration {_go_quote(original)}")
        unit_name, text = text[:unit_end], text[unit_end:]
        unit = _DURATION_UNITS.get(unit_name)
        if unit is None:
            _fail(
                function,
                f"time: unknown unit {_go_quote(unit_name)} in duration {_go_quote(original)}",
            )
        if whole > (1 << 63) // unit:
            _fail(function, invalid)
        whole *= unit
        if fraction > 0:
            whole += int(float(fraction) * (float(unit) / scale))
            if whole > 1 << 63:
                _fail(function, invalid)
        total += whole
        if total > 1 << 63:
            _fail(function, invalid)
    if negative:
        return -total
    if total > (1 << 63) - 1:
        _fail(function, invalid)
    return total


@_register("timeadd", 2, 2)
def timeadd(time: Any, duration: Any) -> str:
    """The RFC 3339 timestamp plus the duration (`1h30m`, `-10s`), in RFC 3339 (whole
    seconds, the timestamp's offset)."""
    moment = _timestamp("timeadd", _string("timeadd", "the timestamp", time))
    nanoseconds = _duration("timeadd", _string("timeadd", "the duration", duration))
    total = moment.nanosecond + nanoseconds
    seconds, nanosecond = divmod(total, 1_000_000_000)
    return _Time(moment.unix() + seconds, nanosecond, moment.offset).rfc3339()


# --------------------------------------------------------------------------- networks


def _network(function: str, prefix: Any) -> Any:
    """Go's net.ParseCIDR: the network of an address and prefix length."""
    import ipaddress

    text = _string(function, "the prefix", prefix)
    address, slash, bits = text.partition("/")
    if not slash or not bits.isdigit() or not bits.isascii() or (len(bits) > 1 and bits[0] == "0"):
        _fail(function, f"invalid CIDR expression: invalid CIDR address: {text}")
    try:
        return ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)
    except ValueError:
        _fail(function, f"invalid CIDR expression: invalid CIDR address: {text}")


def _address(version: int, value: int) -> str:
    import ipaddress

    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


@_register("cidrhost", 2, 2)
def cidrhost(prefix: Any, hostnum: Any) -> str:
    """The address of host number `hostnum` in the network (negative: from its end)."""
    network = _network("cidrhost", prefix)
    number = _whole("cidrhost", "the host number", hostnum)
    host_bits = network.max_prefixlen - network.prefixlen
    largest = (1 << host_bits) - 1
    offset = number
    if number < 0:
        offset = largest - (-number - 1)
        magnitude = -number - 1
    else:
        magnitude = number
    if magnitude > largest or offset < 0:
        _fail(
            "cidrhost",
            f"prefix of {network.prefixlen} does not accommodate a host numbered {number}",
        )
    return _address(network.version, int(network.network_address) | offset)


@_register("cidrnetmask", 1, 1)
def cidrnetmask(prefix: Any) -> str:
    """The network's mask, as an address: `255.240.0.0`."""
    return str(_network("cidrnetmask", prefix).netmask)


@_register("cidrsubnet", 3, 3)
def cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    """Subnet number `netnum` of the network, its prefix `newbits` longer."""
    network = _network("cidrsubnet", prefix)
    extra = _whole("cidrsubnet", "newbits", newbits)
    number = _whole("cidrsubnet", "netnum", netnum)
    if extra > 32:
        _fail("cidrsubnet", "may not extend prefix by more than 32 bits")
    length = network.prefixlen + extra
    if length > network.max_prefixlen:
        _fail(
            "cidrsubnet",
            f"insufficient address space to extend prefix of {network.prefixlen} by {extra}",
        )
    if number < 0 or number > (1 << extra) - 1:
        _fail(
            "cidrsubnet",
            f"prefix extension of {extra} does not accommodate a subnet numbered {number}",
        )
    base = int(network.network_address) | (number << (network.max_prefixlen - length))
    return f"{_address(network.version, base)}/{length}"


@_register("cidrsubnets", 1)
def cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    """Consecutive subnets of the network, each prefix extended by its `newbits`."""
    network = _network("cidrsubnets", prefix)
    if not newbits:
        return []
    width = network.max_prefixlen
    top = (1 << width) - 1
    start_len = network.prefixlen

    def mask(length: int) -> int:
        return int(top ^ ((1 << (width - length)) - 1))

    first = _whole("cidrsubnets", "newbits 1", newbits[0]) + start_len
    start = int(network.network_address)
    current = (start, start_len)  # (not used: the first newbits fails below)
    if 0 <= first <= width:
        current = ((start - 1) & top & mask(first), first)
    out = []
    for position, bits in enumerate(newbits, 1):
        extra = _whole("cidrsubnets", f"newbits {position}", bits)
        if extra < 1:
            _fail("cidrsubnets", "must extend prefix by at least one bit")
        if extra > 32:
            _fail("cidrsubnets", "may not extend prefix by more than 32 bits")
        length = extra + start_len
        if length > width:
            protocol = "IPv4" if width == 32 else "IPv6"
            _fail(
                "cidrsubnets",
                f"would extend prefix to {length} bits, which is too long for an {protocol} "
                "address",
            )
        ip, current_len = current
        current_last = ip | (top ^ mask(current_len))
        subnet = current_last & mask(length)
        last = ((subnet | (top ^ mask(length))) + 1) & top
        following = last & mask(length)
        inside = (following & mask(start_len)) == start
        if last == 0 or not inside:
            shown = f"{_address(network.version, ip)}/{current_len}"
            _fail(
                "cidrsubnets",
                f"not enough remaining address space for a subnet with a prefix of {length} "
                f"bits after {shown}",
            )
        current = (following, length)
        out.append(f"{_address(network.version, following)}/{length}")
    return out


# --------------------------------------------------------------------------- general


@_register("equal", 2, 2)
def equal(a: Any, b: Any) -> bool:
    """Whether the values are equal: of one type (`1` is not `"1"`) and value."""
    return _equal(a, b)


@_register("notequal", 2, 2)
def notequal(a: Any, b: Any) -> bool:
    """Whether the values are not equal (see `equal`)."""
    return not _equal(a, b)


BAKE_FUNCTIONS: Mapping[str, BakeFunction] = dict(sorted(_FUNCTIONS.items()))

"""Items of every DynamoDB type for the fast Query path's tests, in the client's form (B as bytes) and on the wire
(B as base64), and a view of records that makes their types part of any comparison."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary

# All ten types, nested maps and lists, empty strings, binaries, maps and lists, numbers at the limits boto3's
# Decimal context holds (38 digits; DynamoDB Local writes 1E+100 out in full, which TypeDeserializer refuses).
EVERY_TYPE: dict[str, Any] = {
    "s": {"S": "plain"},
    "s_empty": {"S": ""},
    "s_unicode": {"S": 'é ü 中文 😀 \u2028 " \\ \n \t end'},
    "n_int": {"N": "42"},
    "n_negative": {"N": "-17.25"},
    "n_zero": {"N": "0"},
    "n_38_digits": {"N": "12345678901234567890123456789012345678"},
    "n_38_nines": {"N": "-99999999999999999999999999999999999999"},
    "n_tiny": {"N": "1E-130"},
    "n_large": {"N": "1E+37"},
    "n_negative_fraction": {"N": "-0.000000000000000000000000000000000000123"},
    "b": {"B": bytes(range(256))},
    "b_empty": {"B": b""},
    "bool_true": {"BOOL": True},
    "bool_false": {"BOOL": False},
    "null": {"NULL": True},
    "ss": {"SS": ["a", "b", "é"]},
    "ns": {"NS": ["1", "-2.5", "1E+37", "12345678901234567890123456789012345678"]},
    "bs": {"BS": [b"\x00", b"\xff\xfe", b"binary"]},
    "m": {
        "M": {
            "s": {"S": "x"},
            "n": {"N": "1.5"},
            "b": {"B": b"\x01\x02"},
            "null": {"NULL": True},
            "empty_map": {"M": {}},
            "list": {"L": [{"S": "y"}, {"M": {"deep": {"NS": ["3"]}, "deeper": {"L": [{"BOOL": True}]}}}]},
            "sets": {"M": {"ss": {"SS": ["p"]}, "bs": {"BS": [b"q"]}}},
        }
    },
    "l": {
        "L": [
            {"S": ""},
            {"N": "0.5"},
            {"BOOL": False},
            {"NULL": True},
            {"L": []},
            {"SS": ["q", "r"]},
            {"NS": ["7"]},
            {"BS": [b"z"]},
            {"B": b""},
            {"M": {"k": {"S": "v"}}},
        ]
    },
    "m_empty": {"M": {}},
    "l_empty": {"L": []},
}

# Empty members of string and binary sets: DynamoDB Local stores them; an emulator that refuses them skips them.
EMPTY_SET_MEMBERS: dict[str, Any] = {"ss_empty_member": {"SS": ["", "a"]}, "bs_empty_member": {"BS": [b"", b"a"]}}
# Beyond 38 significant digits once written out: boto3's TypeDeserializer raises decimal.Rounded if it arrives so.
BEYOND_DECIMAL: dict[str, Any] = {
    "n_1e100": {"N": "1E+100"},
    "n_huge": {"N": "9.9999999999999999999999999999999999999E+125"},
}


def item(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    """An item of every type under ``pk`` / ``sk`` (client form)."""
    return {"pk": {"S": pk}, "sk": {"S": sk}, **EVERY_TYPE, **extra}


def to_wire(value: Any) -> Any:
    """A client-form AttributeValue structure as DynamoDB's JSON carries it: bytes become base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: to_wire(entry) for key, entry in value.items()}
    if isinstance(value, list):
        return [to_wire(entry) for entry in value]
    return value


def typed(value: Any) -> Any:
    """A record with every value's type spelled out: Decimal('1') vs Decimal('1.0'), bytes vs Binary, str vs Decimal,
    a set vs a list and key order all count."""
    if isinstance(value, dict):
        return ("dict", [(key, typed(entry)) for key, entry in value.items()])
    if isinstance(value, list):
        return ("list", [typed(entry) for entry in value])
    if isinstance(value, set | frozenset):
        return ("set", sorted(repr(typed(entry)) for entry in value))
    if isinstance(value, Binary):
        return ("Binary", bytes(value.value))
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)

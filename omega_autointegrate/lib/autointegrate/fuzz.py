"""Hostile webhook bodies for the receivers' fuzz tests: random bytes, random JSON, a valid
event mutated or with flipped bytes. The client's tests and the addon's tests
throw the same deliveries at their receivers.

Every function draws from a ``random.Random`` the caller seeds, so a failing
case replays exactly from its seed.
"""

import copy
import json

#: the kinds of body :func:`body` makes
BODY_KINDS = ("random-bytes", "random-json", "mutated", "flipped", "valid")
#: values known to hurt a receiver
NASTY = ["\x00", "A" * 129, 2**31, 2**64, -1, "1e999", "NaN", "Infinity", "12.5", "<b>x</b>",
         "<script>alert('x')</script>", ["L1"], {"ro_id": "AI-7F3K9Q"}, "", " ", "\u2028", "\udc80", 1.5, True, None]
TEXT_CHARS = "aZ09 .-_:/<>&\"'\\\x00\x1f\u00e9\u2028\udc80\U0001f600"


def random_text(rnd):
    return "".join(rnd.choice(TEXT_CHARS) for _ in range(rnd.randint(0, 12)))


def random_json(rnd, depth=0):
    """Any JSON value, nasty ones often."""
    kind = rnd.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.random() < 0.5
    if kind == 2:
        return rnd.choice([0, -1, 1, 2**31 - 1, 2**31, 2**63, -(2**63), rnd.randint(-10**6, 10**6)])
    if kind == 3:
        return rnd.choice([0.0, -0.0, 1e308, float("inf"), float("nan"), rnd.uniform(-1e6, 1e6)])
    if kind == 4:
        return random_text(rnd)
    if kind == 5:
        return copy.deepcopy(rnd.choice(NASTY))
    if kind in (6, 7):
        return [random_json(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {rnd.choice(["ro_id", "lines", "status", "sequence", "line_ref", "x", ""]):
            random_json(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


def mutate(rnd, value):
    """Replace, remove or retype one to three values anywhere in ``value`` (in place)."""
    for _ in range(rnd.randint(1, 3)):
        node = value
        while isinstance(node, (dict, list)) and node and rnd.random() < 0.6:
            keys = sorted(node) if isinstance(node, dict) else range(len(node))
            key = rnd.choice(list(keys))
            if not isinstance(node[key], (dict, list)) or not node[key]:
                break
            node = node[key]
        if isinstance(node, dict) and node:
            key = rnd.choice(sorted(node))
            if rnd.random() < 0.7:
                # text half the time: most fields are strings, and strings carry the nastiest input
                node[key] = random_text(rnd) if rnd.random() < 0.5 else random_json(rnd)
            else:
                del node[key]
        elif isinstance(node, list) and node:
            node[rnd.randrange(len(node))] = random_json(rnd)
    return value


def body(rnd, kind, event):
    """:return: a raw body of ``kind`` (one of :data:`BODY_KINDS`); ``event`` is left untouched."""
    if kind == "random-bytes":
        return rnd.randbytes(rnd.randint(0, 300))
    if kind == "random-json":
        return json.dumps(random_json(rnd)).encode()
    if kind == "mutated":
        return json.dumps(mutate(rnd, copy.deepcopy(event))).encode()
    raw = json.dumps(event).encode()
    if kind == "flipped":
        raw = bytearray(raw)
        for _ in range(rnd.randint(1, 4)):
            raw[rnd.randrange(len(raw))] = rnd.randrange(256)
        raw = bytes(raw)
    return raw

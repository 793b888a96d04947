"""PNG baking by chunk splice: one uncompressed iTXt chunk placed just before IEND.

Every other chunk is kept byte for byte, so the pixels, colour profile and any other metadata are
untouched and the same input always gives the same output. Keywords and the 5-zero-byte iTXt
header follow DIGEST.md section 3.1 (the bytes concentricsky's bakery and 1EdTech's fixtures use).
"""
from __future__ import annotations

import struct
import zlib

from . import Baked, BakeError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORDS = {"ob2": b"openbadges", "ob3": b"openbadgecredential"}
TEXT_CHUNKS = (b"iTXt", b"tEXt", b"zTXt")
MAX_CHUNK = 2**31 - 1  # PNG spec: chunk lengths must fit in 31 bits
MAX_INFLATED = 64 * 1024 * 1024  # cap for compressed iTXt written by other tools

Chunk = tuple[bytes, bytes]  # (type, data)


def bake(image: bytes, payload: str, *, version: str) -> bytes:
    """Return the PNG with `payload` in an iTXt chunk, replacing any chunk with the same keyword."""
    keyword = KEYWORDS[version]
    chunks = [c for c in read_chunks(image) if text_keyword(c) != keyword]
    data = keyword + b"\x00\x00\x00\x00\x00" + payload.encode("utf-8")
    if len(data) > MAX_CHUNK:
        raise BakeError("E406", "payload is too large for a PNG chunk")
    chunks.insert(len(chunks) - 1, (b"iTXt", data))
    return SIGNATURE + b"".join(write_chunk(t, d) for t, d in chunks)


def unbake(image: bytes) -> list[Baked]:
    """Badge payloads from `openbadges`/`openbadgecredential` iTXt and legacy `openbadges` tEXt."""
    found = []
    for chunk in read_chunks(image):
        keyword = text_keyword(chunk)
        for version, wanted in KEYWORDS.items():
            if keyword != wanted:
                continue
            if chunk[0] == b"iTXt":
                found.append(Baked(version, read_itxt(chunk[1])))
            elif chunk[0] == b"tEXt" and version == "ob2":
                found.append(Baked(version, chunk[1][len(wanted) + 1:].decode("latin-1")))
    return found


def read_chunks(image: bytes) -> list[Chunk]:
    """Split a PNG into chunks from IHDR to IEND, checking structure and every CRC."""
    if not image.startswith(SIGNATURE):
        raise BakeError("E402", "PNG signature is missing or damaged")
    chunks: list[Chunk] = []
    pos = len(SIGNATURE)
    while not chunks or chunks[-1][0] != b"IEND":
        if pos == len(image):
            raise BakeError("E402", "PNG is truncated: no IEND chunk")
        if pos + 12 > len(image):
            raise BakeError("E402", f"PNG is truncated: incomplete chunk header at byte {pos}")
        length, ctype = struct.unpack(">I4s", image[pos:pos + 8])
        name = ctype.decode("latin-1")
        if not ctype.isalpha():
            raise BakeError("E402", f"PNG is damaged: invalid chunk type {ctype!r} at byte {pos}")
        end = pos + 12 + length
        if length > MAX_CHUNK or end > len(image):
            raise BakeError("E402", f"PNG is truncated: chunk {name} at byte {pos} runs past the end")
        data = image[pos + 8:end - 4]
        if zlib.crc32(ctype + data) != int.from_bytes(image[end - 4:end], "big"):
            raise BakeError("E402", f"PNG is damaged: bad CRC in chunk {name} at byte {pos}")
        if not chunks and ctype != b"IHDR":
            raise BakeError("E402", f"PNG is damaged: first chunk is {name}, not IHDR")
        chunks.append((ctype, data))
        pos = end
    if pos != len(image):
        raise BakeError("E402", f"PNG has {len(image) - pos} unexpected bytes after IEND")
    return chunks


def write_chunk(ctype: bytes, data: bytes) -> bytes:
    """Serialise one chunk: length, type, data, CRC-32 over type + data."""
    crc = zlib.crc32(ctype + data)
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def text_keyword(chunk: Chunk) -> bytes | None:
    """The keyword of a tEXt/zTXt/iTXt chunk (bytes before the first NUL), else None."""
    ctype, data = chunk
    if ctype not in TEXT_CHUNKS or b"\x00" not in data:
        return None
    return data.split(b"\x00", 1)[0]


def read_itxt(data: bytes) -> str:
    """The UTF-8 text of an iTXt chunk, inflating it if another tool compressed it."""
    rest = data.split(b"\x00", 1)[1]
    parts = rest[2:].split(b"\x00", 2)
    if len(rest) < 2 or len(parts) != 3 or rest[0] not in (0, 1) or rest[1] != 0:
        raise BakeError("E402", "baked iTXt chunk has a damaged header")
    text = parts[2]
    if rest[0] == 1:
        text = inflate(text)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise BakeError("E402", "baked iTXt chunk text is not valid UTF-8") from None


def inflate(data: bytes) -> bytes:
    """zlib-decompress with a size cap, so a tiny chunk cannot expand into gigabytes."""
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_INFLATED)
    except zlib.error as exc:
        raise BakeError("E402", f"baked iTXt chunk is not valid zlib data: {exc}") from None
    if inflater.unconsumed_tail:
        raise BakeError("E402", "baked iTXt chunk inflates to more than 64 MiB")
    if not inflater.eof:
        raise BakeError("E402", "baked iTXt chunk has truncated zlib data")
    return text

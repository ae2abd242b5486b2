"""Huffman coding of byte strings with canonical codes.

Blob format: 4-byte big-endian original length; if it is not zero, 256 bytes giving the code length of
every byte value (0: absent), then the packed bits (MSB first, zero padded).
"""

import heapq
from collections import Counter


def code_lengths(data):
    counts = Counter(data)
    if not counts:
        return {}
    if len(counts) == 1:
        return {next(iter(counts)): 1}
    heap = [(n, i, [sym]) for i, (sym, n) in enumerate(sorted(counts.items()))]
    heapq.heapify(heap)
    lengths = dict.fromkeys(counts, 0)
    tie = len(heap)
    while len(heap) > 1:
        n1, _, s1 = heapq.heappop(heap)
        n2, _, s2 = heapq.heappop(heap)
        for sym in s1 + s2:
            lengths[sym] += 1
        heapq.heappush(heap, (n1 + n2, tie, s1 + s2))
        tie += 1
    return lengths


def canonical_codes(lengths):
    codes = {}
    code, previous = 0, 0
    for sym, length in sorted(lengths.items(), key=lambda item: (item[1], item[0])):
        if codes:
            code += 1
        code <<= length - previous
        previous = length
        codes[sym] = format(code, f"0{length}b")
    return codes


def compress(data):
    data = bytes(data)
    out = bytearray(len(data).to_bytes(4, "big"))
    if not data:
        return bytes(out)
    lengths = code_lengths(data)
    out += bytes(lengths.get(sym, 0) for sym in range(256))
    codes = canonical_codes(lengths)
    bits = "".join(codes[b] for b in data)
    bits += "0" * (-len(bits) % 8)
    out += int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return bytes(out)


def decompress(blob):
    blob = bytes(blob)
    if len(blob) < 4:
        raise ValueError("truncated header")
    size = int.from_bytes(blob[:4], "big")
    if size == 0:
        return b""
    table_end = 4 + 256
    if len(blob) < table_end:
        raise ValueError("truncated code table")
    lengths = {sym: n for sym, n in enumerate(blob[4:table_end]) if n}
    if not lengths or sum(2.0 ** -n for n in lengths.values()) > 1:
        raise ValueError("corrupt code table")
    decode = {code: sym for sym, code in canonical_codes(lengths).items()}
    out = bytearray()
    current = ""
    payload = blob[table_end:]
    bits = format(int.from_bytes(payload, "big"), f"0{len(payload) * 8}b") if payload else ""
    longest = max(lengths.values())
    for bit in bits:
        current += bit
        if current in decode:
            out.append(decode[current])
            current = ""
            if len(out) == size:
                return bytes(out)
        elif len(current) > longest:
            raise ValueError("corrupt data")
    raise ValueError("data ends before all symbols were decoded")

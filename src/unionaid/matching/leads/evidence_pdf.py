"""The evidence of an accepted lead as a one-page PDF (数据比对核验单), attached to the
application it starts under the material the matched record stands for, so the worker need not
bring that certificate.

Written by hand (no PDF library is a dependency): Chinese text in the Adobe-GB1 font every PDF
reader ships (STSong-Light, CMap UniGB-UCS2-H: the text is UCS-2 big-endian), no embedded font,
no scripts, one page; long lines wrap, lines past the page end are cut.
"""

from __future__ import annotations

WIDTH, HEIGHT, MARGIN = 595, 842, 50
SIZE, LEADING = 11, 17
PER_LINE = (WIDTH - 2 * MARGIN) // SIZE  # full-width characters per line
MAX_LINES = (HEIGHT - 2 * MARGIN) // LEADING - 2


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        current, width = "", 0.0
        for char in paragraph:
            step = 0.5 if ord(char) < 128 else 1.0
            if width + step > PER_LINE:
                lines.append(current)
                current, width = "", 0.0
            current += char
            width += step
        lines.append(current)
    return lines


def _hex(text: str) -> str:
    # UCS-2: characters outside the basic plane (rare in names) become a full-width "?"
    return "".join(f"{ord(c) if ord(c) < 0x10000 else 0xFF1F:04X}" for c in text)


def evidence_pdf(title: str, lines: list[str]) -> bytes:
    wrapped = [line for text in lines for line in _wrap(text)][:MAX_LINES]
    ops = [f"BT /F1 {SIZE + 5} Tf {MARGIN} {HEIGHT - MARGIN} Td <{_hex(title)}> Tj ET",
           f"BT /F1 {SIZE} Tf {LEADING} TL {MARGIN} {HEIGHT - MARGIN - 2 * LEADING} Td"]
    ops += [f"<{_hex(line)}> Tj T*" for line in wrapped]
    ops.append("ET")
    content = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] "
         "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>").encode("ascii"),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Length " + str(len(content)).encode("ascii") + b" >>\nstream\n" + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R "
        b"/DW 1000 /W [1 95 500] >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += b"".join(f"{offset:010d} 00000 n \n".encode("ascii") for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode("ascii"))
    return bytes(out)

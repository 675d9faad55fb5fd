#!/usr/bin/python3
"""The heatmap as a planner sees it: renders slotctl's SVG to PNG with
rsvg-convert (librsvg2-bin), then checks the colour of every cell in
the picture against the utilisation of the same unit and day in the
report (slotctl report --json), by buckets written down here apart
from slotctl's own table. Where each cell lies is read from the SVG's
own geometry (rect.cell, data-unit, data-period).

Also: each cell with a utilisation shows "N %", the region's total row
is drawn, and every holiday the report names is written on its column.

usage: heatmap_png.py HEATMAP.svg REPORT.json WORKDIR
Prints "ok: N cells" and exits 0, or says what differs and exits 1.
"""

import datetime
import json
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"

# Utilisation from, colour (README: green under 50 %, then 50-70,
# 70-85, 85-95, red from 95 %); grey where a day has no capacity.
BUCKETS = [(0.95, (0xd7, 0x30, 0x27)), (0.85, (0xfc, 0x8d, 0x59)),
           (0.70, (0xfe, 0xe0, 0x8b)), (0.50, (0x91, 0xcf, 0x60)),
           (0.00, (0x1a, 0x98, 0x50))]
NO_CAPACITY = (0xe0, 0xe0, 0xe0)


def expected_colour(utilisation):
    if utilisation is None:
        return NO_CAPACITY
    for start, colour in BUCKETS:
        if utilisation >= start:
            return colour
    raise ValueError("negative utilisation %r" % utilisation)


def read_png(path):
    """Width, height and rows of (r, g, b) of an 8-bit RGB or RGBA
    PNG, decoded here (zlib and the five filters of the PNG spec)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError("PNG of depth %d, colour type %d, interlace %d"
                         % (depth, colour_type, interlace))
    bpp = 4 if colour_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xff
            elif kind == 2:
                line[i] = (line[i] + b) & 0xff
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xff
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def report_cells(rows):
    """(unit or ':region', period start as UTC seconds) -> utilisation
    (None without capacity); and period start -> holiday names."""
    cells, holidays = {}, {}
    for row in rows:
        start = int(datetime.datetime.fromisoformat(
            row["period-start"]).timestamp())
        if row.get("holiday"):
            holidays[start] = row["holiday"]
        if row.get("level") == "unit":
            key = row["unit"]
        elif row.get("level") == "region":
            key = ":region"
        else:
            continue
        cells[(key, start)] = row.get("utilisation")
    return cells, holidays


def main():
    svg_path, json_path, workdir = sys.argv[1:4]
    png_path = os.path.join(workdir, "heatmap.png")
    subprocess.run(["rsvg-convert", "--format=png", "-o", png_path,
                    svg_path], check=True)
    width, height, pixels = read_png(png_path)
    with open(json_path) as f:
        cells, holidays = report_cells(json.load(f))
    tree = ET.parse(svg_path)
    seen, failures = set(), []
    texts = [(float(t.get("x")), float(t.get("y")), "".join(t.itertext()))
             for t in tree.iter(SVG + "text")]
    for rect in tree.iter(SVG + "rect"):
        if rect.get("class") != "cell":
            continue
        key = (rect.get("data-unit"), int(rect.get("data-period")))
        if key not in cells:
            failures.append("cell %s is not in the report" % (key,))
            continue
        seen.add(key)
        x, y = float(rect.get("x")), float(rect.get("y"))
        w, h = float(rect.get("width")), float(rect.get("height"))
        want = expected_colour(cells[key])
        # Corners inside the cell, clear of its centred label.
        for px, py in ((x + 2, y + 2), (x + w - 3, y + h - 3)):
            got = pixels[int(py)][int(px)]
            if got != want:
                failures.append("cell %s at (%d, %d): %02x%02x%02x, the "
                                "report's %s wants %02x%02x%02x"
                                % ((key, px, py) + got + (cells[key],)
                                   + want))
        if cells[key] is not None:
            label = "%d %%" % round(cells[key] * 100)
            if not any(x <= tx <= x + w and y <= ty <= y + h and
                       text == label for tx, ty, text in texts):
                failures.append("cell %s has no label %r" % (key, label))
    missing = set(cells) - seen
    if missing:
        failures.append("report rows without a cell: %s" % sorted(missing))
    if not any(unit == ":region" for unit, _ in seen):
        failures.append("no region total row")
    drawn = {"".join(t.itertext()) for t in tree.iter(SVG + "text")
             if t.get("class") == "holiday"}
    for start, name in holidays.items():
        if name not in drawn:
            failures.append("holiday %s (%d) is not on its column"
                            % (name, start))
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        return 1
    print("ok: %d cells in a %dx%d picture, %d holidays"
          % (len(seen), width, height, len(holidays)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

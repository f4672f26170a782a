"""Write the simple campaign graphics in content/images/ as small JPEG files.

Drawn in pure Python and saved by Pillow: flat colours and simple shapes, no words in any
image, so the alt text in the content files only has to describe the shapes and colours.

    python tools/make_images.py
"""

from __future__ import annotations

import math
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "content" / "images"

Colour = tuple[int, int, int]


def hexc(value: str) -> Colour:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


class Canvas:
    """An RGB canvas filled with spans, one row at a time."""

    def __init__(self, width: int, height: int, background: str):
        self.w, self.h = width, height
        bg = bytes(hexc(background))
        self.rows = [bytearray(bg * width) for _ in range(height)]

    def span(self, y: int, x0: float, x1: float, colour: Colour) -> None:
        if not 0 <= y < self.h:
            return
        a, b = max(0, math.ceil(x0)), min(self.w - 1, math.floor(x1))
        if b < a:
            return
        self.rows[y][a * 3:(b + 1) * 3] = bytes(colour) * (b - a + 1)

    def rect(self, x: float, y: float, w: float, h: float, colour: str) -> None:
        c = hexc(colour)
        for row in range(int(y), int(y + h)):
            self.span(row, x, x + w - 1, c)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, colour: str) -> None:
        c = hexc(colour)
        for row in range(int(cy - ry), int(cy + ry) + 1):
            t = (row + 0.5 - cy) / ry
            if abs(t) > 1:
                continue
            half = rx * math.sqrt(1 - t * t)
            self.span(row, cx - half, cx + half, c)

    def circle(self, cx: float, cy: float, r: float, colour: str) -> None:
        self.ellipse(cx, cy, r, r, colour)

    def polygon(self, points: list[tuple[float, float]], colour: str) -> None:
        c = hexc(colour)
        ys = [p[1] for p in points]
        n = len(points)
        for row in range(int(min(ys)), int(max(ys)) + 1):
            yc = row + 0.5
            xs = []
            for i in range(n):
                (x0, y0), (x1, y1) = points[i], points[(i + 1) % n]
                if (y0 <= yc < y1) or (y1 <= yc < y0):
                    xs.append(x0 + (yc - y0) * (x1 - x0) / (y1 - y0))
            xs.sort()
            for a, b in zip(xs[0::2], xs[1::2], strict=False):
                self.span(row, a, b, c)

    def heart(self, cx: float, cy: float, size: float, colour: str) -> None:
        pts = []
        for i in range(240):
            t = 2 * math.pi * i / 240
            x = 16 * math.sin(t) ** 3
            y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
            pts.append((cx + x * size / 32, cy - y * size / 32))
        self.polygon(pts, colour)

    def star(self, cx: float, cy: float, outer: float, inner: float, colour: str) -> None:
        pts = []
        for i in range(10):
            r = outer if i % 2 == 0 else inner
            a = -math.pi / 2 + i * math.pi / 5
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        self.polygon(pts, colour)

    def jpeg(self, name: str) -> Path:
        """Save as a JPEG: the one type every channel takes (Instagram takes nothing else)."""
        from PIL import Image

        picture = Image.frombytes("RGB", (self.w, self.h), b"".join(bytes(r) for r in self.rows))
        path = OUT / name
        picture.save(path, "JPEG", quality=90, optimize=True)
        return path


WIDE, SQUARE = (1200, 675), (1080, 1080)


def orange_heart() -> Canvas:
    c = Canvas(*SQUARE, "#F26B1D")
    c.heart(540, 560, 620, "#FFFFFF")
    return c


def orange_sixteen() -> Canvas:
    c = Canvas(*WIDE, "#F26B1D")
    for row in range(2):
        for i in range(8):
            c.circle(180 + i * 120, 250 + row * 180, 45, "#FFFFFF")
    return c


def adults_week() -> Canvas:
    c = Canvas(*SQUARE, "#00747A")
    c.circle(430, 540, 240, "#FFFFFF")
    c.circle(650, 540, 240, "#BDE6E3")
    return c


def anti_bullying() -> Canvas:
    c = Canvas(*SQUARE, "#1D4F91")
    colours = ["#E63946", "#F4A261", "#F1FA8C", "#2A9D8F", "#FFFFFF"]
    for i, col in enumerate(colours):
        c.circle(180 + i * 180, 540, 80, col)
    return c


def padlock() -> Canvas:
    c = Canvas(*SQUARE, "#102A5C")
    c.circle(540, 430, 190, "#FFFFFF")
    c.circle(540, 430, 130, "#102A5C")
    c.rect(300, 430, 480, 380, "#FFFFFF")
    c.circle(540, 590, 45, "#102A5C")
    c.rect(525, 600, 30, 110, "#102A5C")
    return c


def sun_and_hill() -> Canvas:
    c = Canvas(*SQUARE, "#A9D8F5")
    c.circle(540, 420, 210, "#FFD23F")
    c.ellipse(540, 1080, 760, 330, "#4CAF50")
    return c


def shield() -> Canvas:
    c = Canvas(*SQUARE, "#5B2A86")
    c.polygon([(290, 220), (790, 220), (790, 560), (540, 880), (290, 560)], "#FFFFFF")
    return c


def speech_bubble() -> Canvas:
    c = Canvas(*SQUARE, "#2E7D32")
    c.ellipse(540, 480, 360, 250, "#FFFFFF")
    c.polygon([(400, 680), (520, 700), (330, 860)], "#FFFFFF")
    return c


def two_bubbles() -> Canvas:
    c = Canvas(*SQUARE, "#388E3C")
    c.ellipse(420, 400, 280, 190, "#FFFFFF")
    c.polygon([(300, 550), (400, 570), (240, 700)], "#FFFFFF")
    c.ellipse(680, 700, 260, 170, "#C8E6C9")
    c.polygon([(790, 830), (700, 850), (860, 960)], "#C8E6C9")
    return c


def house() -> Canvas:
    c = Canvas(*SQUARE, "#DCEFFB")
    c.polygon([(240, 520), (540, 240), (840, 520)], "#C0392B")
    c.rect(300, 520, 480, 360, "#FFFFFF")
    c.rect(490, 680, 100, 200, "#8D6E63")
    return c


def two_hearts() -> Canvas:
    c = Canvas(*SQUARE, "#6A1B9A")
    c.heart(420, 560, 440, "#FFFFFF")
    c.heart(720, 600, 300, "#E1BEE7")
    return c


def purple_ring() -> Canvas:
    c = Canvas(*SQUARE, "#4A148C")
    c.circle(540, 540, 330, "#FFFFFF")
    c.circle(540, 540, 240, "#4A148C")
    return c


def candle() -> Canvas:
    c = Canvas(*SQUARE, "#14213D")
    c.rect(480, 500, 120, 380, "#F5F5F5")
    c.rect(536, 450, 8, 50, "#3E3E3E")
    c.ellipse(540, 390, 45, 85, "#FFC94A")
    return c


def open_ring() -> Canvas:
    c = Canvas(*SQUARE, "#0D3B66")
    c.circle(540, 540, 320, "#FFFFFF")
    c.circle(540, 540, 230, "#0D3B66")
    c.rect(480, 180, 120, 140, "#0D3B66")
    return c


def rising_sun() -> Canvas:
    c = Canvas(*SQUARE, "#1B2A49")
    c.circle(540, 700, 260, "#FFD166")
    c.rect(0, 700, 1080, 380, "#274060")
    return c


def stripes() -> Canvas:
    c = Canvas(*WIDE, "#FFFFFF")
    colours = ["#E53935", "#FB8C00", "#FDD835", "#43A047", "#1E88E5", "#8E24AA"]
    for i, col in enumerate(colours):
        c.rect(i * 200, 0, 200, 675, col)
    return c


def phone() -> Canvas:
    c = Canvas(*SQUARE, "#2B2B2B")
    c.rect(380, 180, 320, 720, "#FFFFFF")
    c.rect(410, 260, 260, 520, "#2B2B2B")
    c.circle(540, 840, 30, "#2B2B2B")
    return c


def summer() -> Canvas:
    c = Canvas(*WIDE, "#7EC8E3")
    c.circle(950, 180, 110, "#FFD23F")
    c.rect(0, 500, 1200, 175, "#F2D49B")
    return c


def seven_squares() -> Canvas:
    c = Canvas(*WIDE, "#FFFFFF")
    colours = ["#1D4F91", "#2E7D32", "#5B2A86", "#F26B1D", "#102A5C", "#C0392B", "#00747A"]
    for i, col in enumerate(colours):
        c.rect(60 + i * 155, 260, 135, 135, col)
    return c


def help_bubble() -> Canvas:
    c = Canvas(*SQUARE, "#1D4F91")
    c.ellipse(540, 500, 380, 260, "#FFFFFF")
    c.polygon([(420, 710), (540, 730), (350, 880)], "#FFFFFF")
    for dx in (-140, 0, 140):
        c.circle(540 + dx, 500, 45, "#1D4F91")
    return c


def winter_star() -> Canvas:
    c = Canvas(*WIDE, "#1B5E20")
    c.star(600, 337, 230, 95, "#FFFFFF")
    for x, y in [(150, 120), (1050, 140), (200, 560), (1000, 540), (380, 90), (820, 600)]:
        c.circle(x, y, 14, "#FFFFFF")
    return c


def report_document() -> Canvas:
    c = Canvas(*WIDE, "#1D4F91")
    c.rect(430, 90, 340, 495, "#FFFFFF")
    for i in range(7):
        c.rect(480, 170 + i * 55, 240 if i % 3 else 160, 18, "#B0BEC5")
    return c


def training_chairs() -> Canvas:
    c = Canvas(*WIDE, "#F4F1EA")
    c.rect(200, 90, 800, 260, "#37474F")
    for i in range(5):
        c.circle(240 + i * 180, 480, 42, "#1D4F91")
        c.rect(190 + i * 180, 530, 100, 80, "#1D4F91")
    return c


def family_circles() -> Canvas:
    c = Canvas(*WIDE, "#F28C28")
    c.circle(420, 300, 120, "#FFFFFF")
    c.circle(700, 290, 130, "#FFFFFF")
    c.circle(560, 450, 80, "#FFF3E0")
    c.circle(830, 470, 60, "#FFF3E0")
    return c


IMAGES = {
    "orange-heart.jpg": orange_heart,
    "orange-sixteen-days.jpg": orange_sixteen,
    "safeguarding-adults-week.jpg": adults_week,
    "anti-bullying-week.jpg": anti_bullying,
    "safer-internet-day.jpg": padlock,
    "childrens-mental-health-week.jpg": sun_and_hill,
    "child-exploitation.jpg": shield,
    "mental-health-talk.jpg": speech_bubble,
    "world-mental-health-day.jpg": two_bubbles,
    "hoarding-home.jpg": house,
    "carers-hearts.jpg": two_hearts,
    "elder-abuse-ring.jpg": purple_ring,
    "day-of-memory-candle.jpg": candle,
    "modern-slavery-ring.jpg": open_ring,
    "suicide-prevention-sun.jpg": rising_sun,
    "hate-crime-stripes.jpg": stripes,
    "county-lines-phone.jpg": phone,
    "summer-beach.jpg": summer,
    "safeguarding-week-squares.jpg": seven_squares,
    "raise-a-concern.jpg": help_bubble,
    "winter-star.jpg": winter_star,
    "annual-report.jpg": report_document,
    "training-room.jpg": training_chairs,
    "think-family.jpg": family_circles,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in IMAGES.items():
        path = make().jpeg(name)
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()

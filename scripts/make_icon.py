"""Draw the addon's Apps icon (omega_autointegrate/static/description/icon.png).

A car seen from the front under a windshield, with the fleet's check mark:
a job the fleet approved. Run it again after changing the drawing:
``python3 scripts/make_icon.py``; it needs Pillow only.
"""

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
SCALE = 4  # drawn large, then scaled down for smooth edges
OUT = Path(__file__).resolve().parent.parent / "omega_autointegrate" / "static" / "description" / "icon.png"

TEAL_TOP = (20, 132, 145)
TEAL_BOTTOM = (10, 86, 104)
WHITE = (255, 255, 255)
GLASS = (178, 226, 234)
GREEN = (46, 170, 92)


def draw():
    s = SIZE * SCALE
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    # background: a vertical gradient in a rounded square
    gradient = Image.new("RGBA", (s, s))
    pixels = ImageDraw.Draw(gradient)
    for y in range(s):
        t = y / (s - 1)
        color = tuple(round(a + (b - a) * t) for a, b in zip(TEAL_TOP, TEAL_BOTTOM, strict=True))
        pixels.line([(0, y), (s, y)], fill=color + (255,))
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, s - 1, s - 1], radius=s * 0.22, fill=255)
    image.paste(gradient, (0, 0), mask)

    d = ImageDraw.Draw(image)
    u = s / 256  # drawing unit: coordinates below are on a 256 grid

    def box(x0, y0, x1, y1):
        return [x0 * u, y0 * u, x1 * u, y1 * u]

    # car body, front view
    d.rounded_rectangle(box(40, 120, 216, 188), radius=22 * u, fill=WHITE)
    # roof and windshield frame
    d.polygon([(70 * u, 124 * u), (88 * u, 70 * u), (168 * u, 70 * u), (186 * u, 124 * u)], fill=WHITE)
    # the windshield itself
    d.polygon([(84 * u, 116 * u), (98 * u, 80 * u), (158 * u, 80 * u), (172 * u, 116 * u)], fill=GLASS)
    # headlights and grille
    d.ellipse(box(54, 138, 82, 160), fill=TEAL_TOP)
    d.ellipse(box(174, 138, 202, 160), fill=TEAL_TOP)
    d.rounded_rectangle(box(98, 146, 158, 158), radius=5 * u, fill=TEAL_BOTTOM)
    # wheels
    d.rounded_rectangle(box(52, 180, 84, 206), radius=8 * u, fill=WHITE)
    d.rounded_rectangle(box(172, 180, 204, 206), radius=8 * u, fill=WHITE)

    # the fleet's approval: a green badge with a check mark
    d.ellipse(box(158, 28, 230, 100), fill=WHITE)
    d.ellipse(box(164, 34, 224, 94), fill=GREEN)
    d.line([(178 * u, 64 * u), (190 * u, 77 * u), (211 * u, 50 * u)], fill=WHITE, width=round(9 * u),
           joint="curve")
    return image.resize((SIZE, SIZE), Image.LANCZOS)


if __name__ == "__main__":
    draw().save(OUT, optimize=True)
    print(OUT)

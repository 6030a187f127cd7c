"""Printable credential slips: eight per A4 page, cut along the dashed lines, one per
student, in the district's colours, with the address to sign in at.

Fonts are DejaVu (bundled in bulkactions/fonts, Bitstream Vera licence) so every
name prints, whatever its alphabet."""

import io
from pathlib import Path

from fpdf import FPDF

from schools.branding import text_colour_on
from schools.models import District

FONTS = Path(__file__).resolve().parent.parent / "fonts"
COLUMNS, ROWS = 2, 4
PAGE_W, PAGE_H, MARGIN = 210, 297, 8


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _logo_png(district: District) -> io.BytesIO | None:
    if not district.logo:
        return None
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(bytes(district.logo)))
        image.thumbnail((240, 240))
        out = io.BytesIO()
        image.convert("RGBA").save(out, format="PNG")
        out.seek(0)
        return out
    except (OSError, ValueError):
        return None  # an SVG or unreadable logo: the slip shows the name only


def slips_pdf(*, district: District, people: list[dict], must_change: bool) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Sign-in details – {district.name}")
    pdf.set_author("Rollbook")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVuMono", "", str(FONTS / "DejaVuSansMono.ttf"))
    logo = _logo_png(district)
    band, band_text = _rgb(district.brand_colour), _rgb(text_colour_on(district.brand_colour))
    width = (PAGE_W - 2 * MARGIN) / COLUMNS
    height = (PAGE_H - 2 * MARGIN) / ROWS
    login = district.url("/login/")
    for index, person in enumerate(people):
        slot = index % (COLUMNS * ROWS)
        if slot == 0:
            pdf.add_page()
            _cut_lines(pdf, width, height)
        x = MARGIN + (slot % COLUMNS) * width + 4
        y = MARGIN + (slot // COLUMNS) * height + 4
        inner = width - 8
        pdf.set_fill_color(*band)
        pdf.rect(x, y, inner, 11, style="F")
        text_x = x + 3
        if logo is not None:
            logo.seek(0)
            pdf.image(logo, x=x + 2, y=y + 1.5, h=8)
            text_x = x + 14
        pdf.set_text_color(*band_text)
        pdf.set_font("DejaVu", "B", 10)
        pdf.set_xy(text_x, y + 2.5)
        pdf.cell(inner - (text_x - x) - 2, 6, district.name[:60])
        pdf.set_text_color(11, 12, 12)
        pdf.set_xy(x, y + 14)
        pdf.set_font("DejaVu", "B", 13)
        pdf.cell(inner, 7, f"{person['first_name']} {person['last_name']}"[:48])
        detail = " · ".join(v for v in (person.get("year_group"), person.get("classes")) if v)
        pdf.set_xy(x, y + 21)
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(inner, 5, detail[:70])
        for offset, (label, value) in enumerate(
            (("Username", person["username"]), ("Password", person["password"]))
        ):
            pdf.set_xy(x, y + 29 + offset * 8)
            pdf.set_font("DejaVu", "", 9)
            pdf.cell(20, 7, label)
            pdf.set_font("DejaVuMono", "", 12)
            pdf.cell(inner - 20, 7, value)
        pdf.set_font("DejaVu", "", 8)
        pdf.set_xy(x, y + 47)
        pdf.cell(inner, 4, "Sign in at:")
        pdf.set_xy(x, y + 51)
        pdf.cell(inner, 4, login[:80])
        if must_change:
            pdf.set_xy(x, y + 57)
            pdf.cell(inner, 4, "You will choose your own password when you first sign in.")
    if not people:
        pdf.add_page()
        pdf.set_font("DejaVu", "", 12)
        pdf.cell(0, 10, "No passwords to hand out.")
    return bytes(pdf.output())


def _cut_lines(pdf: FPDF, width: float, height: float) -> None:
    pdf.set_draw_color(150, 150, 150)
    pdf.set_dash_pattern(dash=2, gap=2)
    for column in range(1, COLUMNS):
        x = MARGIN + column * width
        pdf.line(x, MARGIN, x, PAGE_H - MARGIN)
    for row in range(1, ROWS):
        y = MARGIN + row * height
        pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
    pdf.set_dash_pattern()

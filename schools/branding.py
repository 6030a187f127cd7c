"""Brand colour and logo rules: readable contrast (WCAG 2.2, 4.5:1) and safe images."""

import io
import re

from django.conf import settings
from django.core.exceptions import ValidationError

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
LOGO_MAX_PIXELS = 2000


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: str) -> str:
    """White or near-black, whichever reads better on the brand colour."""
    if not HEX_COLOUR.match(background or ""):
        return "#ffffff"
    return "#ffffff" if contrast_ratio(background, "#ffffff") >= 4.5 else "#0b0c0c"


def validate_brand_colour(value: str) -> str:
    value = (value or "").strip()
    if not HEX_COLOUR.match(value):
        raise ValidationError(
            "Enter the colour as a # followed by 6 hexadecimal digits, like #1d4f91",
            code="format",
        )
    value = value.lower()
    best = max(contrast_ratio(value, "#ffffff"), contrast_ratio(value, "#0b0c0c"))
    if best < 4.5:
        raise ValidationError(
            f"Choose a darker or lighter colour: text on {value} would have a contrast of "
            f"{int(best * 100) / 100:.2f}:1, and it must be at least 4.5:1 to be readable",
            code="contrast",
        )
    return value


def validate_logo(content: bytes) -> str:
    """Checks that the bytes are a real raster image of a sane size; returns its MIME type."""
    from PIL import Image, UnidentifiedImageError

    if not content:
        raise ValidationError("The selected file is empty", code="empty")
    if len(content) > settings.LOGO_MAX_BYTES:
        limit = settings.LOGO_MAX_BYTES // 1024
        raise ValidationError(f"The selected file must be smaller than {limit} KB", code="size")
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            "The selected file must be a PNG, JPEG, GIF or WebP image", code="type"
        ) from None
    if kind not in LOGO_TYPES:
        raise ValidationError(
            "The selected file must be a PNG, JPEG, GIF or WebP image", code="type"
        )
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise ValidationError(
            f"The logo must be at most {LOGO_MAX_PIXELS} pixels wide and high", code="pixels"
        )
    return LOGO_TYPES[kind]

"""Puts the request's district and its branding into every template."""

from schools.branding import text_colour_on


def district(request):
    current = getattr(request, "district", None)
    if current is None:
        return {"district": None}
    return {
        "district": current,
        "brand_text_colour": text_colour_on(current.brand_colour),
    }

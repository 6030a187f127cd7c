"""Template filters of the import pages."""

from django import template

from bulkactions.importing.results import row_message

register = template.Library()


@register.filter
def field_of(mapping: dict, name: str):
    """A row's value or messages for one field ("" when it has none)."""
    return mapping.get(name, "") if isinstance(mapping, dict) else ""


@register.filter
def import_row_message(row) -> str:
    return row_message(row)

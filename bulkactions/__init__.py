"""Imports and bulk actions on many accounts at once (issues 5 and 6 build it)."""

"""Keeps accounts, classes and enrolments in step with a district's SIS (issue 7 builds it)."""

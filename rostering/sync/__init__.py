"""A sync: what the SIS says (a Bundle) against what Rollbook holds, as a Plan (plan.py),
then the Plan written in one transaction with bulk statements (apply.py)."""

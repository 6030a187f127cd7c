"""The import pipeline: parse a file, match its columns, validate every row, then commit.

parse → columns → validate (rows stored on the job) → review and fixes → commit.
Nothing in accounts changes before commit; see bulkactions.models for the job states.
"""

"""OneRoster 1.1 and 1.2: the specs' files, columns and vocabularies (spec), reading CSV
bundles (bundle), fetching from REST servers (rest) and generating sample bundles (samples).

Every source is turned into the same shape: per CSV file name, rows as dicts keyed by the
spec's CSV column names with string values, so one validator and one sync serve them all.
"""

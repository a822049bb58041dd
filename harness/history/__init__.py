"""The history of many runs: kept as immutable files (archive), followed as series
(series), searched for change points (changes)."""

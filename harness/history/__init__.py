"""The history of many runs: kept as immutable files (archive), followed as series of
compare's figures (series), searched for change points (changes), each decided a
regression or an improvement (decision), and read with its decisions for rendering
(read). Nothing here imports report/."""

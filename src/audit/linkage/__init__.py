"""Link suggestions for pairs without a link source, for a person to review.

An "Every" pair has no merge rule; its links come from Sesam (a global dataset export) or
from links files. Where neither exists yet, ``audit links suggest`` proposes links by
matching the pair's mapped properties (e-mail, name, date of birth, ...) with splink's
probabilistic record linkage on DuckDB, and writes them as the links files
``audit run --links DIR`` reads. They are never used by an audit on their own.

- :mod:`~audit.linkage.fields`: which mapped properties can match records, normalised;
- :mod:`~audit.linkage.model`: the splink model, trained unsupervised, and its scores;
- :mod:`~audit.linkage.suggest`: every pair of a flow, the CSV files written.

splink is imported only here, inside :func:`audit.linkage.model.score_links`, so that
``audit run`` never pays for it.
"""

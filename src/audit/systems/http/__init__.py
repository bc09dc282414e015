"""HTTP conventions every system's client shares: secrets redacted from every log line and
output (:mod:`~audit.systems.http.redaction`), and what is retried and how long to wait
(:mod:`~audit.systems.http.retries`)."""

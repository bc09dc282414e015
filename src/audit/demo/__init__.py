"""Demo tenants with planted drift.

:func:`generate` writes them (:mod:`audit.demo.generator`); :mod:`audit.demo.tenants`
builds the base records, :mod:`audit.demo.drift` plants each kind of drift,
:mod:`audit.demo.expected` records the findings the audit must report and
:mod:`audit.demo.output` writes the files.
"""

from audit.demo.generator import FINDING_KEYS, DemoResult, generate

__all__ = ["FINDING_KEYS", "DemoResult", "generate"]

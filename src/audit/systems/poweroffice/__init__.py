"""PowerOffice Go: both API generations' fields, the connector, snapshots fetched from it, and
the local simulator. :data:`PROFILE` is what the audit's core knows of its records."""

from audit.systems.poweroffice.fields import PROFILE

__all__ = ["PROFILE"]

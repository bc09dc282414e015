"""PowerOffice Go: both API generations' fields, the connector, snapshots fetched from it, and
the local simulator."""

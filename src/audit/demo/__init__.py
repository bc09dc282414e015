"""Demo tenants with planted drift.
"""

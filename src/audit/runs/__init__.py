"""Runs of the audit: the notebooks' API, nightly jobs and the batch process settings.
"""

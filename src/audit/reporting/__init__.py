"""The data-quality report, its charts, the run history and run directories.
"""

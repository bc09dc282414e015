"""Great Expectations: the suites generated from a flow, their validation and Data Docs."""

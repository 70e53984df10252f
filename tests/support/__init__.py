"""Test support shared by the suites: fakes at the seams (see ``feedserver``)."""

"""Test tooling for hosts and plugin authors: conformance suites, fakes, local servers.

Importing this package does not import pytest; the conformance suites in its
modules do.
"""

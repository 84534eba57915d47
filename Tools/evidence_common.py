"""Pieces the evidence scripts (Tools/crash.py, Tools/concurrency.py) share: event ids and reading
the whole log through `ledger log --json`. Python 3 standard library only."""

import json
import os
import time

# `ledger log` lists at most --limit entries (default 1000); the whole log is read in pages.
LOG_PAGE = 100000


def uuid7():
    """A lowercase canonical UUIDv7 (RFC 9562): 48-bit Unix ms, version 7, variant 10."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    h = "%032x" % value
    return "%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])


def log_argv(ledger, start):
    """The arguments of one page of `ledger log --json` from entry `start`."""
    return ["log", "--ledger", ledger, "--json", "--from", str(start), "--limit", str(LOG_PAGE)]


def parse_log_page(text):
    """The entries of one page of `ledger log --json` output, and whether it was the last page."""
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return entries, len(entries) < LOG_PAGE

"""Libraries' own assertion exits: functions a library's assertion macros call, right before abort().

A library that checks its invariants with its own macros, not ``assert()``, ends in one function of its own:

* libzmq (``src/err.hpp``): ``zmq_assert(x)`` prints ``Assertion failed: x (file:line)``, ``errno_assert`` /
  ``posix_assert`` / ``alloc_assert`` print the error and where, and all of them then call ``zmq::zmq_abort()``
  (``src/err.cpp``), which calls ``abort()``. Nothing else in libzmq calls it, so ``zmq::zmq_abort`` under
  ``abort()`` is a failed libzmq assertion, with or without its message in the paste.

>>> bool(ASSERT_EXITS.match("zmq::zmq_abort")), bool(ASSERT_EXITS.match("zmq::socket_base_t::close"))
(True, False)
"""
from __future__ import annotations

import re

ASSERT_EXITS = re.compile(r"^(?:zmq::zmq_abort)$")


def library_assert_exit(function) -> bool:
    """``function`` is a library's assertion exit (called by its assertion macros only)."""
    return isinstance(function, str) and bool(ASSERT_EXITS.match(function))

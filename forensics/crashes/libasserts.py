"""Libraries' own assertion exits: functions a library's assertion macros call, right before abort().

A library that checks its invariants with its own macros, not ``assert()``, ends in one function of its own:

* libzmq (``src/err.hpp``): ``zmq_assert(x)`` prints ``Assertion failed: x (file:line)``, ``errno_assert`` /
  ``posix_assert`` / ``alloc_assert`` print the error and where, and all of them then call ``zmq::zmq_abort()``
  (``src/err.cpp``), which calls ``abort()``. Nothing else in libzmq calls it, so ``zmq::zmq_abort`` under
  ``abort()`` is a failed libzmq assertion, with or without its message in the paste.

* GLib (``glib/gtestutils.c``): ``g_assert(x)`` and ``g_assert_cmp*`` fail through ``g_assertion_message_expr`` /
  ``g_assertion_message_cmp*`` into ``g_assertion_message``, which prints ``assertion failed: (x)`` and aborts:
  those frames are a failed assertion, not GLib's fatal log (``g_error``), whose frames are ``g_log*``.
* glibc's malloc checks its own invariants with ``assert()`` redefined to ``__malloc_assert`` (a static function
  in ``malloc.c``, glibc 2.26–2.36; earlier releases used ``__assert_fail`` with ``malloc.c`` in the message, 2.37+
  ``__libc_assert_fail``): a failed one means the heap is corrupt. The name is glibc's reserved one, with its two
  underscores; a program's own ``malloc_assert`` (checking that malloc returned memory) is that program's assertion.

>>> bool(ASSERT_EXITS.match("zmq::zmq_abort")), bool(ASSERT_EXITS.match("zmq::socket_base_t::close"))
(True, False)
>>> bool(GLIB_ASSERT.match("g_assertion_message_expr")), glibc_malloc_assert("__malloc_assert"), glibc_malloc_assert("malloc_assert")
(True, True, False)
"""
from __future__ import annotations

import re

ASSERT_EXITS = re.compile(r"^(?:zmq::zmq_abort)$")
GLIB_ASSERT = re.compile(r"^g_assertion_message\w*$")
_GLIBC_MALLOC_ASSERT = re.compile(r"^__malloc_assert$")


def library_assert_exit(function) -> bool:
    """``function`` is a library's assertion exit (called by its assertion macros only)."""
    return isinstance(function, str) and bool(ASSERT_EXITS.match(function))


def glibc_malloc_assert(raw_function) -> bool:
    """``raw_function`` (as the debugger printed it, before normalisation) is glibc's malloc assertion."""
    return isinstance(raw_function, str) and bool(_GLIBC_MALLOC_ASSERT.match(raw_function.strip()))


def glib_assert_words(assert_frames) -> str | None:
    """The reason's words when the assertion frame on the stack is GLib's g_assert failure path."""
    names = [n for n in assert_frames["norm_function"].tolist() if isinstance(n, str) and GLIB_ASSERT.match(n)]
    return f"GLib's g_assert failed ({names[0]} on the stack)" if names else None

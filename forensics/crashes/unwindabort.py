"""An unwinder's own abort(): the C++ runtime gave up walking the stack, no exception went unhandled.

libc++abi's personality routine calls ``abort()`` itself when the LSDA it reads is bad (``readEncodedPointer`` on an
unknown encoding, ``scan_eh_tab`` on a malformed call-site table), and libgcc's unwinder does when it cannot step a
frame (``uw_init_context_1``, ``_Unwind_Resume`` failing: ``gcc_assert`` → ``abort``). An unhandled exception goes
through ``std::terminate`` (``__cxa_throw`` → ``std::__terminate`` → the terminate handler → abort), so with the
unwinder's frame right under abort and no terminate frame anywhere, a throw on the stack is no uncaught exception: the
class is the plain abort.

>>> unwinder_abort(["raise", "abort", "__cxxabiv1::readEncodedPointer", "__gxx_personality_v0", "__cxa_throw"])
True
>>> unwinder_abort(["raise", "abort", "__verbose_terminate_handler", "std::terminate", "__gxx_personality_v0"])
False
"""
from __future__ import annotations

import re

_UNWINDER = re.compile(r"^(?:__cxxabiv1::(?:readEncodedPointer|scan_eh_tab|\w*read\w*|get_\w+)|readEncodedPointer|"
                       r"scan_eh_tab|__gxx_personality_v0|_Unwind_\w+|__gnu_Unwind_\w+|uw_\w+|_?_Unwind_RaiseException)$")
_TERMINATE = re.compile(r"terminate|__cxa_call_unexpected|qTerminate")


def unwinder_abort(names: list) -> bool:
    """Frame 0's abort() called by the unwinder or a personality routine, with no terminate frame on the stack."""
    names = [str(n) for n in names]
    if any(_TERMINATE.search(n) for n in names) or "abort" not in names:
        return False
    k = names.index("abort")
    return k + 1 < len(names) and bool(_UNWINDER.match(names[k + 1]))


def unwinder_why(names: list) -> str:
    """The reason, naming the frame that called abort()."""
    names = [str(n) for n in names]
    caller = names[names.index("abort") + 1]
    return (f"abort() called by the C++ unwinder ({caller}) with no std::terminate frame on the stack: the runtime gave "
            "up walking the stack (bad unwind data), no exception went unhandled")

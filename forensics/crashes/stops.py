"""What the crash thread's top frame says about a stop that no fault explains.

>>> bool(EVENT_WAIT.match("epoll_wait"))
True
"""
from __future__ import annotations

import re

#: an event loop waiting for input: where ^C finds any running program that idles (no sign of a hang)
EVENT_WAIT = re.compile(r"^(?:__)?(?:poll|ppoll|select|pselect6?|epoll_wait|epoll_pwait|__GI___poll|__poll|kevent)$")


def glib_trap(frames) -> bool:
    """Frame 0 unnamed (``??``) in libglib itself: where G_BREAKPOINT leaves a GLib fatal-log trap without symbols."""
    if not len(frames):
        return False
    top = frames.iloc[0]
    return top["norm_function"] == "??" and "libglib-2.0" in str(top.get("module"))

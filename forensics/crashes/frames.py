"""Frame names: normalising them and telling the program's own code from libraries and wrappers.

The rules follow satyr (ABRT) and CASR, with newer CPU variants (``_avx2``, ``_evex``)
that satyr's list predates.

>>> normalize_function("__strlen_evex")
'strlen'
>>> normalize_function("parse_header.constprop.0.isra.0")
'parse_header'
>>> normalize_function("std::map<std::__cxx11::basic_string<char>, int>::at(std::__cxx11::basic_string<char> const&)")
'std::map::at'
>>> normalize_function("__GI___libc_free")
'free'
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from .qtsource import in_qt_source

_CPU_VARIANT = re.compile(
    r"^_*(?P<base>(?:str|mem|wcs|wmem|stp|rawmem|strn|strchr|strr)\w*?)"
    r"_(?:sse2|sse3|ssse3|sse4_1|sse4_2|sse42|avx2?|avx512\w*|evex\w*|erms|unaligned\w*|rtm|ifunc|generic|power\w*|aarch64|"
    # (glibc's aarch64 variants: __strlen_asimd, __memcpy_simd, __strlen_mte, __memset_kunpeng, __memcpy_thunderx2 …)
    r"asimd|simd|sve|mte|kunpeng|thunderx\w*|falkor|a64fx|emag|zva\w*)\w*$")
_SUFFIX = re.compile(r"(?:\.(?:constprop|isra|part|cold|lto_priv|localalias|clone|llvm)(?:\.\d+)*|\[cold\])+$")
_PREFIX = re.compile(r"^\*?(?:__GI_|IA__|__interceptor_)")   # (old gcc left its asm-name "*" in the DWARF name)
_GO_NAME = re.compile(r"^[\w.\-~%]+(?:/[\w.\-~%]+)*\.(?:\(\*?[\w\[\],. ]+\)\.)?[\w\-\[\]~.]+$")
# glibc symbol aliases that mean the public function
_ALIASES = {"__pthread_kill_implementation": "pthread_kill", "__pthread_kill_internal": "pthread_kill",
            "___pthread_mutex_lock": "pthread_mutex_lock", "__pthread_mutex_lock": "pthread_mutex_lock",
            "gsignal": "raise", "__libc_message": "libc_message", "__poll": "poll",
            "___pthread_join": "pthread_join", "__pthread_clockjoin_ex": "pthread_join"}


def _strip_templates(name: str) -> str:
    out, depth = [], 0
    for c in name:
        if c == "<":
            depth += 1
        elif c == ">" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def demangle_name(sym: str) -> str:
    """The qualified name of a plain Itanium-mangled symbol, as ``backtrace_symbols`` and crash hooks print
    them (``_ZN6kungfu7journal9load_pageEi`` -> ``kungfu::journal::load_page``; macOS adds an ``_``);
    anything with templates or substitutions is returned unchanged (names only, parameters dropped).

    >>> demangle_name("_ZN3app6Reader4joinERKSt10shared_ptrIiE"), demangle_name("_Z4mainv"), demangle_name("_ZSt9terminatev")
    ('app::Reader::join', 'main', 'std::terminate')
    """
    s = sym[1:] if sym.startswith("__Z") else sym
    k, parts = 2, []
    if s.startswith("St", k):
        parts, k = ["std"], k + 2
    nested = s.startswith("N", k)
    k += nested
    while nested and k < len(s) and s[k] in "KVr":
        k += 1                                    # cv-qualifiers of a member function
    if nested and s.startswith("St", k):
        parts, k = ["std"], k + 2
    while k < len(s):
        m = re.match(r"\d+", s[k:])
        if m:
            n = int(m.group())
            k += len(m.group())
            if n == 0 or k + n > len(s):
                return sym
            parts.append(s[k:k + n])
            k += n
        elif nested and s[k] in "CD" and k + 1 < len(s) and s[k + 1] in "0123459" and parts:
            parts.append(("~" if s[k] == "D" else "") + parts[-1])
            k += 2
        elif not nested or s[k] == "E":
            break
        else:
            return sym                             # templates, substitutions, operators: not attempted
        if not nested:
            break
    return "::".join(parts) if parts else sym


def normalize_function(name) -> str | None:
    """A frame's function name with compiler and libc noise removed (None stays None)."""
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    n = str(name).strip().replace("(anonymous namespace)", "{anon}")
    if n in ("??", "???", "") or n.startswith("<"):
        return ("??" if n == "???" else n) or None     # gfortran's and Valgrind's "???" is gdb's "??"
    if n.startswith(("_Z", "__Z")):
        n = demangle_name(n)
    n = re.sub(r"\[abi:\w+\]|\s*\[clone [^\]]*\]|::h[0-9a-f]{16}$", "", n)   # C++ ABI tags, clones, Rust hashes
    n = re.sub(r"^_?__rustc\[[0-9a-f]+\]::", "", n)    # Rust >= 1.86's std symbols: __rustc[4794b31d…]::rust_begin_unwind
    # (a value receiver "pkg.(T).M", or one whose "*" markdown ate, is Go's too: C++ never writes ".(")
    if _GO_NAME.match(n) and ("/" in n or ".(" in n or n.startswith("main.")) and not _SUFFIX.search(n):
        return n.rsplit("/", 1)[-1]      # Go: drop the module path, keep package.(*Type).Method
    if n.startswith(("closure #", "implicit closure #")) and " in " in n:
        return n      # Swift's demangled closure: its parentheses are types, the name has no parameter list to drop
    if "(" in n or "<" in n:  # C++: drop templates, then the parameter list and any return type
        keep_op = "operator()" in n
        n = _strip_templates(n)
        cut = n.find("operator()") + len("operator()") if keep_op else n.find("(")
        if cut > 0 or keep_op:
            n = n[:cut]
        n = n.split(" ")[-1] if " " in n.strip() else n
    n = _SUFFIX.sub("", n)
    m = _CPU_VARIANT.match(n)
    if m:
        return m.group("base")
    n = _PREFIX.sub("", n)
    n = _ALIASES.get(n, n)
    if n.startswith("__GI___"):
        n = n[5:]
    n = re.sub(r"^__(?=(?:libc_)?(?:free|malloc|calloc|realloc|abort|raise|poll|assert_fail))", "", n)
    n = n.replace("libc_", "") if n.startswith("libc_") and n[5:] in ("free", "malloc", "calloc", "realloc") else n
    return n.strip()      # (a frame wrapped after "func (arg," leaves the space before its cut argument list)


# Frames that are never the culprit: signal delivery, abort paths, allocator internals,
# assertion/fortify reporting, C++ terminate/throw machinery, lock waits and thread start-up.
WRAPPERS = re.compile(r"^(?:" + "|".join([
    r"raise", r"abort", r"pthread_kill", r"tgkill", r"kill", r"libc_message", r"__libc_message",
    r"__assert_fail(?:_base)?", r"assert_fail(?:_base)?", r"__assert_perror_fail",
    r"malloc_printerr", r"_int_(?:free|malloc|realloc|memalign)\w*", r"sysmalloc", r"tcache_\w+",
    r"free", r"malloc", r"calloc", r"realloc", r"(?:__)?libc_(?:free|malloc|calloc|realloc)", r"cfree",
    r"__fortify_fail(?:_abort)?", r"__chk_fail", r"__stack_chk_fail(?:_local)?", r"\w+_chk",
    r"std::terminate", r"std::__terminate", r"__cxxabiv1::__terminate", r"__cxxabiv1::__unexpected",
    r"__cxa_throw", r"__cxa_rethrow", r"__cxa_call_terminate", r"__gnu_cxx::__verbose_terminate_handler",
    r"_Unwind_\w+", r"std::__throw_\w+",
    r"futex_wait\w*", r"__futex_abstimed_wait\w*", r"futex_abstimed_wait\w*", r"__lll_lock_wait\w*",
    r"lll_lock_wait\w*", r"lll_mutex_lock_optimized", r"pthread_mutex_lock", r"pthread_rwlock_\w+",
    r"pthread_cond_\w*wait\w*", r"sem_\w*wait\w*", r"pthread_join", r"__pthread_clockjoin_ex",
    r"poll", r"ppoll", r"select", r"epoll_wait", r"nanosleep", r"clock_nanosleep\w*", r"sleep", r"usleep",
    r"v?s?n?printf", r"v?fprintf", r"v?dprintf",
    r"read", r"write", r"syscall",
    r"start_thread", r"clone3?", r"_start", r"__libc_start_main\w*", r"__libc_start_call_main",
    r"libc_start_main\w*", r"libc_start_call_main",
    r"(?:str|mem|wcs|wmem|stp|rawmem)\w*",
    r"<signal handler called>",
]) + r")$")

# Names no program defines for itself: wrappers even when gdb shows a bare source name such as
# "abort.c:79" (older glibc debug info), which the library-path rule cannot recognise.
RUNTIME_INTERNALS = re.compile(r"^(?:" + "|".join([
    r"raise", r"abort", r"pthread_kill", r"libc_message", r"__libc_message", r"__assert_fail(?:_base)?",
    r"assert_fail(?:_base)?", r"__assert_perror_fail", r"malloc_printerr", r"_int_(?:free|malloc|realloc|memalign)\w*",
    r"sysmalloc", r"__fortify_fail(?:_abort)?", r"__chk_fail", r"__stack_chk_fail(?:_local)?", r"__\w+_chk",
    r"std::terminate", r"std::__terminate", r"__cxxabiv1::\w+", r"__cxa_\w+", r"__gnu_cxx::__verbose_terminate_handler",
    r"_Unwind_\w+", r"__futex_abstimed_wait\w*", r"__lll_lock_wait\w*", r"lll_mutex_lock_optimized",
    r"__pthread_clockjoin_ex", r"start_thread", r"clone3?", r"__libc_start_main\w*", r"__libc_start_call_main",
    r"<signal handler called>", r"pthread_\w+", r"__gthread_\w+", r"operator new\w*", r"operator delete\w*",
    r"ptmalloc_init", r"malloc_consolidate", r"__libc_\w+", r"__pthread_\w+", r"__nptl_\w+", r"futex_wait\w*", r"__GI_\w+",
    r"_L_lock_\d+", r"_L_unlock_\d+", r"__lll_\w+", r"g_logv", r"g_log", r"g_log_\w+", r"_g_log_abort", r"g_error",
    r"qFatal", r"qt_message_fatal", r"qAbort", r"QMessageLogger::\w+", r"qTerminate", r"__gxx_personality_v0",
    # Qt's Q_ASSERT/Q_ASSERT_X reporters and message output (qglobal.cpp/qlogging.cpp): the reporter, never the bug
    r"qt_assert(?:_x)?", r"qt_message_output", r"qt_message(?:_print)?",
    # the kernel's vDSO entry points (i386's syscall gate, the signal-return trampolines)
    r"__kernel_vsyscall", r"__kernel_rt_sigreturn", r"__kernel_sigreturn", r"__restore_rt",
    r"panic", r"runtime\.\w+(?:\.\w+)*", r"_?rust_begin_unwind",
    # Windows' thread and CRT start-up (every thread's bottom frames)
    r"BaseThreadInitThunk", r"RtlUserThreadStart", r"__scrt_common_main_seh", r"invoke_main", r"w?mainCRTStartup", r"rust_panic\w*", r"__rust_\w+",
    r"core::panicking::\w+", r"std::panicking::\w+", r"std::sys::\S+", r"core::result::unwrap_failed",
    r"core::option::\w+_failed", r"_cgo_\w+", r"[\w.]+\._Cfunc_\w+", r"[\w.]+\._cgo_\w+",
    # glibc's allocator entry points (gdb prints "__libc_calloc (…) at malloc.c:3436": a bare source name)
    r"malloc", r"calloc", r"realloc", r"free", r"cfree", r"memalign", r"posix_memalign", r"valloc",
    # other assertion runtimes: libstdc++'s _GLIBCXX_ASSERTIONS checks, macOS, MSVC, bionic
    r"(?:std::)?__glibcxx_assert_fail", r"(?:std::)?__replacement_assert", r"__assert_rtn", r"_wassert", r"__assert2?",
    # sanitizer runtimes' C entry points, also when linked into the program (their C++ internals are
    # left alone: in the sanitizers' own tracker they are the project's code)
    r"__interceptor_\w+(?:\.\w+)*", r"__interceptor_trampoline_\w+", r"___interceptor_\w+", r"wrap_\w+",
    r"__asan_\w+", r"__msan_\w+", r"__tsan_\w+", r"__ubsan_\w+", r"__lsan_\w+", r"__hwasan_\w+",
    # V8/Node's fatal-error path (FATAL ERROR: …, CHECK failures, OOM): the reporter, not the culprit
    r"node::(?:Abort|OnFatalError|OOMErrorHandler|FatalError|Assert|DumpBacktrace|DumpNativeBacktrace|PrintCaughtException|"
    r"FatalException|TriggerUncaughtException)", r"v8::Utils::Report\w+", r"v8::api_internal::ToLocalEmpty",
    r"v8::V8::(?:ToLocalEmpty|FatalProcessOutOfMemory)", r"v8::base::OS::Abort", r"V8_Fatal", r"v8::internal::V8::Fatal\w+",
    r"v8::internal::Heap::FatalProcessOutOfMemory",
    # glibc stdio and locale internals (shown with their own source paths, "libio/iofgets.c", "printf.c:33")
    r"_IO_\w+", r"__vfscanf_internal", r"__vfprintf_internal", r"__isoc99_\w+",
    r"_{2,3}v?[sfdw]?n?w?printf(?:_internal|_chk)?", r"__wcsrtombs", r"__mbsrtowcs", r"__wcrtomb", r"__mbrtowc",
    # glibc's versioned aliases ("___pthread_cond_wait", "___vsnprintf_chk"): no program names a function so
    r"___[a-z]\w*",
]) + r")$")

#: libc frames worth naming when they are where the process died (``in-libc:strlen``)
LIBC_STRING = re.compile(r"^(?:str|mem|wcs|wmem|stp|rawmem)\w*$")

_LIB_PATH = re.compile(r"(?:^(?:\.\./|\./)+(?:nptl|sysdeps|stdlib|malloc|posix|string|libio|csu|assert|debug|signal|"
                       r"misc|elf|io|time|stdio-common|iconv|intl|locale|login|resolv|socket|wcsmbs)/)"
                       # glibc's source dirs no program names its own (sanitizer reports print them bare)
                       r"|^(?:nptl|sysdeps|libio|stdio-common|csu|wcsmbs|sunrpc)/"
                       r"|libstdc\+\+-v3|libsupc\+\+|/glibc-|/libsanitizer/|/compiler-rt/lib/"
                       # Valgrind's preloaded replacements of libc's string and allocation functions
                       r"|(?:^|/)vg_replace_(?:strmem|malloc)\.c$"
                       # backward-cpp, the stack-printing library (one header): its handler and unwinder frames
                       r"|(?:^|/)backward\.hpp$"
                       # Debian/Ubuntu build paths of system libraries (/build/<source package>-<random>/…)
                       r"|^/build/(?:glib2\.0|gtk\+[23]\.0|gtk4|pango1\.0|cairo|gdk-pixbuf|dbus|systemd|mesa|libx11|"
                       r"libxcb|wayland|pulseaudio|pipewire|qtbase-opensource-src)-[^/]+/"
                       # Python's standard library in a faulthandler stack (not site-/dist-packages)
                       r"|/lib/python\d[\d.]*/(?!(?:site|dist)-packages/)|^<frozen")
_SYSTEM_HEADERS = ("/usr/include/", "/usr/local/include/")
# libstdc++'s / libc++'s implementation headers by name (Valgrind and sanitizers print them without a directory)
_STD_HEADER = re.compile(r"(?:^|/)(?:bits/)?(?:basic_string|stl_\w+|shared_ptr\w*|unique_ptr|std_function|hashtable\w*|"
                         r"alloc_traits|new_allocator|allocator|char_traits|move|invoke|refwrap|ptr_traits|vector|"
                         r"deque|string_view|atomic_base|std_mutex|std_thread|uniform_int_dist|range_access|"
                         r"stl_iterator\w*|basic_ios|ostream_insert|locale_facets\w*)\.(?:h|tcc)$")


def _inlined_std_code(function, source, pc) -> bool:
    """An inlined frame (no pc) of a standard-library header: ``_M_check (basic_string.h:261)``, as
    Valgrind lists the inline chain above the program's function that holds it."""
    return (pc is None or pc != pc) and isinstance(source, str) and bool(_STD_HEADER.search(source)) \
        and isinstance(function, str) and ("::" not in function or function.startswith(("std::", "__gnu_cxx::")))


def _system_header(source) -> bool:
    """A header of the system or of a compiler's C++ library wherever it is installed (devtoolset, spack,
    conda: ``…/include/c++/8.2.0/bits/unique_ptr.h``)."""
    return isinstance(source, str) and (source.startswith(_SYSTEM_HEADERS) or "/include/c++/" in source)


def _installed_header_code(function, source: str) -> bool:
    """Code of an installed library inlined from its header: ``YAML::Node::begin`` at
    /usr/include/yaml-cpp/node/impl.h (the namespace names the header's directory). A program's own
    function that gdb merely attributes to an inlined header line (``load_setting`` at
    bits/new_allocator.h at -O2) is not."""
    if not _system_header(source) or not isinstance(function, str):
        return False
    last = function.split("(", 1)[0].rsplit("::", 1)[-1].lstrip("~")
    if re.match(r"^(?:_[A-Z]|__)\w*$", last):
        return True       # a reserved name (~_Rb_tree, _M_erase): the implementation's own code
    if "::" not in function:
        return False
    ns = function.split("::", 1)[0].split("<", 1)[0].strip().lower()    # QVector<QPointF>::last in …/qvector.h
    return len(ns) >= 2 and ns in source.lower()


def _qt_template_code(function, source) -> bool:
    """A Qt class template inlined from Qt's header named after it (``QList<QVariant>::first`` at ``qlist.h``,
    bare or under an SDK's ``include/QtCore/``): Qt's code, wherever the SDK is installed."""
    if not isinstance(function, str) or not isinstance(source, str):
        return False
    m = re.match(r"^(Q[A-Z]\w*)<.*>::", function)
    c = re.match(r"^~?(Q[A-Z][a-z]\w*?)(?:Private)?::", function)      # (and its d-pointer class QObjectPrivate)
    base = source.rsplit("/", 1)[-1]
    if in_qt_source(source) or c and base == c.group(1).lower() + ".cpp" and re.fullmatch(r"(?:[a-z]+/)?q\w+\.cpp", source):
        return True       # Qt's own class in Qt's source file named after it (QWidget::~QWidget at kernel/qwidget.cpp)
    if not m:
        return False
    base, folder = source.rsplit("/", 1)[-1], source.rsplit("/", 1)[0] if "/" in source else ""
    return base == m.group(1).lower() + ".h" and (not folder or bool(re.search(r"/include/(?:qt[56]/)?Qt[A-Z]\w*$", folder)))

# (__aeabi_idiv0, __divdi3 …: the compiler's runtime helpers, linked into every ARM/32-bit object)
_LIB_FUNC = re.compile(r"^(?:std::|__gnu_cxx::|__cxxabiv1::|_Unwind_|__cxa_|__aeabi_|__u?(?:div|mod)[dt]i3$|core::|"
                       r"alloc::|panic_unwind::|__rustc::|"
                       r"panic_abort::|rust_begin_unwind|rust_panic|__rust_|_?Py(?!Init_)[A-Z_]\w*|_?PyEval\w*|"
                       r"~?sipQ[A-Z]\w*::|sip_api_\w+|meth_Q[A-Z]\w*|"     # (PyQt's sip-generated wrappers of Qt classes)
                       # GLib/GDK/GTK's and Xlib/xcb's C namespaces (a frame shown without its library, as ABRT's
                       # truncated backtrace prints them: "_XEventsQueued at xcb_io.c:364")
                       r"_?g_[a-z]\w*$|_?gdk_[a-z]\w*$|gtk_main\w*$|_?X[A-Z][a-z]\w*$|xcb_[a-z]\w*$)")
# (PyInit_<module> is the extension's own init function, which CPython's import calls by that name)


#: shared objects of the C/C++ runtimes, toolkits and common system libraries: never "own" code. A
#: program's own shared objects (``/opt/monetdb/lib/libbat.so``, a plugin) are not listed.
_SYSTEM_LIB = re.compile(
    r"^(?:ld-linux[\w.-]*|ld64|ld-elf|ld|libc|libc\+\+(?:abi)?|libpthread|libthr|libm|libdl|librt|libresolv|libutil|"
    r"libstdc\+\+|libsupc\+\+|libgcc_s|libgcc|libunwind|libdispatch|libswift\w*|libFoundation\w*|libBlocksRuntime|libatomic|libgomp|libgfortran|libasan|libubsan|libtsan|"
    r"liblsan|libtcmalloc\w*|libjemalloc|libmimalloc|libgc|libglib|libgobject|libgio|libgthread|libgmodule|libgtk\w*|"
    r"libgdk\w*|libpango\w*|libcairo\w*|libX\w+|libxcb\w*|libwayland\w*|libQt\d?\w*|libKF\d\w*|libdbus\w*|"
    r"libsystemd|libudev|libz|libssl|libcrypto|libffi|libpython[\d.]*\w*|libuv|libsqlite3|libxml2|libGL\w*|libEGL|"
    r"libdrm|libasound|libpulse\w*|libSDL\w*|libsystem_\w+|libdyld|libobjc|libswiftCore|libcuda|libnvidia\w*|"
    r"libwx_\w+|libpipewire\w*|libspa\w*|libgstreamer\w*|libgst\w*|libav\w+|libsw\w+|libicu\w+|"
    r"libruby|libperl|liblua[\d.]*|libluajit[\w.-]*|libjvm|libnode|libv8\w*|libphp\d*|libclang_rt\.[\w.-]*?|\w+_dri|libgallium)"
    r"(?:[-_][\w.-]*)?(?:\.\d+)*\.(?:so|dylib)")   # (versioned dylibs: libgc.1.5.4.dylib)
# (Mesa's drivers are the system's too: /usr/lib/dri/i965_dri.so, "<driver>_dri.so" bare, Mesa 24's libgallium-24.1.so)
# (Android: the platform's and its APEX modules' libraries — bionic, ART, the vendor's drivers — are the system's)
_SYSTEM_DIR = re.compile(r"^/(?:usr/)?lib(?:32|64)?(?:/[\w-]+-linux-gnu\w*)?/(?:dri/)?[^/]+$"
                         r"|^/(?:system|system_ext|vendor|product|apex/[\w.@-]+)/lib(?:32|64)?/"
                         # Python's Qt bindings (PySide's QtWidgets.abi3.so, PyQt's QtCore.so): Qt's code, wrapped
                         r"|.*/(?:site|dist)-packages/(?:PySide[26]|PyQt[56]|shiboken[26])/")


# Windows' own DLLs and Microsoft's C/C++ runtimes (ntdll, KERNELBASE, kernel32, user32, ucrtbase, MSVCP140, VCRUNTIME140 …),
# and Qt's (Qt5Core.dll, a debug build's Qt5Cored.dll, Qt6Widgets.dll: the toolkit's, as libQt5Core.so is)
_WINDOWS_DLL = re.compile(r"^(?:ntdll|kernelbase|kernel32|user32|gdi32\w*|win32u|advapi32|ole32|oleaut32|combase|rpcrt4|"
                          r"shell32|ws2_32|ucrtbased?|msvcrt|msvcp\d+\w*|vcruntime\d+\w*|concrt\d+|mfc\d+\w*|d3d\d+\w*|dxgi|"
                          r"Qt[456][A-Z]\w*)\.dll$", re.I)


# Apple's frameworks and dylibs as crash reports name them: a bundle id (com.apple.CoreFoundation), a framework's
# name alone (UIKitCore, CoreFoundation), a dylib with its compatibility version (libobjc.A.dylib, libc++.1.dylib)
_APPLE_SYSTEM = re.compile(r"^(?:com\.apple\.\S+|dyld|(?:CoreFoundation|Foundation|UIKit|UIKitCore|AppKit|QuartzCore|"
                           r"GraphicsServices|SafariServices|CFNetwork|HIToolbox|CoreGraphics|CoreText|CoreImage|CoreData|"
                           r"CoreMedia|CoreVideo|CoreAudio|AudioToolbox(?:Core)?|AVFoundation|AVFAudio|Metal|ImageIO|Security|WebKit|"
                           r"WebCore|JavaScriptCore|FrontBoardServices|BaseBoard|RunningBoardServices|SwiftUI|Combine|"
                           r"IOKit|libswift\w+|lib(?:objc|c\+\+|c\+\+abi|z|sqlite3|xml2|icucore|System)\.[A-Z0-9][\w.]*\.dylib)$)")


def is_system_module(path: str) -> bool:
    """A runtime/system shared object (by name, or sitting directly in a distribution library dir)."""
    base = path.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if _WINDOWS_DLL.match(base) or _APPLE_SYSTEM.match(base):
        return True
    if ".so" not in base and ".dylib" not in base:
        return False
    return bool(_SYSTEM_LIB.match(base)) or bool(_SYSTEM_DIR.match(path))


#: the Go standard library's top-level packages (``vendor``/``internal`` are its own trees)
_GO_STD = frozenset("archive bufio builtin bytes cmp compress container context crypto database debug embed encoding "
                    "errors expvar flag fmt go hash html image index internal io iter log maps math mime net os path "
                    "plugin reflect regexp runtime slices sort strconv strings sync syscall testing text time unicode "
                    "unique unsafe vendor weak cmd".split())


def _is_go_runtime(function: str, source) -> bool:
    """Go frames of the runtime and standard library (package path without a dot, not ``main``)."""
    go_name = "/" in function.split(".", 1)[0] or ".(" in function      # "database/sql.(*DB).Query(...)"
    # Go before 1.4 wrote its runtime in C and goc (GOROOT/src/pkg/runtime/sema.goc, proc.c)
    if not (isinstance(source, str) and source.endswith((".go", ".s", ".goc")) or not isinstance(source, str) and go_name) \
            or "." not in function:
        return False      # a C function of a cgo preamble lives in a .go file too
    if function.startswith("_/"):
        return False      # a package built outside GOPATH: "_/home/me/app/commands.init"
    pkg = function.split(".", 1)[0] if "/" not in function else function.split("/", 1)[0]
    # a GOPATH project's import path may have no dot either ("xd/lib/…", "roaster"): only the standard
    # library's own top-level packages are the runtime's
    return pkg != "main" and "." not in pkg and pkg.lstrip("(*") in _GO_STD


def library_mask(frames: pd.DataFrame, ranges=()) -> np.ndarray:
    """True for frames in shared libraries / system code (not the program's own).

    A frame is library code when gdb said ``from X.so``, when its pc falls into a shared
    library's range (``info sharedlibrary``), when its source is a glibc/libstdc++ build
    path, or when its name is a C++ runtime/std function.
    """
    mods = frames["module"].to_numpy(dtype=object)
    srcs = frames["source_file"].to_numpy(dtype=object)
    fns = frames["function"].to_numpy(dtype=object)
    pcs = pd.to_numeric(frames["pc"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lib = np.array([(isinstance(m, str) and is_system_module(m)) or
                    (isinstance(s, str) and (bool(_LIB_PATH.search(s)) or _installed_header_code(f, s) or _qt_template_code(f, s)
                                             or _inlined_std_code(f, s, p)))
                    or (isinstance(f, str) and (bool(_LIB_FUNC.match(f)) or _is_go_runtime(f, s)
                                                or (f.startswith("_ZNSt") and bool(_LIB_FUNC.match(demangle_name(f))))))
                    for m, s, f, p in zip(mods, srcs, fns, pcs)], dtype=bool)
    for lo, hi, path in ranges:
        if lo is None or hi is None or not is_system_module(path):
            continue
        lib |= (pcs >= lo) & (pcs < hi)
    return lib


def annotate(frames: pd.DataFrame, ranges=()) -> pd.DataFrame:
    """Add ``norm_function``, ``is_library``, ``is_wrapper`` and ``is_own`` columns.

    Own code = not a library, not a wrapper, and a real function (a ``??`` frame is own
    only when it is not at a tiny pc, i.e. it is code of an unsymbolised program).
    """
    f = frames.copy()
    norm = [normalize_function(x) for x in f["function"].to_numpy(dtype=object)]
    f["norm_function"] = np.array(norm, dtype=object)
    lib = library_mask(f, ranges)
    f["is_library"] = lib
    # a wrapper name counts only outside the program's own sources (inlined libc headers such as
    # string_fortified.h are system code too)
    srcs = f["source_file"].to_numpy(dtype=object)
    system = lib | np.array([not isinstance(s, str) or s.startswith("/usr/include/") or "/include/c++/" in s
                             for s in srcs], dtype=bool)
    raw = f["function"].to_numpy(dtype=object)
    # (a Go function of a hosted package keeps its path: "github.com/x/y/runtime.run" is no runtime's)
    internal = np.array([bool(n) and (bool(RUNTIME_INTERNALS.match(n)) or str(r).startswith(("__GI_", "__libc_", "__malloc_assert")))
                         and not (n.startswith("runtime.") and "/" in str(r) and "." in str(r).split("/", 1)[0])
                         for n, r in zip(norm, raw)], dtype=bool)
    # (glibc's bits/ headers hold only its inline wrappers: _FORTIFY_SOURCE's realpath, read, printf at bits/stdlib.h)
    bits = np.array([isinstance(s, str) and bool(re.match(r"/usr/include/(?:\w+-linux-gnu\w*/)?bits/[\w-]+\.h$", s))
                     for s in srcs], dtype=bool)
    wrap = (np.array([bool(n) and bool(WRAPPERS.match(n)) for n in norm], dtype=bool) & system) | internal | bits
    f["is_wrapper"] = wrap
    pcs = pd.to_numeric(f["pc"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    in_module = np.array([isinstance(m, str) and m[:1] not in ("", "<") for m in f["module"].to_numpy(dtype=object)], dtype=bool) \
        if "module" in f else np.zeros(len(f), dtype=bool)
    bad_pc = np.array([n == "??" for n in norm], dtype=bool) & ~(pcs >= 65536) & ~in_module   # (tombstone pcs: offsets)
    # (QEMU's TCG buffer: gdb names a pc in run-time translated guest code after that data symbol; nobody's function)
    odd = np.array([not n or n.startswith("<") or n in ("code_gen_buffer", "static_code_gen_buffer") for n in norm], dtype=bool)
    own = ~lib & ~wrap & ~bad_pc & ~odd
    # an unsymbolised frame with no module right above std::terminate / __cxa_* / abort() is that runtime's
    # internals (libstdc++'s unnamed helpers), not the program's code
    if "thread" in f and len(f):
        mods = f["module"].to_numpy(dtype=object)
        nxt = np.array(list(norm[1:]) + [None], dtype=object)
        same = np.append(f["thread"].to_numpy()[1:] == f["thread"].to_numpy()[:-1], False)
        chain = np.array([isinstance(n, str) and bool(_RUNTIME_CHAIN.match(n)) for n in nxt], dtype=bool) & same
        anon = np.array([n == "??" and not (isinstance(m, str) and m) for n, m in zip(norm, mods)], dtype=bool)
        for k in range(len(f) - 2, -1, -1):       # a run of them: each one above the next
            if anon[k] and anon[k + 1] and same[k] and chain[k + 1]:
                chain[k] = True
        own &= ~(anon & chain)
    # a frame gdb (or gfortran's runtime) could name neither by function nor by module, at a pc in x86-64's
    # shared-library zone, above a named frame of the program: a library's, not the program's (a PIE program
    # and its unsymbolised code sit far below, at 0x55…/0x56…)
    if "thread" in f and len(f) and own.any():
        mods = f["module"].to_numpy(dtype=object)
        unnamed = np.array([n == "??" and not (isinstance(m, str) and m) for n, m in zip(norm, mods)], dtype=bool)
        anon = unnamed & (pcs >= _MMAP_LO) & (pcs < _MMAP_HI)
        named_own = own & ~np.array([n == "??" for n in norm], dtype=bool)
        threads = f["thread"].to_numpy()
        for t in set(threads[unnamed & own].tolist()):
            here = threads == t
            if not (named_own & here).any():
                continue
            # also a 4 GiB region above every one the program's named frames are in (a non-PIE program at
            # 0x400000 and its libraries mapped at 0x14…; libraries map above the program): a library's there too
            regions = {int(p) >> 32 for p in pcs[named_own & here] if p == p}
            far = unnamed & here & np.array([p == p and p >= 1 << 32 and int(p) >> 32 > max(regions) for p in pcs],
                                            dtype=bool) if regions else np.zeros(len(f), dtype=bool)
            own &= ~((anon & here) | far)
    # a stack printed with neither modules nor sources (glog's "@ 0x… symbol" lines): on x86-64 Linux a PIE
    # program's code sits at 0x55…/0x56… and shared libraries at 0x7f…, so there the 0x7f… frames are libraries'
    if "thread" in f and len(f) and own.any():
        mods, srcs_ = f["module"].to_numpy(dtype=object), f["source_file"].to_numpy(dtype=object)
        bare = np.array([not (isinstance(m, str) and m) and not (isinstance(x, str) and x) for m, x in zip(mods, srcs_)],
                        dtype=bool)
        threads = f["thread"].to_numpy()
        pie = (pcs >= 0x550000000000) & (pcs < 0x570000000000)
        for t in set(threads.tolist()):
            here = threads == t
            if bare[here].all() and (pie & here & own).any():
                own &= ~(here & (pcs >= _MMAP_LO) & (pcs < _MMAP_HI))
    # a stack the program's own crash hook printed (its frames capture the stack: backtrace(), the backtrace
    # crate, a print_stack_trace) above a signal trampoline (gdb's "<signal handler called>", _sigtramp,
    # __restore_rt): the hook's frames are not where it faulted (a handler that itself crashed has no such frame)
    if "thread" in f and len(f):
        tramp = np.array([isinstance(n, str) and bool(_TRAMPOLINE.match(n)) for n in norm], dtype=bool)
        hook = np.array([isinstance(n, str) and bool(_STACK_CAPTURE.search(n)) for n in norm], dtype=bool)
        threads = f["thread"].to_numpy()
        for k in np.flatnonzero(tramp)[::-1]:
            above = (threads == threads[k]) & (np.arange(len(f)) <= k)
            # (or a handler that re-raises the signal it caught or aborts: raise/kill at the top of the thread)
            top = int(np.flatnonzero(above)[0])
            reraise = top < k and isinstance(norm[top], str) and bool(_RERAISE.match(norm[top]))
            if k + 1 < len(f) and threads[k + 1] == threads[k] and ((hook & above).any() or reraise):
                own &= ~above
    f["is_own"] = own
    return f


_STACK_CAPTURE = re.compile(r"(?:^|::)(?:backtrace|backtrace_symbols\w*|_Unwind_Backtrace|print_?stack_?trace|"
                            r"dump_?stack_?trace|StackTrace|capture_?backtrace)\b", re.I)
_RERAISE = re.compile(r"^(?:raise|gsignal|abort|kill|tgkill|pthread_kill|__pthread_kill\w*)$")
_TRAMPOLINE = re.compile(r"^(?:<signal handler called>|_{0,2}sigtramp|__restore_rt|__kernel_rt_sigreturn|"
                         r"_?sigreturn|__kernel_sigreturn)$")


_MMAP_LO, _MMAP_HI = 0x7f0000000000, 0x800000000000


_RUNTIME_CHAIN = re.compile(r"^(?:std::terminate|std::__terminate|__cxxabiv1::\w+|__cxa_\w+|"
                            r"__gnu_cxx::__verbose_terminate_handler|_Unwind_\w+|abort|raise)$")


# the program itself is an interpreter (a core of "lua5.2 prosody", "python3 app.py"): its own functions are the
# runtime's, as libruby/libpython's are, and the first own frame is the extension's or the script host's
_INTERPRETER = re.compile(r"^(?:lua[\d.]*|python[\d.]*m?|ruby[\d.]*|perl[\d.]*|php[\d.]*(?:-fpm|-cgi|-cli)?|node(?:js)?)$")
_INTERPRETER_CODE = re.compile(r"^(?:lua[A-Z]?_\w+|luaL_\w+|_?Py\w+|rb_\w+|ruby_\w+|vm_\w+|zend_\w+|ZEND_\w+|php_\w+|_?zval_(?:ptr_)?dtor\w*|_e(?:malloc|free|realloc)\w*|"
                               r"execute_ex|Perl_\w+|node::\S+|v8::\S+)$")
# Lua's and CPython's core source files (a static interpreter's internals such as lstring.c's internshrstr)
_INTERPRETER_FILE = re.compile(r"(?:^|/)(?:l(?:api|auxlib|baselib|code|corolib|ctype|debug|do|dump|func|gc|init|iolib|lex|"
                               r"mathlib|mem|loadlib|object|opcodes|oslib|parser|state|string|strlib|table|tablib|tm|"
                               r"undump|utf8lib|vm|zio)\.c|Python/ceval\.c|Objects/\w+\.c)$")


def mark_interpreter_frames(frames: pd.DataFrame, program: str | None) -> None:
    """When ``program`` is an interpreter, its own (module-less) runtime frames are library code; so is every
    frame a debugger names as the interpreter binary's (LLDB's ``python3`range_iter``)."""
    if frames.empty:
        return
    mods = frames["module"].to_numpy(dtype=object)
    # (not node's: its binary is also the project whose own code node::… is, in node's own tracker)
    binary = np.array([isinstance(m, str) and bool(_INTERPRETER.match(m.rsplit("/", 1)[-1]))
                       and not m.rsplit("/", 1)[-1].startswith("node") for m in mods], dtype=bool)
    frames.loc[binary, "is_library"] = True
    frames.loc[binary, "is_own"] = False
    # (a process title "php-fpm: pool www" names the program before its colon)
    if not program or not _INTERPRETER.match(program.rsplit("/", 1)[-1].rstrip(":")):
        return
    hit = np.array([not (isinstance(m, str) and m) or m == program for m in mods], dtype=bool) & np.array(
        [bool(isinstance(f, str) and _INTERPRETER_CODE.match(str(n))) or bool(isinstance(s, str) and _INTERPRETER_FILE.search(s))
         for f, n, s in zip(frames["function"], frames["norm_function"], frames["source_file"])], dtype=bool)
    frames.loc[hit, "is_library"] = True
    frames.loc[hit, "is_own"] = False


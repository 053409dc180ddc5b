"""Shapes held-out batches 27 and 28 found misread: a fault inside a compiler's stack probe, a SIGSEGV whose
backtrace is numbered thousands of frames deep, frame names a tracker's markdown made bold or italic (each test: our
own small snippet with our own values, not a paste)."""
from forensics.crashes.load import load_text


def _crash(text):
    return load_text(text).crash


# --- a fault inside a stack probe: the guard page under a stack that ran out ----------------------------------------
PROBE = ("Process 3131 stopped\n"
         "* thread #3, stop reason = EXC_BAD_ACCESS (code=2, address=0x170a0bfe0)\n"
         "    frame #0: 0x0000000190a4c21c libsystem_pthread.dylib`___chkstk_darwin + 44\n"
         "    frame #1: 0x0000000100a01234 quarry`Mesh::subdivide(int) + 72 at mesh.cpp:210\n"
         "    frame #2: 0x0000000100a05678 quarry`worker_main + 16 at worker.cpp:33\n")


def test_fault_in_a_stack_probe_is_a_stack_overflow():
    r = _crash(PROBE)
    assert r["class"] == "stack-overflow"
    assert "stack probe" in r["reason"]


def test_the_same_fault_in_an_ordinary_function_stays_wild():
    r = _crash(PROBE.replace("___chkstk_darwin", "memmove"))
    assert r["class"] != "stack-overflow"


# --- a backtrace numbered thousands of frames deep: a runaway recursion -------------------------------------------
DEEP = ("* thread #1, name = 'quarry', stop reason = signal SIGSEGV: address not mapped to object "
        "(fault address: 0x7ffffe9ff0a8)\n"
        "    frame #0: 0x00005555557a0b10 quarry`visit_node(n=0x0000555556a01230, seen=0x00007fffffffd010) at walk.c:88:5\n"
        "    frame #1: 0x00005555557a0c40 quarry`visit_node(n=0x0000555556a01300, seen=0x00007fffffffd010) at walk.c:97:7\n"
        "\n"
        "    frame #52917: 0x00005555557a0c40 quarry`visit_node(n=0x0000555556a00010, seen=0x00007fffffffd010) at walk.c:97:7\n"
        "    frame #52918: 0x00005555557a1000 quarry`main(argc=2, argv=0x00007fffffffe3a8) at main.c:40:3\n")


def test_a_sigsegv_thousands_of_frames_deep_is_a_stack_overflow():
    r = _crash(DEEP)
    assert r["class"] == "stack-overflow"
    assert r["subclass"] == "recursion"


def test_a_shallow_sigsegv_at_the_same_address_stays_wild():
    r = _crash(DEEP.replace("#52917", "#2").replace("#52918", "#3"))
    assert r["class"] == "wild-pointer"


# --- frame names a tracker's markdown touched, and old gcc's asm-name marker ---------------------------------------
ASSERT_BT = ("Program terminated with signal SIGABRT, Aborted.\n"
             "#0  0x00007f3a10037e97 in raise () from /lib/x86_64-linux-gnu/libc.so.6\n"
             "#1  0x00007f3a10039801 in abort () from /lib/x86_64-linux-gnu/libc.so.6\n"
             "#2  0x00007f3a1002939a in **assert_fail_base (fmt=0x7f3a101a0e10 \"%s\", assertion=0x55d0e0a04100 "
             "\"count > 0\", file=0x55d0e0a040f0 \"pool.c\", line=71, function=0x55d0e0a04120 "
             "<**PRETTY_FUNCTION**.2> \"pool_take\") at assert.c:92\n"
             "#3  0x000055d0e0a01d22 in pool_take (p=0x55d0e1b02a40) at pool.c:71\n"
             "#4  0x000055d0e0a01f00 in main () at main.c:12\n")


def test_markdown_bold_on_a_frame_name_is_the_underscores_it_replaced():
    r = _crash(ASSERT_BT)
    assert r["class"] == "assertion-failure"
    assert r["top_own_frame"] == "pool_take"


OLD_GCC_BT = ("terminate called after throwing an instance of 'std::length_error'\n"
              "  what():  vector::reserve\n"
              "\n"
              "Program received signal SIGABRT, Aborted.\n"
              "0x00007ffff7230165 in *__GI_raise (sig=<value optimized out>) at ../nptl/sysdeps/unix/sysv/linux/raise.c:64\n"
              "64\t../nptl/sysdeps/unix/sysv/linux/raise.c: No such file or directory.\n"
              "(gdb) bt\n"
              "#0  0x00007ffff7230165 in *__GI_raise (sig=<value optimized out>) at ../nptl/sysdeps/unix/sysv/linux/raise.c:64\n"
              "#1  0x00007ffff7232f70 in *__GI_abort () at abort.c:92\n"
              "#2  0x00007ffff7ad3dc5 in __gnu_cxx::__verbose_terminate_handler() () from /usr/lib/libstdc++.so.6\n"
              "#3  0x00007ffff7ad2166 in ?? () from /usr/lib/libstdc++.so.6\n"
              "#4  0x00007ffff7ad2193 in std::terminate() () from /usr/lib/libstdc++.so.6\n"
              "#5  0x00007ffff7ad228e in __cxa_throw () from /usr/lib/libstdc++.so.6\n"
              "#6  0x00007ffff7a7a3d7 in std::__throw_length_error(char const*) () from /usr/lib/libstdc++.so.6\n"
              "#7  0x0000000000402b1e in Grid::grow (this=0x7fffffffe0c0, n=18446744073709551615) at grid.cpp:44\n"
              "#8  0x0000000000401a10 in main () at main.cpp:9\n")


def test_old_gccs_starred_glibc_alias_is_the_glibc_function():
    r = _crash(OLD_GCC_BT)
    assert r["class"] == "uncaught-exception"
    assert r["top_own_frame"] == "Grid::grow"


# --- the faulting instruction of a template function (LLDB's disassembly, gdb's x/i) -----------------------------
TEMPLATE_STORE = ("Process 707 stopped\n"
                  "* thread #4, name = 'mixer', stop reason = EXC_BAD_ACCESS (code=1, address=0x0)\n"
                  "    frame #0: 0x0000000100c0a1f4 Tonic`void Ring<float>::put(float) + 20\n"
                  "Tonic`Ring<float>::put:\n"
                  "->  0x100c0a1f4 <+20>: movss  %xmm0, (%rax)\n"
                  "    0x100c0a1f8 <+24>: incl   0x8(%rdi)\n")


def test_a_store_in_a_template_function_is_a_null_write():
    r = _crash(TEMPLATE_STORE)
    assert r["class"] == "null-deref-write"


def test_gdbs_xi_line_of_a_template_function_is_read():
    r = _crash("Thread 2 \"mixer\" received signal SIGSEGV, Segmentation fault.\n"
               "0x0000555555556a10 in Ring<float>::put (this=0x0, v=1) at ring.h:30\n"
               "(gdb) x/i $pc\n"
               "=> 0x555555556a10 <Ring<float>::put(float)+16>:\tmovss  %xmm0,0x8(%rdi)\n"
               "(gdb) p $_siginfo._sifields._sigfault.si_addr\n"
               "$1 = (void *) 0x8\n")
    assert r["class"] == "null-deref-write"

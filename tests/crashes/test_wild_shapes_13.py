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


# --- the Go runtime's own crash report in Android Studio's logcat view (tag "Go", records' lines indented) ----------
STUDIO_GO = ("11-02 08:15:30.101 4321-0/org.example.notes E/Go: unexpected fault address 0x7a3c1008\n"
             "    fatal error: fault\n"
             "11-02 08:15:30.104 4321-0/org.example.notes E/Go: [signal SIGSEGV: segmentation violation code=0x1 "
             "addr=0x7a3c1008 pc=0x9a10c2f0]\n"
             "    goroutine 77 [running]:\n"
             "    runtime.throw(0x9a2001a0, 0x5)\n"
             "11-02 08:15:30.105 4321-0/org.example.notes E/Go: \t/opt/go/src/runtime/panic.go:605 +0x70 fp=0x41a0e9c0 "
             "sp=0x41a0e9b4 pc=0x99e4a100\n"
             "    runtime.sigpanic()\n"
             "    \t/opt/go/src/runtime/signal_unix.go:374 +0x1b0 fp=0x41a0e9e4 sp=0x41a0e9c0 pc=0x99e61a20\n"
             "11-02 08:15:30.106 4321-0/org.example.notes E/Go: example.org/notes/store.(*Page).header(0x41c02000)\n"
             "    \t/home/dev/notes/store/page.go:48 +0x14 fp=0x41a0e9f0 sp=0x41a0e9e8 pc=0x9a10c2f0\n")


def test_go_runtime_report_in_android_studios_logcat_view_reads_as_go():
    r = _crash(STUDIO_GO)
    assert r["class"] == "wild-pointer"
    assert r["top_own_frame"] == "store.(*Page).header"


# --- MySQL's client library linked into a program: its frames are the library's ---------------------------------
MYSQL_BT = ("Program received signal SIGSEGV, Segmentation fault.\n"
            "0x00007f5e20a4c1b0 in mysql_store_result (mysql=0x5621a0c3f2e0) at libmysql.c:1210\n"
            "(gdb) bt\n"
            "#0  0x00007f5e20a4c1b0 in mysql_store_result (mysql=0x5621a0c3f2e0) at libmysql.c:1210\n"
            "#1  0x00005621a0a01c44 in ledger_fetch (db=0x5621a0c3f2e0, sql=0x5621a0a08010 \"SELECT 1\") at ledger.c:88\n"
            "#2  0x00005621a0a01e10 in main (argc=1, argv=0x7ffc1e2f3a48) at main.c:20\n")


def test_a_mysql_c_api_frame_is_library_code():
    r = _crash(MYSQL_BT)
    assert r["top_own_frame"] == "ledger_fetch"


def test_the_servers_own_dispatch_keeps_its_frames_own():
    r = _crash(MYSQL_BT.replace("ledger_fetch (db=0x5621a0c3f2e0, sql=0x5621a0a08010 \"SELECT 1\") at ledger.c:88",
                                "mysql_execute_command (thd=0x5621a0c3f2e0) at sql_parse.cc:4400"))
    assert r["top_own_frame"] == "mysql_store_result"


# --- no signal line: a NULL of a handle the same call chain holds valid elsewhere is no evidence ------------------
STALE_NULL = ("(gdb) bt\n"
              "#0  0x00007f5e20a51a10 in my_real_read (net=0x5621a0c3f400, complen=0x7ffc1e2f3000) at /b/mysql-5.7.30/sql/net_serv.cc:880\n"
              "#1  0x00007f5e20a51c20 in my_net_read (net=0x0) at /b/mysql-5.7.30/sql/net_serv.cc:1010\n"
              "#2  0x00007f5e20a4b110 in cli_safe_read (mysql=0x0) at /b/mysql-5.7.30/sql-common/client.c:690\n"
              "#3  0x00007f5e20a4d330 in mysql_real_query (mysql=0x5621a0c3f2e0, query=<optimized out>, length=<optimized out>) at libmysql.c:870\n"
              "#4  0x00005621a0a01c44 in ledger_fetch (db=0x5621a0c3f2e0) at ledger.c:88\n"
              "#5  0x00005621a0a01e10 in main () at main.c:20\n")


def test_a_null_handle_the_chain_holds_valid_elsewhere_is_no_null_deref():
    r = _crash(STALE_NULL)
    assert r["top_own_frame"] == "ledger_fetch"
    assert r["class"] == "unknown"
    # a NULL that no frame of the chain holds valid still is one (the library frame handed NULL)
    r = _crash(STALE_NULL.replace("net=0x5621a0c3f400", "net=0x0").replace("mysql=0x5621a0c3f2e0, query", "mysql=0x0, query"))
    assert r["class"] == "null-deref-read"


# --- Apple's gdb: a Mach exception and its Reason line -------------------------------------------------------------
def test_apple_gdbs_exc_bad_access_with_its_reason_is_a_sigsegv_at_that_address():
    stop = ("Program received signal EXC_BAD_ACCESS, Could not access memory.\n"
            "Reason: KERN_INVALID_ADDRESS at address: 0x00000000000000c8\n"
            "0x00000001000a3f10 in Scene::render (this=0x0) at scene.mm:61\n"
            "61\t  return layers_->count;\n"
            "(gdb) bt\n"
            "#0  0x00000001000a3f10 in Scene::render (this=0x0) at scene.mm:61\n"
            "#1  0x00000001000a1200 in main (argc=1, argv=0x7fff5fbff8a0) at main.mm:14\n")
    r = _crash(stop)
    assert r["class"] == "null-deref-read"
    assert r["fault_address"] == 0xc8
    r = _crash(stop.replace("0x00000000000000c8", "0x000000012a400010").replace("this=0x0", "this=0x12a400000"))
    assert r["class"] == "wild-pointer"


# --- a macOS crash report's frame at pc 0: "???  000000000000000000 0 + 0" (no image, load address 0) -------------
MAC_NULL_PC = ("Exception Type:  EXC_BAD_ACCESS (SIGSEGV)\n"
               "Exception Codes: KERN_INVALID_ADDRESS at 0x0000000000000000\n"
               "\n"
               "Thread 0 Crashed:: Dispatch queue: org.example.lumen.render\n"
               "0   ???                           000000000000000000 0 + 0\n"
               "1   Lumen                         \t0x000000010b3c2d10 Shader::bind() + 48\n"
               "2   Lumen                         \t0x000000010b3c0100 main + 200\n")


def test_a_mac_crash_reports_frame_at_pc_0_is_a_call_through_null():
    r = _crash(MAC_NULL_PC)
    assert r["class"] == "bad-pc"
    assert r["top_own_frame"] == "Shader::bind"


# --- Go's signal line: pc == addr is a jump to the faulting address -------------------------------------------------
GO_JUMP = ("unexpected fault address 0x3c10\n"
           "fatal error: fault\n"
           "[signal SIGSEGV: segmentation violation code=0x2 addr=0x3c10 pc=0x3c10]\n"
           "\n"
           "goroutine 40 [running]:\n"
           "runtime.throw({0x10a2c0f00?, 0x1?})\n"
           "\t/opt/go/src/runtime/panic.go:1023 +0x40 fp=0x14000a1f3d0 sp=0x14000a1f3a0 pc=0x10a0410a0\n"
           "runtime.sigpanic()\n"
           "\t/opt/go/src/runtime/signal_unix.go:895 +0x198 fp=0x14000a1f400 sp=0x14000a1f3d0 pc=0x10a058d08\n"
           "example.org/jit/vm.(*Engine).enter(0x14000300c60)\n"
           "\t/home/dev/jit/vm/engine.go:310 +0x78 fp=0x14000a1f580 sp=0x14000a1f410 pc=0x10a3001f8\n")


def test_go_signal_pc_at_the_fault_address_is_a_bad_pc():
    r = _crash(GO_JUMP)
    assert r["class"] == "bad-pc"
    r = _crash(GO_JUMP.replace("pc=0x3c10]", "pc=0x10a3001f8]"))
    assert r["class"] == "null-deref-read"


# --- the unwinder's own abort(): no std::terminate frame, so no uncaught exception -------------------------------
UNWIND_ABORT = ("Program received signal SIGABRT, Aborted.\n"
                "#0  0xf7a10c20 in tgkill () from target:/system/lib/libc.so\n"
                "#1  0xf7a0e4b0 in pthread_kill () from target:/system/lib/libc.so\n"
                "#2  0xf7a05a10 in raise () from target:/system/lib/libc.so\n"
                "#3  0xf7a01f00 in abort () from target:/system/lib/libc.so\n"
                "#4  0xf6c02a14 in __cxxabiv1::scan_eh_tab (results=..., actions=1, native_exception=true) at cxa_personality.cpp:700\n"
                "#5  0xf6c02810 in __gxx_personality_v0 (state=<optimized out>, unwind_exception=0xf5e0a040) at cxa_personality.cpp:1100\n"
                "#6  0xf6a00c10 in __gnu_Unwind_RaiseException (ucbp=0xf5e0a040, entry_vrs=<optimized out>) at unwind-arm.c:300\n"
                "#7  0xf6c01e00 in __cxa_throw (thrown_object=0xf5e0a0a0, tinfo=0xf6c40a10, dest=0x0) at cxa_exception.cpp:250\n"
                "#8  0xd0a01240 in Tiles::load (this=0xd1f02000) at tiles.cpp:77\n")


def test_the_unwinders_own_abort_is_no_uncaught_exception():
    r = _crash(UNWIND_ABORT)
    assert r["class"] == "abort"
    assert "unwinder" in r["reason"]
    r = _crash(UNWIND_ABORT.replace("__cxxabiv1::scan_eh_tab (results=..., actions=1, native_exception=true) at cxa_personality.cpp:700",
                                    "std::__terminate (func=0xf6c00100) at cxa_handlers.cpp:59"))
    assert r["class"] == "uncaught-exception"

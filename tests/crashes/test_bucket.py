"""Bucketing: zero wrong merges, same-bug builds merged, fuzzy suggestions never merge."""
import pytest

from forensics.crashes.bucket import family_of, pdm_similarity, suggest_merges
from forensics.crashes.frames import normalize_function

SYMBOLISED = ("g-O0", "g-O2", "nog-O0", "nog-O2")


def test_zero_wrong_merges(table):
    programs_per_bucket = table.groupby("bucket")["m_program"].nunique()
    assert (programs_per_bucket == 1).all(), programs_per_bucket[programs_per_bucket > 1]


def test_same_bug_merged_across_builds_when_symbols_exist(table):
    sym = table[table["m_build"].isin(SYMBOLISED)]
    # a plain `bt` of a deadlock snapshot shows only the main thread (in pthread_join): the
    # blocked threads that key a hang are not in the file
    sym = sym[~((sym["m_program"] == "deadlock") & (sym["m_style"] == "bt"))]
    # the kernel's log line names no function, only the pc (its page offset keys it, as for a stripped build)
    sym = sym[sym["m_style"] != "kernel"]
    # Valgrind cannot unwind from a jump to address 0: its stack skips the caller (dispatch_event) that gdb shows
    sym = sym[~((sym["m_program"] == "bad_pc") & (sym["m_style"] == "valgrind"))]
    split = sym.groupby("m_program")["bucket"].unique()
    bad = split[split.map(len) > 1]
    assert bad.empty, bad.to_string()


def test_O0_and_O2_share_the_bucket(table):
    for prog in ("double_free", "stack_smash", "strlen_greet", "uncaught_exception", "null_read"):
        b = table[(table["m_program"] == prog) & table["m_build"].isin(["g-O0", "g-O2"])]["bucket"].unique()
        assert len(b) == 1, (prog, b)


def test_two_strlen_bugs_do_not_share_a_bucket(table):
    g = set(table[table["m_program"] == "strlen_greet"]["bucket"])
    h = set(table[table["m_program"] == "strlen_header"]["bucket"])
    assert not g & h
    assert "memory-access:greet_user" in g and "memory-access:parse_header_length" in h


def test_bucket_says_why(table):
    r = table[table["name"] == "double_free__g-O0__cmds.txt"].iloc[0]
    assert r["top_own_frame"] == "release_buffer"
    assert "malloc_printerr" in r["frames_dropped"] and "raise" in r["frames_dropped"]
    assert "release_buffer" in r["bucket_why"]


def test_deadlock_bucket_is_the_blocked_threads(table):
    r = table[table["name"] == "deadlock__g-O2__attach.txt"].iloc[0]
    assert r["bucket"] == "deadlock:transfer_funds+write_audit_log"


def test_stripped_builds_use_module_offset(table):
    r = table[table["name"] == "null_read__strip-O2__cmds.txt"].iloc[0]
    assert r["top_own_frame"].startswith("null_read@0x")


def test_suggestions_never_merge(crash_set):
    s = crash_set.suggestions
    assert (s["bucket_a"] != s["bucket_b"]).all()
    buckets = set(crash_set.crashes["bucket"])
    assert set(crash_set.buckets["bucket"]) == buckets           # buckets unchanged by suggestions
    low = suggest_merges(crash_set.crashes, threshold=0.0)
    assert len(low) >= len(s)
    assert "suggested only" in low["note"].iloc[0]


def test_pdm():
    assert pdm_similarity(["a", "b", "main"], ["a", "b", "main"]) == 1.0
    assert pdm_similarity(["greet_user", "main"], ["parse_header_length", "main"]) < 0.7
    assert pdm_similarity(["x@?", "main"], ["x@?", "main"]) < 1.0     # unsymbolised never equal
    assert pdm_similarity([], ["a"]) == 0.0


@pytest.mark.parametrize("raw,norm", [
    ("__strlen_avx2", "strlen"), ("__strlen_evex", "strlen"), ("__strlen_sse2", "strlen"),
    ("__memmove_avx_unaligned_erms", "memmove"), ("__GI_raise", "raise"), ("__GI___libc_free", "free"),
    ("parse.constprop.0", "parse"), ("parse.isra.0", "parse"), ("parse.part.1", "parse"), ("main.cold", "main"),
    ("main[cold]", "main"),
    ("load_setting(std::map<std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >, int, "
     "std::less<std::__cxx11::basic_string<char> > > const&, std::__cxx11::basic_string<char> const&)", "load_setting"),
    ("std::terminate()", "std::terminate"), ("int ns::f<int>(int)", "ns::f"), ("??", "??"),
])
def test_normalize(raw, norm):
    assert normalize_function(raw) == norm


def test_family():
    assert family_of("null-deref-write", "") == family_of("wild-pointer", "") == "memory-access"
    assert family_of("unknown", "segv-address-unknown") == "memory-access"
    assert family_of("heap-corruption", "double-free") == "heap-corruption"


def test_stripped_kernel_core_and_gdb_core_merge(table):
    """Without symbols the key is the page offset: a kernel core (ASLR on) and a gdb-written core
    (ASLR off) of the same stripped binary still land in one bucket."""
    for prog in ("null_read", "worker_crash", "stack_overflow", "double_free", "bad_pc"):
        rows = table[(table["m_program"] == prog) & (table["m_build"] == "strip-O2")
                     & table["m_style"].isin(["cmds", "kcore"])]
        assert len(rows) == 2 and rows["bucket"].nunique() == 1, rows[["name", "bucket"]]


def test_kernel_core_crash_thread(table):
    r = table[table["name"] == "worker_crash__g-O2__kcore.txt"].iloc[0]
    assert r["class"] == "null-deref-read" and r["top_own_frame"] == "process_job"
    assert r["bucket"] == table[table["name"] == "worker_crash__g-O0__live.txt"].iloc[0]["bucket"]


def test_suggestions_on_the_sample_are_same_bug_pairs(crash_set, table):
    """On the sample, every suggestion links a stripped live session (program unnamed) to the
    core of the same stripped binary; no suggestion crosses programs."""
    prog_of = table.groupby("bucket")["m_program"].first()
    s = crash_set.suggestions
    assert len(s) >= 10
    for a, b in zip(s["bucket_a"], s["bucket_b"]):
        assert prog_of[a] == prog_of[b], (a, b)


def test_one_frame_stack_is_not_like_everything():
    assert pdm_similarity(["main"], ["greet_user", "main"]) < 0.5


def test_buckets_across_shapes(table):
    """One crash as a command-file transcript, as thread apply all bt full and under LLDB shares one
    bucket; one hang caught by ^C + bt and by attach + thread apply all bt shares one bucket."""
    def buckets(names):
        return set(table[table["name"].isin(names)]["bucket"])

    assert len(buckets(["worker_crash__g-O0__cmds.txt", "worker_crash__g-O0__allbtfull.txt",
                        "worker_crash__g-O0__lldb.txt", "worker_crash__g-O0__live.txt"])) == 1
    assert len(buckets(["deadlock__g-O0__sigint.txt", "deadlock__g-O0__attach.txt",
                        "deadlock__nog-O2__sigint.txt"])) == 1
    assert len(buckets(["null_write__g-O0__pretty.txt", "null_write__g-O0__cmds.txt",
                        "null_write__g-O0__lldb.txt"])) == 1
    assert len(buckets(["nil_deref__go1.19.8__go.txt", "nil_deref__go1.19.8__gdb.txt",
                        "nil_deref__go1.19.8__dlv.txt"])) == 1


def test_pretty_siginfo_is_read(table):
    r = table[table["name"] == "null_read__g-O0__pretty.txt"].iloc[0]
    assert r["si_code"] == 1 and r["fault_address"] == 4 and r["class"] == "null-deref-read"


def test_static_initialisers_of_two_programs_are_not_one_bucket():
    from forensics.crashes.load import load_text
    a = load_text("Program terminated with signal SIGILL, Illegal instruction.\n"
                  "#0  0x00007f90e9f5d8bc in __static_initialization_and_destruction_0 (__initialize_p=1, "
                  "__priority=65535) at ../include/colors.hpp:21\n").crash
    b = load_text("Program terminated with signal SIGILL, Illegal instruction.\n"
                  "#0  0x0000000000401136 in __static_initialization_and_destruction_0 (__initialize_p=1, "
                  "__priority=65535) at tables.cpp:9\n").crash
    assert a["bucket"] != b["bucket"]


def _go_panic(message, path):
    from forensics.crashes.load import load_text
    return load_text(f"panic: {message}\n\ngoroutine 1 [running]:\nmain.main()\n\t{path}:14 +0x2b\nexit status 2\n").crash


def test_two_programs_main_go_panics_do_not_share_a_bucket():
    # every Go program's package main is main.go: the file name alone does not say which program it is
    a = _go_panic("runtime error: index out of range [2] with length 2", "/home/dev/weathercli/main.go")
    b = _go_panic("assignment to entry in nil map", "C:/work/src/example.org/uploader/cmd/main.go")
    assert a["top_own_frame"] == b["top_own_frame"] == "main.main"
    assert a["bucket"] != b["bucket"]
    same = _go_panic("runtime error: index out of range [2] with length 2", "/srv/build/weathercli/main.go")
    assert same["bucket"] == a["bucket"]      # the same program built elsewhere still merges

"""Every generated transcript gets the class its program was built to produce."""

import pytest

from forensics.crashes.classify import CLASSES, EXPLOITABILITY

# Styles that carry no $_siginfo, no registers and no x/i: for a SIGSEGV they may lack the fault
# address entirely (nog builds print no arguments either). The classifier then says "unknown"
# (subclass segv-address-unknown) rather than guess; the bucket family stays memory-access.
NO_SIGINFO = {"bt", "allbtfull", "coredumpctl"}   # coredumpctl info prints the signal but no fault address
SEGV_CLASSES = {"null-deref-read", "null-deref-write", "wild-pointer"}


def test_every_transcript_loaded(crash_set, manifest):
    assert crash_set.errors.empty, crash_set.errors.to_string()
    assert len(crash_set.crashes) == len(manifest) >= 250


def test_classes_are_in_the_vocabulary(table):
    assert set(table["class"]) <= set(CLASSES)
    assert set(table["exploitability"]) <= set(EXPLOITABILITY)
    assert table["reason"].str.len().min() > 10


def test_every_transcript_gets_its_class(table):
    wrong = []
    for r in table.to_dict("records"):
        expected, got, sub = r["m_class"], r["class"], r["subclass"]
        if got == expected:
            continue
        if r["m_style"] in NO_SIGINFO and expected in SEGV_CLASSES and got == "unknown" and sub == "segv-address-unknown":
            continue  # documented: the transcript does not contain the fault address
        if expected == "null-deref-write" and got == "null-deref-read" and sub == "access-assumed-read":
            continue  # documented: no x/i $pc and no source line to tell a store from a load
        wrong.append((r["name"], expected, got, sub, r["reason"]))
    assert not wrong, "\n".join(map(str, wrong))


def test_evidence_rich_styles_are_exact(table):
    """With $_siginfo and x/i $pc printed (cmds and live styles), no fallback is needed at all."""
    rich = table[table["m_style"].isin(["cmds", "live", "attach", "kcore"])]
    bad = rich[(rich["class"] != rich["m_class"])]
    assert bad.empty, bad[["name", "class", "subclass", "reason"]].to_string()


def test_fallbacks_are_rare(table):
    unknown = table[table["class"] != table["m_class"]]
    assert len(unknown) <= 0.1 * len(table)


def _one(table, name):
    row = table[table["name"] == name]
    assert len(row) == 1, name
    return row.iloc[0]


@pytest.mark.parametrize("name,cls,sub", [
    ("double_free__g-O0__cmds.txt", "heap-corruption", "double-free"),
    ("double_free__nog-O2__live.txt", "heap-corruption", "double-free"),
    ("heap_overflow__g-O0__cmds.txt", "heap-corruption", "corrupted-top-size"),
    ("invalid_free__g-O2__live.txt", "heap-corruption", "invalid-pointer"),
    ("noncanonical__g-O0__cmds.txt", "wild-pointer", "non-canonical:read"),
    ("strlen_greet__g-O0__cmds.txt", "null-deref-read", "in-libc:strlen"),
    ("strlen_header__g-O2__live.txt", "null-deref-read", "in-libc:strlen"),
    ("bus_error__g-O0__cmds.txt", "bus-error", "truncated-mapping"),
    ("deadlock__g-O0__attach.txt", "deadlock", "lock-order"),
    ("hung_wait__g-O0__attach.txt", "deadlock", "external-signal"),
    ("hung_wait__nog-O2__bt.txt", "deadlock", "external-signal"),
    ("illegal_instruction__g-O0__live.txt", "illegal-instruction", "trap"),
    ("stack_smash__g-O0__cmds.txt", "stack-buffer-overrun", "stack-protector"),
    ("stack_overflow__g-O0__bt.txt", "stack-overflow", "recursion"),
    ("bad_pc__g-O2__live.txt", "bad-pc", "null-call"),
    ("null_write__g-O0__cmds.txt", "null-deref-write", ""),
    ("divide_by_zero__g-O0__cmds.txt", "divide-by-zero", "integer"),
])
def test_subclasses(table, name, cls, sub):
    r = _one(table, name)
    assert (r["class"], r["subclass"]) == (cls, sub), r["reason"]


def test_fortify_at_O2(table):
    r = _one(table, "stack_smash__g-O2__live.txt")
    assert r["class"] == "stack-buffer-overrun" and r["subclass"].startswith("fortify")


def test_origins(table):
    assert _one(table, "double_free__g-O0__cmds.txt")["origin"] == "self"        # si_pid == own pid
    assert _one(table, "null_read__g-O0__cmds.txt")["origin"] == "kernel"
    assert _one(table, "hung_wait__g-O0__cmds.txt")["origin"] == "external"     # si_pid is `timeout`
    assert _one(table, "deadlock__g-O0__attach.txt")["origin"] == "snapshot"
    ext = _one(table, "hung_wait__g-O0__attach.txt")
    assert ext["si_code"] == 0 and ext["si_pid"] != ext["pid"]


def test_texts_from_the_transcript(table):
    a = _one(table, "assert_fail__g-O0__live.txt")
    assert a["assertion"] == "cfg->port > 0 && cfg->port < 65536"
    a = _one(table, "assert_fail__g-O0__cmds.txt")     # from __assert_fail's argument, no stderr in a core
    assert a["assertion"] == "cfg->port > 0 && cfg->port < 65536"
    e = _one(table, "uncaught_exception__g-O0__live.txt")
    assert e["exception_type"] == "std::runtime_error"
    h = _one(table, "double_free__g-O0__cmds.txt")
    assert h["heap_message"] == "free(): double free detected in tcache 2"


def test_multithreaded_worker_crash_thread(crash_set, table):
    r = _one(table, "worker_crash__g-O0__live.txt")
    assert r["crash_thread"] == 4 and r["top_own_frame"] == "process_job"
    for style in ("cmds", "allbtfull"):
        r = _one(table, f"worker_crash__g-O0__{style}.txt")
        assert r["n_threads"] == 5
        assert r["top_own_frame"] == "process_job", (style, r["crash_thread_why"])
        fr = crash_set.frames[crash_set.frames["file"] == r["file"]]
        crash = fr[fr["is_crash_thread"]]
        assert crash["norm_function"].iloc[0] == "process_job"
        assert fr["thread"].nunique() == 5

"""Shapes held-out batch 23 found misread, Go first: the runtime's "stack overflow" throw with only its system
stack, a panic a journal prefixed line by line, a whole panic flattened onto one line, a panic glued to a
program's progress text (each test: our own small snippet, not a paste)."""
from forensics.crashes.load import load_text
from forensics.crashes.sniff import sniff_crash


def _crash(text):
    return load_text(text).crash


# --- fatal error: stack overflow, "runtime stack:" only ----------------------------------------------------------
GO_STACK_OVERFLOW = ("runtime: goroutine stack exceeds 1000000000-byte limit\n"
                     "fatal error: stack overflow\n"
                     "\n"
                     "runtime stack:\n"
                     "runtime.throw({0x4a1b20, 0xe})\n"
                     "\truntime/panic.go:1000 +0x40\n"
                     "example.org/walker/tree.(*Node).Visit(0xc000123000)\n"
                     "\twalker/tree/node.go:31 +0x2a\n")


def test_go_stack_overflow_throw_with_runtime_stack_only_is_stack_overflow():
    assert sniff_crash(GO_STACK_OVERFLOW.encode())[0] == "go runtime crash"
    r = _crash(GO_STACK_OVERFLOW)
    assert r["class"] == "stack-overflow"
    assert r["top_own_frame"] == "tree.(*Node).Visit"


def test_other_go_fatal_errors_stay_abort():
    r = _crash(GO_STACK_OVERFLOW.replace("stack overflow", "concurrent map writes")
               .replace("runtime: goroutine stack exceeds 1000000000-byte limit\n", ""))
    assert r["class"] == "abort"


# --- a Go panic inside a journal's short-format columns ----------------------------------------------------------
GO_PANIC = ("panic: assignment to entry in nil map\n"
            "\n"
            "goroutine 9 [running]:\n"
            "example.org/shop/cart.(*Cart).Add(0xc000010000, 0x3)\n"
            "\t/build/shop/cart/cart.go:44 +0x5d\n"
            "main.main()\n"
            "\t/build/shop/main.go:12 +0x25\n")


def test_go_panic_with_journal_prefix_on_every_line_loads_as_go():
    text = "".join(f"Jun  4 07:15:0{k % 10} box shopd[311]: {ln}\n" for k, ln in enumerate(GO_PANIC.splitlines()))
    assert sniff_crash(text.encode())[0] == "go runtime crash"
    r = _crash(text)
    assert r["class"] == "abort" and r["top_own_frame"] == "cart.(*Cart).Add"


def test_journal_prefix_from_two_programs_is_left_alone():
    from forensics.crashes.paste import _strip_log_prefixes
    lines = [f"Jun  4 07:15:01 box {who}: {ln}" for who, ln in
             zip(["shopd[311]", "kernel", "shopd[311]", "kernel"], GO_PANIC.splitlines())]
    assert _strip_log_prefixes(lines) == lines


def test_journal_prefix_comes_off_a_gdb_paste_too():
    # the shared log-prefix pass, not a Go-only one: a gdb session logged through syslog reads as gdb's
    body = ["Program received signal SIGSEGV, Segmentation fault.",
            "0x0000555555554a1c in fill (buf=0x0) at fill.c:9",
            "(gdb) bt",
            "#0  0x0000555555554a1c in fill (buf=0x0) at fill.c:9",
            "#1  0x0000555555554b02 in main () at fill.c:20"]
    text = "".join(f"Jun  4 07:16:2{k} box runner[77]: {ln}\n" for k, ln in enumerate(body))
    r = _crash(text)
    assert r["class"].startswith("null-deref") and r["top_own_frame"] == "fill"


# --- a whole panic flattened onto one line ---------------------------------------------------------------------
def test_go_panic_flattened_onto_one_line_is_cut_back_into_its_lines():
    flat = "    " + " ".join(ln.strip() for ln in GO_PANIC.splitlines() if ln.strip()) + \
        " goroutine 3 [chan receive]: example.org/shop/log.flush(0x1) /build/shop/log/log.go:80 +0x33" \
        " created by example.org/shop/log.init.0 /build/shop/log/log.go:20 +0x11"
    assert "\n" not in flat
    r = _crash(flat)
    assert r["class"] == "abort" and r["top_own_frame"] == "cart.(*Cart).Add"


# --- the panic line glued to a progress line -------------------------------------------------------------------
def test_go_panic_glued_to_progress_text_is_the_runtime_panic_line():
    text = "Loading items... " + GO_PANIC.replace("assignment to entry in nil map",
                                                  "runtime error: index out of range [5] with length 2")
    r = _crash(text)
    assert r["class"] == "abort" and "index out of range" in r["reason"]


def test_panic_word_in_a_log_line_without_goroutine_header_is_not_split():
    from forensics.crashes.gopaste import undo_go_paste
    lines = ["worker said panic: nothing", "", "next record"]
    assert undo_go_paste(lines) == lines


# --- a mail reply that repeated each frame number as a reference ---------------------------------------------
def test_frame_number_repeated_as_bracketed_reference_is_dropped():
    text = ("> Program received signal SIGSEGV, Segmentation fault.\n"
            "> #0 [0] 0x0000000000401a2b in fill_row (row=0x0) at grid.c:27\n"
            "> #1 [1] 0x0000000000401c00 in draw () at grid.c:60\n")
    r = _crash(text)
    assert r["top_own_frame"] == "fill_row"
    assert r["class"].startswith("null-deref")

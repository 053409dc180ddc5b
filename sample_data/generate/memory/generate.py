"""Regenerate sample_data/memory/ from the real producers.

    python3 sample_data/generate/memory/generate.py [--only node,java,hprof,python,go]

node   leak.js under Node (v8.writeHeapSnapshot): node_s0_baseline … node_s3_final
java   LeakyService.java under the JDK: jcmd GC.class_histogram at t0/t1/t2, jmap -histo:live at t0/t2
hprof  LeakyHeap.java under JDK 17 (apt-get install openjdk-17-jdk-headless): hprof_t0/t1.hprof.gz heap dumps
       (jmap -dump:live,gz=6 and jcmd GC.heap_dump -gz=6) and jmap -histo:live of the same still heap just before
       (hprof_tN_histo_live_before.txt) and just after (hprof_tN_histo_live.txt)
python leaky_tracemalloc.py: tracemalloc statistics / compare_to text, and one Snapshot.dump() pickle
go     leaky.go: runtime/pprof heap profiles t0/t1/t2, plus `go tool pprof -top -base` reference output
       (skipped with a note when Go is not installed: apt-get install golang-go)
Also writes reference/ outputs of the reference tools (pprof, memlab when benchmarks/node_modules has it).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(REPO, "sample_data", "memory")
REF = os.path.join(OUT, "reference")


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def node():
    run(["node", "--expose-gc", os.path.join(HERE, "leak.js"), OUT, "1", "0"])
    for name in os.listdir(OUT):
        if name.endswith(".heapsnapshot"):
            os.chmod(os.path.join(OUT, name), 0o644)  # v8 writes 0600; these are public samples
    memlab = os.path.join(REPO, "benchmarks", "node_modules", ".bin", "memlab")
    if os.path.exists(memlab):
        snaps = [os.path.join(OUT, f"node_{n}.heapsnapshot") for n in ("s1_churn", "s2_target", "s3_final")]
        out = run([memlab, "find-leaks", "--baseline", snaps[0], "--target", snaps[1], "--final", snaps[2],
                   "--trace-all-objects"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                  cwd=tempfile.gettempdir(), text=True).stdout
        keep = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", ln) for ln in out.splitlines()
                if "progress:" not in ln and "clustering trace:" not in ln]
        with open(os.path.join(REF, "memlab_find_leaks_s1_s2_s3.txt"), "w") as f:
            f.write("\n".join(keep).replace(REPO + "/", "") + "\n")


def java():
    with tempfile.TemporaryDirectory(prefix="fx-mem-java") as tmp:
        run(["javac", "-d", tmp, os.path.join(HERE, "LeakyService.java")])
        run(["java", "-Xmx256m", "-cp", tmp, "LeakyService", OUT])


def hprof():
    """Dumps and histograms of a JVM whose main thread is blocked on stdin (nothing allocates in between)."""
    with tempfile.TemporaryDirectory(prefix="fx-mem-hprof") as tmp:
        run(["javac", "-d", tmp, os.path.join(HERE, "LeakyHeap.java")])
        jvm = subprocess.Popen(["java", "-Xmx16m", "-XX:+UseSerialGC", "-Xshare:off", "-cp", tmp, "LeakyHeap"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for t in ("t0", "t1"):
            line = jvm.stdout.readline().split()
            assert line[:2] == ["ready", t], line
            pid = line[2]
            dump = os.path.join(OUT, f"hprof_{t}.hprof.gz")
            if os.path.exists(dump):
                os.remove(dump)
            with open(os.path.join(OUT, f"hprof_{t}_histo_live_before.txt"), "w") as f:
                run(["jmap", "-histo:live", pid], stdout=f)   # bracket the dump: what the JVM's own threads change
            if t == "t0":
                run(["jmap", f"-dump:live,gz=6,format=b,file={dump}", pid], stdout=subprocess.DEVNULL)
            else:
                run(["jcmd", pid, "GC.heap_dump", "-gz=6", dump], stdout=subprocess.DEVNULL)
            os.chmod(dump, 0o644)  # the JVM writes 0600; these are public samples
            with open(os.path.join(OUT, f"hprof_{t}_histo_live.txt"), "w") as f:
                run(["jmap", "-histo:live", pid], stdout=f)
            jvm.stdin.write("\n")
            jvm.stdin.flush()
        print(jvm.stdout.read().strip())
        if jvm.wait() != 0:
            raise SystemExit("LeakyHeap failed")


def python():
    run([sys.executable, os.path.join(HERE, "leaky_tracemalloc.py"), OUT])


def go():
    if shutil.which("go") is None:
        print("go not installed: skipping the pprof samples (apt-get install golang-go)")
        return
    with tempfile.TemporaryDirectory(prefix="fx-mem-go") as tmp:
        shutil.copy(os.path.join(HERE, "leaky.go"), tmp)
        env = {**os.environ, "GOCACHE": os.path.join(tmp, "cache"), "GO111MODULE": "off"}
        run(["go", "build", "-o", os.path.join(tmp, "leaky"), "leaky.go"], cwd=tmp, env=env)
        run([os.path.join(tmp, "leaky"), OUT])
        for base, new in (("t0", "t2"), ("t0", "t1")):
            with open(os.path.join(REF, f"pprof_top_inuse_space_base_{base}_{new}.txt"), "w") as f:
                run(["go", "tool", "pprof", "-top", "-nodecount=100", "-nodefraction=0", "-sample_index=inuse_space", "-unit=B",
                     "-base", os.path.join(OUT, f"go_heap_{base}.pb.gz"), os.path.join(OUT, f"go_heap_{new}.pb.gz")],
                    stdout=f, env=env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="node,java,hprof,python,go")
    args = ap.parse_args()
    os.makedirs(REF, exist_ok=True)
    for step in args.only.split(","):
        {"node": node, "java": java, "hprof": hprof, "python": python, "go": go}[step]()


if __name__ == "__main__":
    main()

// A Java agent that writes, 4 s after start, the size the JVM gives each loaded class's mirror (its
// java.lang.Class object: Instrumentation.getObjectSize), one "name<TAB>bytes" line per class. It made
// sample_data/memory/hprof_mirror_sizes.tsv, against which tests/memory/test_hprof.py checks the mirror
// sizes the HPROF reader computes (HPROF does not record them; jmap -histo counts them):
//
//   javac -d /tmp/ms MirrorSizes.java && printf 'Premain-Class: MirrorSizes\n' > /tmp/ms/m.txt
//   (cd /tmp/ms && jar cfm agent.jar m.txt MirrorSizes.class)
//   javac -d /tmp/ms LeakyHeap.java
//   (sleep 6; echo; sleep 1; echo) | java -Xmx16m -XX:+UseSerialGC -Xshare:off \
//       -javaagent:/tmp/ms/agent.jar=hprof_mirror_sizes.tsv -cp /tmp/ms LeakyHeap > /dev/null
//
// (the same JDK 17 and flags as the dumps; a class's mirror layout does not depend on the heap's contents)
import java.lang.instrument.Instrumentation;
import java.io.PrintWriter;
public class MirrorSizes {
    public static void premain(String args, Instrumentation inst) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(4000);
                try (PrintWriter w = new PrintWriter(args)) {
                    for (Class<?> c : inst.getAllLoadedClasses()) w.println(c.getName() + "\t" + inst.getObjectSize(c));
                    w.println("int\t" + inst.getObjectSize(int.class));
                }
            } catch (Exception e) { e.printStackTrace(); }
        });
        t.setDaemon(true);
        t.start();
    }
}

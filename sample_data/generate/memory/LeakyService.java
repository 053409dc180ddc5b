// A JVM service that leaks, with class histograms taken by the real JDK tools.
//
//   javac -d OUT LeakyService.java && java -Xmx256m -cp OUT LeakyService OUTDIR
//
// Phases: warm-up -> t0 -> leaking phase -> t1 -> more leaking -> t2.
// At each time it runs `jcmd <own pid> GC.class_histogram` (and `jmap -histo:live` at t0 and t2)
// in a child process and saves the text.
// Planted leak: LeakyService$OrderRecord objects (16 inline longs and a String each) kept
// forever in a static ArrayList. TransientEvent objects churn and are garbage by each
// histogram (both tools force a full GC with :live semantics), so they must not show as growth.
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public class LeakyService {
    static final List<OrderRecord> LEAKED = new ArrayList<>();
    static final Map<Integer, TransientEvent> RECENT = new HashMap<>();
    static long sink;

    static final class OrderRecord {            // a fat record: 16 longs of line-item data inline
        final long id; final String customer;
        long q0, q1, q2, q3, q4, q5, q6, q7, p0, p1, p2, p3, p4, p5, p6, p7;
        OrderRecord(long id) {
            this.id = id; this.customer = "customer-" + id;
            q0 = id; p7 = id * 3;
        }
    }

    static final class TransientEvent {
        final long at; final int[] samples = new int[8];
        TransientEvent(long at) { this.at = at; }
    }

    static void serve(int requests, long start) {
        for (int i = 0; i < requests; i++) {
            LEAKED.add(new OrderRecord(start + i));                 // never removed: the leak
            RECENT.put(i % 64, new TransientEvent(i));              // replaced: no growth
            sink += RECENT.size();
        }
    }

    static void tool(String outdir, String name, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectOutput(new File(outdir, name));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        int rc = pb.start().waitFor();
        if (rc != 0) throw new RuntimeException(String.join(" ", cmd) + " exited " + rc);
    }

    public static void main(String[] args) throws Exception {
        String outdir = args.length > 0 ? args[0] : ".";
        String pid = Long.toString(ProcessHandle.current().pid());
        serve(2_000, 0);
        tool(outdir, "jcmd_histo_t0.txt", "jcmd", pid, "GC.class_histogram");
        tool(outdir, "jmap_histo_live_t0.txt", "jmap", "-histo:live", pid);
        serve(20_000, 100_000);
        tool(outdir, "jcmd_histo_t1.txt", "jcmd", pid, "GC.class_histogram");
        serve(20_000, 200_000);
        tool(outdir, "jcmd_histo_t2.txt", "jcmd", pid, "GC.class_histogram");
        tool(outdir, "jmap_histo_live_t2.txt", "jmap", "-histo:live", pid);
        System.out.println("kept " + LEAKED.size() + " orders; sink " + sink);
    }
}

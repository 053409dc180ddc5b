// A small JVM service that leaks; generate.py takes HPROF heap dumps and class histograms of it with the real JDK tools.
//
//   javac -d OUT LeakyHeap.java && java -Xmx16m -XX:+UseSerialGC -Xshare:off -cp OUT LeakyHeap
//
// Phases: warm-up -> t0 -> leaking phase -> t1. At each moment it prints "ready tN PID" and blocks reading a
// line from stdin, so nothing in the program allocates while generate.py runs, against its pid:
//   t0: jmap -dump:live,gz=6,format=b,file=hprof_t0.hprof.gz PID   (a full GC, then a gzip-compressed dump)
//   t1: jcmd PID GC.heap_dump -gz=6 hprof_t1.hprof.gz              (the same with jcmd: live objects only)
// bracketed by `jmap -histo:live PID` just before and just after (a full GC, then the histogram of the same live set).
//
// Planted leak: SessionRegistry.SESSIONS (a static HashMap) keeps every LeakyHeap$Session, each holding a
// 64-byte payload byte[] and a String; the HashMap$Node[] table is the accumulation point.
// Also: one ReportCache holding a 32 KB byte[] (a big primitive array with one owner), duplicate Strings
// ("tenant-" + id % 7, built at run time so they are not interned), and TransientEvent churn that is
// garbage by each dump (the :live GC) and must not show as growth.
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

public class LeakyHeap {
    static final class Session {
        final long id; final String tenant; final byte[] payload = new byte[64];
        Session(long id) { this.id = id; this.tenant = new StringBuilder("tenant-").append(id % 7).toString(); }
    }

    static final class SessionRegistry {
        static final Map<Long, Session> SESSIONS = new HashMap<>();
    }

    static final class ReportCache {
        static final ReportCache INSTANCE = new ReportCache();
        final byte[] lastReport = new byte[32 * 1024];
    }

    static final class TransientEvent {
        final long at; final int[] samples = new int[8];
        TransientEvent(long at) { this.at = at; }
    }

    static final List<TransientEvent> RECENT = new ArrayList<>();
    static long sink;

    static void serve(int requests, long start) {
        for (int i = 0; i < requests; i++) {
            SessionRegistry.SESSIONS.put(start + i, new Session(start + i));   // never removed: the leak
            RECENT.add(new TransientEvent(i));
            if (RECENT.size() > 32) RECENT.clear();                           // churn: no growth
            sink += RECENT.size();
        }
    }

    static void moment(String t) throws Exception {
        System.out.println("ready " + t + " " + ProcessHandle.current().pid());
        System.out.flush();
        while (System.in.read() != '\n') { }                     // blocked: the heap stays still
    }

    public static void main(String[] args) throws Exception {
        sink += ReportCache.INSTANCE.lastReport.length;
        serve(200, 0);
        moment("t0");
        serve(2_000, 100_000);
        moment("t1");
        System.out.println("kept " + SessionRegistry.SESSIONS.size() + " sessions; sink " + sink);
    }
}

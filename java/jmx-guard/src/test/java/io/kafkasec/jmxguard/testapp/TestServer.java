package io.kafkasec.jmxguard.testapp;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.security.PrivilegedExceptionAction;
import java.util.Arrays;
import java.util.Set;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.remote.JMXPrincipal;
import javax.security.auth.Subject;

/**
 * A tiny JVM for the guard's tests: remote JMX comes from the com.sun.management.jmxremote.* properties, the guard
 * from -Djavax.management.builder.initial; this registers a test MBean (and an MLet where the JDK still has one),
 * shows that in-process calls pass the guard, prints its pid and waits.
 */
public final class TestServer {
    private TestServer() {
    }

    public static void main(String[] args) throws Exception {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        mbs.registerMBean(new Demo(), new ObjectName("kafkasec.test:type=Demo"));
        // Kafka 4.x registers its log4j controller as kafka:type=kafka.Log4jController
        mbs.registerMBean(new Log4jController(), new ObjectName("kafka:type=kafka.Log4jController"));
        boolean mlet = false;
        try {
            Class<?> c = Class.forName("javax.management.loading.MLet");
            mbs.registerMBean(c.getConstructor().newInstance(), new ObjectName("kafkasec.loader:type=MLet"));
            mlet = true;
        } catch (ClassNotFoundException e) {
            // JDK 23+: no MLet
        }
        // in-process callers (no Subject) pass the guard
        mbs.invoke(new ObjectName("java.lang:type=Memory"), "gc", null, null);
        Object version = mbs.invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmVersion", null, null);
        System.out.println("INPROCESS " + (version != null));
        System.out.println("SERVER " + mbs.getClass().getName());
        System.out.println("MLET " + mlet);
        if (args.length == 2 && args[0].equals("--selfbench")) {
            System.out.println("SELFBENCH " + selfBench(mbs, Integer.parseInt(args[1])));
        }
        System.out.println("PID " + ProcessHandle.current().pid());
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    /**
     * The guard's own cost, without the network: median nanoseconds of one getAttribute as the authenticated user
     * "viewer" (inside Subject.doAs, as the JMX connector calls), through the guarded server and straight to the
     * server it wraps, in batches taken in turns.
     */
    @SuppressWarnings("removal")
    private static String selfBench(MBeanServer guarded, int calls) throws Exception {
        Field f = guarded.getClass().getDeclaredField("delegate");
        f.setAccessible(true);
        MBeanServer inner = (MBeanServer) f.get(guarded);
        ObjectName on = new ObjectName("kafkasec.test:type=Demo");
        Subject viewer = new Subject(true, Set.of(new JMXPrincipal("viewer")), Set.of(), Set.of());
        long[] g = new long[calls];
        long[] d = new long[calls];
        for (int round = 0; round < 3; round++) {   // the first two rounds warm up
            for (int i = 0; i < calls; i++) {
                final int k = i;
                Subject.doAs(viewer, (PrivilegedExceptionAction<Void>) () -> {
                    long s = System.nanoTime();
                    guarded.getAttribute(on, "Count");
                    g[k] = System.nanoTime() - s;
                    s = System.nanoTime();
                    inner.getAttribute(on, "Count");
                    d[k] = System.nanoTime() - s;
                    return null;
                });
            }
        }
        Arrays.sort(g);
        Arrays.sort(d);
        return g[calls / 2] + " " + d[calls / 2];
    }
}

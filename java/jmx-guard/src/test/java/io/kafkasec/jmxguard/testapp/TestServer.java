package io.kafkasec.jmxguard.testapp;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;

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
        System.out.println("PID " + ProcessHandle.current().pid());
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}

package io.kafkasec.jmxguard.testapp;

/** A test MBean with reads, a write, a boolean attribute and operations for wildcard and argument rules. */
public interface DemoMBean {
    long getCount();

    String getLevel();

    void setLevel(String level);

    boolean isEnabled();

    void resetCounter();

    String setLevel(String logger, String level);

    String shutdownNow();
}

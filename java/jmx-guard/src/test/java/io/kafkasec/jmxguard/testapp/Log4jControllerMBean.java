package io.kafkasec.jmxguard.testapp;

/** The operations of Kafka's kafka:type=kafka.Log4jController, registered under that name by the test JVM. */
public interface Log4jControllerMBean {
    String getLogLevel(String logger);

    boolean setLogLevel(String logger, String level);
}

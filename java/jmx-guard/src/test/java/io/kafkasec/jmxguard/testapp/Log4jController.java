package io.kafkasec.jmxguard.testapp;

public class Log4jController implements Log4jControllerMBean {
    @Override
    public String getLogLevel(String logger) {
        return "INFO";
    }

    @Override
    public boolean setLogLevel(String logger, String level) {
        return true;
    }
}

package io.kafkasec.jmxguard.testapp;

public class Demo implements DemoMBean {
    private volatile long count = 42;
    private volatile String level = "INFO";

    @Override
    public long getCount() {
        return count;
    }

    @Override
    public String getLevel() {
        return level;
    }

    @Override
    public void setLevel(String level) {
        this.level = level;
    }

    @Override
    public boolean isEnabled() {
        return true;
    }

    @Override
    public void resetCounter() {
        count = 0;
    }

    @Override
    public String setLevel(String logger, String level) {
        this.level = logger + "=" + level;
        return this.level;
    }

    @Override
    public String shutdownNow() {
        return "would shut down";
    }
}

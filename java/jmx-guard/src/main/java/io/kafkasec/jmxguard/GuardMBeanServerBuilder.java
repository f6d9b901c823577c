package io.kafkasec.jmxguard;

import java.lang.System.Logger.Level;
import javax.management.MBeanServer;
import javax.management.MBeanServerBuilder;
import javax.management.MBeanServerDelegate;
import javax.management.ObjectName;

/**
 * Installed with {@code -Djavax.management.builder.initial=io.kafkasec.jmxguard.GuardMBeanServerBuilder} (the class on
 * the boot class path: {@code -Xbootclasspath/a:kafkasec-jmx-guard.jar}) and {@code -Dkafkasec.jmx.guard.config=<dir>}:
 * every MBeanServer of the JVM, the platform one included, is wrapped by the guard, and carries the guard's
 * canInvoke MBean {@code kafkasec.jmx:type=Guard}.
 */
public class GuardMBeanServerBuilder extends MBeanServerBuilder {
    @Override
    public MBeanServer newMBeanServer(String defaultDomain, MBeanServer outer, MBeanServerDelegate delegate) {
        GuardedMBeanServer guarded = new GuardedMBeanServer(Guard.instance());
        MBeanServer inner = super.newMBeanServer(defaultDomain, outer == null ? guarded : outer, delegate);
        guarded.setDelegate(inner);
        try {
            inner.registerMBean(new GuardSecurity(guarded.enforcer(), Guard.instance()),
                    new ObjectName(Enforcer.GUARD_MBEAN));
        } catch (Exception e) {
            System.getLogger("io.kafkasec.jmxguard").log(Level.WARNING,
                    "kafkasec JMX guard: " + Enforcer.GUARD_MBEAN + " not registered: " + e);
        }
        return guarded;
    }
}

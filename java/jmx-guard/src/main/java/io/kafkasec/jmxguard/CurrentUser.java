package io.kafkasec.jmxguard;

import java.lang.reflect.Method;
import java.security.AccessController;
import java.security.Principal;
import javax.management.remote.JMXPrincipal;
import javax.security.auth.Subject;

/**
 * The authenticated caller. JDK 18+ has {@code Subject.current()} (the only way on 24+, where the JMX connector runs
 * each request under {@code Subject.callAs}); JDK 17 has {@code Subject.getSubject(AccessController.getContext())}
 * (the connector uses {@code Subject.doAsPrivileged}). Both are found by reflection so one jar built with
 * {@code --release 17} serves both. A null Subject is an in-process caller.
 */
final class CurrentUser {
    private static final Method CURRENT = lookup();

    private CurrentUser() {
    }

    private static Method lookup() {
        try {
            return Subject.class.getMethod("current");
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    @SuppressWarnings("removal")
    static Subject subject() {
        if (CURRENT != null) {
            try {
                return (Subject) CURRENT.invoke(null);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // fall back below
            }
        }
        try {
            return Subject.getSubject(AccessController.getContext());
        } catch (UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    /** The JMX user name of a Subject: its JMXPrincipal, else its first principal. */
    static String name(Subject subject) {
        String first = null;
        for (Principal p : subject.getPrincipals()) {
            if (p instanceof JMXPrincipal) {
                return p.getName();
            }
            if (first == null) {
                first = p.getName();
            }
        }
        return first;
    }
}

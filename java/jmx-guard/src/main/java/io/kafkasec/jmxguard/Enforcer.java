package io.kafkasec.jmxguard;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.management.Attribute;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * What a caller may do on one MBeanServer: the checks behind enforcement and behind canInvoke, so the two agree.
 * Attribute reads map to the getter (Karaf): {@code getX}, or {@code isX} for a boolean attribute; writes to
 * {@code setX(type)} with the value as its argument.
 */
final class Enforcer {
    static final String GUARD_MBEAN = "kafkasec.jmx:type=Guard";
    static final Set<String> MLET_CLASSES = Set.of("javax.management.loading.MLet", "javax.management.loading.PrivateMLet");
    private static final String[] NO_SIG = new String[0];

    private final Guard guard;
    private final MBeanServer server;
    private final ObjectName guardName;

    Enforcer(Guard guard, MBeanServer server) {
        this.guard = guard;
        this.server = server;
        try {
            this.guardName = new ObjectName(GUARD_MBEAN);
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Null when the caller may do it, else the reason. */
    String refuseInvoke(Guard.Caller c, Set<String> roles, ObjectName name, String op, Object[] params,
                        String[] sig, boolean paramsKnown) {
        if (name.equals(guardName)) {
            return null; // canInvoke answers only about the caller's own rights
        }
        Rules rules = guard.rules();
        Rules.Decision d = rules.required(name, op, sig == null ? NO_SIG : sig, params, paramsKnown);
        if (!Rules.holds(roles, d.roles)) {
            return Guard.denied(c, roles, "invoke " + name + " " + op + sigText(sig), d.roles, d.pid).getMessage();
        }
        if (!roles.contains(Rules.ADMIN_ROLE) && isMLet(name)) {
            return Guard.denied(c, roles, "invoke " + op + " on an MLet (" + name + ")", List.of(Rules.ADMIN_ROLE), null).getMessage();
        }
        return null;
    }

    private boolean isMLet(ObjectName name) {
        try {
            return MLET_CLASSES.contains(server.getObjectInstance(name).getClassName());
        } catch (JMException e) {
            return false;
        }
    }

    String refuseGet(Guard.Caller c, Set<String> roles, ObjectName name, String attribute) {
        if (name.equals(guardName) || roles.contains(Rules.ADMIN_ROLE)) {
            return null;
        }
        Rules rules = guard.rules();
        Rules.Decision get = rules.required(name, "get" + attribute, NO_SIG, NO_ARGS, true);
        Rules.Decision is = rules.required(name, "is" + attribute, NO_SIG, NO_ARGS, true);
        boolean okGet = Rules.holds(roles, get.roles);
        boolean okIs = Rules.holds(roles, is.roles);
        Rules.Decision d = get;
        boolean ok = okGet;
        if (okGet != okIs) {
            // only then does it matter whether the attribute is a boolean
            MBeanAttributeInfo info = attributeInfo(name, attribute);
            if (info != null && info.isIs()) {
                d = is;
                ok = okIs;
            }
        }
        return ok ? null : Guard.denied(c, roles, "read " + name + " " + attribute, d.roles, d.pid).getMessage();
    }

    String refuseSet(Guard.Caller c, Set<String> roles, ObjectName name, Attribute attribute) {
        if (roles.contains(Rules.ADMIN_ROLE)) {
            return null;
        }
        MBeanAttributeInfo info = attributeInfo(name, attribute.getName());
        String[] sig = info == null ? NO_SIG : new String[] {info.getType()};
        String op = "set" + attribute.getName();
        Rules.Decision d = guard.rules().required(name, op, sig, new Object[] {attribute.getValue()}, true);
        return Rules.holds(roles, d.roles) ? null
                : Guard.denied(c, roles, "write " + name + " " + attribute.getName(), d.roles, d.pid).getMessage();
    }

    private static final Object[] NO_ARGS = new Object[0];

    private MBeanAttributeInfo attributeInfo(ObjectName name, String attribute) {
        try {
            for (MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
                if (a.getName().equals(attribute)) {
                    return a;
                }
            }
        } catch (JMException e) {
            return null;
        }
        return null;
    }

    // ---- canInvoke (the caller's own rights, arguments unknown) ----

    boolean canInvoke(Guard.Caller c, ObjectName name) throws JMException {
        if (c == null) {
            return true;
        }
        Set<String> roles = guard.rolesOf(c);
        MBeanInfo info = server.getMBeanInfo(name);
        for (MBeanOperationInfo op : info.getOperations()) {
            if (refuseInvoke(c, roles, name, op.getName(), null, signature(op), false) == null) {
                return true;
            }
        }
        for (MBeanAttributeInfo a : info.getAttributes()) {
            if (a.isReadable() && refuseGet(c, roles, name, a.getName()) == null) {
                return true;
            }
            if (a.isWritable() && canSet(c, roles, name, a)) {
                return true;
            }
        }
        return false;
    }

    private boolean canSet(Guard.Caller c, Set<String> roles, ObjectName name, MBeanAttributeInfo a) {
        if (roles.contains(Rules.ADMIN_ROLE)) {
            return true;
        }
        Rules.Decision d = guard.rules().required(name, "set" + a.getName(), new String[] {a.getType()}, null, false);
        return Rules.holds(roles, d.roles);
    }

    boolean canInvoke(Guard.Caller c, ObjectName name, String method) throws JMException {
        if (c == null) {
            return true;
        }
        Set<String> roles = guard.rolesOf(c);
        boolean found = false;
        for (MBeanOperationInfo op : server.getMBeanInfo(name).getOperations()) {
            if (op.getName().equals(method)) {
                found = true;
                if (refuseInvoke(c, roles, name, method, null, signature(op), false) == null) {
                    return true;
                }
            }
        }
        if (!found) {
            // an attribute accessor (getX, isX, setX) or an operation the MBean does not list
            for (MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
                if (method.equals((a.isIs() ? "is" : "get") + a.getName()) && a.isReadable()) {
                    return refuseGet(c, roles, name, a.getName()) == null;
                }
                if (method.equals("set" + a.getName()) && a.isWritable()) {
                    return canSet(c, roles, name, a);
                }
            }
            return refuseInvoke(c, roles, name, method, null, null, false) == null;
        }
        return false;
    }

    boolean canInvoke(Guard.Caller c, ObjectName name, String method, String[] sig) {
        if (c == null) {
            return true;
        }
        return refuseInvoke(c, guard.rolesOf(c), name, method, null, sig == null ? NO_SIG : sig, false) == null;
    }

    static String[] signature(MBeanOperationInfo op) {
        return Arrays.stream(op.getSignature()).map(p -> p.getType()).toArray(String[]::new);
    }

    private static String sigText(String[] sig) {
        return sig == null ? "" : "(" + String.join(",", sig) + ")";
    }
}

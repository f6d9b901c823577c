package io.kafkasec.jmxguard;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;
import javax.management.openmbean.TabularData;

/** The canInvoke MBean: the same checks the guard enforces, for the calling user. */
public final class GuardSecurity implements GuardSecurityMBean {
    static final CompositeType ROW;
    static final TabularType TABLE;

    static {
        try {
            ROW = new CompositeType("CanInvokeRow", "whether the caller may invoke a method",
                    new String[] {"ObjectName", "Method", "CanInvoke"},
                    new String[] {"the MBean", "the method (empty: any)", "the answer"},
                    new OpenType<?>[] {SimpleType.STRING, SimpleType.STRING, SimpleType.BOOLEAN});
            TABLE = new TabularType("CanInvokeTable", "canInvoke answers", ROW, new String[] {"ObjectName", "Method"});
        } catch (OpenDataException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Enforcer enforcer;
    private final Guard guard;

    GuardSecurity(Enforcer enforcer, Guard guard) {
        this.enforcer = enforcer;
        this.guard = guard;
    }

    @Override
    public boolean canInvoke(String objectName) throws Exception {
        return enforcer.canInvoke(Guard.caller(), new ObjectName(objectName));
    }

    @Override
    public boolean canInvoke(String objectName, String methodName) throws Exception {
        return enforcer.canInvoke(Guard.caller(), new ObjectName(objectName), methodName);
    }

    @Override
    public boolean canInvoke(String objectName, String methodName, String[] argumentTypes) throws Exception {
        return enforcer.canInvoke(Guard.caller(), new ObjectName(objectName), methodName, argumentTypes);
    }

    @Override
    public TabularData canInvoke(Map<String, List<String>> bulkQuery) throws Exception {
        TabularDataSupport table = new TabularDataSupport(TABLE);
        Guard.Caller c = Guard.caller();
        for (Map.Entry<String, List<String>> e : bulkQuery.entrySet()) {
            ObjectName name = new ObjectName(e.getKey());
            List<String> methods = e.getValue();
            if (methods == null || methods.isEmpty()) {
                table.put(row(e.getKey(), "", enforcer.canInvoke(c, name)));
                continue;
            }
            for (String m : methods) {
                int paren = m.indexOf('(');
                boolean ok;
                if (paren < 0) {
                    ok = enforcer.canInvoke(c, name, m);
                } else {
                    String sig = m.substring(paren + 1, m.lastIndexOf(')')).replace(" ", "");
                    ok = enforcer.canInvoke(c, name, m.substring(0, paren), sig.isEmpty() ? new String[0] : sig.split(","));
                }
                table.put(row(e.getKey(), m, ok));
            }
        }
        return table;
    }

    private static CompositeDataSupport row(String name, String method, boolean ok) throws OpenDataException {
        return new CompositeDataSupport(ROW, new String[] {"ObjectName", "Method", "CanInvoke"},
                new Object[] {name, method, ok});
    }

    @Override
    public String getCurrentUser() {
        Guard.Caller c = Guard.caller();
        return c == null ? null : c.user;
    }

    @Override
    public String[] getCurrentRoles() {
        Guard.Caller c = Guard.caller();
        return c == null ? new String[0] : new TreeSet<>(guard.rolesOf(c)).toArray(new String[0]);
    }

    @Override
    public long getGeneration() {
        return guard.generation();
    }

    @Override
    public String getRulesSource() {
        return guard.source();
    }
}

package io.kafkasec.jmxguard.testapp;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.management.Attribute;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * A real remote JMX client for the tests: connects as one user, then answers one command per stdin line (fields
 * separated by tabs, list items by '|'), one result line each: OK value, DENIED message (a SecurityException), or
 * ERROR class: message.
 * <pre>
 *   get ON ATTR | set ON ATTR VALUE | invoke ON OP SIG1|SIG2 ARG1|ARG2 | ops ON
 *   can ON [OP [SIG1|SIG2]] | bulk ON OP1|OP2 [ON OP...] | create CLASS ON | unregister ON | bench ON ATTR N
 *   samples ON ATTR N
 * </pre>
 */
public final class TestClient {
    private TestClient() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, Object> env = new HashMap<>();
        if (!args[1].isEmpty()) {
            env.put(JMXConnector.CREDENTIALS, new String[] {args[1], args[2]});
        }
        try (JMXConnector jmxc = JMXConnectorFactory.connect(new JMXServiceURL(args[0]), env)) {
            MBeanServerConnection c = jmxc.getMBeanServerConnection();
            System.out.println("CONNECTED");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    continue;
                }
                String result;
                try {
                    result = "OK " + run(c, line.split("\t", -1));
                } catch (SecurityException e) {
                    result = "DENIED " + e.getMessage();
                } catch (Exception e) {
                    Throwable t = e;
                    while (t.getCause() != null && !(t instanceof SecurityException)) {
                        t = t.getCause();
                    }
                    result = (t instanceof SecurityException ? "DENIED " : "ERROR " + t.getClass().getName() + ": ")
                            + t.getMessage();
                }
                System.out.println(result.replace('\n', ' '));
                System.out.flush();
            }
        }
    }

    private static String[] list(String s) {
        return s.isEmpty() ? new String[0] : s.split("\\|", -1);
    }

    private static Object convert(String type, String value) {
        switch (type) {
            case "boolean":
                return Boolean.parseBoolean(value);
            case "long":
                return Long.parseLong(value);
            case "int":
                return Integer.parseInt(value);
            case "[Ljava.lang.String;":
                return list(value);
            default:
                return value;
        }
    }

    private static String run(MBeanServerConnection c, String[] f) throws Exception {
        switch (f[0]) {
            case "get":
                return String.valueOf(c.getAttribute(new ObjectName(f[1]), f[2]));
            case "getall":
                return String.valueOf(c.getAttributes(new ObjectName(f[1]), list(f[2])).asList().stream()
                        .map(Attribute::getName).toList());
            case "set":
                c.setAttribute(new ObjectName(f[1]), new Attribute(f[2], f[3]));
                return "set";
            case "invoke": {
                String[] sig = list(f[3]);
                String[] raw = f.length > 4 ? list(f[4]) : new String[0];
                Object[] params = new Object[sig.length];
                for (int i = 0; i < sig.length; i++) {
                    params[i] = sig[i].equals("[Ljava.lang.String;") ? new String[0] : convert(sig[i], raw[i]);
                }
                Object r = c.invoke(new ObjectName(f[1]), f[2], params, sig);
                String s = String.valueOf(r);
                return s.length() > 60 ? s.substring(0, 60) : s;
            }
            case "ops": {
                List<String> ops = new ArrayList<>();
                for (MBeanOperationInfo op : c.getMBeanInfo(new ObjectName(f[1])).getOperations()) {
                    ops.add(op.getName() + "(" + String.join(",",
                            Arrays.stream(op.getSignature()).map(MBeanParameterInfo::getType).toList()) + ")");
                }
                return String.join(" ", ops);
            }
            case "can": {
                ObjectName g = new ObjectName("kafkasec.jmx:type=Guard");
                if (f.length == 2) {
                    return String.valueOf(c.invoke(g, "canInvoke", new Object[] {f[1]}, new String[] {"java.lang.String"}));
                }
                if (f.length == 3) {
                    return String.valueOf(c.invoke(g, "canInvoke", new Object[] {f[1], f[2]},
                            new String[] {"java.lang.String", "java.lang.String"}));
                }
                return String.valueOf(c.invoke(g, "canInvoke", new Object[] {f[1], f[2], list(f[3])},
                        new String[] {"java.lang.String", "java.lang.String", "[Ljava.lang.String;"}));
            }
            case "bulk": {
                Map<String, List<String>> q = new LinkedHashMap<>();
                for (int i = 1; i + 1 < f.length; i += 2) {
                    q.put(f[i], new ArrayList<>(Arrays.asList(list(f[i + 1]))));
                }
                TabularData t = (TabularData) c.invoke(new ObjectName("kafkasec.jmx:type=Guard"), "canInvoke",
                        new Object[] {new HashMap<>(q)}, new String[] {"java.util.Map"});
                List<String> rows = new ArrayList<>();
                for (Object o : t.values()) {
                    CompositeData r = (CompositeData) o;
                    rows.add(r.get("ObjectName") + "|" + r.get("Method") + "|" + r.get("CanInvoke"));
                }
                rows.sort(null);
                return String.join(";", rows);
            }
            case "create":
                return c.createMBean(f[1], new ObjectName(f[2])).getObjectName().toString();
            case "unregister":
                c.unregisterMBean(new ObjectName(f[1]));
                return "unregistered";
            case "bench": {
                ObjectName on = new ObjectName(f[1]);
                int n = Integer.parseInt(f[3]);
                for (int i = 0; i < Math.max(1000, n / 5); i++) {
                    c.getAttribute(on, f[2]);
                }
                long[] t = new long[n];
                for (int i = 0; i < n; i++) {
                    long s = System.nanoTime();
                    c.getAttribute(on, f[2]);
                    t[i] = System.nanoTime() - s;
                }
                Arrays.sort(t);
                return (t[n / 2] / 1000.0) + " " + (t[(int) (n * 0.99)] / 1000.0);
            }
            case "samples": {
                // N timed getAttribute calls, each latency in nanoseconds, no warm-up (the caller interleaves)
                ObjectName on = new ObjectName(f[1]);
                int n = Integer.parseInt(f[3]);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < n; i++) {
                    long s = System.nanoTime();
                    c.getAttribute(on, f[2]);
                    sb.append(i == 0 ? "" : " ").append(System.nanoTime() - s);
                }
                return sb.toString();
            }
            default:
                throw new IllegalArgumentException("unknown command " + f[0]);
        }
    }
}

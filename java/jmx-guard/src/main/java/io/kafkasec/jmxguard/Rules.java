package io.kafkasec.jmxguard;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.ObjectName;

/**
 * One immutable snapshot of the rules: the PIDs (built-in ones, replaced by files of the same name) and the users'
 * roles. Karaf's lookup: an ObjectName {@code domain:type=T,k1=v1,k2=v2} gives the segments domain, T, v1, v2 (type
 * first, then the other values in the order the name was written); the PIDs {@code jmx.acl.domain.T.v1.v2},
 * {@code jmx.acl.domain.T.v1}, ... {@code jmx.acl.domain}, {@code jmx.acl} are asked in this order, and the first
 * one that has a rule for the operation decides. A PID segment {@code _} matches any one segment (a PID without one
 * is preferred).
 */
final class Rules {
    static final String PREFIX = "jmx.acl";
    static final String USERS_FILE = "jmx.users.cfg";
    static final String ADMIN_ROLE = "admin";
    static final String VIEWER_ROLE = "viewer";
    static final String GROUP_PREFIX = "_g_:";

    /** The defaults: Karaf's jmx.acl.cfg, and the code-execution paths kept for admins. */
    static final Map<String, Map<String, String>> BUILT_IN;

    static {
        Map<String, Map<String, String>> b = new LinkedHashMap<>();
        b.put(PREFIX, ordered("list*", VIEWER_ROLE, "get*", VIEWER_ROLE, "is*", VIEWER_ROLE,
                "set*", ADMIN_ROLE, "*", ADMIN_ROLE));
        // jvmtiAgentLoad, compilerDirectivesAdd, ... run code or write files
        b.put(PREFIX + ".com.sun.management.DiagnosticCommand", ordered("*", ADMIN_ROLE));
        b.put(PREFIX + ".com.sun.management.HotSpotDiagnostic", ordered("dumpHeap", ADMIN_ROLE,
                "setVMOption", ADMIN_ROLE));
        // Kafka 4.x: kafka:type=kafka.Log4jController
        b.put(PREFIX + ".kafka.kafka.Log4jController", ordered("setLogLevel", ADMIN_ROLE));
        BUILT_IN = Collections.unmodifiableMap(b);
    }

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    final Map<String, PidRules> pids;
    final Map<String, Set<String>> userRoles;
    final String source;
    private final Map<Integer, List<String[]>> pidsBySegments = new HashMap<>();
    private final Map<ObjectName, List<PidRules>> chainCache = new ConcurrentHashMap<>();

    Rules(Map<String, PidRules> pids, Map<String, Set<String>> userRoles, String source) {
        this.pids = Collections.unmodifiableMap(new HashMap<>(pids));
        this.userRoles = Collections.unmodifiableMap(new HashMap<>(userRoles));
        this.source = source;
        for (String pid : this.pids.keySet()) {
            String[] seg = pid.split("\\.");
            pidsBySegments.computeIfAbsent(seg.length, k -> new ArrayList<>()).add(seg);
        }
    }

    /** Built-in rules only and no users: every remote caller is refused. */
    static Rules denyAll(String source) {
        return fromMaps(new TreeMap<>(), new Properties(), source);
    }

    /** Read a directory: every jmx.acl*.cfg file and jmx.users.cfg. Throws with the file and the key at fault. */
    static Rules load(Path dir) throws IOException {
        Map<String, Map<String, String>> files = new TreeMap<>();
        Properties users = new Properties();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.equals(USERS_FILE)) {
                    users = read(p);
                } else if (name.endsWith(".cfg") && (name.equals(PREFIX + ".cfg") || name.startsWith(PREFIX + "."))) {
                    Properties props = read(p);
                    Map<String, String> m = new LinkedHashMap<>();
                    for (String k : props.stringPropertyNames()) {
                        m.put(k, props.getProperty(k));
                    }
                    files.put(name.substring(0, name.length() - 4), m);
                }
            }
        }
        return fromMaps(files, users, dir.toString());
    }

    private static Properties read(Path p) throws IOException {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(p)) {
            props.load(in);
        }
        return props;
    }

    static Rules fromMaps(Map<String, Map<String, String>> files, Properties users, String source) {
        Map<String, PidRules> pids = new HashMap<>();
        Map<String, Map<String, String>> all = new LinkedHashMap<>(BUILT_IN);
        all.putAll(files);
        for (Map.Entry<String, Map<String, String>> e : all.entrySet()) {
            try {
                pids.put(e.getKey(), PidRules.parse(e.getKey(), e.getValue()));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(e.getKey() + ".cfg: " + ex.getMessage(), ex);
            }
        }
        return new Rules(pids, resolveUsers(users), source);
    }

    /** Karaf's users.properties without the password: {@code user = role, _g_:group}, {@code _g_\:group = group, role}. */
    static Map<String, Set<String>> resolveUsers(Properties users) {
        Map<String, List<String>> groups = new HashMap<>();
        for (String k : users.stringPropertyNames()) {
            if (k.startsWith(GROUP_PREFIX)) {
                List<String> items = new ArrayList<>(OperationRule.parseRoles(users.getProperty(k)));
                if (!items.isEmpty() && items.get(0).equals("group")) {
                    items.remove(0);
                }
                groups.put(k.substring(GROUP_PREFIX.length()), items);
            }
        }
        Map<String, Set<String>> result = new HashMap<>();
        for (String k : users.stringPropertyNames()) {
            if (k.startsWith(GROUP_PREFIX)) {
                continue;
            }
            Set<String> roles = new HashSet<>();
            for (String item : OperationRule.parseRoles(users.getProperty(k))) {
                if (item.startsWith(GROUP_PREFIX)) {
                    String g = item.substring(GROUP_PREFIX.length());
                    List<String> gr = groups.get(g);
                    if (gr == null) {
                        throw new IllegalArgumentException(USERS_FILE + ": user '" + k + "' is in group '" + g
                                + "', which is not defined");
                    }
                    roles.addAll(gr);
                } else {
                    roles.add(item);
                }
            }
            result.put(k, Collections.unmodifiableSet(roles));
        }
        return result;
    }

    /** Segments of an ObjectName in Karaf's order: domain, the type value, the other values as written. */
    static List<String> segments(ObjectName name) {
        List<String> segments = new ArrayList<>();
        segments.add(name.getDomain());
        String type = null;
        String list = name.getKeyPropertyListString();
        int start = 0;
        boolean quoted = false;
        for (int i = 0; i <= list.length(); i++) {
            char ch = i < list.length() ? list.charAt(i) : ',';
            if (quoted && ch == '\\') {
                i++;
                continue;
            }
            if (ch == '"') {
                quoted = !quoted;
            }
            if (ch != ',' || quoted) {
                continue;
            }
            String s = list.substring(start, i);
            start = i + 1;
            int eq = s.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String key = s.substring(0, eq);
            String value = name.getKeyProperty(key);
            if (key.equals("type")) {
                type = value;
            } else {
                segments.add(value);
            }
        }
        if (type != null) {
            segments.add(1, type);
        }
        return segments;
    }

    /** The PIDs that apply to an ObjectName, most specific first. */
    List<PidRules> chain(ObjectName name) {
        List<PidRules> cached = chainCache.get(name);
        if (cached != null) {
            return cached;
        }
        List<String> segs = segments(name);
        List<PidRules> chain = new ArrayList<>();
        for (int i = segs.size(); i >= 0; i--) {
            StringBuilder sb = new StringBuilder(PREFIX);
            for (int j = 0; j < i; j++) {
                sb.append('.').append(segs.get(j));
            }
            String general = generalPid(sb.toString());
            if (general != null) {
                chain.add(pids.get(general));
            }
        }
        List<PidRules> result = Collections.unmodifiableList(chain);
        if (chainCache.size() > 10_000) {
            chainCache.clear();
        }
        chainCache.put(name, result);
        return result;
    }

    private String generalPid(String pid) {
        String[] want = pid.split("\\.");
        List<String[]> candidates = pidsBySegments.get(want.length);
        if (candidates == null) {
            return null;
        }
        String[] best = null;
        for (String[] c : candidates) {
            boolean match = true;
            for (int i = 0; i < c.length && match; i++) {
                match = c[i].equals("_") || c[i].equals(want[i]);
            }
            if (match && (best == null || compare(c, best) < 0)) {
                best = c;
            }
        }
        return best == null ? null : String.join(".", best);
    }

    /** Karaf's WildcardPidComparator: a '_' segment makes a PID more general, so it comes later. */
    private static int compare(String[] a, String[] b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals(b[i])) {
                continue;
            }
            if (a[i].equals("_")) {
                return 1;
            }
            if (b[i].equals("_")) {
                return -1;
            }
            return a[i].compareTo(b[i]);
        }
        return 0;
    }

    /** The decision for one call: the roles required and the PID that gave them (null: no rule, only admins). */
    Decision required(ObjectName name, String op, String[] sig, Object[] params, boolean paramsKnown) {
        for (PidRules p : chain(name)) {
            List<String> roles = p.rolesFor(op, sig, params, paramsKnown);
            if (roles != null) {
                return new Decision(roles, p.pid);
            }
        }
        return new Decision(Collections.singletonList(ADMIN_ROLE), null);
    }

    PidRules pidRulesFor(String pid) {
        return pids.get(pid);
    }

    static boolean holds(Set<String> userRoles, List<String> required) {
        if (userRoles.contains(ADMIN_ROLE)) {
            return true;
        }
        for (String r : required) {
            if (userRoles.contains(r)) {
                return true;
            }
        }
        return false;
    }

    Set<String> rolesOf(String user) {
        Set<String> r = userRoles.get(user);
        return r == null ? Collections.emptySet() : r;
    }

    static final class Decision {
        final List<String> roles;
        final String pid;

        Decision(List<String> roles, String pid) {
            this.roles = roles;
            this.pid = pid;
        }
    }
}

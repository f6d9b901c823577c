package io.kafkasec.jmxguard;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.security.auth.Subject;

/**
 * The rules in force and the decision for the current caller. The rules directory is re-read when a file in it
 * changes (name, size, modification time or inode of any {@code jmx.acl*.cfg} or {@code jmx.users.cfg}), polled by a
 * daemon thread; a directory that does not parse keeps the previous rules (and says why on the JVM's log). Until a
 * directory has been read once, every remote caller is refused.
 */
public final class Guard {
    /** System property: the rules directory. */
    public static final String CONFIG_PROPERTY = "kafkasec.jmx.guard.config";
    /** System property: how often the directory is polled, in milliseconds (default 1000, minimum 100). */
    public static final String POLL_PROPERTY = "kafkasec.jmx.guard.poll.ms";

    private static final System.Logger LOG = System.getLogger("io.kafkasec.jmxguard");
    private static volatile Guard instance;

    private final Path dir;
    private volatile Rules rules;
    private volatile long generation;
    private volatile String fingerprint = "";

    Guard(Path dir, Rules initial) {
        this.dir = dir;
        this.rules = initial;
    }

    /** The JVM's guard, configured from the system properties on first use. */
    public static Guard instance() {
        Guard g = instance;
        if (g == null) {
            synchronized (Guard.class) {
                g = instance;
                if (g == null) {
                    g = start();
                    instance = g;
                }
            }
        }
        return g;
    }

    private static Guard start() {
        String conf = System.getProperty(CONFIG_PROPERTY);
        if (conf == null || conf.isEmpty()) {
            LOG.log(Level.WARNING, "kafkasec JMX guard: -D" + CONFIG_PROPERTY + " is not set; every remote JMX call is refused");
            return new Guard(null, Rules.denyAll("(none)"));
        }
        Guard g = new Guard(Paths.get(conf), Rules.denyAll(conf));
        g.reloadIfChanged();
        long poll = Math.max(100L, Long.getLong(POLL_PROPERTY, 1000L));
        ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kafkasec-jmx-guard-reload");
            t.setDaemon(true);
            return t;
        });
        ex.scheduleWithFixedDelay(g::reloadIfChanged, poll, poll, TimeUnit.MILLISECONDS);
        return g;
    }

    /** For tests: a guard over fixed rules. */
    static Guard of(Rules rules) {
        return new Guard(null, rules);
    }

    Rules rules() {
        return rules;
    }

    public long generation() {
        return generation;
    }

    public String source() {
        return rules.source;
    }

    /** Re-read the directory when a file changed; returns true when new rules were taken. */
    boolean reloadIfChanged() {
        if (dir == null) {
            return false;
        }
        try {
            String fp = fingerprint(dir);
            if (fp.equals(fingerprint)) {
                return false;
            }
            Rules r = Rules.load(dir);
            rules = r;
            fingerprint = fp;
            generation++;
            LOG.log(Level.INFO, "kafkasec JMX guard: rules loaded from " + dir + " (generation " + generation + ", "
                    + r.pids.size() + " PIDs, " + r.userRoles.size() + " users)");
            return true;
        } catch (IOException | RuntimeException e) {
            // keep the rules in force; try again when the files change
            try {
                fingerprint = fingerprint(dir);
            } catch (IOException ignored) {
                fingerprint = "";
            }
            LOG.log(Level.ERROR, "kafkasec JMX guard: rules in " + dir + " not loaded, the previous ones stay: " + e.getMessage());
            return false;
        }
    }

    static String fingerprint(Path dir) throws IOException {
        Set<String> parts = new TreeSet<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "jmx.*.cfg")) {
            for (Path p : ds) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                parts.add(p.getFileName() + "|" + a.size() + "|" + a.lastModifiedTime() + "|" + a.fileKey());
            }
        }
        return String.join("\n", parts);
    }

    /** The caller: null for an in-process call (no Subject). */
    static Caller caller() {
        Subject s = CurrentUser.subject();
        if (s == null) {
            return null;
        }
        return new Caller(CurrentUser.name(s));
    }

    Set<String> rolesOf(Caller c) {
        return c.user == null ? Collections.emptySet() : rules.rolesOf(c.user);
    }

    static final class Caller {
        final String user;

        Caller(String user) {
            this.user = user;
        }
    }

    static SecurityException denied(Caller c, Set<String> roles, String what, List<String> required, String pid) {
        return new SecurityException("kafkasec JMX guard: user '" + c.user + "' (roles " + new TreeSet<>(roles)
                + ") may not " + what + "; it needs one of " + required
                + (pid == null ? "" : " (" + pid + ".cfg)"));
    }
}

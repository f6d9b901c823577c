package io.kafkasec.jmxguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RulesTest {
    private static Map<String, String> m(String... kv) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            map.put(kv[i], kv[i + 1]);
        }
        return map;
    }

    private static Rules rules() {
        Map<String, Map<String, String>> files = new LinkedHashMap<>();
        files.put("jmx.acl.kafka.log.LogManager", m(
                "get*", "viewer",
                "setLogLevel(java.lang.String,java.lang.String)", "admin",
                "flush[/topic-.*/]", "manager",
                "flush[\"orders\"]", "auditor",
                "flush", "operator",
                "reset*", "manager",
                "resetAll", "admin"));
        files.put("jmx.acl.kafka.server", m("*", "manager", "get*", "viewer"));
        files.put("jmx.acl.kafka.server._.MessagesInPerSec", m("get*", "monitor"));
        files.put("jmx.acl.demo.Demo", m(
                "setLevel(java.lang.String,java.lang.String)[/kafka\\..*/,/INFO|DEBUG/]", "manager",
                "setLevel(java.lang.String,java.lang.String)", "admin",
                "*Count", "counter",
                "*sta*", "middle"));
        Properties users = new Properties();
        users.setProperty("alice", "_g_:monitoring");
        users.setProperty("bob", "manager, _g_:monitoring");
        users.setProperty("root", "_g_:admins");
        users.setProperty("_g_:monitoring", "group, viewer");
        users.setProperty("_g_:admins", "group, admin");
        return Rules.fromMaps(files, users, "test");
    }

    static Stream<Arguments> decisions() {
        return Stream.of(
                // name, op, sig, args, roles required, pid
                Arguments.of("kafka.log:type=LogManager", "getSize", new String[0], new Object[0], List.of("viewer"), "jmx.acl.kafka.log.LogManager"),
                Arguments.of("kafka.log:type=LogManager", "setLogLevel", new String[] {"java.lang.String", "java.lang.String"}, new Object[] {"a", "b"}, List.of("admin"), "jmx.acl.kafka.log.LogManager"),
                Arguments.of("kafka.log:type=LogManager", "flush", new String[] {"java.lang.String"}, new Object[] {"topic-1"}, List.of("manager"), "jmx.acl.kafka.log.LogManager"),
                Arguments.of("kafka.log:type=LogManager", "flush", new String[] {"java.lang.String"}, new Object[] {"orders"}, List.of("auditor"), "jmx.acl.kafka.log.LogManager"),
                Arguments.of("kafka.log:type=LogManager", "flush", new String[] {"java.lang.String"}, new Object[] {"other"}, List.of("operator"), "jmx.acl.kafka.log.LogManager"),
                Arguments.of("kafka.log:type=LogManager", "resetStats", new String[0], new Object[0], List.of("manager"), "jmx.acl.kafka.log.LogManager"),
                Arguments.of("kafka.log:type=LogManager", "resetAll", new String[0], new Object[0], List.of("admin"), "jmx.acl.kafka.log.LogManager"),
                // no rule in the MBean's PID: the root's defaults
                Arguments.of("kafka.log:type=LogManager", "shutdown", new String[0], new Object[0], List.of("admin"), "jmx.acl"),
                Arguments.of("kafka.log:type=Log,topic=x", "isFuture", new String[0], new Object[0], List.of("viewer"), "jmx.acl"),
                Arguments.of("kafka.log:type=Log,topic=x", "listSegments", new String[0], new Object[0], List.of("viewer"), "jmx.acl"),
                Arguments.of("kafka.log:type=Log,topic=x", "setRetention", new String[] {"long"}, new Object[] {1L}, List.of("admin"), "jmx.acl"),
                // walking up the hierarchy: the domain's PID
                Arguments.of("kafka.server:type=ReplicaManager,name=LeaderCount", "resetCounts", new String[0], new Object[0], List.of("manager"), "jmx.acl.kafka.server"),
                // the '_' PID segment, preferred to the domain but after an exact PID
                Arguments.of("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec", "getCount", new String[0], new Object[0], List.of("monitor"), "jmx.acl.kafka.server._.MessagesInPerSec"),
                Arguments.of("kafka.server:name=MessagesInPerSec,type=BrokerTopicMetrics", "getCount", new String[0], new Object[0], List.of("monitor"), "jmx.acl.kafka.server._.MessagesInPerSec"),
                Arguments.of("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec", "reset", new String[0], new Object[0], List.of("manager"), "jmx.acl.kafka.server"),
                // argument rule with a signature; else the signature rule
                Arguments.of("demo:type=Demo", "setLevel", new String[] {"java.lang.String", "java.lang.String"}, new Object[] {"kafka.server", "DEBUG"}, List.of("manager"), "jmx.acl.demo.Demo"),
                Arguments.of("demo:type=Demo", "setLevel", new String[] {"java.lang.String", "java.lang.String"}, new Object[] {"kafka.server", "TRACE"}, List.of("admin"), "jmx.acl.demo.Demo"),
                Arguments.of("demo:type=Demo", "setLevel", new String[] {"java.lang.String", "java.lang.String"}, new Object[] {"root", "DEBUG"}, List.of("admin"), "jmx.acl.demo.Demo"),
                // suffix wildcard, and *middle*
                Arguments.of("demo:type=Demo", "getCount", new String[0], new Object[0], List.of("counter"), "jmx.acl.demo.Demo"),
                Arguments.of("demo:type=Demo", "restart", new String[0], new Object[0], List.of("middle"), "jmx.acl.demo.Demo"),
                // the built-in code-execution paths
                Arguments.of("com.sun.management:type=DiagnosticCommand", "jvmtiAgentLoad", new String[] {"[Ljava.lang.String;"}, new Object[] {new String[0]}, List.of("admin"), "jmx.acl.com.sun.management.DiagnosticCommand"),
                Arguments.of("com.sun.management:type=DiagnosticCommand", "vmVersion", new String[0], new Object[0], List.of("admin"), "jmx.acl.com.sun.management.DiagnosticCommand"),
                Arguments.of("com.sun.management:type=HotSpotDiagnostic", "dumpHeap", new String[] {"java.lang.String", "boolean"}, new Object[] {"/tmp/x", true}, List.of("admin"), "jmx.acl.com.sun.management.HotSpotDiagnostic"),
                Arguments.of("com.sun.management:type=HotSpotDiagnostic", "getDiagnosticOptions", new String[0], new Object[0], List.of("viewer"), "jmx.acl"),
                Arguments.of("kafka:type=kafka.Log4jController", "setLogLevel", new String[] {"java.lang.String", "java.lang.String"}, new Object[] {"a", "b"}, List.of("admin"), "jmx.acl.kafka.kafka.Log4jController"),
                Arguments.of("kafka:type=kafka.Log4jController", "getLogLevel", new String[] {"java.lang.String"}, new Object[] {"a"}, List.of("viewer"), "jmx.acl"),
                Arguments.of("java.lang:type=Memory", "gc", new String[0], new Object[0], List.of("admin"), "jmx.acl"));
    }

    @ParameterizedTest
    @MethodSource("decisions")
    void decision(String name, String op, String[] sig, Object[] args, List<String> roles, String pid) throws Exception {
        Rules.Decision d = rules().required(new ObjectName(name), op, sig, args, true);
        assertEquals(roles, d.roles);
        assertEquals(pid, d.pid);
    }

    @Test
    void unknownArgumentsGiveEveryRoleThatCouldCall() throws Exception {
        Rules.Decision d = rules().required(new ObjectName("kafka.log:type=LogManager"), "flush",
                new String[] {"java.lang.String"}, null, false);
        assertEquals(Set.of("manager", "auditor", "operator"), Set.copyOf(d.roles));
        d = rules().required(new ObjectName("demo:type=Demo"), "setLevel",
                new String[] {"java.lang.String", "java.lang.String"}, null, false);
        assertEquals(Set.of("manager", "admin"), Set.copyOf(d.roles));
    }

    @Test
    void usersGroupsAndAdmin() {
        Rules r = rules();
        assertEquals(Set.of("viewer"), r.rolesOf("alice"));
        assertEquals(Set.of("viewer", "manager"), r.rolesOf("bob"));
        assertEquals(Set.of("admin"), r.rolesOf("root"));
        assertEquals(Set.of(), r.rolesOf("mallory"));
        assertTrue(Rules.holds(r.rolesOf("root"), List.of("anything")));
        assertFalse(Rules.holds(r.rolesOf("alice"), List.of("manager")));
        assertTrue(Rules.holds(r.rolesOf("bob"), List.of("auditor", "manager")));
    }

    @Test
    void unknownGroupIsAnError() {
        Properties users = new Properties();
        users.setProperty("alice", "_g_:nope");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Rules.fromMaps(Map.of(), users, "t"));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    static Stream<Arguments> badKeys() {
        return Stream.of(
                Arguments.of("flush(java.lang.String", "no ')'"),
                Arguments.of("flush[/(/]", "bad regex"),
                Arguments.of("flush[topic]", "\"literal\" or /regex/"),
                Arguments.of("fl*sh", "'*' only"),
                Arguments.of("flush(java.lang.String,/x/)", "signature lists Java types"),
                Arguments.of("fl-ush", "in an operation name"),
                Arguments.of("flush[\"a\"", "expected"));
    }

    @ParameterizedTest
    @MethodSource("badKeys")
    void badKeysAreRefused(String key, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Rules.fromMaps(Map.of("jmx.acl.x", m(key, "admin")), new Properties(), "t"));
        assertTrue(e.getMessage().contains(message) && e.getMessage().contains("jmx.acl.x.cfg"), e.getMessage());
    }

    @Test
    void argumentShorthandInParentheses() {
        OperationRule r = OperationRule.parse("flush(/topic-.*/, \"x\")", "m");
        assertEquals(OperationRule.Kind.ARGUMENTS, r.kind);
        assertNull(r.signature);
        assertTrue(r.argumentsMatch(new Object[] {"topic-1", "x"}));
        assertFalse(r.argumentsMatch(new Object[] {"other", "x"}));
    }

    @Test
    void argumentsWithCommasAndSpacesInQuotes() {
        OperationRule r = OperationRule.parse("op(java.lang.String, int)[\"a, b\", /1|2/]", "x");
        assertEquals(OperationRule.Kind.ARGUMENTS, r.kind);
        assertEquals(List.of("java.lang.String", "int"), r.signature);
        assertTrue(r.argumentsMatch(new Object[] {"a, b", 2}));
        assertFalse(r.argumentsMatch(new Object[] {"a, b", 3}));
        assertFalse(r.argumentsMatch(new Object[] {null, 2}));
    }

    @Test
    void pidSegments() throws Exception {
        assertEquals(List.of("kafka.server", "BrokerTopicMetrics", "MessagesInPerSec", "t"),
                Rules.segments(new ObjectName("kafka.server:name=MessagesInPerSec,type=BrokerTopicMetrics,topic=t")));
        assertEquals(List.of("d", "v"), Rules.segments(new ObjectName("d:k=v")));
        assertEquals(List.of("d", "T", "\"a,b\"", "x"), Rules.segments(new ObjectName("d:name=\"a,b\",type=T,z=x")));
    }

    @Test
    void filesAreReloadedWhenTheyChange(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("jmx.users.cfg"), "alice = viewer\n");
        Files.writeString(dir.resolve("jmx.acl.java.lang.Memory.cfg"), "gc = admin\n");
        Guard g = new Guard(dir, Rules.denyAll("t"));
        assertTrue(g.reloadIfChanged());
        assertFalse(g.reloadIfChanged());
        assertEquals(1, g.generation());
        Path f = dir.resolve("jmx.acl.java.lang.Memory.cfg");
        Files.writeString(f, "gc = viewer\n");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 2000));
        assertTrue(g.reloadIfChanged());
        assertEquals(List.of("viewer"), g.rules().pidRulesFor("jmx.acl.java.lang.Memory").rolesFor("gc", new String[0], new Object[0], true));
        // a bad file keeps the rules in force
        Files.writeString(f, "gc[/(/] = viewer\n");
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + 4000));
        assertFalse(g.reloadIfChanged());
        assertEquals(2, g.generation());
        assertNull(g.rules().pidRulesFor("jmx.acl.nothing"));
        // removing a file is a change
        Files.delete(f);
        assertTrue(g.reloadIfChanged());
        assertNull(g.rules().pidRulesFor("jmx.acl.java.lang.Memory"));
    }
}

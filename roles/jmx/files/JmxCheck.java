// Copyright (c) kafkasec.tls contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
//
// A small JMX client for checks from outside (verify.yml, the tests): run as a single source file, no build
//   java JmxCheck.java --ca <CA PEM> --url <service URL> [--credentials <file>] <check> [arguments]
// --ca: the CA certificates (PEM) the client trusts, loaded in memory (no truststore, no password).
// --credentials: a properties file with username= and password= (never a command-line argument).
// --user: a user name alone (for wrong-password and verify, which need no password).
// --keystore: a PKCS12 file with the client's key and certificate, presented when the JVM asks for one
//   (com.sun.management.jmxremote.ssl.need.client.auth); its password is the first line of
//   --keystore-password-file (never a command-line argument).
// Checks (exit 0 when the check holds, 1 when it does not, 2 on a usage error):
//   read <object name> <attribute>    log in, print the attribute
//   invoke <object name> <operation>  log in, invoke a no-argument operation; prints "invoked" or "refused: ..."
//   refused-invoke <object> <op>      holds when the operation is refused (SecurityException)
//   anonymous                         holds when a login without credentials is refused
//   wrong-password                    holds when the user of --credentials with a wrong password is refused
//   no-tls                            holds when a client that does not speak TLS to the registry is refused
//   plain-registry <host> <port>      holds when a plain (non-TLS) RMI registry lookup is refused
//   registry-tls <host> <port>        holds when the registry answers a TLS lookup (lists jmxrmi)
//   verify <host> <port>              registry-tls, plain-registry, no-tls, anonymous and (with --credentials)
//                                     wrong-password in one JVM; holds when every one holds
//   session                           log in once, then one call per stdin line (tab-separated fields, '|'
//                                     between list items), one answer line each - "OK <value>", "DENIED <message>"
//                                     (a SecurityException) or "ERROR <class>: <message>":
//                                       get <object> <attribute>
//                                       invoke <object> <operation> [<type>|<type> [<arg>|<arg>]]  (String, int,
//                                         long, boolean arguments)
//                                       can <object> [<operation> [<type>|<type>]]  (the JMX guard's canInvoke)
//                                       names <object name pattern>  (the MBeans it matches, sorted)
//                                       ops <object>  (its operations, name(type,type) each, space-separated)
//                                     ('[Ljava.lang.String;' arguments: ','-separated, empty for none)
import java.io.FileInputStream;
import java.io.InputStream;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.rmi.ssl.SslRMIClientSocketFactory;

public class JmxCheck {
    static String url;
    static String[] credentials;

    public static void main(String[] argv) throws Exception {
        String ca = null, credFile = null, keystore = null, keystorePasswordFile = null;
        int i = 0;
        for (; i < argv.length && argv[i].startsWith("--"); i += 2) {
            switch (argv[i]) {
                case "--ca": ca = argv[i + 1]; break;
                case "--url": url = argv[i + 1]; break;
                case "--credentials": credFile = argv[i + 1]; break;
                case "--user": credentials = new String[] {argv[i + 1], null}; break;
                case "--keystore": keystore = argv[i + 1]; break;
                case "--keystore-password-file": keystorePasswordFile = argv[i + 1]; break;
                default: usage("unknown option " + argv[i]);
            }
        }
        if (i >= argv.length) usage("no check");
        String check = argv[i];
        String[] args = Arrays.copyOfRange(argv, i + 1, argv.length);
        if (ca != null) trust(ca, keystore, keystorePasswordFile);
        if (credFile != null) {
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(credFile)) { p.load(in); }
            credentials = new String[] {p.getProperty("username"), p.getProperty("password")};
        }
        switch (check) {
            case "read": {
                try (JMXConnector c = connect(credentials, true)) {
                    Object v = c.getMBeanServerConnection().getAttribute(new ObjectName(args[0]), args[1]);
                    System.out.println("read " + args[0] + " " + args[1] + " = " + v);
                }
                break;
            }
            case "invoke":
            case "refused-invoke": {
                boolean refused = false;
                try (JMXConnector c = connect(credentials, true)) {
                    MBeanServerConnection m = c.getMBeanServerConnection();
                    try {
                        m.invoke(new ObjectName(args[0]), args[1], new Object[0], new String[0]);
                        System.out.println("invoked " + args[0] + " " + args[1]);
                    } catch (SecurityException e) {
                        refused = true;
                        System.out.println("refused: " + e.getMessage());
                    }
                }
                if (refused != check.equals("refused-invoke")) System.exit(1);
                break;
            }
            case "anonymous":
                expectRefused("anonymous login", () -> connect(null, true));
                break;
            case "wrong-password": {
                byte[] b = new byte[12];
                new SecureRandom().nextBytes(b);
                String wrong = "wrong-" + java.util.Base64.getEncoder().encodeToString(b);
                expectRefused("wrong password", () -> connect(new String[] {credentials[0], wrong}, true));
                break;
            }
            case "no-tls":
                expectRefused("client without TLS", () -> connect(credentials, false));
                break;
            case "plain-registry":
                expectRefused("plain registry lookup",
                              () -> { LocateRegistry.getRegistry(args[0], Integer.parseInt(args[1])).list(); return null; });
                break;
            case "registry-tls": {
                Registry r = LocateRegistry.getRegistry(args[0], Integer.parseInt(args[1]), new SslRMIClientSocketFactory());
                String[] names = r.list();
                System.out.println("registry on TLS lists " + Arrays.toString(names));
                if (!Arrays.asList(names).contains("jmxrmi")) System.exit(1);
                break;
            }
            case "verify": {
                exitOnFailure = false;
                try {
                    Registry r = LocateRegistry.getRegistry(args[0], Integer.parseInt(args[1]), new SslRMIClientSocketFactory());
                    String[] names = r.list();
                    System.out.println("registry on TLS: lists " + Arrays.toString(names));
                    failed |= !Arrays.asList(names).contains("jmxrmi");
                } catch (Exception e) {
                    System.out.println("registry on TLS: FAILED (" + e + ")");
                    failed = true;
                }
                expectRefused("plain registry lookup",
                              () -> { LocateRegistry.getRegistry(args[0], Integer.parseInt(args[1])).list(); return null; });
                expectRefused("client without TLS", () -> connect(credentials, false));
                expectRefused("anonymous login", () -> connect(null, true));
                if (credentials != null) {
                    String wrong = "wrong-" + Long.toHexString(new SecureRandom().nextLong());
                    expectRefused("wrong password", () -> connect(new String[] {credentials[0], wrong}, true));
                }
                if (failed) System.exit(1);
                break;
            }
            case "session":
                session();
                break;
            default:
                usage("unknown check " + check);
        }
    }

    static void session() throws Exception {
        try (JMXConnector c = connect(credentials, true)) {
            MBeanServerConnection m = c.getMBeanServerConnection();
            java.io.BufferedReader in = new java.io.BufferedReader(
                new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) continue;
                String answer;
                try {
                    answer = "OK " + call(m, line.split("\t", -1));
                } catch (Exception e) {
                    Throwable t = e;
                    while (!(t instanceof SecurityException) && t.getCause() != null && t.getCause() != t) t = t.getCause();
                    answer = (t instanceof SecurityException ? "DENIED " : "ERROR " + t.getClass().getName() + ": ")
                             + t.getMessage();
                }
                System.out.println(answer.replace('\n', ' '));
                System.out.flush();
            }
        }
    }

    static String[] items(String s) { return s.isEmpty() ? new String[0] : s.split("\\|", -1); }

    static Object argument(String type, String value) {
        switch (type) {
            case "int": return Integer.parseInt(value);
            case "long": return Long.parseLong(value);
            case "boolean": return Boolean.parseBoolean(value);
            case "[Ljava.lang.String;": return value.isEmpty() ? new String[0] : value.split(",", -1);
            default: return value;
        }
    }

    static String call(MBeanServerConnection m, String[] f) throws Exception {
        switch (f[0]) {
            case "get":
                return String.valueOf(m.getAttribute(new ObjectName(f[1]), f[2]));
            case "invoke": {
                String[] sig = f.length > 3 ? items(f[3]) : new String[0];
                String[] raw = f.length > 4 ? items(f[4]) : new String[0];
                Object[] params = new Object[sig.length];
                for (int k = 0; k < sig.length; k++) params[k] = argument(sig[k], k < raw.length ? raw[k] : "");
                String r = String.valueOf(m.invoke(new ObjectName(f[1]), f[2], params, sig));
                return r.length() > 80 ? r.substring(0, 80) : r;
            }
            case "can": {
                ObjectName g = new ObjectName("kafkasec.jmx:type=Guard");
                String s = "java.lang.String";
                if (f.length == 2) return String.valueOf(m.invoke(g, "canInvoke", new Object[] {f[1]}, new String[] {s}));
                if (f.length == 3) {
                    return String.valueOf(m.invoke(g, "canInvoke", new Object[] {f[1], f[2]}, new String[] {s, s}));
                }
                return String.valueOf(m.invoke(g, "canInvoke", new Object[] {f[1], f[2], items(f[3])},
                                               new String[] {s, s, "[Ljava.lang.String;"}));
            }
            case "names":
                return String.valueOf(new java.util.TreeSet<>(m.queryNames(new ObjectName(f[1]), null)));
            case "ops": {
                java.util.TreeSet<String> ops = new java.util.TreeSet<>();
                for (javax.management.MBeanOperationInfo op : m.getMBeanInfo(new ObjectName(f[1])).getOperations()) {
                    StringBuilder b = new StringBuilder(op.getName()).append('(');
                    javax.management.MBeanParameterInfo[] ps = op.getSignature();
                    for (int k = 0; k < ps.length; k++) b.append(k > 0 ? "," : "").append(ps[k].getType());
                    ops.add(b.append(')').toString());
                }
                return String.join(" ", ops);
            }
            default:
                throw new IllegalArgumentException("unknown call " + f[0]);
        }
    }

    interface Attempt { Object run() throws Exception; }

    static boolean exitOnFailure = true;
    static boolean failed = false;

    static void expectRefused(String what, Attempt a) {
        try {
            Object o = a.run();
            if (o instanceof AutoCloseable) {
                try { ((AutoCloseable) o).close(); } catch (Exception ignored) { }
            }
            System.out.println(what + ": ACCEPTED");
            failed = true;
            if (exitOnFailure) System.exit(1);
        } catch (Exception e) {
            Throwable t = e;
            while (t.getCause() != null && t.getCause() != t) t = t.getCause();
            System.out.println(what + ": refused (" + e.getClass().getSimpleName() + ": " + e.getMessage()
                               + (t != e ? "; cause " + t.getClass().getSimpleName() + ": " + t.getMessage() : "") + ")");
        }
    }

    static JMXConnector connect(String[] creds, boolean tls) throws Exception {
        Map<String, Object> env = new HashMap<>();
        if (creds != null) env.put(JMXConnector.CREDENTIALS, creds);
        if (tls) env.put("com.sun.jndi.rmi.factory.socket", new SslRMIClientSocketFactory());
        return JMXConnectorFactory.connect(new JMXServiceURL(url), env);
    }

    static void trust(String pem, String keystore, String passwordFile) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        int n = 0;
        try (InputStream in = new FileInputStream(pem)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca-" + n++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        javax.net.ssl.KeyManager[] keyManagers = null;
        if (keystore != null) {
            String line = java.nio.file.Files.readAllLines(java.nio.file.Paths.get(passwordFile)).get(0).trim();
            char[] password = line.toCharArray();
            KeyStore client = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(keystore)) { client.load(in, password); }
            javax.net.ssl.KeyManagerFactory kmf =
                javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(client, password);
            keyManagers = kmf.getKeyManagers();
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(keyManagers, tmf.getTrustManagers(), null);
        SSLContext.setDefault(ctx);
    }

    static void usage(String why) {
        System.err.println("JmxCheck: " + why + "\nusage: java JmxCheck.java --ca <pem> --url <service URL> "
                           + "[--credentials <file>] [--keystore <p12> --keystore-password-file <file>] "
                           + "read|invoke|refused-invoke|anonymous|wrong-password|no-tls|"
                           + "plain-registry|registry-tls|verify|session [arguments]");
        System.exit(2);
    }
}

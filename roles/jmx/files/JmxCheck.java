// Copyright (c) kafkasec.tls contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
//
// A small JMX client for checks from outside (verify.yml, the tests): run as a single source file, no build
//   java JmxCheck.java --ca <CA PEM> --url <service URL> [--credentials <file>] <check> [arguments]
// --ca: the CA certificates (PEM) the client trusts, loaded in memory (no truststore, no password).
// --credentials: a properties file with username= and password= (never a command-line argument).
// --user: a user name alone (for wrong-password and verify, which need no password).
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
        String ca = null, credFile = null;
        int i = 0;
        for (; i < argv.length && argv[i].startsWith("--"); i += 2) {
            switch (argv[i]) {
                case "--ca": ca = argv[i + 1]; break;
                case "--url": url = argv[i + 1]; break;
                case "--credentials": credFile = argv[i + 1]; break;
                case "--user": credentials = new String[] {argv[i + 1], null}; break;
                default: usage("unknown option " + argv[i]);
            }
        }
        if (i >= argv.length) usage("no check");
        String check = argv[i];
        String[] args = Arrays.copyOfRange(argv, i + 1, argv.length);
        if (ca != null) trust(ca);
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
            default:
                usage("unknown check " + check);
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

    static void trust(String pem) throws Exception {
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
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        SSLContext.setDefault(ctx);
    }

    static void usage(String why) {
        System.err.println("JmxCheck: " + why + "\nusage: java JmxCheck.java --ca <pem> --url <service URL> "
                           + "[--credentials <file>] read|invoke|refused-invoke|anonymous|wrong-password|no-tls|"
                           + "plain-registry|registry-tls|verify [arguments]");
        System.exit(2);
    }
}

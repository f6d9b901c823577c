// What a JVM started with KAFKA_OPTS from kafkasec.tls.connect sees: the javax.net.ssl.* system
// properties (read from the command line and from @argument files by the java launcher), and
// whether the JDK's default SSLContext, which connectors use for their own TLS connections,
// comes up with them (it fails on a wrong store password).
//
//   java [KAFKA_OPTS...] JvmSslDump [--wait FILE] NAME...
//
// Prints {"properties": {NAME: value|null}, "keystore_aliases": [...], "truststore_aliases": [...],
// "default_context": "ok"|"error: ..."}. With --wait, prints "ready" first and waits until FILE
// exists (so a test can read /proc/<pid>/cmdline meanwhile).

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLContext;

public class JvmSslDump {
    static String json(String s) {
        if (s == null) return "null";
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }

    static String aliases(String prefix) {
        String path = System.getProperty("javax.net.ssl." + prefix);
        String type = System.getProperty("javax.net.ssl." + prefix + "Type", KeyStore.getDefaultType());
        String password = System.getProperty("javax.net.ssl." + prefix + "Password");
        if (path == null) return "null";
        try (InputStream in = new FileInputStream(path)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password == null ? null : password.toCharArray());
            List<String> names = new ArrayList<>(Collections.list(store.aliases()));
            Collections.sort(names);
            StringBuilder out = new StringBuilder("[");
            for (int i = 0; i < names.size(); i++) out.append(i > 0 ? "," : "").append(json(names.get(i)));
            return out.append("]").toString();
        } catch (Exception e) {
            return json("error: " + e);
        }
    }

    public static void main(String[] args) throws Exception {
        int start = 0;
        if (args.length > 1 && args[0].equals("--wait")) {
            System.out.println("ready");
            System.out.flush();
            while (!Files.exists(Paths.get(args[1]))) Thread.sleep(50);
            start = 2;
        }
        StringBuilder out = new StringBuilder("{\"properties\":{");
        for (int i = start; i < args.length; i++) {
            out.append(i > start ? "," : "").append(json(args[i])).append(":").append(json(System.getProperty(args[i])));
        }
        out.append("},\"keystore_aliases\":").append(aliases("keyStore"));
        out.append(",\"truststore_aliases\":").append(aliases("trustStore"));
        String context;
        try {
            SSLContext.getDefault().createSSLEngine();
            context = "ok";
        } catch (Exception e) {
            context = "error: " + e;
        }
        out.append(",\"default_context\":").append(json(context)).append("}");
        System.out.println(out);
    }
}

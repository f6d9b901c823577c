// Parses JAAS configuration the two ways Kafka deployments meet it and prints
// what Java sees, so tests can check quoting against the real parsers.
//
//   java JaasDump.java file JAAS_FILE APP...
//       The JDK's own JAAS file parser (sun.security.provider.ConfigFile), as
//       used for -Djava.security.auth.login.config (ZooKeeper, KafkaServer
//       sections): Configuration.getInstance("JavaLoginConfig", URIParameter).
//       Prints {"APP": [entries] | {"error": "..."}, ...}.
//
//   java -cp kafka-clients.jar JaasDump.java kafka PROPERTIES_FILE
//       Loads the file as Kafka's Utils.loadProps does (Files.newInputStream +
//       Properties.load(InputStream)) and parses every value with Kafka's own
//       org.apache.kafka.common.security.JaasConfig (the sasl.jaas.config
//       parser), found by reflection so this file compiles without Kafka.
//       Prints {"KEY": [entries] | {"error": "..."}, ...}.
//
// An entry is {"module": "...", "flag": "required", "options": {...}}. JSON
// strings escape everything outside printable ASCII as \\uXXXX.

import java.io.File;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.URIParameter;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;

public class JaasDump {
    static String json(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    static String flag(AppConfigurationEntry.LoginModuleControlFlag flag) {
        if (flag == AppConfigurationEntry.LoginModuleControlFlag.REQUIRED) return "required";
        if (flag == AppConfigurationEntry.LoginModuleControlFlag.REQUISITE) return "requisite";
        if (flag == AppConfigurationEntry.LoginModuleControlFlag.SUFFICIENT) return "sufficient";
        if (flag == AppConfigurationEntry.LoginModuleControlFlag.OPTIONAL) return "optional";
        return String.valueOf(flag);
    }

    static String entries(AppConfigurationEntry[] entries) {
        if (entries == null) {
            return "{\"error\":\"no such entry\"}";
        }
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < entries.length; i++) {
            if (i > 0) out.append(',');
            AppConfigurationEntry e = entries[i];
            out.append("{\"module\":").append(json(e.getLoginModuleName()));
            out.append(",\"flag\":").append(json(flag(e.getControlFlag())));
            out.append(",\"options\":{");
            boolean first = true;
            for (Map.Entry<String, ?> option : new TreeMap<String, Object>(e.getOptions()).entrySet()) {
                if (!first) out.append(',');
                first = false;
                out.append(json(option.getKey())).append(':').append(json(String.valueOf(option.getValue())));
            }
            out.append("}}");
        }
        return out.append(']').toString();
    }

    static String error(Throwable t) {
        if (t instanceof InvocationTargetException && t.getCause() != null) {
            t = t.getCause();
        }
        return "{\"error\":" + json(t.getClass().getName() + ": " + t.getMessage()) + "}";
    }

    static void file(String path, String[] apps) {
        StringBuilder out = new StringBuilder("{");
        Configuration config = null;
        String failure = null;
        try {
            config = Configuration.getInstance("JavaLoginConfig", new URIParameter(new File(path).toURI()));
        } catch (Throwable t) {
            failure = error(t);
        }
        for (int i = 0; i < apps.length; i++) {
            if (i > 0) out.append(',');
            out.append(json(apps[i])).append(':');
            if (failure != null) {
                out.append(failure);
                continue;
            }
            try {
                out.append(entries(config.getAppConfigurationEntry(apps[i])));
            } catch (Throwable t) {
                out.append(error(t));
            }
        }
        System.out.println(out.append('}'));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void kafka(String path) throws Exception {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Paths.get(path))) {
            props.load(in);
        }
        Class<?> jaasConfig = Class.forName("org.apache.kafka.common.security.JaasConfig");
        // JaasConfig is package-private (its constructor is public).
        Constructor<?> constructor = jaasConfig.getConstructor(String.class, String.class);
        constructor.setAccessible(true);
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (String key : new TreeMap<String, String>((Map) props).keySet()) {
            if (!first) out.append(',');
            first = false;
            out.append(json(key)).append(':');
            try {
                Configuration config = (Configuration) constructor.newInstance("KafkaClient", props.getProperty(key));
                out.append(entries(config.getAppConfigurationEntry("KafkaClient")));
            } catch (Throwable t) {
                out.append(error(t));
            }
        }
        System.out.println(out.append('}'));
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("file")) {
            String[] apps = new String[args.length - 2];
            System.arraycopy(args, 2, apps, 0, apps.length);
            file(args[1], apps);
        } else if (args.length == 2 && args[0].equals("kafka")) {
            kafka(args[1]);
        } else {
            System.err.println("usage: JaasDump file JAAS_FILE APP... | JaasDump kafka PROPERTIES_FILE");
            System.exit(2);
        }
    }
}

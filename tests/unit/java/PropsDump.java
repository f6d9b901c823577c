// Reads .properties files the way Kafka does and prints what Java sees.
//
// Kafka's Utils.loadProps opens the file with Files.newInputStream and calls
// java.util.Properties.load(InputStream), which decodes ISO-8859-1. This
// program does exactly that. Run it with the single-file source launcher:
//
//   java PropsDump.java FILE...
//       one JSON line per file: {"ok":{"key":"value",...}} or {"error":"..."}
//   java PropsDump.java --store FILE
//       FILE holds lines "KEYHEX<TAB>VALUEHEX" (UTF-16 code units, 4 hex digits
//       each); prints, per line, the entry line that Properties.store(OutputStream)
//       writes for that pair, as a JSON string.
//
// JSON strings escape everything outside printable ASCII as \\uXXXX, so the
// output is exact for any Java string (including lone surrogates).

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

public class PropsDump {
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

    static String fromHex(String hex) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i + 4 <= hex.length(); i += 4) {
            out.append((char) Integer.parseInt(hex.substring(i, i + 4), 16));
        }
        return out.toString();
    }

    static void dump(String file) {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Paths.get(file))) {
            props.load(in);
        } catch (Exception e) {
            System.out.println("{\"error\":" + json(e.getClass().getName() + ": " + e.getMessage()) + "}");
            return;
        }
        Map<String, String> sorted = new TreeMap<>();
        for (String name : props.stringPropertyNames()) {
            sorted.put(name, props.getProperty(name));
        }
        StringBuilder out = new StringBuilder("{\"ok\":{");
        boolean first = true;
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            out.append(json(e.getKey())).append(':').append(json(e.getValue()));
        }
        System.out.println(out.append("}}"));
    }

    static void store(String file) throws Exception {
        List<String> lines = Files.readAllLines(Paths.get(file), StandardCharsets.US_ASCII);
        for (String line : lines) {
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\t", -1);
            Properties props = new Properties();
            props.setProperty(fromHex(parts[0]), fromHex(parts[1]));
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            props.store(buffer, null);
            String written = buffer.toString(StandardCharsets.ISO_8859_1);
            // store() writes a "#date" comment line first, then the entry line.
            String[] out = written.split("\r?\n|\r");
            System.out.println(json(out[out.length - 1]));
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("--store")) {
            store(args[1]);
            return;
        }
        for (String file : args) {
            dump(file);
        }
    }
}

package io.kafkasec.jmxguard;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One key of a {@code jmx.acl*.cfg} file, parsed once at load time (Karaf's grammar):
 * <pre>
 *   *  get*  *Size  *Log*          wildcard on the operation name
 *   flush                          the name, any signature
 *   flush(java.lang.String)        the name and the exact signature (types, comma-separated)
 *   flush(java.lang.String)["x"]   ... and the arguments: each "literal" or /regex/ (full match)
 *   flush[/.*&#47;]                    arguments without a signature
 *   flush(/.*&#47;)                    the same (shorthand: arguments in parentheses)
 * </pre>
 */
final class OperationRule {
    enum Kind { WILDCARD, NAME, SIGNATURE, ARGUMENTS }

    final String key;
    final Kind kind;
    final String name;              // the name, or the wildcard text without its '*'
    final boolean prefix;           // wildcard: "get*"
    final boolean suffix;           // wildcard: "*Size"
    final List<String> signature;   // null = any signature
    final List<Object> arguments;   // String literal or Pattern; null = no argument rule
    final List<String> roles;

    private OperationRule(String key, Kind kind, String name, boolean prefix, boolean suffix,
                          List<String> signature, List<Object> arguments, List<String> roles) {
        this.key = key;
        this.kind = kind;
        this.name = name;
        this.prefix = prefix;
        this.suffix = suffix;
        this.signature = signature;
        this.arguments = arguments;
        this.roles = roles;
    }

    static List<String> parseRoles(String value) {
        int hash = value.indexOf('#');
        if (hash >= 0) {
            value = value.substring(0, hash);
        }
        List<String> roles = new ArrayList<>();
        for (String r : value.split(",")) {
            String t = r.trim();
            if (!t.isEmpty()) {
                roles.add(t);
            }
        }
        return Collections.unmodifiableList(roles);
    }

    /** Parse one key; throws IllegalArgumentException naming the key when it is not of the grammar. */
    static OperationRule parse(String rawKey, String value) {
        String key = rawKey.trim();
        List<String> roles = parseRoles(value);
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty operation key");
        }
        int paren = key.indexOf('(');
        int bracket = key.indexOf('[');
        if (paren < 0 && bracket < 0) {
            if (key.indexOf('*') >= 0) {
                boolean suffix = key.startsWith("*");
                boolean prefix = key.endsWith("*");
                String core = key.substring(suffix ? 1 : 0, prefix && key.length() > 1 ? key.length() - 1 : key.length());
                if (core.indexOf('*') >= 0) {
                    throw new IllegalArgumentException("'" + key + "': '*' only at the start or the end");
                }
                checkName(key, core, true);
                return new OperationRule(key, Kind.WILDCARD, core, prefix, suffix, null, null, roles);
            }
            checkName(key, key, false);
            return new OperationRule(key, Kind.NAME, key, false, false, null, null, roles);
        }
        int nameEnd = paren >= 0 && (bracket < 0 || paren < bracket) ? paren : bracket;
        String name = key.substring(0, nameEnd).trim();
        checkName(key, name, false);
        String rest = key.substring(nameEnd);
        List<String> signature = null;
        if (rest.startsWith("(") && rest.endsWith(")") && rest.length() > 2
                && (rest.charAt(1) == '/' || rest.charAt(1) == '"')) {
            // shorthand: op(/regex/,"literal") = op[/regex/,"literal"] (arguments, any signature)
            List<Object> args = parseArguments(key, rest.substring(1, rest.length() - 1));
            return new OperationRule(key, Kind.ARGUMENTS, name, false, false, null,
                    Collections.unmodifiableList(args), roles);
        }
        if (rest.startsWith("(")) {
            int close = rest.indexOf(')');
            if (close < 0) {
                throw new IllegalArgumentException("'" + key + "': no ')' closes the signature");
            }
            String sig = rest.substring(1, close).replace(" ", "");
            List<String> types = new ArrayList<>();
            if (!sig.isEmpty()) {
                for (String t : sig.split(",", -1)) {
                    if (t.isEmpty() || t.startsWith("/") || t.startsWith("\"")) {
                        throw new IllegalArgumentException("'" + key + "': the signature lists Java types"
                                + " (write arguments as op(types)[\"literal\",/regex/] or op[/regex/])");
                    }
                    types.add(t);
                }
            }
            signature = Collections.unmodifiableList(types);
            rest = rest.substring(close + 1).trim();
        }
        if (rest.isEmpty()) {
            return new OperationRule(key, Kind.SIGNATURE, name, false, false, signature, null, roles);
        }
        if (!rest.startsWith("[") || !rest.endsWith("]")) {
            throw new IllegalArgumentException("'" + key + "': expected [\"literal\" or /regex/, ...] after the name");
        }
        List<Object> args = parseArguments(key, rest.substring(1, rest.length() - 1));
        return new OperationRule(key, Kind.ARGUMENTS, name, false, false, signature,
                Collections.unmodifiableList(args), roles);
    }

    private static void checkName(String key, String name, boolean wildcard) {
        if (name.isEmpty()) {
            if (wildcard) {
                return;
            }
            throw new IllegalArgumentException("'" + key + "': no operation name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(Character.isJavaIdentifierPart(c) || c == '.')) {
                throw new IllegalArgumentException("'" + key + "': '" + c + "' in an operation name");
            }
        }
    }

    private static List<Object> parseArguments(String key, String body) {
        List<Object> args = new ArrayList<>();
        int i = 0;
        int n = body.length();
        while (true) {
            while (i < n && body.charAt(i) == ' ') {
                i++;
            }
            if (i >= n) {
                throw new IllegalArgumentException("'" + key + "': an argument is missing");
            }
            char q = body.charAt(i);
            if (q != '"' && q != '/') {
                throw new IllegalArgumentException("'" + key + "': each argument is \"literal\" or /regex/");
            }
            // the closing quote is the one followed by optional spaces and ',' or the end (Karaf's rule)
            int j = i + 1;
            int end = -1;
            while (j < n) {
                if (body.charAt(j) == q) {
                    int k = j + 1;
                    while (k < n && body.charAt(k) == ' ') {
                        k++;
                    }
                    if (k >= n || body.charAt(k) == ',') {
                        end = j;
                        break;
                    }
                }
                j++;
            }
            if (end < 0) {
                throw new IllegalArgumentException("'" + key + "': an argument is not closed by " + q);
            }
            String text = body.substring(i + 1, end);
            if (q == '/') {
                try {
                    args.add(Pattern.compile(text));
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("'" + key + "': bad regex /" + text + "/: " + e.getDescription());
                }
            } else {
                args.add(text);
            }
            i = end + 1;
            while (i < n && body.charAt(i) == ' ') {
                i++;
            }
            if (i >= n) {
                return args;
            }
            i++; // the comma
        }
    }

    boolean nameMatches(String op) {
        if (kind != Kind.WILDCARD) {
            return name.equals(op);
        }
        if (prefix && suffix) {
            return op.contains(name);
        }
        if (prefix) {
            return op.startsWith(name);
        }
        return op.endsWith(name);
    }

    boolean signatureMatches(String[] sig) {
        if (signature == null) {
            return true;
        }
        if (sig == null) {
            return false;
        }
        if (sig.length != signature.size()) {
            return false;
        }
        for (int i = 0; i < sig.length; i++) {
            if (!signature.get(i).equals(sig[i])) {
                return false;
            }
        }
        return true;
    }

    boolean argumentsMatch(Object[] params) {
        if (params == null || params.length != arguments.size()) {
            return false;
        }
        for (int i = 0; i < params.length; i++) {
            if (params[i] == null) {
                return false;
            }
            String text = params[i].toString().trim();
            Object m = arguments.get(i);
            if (m instanceof Pattern) {
                if (!((Pattern) m).matcher(text).matches()) {
                    return false;
                }
            } else if (!m.equals(text)) {
                return false;
            }
        }
        return true;
    }
}

package io.kafkasec.jmxguard;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The rules of one PID ({@code jmx.acl.kafka.log.LogManager}), in Karaf's order of specificity. */
final class PidRules {
    final String pid;
    final List<OperationRule> rules;

    PidRules(String pid, List<OperationRule> rules) {
        this.pid = pid;
        this.rules = Collections.unmodifiableList(new ArrayList<>(rules));
    }

    static PidRules parse(String pid, Map<String, String> entries) {
        List<OperationRule> rules = new ArrayList<>();
        for (Map.Entry<String, String> e : entries.entrySet()) {
            rules.add(OperationRule.parse(e.getKey(), e.getValue()));
        }
        return new PidRules(pid, rules);
    }

    /**
     * The roles that may call {@code op}, or null when no rule of this PID speaks of it (the caller then asks the
     * next, less specific PID). With {@code paramsKnown} false (canInvoke), the answer is every role that could call
     * it with some arguments.
     */
    List<String> rolesFor(String op, String[] sig, Object[] params, boolean paramsKnown) {
        if (paramsKnown) {
            // 1. argument rules with this signature, then the signature rule
            List<String> r = argumentRoles(op, sig, false, params);
            if (r != null) {
                return r;
            }
            OperationRule s = find(op, sig, false);
            if (s != null) {
                return s.roles;
            }
            // 2. argument rules without a signature, then the bare name
            r = argumentRoles(op, sig, true, params);
            if (r != null) {
                return r;
            }
            s = find(op, sig, true);
            if (s != null) {
                return s.roles;
            }
            return wildcard(op);
        }
        Set<String> roles = new LinkedHashSet<>();
        boolean matched = false;
        for (OperationRule rule : rules) {
            if (rule.kind == OperationRule.Kind.ARGUMENTS && rule.name.equals(op) && rule.signatureMatches(sig)) {
                roles.addAll(rule.roles);
                matched = true;
            }
        }
        OperationRule s = find(op, sig, false);
        if (s == null) {
            s = find(op, sig, true);
        }
        if (s != null) {
            roles.addAll(s.roles);
            matched = true;
        } else {
            List<String> w = wildcard(op);
            if (w != null) {
                roles.addAll(w);
                matched = true;
            }
        }
        return matched ? new ArrayList<>(roles) : null;
    }

    private List<String> argumentRoles(String op, String[] sig, boolean sigless, Object[] params) {
        List<String> roles = null;
        for (OperationRule rule : rules) {
            if (rule.kind != OperationRule.Kind.ARGUMENTS || !rule.name.equals(op)) {
                continue;
            }
            if ((rule.signature == null) != sigless || !rule.signatureMatches(sig)) {
                continue;
            }
            if (rule.argumentsMatch(params)) {
                if (roles == null) {
                    roles = new ArrayList<>();
                }
                roles.addAll(rule.roles);
            }
        }
        return roles;
    }

    /** The signature rule {@code op(types)} (sigless false) or the name rule {@code op} (sigless true). */
    private OperationRule find(String op, String[] sig, boolean sigless) {
        for (OperationRule rule : rules) {
            if (sigless) {
                if (rule.kind == OperationRule.Kind.NAME && rule.name.equals(op)) {
                    return rule;
                }
            } else if (rule.kind == OperationRule.Kind.SIGNATURE && rule.name.equals(op)
                    && rule.signature != null && rule.signatureMatches(sig)) {
                return rule;
            }
        }
        return null;
    }

    /** The longest matching wildcard wins ({@code getLog*} before {@code get*} before {@code *}). */
    private List<String> wildcard(String op) {
        OperationRule best = null;
        for (OperationRule rule : rules) {
            if (rule.kind == OperationRule.Kind.WILDCARD && rule.nameMatches(op)
                    && (best == null || rule.name.length() > best.name.length())) {
                best = rule;
            }
        }
        return best == null ? null : best.roles;
    }
}

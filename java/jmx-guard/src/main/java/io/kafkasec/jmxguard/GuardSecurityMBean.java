package io.kafkasec.jmxguard;

import java.util.List;
import java.util.Map;
import javax.management.openmbean.TabularData;

/**
 * {@code kafkasec.jmx:type=Guard}: what the calling user may do, as Karaf's JMXSecurityMBean asks it. Every
 * authenticated user may call it; it answers only about the caller.
 */
public interface GuardSecurityMBean {
    /** Whether the caller may call any operation or read or write any attribute of the MBean. */
    boolean canInvoke(String objectName) throws Exception;

    /** Whether the caller may call some overload of the operation (or the attribute accessor getX/isX/setX). */
    boolean canInvoke(String objectName, String methodName) throws Exception;

    /** Whether the caller may call the operation with this signature (with some arguments, if argument rules apply). */
    boolean canInvoke(String objectName, String methodName, String[] argumentTypes) throws Exception;

    /**
     * Bulk: ObjectName to a list of methods ("name" or "name(type,...)"; an empty list asks about the MBean); rows of
     * (ObjectName, Method, CanInvoke).
     */
    TabularData canInvoke(Map<String, List<String>> bulkQuery) throws Exception;

    /** The caller's user name (null in process). */
    String getCurrentUser();

    /** The caller's roles, from the users file and its groups. */
    String[] getCurrentRoles();

    /** How many times the rules have been (re)loaded. */
    long getGeneration();

    /** The rules directory. */
    String getRulesSource();
}

package io.kafkasec.jmxguard;

import java.io.ObjectInputStream;
import java.util.List;
import java.util.Set;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.IntrospectionException;
import javax.management.InvalidAttributeValueException;
import javax.management.ListenerNotFoundException;
import javax.management.MBeanException;
import javax.management.MBeanInfo;
import javax.management.MBeanRegistrationException;
import javax.management.MBeanServer;
import javax.management.NotCompliantMBeanException;
import javax.management.NotificationFilter;
import javax.management.NotificationListener;
import javax.management.ObjectInstance;
import javax.management.ObjectName;
import javax.management.OperationsException;
import javax.management.QueryExp;
import javax.management.ReflectionException;
import javax.management.loading.ClassLoaderRepository;

/**
 * The MBeanServer every caller sees: each call that reads, writes, invokes or (un)registers is checked against the
 * rules for the authenticated user first; in-process callers (no Subject) pass. Everything else is forwarded as is.
 */
final class GuardedMBeanServer implements MBeanServer {
    private final Guard guard;
    private volatile MBeanServer delegate;
    private volatile Enforcer enforcer;

    GuardedMBeanServer(Guard guard) {
        this.guard = guard;
    }

    void setDelegate(MBeanServer delegate) {
        this.delegate = delegate;
        this.enforcer = new Enforcer(guard, delegate);
    }

    Enforcer enforcer() {
        return enforcer;
    }

    private void requireAdmin(String what) {
        Guard.Caller c = Guard.caller();
        if (c == null) {
            return;
        }
        Set<String> roles = guard.rolesOf(c);
        if (!roles.contains(Rules.ADMIN_ROLE)) {
            throw Guard.denied(c, roles, what, List.of(Rules.ADMIN_ROLE), null);
        }
    }

    // ---- guarded ----

    @Override
    public ObjectInstance createMBean(String className, ObjectName name) throws ReflectionException,
            InstanceAlreadyExistsException, MBeanRegistrationException, MBeanException, NotCompliantMBeanException {
        requireAdmin("create an MBean of " + className);
        return delegate.createMBean(className, name);
    }

    @Override
    public ObjectInstance createMBean(String className, ObjectName name, ObjectName loaderName)
            throws ReflectionException, InstanceAlreadyExistsException, MBeanRegistrationException, MBeanException,
            NotCompliantMBeanException, InstanceNotFoundException {
        requireAdmin("create an MBean of " + className);
        return delegate.createMBean(className, name, loaderName);
    }

    @Override
    public ObjectInstance createMBean(String className, ObjectName name, Object[] params, String[] signature)
            throws ReflectionException, InstanceAlreadyExistsException, MBeanRegistrationException, MBeanException,
            NotCompliantMBeanException {
        requireAdmin("create an MBean of " + className);
        return delegate.createMBean(className, name, params, signature);
    }

    @Override
    public ObjectInstance createMBean(String className, ObjectName name, ObjectName loaderName, Object[] params,
                                      String[] signature) throws ReflectionException, InstanceAlreadyExistsException,
            MBeanRegistrationException, MBeanException, NotCompliantMBeanException, InstanceNotFoundException {
        requireAdmin("create an MBean of " + className);
        return delegate.createMBean(className, name, loaderName, params, signature);
    }

    @Override
    public ObjectInstance registerMBean(Object object, ObjectName name) throws InstanceAlreadyExistsException,
            MBeanRegistrationException, NotCompliantMBeanException {
        requireAdmin("register an MBean");
        return delegate.registerMBean(object, name);
    }

    @Override
    public void unregisterMBean(ObjectName name) throws InstanceNotFoundException, MBeanRegistrationException {
        requireAdmin("unregister " + name);
        delegate.unregisterMBean(name);
    }

    @Override
    public Object getAttribute(ObjectName name, String attribute) throws MBeanException, AttributeNotFoundException,
            InstanceNotFoundException, ReflectionException {
        Guard.Caller c = Guard.caller();
        if (c != null) {
            Set<String> roles = guard.rolesOf(c);
            String refusal = enforcer.refuseGet(c, roles, name, attribute);
            if (refusal != null) {
                throw new SecurityException(refusal);
            }
        }
        return delegate.getAttribute(name, attribute);
    }

    @Override
    public AttributeList getAttributes(ObjectName name, String[] attributes) throws InstanceNotFoundException,
            ReflectionException {
        Guard.Caller c = Guard.caller();
        if (c == null || attributes == null) {
            return delegate.getAttributes(name, attributes);
        }
        // like a failing getter: an attribute the caller may not read is left out of the result
        Set<String> roles = guard.rolesOf(c);
        String[] allowed = java.util.Arrays.stream(attributes)
                .filter(a -> a != null && enforcer.refuseGet(c, roles, name, a) == null).toArray(String[]::new);
        return delegate.getAttributes(name, allowed);
    }

    @Override
    public void setAttribute(ObjectName name, Attribute attribute) throws InstanceNotFoundException,
            AttributeNotFoundException, InvalidAttributeValueException, MBeanException, ReflectionException {
        Guard.Caller c = Guard.caller();
        if (c != null && attribute != null) {
            String refusal = enforcer.refuseSet(c, guard.rolesOf(c), name, attribute);
            if (refusal != null) {
                throw new SecurityException(refusal);
            }
        }
        delegate.setAttribute(name, attribute);
    }

    @Override
    public AttributeList setAttributes(ObjectName name, AttributeList attributes) throws InstanceNotFoundException,
            ReflectionException {
        Guard.Caller c = Guard.caller();
        if (c == null || attributes == null) {
            return delegate.setAttributes(name, attributes);
        }
        Set<String> roles = guard.rolesOf(c);
        AttributeList allowed = new AttributeList();
        for (Attribute a : attributes.asList()) {
            if (enforcer.refuseSet(c, roles, name, a) == null) {
                allowed.add(a);
            }
        }
        return delegate.setAttributes(name, allowed);
    }

    @Override
    public Object invoke(ObjectName name, String operationName, Object[] params, String[] signature)
            throws InstanceNotFoundException, MBeanException, ReflectionException {
        Guard.Caller c = Guard.caller();
        if (c != null) {
            String refusal = enforcer.refuseInvoke(c, guard.rolesOf(c), name, operationName,
                    params == null ? new Object[0] : params, signature, true);
            if (refusal != null) {
                throw new SecurityException(refusal);
            }
        }
        return delegate.invoke(name, operationName, params, signature);
    }

    // ---- forwarded ----

    @Override
    public ObjectInstance getObjectInstance(ObjectName name) throws InstanceNotFoundException {
        return delegate.getObjectInstance(name);
    }

    @Override
    public Set<ObjectInstance> queryMBeans(ObjectName name, QueryExp query) {
        return delegate.queryMBeans(name, query);
    }

    @Override
    public Set<ObjectName> queryNames(ObjectName name, QueryExp query) {
        return delegate.queryNames(name, query);
    }

    @Override
    public boolean isRegistered(ObjectName name) {
        return delegate.isRegistered(name);
    }

    @Override
    public Integer getMBeanCount() {
        return delegate.getMBeanCount();
    }

    @Override
    public String getDefaultDomain() {
        return delegate.getDefaultDomain();
    }

    @Override
    public String[] getDomains() {
        return delegate.getDomains();
    }

    @Override
    public void addNotificationListener(ObjectName name, NotificationListener listener, NotificationFilter filter,
                                        Object handback) throws InstanceNotFoundException {
        delegate.addNotificationListener(name, listener, filter, handback);
    }

    @Override
    public void addNotificationListener(ObjectName name, ObjectName listener, NotificationFilter filter,
                                        Object handback) throws InstanceNotFoundException {
        delegate.addNotificationListener(name, listener, filter, handback);
    }

    @Override
    public void removeNotificationListener(ObjectName name, ObjectName listener) throws InstanceNotFoundException,
            ListenerNotFoundException {
        delegate.removeNotificationListener(name, listener);
    }

    @Override
    public void removeNotificationListener(ObjectName name, ObjectName listener, NotificationFilter filter,
                                           Object handback) throws InstanceNotFoundException, ListenerNotFoundException {
        delegate.removeNotificationListener(name, listener, filter, handback);
    }

    @Override
    public void removeNotificationListener(ObjectName name, NotificationListener listener)
            throws InstanceNotFoundException, ListenerNotFoundException {
        delegate.removeNotificationListener(name, listener);
    }

    @Override
    public void removeNotificationListener(ObjectName name, NotificationListener listener, NotificationFilter filter,
                                           Object handback) throws InstanceNotFoundException, ListenerNotFoundException {
        delegate.removeNotificationListener(name, listener, filter, handback);
    }

    @Override
    public MBeanInfo getMBeanInfo(ObjectName name) throws InstanceNotFoundException, IntrospectionException,
            ReflectionException {
        return delegate.getMBeanInfo(name);
    }

    @Override
    public boolean isInstanceOf(ObjectName name, String className) throws InstanceNotFoundException {
        return delegate.isInstanceOf(name, className);
    }

    @Override
    public Object instantiate(String className) throws ReflectionException, MBeanException {
        return delegate.instantiate(className);
    }

    @Override
    public Object instantiate(String className, ObjectName loaderName) throws ReflectionException, MBeanException,
            InstanceNotFoundException {
        return delegate.instantiate(className, loaderName);
    }

    @Override
    public Object instantiate(String className, Object[] params, String[] signature) throws ReflectionException,
            MBeanException {
        return delegate.instantiate(className, params, signature);
    }

    @Override
    public Object instantiate(String className, ObjectName loaderName, Object[] params, String[] signature)
            throws ReflectionException, MBeanException, InstanceNotFoundException {
        return delegate.instantiate(className, loaderName, params, signature);
    }

    @Override
    @SuppressWarnings("deprecation")
    public ObjectInputStream deserialize(ObjectName name, byte[] data) throws OperationsException {
        return delegate.deserialize(name, data);
    }

    @Override
    @SuppressWarnings("deprecation")
    public ObjectInputStream deserialize(String className, byte[] data) throws OperationsException,
            ReflectionException {
        return delegate.deserialize(className, data);
    }

    @Override
    @SuppressWarnings("deprecation")
    public ObjectInputStream deserialize(String className, ObjectName loaderName, byte[] data)
            throws OperationsException, ReflectionException {
        return delegate.deserialize(className, loaderName, data);
    }

    @Override
    public ClassLoader getClassLoaderFor(ObjectName mbeanName) throws InstanceNotFoundException {
        return delegate.getClassLoaderFor(mbeanName);
    }

    @Override
    public ClassLoader getClassLoader(ObjectName loaderName) throws InstanceNotFoundException {
        return delegate.getClassLoader(loaderName);
    }

    @Override
    public ClassLoaderRepository getClassLoaderRepository() {
        return delegate.getClassLoaderRepository();
    }
}

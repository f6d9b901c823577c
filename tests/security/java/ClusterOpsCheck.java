// Copyright: kafkasec.tls contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
//
// Cluster-level admin operations through one listener, as one client certificate, with Kafka's own Admin
// client: tests/security/test_authorisation.py. Usage:
//   java -cp <kafka libs>:<classes> ClusterOpsCheck server|controller host:port client.properties op...
// op: describe_quorum (Describe on the cluster), alter_broker_config (AlterConfigs on the cluster, a value
// equal to Kafka's default), create_acl (Alter on the cluster). One line per op on stdout:
//   <op>\tallowed | <op>\trefused\t<exception> | <op>\terror\t<exception>: <message>
import java.io.FileInputStream;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public final class ClusterOpsCheck {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(args[2])) {
            props.load(in);
        }
        props.put(args[0].equals("controller") ? AdminClientConfig.BOOTSTRAP_CONTROLLERS_CONFIG
                                               : AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        try (Admin admin = Admin.create(props)) {
            for (int i = 3; i < args.length; i++) {
                System.out.println(args[i] + "\t" + run(admin, args[i]));
            }
        }
    }

    private static String run(Admin admin, String op) {
        try {
            switch (op) {
                case "describe_quorum":
                    admin.describeMetadataQuorum().quorumInfo().get(30, TimeUnit.SECONDS);
                    break;
                case "alter_broker_config":
                    ConfigResource defaults = new ConfigResource(ConfigResource.Type.BROKER, "");
                    AlterConfigOp set = new AlterConfigOp(new ConfigEntry("log.cleaner.backoff.ms", "15000"),
                                                          AlterConfigOp.OpType.SET);
                    Map<ConfigResource, java.util.Collection<AlterConfigOp>> ops =
                        Collections.singletonMap(defaults, List.of(set));
                    admin.incrementalAlterConfigs(ops).all().get(30, TimeUnit.SECONDS);
                    break;
                case "create_acl":
                    AclBinding binding = new AclBinding(
                        new ResourcePattern(ResourceType.TOPIC, "kafkasec-test-never", PatternType.LITERAL),
                        new AccessControlEntry("User:kafkasec-test-nobody", "*", AclOperation.READ,
                                               AclPermissionType.ALLOW));
                    admin.createAcls(List.of(binding)).all().get(30, TimeUnit.SECONDS);
                    break;
                default:
                    return "error\tunknown op";
            }
            return "allowed";
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof AuthorizationException) {
                return "refused\t" + cause.getClass().getSimpleName();
            }
            return "error\t" + cause.getClass().getSimpleName() + ": " + cause.getMessage();
        } catch (Exception e) {
            return "error\t" + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }
}

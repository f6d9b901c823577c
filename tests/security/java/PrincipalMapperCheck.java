// Copyright (c) kafkasec.tls contributors
// GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
//
// What Kafka makes of a client certificate's subject, for tests/security/test_principals.py: reads
// lines "<base64 rules>\t<hex DER of the subject>" from stdin and prints for each
// "<base64 X500Principal.getName()>\t<ok|error>\t<base64 SslPrincipalMapper.getName() or the error>".
// One JVM for the whole table; the JDK renders the DN, Kafka's own SslPrincipalMapper maps it.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import javax.security.auth.x500.X500Principal;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;

public class PrincipalMapperCheck {
    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split("\t", -1);
            String rules = new String(Base64.getDecoder().decode(parts[0]), StandardCharsets.UTF_8);
            String dn = new X500Principal(HexFormat.of().parseHex(parts[1])).getName();
            String status;
            String out;
            try {
                out = SslPrincipalMapper.fromRules(rules).getName(dn);
                status = "ok";
            } catch (Exception e) {
                out = e.getClass().getSimpleName() + ": " + e.getMessage();
                status = "error";
            }
            System.out.println(b64(dn) + "\t" + status + "\t" + b64(out));
        }
    }
}

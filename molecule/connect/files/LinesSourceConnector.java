// The Connect scenario's test connector: it turns the lines of a file on the worker's host into records of a
// topic, as Kafka's FileStreamSource example does. It is built in the scenario's prepare step against the lab's
// own connect-api jar, so it runs on every Kafka release the lab runs (the package registry serves no
// connect-file for some releases, and a connect-file of another release is refused by the worker).
package io.kafkasec.molecule;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceConnector;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

public class LinesSourceConnector extends SourceConnector {
    static final ConfigDef CONFIG = new ConfigDef()
            .define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "the file whose lines become records")
            .define("topic", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "the topic they go to");

    private Map<String, String> props;

    @Override public void start(Map<String, String> props) { this.props = props; }
    @Override public Class<? extends Task> taskClass() { return LinesTask.class; }
    @Override public List<Map<String, String>> taskConfigs(int maxTasks) { return Collections.singletonList(props); }
    @Override public void stop() { }
    @Override public ConfigDef config() { return CONFIG; }
    @Override public String version() { return "1"; }

    public static class LinesTask extends SourceTask {
        private String file;
        private String topic;
        private boolean sent;

        @Override public String version() { return "1"; }
        @Override public void start(Map<String, String> props) { file = props.get("file"); topic = props.get("topic"); }
        @Override public void stop() { }

        @Override
        public List<SourceRecord> poll() throws InterruptedException {
            if (sent) {
                Thread.sleep(500);
                return null;
            }
            List<String> lines;
            try {
                lines = Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ConnectException("cannot read " + file, e);
            }
            List<SourceRecord> records = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                records.add(new SourceRecord(Collections.singletonMap("file", file), Collections.singletonMap("line", (long) i),
                        topic, null, null, null, Schema.STRING_SCHEMA, lines.get(i)));
            }
            sent = true;
            return records;
        }
    }
}

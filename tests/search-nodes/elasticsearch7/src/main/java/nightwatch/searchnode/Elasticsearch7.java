package nightwatch.searchnode;

import java.util.List;
import java.util.Map;
import org.elasticsearch.Version;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * A real Elasticsearch 7.17 node from the server jars, as {@link OpenSearch2}: {@code Node} with the Netty4 HTTP
 * layer as a classpath plugin. Elastic published no analysis-common jar for 7.x, so the analysis module's extra
 * tokenizers and filters are missing; the standard analyzer, {@code keyword} fields and dynamic mapping (text with a
 * {@code .keyword} subfield) are the server's own and work. No x-pack: no security, no licence.
 */
public final class Elasticsearch7 {
    private Elasticsearch7() {}

    public static void main(String[] args) {
        Launch.run("elasticsearch7", args, Elasticsearch7::start);
    }

    private static String start(Map<String, String> settings) throws Exception {
        Settings.Builder builder = Settings.builder();
        settings.forEach(builder::put);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
                builder.build(), Map.of(), null, () -> settings.get("node.name"));
        Node node = new Node(environment, List.of(Netty4Plugin.class), true) {};
        node.start();
        return Version.CURRENT.toString();
    }
}

package nightwatch.searchnode;

import java.util.List;
import java.util.Map;
import org.opensearch.Version;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.transport.Netty4Plugin;

/**
 * A real OpenSearch 2.x node from the server jars: the distribution's {@code Node}, with the HTTP layer and the
 * common analysis module loaded as classpath plugins instead of from a {@code modules/} directory.
 *
 * <p>Not the test framework's {@code MockNode}: with the framework's randomizedtesting jar on the classpath the
 * server believes it runs inside a randomized test and fails at start-up ("running tests but failed to invoke
 * RandomizedContext#getRandom"). {@code Node}'s constructor that takes classpath plugins is protected, so an empty
 * subclass is all {@code MockNode} added that we need.
 */
public final class OpenSearch2 {
    private OpenSearch2() {}

    public static void main(String[] args) {
        Launch.run("opensearch2", args, OpenSearch2::start);
    }

    private static String start(Map<String, String> settings) throws Exception {
        Settings.Builder builder = Settings.builder();
        settings.forEach(builder::put);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
                builder.build(), Map.of(), null, () -> settings.get("node.name"));
        Node node = new Node(environment, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class), true) {};
        node.start();
        return Version.CURRENT.toString();
    }
}

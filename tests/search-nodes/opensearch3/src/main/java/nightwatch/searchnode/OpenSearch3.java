package nightwatch.searchnode;

import java.util.List;
import java.util.Map;
import org.opensearch.Version;
import org.opensearch.analysis.common.CommonAnalysisModulePlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.PluginInfo;
import org.opensearch.transport.Netty4ModulePlugin;

/**
 * A real OpenSearch 3.x node from the server jars (needs Java 21+). As {@link OpenSearch2}, but 3.x renamed the
 * plugin classes ({@code Netty4ModulePlugin}, {@code CommonAnalysisModulePlugin}) and its protected {@code Node}
 * constructor takes {@code PluginInfo}s rather than classes.
 */
public final class OpenSearch3 {
    private OpenSearch3() {}

    public static void main(String[] args) {
        Launch.run("opensearch3", args, OpenSearch3::start);
    }

    private static String start(Map<String, String> settings) throws Exception {
        Settings.Builder builder = Settings.builder();
        settings.forEach(builder::put);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
                builder.build(), Map.of(), null, () -> settings.get("node.name"));
        List<PluginInfo> plugins = List.of(Netty4ModulePlugin.class, CommonAnalysisModulePlugin.class).stream()
                .map(plugin -> new PluginInfo(plugin.getName(), "classpath plugin", "NA", Version.CURRENT,
                        Runtime.version().feature() + "", plugin.getName(), List.of(), false))
                .toList();
        Node node = new Node(environment, plugins, true) {};
        node.start();
        return Version.CURRENT.toString();
    }
}

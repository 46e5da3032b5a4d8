package nightwatch.searchnode;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.bytes.BytesArray;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.env.Environment;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.NightwatchNode;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.transport.netty4.Netty4Plugin;
import org.elasticsearch.xcontent.XContentBuilder;

/**
 * A real Elasticsearch 8.x node from the server jars: the server's {@code Node} through {@link NightwatchNode}, with
 * the Netty4 HTTP module ({@code transport-netty4}, no {@code -client} since 8.0) as a classpath plugin.
 *
 * <p>One gap is filled here: since 8.10 the {@code GET /} banner lives in the {@code rest-root} module, which Elastic
 * does not publish to Maven Central, so without it {@code GET /} answers 405. {@link RootPlugin} answers {@code GET /}
 * and {@code HEAD /} with the banner's documented fields, each taken from the running server (its {@code Build}, its
 * cluster state, its Lucene). Everything else is the server's own code. Like 7.x there is no published
 * analysis-common jar and no x-pack (no security, no licence).
 */
public final class Elasticsearch8 {
    private Elasticsearch8() {}

    public static void main(String[] args) {
        Launch.run("elasticsearch8", args, Elasticsearch8::start);
    }

    private static String start(Map<String, String> settings) throws Exception {
        // 8.x logs through its own facade, which its real launcher wires to log4j before anything logs.
        LogConfigurator.configureESLogging();
        Settings.Builder builder = Settings.builder();
        settings.forEach(builder::put);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
                builder.build(), Map.of(), null, () -> settings.get("node.name"));
        Node node = new NightwatchNode(environment, List.of(Netty4Plugin.class, RootPlugin.class));
        node.start();
        return Build.current().qualifiedVersion();
    }

    /** {@code GET /} and {@code HEAD /}, which the unpublished {@code rest-root} module serves in a distribution. */
    public static final class RootPlugin extends Plugin implements ActionPlugin {
        private volatile ClusterService clusterService;

        @Override
        public Collection<?> createComponents(PluginServices services) {
            clusterService = services.clusterService();
            return List.of();
        }

        @Override
        public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry registry,
                RestController controller, ClusterSettings clusterSettings, IndexScopedSettings indexScopedSettings,
                SettingsFilter settingsFilter, IndexNameExpressionResolver resolver, Supplier<DiscoveryNodes> nodes,
                Predicate<NodeFeature> clusterSupportsFeature) {
            return List.of(new RootHandler(() -> clusterService));
        }
    }

    private static final class RootHandler extends BaseRestHandler {
        private final Supplier<ClusterService> clusterService;

        RootHandler(Supplier<ClusterService> clusterService) {
            this.clusterService = clusterService;
        }

        @Override
        public String getName() {
            return "nightwatch_main_action";
        }

        @Override
        public List<Route> routes() {
            return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
        }

        @Override
        protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
            return channel -> {
                ClusterService cluster = clusterService.get();
                ClusterState state = cluster.state();
                Build build = Build.current();
                XContentBuilder body = channel.newBuilder();
                if (!request.hasParam("pretty")) {
                    // As the distribution's banner: indented unless the caller asked otherwise.
                    body.prettyPrint().lfAtEnd();
                }
                body.startObject();
                body.field("name", cluster.getNodeName());
                body.field("cluster_name", state.getClusterName().value());
                body.field("cluster_uuid", state.metadata().clusterUUID());
                body.startObject("version")
                        .field("number", build.qualifiedVersion())
                        .field("build_flavor", build.flavor())
                        .field("build_type", build.type().displayName())
                        .field("build_hash", build.hash())
                        .field("build_date", build.date())
                        .field("build_snapshot", build.isSnapshot())
                        .field("lucene_version", org.apache.lucene.util.Version.LATEST.toString())
                        .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
                        .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
                        .endObject();
                body.field("tagline", "You Know, for Search");
                body.endObject();
                if (request.method() == RestRequest.Method.HEAD) {
                    channel.sendResponse(new RestResponse(RestStatus.OK, body.getResponseContentTypeString(),
                            BytesArray.EMPTY));
                } else {
                    channel.sendResponse(new RestResponse(RestStatus.OK, body));
                }
            };
        }
    }
}

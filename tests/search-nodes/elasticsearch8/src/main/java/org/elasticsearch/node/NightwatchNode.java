package org.elasticsearch.node;

import java.util.Collection;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.MockPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

/**
 * An Elasticsearch 8 node whose plugins are classes on the classpath. 8.x builds a node from a package-private
 * {@code NodeConstruction} and loads plugins only from directories (as module layers of a modular server), so this
 * class lives in the server's package, as the test framework's {@code MockNode} does, and does what {@code MockNode}
 * does minus the parts that need a randomized test context: it hands {@code NodeConstruction} a service provider whose
 * plugin service is the framework's {@code MockPluginsService}, and no {@code PluginsLoader}.
 */
public class NightwatchNode extends Node {
    public NightwatchNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(environment, null, new NodeServiceProvider() {
            @Override
            PluginsService newPluginService(Environment env, PluginsLoader loader) {
                return new MockPluginsService(env.settings(), env, plugins);
            }
        }, true));
    }
}

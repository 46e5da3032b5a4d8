package nightwatch.searchnode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * What every flavor's main shares: the command line, the node settings common to all four servers, the ready line and
 * the ways the node stops. It names no server class, so it compiles against every flavor's classpath.
 *
 * <p>Command line: {@code --http-port N --transport-port N --home DIR [--watch-stdin]}. The node prints one JSON line
 * on stdout once its HTTP port answers: {@code {"ready":true,"flavor":…,"version":…,"url":…,"pid":…,"startup_ms":…}}.
 * It stops when its parent process exits (the harness also sets a parent-death signal), on SIGTERM, and with
 * {@code --watch-stdin} when its stdin reaches end of file (for scripts that hold a pipe; the harness gives it
 * /dev/null, where that would be at once).
 */
public final class Launch {
    /** Builds and starts one node from the settings and returns its version as the server reports it. */
    @FunctionalInterface
    public interface Starter {
        String start(Map<String, String> settings) throws Exception;
    }

    private Launch() {}

    public static void run(String flavor, String[] args, Starter starter) {
        long started = System.nanoTime();
        String httpPort = null;
        String transportPort = null;
        Path home = null;
        boolean watchStdin = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--http-port" -> httpPort = value(args, ++i);
                case "--transport-port" -> transportPort = value(args, ++i);
                case "--home" -> home = Path.of(value(args, ++i));
                case "--watch-stdin" -> watchStdin = true;
                default -> fail(flavor, "unknown argument " + args[i]
                        + " (usage: --http-port N --transport-port N --home DIR [--watch-stdin])", null);
            }
        }
        if (httpPort == null || transportPort == null || home == null) {
            fail(flavor, "--http-port, --transport-port and --home are required", null);
        }
        stopWithParent(flavor);
        if (watchStdin) {
            stopAtEndOfStdin(flavor);
        }

        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("path.home", home.toString());
        settings.put("cluster.name", "nightwatch");
        settings.put("node.name", "nightwatch-" + flavor);
        settings.put("network.host", "127.0.0.1");
        settings.put("http.port", httpPort);
        // The harness picks both ports (free_port): the default transport range 9300-9400 could collide with
        // a port it promised to another service, or with a second node of another flavor.
        settings.put("transport.port", transportPort);
        settings.put("discovery.type", "single-node");
        // The disk watermarks would turn indices read-only on a nearly full CI disk, a failure no test is about.
        settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");

        String version;
        try {
            Files.createDirectories(home);
            version = starter.start(settings);
        } catch (Throwable error) {
            fail(flavor, "the node did not start", error);
            return;
        }
        long startupMs = (System.nanoTime() - started) / 1_000_000;
        System.out.println("{\"ready\":true,\"flavor\":\"" + flavor + "\",\"version\":\"" + version
                + "\",\"url\":\"http://127.0.0.1:" + httpPort + "\",\"pid\":" + ProcessHandle.current().pid()
                + ",\"startup_ms\":" + startupMs + "}");
        System.out.flush();
        // The servers' own threads are daemon threads (their real launchers keep a thread alive the same way).
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            fail("launcher", args[i - 1] + " needs a value", null);
        }
        return args[i];
    }

    /** Ends the JVM at once with a message on stderr (no shutdown hooks: the node's state is scratch). */
    static void fail(String flavor, String message, Throwable error) {
        System.err.println("nightwatch search node " + flavor + ": " + message);
        if (error != null) {
            error.printStackTrace();
        }
        System.err.flush();
        Runtime.getRuntime().halt(1);
    }

    private static void stopWithParent(String flavor) {
        ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
        if (parent == null || !parent.isAlive()) {
            fail(flavor, "parent process already gone", null);
            return;
        }
        parent.onExit().thenRun(() -> {
            System.err.println("nightwatch search node " + flavor + ": parent process " + parent.pid()
                    + " exited, stopping");
            Runtime.getRuntime().halt(0);
        });
    }

    private static void stopAtEndOfStdin(String flavor) {
        Thread watcher = new Thread(() -> {
            InputStream in = System.in;
            byte[] buffer = new byte[256];
            try {
                while (in.read(buffer) >= 0) {
                    // Anything written is ignored: only the end of the stream matters.
                }
            } catch (IOException ignored) {
                // A broken stdin means the same as a closed one.
            }
            System.err.println("nightwatch search node " + flavor + ": stdin closed, stopping");
            Runtime.getRuntime().halt(0);
        }, "nightwatch-stdin-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}

// A JSSE TLS server for tests/support/tls_stacks.rs: serves one certificate
// on 127.0.0.1 with the JVM options `tls-policy render --for java` printed.
//
// Usage: java -Djdk.tls.server.protocols=... -Djdk.tls.server.cipherSuites=...
//            [-Djdk.tls.namedGroups=...] TlsStackServer PORT CERT.pem KEY.pem
//
// The JDK applies those system properties itself; the protocol and suite
// lists are also passed to setEnabledProtocols and setEnabledCipherSuites,
// which throw on a name the JDK does not know, so a malformed render fails
// here instead of silently leaving the defaults on. Without either property
// the server refuses to start (the JDK's defaults are not a policy).
// Prints "LISTENING <port>" once bound.

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

public final class TlsStackServer {
    private static final char[] PASSWORD = "nightwatch".toCharArray();

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: TlsStackServer PORT CERT.pem KEY.pem");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        String protocols = required("jdk.tls.server.protocols");
        String suites = required("jdk.tls.server.cipherSuites");
        System.out.println("jdk.tls.namedGroups: " + System.getProperty("jdk.tls.namedGroups", "(the JDK's)"));

        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("leaf", readKey(Path.of(args[2])), PASSWORD, readChain(Path.of(args[1])));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);

        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
        server.setEnabledProtocols(list(protocols));
        server.setEnabledCipherSuites(list(suites));
        System.out.println("enabled protocols: " + String.join(",", server.getEnabledProtocols()));
        System.out.println("enabled suites: " + String.join(",", server.getEnabledCipherSuites()));
        System.out.println("LISTENING " + port);
        System.out.flush();
        while (true) {
            Socket client = server.accept();
            Thread worker = new Thread(() -> serve((SSLSocket) client));
            worker.setDaemon(true);
            worker.start();
        }
    }

    private static String required(String key) {
        String value = System.getProperty(key);
        if (value == null || value.isBlank()) {
            System.err.println("no -D" + key + " (refusing the JDK's defaults)");
            System.exit(2);
        }
        return value;
    }

    private static String[] list(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }

    private static void serve(SSLSocket socket) {
        try (socket) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nnightwatch-testkit java\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException refused) {
            // A refused handshake is what the scanner's probes are for.
        }
    }

    private static Certificate[] readChain(Path pem) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        try (InputStream in = Files.newInputStream(pem)) {
            return factory.generateCertificates(in).toArray(new Certificate[0]);
        }
    }

    private static PrivateKey readKey(Path pem) throws Exception {
        String text = Files.readString(pem);
        if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new IllegalArgumentException(pem + ": expected an unencrypted PKCS#8 key (BEGIN PRIVATE KEY)");
        }
        String body = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body));
        List<Exception> failures = new ArrayList<>();
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (Exception wrongType) {
                failures.add(wrongType);
            }
        }
        throw new IllegalArgumentException(pem + ": not an RSA, EC or Ed25519 key: " + failures);
    }
}

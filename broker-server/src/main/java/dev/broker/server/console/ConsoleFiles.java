package dev.broker.server.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The console's static files, read once from the classpath ({@code console/} in the jar) into memory. Only the files
 * named here exist: a request for any other name finds nothing, so no path can reach outside them.
 */
public final class ConsoleFiles {

    /** One file: its bytes, its media type and its strong ETag (from a hash of the bytes). */
    public record File(byte[] bytes, String contentType, String etag) {
    }

    /** File name to media type: everything the console is made of. */
    static final Map<String, String> MANIFEST = Map.of(
            "index.html", "text/html; charset=utf-8",
            "console.css", "text/css; charset=utf-8",
            "console.js", "text/javascript; charset=utf-8",
            "sse-parser.js", "text/javascript; charset=utf-8",
            "api.js", "text/javascript; charset=utf-8",
            "favicon.svg", "image/svg+xml");

    private static final String RESOURCE_DIRECTORY = "console/";

    private final Map<String, File> files;

    private ConsoleFiles(Map<String, File> files) {
        this.files = files;
    }

    /** Reads every file of the manifest; throws if one is missing (a broken build, better found at start). */
    public static ConsoleFiles load() {
        Map<String, File> files = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : MANIFEST.entrySet()) {
            byte[] bytes = read(RESOURCE_DIRECTORY + entry.getKey());
            files.put(entry.getKey(), new File(bytes, entry.getValue(), etagOf(bytes)));
        }
        return new ConsoleFiles(Map.copyOf(files));
    }

    /** The file of this name (no directories), or null. */
    public File get(String name) {
        return files.get(name);
    }

    private static byte[] read(String resource) {
        try (InputStream in = ConsoleFiles.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the console's " + resource + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the console's " + resource, e);
        }
    }

    private static String etagOf(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(digest, 0, 16) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}

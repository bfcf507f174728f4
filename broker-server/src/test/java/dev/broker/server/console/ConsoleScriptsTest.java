package dev.broker.server.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.broker.server.testing.NodeTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The console's SSE parser under Node's test runner ({@code src/test/js/console/sse-parser.test.mjs}): line endings
 * split at every point, multi-line data, comments. Needs {@code node}, or {@code BROKER_SKIP_NODE_TESTS=1}.
 */
@Timeout(120)
class ConsoleScriptsTest {

    @Test
    void theSseParserPassesItsTests() throws Exception {
        Path node = NodeTools.requireOnPath("node", "the console's script tests need Node.js 20+");
        Path base = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        Path work = NodeTools.targetDirectory("console-scripts");
        Files.copy(base.resolve("src/main/resources/console/sse-parser.js"), work.resolve("sse-parser.js"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.copy(base.resolve("src/test/js/console/sse-parser.test.mjs"), work.resolve("sse-parser.test.mjs"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(work.resolve("package.json"), "{\"private\":true,\"type\":\"module\"}\n");
        Path log = work.resolve("node-test.log");
        Process process = new ProcessBuilder(node.toString(), "--test", "sse-parser.test.mjs")
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                fail("node --test took longer than 60 s: " + Files.readString(log));
            }
        } finally {
            NodeTools.destroyWithDescendants(process);
        }
        assertEquals(0, process.exitValue(), Files.readString(log));
    }
}

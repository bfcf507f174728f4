package dev.broker.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.broker.server.config.Flags;
import dev.broker.server.testing.TestBroker;
import dev.broker.server.testing.TestBrokers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code conf/grafana-dashboard.json} is valid JSON, and every series it plots is one the server exposes. */
class GrafanaDashboardTest {

    /** Maven runs the tests in the module's directory. */
    private static final Path DASHBOARD =
            Path.of(System.getProperty("basedir", "."), "../conf/grafana-dashboard.json");
    private static final Pattern METRIC = Pattern.compile("\\b(?:broker|jvm)_[a-z_]+");

    @RegisterExtension
    final TestBrokers brokers = new TestBrokers();

    @Test
    void plotsOnlySeriesTheServerExposes() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        assertEquals("datasource", dashboard.at("/templating/list/0/type").asText());
        Set<String> plotted = new TreeSet<>();
        for (JsonNode panel : dashboard.get("panels")) {
            assertTrue(panel.get("targets").size() > 0, "no query in " + panel.get("title"));
            for (JsonNode target : panel.get("targets")) {
                Matcher m = METRIC.matcher(target.get("expr").asText());
                while (m.find()) {
                    plotted.add(m.group());
                }
            }
        }
        TestBroker broker = brokers.start(config -> config.with(Flags.METRICS_PUBLIC, true));
        // A commit and a response, so that the histograms and the labelled counters have samples.
        broker.createUser("u", "p", "t");
        broker.insert(broker.login("u", "p"), "e", "1");
        String exposition = broker.get("/metrics").body();

        for (String series : plotted) {
            assertTrue(Pattern.compile("(?m)^" + series + "[ {]").matcher(exposition).find(),
                    "the dashboard plots " + series + ", which /metrics does not have");
        }
        assertTrue(plotted.size() >= 15, plotted.toString());
    }
}

package dev.broker.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.broker.server.testing.LogCapture;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class OperatorReportTest {

    @RegisterExtension
    final LogCapture logs = new LogCapture();

    @Test
    void reportsAStormOfSlowConsumerClosesAsOneLine() {
        AtomicLong closes = new AtomicLong(12);
        OperatorReport report = new OperatorReport(10)
                .add("slow_consumers_closed", Level.INFO, closes::get, n -> "closed " + n + " slow SSE consumer(s)");
        for (int i = 0; i < 500; i++) {
            closes.incrementAndGet();
        }

        report.report();

        assertEquals(1, logs.linesContaining("slow SSE consumer").size(), logs.linesContaining("").toString());
        assertEquals(1, logs.linesContaining("closed 500 slow SSE consumer(s) in the last 10 s").size());
    }

    @Test
    void saysNothingWhileNothingHappens() {
        AtomicLong closes = new AtomicLong(3);
        OperatorReport report = new OperatorReport(10)
                .add("slow_consumers_closed", Level.INFO, closes::get, n -> "closed " + n + " slow SSE consumer(s)");

        report.report();
        closes.incrementAndGet();
        report.report();
        report.report();

        assertEquals(1, logs.linesContaining("slow SSE consumer").size());
        assertEquals(1, logs.linesContaining("closed 1 slow SSE consumer(s)").size());
    }
}

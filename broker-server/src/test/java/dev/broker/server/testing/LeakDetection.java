package dev.broker.server.testing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked buffer (or any other tracked resource) while it ran.
 *
 * <p>Registered for every test class of the module through {@code META-INF/services} and
 * {@code junit.jupiter.extensions.autodetection.enabled=true} (see {@code junit-platform.properties}), so JUnit
 * loads it before the first test class and its static initializer installs a {@link ResourceLeakDetectorFactory}
 * before any buffer class is initialised. Its detectors keep every report. After each class it nudges the garbage
 * collector and allocates a few buffers (a detector looks at its reference queue only when it tracks a new
 * object), polls a few times, and throws with the leak records if there were any. The surefire {@code argLine}
 * sets {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer is tracked with its access records.
 *
 * <p>A leak is reported when the leaked buffer is collected, which may be after its class ended; it then fails
 * the next class, and the records (with the allocation stack) point at the culprit.
 */
public final class LeakDetection implements AfterAllCallback {

    private static final List<String> LEAKS = new ArrayList<>();
    private static final int NUDGE_ROUNDS = 4;

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        checkInstalledInTime();
        List<String> leaks = List.of();
        for (int round = 0; round < NUDGE_ROUNDS && leaks.isEmpty(); round++) {
            System.gc();
            Thread.sleep(20L * (round + 1));
            provokeReports();
            leaks = drain();
        }
        if (!leaks.isEmpty()) {
            StringBuilder message = new StringBuilder()
                    .append(leaks.size()).append(" Netty resource leak(s) reported during or before ")
                    .append(context.getDisplayName()).append(":\n");
            for (String leak : leaks) {
                message.append(leak).append('\n');
            }
            throw new AssertionError(message.toString());
        }
    }

    /** A detector scans its reference queue when it tracks something new: allocate and release a few buffers. */
    private static void provokeReports() {
        for (int i = 0; i < 8; i++) {
            ByteBufAllocator.DEFAULT.directBuffer(64).release();
            ByteBufAllocator.DEFAULT.heapBuffer(64).release();
            Unpooled.directBuffer(16).release();
        }
    }

    /** The leaks recorded so far, forgetting them. */
    static List<String> drain() {
        synchronized (LEAKS) {
            List<String> copy = List.copyOf(LEAKS);
            LEAKS.clear();
            return copy;
        }
    }

    private static void record(String leak) {
        synchronized (LEAKS) {
            LEAKS.add(leak);
        }
    }

    /** If Netty's buffer detector was created before this class was loaded, leaks would go unnoticed: say so. */
    private static void checkInstalledInTime() throws ReflectiveOperationException {
        Field field;
        try {
            field = Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
        } catch (NoSuchFieldException renamed) {
            return; // a Netty version that keeps its detector elsewhere: nothing to check
        }
        field.setAccessible(true);
        Object detector = field.get(null);
        if (!(detector instanceof RecordingDetector)) {
            throw new AssertionError("LeakDetection was installed after Netty created its buffer leak detector ("
                    + detector + "); leaks would not be seen. Is junit.jupiter.extensions.autodetection.enabled set?");
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {

        @Override
        @SuppressWarnings("deprecation")
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
            return new RecordingDetector<>(resource, samplingInterval);
        }

        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            return new RecordingDetector<>(resource, samplingInterval);
        }
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {

        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        /** Report whatever the logging configuration says. */
        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            record("LEAK: " + resourceType + " was garbage-collected without being released." + records);
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            record("LEAK: " + resourceType + " was garbage-collected without being released (no access records;"
                    + " run with -Dio.netty.leakDetection.level=paranoid).");
            super.reportUntracedLeak(resourceType);
        }
    }
}

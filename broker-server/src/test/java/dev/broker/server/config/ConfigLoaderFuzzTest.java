package dev.broker.server.config;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration parser on any command line and environment: it yields a configuration, asks for help, or fails
 * with a {@link ConfigException} (a clear message and exit code 2) — nothing else — and its messages, the
 * description it logs and its warnings never carry a secret. Replays its corpus in every build; {@code JAZZER_FUZZ=1}
 * fuzzes.
 */
class ConfigLoaderFuzzTest {

    private static final String SECRET = "SeCrEt-Marker-7f3a";
    private static final List<Flag<?>> FLAGS = Flags.all();

    @FuzzTest(maxDuration = "60s")
    void loadsOrExplainsAndNeverShowsASecret(FuzzedDataProvider data) {
        List<String> args = new ArrayList<>();
        Map<String, String> env = new HashMap<>();
        int count = data.consumeInt(0, 8);
        for (int i = 0; i < count; i++) {
            Flag<?> flag = FLAGS.get(data.consumeInt(0, FLAGS.size() - 1));
            String value = flag.isSecret() ? SECRET + data.consumeString(8) : data.consumeString(24);
            switch (data.consumeInt(0, 4)) {
                case 0 -> args.add(flag.cliName() + "=" + value);
                case 1 -> {
                    args.add(flag.cliName());
                    args.add(value);
                }
                case 2 -> env.put(flag.envName(), value);
                case 3 -> args.add(flag.cliName());
                default -> args.add(data.consumeString(16));
            }
        }
        try {
            BrokerConfig config = ConfigLoader.load(args.toArray(String[]::new), env);
            assertFalse(ConfigLoader.describe(config).contains(SECRET), "describe shows a secret");
            assertFalse(String.join("\n", ConfigLoader.warnings(config)).contains(SECRET), "a warning shows a secret");
            assertFalse(config.toString().contains(SECRET), "toString shows a secret");
        } catch (ConfigException e) {
            assertFalse(e.getMessage().contains(SECRET), "the error shows a secret: " + e.getMessage());
        } catch (HelpRequested help) {
            // --help
        }
    }
}

package dev.broker.server.config;

import static dev.broker.server.config.Flags.ACME_DIRECTORY;
import static dev.broker.server.config.Flags.ACME_HTTP_PORT;
import static dev.broker.server.config.Flags.ACME_TRUST;
import static dev.broker.server.config.Flags.ADMIN_TOKEN;
import static dev.broker.server.config.Flags.BIND;
import static dev.broker.server.config.Flags.CERTS;
import static dev.broker.server.config.Flags.DB;
import static dev.broker.server.config.Flags.DOMAIN;
import static dev.broker.server.config.Flags.HEARTBEAT;
import static dev.broker.server.config.Flags.HTTP_PORT;
import static dev.broker.server.config.Flags.HTTP_PORT_OFF;
import static dev.broker.server.config.Flags.JWT_EXPIRY;
import static dev.broker.server.config.Flags.JWT_SECRET;
import static dev.broker.server.config.Flags.MAX_BODY;
import static dev.broker.server.config.Flags.ORIGIN;
import static dev.broker.server.config.Flags.PORT;
import static dev.broker.server.config.Flags.SECURE;
import static dev.broker.server.config.Flags.SNAPSHOT_CACHE_BYTES;
import static dev.broker.server.config.Flags.SNAPSHOT_CACHE_LOOP_BYTES;
import static dev.broker.server.config.Flags.SNAPSHOT_CACHE_NAMES;
import static dev.broker.server.config.Flags.SNAPSHOT_LINGER_MS;
import static dev.broker.server.config.Flags.SSE_DRAIN_INTERVAL_MS;
import static dev.broker.server.config.Flags.SSE_FAN_OUT_CHUNK;
import static dev.broker.server.config.Flags.SSE_HISTORY_BUDGET_BYTES;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

    private static final String STRONG_ADMIN = "an-admin-token-nobody-guesses";
    private static final String STRONG_SECRET = "0123456789abcdef0123456789abcdef"; // exactly 32 bytes

    @TempDir
    Path dir;

    private static BrokerConfig load(String... args) {
        return ConfigLoader.load(args, Map.of());
    }

    private static BrokerConfig loadEnv(Map<String, String> env, String... args) {
        return ConfigLoader.load(args, env);
    }

    private static String failure(Map<String, String> env, String... args) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(args, env)).getMessage();
    }

    private static String failure(String... args) {
        return failure(Map.of(), args);
    }

    private Path file(String content) throws IOException {
        Path f = dir.resolve("broker.conf");
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return f;
    }

    // --- sources and forms -----------------------------------------------------------------------------------

    @Test
    void defaultsWhenNothingIsGiven() {
        assertEquals(BrokerConfig.defaults(), load());
    }

    @Test
    void acceptsNameEqualsValueForm() {
        assertEquals(9000, load("--port=9000").get(PORT));
    }

    @Test
    void acceptsNameSpaceValueForm() {
        assertEquals(9000, load("--port", "9000").get(PORT));
    }

    @Test
    void valueMayContainEqualsSignsAndStartWithDashesInEqualsForm() {
        assertEquals("a=b==", load("--jwt_secret=a=b==").get(JWT_SECRET));
        assertEquals("--odd", load("--admin_token=--odd").get(ADMIN_TOKEN));
    }

    @Test
    void everyFlagMapsToItsValue() {
        BrokerConfig c = load("--origin=https://app.example.com", "--port=1234", "--jwt_expiry=60",
                "--jwt_secret=" + STRONG_SECRET, "--secure", "--certs=/srv/certs", "--db=/srv/db",
                "--admin_token=" + STRONG_ADMIN, "--domain=broker.example.com", "--heartbeat=0",
                "--bind=127.0.0.1", "--max_body=2048", "--acme_directory=https://acme.example.com/dir",
                "--acme_trust=/srv/acme-ca.pem", "--http_port=8081", "--sse_drain_interval_ms=0",
                "--sse_fan_out_chunk=3", "--snapshot_cache_names=10", "--snapshot_cache_bytes=4096",
                "--snapshot_cache_loop_bytes=5000000000", "--snapshot_linger_ms=250",
                "--sse_history_budget_bytes=1000");
        assertEquals(BrokerConfig.defaults()
                .with(ORIGIN, "https://app.example.com")
                .with(PORT, 1234)
                .with(JWT_EXPIRY, 60L)
                .with(JWT_SECRET, STRONG_SECRET)
                .with(SECURE, true)
                .with(CERTS, Path.of("/srv/certs"))
                .with(DB, Path.of("/srv/db"))
                .with(ADMIN_TOKEN, STRONG_ADMIN)
                .with(DOMAIN, "broker.example.com")
                .with(HEARTBEAT, 0)
                .with(BIND, "127.0.0.1")
                .with(MAX_BODY, 2048)
                .with(ACME_DIRECTORY, "https://acme.example.com/dir")
                .with(ACME_TRUST, Path.of("/srv/acme-ca.pem"))
                .with(HTTP_PORT, 8081)
                .with(SSE_DRAIN_INTERVAL_MS, 0)
                .with(SSE_FAN_OUT_CHUNK, 3)
                .with(SNAPSHOT_CACHE_NAMES, 10)
                .with(SNAPSHOT_CACHE_BYTES, 4096)
                .with(SNAPSHOT_CACHE_LOOP_BYTES, 5_000_000_000L)
                .with(SNAPSHOT_LINGER_MS, 250)
                .with(SSE_HISTORY_BUDGET_BYTES, 1000L), c);
    }

    @Test
    void plainHttpPortIsOffUnlessADomainNeedsItOrItIsGiven() {
        assertEquals(HTTP_PORT_OFF, load("--secure").get(HTTP_PORT));
        assertEquals(80, load("--secure", "--domain=broker.example.com").get(HTTP_PORT));
        assertEquals(8081, load("--secure", "--http_port=8081").get(HTTP_PORT));
        assertEquals(HTTP_PORT_OFF,
                load("--secure", "--domain=broker.example.com", "--http_port=-1").get(HTTP_PORT));
    }

    @Test
    void lastOccurrenceOfAFlagWins() {
        assertEquals(2, load("--port=1", "--port=2").get(PORT));
    }

    @Test
    void booleanFlagAloneMeansTrue() {
        assertTrue(load("--secure").get(SECURE));
    }

    @Test
    void booleanFlagBeforeAnotherFlagMeansTrueAndLeavesTheFlag() {
        BrokerConfig c = load("--secure", "--port", "8443");
        assertTrue(c.get(SECURE));
        assertEquals(8443, c.get(PORT));
    }

    @Test
    void booleanFlagTakesExplicitValueInBothForms() {
        assertFalse(load("--secure=false").get(SECURE));
        assertFalse(load("--secure", "false").get(SECURE));
        assertFalse(load("--secure", "FALSE").get(SECURE));
        assertTrue(load("--secure=True").get(SECURE));
        assertTrue(load("--secure", "true", "--port=1").get(SECURE));
    }

    @Test
    void environmentSetsEveryFlag() {
        Map<String, String> env = new HashMap<>();
        for (Flag<?> f : Flags.all()) {
            assertEquals("BROKER_" + f.name().toUpperCase(), f.envName());
        }
        env.put("BROKER_ADMIN_TOKEN", STRONG_ADMIN);
        env.put("BROKER_JWT_SECRET", STRONG_SECRET);
        env.put("BROKER_MAX_BODY", "4096");
        env.put("BROKER_SECURE", "true");
        env.put("BROKER_HEARTBEAT", "5");
        BrokerConfig c = loadEnv(env);
        assertEquals(STRONG_ADMIN, c.get(ADMIN_TOKEN));
        assertEquals(STRONG_SECRET, c.get(JWT_SECRET));
        assertEquals(4096, c.get(MAX_BODY));
        assertTrue(c.get(SECURE));
        assertEquals(5, c.get(HEARTBEAT));
    }

    @Test
    void fileOverridesDefault() throws IOException {
        Path f = file("# a comment\nport = 7000\n  heartbeat=10   \norigin : https://x.example\n");
        BrokerConfig c = load("--config", f.toString());
        assertEquals(7000, c.get(PORT));
        assertEquals(10, c.get(HEARTBEAT));
        assertEquals("https://x.example", c.get(ORIGIN));
    }

    @Test
    void environmentOverridesFile() throws IOException {
        Path f = file("port = 7000\nheartbeat = 10\n");
        BrokerConfig c = loadEnv(Map.of("BROKER_PORT", "7001"), "--config=" + f);
        assertEquals(7001, c.get(PORT));
        assertEquals(10, c.get(HEARTBEAT));
    }

    @Test
    void flagOverridesEnvironment() {
        assertEquals(7002, loadEnv(Map.of("BROKER_PORT", "7001"), "--port=7002").get(PORT));
    }

    @Test
    void flagOverridesEnvironmentAndFile() throws IOException {
        Path f = file("admin_token = from-file\n");
        BrokerConfig c = loadEnv(Map.of("BROKER_ADMIN_TOKEN", "from-env"), "--config", f.toString(),
                "--admin_token", "from-flag");
        assertEquals("from-flag", c.get(ADMIN_TOKEN));
    }

    @Test
    void overriddenBadValueDoesNotStopTheServer() {
        assertEquals(7002, loadEnv(Map.of("BROKER_PORT", "nonsense"), "--port=7002").get(PORT));
    }

    @Test
    void readsConfigFileNamedByBrokerConfigVariable() throws IOException {
        Path f = file("db = /data/broker\n");
        assertEquals(Path.of("/data/broker"), loadEnv(Map.of("BROKER_CONFIG", f.toString())).get(DB));
    }

    @Test
    void configFlagWinsOverBrokerConfigVariable() throws IOException {
        Path f = file("heartbeat = 11\n");
        Path missing = dir.resolve("missing.conf");
        assertEquals(11, loadEnv(Map.of("BROKER_CONFIG", missing.toString()), "--config", f.toString())
                .get(HEARTBEAT));
    }

    @Test
    void fileValuesAreTrimmedAndUtf8() throws IOException {
        Path f = file("admin_token = gehéimnis   \n");
        assertEquals("gehéimnis", load("--config=" + f).get(ADMIN_TOKEN));
    }

    @Test
    void unknownBrokerEnvironmentVariablesAreIgnored() {
        assertEquals(BrokerConfig.defaults(), loadEnv(Map.of("BROKER_CLIENT_URL", "x", "BROKER_VERSION", "1")));
    }

    // --- port --------------------------------------------------------------------------------------------------

    @Test
    void secureSwitchesDefaultPortTo443() {
        assertEquals(443, load("--secure").get(PORT));
        assertEquals(443, loadEnv(Map.of("BROKER_SECURE", "true")).get(PORT));
    }

    @Test
    void explicitPortWinsOverSecureDefault() throws IOException {
        assertEquals(8080, load("--secure", "--port=8080").get(PORT));
        assertEquals(8443, loadEnv(Map.of("BROKER_PORT", "8443"), "--secure").get(PORT));
        assertEquals(9443, load("--secure", "--config", file("port = 9443\n").toString()).get(PORT));
    }

    @Test
    void plainDefaultPortIs8080() {
        assertEquals(8080, load("--secure=false").get(PORT));
    }

    @Test
    void portZeroPicksAFreePortAndIsAccepted() {
        assertEquals(0, load("--port=0").get(PORT));
        assertEquals(65535, load("--port=65535").get(PORT));
    }

    // --- errors ------------------------------------------------------------------------------------------------

    @Test
    void rejectsUnknownFlag() {
        String m = failure("--bogus=1");
        assertTrue(m.contains("--bogus"), m);
        assertTrue(m.contains("unknown flag"), m);
    }

    @Test
    void rejectsUnknownFlagAndSuggestsUnderscoreSpelling() {
        String m = failure("--jwt-expiry", "60");
        assertTrue(m.contains("--jwt-expiry") && m.contains("did you mean --jwt_expiry?"), m);
    }

    @Test
    void rejectsSingleDashFlag() {
        String m = failure("-port", "80");
        assertTrue(m.contains("'-port'") && m.contains("--"), m);
    }

    @Test
    void rejectsStrayPositionalArgument() {
        String m = failure("--port", "80", "extra");
        assertTrue(m.contains("'extra'") && m.contains("unexpected argument"), m);
    }

    @Test
    void rejectsNonBooleanWordAfterBooleanFlagAsStrayArgument() {
        String m = failure("--secure", "yes");
        assertTrue(m.contains("'yes'"), m);
    }

    @Test
    void rejectsFlagWithoutValueAtTheEnd() {
        String m = failure("--port");
        assertTrue(m.contains("--port") && m.contains("needs a value"), m);
    }

    @Test
    void rejectsFlagWithoutValueBeforeAnotherFlag() {
        String m = failure("--origin", "--secure");
        assertTrue(m.contains("--origin") && m.contains("needs a value"), m);
    }

    @Test
    void rejectsConfigFlagWithoutValue() {
        String m = failure("--config");
        assertTrue(m.contains("--config") && m.contains("needs a value"), m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "80x", "", "8.0", "0x50", "99999999999999999999999"})
    void rejectsMalformedPort(String value) {
        String m = failure("--port=" + value);
        assertTrue(m.contains("--port") && m.contains("between 0 and 65535"), m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "65536"})
    void rejectsPortOutOfRange(String value) {
        String m = failure("--port", value);
        assertTrue(m.contains("--port") && m.contains("'" + value + "'"), m);
    }

    @Test
    void rejectsMalformedJwtExpiry() {
        String m = failure("--jwt_expiry=1d");
        assertTrue(m.contains("--jwt_expiry") && m.contains("'1d'"), m);
    }

    @Test
    void rejectsZeroJwtExpiry() {
        String m = failure("--jwt_expiry=0");
        assertTrue(m.contains("--jwt_expiry") && m.contains("between 1 and"), m);
    }

    @Test
    void rejectsNegativeHeartbeatButAcceptsZero() {
        String m = failure("--heartbeat=-5");
        assertTrue(m.contains("--heartbeat") && m.contains("'-5'"), m);
        assertEquals(0, load("--heartbeat=0").get(HEARTBEAT));
    }

    @Test
    void rejectsMaxBodyOutOfRangeButAcceptsItsBounds() {
        String zero = failure("--max_body=0");
        assertTrue(zero.contains("--max_body") && zero.contains("between 1 and 67108864"), zero);
        String tooBig = failure("--max_body=" + (64 * 1024 * 1024 + 1));
        assertTrue(tooBig.contains("--max_body"), tooBig);
        assertEquals(1, load("--max_body=1").get(MAX_BODY));
        assertEquals(64 * 1024 * 1024, load("--max_body=67108864").get(MAX_BODY));
    }

    @Test
    void rejectsDrainIntervalOutOfRangeButAcceptsItsBounds() {
        String m = failure("--sse_drain_interval_ms=10001");
        assertTrue(m.contains("--sse_drain_interval_ms") && m.contains("between 0 and 10000"), m);
        assertTrue(failure("--sse_drain_interval_ms=-1").contains("'-1'"));
        assertEquals(0, load("--sse_drain_interval_ms=0").get(SSE_DRAIN_INTERVAL_MS));
        assertEquals(10_000, load("--sse_drain_interval_ms", "10000").get(SSE_DRAIN_INTERVAL_MS));
    }

    @Test
    void rejectsFanOutChunkOutOfRangeButAcceptsItsBounds() {
        String zero = failure("--sse_fan_out_chunk=0");
        assertTrue(zero.contains("--sse_fan_out_chunk") && zero.contains("between 1 and 1000000"), zero);
        assertTrue(failure("--sse_fan_out_chunk=1000001").contains("--sse_fan_out_chunk"));
        assertEquals(1, load("--sse_fan_out_chunk=1").get(SSE_FAN_OUT_CHUNK));
        assertEquals(1_000_000, load("--sse_fan_out_chunk=1000000").get(SSE_FAN_OUT_CHUNK));
    }

    @Test
    void rejectsNegativeSnapshotCacheLimits() {
        for (Flag<?> f : List.of(SNAPSHOT_CACHE_NAMES, SNAPSHOT_CACHE_BYTES, SNAPSHOT_CACHE_LOOP_BYTES,
                SNAPSHOT_LINGER_MS, SSE_HISTORY_BUDGET_BYTES)) {
            String m = failure(f.cliName() + "=-1");
            assertTrue(m.contains(f.cliName()) && m.contains("between 0 and"), m);
        }
    }

    @Test
    void advancedFlagsComeFromTheEnvironmentAndTheFileLikeAnyOther() throws IOException {
        Path f = file("sse_fan_out_chunk = 3\nsnapshot_linger_ms = 1000\n");
        BrokerConfig c = loadEnv(Map.of("BROKER_SNAPSHOT_CACHE_NAMES", "5", "BROKER_SNAPSHOT_LINGER_MS", "2000"),
                "--config", f.toString());
        assertEquals(3, c.get(SSE_FAN_OUT_CHUNK));
        assertEquals(5, c.get(SNAPSHOT_CACHE_NAMES));
        assertEquals(2000, c.get(SNAPSHOT_LINGER_MS));
        String m = failure(Map.of("BROKER_SSE_FAN_OUT_CHUNK", "many"));
        assertTrue(m.contains("BROKER_SSE_FAN_OUT_CHUNK") && m.contains("'many'"), m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"yes", "1", "on", ""})
    void rejectsNonBooleanSecure(String value) {
        String m = failure("--secure=" + value);
        assertTrue(m.contains("--secure") && m.contains("true or false"), m);
    }

    @Test
    void rejectsNonBooleanSecureFromEnvironmentNamingTheVariable() {
        String m = failure(Map.of("BROKER_SECURE", "1"));
        assertTrue(m.contains("BROKER_SECURE") && m.contains("'1'"), m);
    }

    @Test
    void rejectsMalformedNumberFromEnvironmentNamingTheVariable() {
        String m = failure(Map.of("BROKER_MAX_BODY", "1MB"));
        assertTrue(m.contains("BROKER_MAX_BODY") && m.contains("'1MB'"), m);
    }

    @Test
    void rejectsEmptyAdminToken() {
        String m = failure("--admin_token=");
        assertTrue(m.contains("--admin_token") && m.contains("empty"), m);
    }

    @Test
    void rejectsEmptyJwtSecret() {
        String m = failure("--jwt_secret=");
        assertTrue(m.contains("--jwt_secret") && m.contains("empty"), m);
    }

    @Test
    void rejectsEmptySecretFromEnvironmentInsteadOfFallingBackToDefault() {
        String m = failure(Map.of("BROKER_ADMIN_TOKEN", ""));
        assertTrue(m.contains("BROKER_ADMIN_TOKEN") && m.contains("empty"), m);
        String s = failure(Map.of("BROKER_JWT_SECRET", ""));
        assertTrue(s.contains("BROKER_JWT_SECRET") && s.contains("empty"), s);
    }

    @Test
    void rejectsEmptyOriginAndOriginWithLineBreak() {
        assertTrue(failure("--origin=").contains("--origin"));
        String m = failure("--origin=https://a.example\r\nX-Evil: 1");
        assertTrue(m.contains("--origin") && !m.contains("\n") && !m.contains("\r"), m);
    }

    @Test
    void rejectsEmptyDbAndCerts() {
        assertTrue(failure("--db=").contains("--db"));
        assertTrue(failure("--certs=").contains("--certs"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://broker.example.com", "broker.example.com:443", "localhost", "bad_host.example",
            "broker.example.com/x"})
    void rejectsDomainThatIsNotAFullyQualifiedName(String value) {
        String m = failure("--domain=" + value);
        assertTrue(m.contains("--domain") && m.contains("fully qualified"), m);
    }

    @Test
    void emptyDomainMeansNone() {
        assertNull(load("--domain=").get(DOMAIN));
        assertNull(loadEnv(Map.of("BROKER_DOMAIN", "")).get(DOMAIN));
    }

    @Test
    void rejectsUnknownKeyInConfigFileNamingKeyAndFile() throws IOException {
        Path f = file("port = 80\nprot = 81\n");
        String m = failure("--config", f.toString());
        assertTrue(m.contains("'prot'") && m.contains(f.toString()) && m.contains("unknown key"), m);
    }

    @Test
    void rejectsFlagSpellingAsConfigFileKeyWithSuggestion() throws IOException {
        Path f = file("--port = 80\n");
        String m = failure("--config", f.toString());
        assertTrue(m.contains("'--port'") && m.contains("did you mean port?"), m);
    }

    @Test
    void rejectsConfigKeyInsideConfigFile() throws IOException {
        Path f = file("config = other.conf\n");
        String m = failure("--config", f.toString());
        assertTrue(m.contains("'config'"), m);
    }

    @Test
    void rejectsMalformedValueInConfigFileNamingKeyAndFile() throws IOException {
        Path f = file("heartbeat = often\n");
        String m = failure("--config", f.toString());
        assertTrue(m.contains("heartbeat in " + f) && m.contains("'often'"), m);
    }

    @Test
    void rejectsMissingConfigFile() {
        Path missing = dir.resolve("nope.conf");
        String m = failure("--config", missing.toString());
        assertTrue(m.contains(missing.toString()) && m.contains("--config") && m.contains("no such file"), m);
    }

    @Test
    void rejectsMissingConfigFileFromBrokerConfigVariable() {
        Path missing = dir.resolve("nope.conf");
        String m = failure(Map.of("BROKER_CONFIG", missing.toString()));
        assertTrue(m.contains(missing.toString()) && m.contains("BROKER_CONFIG"), m);
    }

    @Test
    void rejectsDirectoryAsConfigFile() {
        String m = failure("--config", dir.toString());
        assertTrue(m.contains(dir.toString()) && m.contains("cannot be read"), m);
    }

    @Test
    void rejectsConfigFileThatIsNotUtf8() throws IOException {
        Path f = dir.resolve("latin1.conf");
        Files.write(f, "origin = caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        String m = failure("--config", f.toString());
        assertTrue(m.contains(f.toString()) && m.contains("UTF-8"), m);
    }

    @Test
    void rejectsEmptyConfigFlag() {
        String m = failure("--config=");
        assertTrue(m.contains("--config") && m.contains("empty"), m);
    }

    @Test
    void errorMessagesAreOneLineAndNeverEchoSecrets() throws IOException {
        String m = failure("--admin_token=hunter2-secret", "--jwt_secret", "s3cr3t-value", "--port=x\ny");
        assertFalse(m.contains("\n"), m);
        assertFalse(m.contains("hunter2") || m.contains("s3cr3t"), m);
    }

    @Test
    void longValuesAreShortenedInMessages() {
        String m = failure("--port=" + "9".repeat(500));
        assertTrue(m.length() < 200, m);
    }

    // --- help --------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"--help", "-h"})
    void helpFlagRequestsHelp(String flag) {
        assertThrows(HelpRequested.class, () -> load(flag));
        assertThrows(HelpRequested.class, () -> load("--port=1", flag));
    }

    @Test
    void helpWinsOverOtherMistakes() {
        assertThrows(HelpRequested.class, () -> load("--bogus", "stray", "--help"));
        assertThrows(HelpRequested.class, () -> load("--port=abc", "-h"));
    }

    @Test
    void helpRequestedIsNotAConfigException() {
        assertFalse(ConfigException.class.isAssignableFrom(HelpRequested.class));
    }

    @Test
    void usageListsEveryFlagWithItsVariableDefaultAndMeaning() {
        String usage = ConfigLoader.usage();
        for (Flag<?> f : Flags.all()) {
            assertAll(f.name(),
                    () -> assertTrue(usage.contains(f.cliName()), f.cliName()),
                    () -> assertTrue(usage.contains(f.envName()), f.envName()),
                    () -> assertTrue(usage.contains("default " + f.defaultText()), f.defaultText()),
                    () -> assertTrue(usage.contains(f.meaning()), f.meaning()));
        }
        assertTrue(usage.contains("--config FILE") && usage.contains("BROKER_CONFIG"));
        assertTrue(usage.contains("--help, -h"));
        assertTrue(usage.contains("default 8080 (443 with --secure)"));
        assertTrue(usage.contains("default 1048576"));
    }

    @Test
    void usageListsTheAdvancedFlagsInASectionOfTheirOwn() {
        String usage = ConfigLoader.usage();
        int advanced = usage.indexOf("Advanced flags");
        assertTrue(advanced > usage.indexOf("--help, -h"), usage);
        for (Flag<?> f : Flags.all()) {
            int at = usage.indexOf("\n  " + f.cliName() + (f.isBoolean() ? "[" : " "));
            assertTrue(at >= 0, f.name());
            assertEquals(f.isAdvanced(), at > advanced, f.name());
        }
        for (Flag<?> f : List.of(SSE_DRAIN_INTERVAL_MS, SSE_FAN_OUT_CHUNK, SNAPSHOT_CACHE_NAMES, SNAPSHOT_CACHE_BYTES,
                SNAPSHOT_CACHE_LOOP_BYTES, SNAPSHOT_LINGER_MS, SSE_HISTORY_BUDGET_BYTES)) {
            assertTrue(f.isAdvanced(), f.name());
        }
        assertTrue(usage.contains("--sse_drain_interval_ms MILLIS") && usage.contains("default 50"), usage);
        assertTrue(usage.contains("default 67108864"), usage);
    }

    // --- warnings and the secure start -------------------------------------------------------------------------

    @Test
    void noWarningsForStrongSecrets() {
        BrokerConfig c = BrokerConfig.defaults().with(ADMIN_TOKEN, STRONG_ADMIN).with(JWT_SECRET, STRONG_SECRET);
        assertEquals(List.of(), ConfigLoader.warnings(c));
    }

    @Test
    void warnsAboutDefaultsOncePerSecret() {
        List<String> w = ConfigLoader.warnings(BrokerConfig.defaults());
        assertEquals(2, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("admin_token is the default") && w.get(0).contains("BROKER_ADMIN_TOKEN"));
        assertTrue(w.get(1).startsWith("jwt_secret is the default") && w.get(1).contains("BROKER_JWT_SECRET"));
    }

    @Test
    void warnsAboutDefaultAdminTokenAlone() {
        List<String> w = ConfigLoader.warnings(BrokerConfig.defaults().with(JWT_SECRET, STRONG_SECRET));
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).contains("admin_token"));
    }

    @Test
    void warnsAboutJwtSecretShorterThan32Bytes() {
        List<String> w = ConfigLoader.warnings(BrokerConfig.defaults().with(ADMIN_TOKEN, STRONG_ADMIN)
                .with(JWT_SECRET, "x".repeat(31)));
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).contains("jwt_secret is only 31 bytes"), w.get(0));
        assertFalse(w.get(0).contains("x".repeat(31)));
    }

    @Test
    void countsJwtSecretLengthInUtf8Bytes() {
        BrokerConfig c = BrokerConfig.defaults().with(ADMIN_TOKEN, STRONG_ADMIN);
        assertEquals(List.of(), ConfigLoader.warnings(c.with(JWT_SECRET, "é".repeat(16)))); // 32 bytes, 16 chars
        assertEquals(1, ConfigLoader.warnings(c.with(JWT_SECRET, "é".repeat(15) + "x")).size()); // 31 bytes
    }

    @Test
    void warnsAboutDomainWithoutSecure() {
        BrokerConfig c = BrokerConfig.defaults().with(ADMIN_TOKEN, STRONG_ADMIN).with(JWT_SECRET, STRONG_SECRET)
                .with(DOMAIN, "broker.example.com");
        assertEquals(1, ConfigLoader.warnings(c).size());
        assertEquals(List.of(), ConfigLoader.warnings(c.with(SECURE, true)));
    }

    @Test
    void checkSecureStartRefusesDefaultAdminToken() {
        BrokerConfig c = BrokerConfig.defaults().with(SECURE, true).with(JWT_SECRET, STRONG_SECRET);
        String m = assertThrows(ConfigException.class, () -> ConfigLoader.checkSecureStart(c)).getMessage();
        assertTrue(m.contains("admin_token") && m.contains("BROKER_ADMIN_TOKEN") && !m.contains("jwt_secret"), m);
    }

    @Test
    void checkSecureStartRefusesDefaultJwtSecret() {
        BrokerConfig c = BrokerConfig.defaults().with(SECURE, true).with(ADMIN_TOKEN, STRONG_ADMIN);
        String m = assertThrows(ConfigException.class, () -> ConfigLoader.checkSecureStart(c)).getMessage();
        assertTrue(m.contains("jwt_secret") && m.contains("BROKER_JWT_SECRET"), m);
    }

    @Test
    void checkSecureStartRefusesBothDefaults() {
        String m = assertThrows(ConfigException.class,
                () -> ConfigLoader.checkSecureStart(BrokerConfig.defaults().with(SECURE, true))).getMessage();
        assertTrue(m.contains("admin_token") && m.contains("jwt_secret"), m);
    }

    @Test
    void checkSecureStartAcceptsStrongSecrets() {
        BrokerConfig c = load("--secure", "--admin_token", STRONG_ADMIN, "--jwt_secret", STRONG_SECRET);
        assertDoesNotThrow(() -> ConfigLoader.checkSecureStart(c));
    }

    @Test
    void checkSecureStartIgnoresDefaultsWithoutSecure() {
        assertDoesNotThrow(() -> ConfigLoader.checkSecureStart(BrokerConfig.defaults()));
    }

    @Test
    void describeMasksSecrets() {
        BrokerConfig c = BrokerConfig.defaults().with(ADMIN_TOKEN, STRONG_ADMIN).with(JWT_SECRET, STRONG_SECRET);
        String d = ConfigLoader.describe(c);
        assertFalse(d.contains(STRONG_ADMIN) || d.contains(STRONG_SECRET), d);
        assertTrue(d.contains("admin_token=***") && d.contains("jwt_secret=***") && d.contains("port=8080"), d);
        String defaults = ConfigLoader.describe(BrokerConfig.defaults());
        assertTrue(defaults.contains("admin_token=<default>") && !defaults.contains("letmein"), defaults);
    }

    // --- the configuration object ------------------------------------------------------------------------------

    @Test
    void withReturnsAModifiedCopyAndLeavesTheOriginal() {
        BrokerConfig defaults = BrokerConfig.defaults();
        BrokerConfig changed = defaults.with(PORT, 0).with(DOMAIN, "broker.example.com");
        assertEquals(0, changed.get(PORT));
        assertEquals("broker.example.com", changed.get(DOMAIN));
        assertEquals(8080, defaults.get(PORT));
        assertNull(defaults.get(DOMAIN));
        assertEquals(defaults, changed.with(PORT, 8080).with(DOMAIN, null));
        assertEquals(defaults.hashCode(), changed.with(PORT, 8080).with(DOMAIN, null).hashCode());
    }

    @Test
    void withHoldsValuesToTheRulesOfTheCommandLine() {
        BrokerConfig c = BrokerConfig.defaults();
        String port = assertThrows(IllegalArgumentException.class, () -> c.with(PORT, 65_536)).getMessage();
        assertTrue(port.contains("port") && port.contains("between 0 and 65535"), port);
        assertThrows(IllegalArgumentException.class, () -> c.with(MAX_BODY, 0));
        assertThrows(IllegalArgumentException.class, () -> c.with(JWT_EXPIRY, 0L));
        assertThrows(IllegalArgumentException.class, () -> c.with(ORIGIN, "a b"));
        assertThrows(IllegalArgumentException.class, () -> c.with(ORIGIN, ""));
        assertThrows(IllegalArgumentException.class, () -> c.with(DOMAIN, "https://broker.example.com"));
        assertThrows(IllegalArgumentException.class, () -> c.with(ACME_DIRECTORY, "ftp://acme.example.com"));
        assertThrows(IllegalArgumentException.class, () -> c.with(DB, null));
        String secret = assertThrows(IllegalArgumentException.class, () -> c.with(ADMIN_TOKEN, "")).getMessage();
        assertTrue(secret.contains("admin_token"), secret);
    }

    @Test
    void everyDefaultIsAValueTheFlagAccepts() {
        BrokerConfig defaults = BrokerConfig.defaults();
        for (Flag<?> f : Flags.all()) {
            assertDoesNotThrow(() -> withOwnValue(defaults, f), f.name());
            assertEquals(f.defaultValue(), defaults.get(f), f.name());
        }
    }

    private static <T> BrokerConfig withOwnValue(BrokerConfig c, Flag<T> flag) {
        return c.with(flag, c.get(flag));
    }

    @Test
    void flagNamesAreDistinctLowerCaseWords() {
        Set<String> names = new TreeSet<>();
        for (Flag<?> f : Flags.all()) {
            assertTrue(f.name().matches("[a-z]+(_[a-z]+)*"), f.name());
            assertTrue(names.add(f.name()), f.name());
            assertEquals(Flags.byName(f.name()).orElseThrow(), f);
        }
        assertFalse(names.contains(ConfigLoader.CONFIG_FLAG));
    }

    @Test
    void getRejectsAFlagThatIsNotDeclared() {
        Flag<Integer> stray = Flag.integer("stray", "N", 0, 1).defaultValue(0).meaning("not declared").build();
        assertThrows(IllegalArgumentException.class, () -> BrokerConfig.defaults().get(stray));
        assertThrows(IllegalArgumentException.class, () -> BrokerConfig.defaults().with(stray, 1));
    }

    @Test
    void toStringMasksSecrets() {
        String s = BrokerConfig.defaults().with(ADMIN_TOKEN, STRONG_ADMIN).with(JWT_SECRET, STRONG_SECRET).toString();
        assertFalse(s.contains(STRONG_ADMIN) || s.contains(STRONG_SECRET), s);
        assertTrue(s.contains("admin_token=***") && s.contains("port=8080"), s);
    }

    // --- the shipped examples ----------------------------------------------------------------------------------

    private static Path projectFile(String relative) {
        Path base = Path.of(System.getProperty("basedir", "."));
        Path p = base.resolve("..").resolve(relative).normalize();
        assertTrue(Files.isRegularFile(p), "missing " + p);
        return p;
    }

    @Test
    void exampleConfigFileLoadsToDefaults() {
        Path example = projectFile("conf/broker.conf");
        assertEquals(BrokerConfig.defaults(), load("--config", example.toString()));
    }

    @Test
    void exampleConfigFileDocumentsEveryFlagWithAValidValue() throws IOException {
        Path example = projectFile("conf/broker.conf");
        Pattern commented = Pattern.compile("^#(\\w+) = (.*)$");
        StringBuilder uncommented = new StringBuilder();
        Set<String> keys = new TreeSet<>();
        for (String line : Files.readAllLines(example, StandardCharsets.UTF_8)) {
            Matcher m = commented.matcher(line);
            if (m.matches()) {
                keys.add(m.group(1));
                uncommented.append(m.group(1)).append(" = ").append(m.group(2)).append('\n');
            }
        }
        assertEquals(Flags.all().stream().map(Flag::name).collect(Collectors.toCollection(TreeSet::new)), keys);
        BrokerConfig c = load("--config", file(uncommented.toString()).toString());
        assertEquals(BrokerConfig.defaults().with(DOMAIN, "broker.example.com").with(HTTP_PORT, 80), c);
    }

    @Test
    void exampleEnvironmentFileRefusesToStartUntilFilledIn() throws IOException {
        Path example = projectFile("conf/broker.env.example");
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(example, StandardCharsets.UTF_8)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int eq = line.indexOf('=');
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        assertEquals(Set.of("BROKER_ADMIN_TOKEN", "BROKER_JWT_SECRET"), env.keySet());
        String m = failure(env);
        assertTrue(m.contains("BROKER_") && m.contains("empty"), m);
    }
}

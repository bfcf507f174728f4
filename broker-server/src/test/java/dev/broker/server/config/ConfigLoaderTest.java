package dev.broker.server.config;

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
        assertEquals(9000, load("--port=9000").port());
    }

    @Test
    void acceptsNameSpaceValueForm() {
        assertEquals(9000, load("--port", "9000").port());
    }

    @Test
    void valueMayContainEqualsSignsAndStartWithDashesInEqualsForm() {
        assertEquals("a=b==", load("--jwt_secret=a=b==").jwtSecret());
        assertEquals("--odd", load("--admin_token=--odd").adminToken());
    }

    @Test
    void everyFlagMapsToItsComponent() {
        BrokerConfig c = load("--origin=https://app.example.com", "--port=1234", "--jwt_expiry=60",
                "--jwt_secret=" + STRONG_SECRET, "--secure", "--certs=/srv/certs", "--db=/srv/db",
                "--admin_token=" + STRONG_ADMIN, "--domain=broker.example.com", "--heartbeat=0",
                "--bind=127.0.0.1", "--max_body=2048");
        assertEquals(new BrokerConfig("https://app.example.com", 1234, 60, STRONG_SECRET, true, Path.of("/srv/certs"),
                Path.of("/srv/db"), STRONG_ADMIN, "broker.example.com", 0, "127.0.0.1", 2048)
                .withHttpPort(BrokerConfig.ACME_HTTP_PORT), c);
    }

    @Test
    void plainHttpPortIsOffUnlessADomainNeedsItOrItIsGiven() {
        assertEquals(BrokerConfig.HTTP_PORT_OFF, load("--secure").httpPort());
        assertEquals(80, load("--secure", "--domain=broker.example.com").httpPort());
        assertEquals(8081, load("--secure", "--http_port=8081").httpPort());
        assertEquals(BrokerConfig.HTTP_PORT_OFF,
                load("--secure", "--domain=broker.example.com", "--http_port=-1").httpPort());
    }

    @Test
    void lastOccurrenceOfAFlagWins() {
        assertEquals(2, load("--port=1", "--port=2").port());
    }

    @Test
    void booleanFlagAloneMeansTrue() {
        assertTrue(load("--secure").secure());
    }

    @Test
    void booleanFlagBeforeAnotherFlagMeansTrueAndLeavesTheFlag() {
        BrokerConfig c = load("--secure", "--port", "8443");
        assertTrue(c.secure());
        assertEquals(8443, c.port());
    }

    @Test
    void booleanFlagTakesExplicitValueInBothForms() {
        assertFalse(load("--secure=false").secure());
        assertFalse(load("--secure", "false").secure());
        assertFalse(load("--secure", "FALSE").secure());
        assertTrue(load("--secure=True").secure());
        assertTrue(load("--secure", "true", "--port=1").secure());
    }

    @Test
    void environmentSetsEveryFlag() {
        Map<String, String> env = new HashMap<>();
        for (Flag f : Flag.values()) {
            assertEquals("BROKER_" + f.flagName().toUpperCase(), f.envName());
        }
        env.put("BROKER_ADMIN_TOKEN", STRONG_ADMIN);
        env.put("BROKER_JWT_SECRET", STRONG_SECRET);
        env.put("BROKER_MAX_BODY", "4096");
        env.put("BROKER_SECURE", "true");
        env.put("BROKER_HEARTBEAT", "5");
        BrokerConfig c = loadEnv(env);
        assertEquals(STRONG_ADMIN, c.adminToken());
        assertEquals(STRONG_SECRET, c.jwtSecret());
        assertEquals(4096, c.maxBodyBytes());
        assertTrue(c.secure());
        assertEquals(5, c.heartbeatSeconds());
    }

    @Test
    void fileOverridesDefault() throws IOException {
        Path f = file("# a comment\nport = 7000\n  heartbeat=10   \norigin : https://x.example\n");
        BrokerConfig c = load("--config", f.toString());
        assertEquals(7000, c.port());
        assertEquals(10, c.heartbeatSeconds());
        assertEquals("https://x.example", c.origin());
    }

    @Test
    void environmentOverridesFile() throws IOException {
        Path f = file("port = 7000\nheartbeat = 10\n");
        BrokerConfig c = loadEnv(Map.of("BROKER_PORT", "7001"), "--config=" + f);
        assertEquals(7001, c.port());
        assertEquals(10, c.heartbeatSeconds());
    }

    @Test
    void flagOverridesEnvironment() {
        assertEquals(7002, loadEnv(Map.of("BROKER_PORT", "7001"), "--port=7002").port());
    }

    @Test
    void flagOverridesEnvironmentAndFile() throws IOException {
        Path f = file("admin_token = from-file\n");
        BrokerConfig c = loadEnv(Map.of("BROKER_ADMIN_TOKEN", "from-env"), "--config", f.toString(),
                "--admin_token", "from-flag");
        assertEquals("from-flag", c.adminToken());
    }

    @Test
    void overriddenBadValueDoesNotStopTheServer() {
        assertEquals(7002, loadEnv(Map.of("BROKER_PORT", "nonsense"), "--port=7002").port());
    }

    @Test
    void readsConfigFileNamedByBrokerConfigVariable() throws IOException {
        Path f = file("db = /data/broker\n");
        assertEquals(Path.of("/data/broker"), loadEnv(Map.of("BROKER_CONFIG", f.toString())).db());
    }

    @Test
    void configFlagWinsOverBrokerConfigVariable() throws IOException {
        Path f = file("heartbeat = 11\n");
        Path missing = dir.resolve("missing.conf");
        assertEquals(11, loadEnv(Map.of("BROKER_CONFIG", missing.toString()), "--config", f.toString())
                .heartbeatSeconds());
    }

    @Test
    void fileValuesAreTrimmedAndUtf8() throws IOException {
        Path f = file("admin_token = gehéimnis   \n");
        assertEquals("gehéimnis", load("--config=" + f).adminToken());
    }

    @Test
    void unknownBrokerEnvironmentVariablesAreIgnored() {
        assertEquals(BrokerConfig.defaults(), loadEnv(Map.of("BROKER_CLIENT_URL", "x", "BROKER_VERSION", "1")));
    }

    // --- port --------------------------------------------------------------------------------------------------

    @Test
    void secureSwitchesDefaultPortTo443() {
        assertEquals(443, load("--secure").port());
        assertEquals(443, loadEnv(Map.of("BROKER_SECURE", "true")).port());
    }

    @Test
    void explicitPortWinsOverSecureDefault() throws IOException {
        assertEquals(8080, load("--secure", "--port=8080").port());
        assertEquals(8443, loadEnv(Map.of("BROKER_PORT", "8443"), "--secure").port());
        assertEquals(9443, load("--secure", "--config", file("port = 9443\n").toString()).port());
    }

    @Test
    void plainDefaultPortIs8080() {
        assertEquals(8080, load("--secure=false").port());
    }

    @Test
    void portZeroPicksAFreePortAndIsAccepted() {
        assertEquals(0, load("--port=0").port());
        assertEquals(65535, load("--port=65535").port());
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
        assertEquals(0, load("--heartbeat=0").heartbeatSeconds());
    }

    @Test
    void rejectsMaxBodyOutOfRangeButAcceptsItsBounds() {
        String zero = failure("--max_body=0");
        assertTrue(zero.contains("--max_body") && zero.contains("between 1 and 67108864"), zero);
        String tooBig = failure("--max_body=" + (64 * 1024 * 1024 + 1));
        assertTrue(tooBig.contains("--max_body"), tooBig);
        assertEquals(1, load("--max_body=1").maxBodyBytes());
        assertEquals(64 * 1024 * 1024, load("--max_body=67108864").maxBodyBytes());
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
        assertNull(load("--domain=").domain());
        assertNull(loadEnv(Map.of("BROKER_DOMAIN", "")).domain());
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
        for (Flag f : Flag.values()) {
            assertAll(f.flagName(),
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

    // --- warnings and the secure start -------------------------------------------------------------------------

    @Test
    void noWarningsForStrongSecrets() {
        BrokerConfig c = BrokerConfig.defaults().withAdminToken(STRONG_ADMIN).withJwtSecret(STRONG_SECRET);
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
        List<String> w = ConfigLoader.warnings(BrokerConfig.defaults().withJwtSecret(STRONG_SECRET));
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).contains("admin_token"));
    }

    @Test
    void warnsAboutJwtSecretShorterThan32Bytes() {
        List<String> w = ConfigLoader.warnings(BrokerConfig.defaults().withAdminToken(STRONG_ADMIN)
                .withJwtSecret("x".repeat(31)));
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).contains("jwt_secret is only 31 bytes"), w.get(0));
        assertFalse(w.get(0).contains("x".repeat(31)));
    }

    @Test
    void countsJwtSecretLengthInUtf8Bytes() {
        BrokerConfig c = BrokerConfig.defaults().withAdminToken(STRONG_ADMIN);
        assertEquals(List.of(), ConfigLoader.warnings(c.withJwtSecret("é".repeat(16)))); // 32 bytes, 16 chars
        assertEquals(1, ConfigLoader.warnings(c.withJwtSecret("é".repeat(15) + "x")).size()); // 31 bytes
    }

    @Test
    void warnsAboutDomainWithoutSecure() {
        BrokerConfig c = BrokerConfig.defaults().withAdminToken(STRONG_ADMIN).withJwtSecret(STRONG_SECRET)
                .withDomain("broker.example.com");
        assertEquals(1, ConfigLoader.warnings(c).size());
        assertEquals(List.of(), ConfigLoader.warnings(c.withSecure(true)));
    }

    @Test
    void checkSecureStartRefusesDefaultAdminToken() {
        BrokerConfig c = BrokerConfig.defaults().withSecure(true).withJwtSecret(STRONG_SECRET);
        String m = assertThrows(ConfigException.class, () -> ConfigLoader.checkSecureStart(c)).getMessage();
        assertTrue(m.contains("admin_token") && m.contains("BROKER_ADMIN_TOKEN") && !m.contains("jwt_secret"), m);
    }

    @Test
    void checkSecureStartRefusesDefaultJwtSecret() {
        BrokerConfig c = BrokerConfig.defaults().withSecure(true).withAdminToken(STRONG_ADMIN);
        String m = assertThrows(ConfigException.class, () -> ConfigLoader.checkSecureStart(c)).getMessage();
        assertTrue(m.contains("jwt_secret") && m.contains("BROKER_JWT_SECRET"), m);
    }

    @Test
    void checkSecureStartRefusesBothDefaults() {
        String m = assertThrows(ConfigException.class,
                () -> ConfigLoader.checkSecureStart(BrokerConfig.defaults().withSecure(true))).getMessage();
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
        BrokerConfig c = BrokerConfig.defaults().withAdminToken(STRONG_ADMIN).withJwtSecret(STRONG_SECRET);
        String d = ConfigLoader.describe(c);
        assertFalse(d.contains(STRONG_ADMIN) || d.contains(STRONG_SECRET), d);
        assertTrue(d.contains("admin_token=***") && d.contains("jwt_secret=***") && d.contains("port=8080"), d);
        String defaults = ConfigLoader.describe(BrokerConfig.defaults());
        assertTrue(defaults.contains("admin_token=<default>") && !defaults.contains("letmein"), defaults);
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
        assertEquals(Set.of(Flag.values()).stream().map(Flag::flagName).collect(Collectors.toCollection(TreeSet::new)),
                keys);
        BrokerConfig c = load("--config", file(uncommented.toString()).toString());
        assertEquals(BrokerConfig.defaults().withDomain("broker.example.com").withHttpPort(80), c);
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

package dev.broker.server;

import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.ConfigException;
import dev.broker.server.config.ConfigLoader;
import dev.broker.server.config.Flags;
import dev.broker.server.config.HelpRequested;
import dev.broker.server.logging.KeepHandlersLogManager;
import dev.broker.server.logging.LineFormats;
import dev.broker.server.logging.OperatorLog;
import java.lang.System.Logger.Level;

/**
 * {@code java -jar broker.jar [flags]}: parse the configuration, start the server, stop it on SIGTERM. With
 * {@code export} or {@code import} first, move a store's contents instead (see {@link DumpCommand}).
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        // Before anything logs: keeps the log working while the shutdown hook logs the stop (see the class).
        System.setProperty("java.util.logging.manager", KeepHandlersLogManager.class.getName());
        // Until --log_format is read: one line per record, "2026-01-01T12:00:00.000Z INFO logger: message".
        System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        if (DumpCommand.isDumpCommand(args)) {
            System.exit(DumpCommand.run(args, System.getenv(), System.in, System.out, System.err));
            return;
        }
        System.Logger log = System.getLogger(Main.class.getName());
        BrokerConfig config;
        try {
            config = ConfigLoader.load(args);
            ConfigLoader.checkSecureStart(config);
        } catch (HelpRequested help) {
            System.out.println(ConfigLoader.usage());
            return;
        } catch (ConfigException e) {
            System.err.println("broker: " + e.getMessage());
            System.exit(2);
            return;
        }
        LineFormats.install(config.get(Flags.LOG_FORMAT));
        for (String warning : ConfigLoader.warnings(config)) {
            log.log(Level.WARNING, "*** " + warning + " ***");
        }
        OperatorLog.info("config", "configuration: " + ConfigLoader.describe(config),
                "flags", ConfigLoader.describedValues(config));
        BrokerServer server;
        try {
            server = BrokerServer.start(config);
        } catch (RuntimeException e) {
            log.log(Level.ERROR, "cannot start", e);
            System.err.println("broker: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "broker-shutdown"));
        // A stable line on stdout for scripts and supervisors (and the crash test) to wait for.
        System.out.println("Broker listening on port " + server.port());
    }
}

package dev.broker.server;

import dev.broker.server.config.BrokerConfig;
import dev.broker.server.config.ConfigException;
import dev.broker.server.config.ConfigLoader;
import dev.broker.server.config.HelpRequested;
import dev.broker.server.dump.DumpCounts;
import dev.broker.server.dump.DumpException;
import dev.broker.server.dump.DumpExport;
import dev.broker.server.dump.DumpImport;
import dev.broker.storage.Storage;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * {@code java -jar broker.jar export [flags] > dump.jsonl} and {@code import [flags] < dump.jsonl}: the store the
 * flags name (as for the server: {@code --db}, {@code --config}, the environment) written to standard output, or
 * read from standard input into a new, empty store. Messages go to standard error; the exit status is 0 on
 * success, 1 when the dump or the store failed, 2 for a bad command line.
 */
public final class DumpCommand {

    public static final String EXPORT = "export";
    public static final String IMPORT = "import";

    private DumpCommand() {
    }

    /** Whether {@code args} start with a dump command. */
    public static boolean isDumpCommand(String[] args) {
        return args.length > 0 && (args[0].equals(EXPORT) || args[0].equals(IMPORT));
    }

    /** Runs the command in {@code args[0]} with the flags after it; returns the exit status. */
    public static int run(String[] args, Map<String, String> env, InputStream in, OutputStream out, PrintStream err) {
        String command = args[0];
        String[] flags = java.util.Arrays.copyOfRange(args, 1, args.length);
        BrokerConfig config;
        try {
            config = ConfigLoader.load(flags, env);
        } catch (HelpRequested help) {
            err.println(usage());
            return 0;
        } catch (ConfigException e) {
            err.println("broker " + command + ": " + e.getMessage());
            return 2;
        }
        Storage storage;
        try {
            storage = BrokerServer.openStorage(config);
        } catch (RuntimeException e) {
            err.println("broker " + command + ": cannot open the store: " + e.getMessage()
                    + (e.getMessage() != null && e.getMessage().contains("lock") ? " (is a server running on it?"
                    + " Export a running server's backup instead)" : ""));
            return 1;
        }
        try (storage) {
            DumpCounts counts;
            if (command.equals(EXPORT)) {
                BufferedOutputStream buffered = new BufferedOutputStream(out, 1 << 16);
                counts = DumpExport.export(storage, buffered);
            } else {
                counts = DumpImport.importInto(storage, new BufferedReader(
                        new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16));
            }
            err.println("broker " + command + ": " + counts.users() + " users, " + counts.events() + " events");
            return 0;
        } catch (DumpException e) {
            err.println("broker " + command + ": " + e.getMessage());
            return 1;
        } catch (IOException | RuntimeException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            err.println("broker " + command + ": failed: " + (cause.getMessage() != null ? cause.getMessage() : cause));
            return 1;
        }
    }

    static String usage() {
        return """
                Usage: java -jar broker.jar export [--db DIR | other storage flags] > dump.jsonl
                       java -jar broker.jar import [--db DIR | other storage flags] < dump.jsonl

                export writes every user (with its password hash) and every event, in id order, as JSON lines.
                import reads such a dump into a new, empty store; events get new ids and keep their timestamps.
                The store is the one the server would open with the same flags, environment (BROKER_*) and
                --config file. RocksDB allows one process per database: stop the server first, or export a
                backup taken with POST /backup.""";
    }
}

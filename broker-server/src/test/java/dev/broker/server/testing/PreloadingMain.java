package dev.broker.server.testing;

import dev.broker.server.Main;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Starts {@link Main} after loading every class of the class path's directories and opening every jar on it. A
 * packaged server loads its classes from one jar the JVM keeps open; a test's fork loads them from
 * {@code target/classes}, one {@code open()} per class, so a server out of file descriptors could not even load
 * the class of its error path. Loading up front takes that difference away.
 */
public final class PreloadingMain {

    private PreloadingMain() {
    }

    public static void main(String[] args) throws Exception {
        ClassLoader loader = PreloadingMain.class.getClassLoader();
        // A resource that is nowhere: looking for it opens every jar of the class path, and they stay open.
        loader.getResource("dev/broker/preload/nowhere");
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path root = Path.of(entry);
            if (Files.isDirectory(root)) {
                for (String name : classNames(root)) {
                    try {
                        Class.forName(name, false, loader);
                    } catch (LinkageError | ClassNotFoundException e) {
                        // a test class whose dependencies are missing here: the server does not need it
                    }
                }
            }
        }
        Main.main(args);
    }

    private static List<String> classNames(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.map(root::relativize)
                    .map(Path::toString)
                    .filter(name -> name.endsWith(".class") && !name.endsWith("module-info.class"))
                    .map(name -> name.substring(0, name.length() - ".class".length()).replace(File.separatorChar, '.'))
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.broker.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorStreamFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The built {@code .deb}, read as dpkg reads it (an ar archive of {@code control.tar.*} and {@code data.tar.*}): the
 * files where the unit and the launcher expect them, with their modes and owners; the settings as conffiles, the
 * secrets readable by root only; maintainer scripts that create the user; a Java 17 dependency.
 */
class DebianPackageTest {

    private static final Map<String, TarArchiveEntry> DATA = new HashMap<>();
    private static final Map<String, String> CONTROL = new HashMap<>();
    private static final Map<String, Integer> CONTROL_MODES = new HashMap<>();

    @BeforeAll
    static void readPackage() throws Exception {
        Path deb;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            List<Path> debs = files.filter(p -> p.getFileName().toString().endsWith(".deb")).toList();
            assertEquals(1, debs.size(), "one package in target/: " + debs);
            deb = debs.get(0);
        }
        try (ArArchiveInputStream ar = new ArArchiveInputStream(Files.newInputStream(deb))) {
            ArArchiveEntry member;
            while ((member = ar.getNextEntry()) != null) {
                byte[] bytes = ar.readAllBytes();
                if (member.getName().startsWith("control.tar")) {
                    readTar(bytes, (entry, tar) -> {
                        CONTROL.put(name(entry), new String(tar.readAllBytes(), StandardCharsets.UTF_8));
                        CONTROL_MODES.put(name(entry), entry.getMode() & 07777);
                    });
                } else if (member.getName().startsWith("data.tar")) {
                    readTar(bytes, (entry, tar) -> DATA.put(name(entry), entry));
                }
            }
        }
    }

    private interface EntryReader {
        void read(TarArchiveEntry entry, TarArchiveInputStream tar) throws IOException;
    }

    private static void readTar(byte[] compressed, EntryReader reader) throws Exception {
        try (InputStream in = new CompressorStreamFactory().createCompressorInputStream(
                new java.io.BufferedInputStream(new ByteArrayInputStream(compressed)));
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                reader.read(entry, tar);
            }
        }
    }

    /** The entry's path without the leading "./" or "/", and without a directory's trailing "/". */
    private static String name(TarArchiveEntry entry) {
        String name = entry.getName().replaceFirst("^\\./", "").replaceFirst("^/", "");
        return name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
    }

    private static TarArchiveEntry file(String path) {
        TarArchiveEntry entry = DATA.get(path);
        assertTrue(entry != null && entry.isFile(), path + " is in the package: " + DATA.keySet());
        assertEquals("root", entry.getUserName(), path + " is root's");
        return entry;
    }

    @Test
    void installsTheJarTheLauncherAndTheUnitWhereTheyAreLookedFor() {
        assertTrue(file("usr/share/broker/broker.jar").getSize() > 1_000_000, "the shaded jar");
        assertEquals(0755, file("usr/bin/broker").getMode() & 07777, "the launcher is executable");
        assertEquals(0644, file("lib/systemd/system/broker.service").getMode() & 07777);
    }

    @Test
    void theSettingsAreConffilesAndTheSecretsAreRootsAlone() {
        assertEquals(0644, file("etc/broker/broker.conf").getMode() & 07777);
        assertEquals(0600, file("etc/broker/broker.env").getMode() & 07777, "the secrets file");
        List<String> conffiles = CONTROL.getOrDefault("conffiles", "").lines().map(String::trim).toList();
        assertTrue(conffiles.contains("/etc/broker/broker.conf"), "conffiles: " + conffiles);
        assertTrue(conffiles.contains("/etc/broker/broker.env"), "conffiles: " + conffiles);
    }

    @Test
    void theControlFileNamesAJava17RuntimeAndTheScriptsCreateTheUser() {
        String control = CONTROL.get("control");
        assertTrue(control.contains("Package: broker\n"), control);
        assertTrue(control.contains("Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless"), control);
        assertTrue(control.matches("(?s).*Version: [0-9][^\\s]*\n.*"), control);
        assertTrue(CONTROL.get("postinst").contains("adduser --system"), "postinst creates the broker user");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertEquals(0755, CONTROL_MODES.get(script), script + " is executable");
            assertTrue(CONTROL.get(script).startsWith("#!/bin/sh\n"), script);
        }
    }

    @Test
    void theUnitRunsTheInstalledLauncherWithThePackagesPaths() throws IOException {
        String unit = Files.readString(Path.of("../broker.service"));
        assertTrue(unit.contains("\nExecStart=/usr/bin/broker --db /var/lib/broker/db --certs /var/lib/broker/certs"
                + " --config /etc/broker/broker.conf\n"), unit);
        assertTrue(unit.contains("\nEnvironmentFile=/etc/broker/broker.env\n"), unit);
        String launcher = Files.readString(Path.of("../bin/broker"));
        assertTrue(launcher.contains("/usr/share/broker/broker.jar"), "the launcher finds the installed jar");
    }
}

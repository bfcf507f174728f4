package dev.broker.server.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * Reads and writes the PEM files of the certificate directory. Keys may be PKCS#8 ({@code BEGIN PRIVATE KEY}),
 * PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) or SEC1 EC ({@code BEGIN EC PRIVATE KEY}); encrypted keys are not
 * supported. Every failure is an {@link IllegalStateException} whose message names the file.
 */
public final class PemFiles {

    private PemFiles() {
    }

    /** The certificates of a PEM file, leaf first; at least one. */
    public static List<X509Certificate> readChain(Path file) {
        byte[] bytes = read(file, "certificate chain");
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> chain = new ArrayList<>();
            for (var certificate : factory.generateCertificates(new java.io.ByteArrayInputStream(bytes))) {
                chain.add((X509Certificate) certificate);
            }
            if (chain.isEmpty()) {
                throw new IllegalStateException("TLS: " + file.toAbsolutePath() + " holds no PEM certificate");
            }
            return List.copyOf(chain);
        } catch (CertificateException e) {
            throw new IllegalStateException("TLS: " + file.toAbsolutePath() + " is not a PEM certificate chain: "
                    + e.getMessage(), e);
        }
    }

    /** The private key of a PEM file (the first key in it). */
    public static PrivateKey readPrivateKey(Path file) {
        return readKeyPairOrKey(file, "private key").privateKey;
    }

    /** A key pair from a PEM file holding a PKCS#1 RSA key pair (as written by {@link #writeKeyPair}). */
    public static KeyPair readKeyPair(Path file) {
        KeyOrPair read = readKeyPairOrKey(file, "key pair");
        if (read.pair == null) {
            throw new IllegalStateException("TLS: " + file.toAbsolutePath() + " holds no key pair"
                    + " (expected BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
        }
        return read.pair;
    }

    private record KeyOrPair(PrivateKey privateKey, KeyPair pair) {
    }

    private static KeyOrPair readKeyPairOrKey(Path file, String what) {
        String text = new String(read(file, what), StandardCharsets.US_ASCII);
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(new java.io.StringReader(text))) {
            Object object;
            while ((object = parser.readObject()) != null) {
                if (object instanceof PEMKeyPair pemPair && pemPair.getPublicKeyInfo() == null) {
                    // SEC1 EC keys need not carry their public half.
                    return new KeyOrPair(converter.getPrivateKey(pemPair.getPrivateKeyInfo()), null);
                }
                if (object instanceof PEMKeyPair pemPair) {
                    KeyPair pair = converter.getKeyPair(pemPair);
                    return new KeyOrPair(pair.getPrivate(), pair);
                }
                if (object instanceof PrivateKeyInfo info) {
                    return new KeyOrPair(converter.getPrivateKey(info), null);
                }
            }
        } catch (PEMException e) {
            throw new IllegalStateException("TLS: " + file.toAbsolutePath() + " is not a usable PEM private key: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("TLS: cannot read " + file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException("TLS: " + file.toAbsolutePath() + " holds no unencrypted PEM private key"
                + " (expected BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
    }

    private static byte[] read(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("TLS: " + what + " file " + file.toAbsolutePath() + " does not exist");
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalStateException("TLS: cannot read " + what + " file " + file.toAbsolutePath() + ": "
                    + e, e);
        }
    }

    /** Writes a chain as PEM, atomically (readers see the old file or the new one, never half of it). */
    public static void writeChain(Path file, List<X509Certificate> chain) throws IOException {
        writeAtomically(file, pem(writer -> {
            for (X509Certificate certificate : chain) {
                writer.writeObject(certificate);
            }
        }), false);
    }

    /**
     * Writes a key pair as PEM (PKCS#1 for RSA, which keeps both halves; SEC1 for EC, which may keep only the private
     * half), atomically and readable by the owner only.
     */
    public static void writeKeyPair(Path file, KeyPair pair) throws IOException {
        writeAtomically(file, pem(writer -> writer.writeObject(pair)), true);
    }

    private interface PemBody {
        void write(JcaPEMWriter writer) throws IOException;
    }

    private static String pem(PemBody body) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            body.write(writer);
        }
        return out.toString();
    }

    private static void writeAtomically(Path file, String content, boolean secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            if (secret) {
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException notPosix) {
                    // best effort on other file systems
                }
            }
            try (Writer writer = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
                writer.write(content);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}

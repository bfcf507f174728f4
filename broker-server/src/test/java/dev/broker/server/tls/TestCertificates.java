package dev.broker.server.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Test PKI made at test time (no private key is committed): a CA and leaves it signs, written as PEM in the forms
 * operators have (PKCS#8, PKCS#1 RSA, SEC1 EC).
 */
final class TestCertificates {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    enum KeyFormat { PKCS8, TRADITIONAL }

    record Issued(KeyPair keys, X509Certificate certificate) {
    }

    final Issued ca;

    TestCertificates() {
        KeyPair keys = ec();
        ca = new Issued(keys, sign("CN=Broker Test CA", keys, keys, null, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(365)), true));
    }

    static KeyPair ec() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A leaf for localhost and 127.0.0.1 (and {@code names}), valid from yesterday for 90 days. */
    Issued leaf(KeyPair keys, String... names) {
        return leaf(keys, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(90)), names);
    }

    Issued leaf(KeyPair keys, Instant notBefore, Instant notAfter, String... names) {
        return new Issued(keys, sign("CN=localhost", keys, ca.keys(), ca.certificate(), notBefore, notAfter, false, names));
    }

    private static X509Certificate sign(String subject, KeyPair keys, KeyPair issuerKeys, X509Certificate issuer,
                                        Instant notBefore, Instant notAfter, boolean isCa, String... names) {
        try {
            X500Name issuerName = issuer == null ? new X500Name(subject)
                    : new X500Name(issuer.getSubjectX500Principal().getName());
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(notBefore), Date.from(notAfter),
                    new X500Name(subject), keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            if (isCa) {
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            } else {
                GeneralName[] sans = new GeneralName[names.length + 2];
                sans[0] = new GeneralName(GeneralName.dNSName, "localhost");
                sans[1] = new GeneralName(GeneralName.iPAddress, "127.0.0.1");
                for (int i = 0; i < names.length; i++) {
                    sans[i + 2] = new GeneralName(GeneralName.dNSName, names[i]);
                }
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            }
            String algorithm = issuerKeys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKeys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code cert.pem} (leaf then CA) and {@code key.pem} into {@code dir}. */
    void install(Path dir, Issued leaf, KeyFormat format) throws IOException {
        Files.createDirectories(dir);
        // Written beside and moved in, as certbot and careful operators do.
        Path certTmp = dir.resolve("cert.pem.new");
        Path keyTmp = dir.resolve("key.pem.new");
        Files.writeString(certTmp, pem(leaf.certificate()) + pem(ca.certificate()), StandardCharsets.US_ASCII);
        Files.writeString(keyTmp, keyPem(leaf.keys(), format), StandardCharsets.US_ASCII);
        Files.move(keyTmp, dir.resolve("key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(certTmp, dir.resolve("cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    static String keyPem(KeyPair keys, KeyFormat format) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
        }
        if (format == KeyFormat.PKCS8) {
            return out.toString();
        }
        // BEGIN RSA PRIVATE KEY / BEGIN EC PRIVATE KEY, exactly as openssl writes them.
        Process openssl = new ProcessBuilder("openssl", "pkey", "-traditional").redirectErrorStream(true).start();
        try (var in = openssl.getOutputStream()) {
            in.write(out.toString().getBytes(StandardCharsets.US_ASCII));
        }
        String traditional = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        try {
            if (openssl.waitFor() != 0 || !traditional.contains(" PRIVATE KEY-----")) {
                throw new IOException("openssl pkey -traditional failed: " + traditional);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return traditional;
    }

    /** An SSLContext that trusts exactly these certificates. */
    static SSLContext trusting(List<X509Certificate> roots) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < roots.size(); i++) {
                store.setCertificateEntry("root" + i, roots.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), new SecureRandom());
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    SSLContext trustingCa() {
        return trusting(List.of(ca.certificate()));
    }
}

package dev.broker.server.tls;

import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A certificate chain, its private key and the server {@link SslContext} built from them: what new connections
 * are handed. Immutable; a renewal or a reload makes a new one.
 */
public record ServerCertificate(List<X509Certificate> chain, PrivateKey key, SslContext context) {

    /** Checks the pair (the key must belong to the leaf) and builds its context with {@code contexts}' choices. */
    public static ServerCertificate of(List<X509Certificate> chain, PrivateKey key, String where,
                                       TlsContexts contexts) {
        if (chain.isEmpty()) {
            throw new IllegalStateException("TLS: " + where + ": no certificate");
        }
        if (!matches(chain.get(0), key)) {
            throw new IllegalStateException("TLS: " + where + ": the private key does not belong to the certificate"
                    + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
        }
        return new ServerCertificate(List.copyOf(chain), key, contexts.forServer(chain, key, where));
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    /** Time left before expiry (negative once expired). */
    public Duration remaining(Instant now) {
        return Duration.between(now, notAfter());
    }

    /** Whether {@code now} lies inside the leaf's validity period. */
    public boolean isValidAt(Instant now) {
        return !now.isBefore(notBefore()) && now.isBefore(notAfter());
    }

    /** Whether the leaf names {@code domain} among its DNS subject alternative names (exactly, case-insensitive). */
    public boolean covers(String domain) {
        try {
            var names = leaf().getSubjectAlternativeNames();
            if (names == null) {
                return false;
            }
            for (List<?> name : names) {
                if (Integer.valueOf(2).equals(name.get(0))
                        && domain.toLowerCase(Locale.ROOT).equals(String.valueOf(name.get(1)).toLowerCase(Locale.ROOT))) {
                    return true;
                }
            }
            return false;
        } catch (CertificateParsingException e) {
            return false;
        }
    }

    /** A short description for logs: subject, serial and expiry. */
    public String describe() {
        return "'" + leaf().getSubjectX500Principal().getName() + "' serial " + leaf().getSerialNumber().toString(16)
                + ", valid until " + notAfter();
    }

    /** Whether {@code key} is the private half of the leaf's public key: sign a probe and verify it. */
    static boolean matches(X509Certificate leaf, PrivateKey key) {
        // Keys made by Bouncy Castle's provider call themselves "ECDSA".
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            byte[] probe = "broker key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false; // e.g. an RSA key against an EC certificate
        }
    }
}

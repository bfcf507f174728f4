package dev.broker.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.broker.server.tls.TestCertificates.Issued;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When an ACME certificate is looked at again: renewal 30 days before expiry, and at least twice a day. */
class RenewalScheduleTest {

    private final TestCertificates pki = new TestCertificates();

    private ServerCertificate expiringIn(Duration left, Instant now) {
        Issued leaf = pki.leaf(TestCertificates.ec(), now.minus(Duration.ofDays(1)), now.plus(left));
        return ServerCertificate.of(List.of(leaf.certificate()), leaf.keys().getPrivate(), "test",
                TlsContexts.DEFAULTS);
    }

    @Test
    void renewsAtOnceWhenFewerThan30DaysRemain() {
        Instant now = Instant.now();
        assertEquals(Duration.ZERO, AcmeCertificates.untilRenewal(expiringIn(Duration.ofDays(29), now), now));
        assertEquals(Duration.ZERO, AcmeCertificates.untilRenewal(expiringIn(Duration.ofHours(1), now), now));
    }

    @Test
    void looksAgainWhenDueOrWithinTwelveHours() {
        Instant now = Instant.now();
        Duration soon = AcmeCertificates.untilRenewal(expiringIn(Duration.ofDays(30).plusHours(2), now), now);
        assertEquals(Duration.ofHours(2).toSeconds(), soon.toSeconds(), 1);
        assertEquals(AcmeCertificates.CHECK_EVERY, AcmeCertificates.untilRenewal(expiringIn(Duration.ofDays(89), now), now));
    }
}

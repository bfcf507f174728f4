#!/usr/bin/env python3
"""Latency of login and insert, and the time of a full replay, against a running Broker (loopback only).

usage: bench/large_db.py URL JWT_SECRET USERS [--replay-user NAME --replay-events N]

Logs in COUNT users picked at random among user0..user<USERS-1> (password "password", as `broker-bench fill`
makes them), then inserts with those JWTs (users now cached), then with JWTs made here for other random users (not
in the server's user cache: each insert reads its user from the store). Prints p50/p99/max per kind, in ms.
With --replay-user, opens GET /sse with Last-Event-ID: 0 as that user and times the arrival of N events.
"""
import argparse, base64, hashlib, hmac, http.client, json, random, socket, sys, time
from urllib.parse import urlparse


def jwt(secret, username, tenant):
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=")
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": username, "tenant_name": tenant, "iat": now, "exp": now + 3600}).encode())
    sig = b64(hmac.new(secret.encode(), head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + sig).decode()


def pct(samples):
    s = sorted(samples)
    return "p50 %.2f  p99 %.2f  max %.2f  (n=%d)" % (s[len(s) // 2] * 1e3, s[int(len(s) * 0.99)] * 1e3, s[-1] * 1e3, len(s))


def timed(conn, method, path, body, headers):
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        sys.exit("%s %s: %d %s" % (method, path, response.status, data[:200]))
    return elapsed, data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("secret")
    p.add_argument("users", type=int)
    p.add_argument("--tenants", type=int, default=100)
    p.add_argument("--logins", type=int, default=100)
    p.add_argument("--inserts", type=int, default=2000)
    p.add_argument("--replay-user")
    p.add_argument("--replay-events", type=int, default=0)
    a = p.parse_args()
    u = urlparse(a.url)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    rnd = random.Random(1)
    json_headers = {"Content-Type": "application/json"}

    logins, jwts = [], []
    for _ in range(a.logins):
        name = "user%d" % rnd.randrange(a.users)
        t, data = timed(conn, "POST", "/login", json.dumps({"username": name, "password": "password"}), json_headers)
        logins.append(t)
        jwts.append(json.loads(data)["jwt"])
    print("login (Argon2id verify, user read cold):", pct(logins))

    cached = []
    for i in range(a.inserts):
        h = dict(json_headers, Authorization="Bearer " + jwts[i % len(jwts)])
        t, _ = timed(conn, "POST", "/insert", '{"event":"bench","data":{"i":%d}}' % i, h)
        cached.append(t)
    print("insert, user in the cache:", pct(cached))

    cold = []
    for i in range(a.inserts):
        n = rnd.randrange(a.users)
        h = dict(json_headers, Authorization="Bearer " + jwt(a.secret, "user%d" % n, "tenant%d" % (n % a.tenants)))
        t, _ = timed(conn, "POST", "/insert", '{"event":"bench","data":{"i":%d}}' % i, h)
        cold.append(t)
    print("insert, user read from the store (JWT of a user not cached):", pct(cold))

    if a.replay_user:
        n = int(a.replay_user[4:])
        token = jwt(a.secret, a.replay_user, "tenant%d" % (n % a.tenants))
        sock = socket.create_connection((u.hostname, u.port))
        start = time.perf_counter()
        sock.sendall(("GET /sse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nLast-Event-ID: 0\r\n\r\n"
                      % token).encode())
        seen, total, tail = 0, 0, b""
        while seen < a.replay_events:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            block = tail + chunk
            seen += block.count(b"\nid:")
            tail = block[-3:]
        elapsed = time.perf_counter() - start
        sock.close()
        print("replay Last-Event-ID: 0: %d events, %.1f MB in %.2f s (%.0f events/s)"
              % (seen, total / 1e6, elapsed, seen / elapsed))


main()

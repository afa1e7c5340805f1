// Signed JWTs made by the npm `jose` package, for tower-nextauth's `jose` feature (JwtDecoder).
// `node jose-jwt.mjs` writes ../tests/fixtures/jose_jwts.json; `--stdout` prints fresh ones.
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jose, now, versions } from "./lib.mjs";

const claims = { sub: "user-1", role: "admin", name: "Zoë" };

async function sign(alg, key, { kid, exp, iat }) {
  const header = { alg, typ: "JWT", ...(kid ? { kid } : {}) };
  return new jose.SignJWT(claims).setProtectedHeader(header).setIssuedAt(iat).setExpirationTime(exp).sign(key);
}

function tamper(token) {
  const [h, p, s] = token.split(".");
  const body = JSON.parse(Buffer.from(p, "base64url"));
  body.role = "superuser";
  return [h, Buffer.from(JSON.stringify(body)).toString("base64url"), s].join(".");
}

export async function buildJwts() {
  const t = now();
  const out = [];
  for (const alg of ["HS256", "HS384", "HS512"]) {
    const secret = `backend-${alg}-secret-`.padEnd(64, "x");
    const wrong = new TextEncoder().encode("another-backend-secret".padEnd(64, "y"));
    const key = new TextEncoder().encode(secret);
    const valid = await sign(alg, key, { exp: t + 3600, iat: t });
    out.push({
      alg, secret, now: t, claims: { ...claims, iat: t, exp: t + 3600 },
      valid_token: valid,
      expired_token: await sign(alg, key, { exp: t - 3600, iat: t - 7200 }),
      tampered_token: tamper(valid),
      wrong_key_token: await sign(alg, wrong, { exp: t + 3600, iat: t }),
    });
  }
  for (const [alg, opts] of [["RS256", { modulusLength: 2048 }], ["ES256", {}], ["EdDSA", { crv: "Ed25519" }]]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { ...opts, extractable: true });
    const other = await jose.generateKeyPair(alg, { ...opts, extractable: true });
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: "k1", alg };
    const valid = await sign(alg, privateKey, { kid: "k1", exp: t + 3600, iat: t });
    out.push({
      alg, kid: "k1", now: t, claims: { ...claims, iat: t, exp: t + 3600 },
      public_pem: await jose.exportSPKI(publicKey),
      jwks: { keys: [jwk] },
      valid_token: valid,
      expired_token: await sign(alg, privateKey, { kid: "k1", exp: t - 3600, iat: t - 7200 }),
      tampered_token: tamper(valid),
      wrong_key_token: await sign(alg, other.privateKey, { kid: "k1", exp: t + 3600, iat: t }),
    });
  }
  return { generated_by: { jose: versions.jose, node: process.version }, jwts: out };
}

if (process.argv.includes("--stdout")) {
  process.stdout.write(JSON.stringify(await buildJwts()));
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = new URL("../tests/fixtures/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL("jose_jwts.json", dir), JSON.stringify(await buildJwts(), null, 1) + "\n");
  console.log("wrote jose_jwts.json");
}

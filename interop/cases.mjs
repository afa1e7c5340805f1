// Theirs -> ours: session cookies minted by next-auth@4 and @auth/core, each with what the
// library's own getToken returns for the request. tests/common/cases.rs checks our side.
import {
  v4jwt, v5jwt, v4cookie, v5cookie, jose, quiet, now, v4Key, v5Key,
  libraryGetToken, defaultName, versions,
} from "./lib.mjs";

const big = (n) => Array.from({ length: n }, (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7919) % 36]).join("");

function shuffled(list) {
  // Deterministic but not sorted: reversed, then the first moved to the end.
  const out = [...list].reverse();
  out.push(out.shift());
  return out;
}

async function encode(format, { secret, payload, maxAge, salt }) {
  if (format === "v4") return v4jwt.encode({ token: payload, secret, ...(maxAge !== undefined ? { maxAge } : {}) });
  return v5jwt.encode({ token: payload, secret, salt, ...(maxAge !== undefined ? { maxAge } : {}) });
}

/** What @auth/core puts in `kid`: the JWK thumbprint of the derived key (SHA-512 for 64 bytes, SHA-256 for 32). */
async function v5Kid(key) {
  return jose.calculateJwkThumbprint({ kty: "oct", k: Buffer.from(key).toString("base64url") }, `sha${key.byteLength << 3}`);
}

/**
 * A JWE with claims we choose (no exp, nbf, ...). By default the header is exactly what the library emits:
 * v4 `{alg:"dir",enc:"A256GCM"}`, v5 `{alg:"dir",enc:"A256CBC-HS512",kid:<thumbprint>}`. `kid: false` drops the kid.
 */
async function rawJwe(format, secret, claims, { enc, kid = format === "v5", salt } = {}) {
  const key = format === "v4" ? v4Key(secret) : v5Key(secret, salt, enc === "A256GCM" ? 32 : 64);
  const header = { alg: "dir", enc: enc ?? (format === "v4" ? "A256GCM" : "A256CBC-HS512") };
  if (kid) header.kid = await v5Kid(key);
  return new jose.EncryptJWT(claims).setProtectedHeader(header).encrypt(key);
}

function chunkCookies(format, name, secure, token) {
  const option = { name, options: { httpOnly: true, sameSite: "lax", path: "/", secure } };
  const expires = { expires: new Date(Date.now() + 86400e3) };
  const set = format === "v4"
    ? new v4cookie.SessionStore(option, { cookies: {} }, quiet).chunk(token, expires)
    : new v5cookie.SessionStore(option, {}, quiet).chunk(token, expires);
  return set.map((c) => `${c.name}=${c.value}`);
}

export async function buildCases({ secret, old_secret, payload }) {
  const cases = [];
  // Each case is answered by the library right after its token is minted, so exp/nbf margins
  // (leeway cases) are measured against the clock the library actually used.
  const add = async (spec) => {
    const full = { secure: false, cookie_name: null, secrets: [secret], ...spec };
    const expected = await libraryGetToken(full);
    const { token, ...rest } = full;
    cases.push({ ...rest, now: now(), expected: expected ?? null, ...(token ? { token } : {}) });
  };

  for (const format of ["v4", "v5"]) {
    const plainName = defaultName(format, false);
    const secureName = defaultName(format, true);
    const token = await encode(format, { secret, payload, salt: plainName });
    const secureToken = await encode(format, { secret, payload, salt: secureName });

    await add({ name: `${format}_plain`, format, token, headers: { cookie: `theme=dark; ${plainName}=${token}` } });
    await add({ name: `${format}_secure_prefix`, format, secure: true, token: secureToken, headers: { cookie: `${secureName}=${secureToken}` } });

    const bigPayload = { ...payload, blob: big(9000) };
    const bigToken = await encode(format, { secret, payload: bigPayload, salt: plainName });
    const chunks = chunkCookies(format, plainName, false, bigToken);
    await add({ name: `${format}_chunked_from_session_store`, format, token: bigToken, headers: { cookie: shuffled(chunks).join("; ") } });
    await add({ name: `${format}_bare_and_chunks_together`, format, headers: { cookie: `${plainName}=${token}; ${chunks.join("; ")}` } });

    const secureBig = await encode(format, { secret, payload: bigPayload, salt: secureName });
    await add({ name: `${format}_secure_chunked`, format, secure: true, token: secureBig, headers: { cookie: chunkCookies(format, secureName, true, secureBig).join("; ") } });

    const custom = "my.session";
    const customToken = await encode(format, { secret, payload, salt: custom });
    await add({ name: `${format}_custom_cookie_name`, format, cookie_name: custom, token: customToken, headers: { cookie: `${custom}=${customToken}` } });

    const single = (name, t) => add({ name: `${format}_${name}`, format, token: t, headers: { cookie: `${plainName}=${t}` } });
    await single("expired", await encode(format, { secret, payload, maxAge: -100, salt: plainName }));
    await single("exp_inside_leeway", await encode(format, { secret, payload, maxAge: -10, salt: plainName }));
    await single("exp_outside_leeway", await encode(format, { secret, payload, maxAge: -20, salt: plainName }));
    await single("nbf_in_the_future", await encode(format, { secret, payload: { ...payload, nbf: now() + 100 }, salt: plainName }));
    await single("wrong_secret", await encode(format, { secret: old_secret, payload, salt: plainName }));

    const parts = token.split(".");
    const ct = parts[3];
    const mid = Math.floor(ct.length / 2);
    parts[3] = ct.slice(0, mid) + (ct[mid] === "A" ? "B" : "A") + ct.slice(mid + 1);
    await single("tampered", parts.join("."));

    const noExp = format === "v4"
      ? await rawJwe("v4", secret, { ...payload, iat: now() })
      : await rawJwe("v5", secret, { ...payload, iat: now() }, { salt: plainName });
    await single("without_exp", noExp);

    await add({ name: `${format}_bearer`, format, token, headers: { authorization: `Bearer ${token}` } });
    await add({ name: `${format}_bearer_percent_encoded`, format, token, headers: { authorization: `Bearer ${token.replaceAll(".", "%2E")}` } });
    await add({ name: `${format}_bearer_malformed_percent`, format, headers: { authorization: "Bearer %E0%A4%A" } });
    const other = await encode(format, { secret, payload: { ...payload, name: "Bearer Person" }, salt: plainName });
    await add({ name: `${format}_cookie_wins_over_bearer`, format, token, headers: { cookie: `${plainName}=${token}`, authorization: `Bearer ${other}` } });

    const otherFormat = format === "v4" ? "v5" : "v4";
    const foreign = await encode(otherFormat, { secret, payload, salt: plainName });
    await single(`reads_${otherFormat}_token_as_nothing`, foreign);
  }

  // v5 secret rotation: encoded with the old secret, read with [new, old].
  const v5name = defaultName("v5", false);
  const rotated = await v5jwt.encode({ token: payload, secret: old_secret, salt: v5name });
  await add({ name: "v5_rotated_secret", format: "v5", secrets: [secret, old_secret], token: rotated, headers: { cookie: `${v5name}=${rotated}` } });
  // A256GCM without kid: only the first secret is tried.
  const gcm = await rawJwe("v5", secret, { ...payload, iat: now(), exp: now() + 3600 }, { enc: "A256GCM", salt: v5name, kid: false });
  await add({ name: "v5_a256gcm_without_kid", format: "v5", token: gcm, headers: { cookie: `${v5name}=${gcm}` } });
  const gcmOld = await rawJwe("v5", old_secret, { ...payload, iat: now(), exp: now() + 3600 }, { enc: "A256GCM", salt: v5name, kid: false });
  await add({ name: "v5_a256gcm_without_kid_second_secret", format: "v5", secrets: [secret, old_secret], token: gcmOld, headers: { cookie: `${v5name}=${gcmOld}` } });
  // A256GCM with its kid (SHA-256 thumbprint of the 32-byte key), old secret: found through the kid.
  const gcmKid = await rawJwe("v5", old_secret, { ...payload, iat: now(), exp: now() + 3600 }, { enc: "A256GCM", salt: v5name });
  await add({ name: "v5_a256gcm_with_kid_rotated_secret", format: "v5", secrets: [secret, old_secret], token: gcmKid, headers: { cookie: `${v5name}=${gcmKid}` } });

  return { generated_by: { "next-auth": versions["next-auth"], "@auth/core": versions["@auth/core"], node: process.version }, cases };
}

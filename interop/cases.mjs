// Theirs -> ours: session cookies minted by next-auth@4 and @auth/core, each with what the
// library's own getToken returns for the request. tests/common/cases.rs checks our side.
import {
  v4jwt, v5jwt, v4cookie, v5cookie, jose, quiet, now, v4Key, v5Key,
  libraryGetToken, defaultName,
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

/** A JWE with the library's exact header but claims we choose (no exp, nbf, ...). */
async function rawJwe(format, secret, claims, { enc, kid, salt } = {}) {
  const key = format === "v4" ? v4Key(secret) : v5Key(secret, salt, enc === "A256GCM" ? 32 : 64);
  const header = { alg: "dir", enc: enc ?? (format === "v4" ? "A256GCM" : "A256CBC-HS512") };
  if (kid) header.kid = kid;
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
  const specs = [];
  const add = (spec) => specs.push({ secure: false, cookie_name: null, secrets: [secret], ...spec });

  for (const format of ["v4", "v5"]) {
    const plainName = defaultName(format, false);
    const secureName = defaultName(format, true);
    const token = await encode(format, { secret, payload, salt: plainName });
    const secureToken = await encode(format, { secret, payload, salt: secureName });

    add({ name: `${format}_plain`, format, token, headers: { cookie: `theme=dark; ${plainName}=${token}` } });
    add({ name: `${format}_secure_prefix`, format, secure: true, token: secureToken, headers: { cookie: `${secureName}=${secureToken}` } });

    const bigPayload = { ...payload, blob: big(9000) };
    const bigToken = await encode(format, { secret, payload: bigPayload, salt: plainName });
    const chunks = chunkCookies(format, plainName, false, bigToken);
    add({ name: `${format}_chunked_from_session_store`, format, token: bigToken, headers: { cookie: shuffled(chunks).join("; ") } });
    add({ name: `${format}_bare_and_chunks_together`, format, headers: { cookie: `${plainName}=${token}; ${chunks.join("; ")}` } });

    const secureBig = await encode(format, { secret, payload: bigPayload, salt: secureName });
    add({ name: `${format}_secure_chunked`, format, secure: true, token: secureBig, headers: { cookie: chunkCookies(format, secureName, true, secureBig).join("; ") } });

    const custom = "my.session";
    const customToken = await encode(format, { secret, payload, salt: custom });
    add({ name: `${format}_custom_cookie_name`, format, cookie_name: custom, token: customToken, headers: { cookie: `${custom}=${customToken}` } });

    add({ name: `${format}_expired`, format, headers: { cookie: `${plainName}=${await encode(format, { secret, payload, maxAge: -100, salt: plainName })}` } });
    add({ name: `${format}_exp_inside_leeway`, format, headers: { cookie: `${plainName}=${await encode(format, { secret, payload, maxAge: -10, salt: plainName })}` } });
    add({ name: `${format}_exp_outside_leeway`, format, headers: { cookie: `${plainName}=${await encode(format, { secret, payload, maxAge: -20, salt: plainName })}` } });
    add({ name: `${format}_nbf_in_the_future`, format, headers: { cookie: `${plainName}=${await encode(format, { secret, payload: { ...payload, nbf: now() + 100 }, salt: plainName })}` } });
    add({ name: `${format}_wrong_secret`, format, headers: { cookie: `${plainName}=${await encode(format, { secret: old_secret, payload, salt: plainName })}` } });

    const parts = token.split(".");
    const ct = parts[3];
    const mid = Math.floor(ct.length / 2);
    parts[3] = ct.slice(0, mid) + (ct[mid] === "A" ? "B" : "A") + ct.slice(mid + 1);
    add({ name: `${format}_tampered`, format, headers: { cookie: `${plainName}=${parts.join(".")}` } });

    const noExp = format === "v4"
      ? await rawJwe("v4", secret, { ...payload, iat: now() })
      : await rawJwe("v5", secret, { ...payload, iat: now() }, { salt: plainName, kid: undefined });
    add({ name: `${format}_without_exp`, format, token: noExp, headers: { cookie: `${plainName}=${noExp}` } });

    add({ name: `${format}_bearer`, format, token, headers: { authorization: `Bearer ${token}` } });
    add({ name: `${format}_bearer_percent_encoded`, format, token, headers: { authorization: `Bearer ${token.replaceAll(".", "%2E")}` } });
    add({ name: `${format}_bearer_malformed_percent`, format, headers: { authorization: "Bearer %E0%A4%A" } });
    const other = await encode(format, { secret, payload: { ...payload, name: "Bearer Person" }, salt: plainName });
    add({ name: `${format}_cookie_wins_over_bearer`, format, token, headers: { cookie: `${plainName}=${token}`, authorization: `Bearer ${other}` } });

    const otherFormat = format === "v4" ? "v5" : "v4";
    const foreign = await encode(otherFormat, { secret, payload, salt: plainName });
    add({ name: `${format}_reads_${otherFormat}_token_as_nothing`, format, headers: { cookie: `${plainName}=${foreign}` } });
  }

  // v5 secret rotation: encoded with the old secret, read with [new, old].
  const v5name = defaultName("v5", false);
  const rotated = await v5jwt.encode({ token: payload, secret: old_secret, salt: v5name });
  add({ name: "v5_rotated_secret", format: "v5", secrets: [secret, old_secret], token: rotated, headers: { cookie: `${v5name}=${rotated}` } });
  // A256GCM without kid: only the first secret is tried.
  const gcm = await rawJwe("v5", secret, { ...payload, iat: now(), exp: now() + 3600 }, { enc: "A256GCM", salt: v5name });
  add({ name: "v5_a256gcm_without_kid", format: "v5", token: gcm, headers: { cookie: `${v5name}=${gcm}` } });
  const gcmOld = await rawJwe("v5", old_secret, { ...payload, iat: now(), exp: now() + 3600 }, { enc: "A256GCM", salt: v5name });
  add({ name: "v5_a256gcm_without_kid_second_secret", format: "v5", secrets: [secret, old_secret], headers: { cookie: `${v5name}=${gcmOld}` } });

  const cases = [];
  for (const spec of specs) {
    const expected = await libraryGetToken(spec);
    const { token, ...rest } = spec;
    cases.push({ ...rest, now: now(), expected: expected ?? null, ...(token ? { token } : {}) });
  }
  return { generated_by: { "next-auth": v4Version(), "@auth/core": "0.41.3", node: process.version }, cases };
}

function v4Version() {
  return "4.24.15";
}

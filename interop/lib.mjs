// Shared helpers: the real libraries, loaded the way next-auth and Auth.js load them.
import { createRequire } from "node:module";
import { hkdfSync, randomBytes } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const v4jwt = require("next-auth/jwt");
// next-auth's package exports hide these; they are what its own handlers use.
export const v4cookie = require(path.join(here, "node_modules/next-auth/core/lib/cookie.js"));
// next-auth resolves `cookie` (0.7.x) from its own dependencies; npm hoists it here.
export const v4serialize = require(path.join(here, "node_modules/cookie/index.js")).serialize;
export const v4core = require(path.join(here, "node_modules/next-auth/core/index.js"));
export const v5jwt = await import("@auth/core/jwt");
export const v5core = await import("@auth/core");
export const v5cookie = await import(pathToFileURL(path.join(here, "node_modules/@auth/core/lib/utils/cookie.js")).href);
export const v5vendored = await import(pathToFileURL(path.join(here, "node_modules/@auth/core/lib/vendored/cookie.js")).href);
export const jose = await import("jose");

/** Installed versions of the packages that made the data (read from node_modules, not assumed). */
export const versions = Object.fromEntries(
  ["next-auth", "@auth/core", "jose"].map((name) => [name, require(path.join(here, "node_modules", name, "package.json")).version]),
);

export const quiet = { debug() {}, error() {}, warn() {} };
export const now = () => Math.floor(Date.now() / 1000);

export function v4Key(secret) {
  return new Uint8Array(hkdfSync("sha256", secret, "", "NextAuth.js Generated Encryption Key", 32));
}

export function v5Key(secret, salt, length) {
  return new Uint8Array(hkdfSync("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, length));
}

export function randomId() {
  return randomBytes(6).toString("hex");
}

/** Parses a Cookie header into an ordered Map, as Next's RequestCookies does for v4 handlers. */
export function cookieMap(header) {
  const map = new Map();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name) map.set(name, value);
  }
  return map;
}

/** getToken of the given format on a request with these headers. */
export async function libraryGetToken({ format, secrets, secure, cookie_name, headers }) {
  if (format === "v4") {
    const req = { cookies: cookieMap(headers.cookie), headers: { ...headers } };
    return v4jwt.getToken({ req, secret: secrets[0], secureCookie: secure, ...(cookie_name ? { cookieName: cookie_name } : {}), logger: quiet });
  }
  const params = { req: { headers: new Headers(headers) }, secret: secrets.length === 1 ? secrets[0] : secrets, secureCookie: secure, logger: quiet };
  if (cookie_name) params.cookieName = cookie_name;
  return v5jwt.getToken(params);
}

export function defaultName(format, secure) {
  const base = format === "v4" ? "next-auth.session-token" : "authjs.session-token";
  return secure ? `__Secure-${base}` : base;
}

/** The Set-Cookie lines next-auth's / Auth.js's own SessionStore writes for `token`. */
export function libraryChunk({ format, name, secure, token, request_cookies, expires }) {
  const option = { name, options: { httpOnly: true, sameSite: "lax", path: "/", secure } };
  const cookies = Object.fromEntries(request_cookies);
  const entries = format === "v4"
    ? new v4cookie.SessionStore(option, { cookies }, quiet).chunk(token, { expires: new Date(expires * 1000) })
    : new v5cookie.SessionStore(option, cookies, quiet).chunk(token, { expires: new Date(expires * 1000) });
  return entries.map((c) => serialize(format, c));
}

/** The Set-Cookie lines SessionStore.clean() writes for the request's cookies (sign-out). */
export function libraryClean({ format, name, secure, request_cookies }) {
  const option = { name, options: { httpOnly: true, sameSite: "lax", path: "/", secure } };
  const cookies = Object.fromEntries(request_cookies);
  const entries = format === "v4"
    ? new v4cookie.SessionStore(option, { cookies }, quiet).clean()
    : new v5cookie.SessionStore(option, cookies, quiet).clean();
  return entries.map((c) => serialize(format, c));
}

function serialize(format, { name, value, options }) {
  return format === "v4" ? v4serialize(name, value, options) : v5vendored.serialize(name, value, options);
}

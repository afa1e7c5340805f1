// The deployment shapes of README "Where the Rust service lives", against the real next-auth@4
// (core AuthHandler, as its API routes run it) and @auth/core (Auth, as next-auth v5's route
// handler runs it), each with a Credentials provider that accepts one fixed user. Reads a JSON
// array of requests on stdin and answers each, in order. Used by tests/external/topology.rs.
//
//   {op: "signin", format, secret, app_url, allow, cookies, signin_url, callback_url}
//     The browser's sign-in, with a cookie jar kept here:
//       1. GET `signin_url` (the Location the Rust layer answered) on next-auth's own handler;
//       2. GET /api/auth/csrf;
//       3. POST /api/auth/callback/credentials with csrfToken, the credentials and callbackUrl.
//     `allow`: null for next-auth's default `redirect` callback, or an origin that the README's
//     `redirect` callback allows besides the app's own. `cookies`: next-auth's `cookies` option
//     as given (null for none).
//     -> {signin_page: {status, set_cookie}, csrf: {status, set_cookie},
//         callback: {status, location, set_cookie}}
//   {op: "getToken", format, secret, secure, cookie} -> {claims}
//     next-auth/jwt getToken (v4) or @auth/core/jwt getToken (v5) on a request with that Cookie.
//   {op: "decode", format, secret, salt, token} -> {claims}
//
// Nothing is contacted: `localhost` and `example.com` are only strings in URLs and headers.
import { v4core, v5core, v4serialize, quiet, libraryGetToken, v4jwt, v5jwt } from "./lib.mjs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const V4Credentials = require("next-auth/providers/credentials").default;
const V5Credentials = (await import("@auth/core/providers/credentials")).default;

export const USER = { id: "42", name: "Zoë Topology", email: "zoe@example.com" };
export const PASSWORD = "correct horse battery staple";

const authorize = async (credentials) =>
  credentials?.username === USER.email && credentials?.password === PASSWORD ? { ...USER } : null;

/** README "Where the Rust service lives", item 2, with `allow` in place of the Rust origin. */
function readmeRedirect(allow) {
  return function redirect({ url, baseUrl }) {
    if (url.startsWith("/")) return `${baseUrl}${url}`;
    const origin = new URL(url).origin;
    return origin === baseUrl || origin === allow ? url : baseUrl;
  };
}

function config(req) {
  const credentials = { credentials: { username: {}, password: {} }, authorize };
  const out = {
    secret: req.secret,
    providers: [req.format === "v4" ? V4Credentials(credentials) : V5Credentials(credentials)],
    logger: quiet,
  };
  if (req.allow) out.callbacks = { redirect: readmeRedirect(req.allow) };
  if (req.cookies) out.cookies = req.cookies;
  if (req.format === "v5") Object.assign(out, { trustHost: true, basePath: "/api/auth" });
  return out;
}

/** One request to the library's handler -> {status, location, set_cookie}. */
async function handle(req, url, init) {
  if (req.format === "v4") {
    // next-auth@4.24.15 core/index.js: NEXTAUTH_URL is the origin (detect-origin.js), the action
    // is the 4th path segment, the body is read as JSON.
    process.env.NEXTAUTH_URL = req.app_url;
    const res = await v4core.AuthHandler({ req: new Request(url, init), options: config(req) });
    // next-auth@4.24.15 next/index.js: `redirect` becomes a 302; cookies go through
    // next/utils.js setCookie = `cookie.serialize(name, value, options)`.
    return {
      status: res.redirect ? 302 : (res.status ?? 200),
      location: res.redirect ?? null,
      body: res.body ?? null,
      set_cookie: (res.cookies ?? []).map((c) => v4serialize(c.name, c.value, c.options)),
    };
  }
  const res = await v5core.Auth(new Request(url, init), config(req));
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, location: res.headers.get("location"), body, set_cookie: res.headers.getSetCookie() };
}

/** A browser's cookie jar, enough for one origin: name -> value, in order. */
class Jar {
  #map = new Map();
  apply(setCookie) {
    for (const line of setCookie) {
      const pair = line.split(";")[0];
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/;\s*Max-Age=0(;|$)/i.test(line) || value === "") this.#map.delete(name);
      else this.#map.set(name, value);
    }
  }
  header() {
    return [...this.#map].map(([n, v]) => `${n}=${v}`).join("; ");
  }
}

async function signin(req) {
  const jar = new Jar();
  const headers = () => (jar.header() ? { cookie: jar.header() } : {});
  const signinPage = await handle(req, req.signin_url, { headers: headers() });
  jar.apply(signinPage.set_cookie);
  const csrf = await handle(req, `${req.app_url}/api/auth/csrf`, { headers: headers() });
  jar.apply(csrf.set_cookie);
  const form = {
    csrfToken: csrf.body?.csrfToken,
    username: USER.email,
    password: PASSWORD,
    callbackUrl: req.callback_url,
  };
  // v4's core reads a JSON body (its Next API route hands it the parsed form); v5's reads the
  // form as a browser posts it.
  const init = req.format === "v4"
    ? { method: "POST", headers: { ...headers(), "content-type": "application/json" }, body: JSON.stringify(form) }
    : {
      method: "POST",
      headers: { ...headers(), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    };
  const callback = await handle(req, `${req.app_url}/api/auth/callback/credentials`, init);
  const strip = ({ status, location, set_cookie }) => ({ status, location, set_cookie });
  return { signin_page: strip(signinPage), csrf: strip(csrf), callback: strip(callback) };
}

async function answer(req) {
  switch (req.op) {
    case "signin":
      return signin(req);
    case "getToken":
      return {
        claims: (await libraryGetToken({
          format: req.format, secrets: [req.secret], secure: req.secure, cookie_name: null,
          headers: { cookie: req.cookie },
        })) ?? null,
      };
    case "decode":
      try {
        const claims = req.format === "v4"
          ? await v4jwt.decode({ token: req.token, secret: req.secret })
          : await v5jwt.decode({ token: req.token, secret: req.secret, salt: req.salt });
        return { claims: claims ?? null };
      } catch {
        return { claims: null };
      }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const req of JSON.parse(input)) out.push(await answer(req));
process.stdout.write(JSON.stringify(out));

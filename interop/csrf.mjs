// next-auth's login-CSRF token, from the real libraries: reads a JSON array of requests on stdin
// and answers each with what next-auth@4 (core AuthHandler, as its API routes run it) and
// @auth/core (Auth, as next-auth v5's route handler runs it) answer. Used by
// tests/interop_csrf.rs:
//   {op: "csrf", format, secrets, secure, cookie?}
//     GET /api/auth/csrf -> {status, csrf_token, set_cookie: [csrf Set-Cookie lines]}
//   {op: "signout", format, secrets, secure, cookie, csrf_token}
//     POST /api/auth/signout with the cookie header and the body's csrfToken
//     -> {status, location, set_cookie: [every Set-Cookie line]}
// Both handlers get a web `Request`, so the Cookie header goes through the libraries' own cookie
// parsers (`cookie@0.7.2` parse for v4, the vendored one for v5), percent-decoding included.
import { v4core, v5core, v4serialize, quiet } from "./lib.mjs";

const origin = (secure) => (secure ? "https://localhost:3000" : "http://localhost:3000");

async function v4(req, action, init) {
  // next-auth@4.24.15 core/index.js toInternalRequest: the action is the 4th path segment, the
  // body is read as JSON, cookies come from `cookie.parse(req.headers.get("cookie"))`.
  process.env.NEXTAUTH_URL = origin(req.secure);
  const secret = req.secrets[0];
  const res = await v4core.AuthHandler({
    req: new Request(`${origin(req.secure)}/api/auth/${action}`, init),
    options: { secret, providers: [], logger: quiet },
  });
  // next-auth@4.24.15 next/utils.js setCookie: `cookie.serialize(name, value, options)`.
  const setCookie = (res.cookies ?? []).map((c) => v4serialize(c.name, c.value, c.options));
  return {
    status: res.redirect ? 302 : (res.status ?? 200),
    location: res.redirect ?? null,
    body: res.body ?? null,
    set_cookie: setCookie,
  };
}

async function v5(req, action, init) {
  const secret = req.secrets.length === 1 ? req.secrets[0] : req.secrets;
  const res = await v5core.Auth(new Request(`${origin(req.secure)}/api/auth/${action}`, init), {
    secret, providers: [], trustHost: true, basePath: "/api/auth", logger: quiet,
  });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, location: res.headers.get("location"), body, set_cookie: res.headers.getSetCookie() };
}

async function answer(req) {
  const run = req.format === "v4" ? v4 : req.format === "v5" ? v5 : null;
  if (!run) throw new Error(`unknown format ${req.format}`);
  const cookie = req.cookie ? { cookie: req.cookie } : {};
  switch (req.op) {
    case "csrf": {
      const res = await run(req, "csrf", { headers: cookie });
      return {
        status: res.status,
        csrf_token: res.body?.csrfToken ?? null,
        set_cookie: res.set_cookie.filter((c) => c.split("=")[0].endsWith("csrf-token")),
      };
    }
    case "signout": {
      const init = req.format === "v4"
        ? { method: "POST", headers: { ...cookie, "content-type": "application/json" }, body: JSON.stringify({ csrfToken: req.csrf_token }) }
        : {
          method: "POST",
          headers: { ...cookie, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ csrfToken: req.csrf_token }).toString(),
        };
      const res = await run(req, "signout", init);
      return { status: res.status, location: res.location, set_cookie: res.set_cookie };
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

// next-auth's own client against tower-nextauth's SessionEndpoint: reads
// {"v4_url","v4_cookie","v5_url","v5_cookie","secret"} on stdin (the URLs are a Rust test
// server's `http://127.0.0.1:<port>/<prefix>/api/auth`), and prints what the clients got:
//
// - `get_session` / `get_session_anonymous`: next-auth@4's `getSession` from `next-auth/react`,
//   run server-side as `getSession({ req: { headers: { cookie } } })`. It fetches
//   `${NEXTAUTH_URL}/session` (client/_utils.js `fetchData` and `apiBaseUrl`) and returns the
//   parsed body, or `null` for `{}`.
// - `fetch_v4` / `fetch_v5` / `fetch_v5_anonymous`: a plain `fetch` of `<url>/session`, parsed
//   with `res.json()`, with its status and headers.
// - `upstream_v4`: next-auth@4's own session route (core/routes/session.js through AuthHandler)
//   for the same cookie and secret, with the JS twin of the Rust test's `session` callback.
//
// Used by tests/external/session_client.rs. It talks to 127.0.0.1 only and refuses other hosts.
import { createRequire } from "node:module";
import { text } from "node:stream/consumers";
import { v4core, quiet, cookieMap } from "./lib.mjs";

const require = createRequire(import.meta.url);
const input = JSON.parse(await text(process.stdin));

for (const key of ["v4_url", "v5_url"]) {
  const url = new URL(input[key]);
  if (url.protocol !== "http:" || url.hostname !== "127.0.0.1") {
    throw new Error(`${key} must be http://127.0.0.1:…, got ${input[key]}`);
  }
}

// `next-auth/react` reads its base URL from the environment when it is loaded, so set it first
// (and clear what would take precedence server-side).
process.env.NEXTAUTH_URL = input.v4_url;
delete process.env.NEXTAUTH_URL_INTERNAL;
delete process.env.VERCEL_URL;

// `next-auth/react` also loads `react` and `react/jsx-runtime` (peer dependencies, not installed
// here: see README.md). `getSession` never calls React; at load time the module only calls
// `React.createContext` if it exists. Hand it an empty module for those two names; everything
// else, including `getSession` and the `fetchData` it calls, is next-auth's own code.
const Module = require("node:module");
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === "react" || request === "react/jsx-runtime") return {};
  return load.call(this, request, parent, isMain);
};
const { getSession } = require("next-auth/react");
Module._load = load;

async function plainFetch(base, cookie) {
  const res = await fetch(`${base}/session`, { headers: cookie ? { cookie } : {} });
  const raw = await res.clone().text();
  return {
    status: res.status,
    content_type: res.headers.get("content-type"),
    cache_control: res.headers.get("cache-control"),
    set_cookie: res.headers.getSetCookie(),
    raw,
    body: await res.json(),
  };
}

/** next-auth v4's session route with a `session` callback, as a Next app configures it. */
async function upstreamV4(secret, cookie) {
  const res = await v4core.AuthHandler({
    req: {
      action: "session",
      method: "GET",
      cookies: Object.fromEntries(cookieMap(cookie)),
      headers: { cookie },
    },
    options: {
      secret,
      providers: [],
      logger: quiet,
      callbacks: {
        session({ session, token }) {
          session.user.id = token.sub;
          session.accessToken = token.accessToken;
          return session;
        },
      },
    },
  });
  return res.body;
}

const out = {
  get_session: await getSession({ req: { headers: { cookie: input.v4_cookie } } }),
  get_session_anonymous: await getSession({ req: { headers: {} } }),
  fetch_v4: await plainFetch(input.v4_url, input.v4_cookie),
  fetch_v5: await plainFetch(input.v5_url, input.v5_cookie),
  fetch_v5_anonymous: await plainFetch(input.v5_url, null),
  upstream_v4: await upstreamV4(input.secret, input.v4_cookie),
};
process.stdout.write(JSON.stringify(out));

// The real @auth/pg-adapter (on node-postgres) against the database in DATABASE_URL: reads a JSON
// array of requests on stdin and answers each with what the adapter, or next-auth's session route
// running on it, does. Used by tests/postgres/adapter.rs to check that tower-nextauth's
// database::Database and the adapter read and write the same rows.
//
//   {"op":"createUser","user":{"name","email","image"}}        -> {"user":{...}}
//   {"op":"createSession","userId","expires","sessionToken"?}   -> {"session":{...}}  (token: crypto.randomUUID(), as core)
//   {"op":"getSessionAndUser","sessionToken"}                   -> {"result":{"session","user"}|null}
//   {"op":"deleteSession","sessionToken"}                       -> {}
//   {"op":"route","format":"v4"|"v5","sessionToken","maxAge"?,"updateAge"?}
//       -> {"status","body","session_cookies"}: next-auth@4's AuthHandler or @auth/core's Auth
//          answering GET /api/auth/session with the adapter (strategy "database")
//
// Dates are answered as JSON does (toISOString).
import { randomUUID } from "node:crypto";
import pg from "pg";
import PostgresAdapter from "@auth/pg-adapter";
import { v4core, v5core, quiet, cookieMap } from "./lib.mjs";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is not set");
const pool = new pg.Pool({ connectionString: url, max: 2 });
const adapter = PostgresAdapter(pool);
const secret = "pg-adapter-interop-secret-0123456789";

async function answer(req) {
  switch (req.op) {
    case "createUser":
      return { user: await adapter.createUser({ emailVerified: null, ...req.user }) };
    case "createSession":
      return {
        session: await adapter.createSession({
          sessionToken: req.sessionToken ?? randomUUID(),
          userId: req.userId,
          expires: new Date(req.expires),
        }),
      };
    case "getSessionAndUser":
      return { result: await adapter.getSessionAndUser(req.sessionToken) };
    case "deleteSession":
      await adapter.deleteSession(req.sessionToken);
      return {};
    case "route":
      return req.format === "v4" ? v4Route(req) : v5Route(req);
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

const sessionOptions = ({ maxAge, updateAge }) => ({
  strategy: "database",
  ...(maxAge !== undefined && { maxAge }),
  ...(updateAge !== undefined && { updateAge }),
});

/** next-auth v4's session route (AuthHandler) with the adapter. */
async function v4Route(req) {
  process.env.NEXTAUTH_URL = "http://localhost:3000";
  const cookie = `next-auth.session-token=${req.sessionToken}`;
  const res = await v4core.AuthHandler({
    req: { action: "session", method: "GET", cookies: Object.fromEntries(cookieMap(cookie)), headers: { cookie } },
    options: { secret, providers: [], adapter, logger: quiet, session: sessionOptions(req) },
  });
  const sessionCookies = (res.cookies ?? []).filter((c) => c.name.includes("session-token"));
  return { status: res.status ?? 200, body: res.body ?? null, session_cookies: sessionCookies.length };
}

/** @auth/core's session route (Auth), as next-auth v5 runs it, with the adapter. */
async function v5Route(req) {
  const request = new Request("http://localhost:3000/api/auth/session", {
    headers: { cookie: `authjs.session-token=${req.sessionToken}` },
  });
  const res = await v5core.Auth(request, {
    secret, providers: [], adapter, trustHost: true, basePath: "/api/auth", logger: quiet,
    session: sessionOptions(req),
  });
  const setCookie = res.headers.getSetCookie().filter((c) => c.includes("session-token"));
  return { status: res.status, body: JSON.parse(await res.text()), session_cookies: setCookie.length };
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const answers = [];
try {
  for (const req of JSON.parse(input)) answers.push(await answer(req));
} finally {
  await pool.end();
}
process.stdout.write(JSON.stringify(answers));

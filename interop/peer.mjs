// The libraries as a peer: reads a JSON array of requests on stdin and answers each with what
// next-auth@4 / @auth/core themselves produce. Used by tests/interop.rs (ours -> theirs, and
// byte-for-byte comparisons of Set-Cookie sets and session responses).
import {
  v4jwt, v5jwt, v4core, v5core, quiet, cookieMap,
  libraryGetToken, libraryChunk, libraryClean,
} from "./lib.mjs";

async function answer(req) {
  switch (req.op) {
    case "getToken":
      return { claims: (await libraryGetToken(req)) ?? null };
    case "decode":
      try {
        const claims = req.format === "v4"
          ? await v4jwt.decode({ token: req.token, secret: req.secrets[0] })
          : await v5jwt.decode({ token: req.token, secret: req.secrets, salt: req.salt });
        return { claims: claims ?? null };
      } catch {
        return { claims: null };
      }
    case "encode":
      return {
        token: req.format === "v4"
          ? await v4jwt.encode({ token: req.payload, secret: req.secret })
          : await v5jwt.encode({ token: req.payload, secret: req.secret, salt: req.salt }),
      };
    case "chunk":
      return { set_cookie: libraryChunk(req) };
    case "clean":
      return { set_cookie: libraryClean(req) };
    case "session":
      return req.format === "v4" ? v4Session(req) : v5Session(req);
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

/** next-auth v4's own session action (AuthHandler), as its API route runs it. */
async function v4Session({ secret, secure, cookie }) {
  process.env.NEXTAUTH_URL = secure ? "https://localhost:3000" : "http://localhost:3000";
  const res = await v4core.AuthHandler({
    req: {
      action: "session",
      method: "GET",
      cookies: Object.fromEntries(cookieMap(cookie)),
      headers: { cookie: cookie ?? "" },
    },
    options: { secret, providers: [], logger: quiet },
  });
  const sessionCookies = (res.cookies ?? []).filter((c) => c.name.includes("session-token"));
  return { status: res.status ?? 200, body: JSON.stringify(res.body), session_cookies: sessionCookies.length };
}

/** @auth/core's own session action (Auth), as next-auth v5's route handler runs it. */
async function v5Session({ secret, secure, cookie }) {
  const origin = secure ? "https://localhost:3000" : "http://localhost:3000";
  const request = new Request(`${origin}/api/auth/session`, { headers: cookie ? { cookie } : {} });
  const res = await v5core.Auth(request, { secret, providers: [], trustHost: true, basePath: "/api/auth", logger: quiet });
  const setCookie = res.headers.getSetCookie().filter((c) => c.includes("session-token"));
  return { status: res.status, body: await res.text(), session_cookies: setCookie.length };
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const req of JSON.parse(input)) out.push(await answer(req));
process.stdout.write(JSON.stringify(out));

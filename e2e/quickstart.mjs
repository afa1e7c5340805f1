// Drives the quickstart through a real sign-in, in Debian's Chromium, one "ok <n> <title>" line
// and one screenshot (`<n>-<title>.png`) per step; tests/external/browser.rs counts them:
//   node e2e/quickstart.mjs <base url> <screenshot dir>
// Exits non-zero (with the failing step) when the browser sees anything else.
// The sign-in step also plays a login-CSRF attack: a page on another site (attacker.test, mapped
// to loopback) posts the sign-in form to the app, and the app must refuse it with 403.
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node quickstart.mjs <base url> <screenshot dir>");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    // Another site for the cross-site post; the app itself is on 127.0.0.1.
    "--host-resolver-rules=MAP attacker.test 127.0.0.1",
  ],
});
// One context (one cookie jar) for the user's tab and the attacker's tab of step 1.
const context = await browser.newContext();
const page = await context.newPage();
let step = 0;

async function check(title, fn) {
  step += 1;
  try {
    await fn();
  } finally {
    await page.screenshot({ path: `${shots}/${step}-${title}.png`, fullPage: true });
  }
  console.log(`ok ${step} ${title}`);
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

/** The text of `selector`, or "" when the page has none. */
async function text(selector) {
  return (await page.locator(selector).count()) ? await page.textContent(selector) : "";
}

try {
  await check("home-signed-out", async () => {
    const res = await page.goto(`${base}/`);
    expect(res.ok(), `home status ${res.status()}`);
    for (const href of ["/", "/dashboard", "/admin", "/session", "/api/auth/signin"]) {
      expect(await page.locator(`header nav a[href="${href}"]`).count() === 1, `no nav link to ${href}`);
    }
    expect((await text("main")).includes("You are not signed in"), `home says: ${await text("main")}`);
  });

  await check("session-signed-out", async () => {
    await Promise.all([page.waitForURL(`${base}/session`), page.click('header a[href="/session"]')]);
    expect(await text("#reason") === "no-session", `reason ${await text("#reason")}`);
    const body = await text("main");
    expect(body.includes("authjs.session-token") && body.includes("next-auth.session-token"),
      `accepted names missing: ${body}`);
    expect(!(await page.locator("#claims").count()), "claims shown without a session");
  });

  await check("dashboard-redirects-to-sign-in", async () => {
    const res = await page.goto(`${base}/dashboard`);
    expect(res.ok(), `sign-in page status ${res.status()}`);
    const url = new URL(page.url());
    expect(url.pathname === "/api/auth/signin", `landed on ${page.url()}`);
    expect(url.searchParams.get("callbackUrl") === "/dashboard", `callbackUrl ${url.search}`);
    expect(await page.locator("input[name=name]").count() === 1, "no sign-in form");
    // next-auth's double-submit token: in the form, and in an HttpOnly, SameSite=Lax cookie.
    const token = await page.inputValue("input[name=csrfToken]");
    expect(/^[0-9a-f]{64}$/.test(token), `csrfToken ${token}`);
    const csrf = (await page.context().cookies()).find((c) => c.name === "authjs.csrf-token");
    expect(csrf && csrf.httpOnly && csrf.sameSite === "Lax" && csrf.value.startsWith(`${token}%7C`),
      `csrf cookie ${JSON.stringify(csrf)}`);

    // Login CSRF: another site posts the sign-in form, even with the victim's own token.
    const attacker = await context.newPage();
    try {
      await attacker.goto(`http://attacker.test:${new URL(base).port}/`);
      const action = `${base}/api/auth/signin`;
      const [res] = await Promise.all([
        attacker.waitForResponse((r) => r.url() === action && r.request().method() === "POST"),
        attacker.evaluate(({ action, token }) => {
          const form = document.createElement("form");
          form.method = "post";
          form.action = action;
          const fields = { csrfToken: token, name: "Mallory", email: "mallory@evil.example", role: "admin", callbackUrl: "/dashboard" };
          for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement("input");
            input.type = "hidden";
            input.name = name;
            input.value = value;
            form.append(input);
          }
          document.body.append(form);
          form.submit();
        }, { action, token }),
      ]);
      expect(res.status() === 403, `cross-site sign-in answered ${res.status()}`);
      const cookies = await page.context().cookies();
      expect(!cookies.some((c) => c.name.startsWith("authjs.session-token")), "cross-site sign-in set a session");
    } finally {
      await attacker.close();
    }
  });

  await check("signed-in-back-on-dashboard", async () => {
    await page.fill("input[name=name]", "Grace Hopper");
    await page.fill("input[name=email]", "grace@example.com");
    await page.selectOption("select[name=role]", "user");
    await Promise.all([page.waitForURL(`${base}/dashboard`), page.click("button[type=submit]")]);
    const text = await page.textContent("body");
    expect(text.includes("Hello, Grace Hopper!"), `dashboard says: ${text}`);
    const cookies = await page.context().cookies();
    expect(cookies.some((c) => c.name === "authjs.session-token" && c.httpOnly && c.sameSite === "Lax"), "no session cookie");
  });

  await check("session-signed-in", async () => {
    await Promise.all([page.waitForURL(`${base}/session`), page.click('header a[href="/session"]')]);
    const claims = JSON.parse(await text("#claims"));
    expect(claims.name === "Grace Hopper" && claims.email === "grace@example.com" && claims.role === "user",
      `claims ${JSON.stringify(claims)}`);
    expect(typeof claims.exp === "number" && claims.exp > Date.now() / 1000, `exp ${claims.exp}`);
    expect(await page.locator("#reason").count() === 0, "a refusal reason while signed in");
    // The countdown runs in the page: "in 29d 23h 59m 58s".
    await page.waitForFunction(() => /^in (\d+d )?(\d+h )?(\d+m )?\d+s$/.test(document.getElementById("expiry")?.textContent ?? ""));
    // Cookie names and sizes, never their values.
    const session = (await context.cookies()).find((c) => c.name === "authjs.session-token");
    const html = await page.content();
    expect(html.includes(`${session.value.length} bytes`), "session cookie size missing");
    expect(!html.includes(session.value.slice(0, 40)), "the page shows the session cookie's value");
    expect((await text("header")).includes("Grace Hopper"), `header says: ${await text("header")}`);
  });

  await check("admin-is-forbidden-for-a-user", async () => {
    const res = await page.goto(`${base}/admin`);
    expect(res.status() === 403, `admin status ${res.status()}`);
    expect(new URL(page.url()).pathname === "/admin", `redirected to ${page.url()}`);
    expect((await text("h1")) === "Access denied", `403 page says: ${await text("main")}`);
  });

  await check("session-tampered-cookie", async () => {
    // One base64url character of the ciphertext changed: the AEAD tag no longer matches.
    const good = (await context.cookies()).find((c) => c.name === "authjs.session-token");
    const parts = good.value.split(".");
    expect(parts.length === 5, `not a compact JWE: ${parts.length} segments`);
    const c = parts[3];
    parts[3] = c.slice(0, 5) + (c[5] === "A" ? "Q" : "A") + c.slice(6);
    await context.addCookies([{ ...good, value: parts.join(".") }]);
    try {
      await page.goto(`${base}/session`);
      expect(await text("#reason") === "undecryptable", `reason ${await text("#reason")}`);
      const body = await text("main");
      expect(body.includes("did not decrypt"), `no likely cause: ${body}`);
      expect(!(await page.locator("#claims").count()), "claims shown for a tampered cookie");
      const res = await page.goto(`${base}/dashboard`);
      expect(new URL(page.url()).pathname === "/api/auth/signin", `tampered cookie let ${res.url()} through`);
      await page.goto(`${base}/session`);
    } finally {
      await context.addCookies([good]);
    }
  });

  await check("signed-out", async () => {
    await page.goto(`${base}/dashboard`);
    expect((await text("main")).includes("Hello, Grace Hopper!"), "the restored session was not accepted");
    await Promise.all([page.waitForURL(`${base}/`), page.click("text=Sign out")]);
    expect((await text("main")).includes("You are not signed in"), `home says: ${await text("main")}`);
    const cookies = await page.context().cookies();
    expect(!cookies.some((c) => c.name.startsWith("authjs.session-token")), "session cookie survived sign-out");
  });

  await check("dashboard-redirects-again", async () => {
    await page.goto(`${base}/dashboard`);
    expect(new URL(page.url()).pathname === "/api/auth/signin", `landed on ${page.url()}`);
  });
} catch (err) {
  console.error(`not ok ${step}: ${err.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}

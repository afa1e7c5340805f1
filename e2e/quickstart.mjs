// Drives the quickstart through the five steps of a real sign-in, in Debian's Chromium:
//   node e2e/quickstart.mjs <base url> <screenshot dir>
// Exits non-zero (with the failing step) when the browser sees anything else.
// The first step also plays a login-CSRF attack: a page on another site (attacker.test, mapped
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

try {
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

  await check("admin-is-forbidden-for-a-user", async () => {
    const res = await page.goto(`${base}/admin`);
    expect(res.status() === 403, `admin status ${res.status()}`);
    expect(new URL(page.url()).pathname === "/admin", `redirected to ${page.url()}`);
  });

  await check("signed-out", async () => {
    await page.goto(`${base}/dashboard`);
    await Promise.all([page.waitForURL(`${base}/`), page.click("text=Sign out")]);
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

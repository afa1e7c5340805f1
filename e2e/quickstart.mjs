// Drives the quickstart through the five steps of a real sign-in, in Debian's Chromium:
//   node e2e/quickstart.mjs <base url> <screenshot dir>
// Exits non-zero (with the failing step) when the browser sees anything else.
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
  ],
});
const page = await browser.newPage();
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

// Writes the committed fixtures ../tests/fixtures/nextauth_cases.json with a fixed secret.
import { writeFileSync, mkdirSync } from "node:fs";
import { buildCases } from "./cases.mjs";

const out = new URL("../tests/fixtures/", import.meta.url);
mkdirSync(out, { recursive: true });
const cases = await buildCases({
  secret: "fixture-secret-please-change-0123456789",
  old_secret: "fixture-old-secret-0123456789abcdef",
  payload: {
    name: "Ada Lovelace",
    email: "ada@example.com",
    picture: "https://example.com/ada.png",
    sub: "42",
    role: "admin",
    accessToken: "at-123",
  },
});
writeFileSync(new URL("nextauth_cases.json", out), JSON.stringify(cases, null, 1) + "\n");
console.log(`wrote ${cases.cases.length} cases`);

// Live interop: reads {"secret","old_secret","payload"} on stdin, prints {"cases":[...]}.
import { buildCases } from "./cases.mjs";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
process.stdout.write(JSON.stringify(await buildCases(request)));

// The dashboard in a real browser: Debian's headless Chromium driven by
// playwright-core, launched as /work/shared/tools/screenshot.mjs does.
//
// usage: node browser.mjs LOGIN_URL OUTDIR
// Prints `ok - …` / `not ok - …` lines (tests/README.md) and saves a
// screenshot of each page in OUTDIR. The topology is browser.test.sh's.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [loginUrl, outDir] = process.argv.slice(2);
let failed = 0;
const ok = (cond, what) => {
  if (!cond) failed++;
  console.log(`${cond ? "ok" : "not ok"} - ${what}`);
  return cond;
};
fs.mkdirSync(outDir, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "apx-dash-profile-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  viewport: { width: 1440, height: 900 },
});
const errors = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.setDefaultTimeout(20000);

  // Log in through the token URL: a cookie, then the dashboard.
  const resp = await page.goto(loginUrl);
  ok(resp && resp.ok(), "the login URL answers");
  ok(new URL(page.url()).pathname === "/" && !page.url().includes("t="), `it lands on / without the token in the address (${page.url()})`);
  const cookies = await context.cookies();
  const c = cookies.find((k) => k.name === "apx_dash");
  ok(c && c.httpOnly && c.sameSite === "Strict", "the session cookie is HttpOnly and SameSite=Strict");

  const row = (name) => page.locator(`#res-table tbody tr[data-name="${name}"]`);
  const stateOf = async (name) => (await row(name).getAttribute("data-state")) || "";

  // Every resource of the topology reaches running or healthy; the
  // explicit_start one stays not started.
  const want = { db: "healthy", cache: "healthy", api: "running", worker: "running" };
  let reached = false;
  for (let i = 0; i < 200 && !reached; i++) {
    reached = true;
    for (const [n, s] of Object.entries(want)) if ((await row(n).count()) === 0 || (await stateOf(n)) !== s) reached = false;
    if (!reached) await page.waitForTimeout(100);
  }
  const states = {};
  for (const n of [...Object.keys(want), "later"]) states[n] = (await row(n).count()) ? await stateOf(n) : "(missing)";
  ok(reached, `every resource reaches its state: ${JSON.stringify(states)}`);
  ok(states.later === "not started", "the explicit_start resource waits in not started");
  ok(await page.locator("#graph svg .node").count() === 6, "the graph draws one node per resource");
  ok(await page.locator("#graph svg path.edge.wait").count() >= 2 && await page.locator("#graph svg path.edge.ref").count() >= 1,
    "the graph draws waits and references");
  await page.screenshot({ path: path.join(outDir, "resources.png"), fullPage: true });

  // Details: secrets masked until revealed.
  await row("db").click();
  await page.locator("#details table.env").waitFor();
  const envText = await page.locator("#details table.env").innerText();
  ok(/DB_PASSWORD/.test(envText) && !envText.includes("s3cret-pw-1234") && envText.includes("••••"),
    "the secret's value is masked in the details pane");
  ok(!(await page.content()).includes("s3cret-pw-1234"), "the secret's value is nowhere in the page");
  ok(/OTEL_EXPORTER_OTLP_ENDPOINT/.test(envText) && /OTEL_EXPORTER_OTLP_PROTOCOL\s+http\/protobuf/.test(envText),
    "the resource got the OTLP exporter's variables");
  ok(/answered 200/.test(await page.locator("#details ol.checks").innerText()), "the health-check history shows a passing check");
  await page.screenshot({ path: path.join(outDir, "details.png"), fullPage: true });
  await page.locator("#details button.reveal").click();
  await page.waitForFunction(() => document.querySelector("#details table.env")?.innerText.includes("s3cret-pw-1234"));
  ok(true, "reveal shows the secret's value (asked for through the API)");
  await page.locator("#details button.reveal").click();
  await page.waitForFunction(() => !document.querySelector("#details table.env")?.innerText.includes("s3cret-pw-1234"));
  ok(true, "hide masks it again");

  // Why it waits: api waits for cache while cache is stopped.
  // Stop cache: api is shown affected.
  await row("cache").locator("button.act-stop").click();
  await page.waitForFunction(() => document.querySelector('#res-table tr[data-name="cache"]')?.dataset.state === "finished");
  await page.waitForFunction(() => document.querySelector('#res-table tr[data-name="api"]')?.dataset.affected === "1");
  ok(true, "a stopped resource's dependents are shown as affected");
  await page.screenshot({ path: path.join(outDir, "affected.png"), fullPage: true });
  await row("cache").locator("button.act-start").click();
  await page.waitForFunction(() => document.querySelector('#res-table tr[data-name="cache"]')?.dataset.state === "healthy");
  ok(true, "a stopped resource starts again from the page");

  // Restart api: a new start time and a new PID.
  const before = { pid: await row("api").locator("td.pid").innerText(), started: await row("api").locator("td.started").innerText() };
  await row("api").locator("button.act-restart").click();
  let after = before;
  for (let i = 0; i < 100; i++) {
    after = { pid: await row("api").locator("td.pid").innerText(), started: await row("api").locator("td.started").innerText() };
    if (after.pid && after.pid !== before.pid && (await stateOf("api")) === "running") break;
    await page.waitForTimeout(100);
  }
  ok(after.pid && after.pid !== before.pid && after.started !== before.started,
    `restart gives a new PID and start time (${JSON.stringify(before)} -> ${JSON.stringify(after)})`);
  ok((await row("api").locator("td.restarts").innerText()) === "1", "the restart is counted");

  // Start the explicit_start resource.
  await row("later").locator("button.act-start").click();
  await page.waitForFunction(() => document.querySelector('#res-table tr[data-name="later"]')?.dataset.state === "running");
  ok(true, "the explicit_start resource starts from the page");

  // Console: live lines, ANSI colours, filter, pause.
  await page.goto(new URL("/#/console/api", loginUrl).href);
  await page.locator("#con-lines .line").first().waitFor();
  const lineCount = () => page.evaluate(() => window.apxConsole.count());
  const n1 = await lineCount();
  await page.waitForTimeout(1500);
  const n2 = await lineCount();
  ok(n2 > n1, `live lines arrive (${n1} then ${n2})`);
  ok(await page.locator("#con-lines .line .msg span.f2").count() > 0, "ANSI colours are rendered (green text as a class)");
  ok(!(await page.locator("#con-lines").innerText()).includes("\x1b["), "no escape codes are shown");
  await page.locator("#con-pause").click();
  const p1 = await lineCount();
  await page.waitForTimeout(1200);
  ok((await lineCount()) === p1, "pause stops the lines");
  await page.locator("#con-pause").click();
  await page.fill("#con-filter", "tick 1");
  await page.waitForTimeout(300);
  const visible = await page.locator("#con-lines .line").allInnerTexts();
  ok(visible.length > 0 && visible.every((t) => t.includes("tick 1")), `the filter shows matching lines only (${visible.length})`);
  // aspirec's own messages about api (what the terminal prints), marked apart from its output.
  await page.fill("#con-filter", "api: waiting for db");
  await page.waitForTimeout(300);
  const sys = page.locator("#con-lines .line.sys");
  const sysText = (await sys.count()) ? await sys.first().innerText() : "";
  ok(sysText.includes("api: waiting for db") && (await sys.first().locator(".src.sys").innerText()) === "aspirec",
    `aspirec's own message about api is in its console, marked as aspirec's (${JSON.stringify(sysText)})`);
  const [sysStyle, outStyle] = await page.evaluate(() => [document.querySelector("#con-lines .line.sys"), document.querySelector("#con-lines .line:not(.sys)")]
    .map((e) => (e ? getComputedStyle(e).fontStyle + " " + getComputedStyle(e).color : "")));
  await page.fill("#con-filter", "");
  await page.waitForTimeout(300);
  const [outStyle2] = await page.evaluate(() => [document.querySelector("#con-lines .line:not(.sys)")].map((e) => (e ? getComputedStyle(e).fontStyle + " " + getComputedStyle(e).color : "")));
  ok(sysStyle && (outStyle || outStyle2) && sysStyle !== (outStyle || outStyle2), `... drawn unlike the output (${sysStyle} / ${outStyle || outStyle2})`);
  await page.screenshot({ path: path.join(outDir, "console.png") });

  // ... and about the run, from "aspirec", in the view of all resources (before the flood fills it).
  await page.goto(new URL("/#/console", loginUrl).href);
  await page.locator("#con-lines .line").first().waitFor();
  await page.fill("#con-filter", "/^running .*: \\d+ resources/");
  await page.waitForTimeout(300);
  const runLine = await page.locator("#con-lines .line.sys").allInnerTexts();
  ok(runLine.length === 1 && /aspirec\s*running/.test(runLine[0]), `the run's own messages are in the view of all resources (${JSON.stringify(runLine)})`);
  await page.fill("#con-filter", "");

  // All resources, and a flood: bounded lines, a drop mark, the page responsive.
  await page.goto(new URL("/#/console/flood", loginUrl).href);
  await page.locator("#con-lines").waitFor();
  const frames = () => page.evaluate(() => new Promise((resolve) => {
    const out = []; let last = performance.now(); const end = last + 2000;
    const f = (t) => { out.push(t - last); last = t; if (t < end) requestAnimationFrame(f); else resolve(out.sort((a, b) => a - b)); };
    requestAnimationFrame(f);
  }));
  // This machine's pace without a flood (it is shared: frames are slow already when it is busy).
  const base = await frames();
  const baseMedian = Math.round(base[base.length >> 1]);
  const started = await page.evaluate(async () => (await fetch("/api/resources/flood/start", { method: "POST" })).status);
  ok(started === 202, `the page's own POST starts the flood (${started})`);
  await page.locator("#con-dropped:not([hidden])").waitFor({ timeout: 30000 });
  // Frames for 2 s while the flood goes on: how long the page is busy at a time.
  const gaps = await frames();
  console.log("# page time: " + JSON.stringify(await page.evaluate(() => window.apxPerf)));
  const median = Math.round(gaps[gaps.length >> 1]), worst = Math.round(gaps[gaps.length - 1]);
  const count = await lineCount(), rows = await page.locator("#con-rows > div").count();
  ok(count <= 10000 && rows < 200, `a flood keeps the page bounded (${count} lines kept, ${rows} rows drawn)`);
  ok(/older lines dropped/.test(await page.locator("#con-dropped").innerText()), `older lines dropped is marked: ${await page.locator("#con-dropped").innerText()}`);
  ok(median <= Math.max(100, 3 * baseMedian) && worst < 1000,
    `the page stays responsive during the flood (${gaps.length} frames in 2 s, median ${median} ms, worst ${worst} ms; without the flood: median ${baseMedian} ms)`);
  await page.screenshot({ path: path.join(outDir, "console-flood.png") });
  await page.goto(new URL("/#/console", loginUrl).href);
  await page.locator("#con-lines .line").first().waitFor();
  await page.waitForTimeout(500);
  const srcs = new Set(await page.evaluate(() => window.apxConsole.sources()));
  ok(srcs.size >= 2, `the all-resources view shows several resources (${[...srcs].join(", ")})`);
  await page.screenshot({ path: path.join(outDir, "console-all.png") });

  // A cross-site request forgery from another origin in the same browser
  // (the cookie is sent: ports do not make another site, so SameSite does
  // not stop it): a form posted to restart `worker`, and a fetch. The Origin
  // check must refuse both, and worker must keep its PID.
  const pidOf = async (name) => page.evaluate(async (n) => (await (await fetch(`/api/resources/${n}`)).json()).pid, name);
  const pid0 = await pidOf("worker");
  const target = new URL("/api/resources/worker/restart", loginUrl).href;
  const seen = [];
  const evil = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><body><form id="f" method="POST" action="${target}"><input name="x" value="1"></form>
<script>fetch(${JSON.stringify(target)}, { method: "POST", credentials: "include", mode: "no-cors", body: "x" })
  .finally(() => document.getElementById("f").submit());</script>`);
  });
  await new Promise((r) => evil.listen(0, "127.0.0.1", r));
  const evilPage = await context.newPage();
  evilPage.on("response", (r) => { if (r.url() === target) seen.push(r.status()); });
  await evilPage.goto(`http://127.0.0.1:${evil.address().port}/`);
  await evilPage.waitForURL(target, { timeout: 10000 }).catch(() => {});
  await page.waitForTimeout(1500);
  const pid1 = await pidOf("worker");
  ok(seen.length > 0 && seen.every((st) => st === 403),
    `a cross-site form POST from another origin is refused (status ${seen.join(", ") || "none seen"})`);
  ok(pid0 && pid1 === pid0, `and worker was not restarted by it or by a cross-site fetch (PID ${pid0} -> ${pid1})`);
  await evilPage.screenshot({ path: path.join(outDir, "cross-site-refused.png") });
  await evilPage.close();
  evil.close();

  for (const p of ["structured", "traces", "metrics"]) {
    await page.goto(new URL("/#/" + p, loginUrl).href);
    await page.locator(`#page-${p}`).waitFor();
    ok(await page.locator(`#page-${p}`).isVisible(), `the ${p} page has its place`);
    await page.screenshot({ path: path.join(outDir, `${p}.png`) });
  }
  ok(errors.length === 0, `no script errors or CSP violations in the page${errors.length ? ": " + errors.join(" | ") : ""}`);
} catch (e) {
  ok(false, `the browser session: ${e.message.split("\n")[0]}`);
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

// Loads the dashboard in headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM),
// reads the milestone board, uses the as-of selector, and saves a screenshot.
// Prints what it saw as JSON; tests/browser.rs compares it with `waymark status --json`.
//
//   node dashboard.mjs URL SEASON SCREENSHOT.png
import { chromium } from "playwright-core";

const [url, season, screenshot] = process.argv.slice(2);
if (!url || !season || !screenshot) {
  console.error("usage: node dashboard.mjs URL SEASON SCREENSHOT.png");
  process.exit(2);
}

// The board: {milestone id: status} from the cards' data attributes, plus the text a
// reader sees on each card.
async function board(page) {
  return page.$$eval("#board li[data-milestone]", (items) =>
    Object.fromEntries(
      items.map((li) => [
        li.dataset.milestone,
        { status: li.dataset.status, text: li.querySelector(".status").textContent, classes: li.className },
      ]),
    ),
  );
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const response = await page.goto(url, { waitUntil: "load" });
  const head = {
    http_status: response.status(),
    title: await page.title(),
    heading: await page.textContent("h1"),
    as_of: await page.textContent("#as-of"),
    board: await board(page),
    checkpoint: await page.textContent("#checkpoint"),
    graph_svg: await page.locator("#graph svg").count(),
    chart_svg: await page.locator("#progress svg").count(),
    proof_links: await page.locator("table.audit td.hash a").count(),
  };
  // The top of the page: the board, the dependency graph and the progress chart.
  const end = await page.$eval("#progress", (e) => e.getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({ path: screenshot, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(end) + 16 } });

  // The as-of selector: choose the end of an earlier Season and submit the form.
  await page.selectOption("#as_of", `season:${season}`);
  await Promise.all([page.waitForURL(/as_of=season/), page.click("form[aria-label='As of'] button[type=submit]")]);
  const past = {
    url: page.url(),
    as_of: await page.textContent("#as-of"),
    selected: await page.$eval("#as_of", (s) => s.value),
    board: await board(page),
  };

  // An inclusion proof linked from the audit log answers with the SPEC format.
  const href = await page.getAttribute("table.audit td.hash a", "href");
  const proof = await (await page.request.get(new URL(href, url).toString())).json();

  console.log(JSON.stringify({ head, past, proof }));
} finally {
  await browser.close();
}

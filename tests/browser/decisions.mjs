// Opens a ledger's dashboard in headless Chromium (Debian's /usr/bin/chromium, or
// $CHROMIUM), follows its "Who decides" link, reads the decision map, the bodies, the
// transfers and the diagram, saves a screenshot, then uses the as-of selector to see the end of an
// earlier Season. Prints what it saw as JSON; tests/browser.rs compares it with the
// decision map as JSON.
//
//   node decisions.mjs DASHBOARD-URL SEASON SCREENSHOT.png
import { chromium } from "playwright-core";

const [url, season, screenshot] = process.argv.slice(2);
if (!url || !season || !screenshot) {
  console.error("usage: node decisions.mjs DASHBOARD-URL SEASON SCREENSHOT.png");
  process.exit(2);
}

// The decision map as a reader sees it: one entry per row, by decision id.
async function map(page) {
  return page.$$eval("table.decisions tbody tr", (rows) => {
    // One design cell: the decider ids (from the names a reader sees), the names, the
    // process; null where the cell holds no design.
    function designIn(td) {
      const ul = td.querySelector("ul.design");
      if (!ul) return null;
      const deciders = [...ul.querySelectorAll("li.deciders .body")];
      return {
        deciders: deciders.map((b) => b.dataset.body),
        names: deciders.map((b) => b.textContent),
        process: ul.dataset.process,
        how: ul.querySelector("li.how").textContent,
        text: ul.textContent,
      };
    }
    return Object.fromEntries(
      rows.map((tr) => {
        const cell = (c) => tr.querySelector(`td.${c}`);
        const seqOf = (a) => Number(a.textContent.replace("seq ", ""));
        return [
          tr.dataset.decision,
          {
            title: tr.querySelector("th").firstChild.textContent,
            now: designIn(cell("now")),
            target: designIn(cell("target")),
            target_text: cell("target").textContent,
            at_target: cell("at-target").textContent.trim(),
            foundation: cell("foundation").textContent.trim(),
            since: { text: cell("since").textContent, seq: seqOf(cell("since").querySelector("a.seq")), href: cell("since").querySelector("a.seq").getAttribute("href") },
            last_change: seqOf(cell("last-change").querySelector("a.seq")),
            evidence: [...cell("evidence").querySelectorAll("a")].map((a) => a.getAttribute("href")),
          },
        ];
      }),
    );
  });
}

async function seen(page) {
  return {
    url: page.url(),
    title: await page.title(),
    heading: await page.textContent("h1"),
    as_of: await page.textContent("#as-of"),
    authority: await page.textContent("#authority"),
    map: await map(page),
    bodies: await page.$$eval("table.bodies tbody tr", (rows) => rows.map((r) => r.dataset.body)),
    transfers: await page.$$eval("ol.transfers > li", (items) => items.map((li) => ({ seq: Number(li.dataset.seq), decision: li.dataset.decision }))),
    seasons: await page.$$eval("#transfers h3", (hs) => hs.map((h) => h.textContent)),
    profile_rows: await page.locator("table.profiles tbody tr").count(),
    diagram_svg: await page.locator("#diagram figure svg").count(),
    diagram_title: await page.textContent("#diagram figure svg title"),
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url, { waitUntil: "load" });
  // The main page's navigation leads to the decision page.
  await Promise.all([page.waitForURL(/\/decisions/), page.click("nav[aria-label=Sections] >> text=Who decides")]);
  const head = await seen(page);
  // The top of the page: the header, the decision map and the diagram.
  const end = await page.$eval("#diagram", (e) => e.getBoundingClientRect().bottom + window.scrollY);
  await page.screenshot({ path: screenshot, fullPage: true, clip: { x: 0, y: 0, width: 1400, height: Math.ceil(end) + 16 } });

  // An inclusion proof linked from the map answers with the SPEC format.
  const first = Object.values(head.map)[0];
  const proof = await (await page.request.get(new URL(first.since.href, page.url()).toString())).json();
  // The diagram's SVG link answers the diagram.
  const svgHref = await page.getAttribute("#diagram p a", "href");
  const svg = await (await page.request.get(new URL(svgHref, page.url()).toString())).text();

  // The as-of selector: the end of an earlier Season.
  await page.selectOption("#as_of", `season:${season}`);
  await Promise.all([page.waitForURL(/as_of=season/), page.click("form[aria-label='As of'] button[type=submit]")]);
  const past = await seen(page);
  past.selected = await page.$eval("#as_of", (s) => s.value);

  console.log(JSON.stringify({ head, past, proof, svg }));
} finally {
  await browser.close();
}

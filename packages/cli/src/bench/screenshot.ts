import { chromium } from "playwright-core";
import { clientSettings } from "@videoforge/core/config";

/**
 * Debian's chromium (CHROMIUM_PATH), headless and quiet: nothing leaves the machine. The
 * browser tests launch it with these flags too.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Render an SVG document to a PNG of its own size. */
export async function svgToPng(svg: string, width: number, height: number, file: string): Promise<void> {
  const browser = await chromium.launch({ executablePath: clientSettings().chromiumPath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: file, clip: { x: 0, y: 0, width, height } });
  } finally {
    await browser.close();
  }
}

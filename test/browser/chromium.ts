import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { CHROMIUM_ARGS as ARGS } from "../../packages/cli/src/bench/screenshot.ts";

/**
 * The system's Debian Chromium, headless, in a fresh profile. playwright-core never
 * downloads a browser; it only drives the one at `executablePath`.
 */
export const CHROMIUM = "/usr/bin/chromium";

export async function launchChromium(
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), "videoforge-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
    acceptDownloads: true,
  });
  // short waits per action: tests poll for what takes longer
  context.setDefaultTimeout(5_000);
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

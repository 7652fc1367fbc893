import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { BUILD_WEB_COMMAND, dashboardBuilt } from "@videoforge/local/api-host";
import { verifySignature } from "@videoforge/core";
import type { JobView } from "@videoforge/core/contract";
import { useTestCloud } from "../helpers/cloud.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { ffmpegBin } from "../fixtures.ts";
import { launchChromium } from "./chromium.ts";

/**
 * The dashboard in real headless Chromium against a real local cloud: upload through the
 * page with its options (trim, captions, packaging), the live list, the job's timeline and
 * Gantt chart, HLS and DASH playback through the API in three codecs with captions, a download
 * compared byte for byte with storage, the finished job as a video in the library (search, its
 * watch page, an edited title, a share link watched in a fresh browser until revoked), a resumed
 * upload after a reload, a non-video file's readable failure, and retry.
 */
/** Jobs whose assembly waits (the preview test): the bus holds their ChunksEncoded until released. */
const heldAssembly = new Map<string, Promise<void>>();
const env = useTestCloud({
  chunkSeconds: 1,
  cloud: {
    faults: {
      beforeDeliver: async (sub, envelope) => {
        const jobId = (envelope.detail as { jobId?: string }).jobId;
        if (sub.handler === "assembler" && jobId) await heldAssembly.get(jobId);
      },
    },
  },
});
const SHOTS = resolve(import.meta.dirname, "../../docs/screenshots");
const MiB = 1024 * 1024;

let browser: Awaited<ReturnType<typeof launchChromium>>;
let clip: string;
/** A captions file for the clip, and one the API refuses (its second line is no timing line). */
let captionsFile: string;
let brokenCaptions: string;
const CUE = "Hello from the street";

interface ApiJob {
  jobId: string;
  status: string;
  chunkCount: number | null;
  retryOf?: string | null;
  outputs: { rendition: string; key: string; bytes: number; height: number }[];
  error: { reason: string } | null;
}
interface ApiView {
  job: ApiJob;
  chunks: { index: number; worker?: string }[];
  timeline: { type: string }[];
}

/** Playwright's own waits are capped at 5 s (see chromium.ts); this retries them up to 10 s unless told. */
const poll = <T>(fn: () => T | Promise<T>, opts: { timeout?: number; interval?: number } = {}) =>
  expect.poll(fn, { timeout: 10_000, interval: 100, ...opts });
/**
 * What the tests touch inside the page
 * (the root tsconfig has no DOM types; page.evaluate bodies run in the browser).
 */
type Video = {
  currentTime: number;
  duration: number;
  readyState: number;
  /** Chromium's count of decoded audio bytes. */
  webkitAudioDecodedByteCount?: number;
  videoHeight: number;
  muted: boolean;
  play(): Promise<void>;
  pause(): void;
};
type Cues = ArrayLike<{ text: string }> | null;
type TextTracks = { textTracks: ArrayLike<{ language: string; mode: string; cues: Cues; activeCues: Cues }> };
/** The texts of the cues of the captions tracks shown now (in the browser: only what it can clone). */
const shownCues = (v: TextTracks) =>
  Array.from(v.textTracks)
    .filter((t) => t.mode === "showing")
    .map((t) => ({ language: t.language, cues: Array.from(t.cues ?? []).map((c) => c.text) }));
/** The texts on screen now: the active cues of the tracks shown. */
const activeCues = (v: TextTracks) =>
  Array.from(v.textTracks)
    .filter((t) => t.mode === "showing")
    .flatMap((t) => Array.from(t.activeCues ?? []).map((c) => c.text));
type Img = { complete: boolean; naturalWidth: number };
type TableRow = {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
};
type PageGlobals = {
  localStorage: { getItem(k: string): string | null; [k: string]: unknown };
  marker?: number;
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
};

const token = () => (env.cloud as { token?: string }).token ?? "none";
const get = <T>(path: string) => env.cloud.client.call<T>("GET", path);

beforeAll(async () => {
  // arrange: the built page, a 3 s clip with a keyframe every second (3 chunks of 1 s), a browser
  const [, , launched] = await Promise.all([
    // `npm test` builds it first (pretest); a test run without it says how
    dashboardBuilt() ? Promise.resolve() : Promise.reject(new Error(`no dashboard build: run ${BUILD_WEB_COMMAND}`)),
    promisify(execFile)(ffmpegBin, [
      ...["-hide_banner", "-loglevel", "error", "-y"],
      ...[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25:duration=3",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=3",
      ],
      ...["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac", "-ac", "2"],
      (clip = join(env.dir, "street clip.mp4")),
    ]),
    launchChromium(),
    mkdir(SHOTS, { recursive: true }),
    writeFile((captionsFile = join(env.dir, "street clip.srt")), `1\n00:00:00,000 --> 00:00:02,500\n${CUE}\n`),
    writeFile((brokenCaptions = join(env.dir, "broken.en.srt")), "1\nsoon\nHello\n"),
  ]);
  browser = launched;
});
afterAll(async () => {
  await browser?.close();
});

async function openDashboard(path = "/"): Promise<Page> {
  const page = await browser.context.newPage();
  // the link `up` prints carries the token in the fragment: it never reaches a server or a Referer (issue 12)
  await page.goto(`${env.cloud.api.url}${path}#token=${encodeURIComponent(token())}`);
  return page;
}

async function storedBytes(bucket: string, key: string): Promise<Buffer> {
  const file = join(env.dir, `stored-${createHash("sha1").update(key).digest("hex")}`);
  await env.cloud.cloud.deps.store.download(bucket, key, file);
  return readFile(file);
}

describe("the dashboard", () => {
  let jobId = "";

  it("uploads a clip through the page and follows the job to COMPLETED in the live list", async () => {
    const page = await openDashboard();

    // the token left the address bar and stayed in the browser
    expect(new URL(page.url()).search).toBe("");
    expect(new URL(page.url()).hash).toBe("");
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem("videoforge.token")),
    ).toBe(token());

    // act: a small ladder, the file, start
    for (const rung of ["1080p", "720p", "480p"]) await page.getByLabel(rung, { exact: true }).uncheck();
    await page.getByLabel("240p", { exact: true }).check();
    // and more formats: VP9 and AV1 beside H.264, each its own chunks, all in the HLS master
    const vp9 = page.getByLabel("vp9", { exact: true });
    const av1 = page.getByLabel("av1", { exact: true });
    await vp9.check();
    await av1.check();
    await page.getByTestId("file-input").setInputFiles(clip);

    // the options: MPEG-TS packaging takes VP9 and AV1 away (and says why), CMAF gives them back
    await page.locator("summary", { hasText: "Options" }).click();
    const packaging = page.getByLabel("Packaging", { exact: true });
    await packaging.selectOption("ts");
    expect([await vp9.isChecked(), await vp9.isDisabled(), await av1.isChecked(), await av1.isDisabled()]).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect(await page.getByTestId("packaging-note").textContent()).toMatch(/H\.264 and HEVC only.*no DASH/);
    await packaging.selectOption("cmaf");
    await vp9.check();
    await av1.check();

    // a trim the form reads (m:ss) and refuses beside the field when it cannot
    const trimStart = page.getByLabel("Trim start", { exact: true });
    await trimStart.fill("1:75");
    expect(await page.locator("#opt-trim-start-problem").textContent()).toMatch(
      /seconds after minutes must be below 60/,
    );
    await trimStart.fill("0");
    await page.getByLabel("Trim end", { exact: true }).fill("0:02.9");
    expect(await page.locator(".field-error").count()).toBe(0);

    // captions the API refuses: its 400 message reaches the page, and no job is made
    await page.getByLabel("Captions files", { exact: true }).setInputFiles(brokenCaptions);
    expect(await page.getByLabel("Language of broken.en.srt", { exact: true }).inputValue()).toBe("en");
    const jobsBefore = (await get<{ jobs: unknown[] }>("/jobs")).jobs.length;
    await page.getByRole("button", { name: "Start upload" }).click();
    const uploadAlert = page.locator("section.upload [role=alert]");
    await poll(() => uploadAlert.textContent()).toMatch(/^Upload failed: captions\[0\] .*line 2\b/);
    expect((await get<{ jobs: unknown[] }>("/jobs")).jobs.length).toBe(jobsBefore);

    // the good file instead; its name names no language, so the form asks for a valid tag
    await page.getByRole("button", { name: "Remove broken.en.srt" }).click();
    await page.getByLabel("Captions files", { exact: true }).setInputFiles(captionsFile);
    const language = page.getByLabel("Language of street clip.srt", { exact: true });
    await language.fill("english");
    expect(await page.locator("#opt-captions-0-problem").textContent()).toMatch(/must be a tag such as en/);
    await language.fill("en");
    expect(await page.locator("#opt-captions-0-problem").count()).toBe(0);

    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42)); // a reload would drop it
    await page.getByRole("button", { name: "Start upload" }).click();

    // assert: the upload finished at 100 % of the file's bytes
    await poll(() => page.getByTestId("upload-status").textContent(), { timeout: 20_000 }).toBe("Uploaded");
    const size = (await readFile(clip)).length;
    const progress = page.getByTestId("upload-progress");
    expect(Number(await progress.getAttribute("value"))).toBe(size);
    expect(Number(await progress.getAttribute("max"))).toBe(size);

    // assert: the new job is first in the list and reaches COMPLETED without a reload
    const row = page.getByTestId("job-row").first();
    await poll(() => row.locator("td.name a").textContent()).toBe("street clip.mp4");
    jobId = (await row.getAttribute("data-job-id"))!;
    await poll(() => row.getByTestId("status").textContent(), { timeout: 60_000, interval: 250 }).toBe("COMPLETED");
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect(await row.locator('td[data-label="Resolution"]').textContent()).toBe("640×360");
    expect(await row.locator('td[data-label="Duration"]').textContent()).toBe("0:03");
    await page.screenshot({ path: join(SHOTS, "jobs.png") });
    await page.close();
  });

  it("lists the finished job in the library, finds it by title, and edits it on its watch page", async () => {
    await env.cloud.waitForEnd(jobId);
    const page = await openDashboard();
    // the library through the header, beside the jobs
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Library" }).click();
    expect(new URL(page.url()).pathname).toBe("/library");

    // assert: the newest video first, with its file name as title and a poster that loaded
    const card = page.getByTestId("video-card").first();
    await poll(() => card.getAttribute("data-video-id")).toBe(jobId);
    expect(await card.locator(".video-title").textContent()).toBe("street clip.mp4");
    expect(await card.getByTestId("video-duration").textContent()).toBe("0:03");
    const poster = card.getByTestId("poster");
    await poll(() => poster.evaluate((img: Img) => (img.complete ? img.naturalWidth : 0))).toBeGreaterThan(0);
    const { storageBytes } = await get<{ storageBytes: number }>("/videos");
    expect(storageBytes).toBeGreaterThan(0);
    expect(await page.getByTestId("storage").textContent()).toMatch(/^Storage in use: \d+(\.\d)? (B|KiB|MiB)$/);
    await page.screenshot({ path: join(SHOTS, "library.png") });

    // act: search (debounced, one request with ?q=): a word of the title in other case keeps it, nonsense does not
    const search = page.getByLabel("Search titles", { exact: true });
    const answered = (q: string) =>
      page.waitForResponse((r) => {
        const url = new URL(r.url());
        return url.pathname === "/videos" && url.searchParams.get("q") === q && r.ok();
      });
    let searched = answered("CLIP");
    await search.fill("CLIP");
    await searched;
    await poll(() => page.locator(`[data-testid="video-card"][data-video-id="${jobId}"]`).count()).toBe(1);
    searched = answered("zqxv nothing");
    await search.fill("zqxv nothing");
    await searched;
    await poll(() => page.getByTestId("library-empty").textContent()).toMatch(/No video has .zqxv nothing. in its/);
    expect(await page.getByTestId("video-card").count()).toBe(0);
    searched = answered("clip");
    await search.fill("clip");
    await searched;

    // act: its watch page, from the card
    await poll(() => page.getByTestId("video-card").count()).toBe(1);
    await page.getByTestId("video-card").first().getByRole("link").click();
    expect(new URL(page.url()).pathname).toBe(`/watch/${jobId}`);
    const title = page.getByTestId("watch-title");
    expect(await title.textContent()).toBe("street clip.mp4");
    // the player with its quality choice (Auto + two rungs in three formats) and a link to each file
    await poll(() => page.getByTestId("quality").locator("option").count(), { timeout: 15_000 }).toBe(7);
    const { job } = await get<ApiView>(`/jobs/${jobId}`);
    const files = job.outputs.map((o) => o.key.slice(o.key.lastIndexOf("/") + 1));
    expect(files).toHaveLength(6);
    await poll(() => page.getByTestId("downloads").getByRole("link").allTextContents()).toEqual([...files, "en.vtt"]);

    // act: a new title and a description, saved, then the page reloaded
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.getByLabel("Title", { exact: true }).fill("  Street at noon ");
    await page.getByLabel("Description", { exact: true }).fill("Test pattern, with a beep.");
    await page.getByRole("button", { name: "Save" }).click();
    await poll(() => title.textContent()).toBe("Street at noon");
    await page.reload();
    await poll(() => title.textContent()).toBe("Street at noon");
    expect(await page.getByTestId("watch-description").textContent()).toBe("Test pattern, with a beep.");
    expect(await get<{ title: string; description: string }>(`/videos/${jobId}`)).toMatchObject({
      title: "Street at noon",
      description: "Test pattern, with a beep.",
    });
    await poll(() => page.getByTestId("quality").locator("option").count(), { timeout: 15_000 }).toBe(7);
    await page.screenshot({ path: join(SHOTS, "watch.png") });

    // act: an empty title: the API's 400 message beside the form, and the title unchanged
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.getByLabel("Title", { exact: true }).fill("   ");
    await page.getByRole("button", { name: "Save" }).click();
    await poll(() => page.getByTestId("edit-problem").textContent()).toMatch(/title must not be empty/);
    expect(await page.getByLabel("Title", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await title.textContent()).toBe("Street at noon");
    expect((await get<{ title: string }>(`/videos/${jobId}`)).title).toBe("Street at noon");
    await page.close();
  });

  it("shares the video by a link that plays in a fresh browser without a token, until it is revoked", async () => {
    await env.cloud.waitForEnd(jobId);
    const page = await openDashboard(`/watch/${jobId}`);
    const { title } = await get<{ title: string }>(`/videos/${jobId}`);

    // act: a link for 7 days (the default), made on the watch page: its whole address, once
    const share = page.getByTestId("shares");
    expect(await share.getByLabel("Expires in (days)").inputValue()).toBe("7");
    await share.getByRole("button", { name: "Create link" }).click();
    const url = new URL(await share.getByTestId("share-url").inputValue());
    expect(url.origin).toBe(new URL(env.cloud.api.url).origin);
    const [, shareId] = /^\/s\/([\w-]+)\.[\w-]{43}$/.exec(url.pathname) ?? [];
    expect(shareId).toBeTruthy();
    const row = share.locator(`tr[data-share-id="${shareId}"]`);
    expect(await row.getByTestId("share-state").textContent()).toBe("active");

    // act: the link in another browser, which has never seen the API token
    const stranger = await launchChromium();
    try {
      const shared = await stranger.context.newPage();
      await shared.goto(url.href);
      expect(
        await shared.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.getItem("videoforge.token")),
      ).toBeNull();
      await poll(() => shared.getByTestId("shared-title").textContent()).toBe(title);
      expect(await shared.locator("#gate-title").count()).toBe(0);
      // assert: it plays (frames advance) from the shared playlists, HLS only
      const video = shared.getByTestId("player");
      await poll(() => shared.getByTestId("quality").locator("option").count(), { timeout: 15_000 }).toBe(7);
      expect(await shared.getByTestId("protocol").locator("option").allTextContents()).toEqual(["HLS"]);
      await video.evaluate((v: Video) => {
        v.muted = true;
        return v.play();
      });
      await poll(() => video.evaluate((v: Video) => v.currentTime), { timeout: 15_000 }).toBeGreaterThan(0.3);
      await video.evaluate((v: Video) => v.pause());
      await shared.screenshot({ path: join(SHOTS, "share.png") });

      // assert: the same link id with another secret opens nothing, and says so
      const forged = await stranger.context.newPage();
      await forged.goto(`${url.origin}/s/${shareId}.${"A".repeat(43)}`);
      await poll(() => forged.getByTestId("shared-error").textContent()).toMatch(/does not exist/);
      expect(await forged.getByTestId("player").count()).toBe(0);
      expect(await forged.getByTestId("shared-title").count()).toBe(0);

      // act: revoke it on the watch page; assert: the shared page, reloaded, says so and plays nothing
      await row.getByRole("button", { name: /^Revoke/ }).click();
      await poll(() => row.getByTestId("share-state").textContent()).toMatch(/^revoked /);
      expect(await share.getByTestId("share-url").count()).toBe(0);
      await shared.reload();
      await poll(() => shared.getByTestId("shared-error").textContent()).toMatch(/was revoked/);
      expect(await shared.getByTestId("player").count()).toBe(0);
      expect(await shared.getByTestId("shared-title").count()).toBe(0);
    } finally {
      await stranger.close();
    }
    await page.close();
  });

  it("shows the job's options, every event on the timeline and one Gantt bar per chunk by worker", async () => {
    await env.cloud.waitForEnd(jobId);
    const view = await get<ApiView>(`/jobs/${jobId}`);
    expect(view.job.chunkCount).toBeGreaterThanOrEqual(3);
    // the choices made in the form, stored as the contract names them
    expect(view.job).toMatchObject({
      formats: ["h264", "vp9", "av1"],
      trim: { start: 0, end: 2.9 },
      packaging: "cmaf",
      captions: [{ language: "en" }],
    });
    const page = await openDashboard();
    // nothing in the pipeline writes a note for this SDR clip yet: one is added to the job's answer to show it
    await page.route(new RegExp(`/jobs/${jobId}(\\?|$)`), async (route) => {
      const res = await route.fetch();
      if (res.status() !== 200) return route.fulfill({ response: res });
      const body = (await res.json()) as { job: { notes: string[] } };
      await route.fulfill({
        response: res,
        json: { ...body, job: { ...body.job, notes: ["HDR tone-mapped to SDR"] } },
      });
    });
    await page.getByTestId("job-row").first().locator("td.name a").click();
    expect(new URL(page.url()).pathname).toBe(`/job/${jobId}`);
    await poll(() => page.getByTestId("trim").textContent()).toBe("0:00 – 0:02.9");
    // every rendition is checked against the kept range (73 of the clip's 75 frames), not the whole source
    const frameCells = page.locator('[data-testid="renditions"] tr[data-rendition] td:nth-child(4)');
    // (the captions file's row has no frames)
    await poll(async () => (await frameCells.allTextContents()).filter(Boolean)).toEqual(Array(6).fill("73 ✓"));
    expect(await page.getByTestId("packaging").textContent()).toBe("CMAF (HLS and DASH)");
    // a completed job is a video: its page links to the watch page
    expect(await page.getByTestId("watch-link").getAttribute("href")).toBe(`/watch/${jobId}`);
    expect(await page.getByRole("note").locator("li").allTextContents()).toEqual(["HDR tone-mapped to SDR"]);

    // assert: timeline = the API's events, in order, with every expected type
    const timeline = page.getByTestId("timeline").locator("li");
    await poll(() => timeline.count()).toBe(view.timeline.length);
    const types = await timeline.evaluateAll((lis) => lis.map((li) => li.getAttribute("data-event-type")));
    expect(types).toEqual(view.timeline.map((e) => e.type));
    const n = view.job.chunkCount!;
    const count = (t: string) => types.filter((x) => x === t).length;
    expect([
      count("VideoUploaded"),
      count("ChunkReady"),
      count("ChunkEncoded"),
      count("PlaybackReady"),
      count("ChunksEncoded"),
      count("VideoAssembled"),
      count("JobCompleted"),
    ]).toEqual([1, n, n, 1, 1, 1, 1]);
    expect(await timeline.first().locator(".offset").textContent()).toBe("+0.000 s");

    // assert: one bar per chunk, each chunk once, in rows named after the workers
    const bars = page.getByTestId("gantt-bar");
    expect(await bars.count()).toBe(n);
    expect(
      (await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-chunk"))))).sort((a, b) => a - b),
    ).toEqual([...Array(n).keys()]);
    const workers = await page.locator(".gantt-worker").allTextContents();
    expect(workers.sort()).toEqual([...new Set(view.chunks.map((c) => c.worker!))].sort());

    // assert: stage durations are known
    const stages = await page.getByTestId("stages").locator(".stage-value").allTextContents();
    // chunking, encoding, assembly, total; playable and completed after the upload
    expect(stages).toHaveLength(6);
    for (const s of stages) expect(s).toMatch(/^\d+\.\d\d s$|min/);
    await page.close();
  });

  it("plays the HLS ladder via the API, switches rendition, and downloads an MP4 that matches storage", async () => {
    const page = await openDashboard(`/job/${jobId}`);
    const video = page.getByTestId("player");
    const quality = page.getByTestId("quality");
    // which stored segment files each player fetches (presigned URLs, by their object path)
    const fetched: string[] = [];
    page.on("request", (r) => {
      const path = decodeURIComponent(new URL(r.url()).pathname);
      if (/\/hls\/[^/]+\/(init\.mp4|seg_\d+\.m4s)$/.test(path)) fetched.push(path.slice(path.indexOf("/hls/") + 1));
    });

    // the master playlist listed both rungs in all three formats (Auto + 360p and 240p, H.264, VP9 and AV1)
    await poll(() => quality.locator("option").count(), { timeout: 15_000 }).toBe(7);
    await video.evaluate((v: Video) => {
      v.muted = true;
      return v.play();
    });
    await poll(() => video.evaluate((v: Video) => v.currentTime), { timeout: 15_000 }).toBeGreaterThan(0.3);
    const firstHeight = await video.evaluate((v: Video) => v.videoHeight);
    expect([360, 240]).toContain(firstHeight);

    // act: pin the 240p rung and play from the start again
    const rung240 = await quality.locator("option", { hasText: "240p H.264" }).getAttribute("value");
    await quality.selectOption(rung240!);
    await video.evaluate((v: Video) => {
      v.currentTime = 0;
      return v.play();
    });
    await poll(() => video.evaluate((v: Video) => v.videoHeight), { timeout: 15_000 }).toBe(240);
    const t1 = await video.evaluate((v: Video) => v.currentTime);
    await poll(() => video.evaluate((v: Video) => v.currentTime), { timeout: 10_000 }).toBeGreaterThan(t1);
    expect(await page.getByTestId("playing-level").textContent()).toMatch(/^playing 240p H\.264/);

    // act: the same rung in VP9 (Chromium decodes it in software): hls.js switches codec and plays on
    const vp9 = await quality.locator("option", { hasText: "360p VP9" }).getAttribute("value");
    await quality.selectOption(vp9!);
    await video.evaluate((v: Video) => {
      v.currentTime = 0;
      return v.play();
    });
    await poll(() => page.getByTestId("playing-level").textContent(), { timeout: 15_000 }).toMatch(/^playing 360p VP9/);
    await poll(() => video.evaluate((v: Video) => v.videoHeight), { timeout: 15_000 }).toBe(360);
    const t2 = await video.evaluate((v: Video) => v.currentTime);
    await poll(() => video.evaluate((v: Video) => v.currentTime), { timeout: 10_000 }).toBeGreaterThan(t2);

    // act: the 240p rung in AV1 (Chromium's dav1d): frames advance at AV1's height
    const av1 = await quality.locator("option", { hasText: "240p AV1" }).getAttribute("value");
    await quality.selectOption(av1!);
    await video.evaluate((v: Video) => {
      v.currentTime = 0;
      return v.play();
    });
    await poll(() => page.getByTestId("playing-level").textContent(), { timeout: 15_000 }).toMatch(/^playing 240p AV1/);
    await poll(() => video.evaluate((v: Video) => v.videoHeight), { timeout: 15_000 }).toBe(240);
    const t4 = await video.evaluate((v: Video) => v.currentTime);
    await poll(() => video.evaluate((v: Video) => v.currentTime), { timeout: 10_000 }).toBeGreaterThan(t4);
    await video.evaluate((v: Video) => v.pause());

    // act: turn the uploaded captions on: the browser loads the presigned WebVTT file beside the stream
    const captions = page.getByTestId("captions");
    expect(await captions.locator("option").allTextContents()).toEqual(["Off", "en"]);
    await captions.selectOption({ label: "en" });
    await poll(() => video.evaluate(shownCues)).toEqual([{ language: "en", cues: [CUE] }]);
    await video.evaluate((v: Video) => (v.currentTime = 1));
    await poll(() => video.evaluate(activeCues)).toEqual([CUE]);
    await page.screenshot({ path: join(SHOTS, "captions.png") });

    // the storyboard: hovering the seek bar halfway shows the tile of that time, cut from a presigned sheet
    const seek = page.getByTestId("seek");
    // the pointer only reaches what is in the viewport
    await seek.scrollIntoViewIfNeeded();
    const box = (await seek.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const preview = page.getByTestId("seek-preview");
    await poll(() => preview.count(), { timeout: 5_000 }).toBe(1);
    const duration = await video.evaluate((v: Video) => v.duration);
    expect(Math.abs(Number(await preview.getAttribute("data-at")) - duration / 2)).toBeLessThan(0.2);
    const style = (await preview.getAttribute("style")) ?? "";
    expect(style).toMatch(/storyboard\/sheet_000\.jpg/);
    expect(style).toMatch(/background-position: -?\d+px -?\d+px/);
    const sheet = /url\("?([^")]+)"?\)/.exec(style)![1]!.replaceAll("&amp;", "&");
    const res = await fetch(sheet);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    await page.screenshot({ path: join(SHOTS, "storyboard.png") });
    await page.mouse.move(0, 0);

    // act: the same job through the DASH manifest (dash.js): it plays, pins 240p, from the very same segment files
    const viaHls = new Set(fetched.splice(0));
    await page.getByTestId("protocol").selectOption("dash");
    await poll(() => quality.locator("option").count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    const dash240 = await quality.locator("option", { hasText: "240p" }).first().getAttribute("value");
    await quality.selectOption(dash240!);
    await video.evaluate((v: Video) => {
      v.muted = true;
      v.currentTime = 0;
      return v.play();
    });
    await poll(() => video.evaluate((v: Video) => v.videoHeight), { timeout: 20_000 }).toBe(240);
    const t3 = await video.evaluate((v: Video) => v.currentTime);
    await poll(() => video.evaluate((v: Video) => v.currentTime), { timeout: 10_000 }).toBeGreaterThan(t3);
    await video.evaluate((v: Video) => v.pause());
    // the captions stay on across the switch of engine: the same track, not one of dash.js's own
    expect(await captions.inputValue()).toBe("en");
    expect(await video.evaluate(shownCues)).toEqual([{ language: "en", cues: [CUE] }]);
    expect(await video.evaluate((v: TextTracks) => v.textTracks.length)).toBe(1);
    const viaDash = new Set(fetched);
    expect([...viaDash].some((p) => /^hls\/240p(-vp9|-av1)?\/seg_00001\.m4s$/.test(p))).toBe(true);
    // every file DASH fetched is one of the job's HLS segment files, and some were fetched by both players
    const listed = await env.cloud.cloud.deps.store.list(
      env.cloud.cloud.deps.cfg.buckets.outputs,
      `jobs/${jobId}/hls/`,
    );
    const hlsFiles = new Set(listed.map((o) => o.key.slice(`jobs/${jobId}/`.length)));
    for (const p of viaDash) expect(hlsFiles.has(p), p).toBe(true);
    expect([...viaDash].filter((p) => viaHls.has(p)).length).toBeGreaterThan(0);
    await page.getByTestId("protocol").selectOption("hls");
    await page.screenshot({ path: join(SHOTS, "job-detail.png"), fullPage: true });

    // act: download the 240p MP4 through its link
    const view = await get<ApiView>(`/jobs/${jobId}`);
    const output = view.job.outputs.find((o) => o.rendition === "240p")!;
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-240p").click()]);
    const got = await readFile((await download.path())!);

    // assert: the bytes are the stored object's
    const stored = await storedBytes(env.cloud.cloud.deps.cfg.buckets.outputs, output.key);
    expect(got.length).toBe(output.bytes);
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(stored).digest("hex"));
    expect(download.suggestedFilename()).toMatch(/240p\.mp4$/);

    // the same page on a phone
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SHOTS, "job-detail-phone.png"), fullPage: true });
    const overflow = await page.evaluate(() => {
      const root = (globalThis as unknown as PageGlobals).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await page.close();
  });

  it("resumes an upload after a page reload, then shows a non-video file's failure and retries it", async () => {
    // arrange: 17 MiB of text named .mp4: three parts (8 + 8 + 1 MiB)
    const file = join(env.dir, "holiday.mp4");
    const line = "This is a text file, not a video.\n";
    await writeFile(file, line.repeat(Math.ceil((17 * MiB) / line.length)).slice(0, 17 * MiB));
    const page = await openDashboard();
    // parts 2 and 3 cannot get through (the connection drops before they leave); the page is reloaded meanwhile
    await page.route(/[?&]partNumber=[23](&|$)/, (route) => route.abort("connectionreset"));
    // the API's first page is cut to one part, so the page must ask GET /uploads/:id/parts for the rest
    await page.route(/\/uploads$/, async (route) => {
      const res = await route.fetch();
      const created = (await res.json()) as { parts: unknown[]; nextPart: number | null; partCount: number };
      expect(created).toMatchObject({ partCount: 3, nextPart: null });
      await route.fulfill({ response: res, json: { ...created, parts: created.parts.slice(0, 1), nextPart: 2 } });
    });
    const pageRequests: string[] = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (r.method() === "GET" && url.pathname.startsWith("/uploads/"))
        pageRequests.push(url.pathname.replace(/^\/uploads\/[^/]+/, "/uploads/:id") + url.search);
    });
    await page.getByTestId("file-input").setInputFiles(file);
    await page.getByRole("button", { name: "Start upload" }).click();
    const savedParts = () =>
      page.evaluate(() => {
        const store = (globalThis as unknown as PageGlobals).localStorage;
        return Object.keys(store)
          .filter((k) => k.startsWith("videoforge.upload."))
          .map((k) => Object.keys((JSON.parse(store.getItem(k)!) as { etags: object }).etags));
      });
    await poll(savedParts, { timeout: 20_000 }).toEqual([["1"]]);
    expect(pageRequests).toContain("/uploads/:id/parts?from=2&limit=100");

    // act: reload, pick the same file again, resume
    // the routes go only after the reload: the old page retries its failed parts with backoff, and a retry
    // let through before the reload would store part 2 and leave less to resume
    await page.reload();
    await page.unrouteAll({ behavior: "ignoreErrors" });
    await page.getByTestId("file-input").setInputFiles(file);
    await poll(() => page.getByRole("button", { name: "Resume upload" }).count()).toBe(1);
    expect(await page.getByText("8.0 MiB were already sent").count()).toBe(1);
    expect(Number(await page.getByTestId("upload-progress").getAttribute("value"))).toBe(8 * MiB);
    await page.screenshot({ path: join(SHOTS, "upload.png") });
    const sentParts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "PUT") sentParts.push(new URL(r.url()).searchParams.get("partNumber") ?? "?");
    });
    await page.getByRole("button", { name: "Resume upload" }).click();
    await poll(() => page.getByTestId("upload-status").textContent(), { timeout: 20_000 }).toBe("Uploaded");

    // assert: only the missing parts were sent (their URLs asked for from the first missing one),
    // and storage holds exactly the file
    expect(sentParts.sort()).toEqual(["2", "3"]);
    expect(pageRequests).toContain("/uploads/:id?from=2&limit=100");
    const failedId = (await page.getByTestId("job-row").first().getAttribute("data-job-id"))!;
    const stored = await storedBytes(env.cloud.cloud.deps.cfg.buckets.uploads, `jobs/${failedId}/source`);
    expect(createHash("sha256").update(stored).digest("hex")).toBe(
      createHash("sha256")
        .update(await readFile(file))
        .digest("hex"),
    );

    // assert: the job fails, and its page says why in words
    const row = page.getByTestId("job-row").first();
    await poll(() => row.getByTestId("status").textContent(), { timeout: 30_000 }).toBe("FAILED");
    await row.locator("td.name a").click();
    const failure = page.getByTestId("failure");
    await poll(() => failure.isVisible()).toBe(true);
    expect(await failure.textContent()).toMatch(/^Failed during chunking: .*not a video format we can read/i);
    await page.screenshot({ path: join(SHOTS, "job-failed.png") });

    // act: retry
    await page.getByRole("button", { name: "Retry" }).click();
    await poll(() => new URL(page.url()).pathname).not.toBe(`/job/${failedId}`);
    const retryId = new URL(page.url()).pathname.split("/").pop()!;

    // assert: a new job on the same stored source, pointing back, which fails the same way
    const retried = await env.cloud.waitForEnd(retryId);
    expect(retried.job).toMatchObject({ status: "FAILED", retryOf: failedId, name: "holiday.mp4" });
    await poll(() => page.getByText(`Retry of`).count()).toBe(1);
    await poll(() => page.getByTestId("failure").textContent(), { timeout: 10_000 }).toMatch(
      /not a video format we can read/i,
    );
    await page.close();
  });

  it("the API routes it polls and plays from answer as the page expects", async () => {
    const api = env.cloud.api.url;
    const auth = { authorization: `Bearer ${token()}` };

    // an unchanged list is a bodiless 304
    const first = await fetch(`${api}/jobs`, { headers: auth });
    const etag = first.headers.get("etag");
    expect(first.status).toBe(200);
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    const again = await fetch(`${api}/jobs`, { headers: { ...auth, "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");

    // the master playlist names API routes; a media playlist names presigned segments
    const master = await fetch(`${api}/jobs/${jobId}/hls/master.m3u8`, { headers: auth });
    expect(master.status).toBe(200);
    expect(master.headers.get("content-type")).toMatch(/mpegurl/);
    const variants = (await master.text()).split("\n").filter((l) => l && !l.startsWith("#"));
    expect(variants).toEqual([
      "360p/index.m3u8",
      "240p/index.m3u8",
      "360p-vp9/index.m3u8",
      "240p-vp9/index.m3u8",
      "360p-av1/index.m3u8",
      "240p-av1/index.m3u8",
    ]);
    const media = await (await fetch(`${api}/jobs/${jobId}/hls/240p/index.m3u8`, { headers: auth })).text();
    const segments = media.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(segments.length).toBeGreaterThan(0);
    const segment = await fetch(segments[0]!);
    expect(segment.status).toBe(200);
    expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    // retrying a completed job is a conflict; unknown playlists and jobs are 404s
    const retry = await fetch(`${api}/jobs/${jobId}/retry`, { method: "POST", headers: auth });
    expect(retry.status).toBe(409);
    expect(await retry.json()).toEqual({
      error: { code: "conflict", message: expect.stringMatching(/only a failed or cancelled job/i) },
    });
    expect((await fetch(`${api}/jobs/${jobId}/hls/..%2Fsource/index.m3u8`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${api}/jobs/unknownjob000000/hls/master.m3u8`, { headers: auth })).status).toBe(404);
  });

  it("adds a webhook (secret shown once), shows its signed deliveries, sends one again and removes it", async () => {
    // a receiver on loopback (allowed under `up`), keeping what it got
    const receiver = await startReceiver();
    const { got, url: hookUrl } = receiver;
    const page = await openDashboard();
    await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Webhooks" }).click();
    expect(new URL(page.url()).pathname).toBe("/hooks");

    // a private address: the API's 400 reason beside the form, nothing registered
    const urlField = page.getByLabel("Endpoint URL");
    await urlField.fill("http://10.0.0.5/hook");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await poll(() => page.getByTestId("webhook-problem").textContent()).toMatch(/10\.0\.0\.5.*private address/);
    expect(await urlField.getAttribute("aria-invalid")).toBe("true");

    // act: the receiver's URL, for job events only
    await urlField.fill(hookUrl);
    await page.getByRole("checkbox", { name: "video.deleted" }).uncheck();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = await page.getByTestId("webhook-secret").locator("input").inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    await poll(() => page.getByTestId("webhook-url").allTextContents()).toEqual([hookUrl]);
    const [hook] = (await get<{ webhooks: { id: string; events: string[] }[] }>("/webhooks")).webhooks;
    expect(hook!.events).not.toContain("video.deleted");

    // an event: a job cancelled as soon as it is made (the newest job from here on: this test runs last but one)
    const { jobId: cancelled } = await env.cloud.client.call<{ jobId: string }>("POST", "/uploads", {
      name: "hooked.mp4",
      size: 1000,
    });
    await env.cloud.client.call("DELETE", `/jobs/${cancelled}`);
    await poll(() => got.length).toBe(1);
    expect(verifySignature(got[0]!.signature, got[0]!.body, secret)).toMatchObject({ ok: true });
    expect(JSON.parse(got[0]!.body)).toMatchObject({ type: "job.cancelled", data: { jobId: cancelled } });

    // its deliveries: delivered at the first attempt; sent again on request, the same body
    await page.getByRole("button", { name: "Deliveries" }).click();
    const row = page.getByTestId("deliveries").locator("tbody tr").first();
    await poll(() => row.getByTestId("delivery-state").textContent()).toBe("delivered");
    expect(await row.getByTestId("delivery-attempts").textContent()).toBe("1");
    await page.screenshot({ path: join(SHOTS, "webhooks.png") });
    await row.getByRole("button", { name: "Send again" }).click();
    await poll(() => got.length).toBe(2);
    expect(got[1]!.body).toBe(got[0]!.body);
    await page.getByTestId("deliveries").getByRole("button", { name: "Refresh" }).click();
    await poll(() => row.getByTestId("delivery-attempts").textContent()).toBe("2");

    // act: remove it; nothing more is sent to it
    await page.getByRole("button", { name: `Remove the webhook to ${hookUrl}` }).click();
    await poll(() => page.getByText("No webhooks yet.").count()).toBe(1);
    expect((await get<{ webhooks: unknown[] }>("/webhooks")).webhooks).toEqual([]);
    await receiver.close();
    await page.close();
  });

  it("plays a job's growing preview, with its sound, while the job is still working", async () => {
    // arrange: a job whose assembly is held, so it stays playable and unfinished for as long as the test needs
    let release!: () => void;
    const { jobId: working } = await env.cloud.client.upload(clip, ["360p"]);
    heldAssembly.set(working, new Promise<void>((r) => (release = r)));
    const page = await openDashboard(`/job/${working}`);
    const audioSegments: string[] = [];
    page.on("request", (r) => {
      if (/\/preview\/audio\/seg_\d+\.ts$/.test(new URL(r.url()).pathname)) audioSegments.push(r.url());
    });

    // assert: PLAYABLE before COMPLETED, and the preview plays through the API's growing playlists
    await poll(() => page.getByTestId("playable").count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId("status").textContent()).not.toBe("COMPLETED");
    const video = page.getByTestId("preview").getByTestId("player");
    await poll(() => video.evaluate((v: Video) => v.readyState), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await video.evaluate((v: Video) => {
      v.muted = true;
      return v.play();
    });
    await poll(() => video.evaluate((v: Video) => v.currentTime), { timeout: 15_000 }).toBeGreaterThan(0.5);
    expect(await video.evaluate((v: Video) => v.videoHeight)).toBe(360);
    // the sound: the player fetched the audio rendition's segments and decoded them
    expect(audioSegments.length).toBeGreaterThan(0);
    await poll(() => video.evaluate((v: Video) => v.webkitAudioDecodedByteCount)).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "preview.png") });

    // act: let it finish; the checked result replaces the preview
    release();
    await poll(() => page.getByTestId("status").textContent(), { timeout: 60_000 }).toBe("COMPLETED");
    await poll(() => page.getByTestId("preview").count()).toBe(0);
    expect(await page.getByTestId("playable").count()).toBe(0);
    heldAssembly.delete(working);
    await page.close();
  });

  it("encodes to a target SSIM chosen in the form and charts each chunk's CRF, SSIM and bitrate", async () => {
    const page = await openDashboard();
    // one rung keeps the test short: each chunk takes up to four encodes and as many measurements
    for (const rung of ["1080p", "720p", "480p", "360p"]) await page.getByLabel(rung, { exact: true }).uncheck();
    await page.getByLabel("240p", { exact: true }).check();
    await page.getByTestId("file-input").setInputFiles(clip);
    await page.locator("summary", { hasText: "Options" }).click();
    const target = page.getByLabel("Target SSIM", { exact: true });
    await target.fill("1.2");
    expect(await page.locator("#opt-target-ssim-problem").textContent()).toMatch(/from 0\.8 to 0\.995/);
    await target.fill("0.97");
    expect(await page.locator(".field-error").count()).toBe(0);
    await page.getByRole("button", { name: "Start upload" }).click();
    await poll(() => page.getByTestId("upload-status").textContent(), { timeout: 20_000 }).toBe("Uploaded");
    // the job by the id the panel names: other jobs of the same clip are in the list, and it may not be first yet
    const link = page.locator("section.upload p.ok a");
    const targeted = (await link.getAttribute("href"))!.split("/").pop()!;
    const row = page.locator(`[data-testid="job-row"][data-job-id="${targeted}"]`);
    await poll(() => row.getByTestId("status").textContent(), { timeout: 90_000, interval: 250 }).toBe("COMPLETED");

    // assert: the job page charts every chunk, all at or above the dashed target line
    await link.click();
    await poll(() => new URL(page.url()).pathname).toBe(`/job/${targeted}`);
    const chart = page.getByTestId("quality-chart");
    await poll(() => chart.isVisible()).toBe(true);
    const view = await get<JobView>(`/jobs/${targeted}`);
    expect(view.job.targetSsim).toBe(0.97);
    const reached = view.chunks!.flatMap((c) => (c.outputs ?? []).map((o) => ({ chunk: c.index, ...o })));
    expect(reached).toHaveLength(view.job.chunkCount!);
    expect(view.job.chunkCount).toBeGreaterThan(1);
    const rows = await chart
      .getByTestId("quality-table")
      .locator("tbody tr")
      .evaluateAll((trs) =>
        (trs as unknown as TableRow[]).map((tr) => ({
          met: tr.getAttribute("data-met"),
          cells: Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? ""),
        })),
      );
    expect(rows).toHaveLength(reached.length);
    for (const r of rows) {
      expect(r.met).toBe("true");
      expect(Number(r.cells[4])).toBeGreaterThanOrEqual(0.97);
    }
    // the table says what the chunks' stored outputs say
    const stored = reached.map((o) => `${o.chunk} ${o.rendition} ${o.quality!.crf} ${o.quality!.ssim.toFixed(4)}`);
    expect(rows.map((r) => `${r.cells[0]} ${r.cells[2]} ${r.cells[3]} ${r.cells[4]}`).sort()).toEqual(stored.sort());
    expect(await chart.locator('path[data-metric="ssim"]').count()).toBe(1);
    expect(await chart.getByTestId("quality-target").count()).toBe(1);
    await page.locator("section", { has: chart }).screenshot({ path: join(SHOTS, "quality.png") });
    await page.close();
  });

  it("asks for the token when the API refuses the one it has", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${env.cloud.api.url}/?token=wrong-token`);
    const authOn = token() !== "none";
    if (authOn) {
      await poll(() => page.getByRole("heading", { name: "This dashboard needs your API token" }).count()).toBe(1);
      await page.getByLabel("API token", { exact: true }).fill(token());
      await page.getByRole("button", { name: "Use this token" }).click();
    }
    await poll(() => page.getByTestId("job-row").count()).toBeGreaterThan(0);
    await page.close();
  });
});

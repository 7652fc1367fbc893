import { describe, expect, it } from "vitest";
import { ladderFilter } from "@videoforge/core";
import { busySeconds, classify, framesOf, parseTrace, plannedSecondsOf, type TracedRun } from "./trace.ts";

describe("ffmpeg trace", () => {
  it("counts overlapping runs once and gaps not at all", () => {
    expect(busySeconds([])).toBe(0);
    expect(
      busySeconds([
        { start: 0, end: 2 },
        { start: 1, end: 3 },
        { start: 5, end: 6 },
        { start: 5.5, end: 5.7 },
      ]),
    ).toBeCloseTo(4, 9);
  });

  it("reads each run's times, CPU, memory and kind from the wrapper's lines", () => {
    const text = [
      "100.0\t102.5\t2.49 3.10 0.40 51200\tffmpeg\t" +
        "-hide_banner -i piece.ts -filter_complex [0:v:0]split=2 -map [v0] -frames:v 240 -f mpegts a.ts",
      "99.0\t99.2\t0.20 0.05 0.01 20480\tffprobe\t-v error -show_streams src.mp4",
      "garbage line",
    ].join("\n");
    const runs = parseTrace(text);
    expect(runs.map((r) => r.kind)).toEqual(["probe", "encode"]);
    expect(runs[1]).toMatchObject({ tool: "ffmpeg", wall: 2.5, maxRssMb: 50 });
    expect(runs[1]!.cpu).toBeCloseTo(3.5, 9);
    expect(framesOf(runs[1]!)).toBe(240);
  });

  it("tells the pipeline's kinds of ffmpeg work apart", () => {
    expect(classify("ffmpeg", "-version")).toBe("version");
    expect(classify("ffmpeg", "-i s.mp4 -map 0:v:0 -c copy -f segment -segment_frames 60 p%05d.ts")).toBe("split");
    expect(classify("ffmpeg", "-i s.mp4 -map 0:a:0 -vn -c:a aac a.m4a")).toBe("audio");
    expect(classify("ffmpeg", "-f mpegts -i concat:a.ts|b.ts -c copy out.mp4")).toBe("assemble");
    expect(
      classify(
        "ffmpeg",
        "-threads 1 -i concat:00001.ts|00002.ts -filter_complex [0:v:0]split=4 -map [v0] -f mpegts 1080p.ts",
      ),
    ).toBe("encode");
    expect(classify("ffmpeg", "-i 1080p.mp4 -map 0 -c copy -f hls -hls_time 6 index.m3u8")).toBe("hls");
    expect(classify("ffmpeg", "-ss 3 -i 1080p.mp4 -frames:v 1 -q:v 3 poster.jpg")).toBe("poster");
  });

  it("reads a scene-searched window's planned seconds from the filter the encoder was given", () => {
    const rung = { name: "360p", width: 640, height: 360, videoBitrate: 800_000, maxrate: 1_200_000 };
    const run = (range: Parameters<typeof ladderFilter>[2]): TracedRun => ({
      ...parseTrace("1.0\t2.0\t1.0 1.0 0.0 1024\tffmpeg\tx")[0]!,
      args: `-ss 2.000000 -i src.mp4 -filter_complex ${ladderFilter([rung], 0, range)} -map [v0] -f mpegts a.ts`,
    });
    expect(plannedSecondsOf(run({ start: 4, end: 8, startSearch: 3, endSearch: 7 }), 30)).toBeCloseTo(4, 9);
    expect(plannedSecondsOf(run({ start: 0, end: 2, endSearch: 1.5 }), 30)).toBeCloseTo(2, 9);
    expect(plannedSecondsOf(run({ start: 4, end: 8.5 }), 30)).toBeCloseTo(4.5, 9);
    // the last window runs to the source's end
    expect(plannedSecondsOf(run({ start: 23.5, startSearch: 21.9 }), 30)).toBeCloseTo(6.5, 9);
    expect(plannedSecondsOf({ ...run({ start: 0 }), args: "-i a.ts -frames:v 240 -f mpegts b.ts" }, 30)).toBe(
      undefined,
    );
  });
});

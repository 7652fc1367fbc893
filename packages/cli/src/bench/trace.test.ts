import { describe, expect, it } from "vitest";
import { busySeconds, classify, framesOf, parseTrace } from "./trace.ts";

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
});

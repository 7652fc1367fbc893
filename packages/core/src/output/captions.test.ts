import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors.ts";
import {
  captionLanguage,
  captionPaths,
  extractSubtitleArgs,
  MAX_CAPTION_BYTES,
  MAX_CUES,
  parseCaptions,
  subtitleStreams,
  toWebVtt,
  type CaptionKind,
} from "./captions.ts";

/** The InvalidInputError message parsing `text` throws. */
function failure(text: string, kind: CaptionKind): string {
  try {
    parseCaptions(text, kind);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error("expected the file not to parse");
}

const SRT = `1
00:00:01,000 --> 00:00:02,500
Hello

2
00:00:03,250 --> 00:01:04,000
Two
lines
`;
const SRT_CUES = [
  { start: 1, end: 2.5, text: "Hello" },
  { start: 3.25, end: 64, text: "Two\nlines" },
];

describe("parseCaptions: SRT", () => {
  it("reads numbered cues with multi-line text", () => {
    expect(parseCaptions(SRT, "srt")).toEqual(SRT_CUES);
  });

  it("tolerates a BOM, CRLF or CR line ends and a missing final blank line or newline", () => {
    const crlf = `\uFEFF${SRT.trimEnd().replace(/\n/g, "\r\n")}`;
    expect(parseCaptions(crlf, "srt")).toEqual(SRT_CUES);
    expect(parseCaptions(SRT.replace(/\n/g, "\r"), "srt")).toEqual(SRT_CUES);
  });

  it("tolerates '.' milliseconds, coordinates after the end, spaced blank lines, missing numbers", () => {
    const text =
      "00:00:01.000 --> 00:00:02,500  X1:10 X2:20 Y1:5 Y2:9\nHello\n \t\n\n00:00:03,250-->00:01:04,000\nTwo\nlines";
    expect(parseCaptions(text, "srt")).toEqual(SRT_CUES);
  });

  it("starts the next cue at a time range even when the blank line before it is missing", () => {
    const text = "1\n00:00:01,000 --> 00:00:02,500\nHello\n2\n00:00:03,250 --> 00:01:04,000\nTwo\nlines\n";
    expect(parseCaptions(text, "srt")).toEqual(SRT_CUES);
  });

  it("keeps <i> <b> <u>, drops other tags and {\\an8} overrides, escapes the rest", () => {
    const text =
      '1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<I>Tom</I> & <font color="red">Jerry</font> <3\n<b>a -> b</b>\n';
    expect(parseCaptions(text, "srt")[0]!.text).toBe("<i>Tom</i> &amp; Jerry &lt;3\n<b>a -&gt; b</b>");
  });

  it("leaves out cues without text and trims spaces", () => {
    const text = "1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> 00:00:04,000\n  Hi  \n";
    expect(parseCaptions(text, "srt")).toEqual([{ start: 3, end: 4, text: "Hi" }]);
  });
});

describe("parseCaptions: SRT errors name the line", () => {
  it("a malformed time range", () => {
    const text = "1\n00:00:01,000 --> 00:00:02,000\nHi\nthere\n\n2\n00:01:02,5 --> 00:01:04,000\nBye\n";
    expect(failure(text, "srt")).toBe(
      'line 7: "00:01:02,5 --> 00:01:04,000" is not a time range (expected HH:MM:SS,mmm --> HH:MM:SS,mmm)',
    );
  });

  it("an end before the start", () => {
    expect(failure(`${SRT}\n3\n00:02:00,000 --> 00:01:59,999\nback\n`, "srt")).toBe(
      'line 11: "00:02:00,000 --> 00:01:59,999" ends before it starts',
    );
  });

  it("text where a cue should start, a number without a time range, minutes past 59", () => {
    expect(failure(`${SRT}\nstray text\n`, "srt")).toMatch(/^line 10: "stray text" is not a cue number or time range/);
    expect(failure("1\n\n00:00:01,000 --> 00:00:02,000\nHi\n", "srt")).toMatch(
      /^line 2: "1" is not followed by a time range/,
    );
    expect(failure("1\n00:60:01,000 --> 00:61:02,000\nHi\n", "srt")).toMatch(/^line 2: .* is not a time range/);
  });

  it("an empty file, binary bytes, text that is not UTF-8", () => {
    for (const empty of ["", "\uFEFF", " \r\n\n\t"])
      expect(failure(empty, "srt")).toMatch(/^line 1: the file is empty/);
    expect(failure(`${SRT}\n\u0000\u0001PK`, "srt")).toMatch(/^line 10: contains a NUL byte/);
    expect(failure("1\n00:00:01,000 --> 00:00:02,000\nH\u0007i\n", "srt")).toMatch(/^line 3: .*U\+0007/);
    expect(failure("1\n00:00:01,000 --> 00:00:02,000\nCaf\uFFFD\n", "srt")).toMatch(/^line 3: is not valid UTF-8/);
  });

  it("a file over the size cap or with too many cues", () => {
    const big = `1\n00:00:01,000 --> 00:00:02,000\n${"x".repeat(MAX_CAPTION_BYTES)}\n`;
    expect(failure(big, "srt")).toBe(
      `the file is over 5 MB (${MAX_CAPTION_BYTES + 33} bytes); a caption file may be at most 5 MB`,
    );
    const many = "00:00.000 --> 00:00.001\na\n\n".repeat(MAX_CUES + 1);
    expect(failure(`WEBVTT\n\n${many}`, "vtt")).toBe(
      `line ${3 + MAX_CUES * 3}: more than ${MAX_CUES} cues; a caption file may have at most that many`,
    );
  });
});

const VTT = `WEBVTT - a title
Kind: captions

NOTE a comment
spanning two lines

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.500 align:start position:10%
Hello

00:00:03.250 --> 00:01:04.000
Two
lines
`;

describe("parseCaptions: WebVTT", () => {
  it("reads the header, skips NOTE and STYLE blocks, takes optional hours, identifiers and settings", () => {
    expect(parseCaptions(VTT, "vtt")).toEqual(SRT_CUES);
    expect(parseCaptions(`\uFEFF${VTT.replace(/\n/g, "\r\n")}`, "vtt")).toEqual(SRT_CUES);
    expect(parseCaptions(VTT.trimEnd(), "vtt")).toEqual(SRT_CUES);
  });

  it("a header alone is a file without cues", () => {
    expect(parseCaptions("WEBVTT\n", "vtt")).toEqual([]);
  });

  it("decodes character references, keeps i/b/u without classes, drops other tags", () => {
    const line1 = "<v Bob>&lt;hi&gt; <i.loud>A</i> &amp; <c.x>B</c> &eacute; &#65;&#x42;&#0;</v>";
    const text = `WEBVTT\n\n00:01.000 --> 00:02.000\n${line1}\nR&D <00:01.500><b>C</b>\n`;
    expect(parseCaptions(text, "vtt")[0]!.text).toBe("&lt;hi&gt; <i>A</i> &amp; B &amp;eacute; AB\nR&amp;D <b>C</b>");
  });
});

describe("parseCaptions: WebVTT errors name the line", () => {
  it("a missing header, with a hint when the file is SRT", () => {
    expect(failure(SRT, "vtt")).toBe('line 1: "1" is not a WebVTT header (expected "WEBVTT"); it looks like SRT');
    expect(failure("WEBVTTX\n", "vtt")).toMatch(/^line 1: "WEBVTTX" is not a WebVTT header/);
    expect(failure("", "vtt")).toMatch(/^line 1: the file is empty; expected "WEBVTT"/);
  });

  it("a cue right under the header, SRT commas, text holding -->, an identifier without times", () => {
    expect(failure("WEBVTT\n00:01.000 --> 00:02.000\nHi\n", "vtt")).toMatch(/^line 2: a blank line must separate/);
    expect(failure("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nHi\n", "vtt")).toBe(
      'line 3: "00:00:01,000 --> 00:00:02,000" is not a time range ' +
        "(expected HH:MM:SS.mmm --> HH:MM:SS.mmm, hours optional)",
    );
    expect(failure("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\nthen --> now\n", "vtt")).toBe(
      'line 5: "then --> now": cue text may not contain "-->"',
    );
    expect(failure("WEBVTT\n\nid\nHello\n", "vtt")).toMatch(/^line 4: "Hello" is not a time range/);
    expect(failure("WEBVTT\n\n1:02.000 --> 1:03.000\nHi\n", "vtt")).toMatch(/^line 3: .* is not a time range/);
  });

  it("an end before the start", () => {
    expect(failure("WEBVTT\n\n\n01:00:00.000 --> 59:59.999\nHi\n", "vtt")).toBe(
      'line 4: "01:00:00.000 --> 59:59.999" ends before it starts',
    );
  });
});

describe("toWebVtt", () => {
  it("round-trips SRT → cues → WebVTT → cues", () => {
    const srt =
      "1\n00:00:00,500 --> 00:00:01,234\n<i>Tom</i> & Jerry\n\n2\n01:02:03,004 --> 01:02:05,999\na --> b\nx < y\n";
    const cues = parseCaptions(srt, "srt");
    const vtt = toWebVtt(cues);
    expect(vtt).toBe(
      "WEBVTT\n\n00:00:00.500 --> 00:00:01.234\n<i>Tom</i> &amp; Jerry\n\n" +
        "01:02:03.004 --> 01:02:05.999\na --&gt; b\nx &lt; y\n",
    );
    expect(parseCaptions(vtt, "vtt")).toEqual(cues);
    expect(toWebVtt(parseCaptions(vtt, "vtt"))).toBe(vtt);
  });

  it("orders cues by start, leaves out empty ones and brings any text to our markup", () => {
    const vtt = toWebVtt([
      { start: 5, end: 6, text: "<script>alert(1)</script><b onclick=x>bold</b>" },
      { start: 1, end: 2, text: " \n<font></font>" },
      { start: 1, end: 3, text: "first" },
    ]);
    expect(vtt).toBe(
      "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nfirst\n\n00:00:05.000 --> 00:00:06.000\nalert(1)<b>bold</b>\n",
    );
  });

  it("a blank line or a time range inside text cannot start another cue", () => {
    const vtt = toWebVtt([{ start: 1, end: 2, text: "a\n\n00:00:09.000 --> 00:00:10.000\nforged" }]);
    expect(parseCaptions(vtt, "vtt")).toEqual([
      { start: 1, end: 2, text: "a\n00:00:09.000 --&gt; 00:00:10.000\nforged" },
    ]);
  });

  it("refuses times that are no range", () => {
    expect(() => toWebVtt([{ start: 2, end: 1, text: "x" }])).toThrow(RangeError);
    expect(() => toWebVtt([{ start: Number.NaN, end: 1, text: "x" }])).toThrow(RangeError);
  });
});

describe("captionLanguage and captionPaths", () => {
  it.each([
    ["en", "en"],
    ["eng", "en"],
    ["fre", "fr"],
    ["fra", "fr"],
    ["pt-BR", "pt-BR"],
    ["pt_br", "pt-BR"],
    ["zh-hant-tw", "zh-Hant-TW"],
    ["es-419", "es-419"],
    ["tlh", "tlh"],
    [" de ", "de"],
    ["und", "und"],
    ["", "und"],
    [undefined, "und"],
    ["English", "und"],
    ["../etc", "und"],
    ["en/../../x", "und"],
    ["en-", "und"],
  ])("%j → %s", (tag, stem) => {
    expect(captionLanguage(tag)).toBe(stem);
  });

  it("names tracks captions/<language>.vtt, numbering repeats", () => {
    expect(captionPaths(["eng", "fra", "en", undefined, "en-2", "en"])).toEqual([
      { language: "en", path: "captions/en.vtt" },
      { language: "fr", path: "captions/fr.vtt" },
      { language: "en", path: "captions/en-2.vtt" },
      { language: "und", path: "captions/und.vtt" },
      { language: "en-2", path: "captions/en-2-2.vtt" },
      { language: "en", path: "captions/en-3.vtt" },
    ]);
  });
});

describe("subtitleStreams", () => {
  it("lists subtitle streams by their place among subtitles, saying which cannot be converted", () => {
    const streams = [
      { index: 0, codec_type: "video", codec_name: "h264" },
      { index: 1, codec_type: "subtitle", codec_name: "mov_text", tags: { language: "eng", title: "SDH" } },
      { index: 2, codec_type: "audio", codec_name: "aac", tags: { language: "eng" } },
      { index: 3, codec_type: "subtitle", codec_name: "dvd_subtitle", tags: { language: "fre" } },
      { index: 4, codec_type: "subtitle", codec_name: "subrip" },
      { index: 5, codec_type: "subtitle", codec_name: "eia_608" },
    ];
    expect(subtitleStreams(streams)).toEqual([
      { index: 0, sourceIndex: 1, codec: "mov_text", language: "en", title: "SDH", text: true },
      {
        index: 1,
        sourceIndex: 3,
        codec: "dvd_subtitle",
        language: "fr",
        text: false,
        reason: "DVD subtitles (dvd_subtitle) are pictures, not text; they cannot be converted to WebVTT",
      },
      { index: 2, sourceIndex: 4, codec: "subrip", language: "und", text: true },
      {
        index: 3,
        sourceIndex: 5,
        codec: "eia_608",
        language: "und",
        text: false,
        reason: "eia_608 subtitles are not a text format we convert to WebVTT",
      },
    ]);
    expect(subtitleStreams([])).toEqual([]);
  });
});

describe("extractSubtitleArgs", () => {
  it("reads the input as validated and writes subtitle stream N as WebVTT, capped in size", () => {
    expect(extractSubtitleArgs("/in/src.mkv", "matroska", 2, "/out/en.vtt")).toEqual([
      "-protocol_whitelist",
      "file",
      "-f",
      "matroska",
      "-i",
      "/in/src.mkv",
      "-map",
      "0:s:2",
      "-c:s",
      "webvtt",
      "-fs",
      String(MAX_CAPTION_BYTES + 1),
      "-f",
      "webvtt",
      "/out/en.vtt",
    ]);
    expect(() => extractSubtitleArgs("/in/src.mkv", "matroska", 1.5, "/out/en.vtt")).toThrow(RangeError);
  });
});

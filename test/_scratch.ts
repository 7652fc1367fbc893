import { probeSource } from "@videoforge/core/media/probe";
import { planChunks } from "@videoforge/core/media/plan";
import { ffmpeg } from "@videoforge/core/ffmpeg/run";
import { splitArgs, encodeChunkArgs, assembleArgs, audioArgs } from "@videoforge/core/ffmpeg/args";
import { fitLadder } from "@videoforge/core/media/ladder";
import { writeFile } from "node:fs/promises";
const src = "/tmp/m/src.mp4";
const { info, packets } = await probeSource(src);
console.log(info);
const plan = planChunks(packets, 2);
console.log(plan);
await ffmpeg(splitArgs(src, plan.slice(1).map(c => c.startFrame), "/tmp/m/chunk_%05d.mkv"));
const r = fitLadder(["720p","360p"], 1280, 720);
for (const c of plan) {
  const n = String(c.index).padStart(5, "0");
  await ffmpeg(encodeChunkArgs(`/tmp/m/chunk_${n}.mkv`, r.map(x => ({rendition: x, file: `/tmp/m/enc_${x.name}_${n}.ts`})), {preset:"veryfast", crf:23, gop:60}, 0, 2));
}
await ffmpeg(audioArgs(src, "/tmp/m/audio.m4a"));
for (const x of r) {
  const list = plan.map(c => `/tmp/m/enc_${x.name}_${String(c.index).padStart(5,"0")}.ts`).join("|");
  await ffmpeg(assembleArgs(`concat:${list}`, "/tmp/m/audio.m4a", `/tmp/m/out_${x.name}.mp4`));
}
